"""Money amounts in text: "£20k", "$1.5mm", "a quarter million", "fifty to 75 thousand"."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Amount:
    """A money amount found in text; `currency` is None when the text names none."""

    value: float
    currency: str | None
    start: int = 0
    end: int = 0


_SYMBOL_CURRENCY = {
    "£": "GBP",
    "$": "USD",
    "us$": "USD",
    "€": "EUR",
    "¥": "JPY",
    "₹": "INR",
    "a$": "AUD",
    "au$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
    "s$": "SGD",
    "hk$": "HKD",
    "nz$": "NZD",
}
_CODES = "gbp|usd|eur|chf|jpy|aud|cad|sgd|hkd|nzd|sek|nok|dkk|inr|zar|aed|cny"
_WORD_CURRENCY = {
    "gbp": "GBP",
    "pounds": "GBP",
    "pound": "GBP",
    "quid": "GBP",
    "sterling": "GBP",
    "usd": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "euros": "EUR",
    "euro": "EUR",
}
_MULTIPLIER = {
    "k": 1e3,
    "thousand": 1e3,
    "grand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mil": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "b": 1e9,
    "billion": 1e9,
}
_UNITS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_CUR_WORDS = rf"{_CODES}|pounds?|quid|sterling|dollars?|bucks|euros?"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULT = r"k|thousand|grand|mn|mil|million|bn|billion|m|b"
_AMOUNT = re.compile(
    rf"(?<![^\W\d_])(?<!\d\.)(?<!\d)(?P<pre>(?:us|au|a|ca|c|s|hk|nz)\$|[£$€¥₹]|(?:{_CODES})(?=[\s\d]))?\s?"
    rf"(?P<num>{_NUMBER})(?:\s?(?P<mult1>{_MULT})(?![a-z]))?"
    rf"(?:\s?(?:-|–|to)\s?(?:[£$€]\s?)?(?P<upper>{_NUMBER})"  # a range: the lower end counts
    rf"(?:\s?(?P<mult>{_MULT})(?![a-z]))?)?"
    rf"(?:\s?(?P<post>{_CUR_WORDS})\b)?",
    re.IGNORECASE,
)
_WORD_NUMBER = "|".join(sorted(_UNITS, key=len, reverse=True))
_WORD_AMOUNT = re.compile(
    rf"\b(?P<words>(?:(?:{_WORD_NUMBER})(?:[\s-]+(?:{_WORD_NUMBER}|hundred|and))*))"
    rf"[\s-]+(?P<mult>thousand|grand|million|k)\b(?:\s(?P<post>{_CUR_WORDS})\b)?",
    re.IGNORECASE,
)


def parse_amount(text: str) -> Amount | None:
    """The money amount a message mentions: '£20k', '20,000 GBP', '$1.2m', 'twenty grand'.

    A bare number counts only when it looks like money: written with thousands (18,000)
    and not followed by a noun ("40,000 emails", "6 stores", "FTSE 250" are not amounts).
    With several amounts, the fee wins over the size of the deal ("a $2m deal, fees maybe
    $60k"); then amounts with a currency over amounts with only a k/m multiplier.
    """
    found = list(_amounts(text))
    if not found:
        return None
    found.sort(key=lambda pair: (_fee_rank(text, pair[1]), pair[0], pair[1].start))
    return found[0][1]


def _fee_rank(text: str, amount: Amount) -> int:
    """0 for an amount said to be the fee, 2 for the size of a deal or debt, else 1."""
    before = text[max(0, amount.start - 40) : amount.start].lower()
    if re.search(
        r"\b(?:fees?|worth|budget|billing|charge|quote|est|estimate|ballpark|value)\b"
        r"\W*(?:\w+\W+){0,3}$",
        before,
    ):
        return 0
    after = text[amount.end : amount.end + 30].lower()
    if re.match(
        r"\W*(?:deal|turnover|revenue|valuation|transaction|loan|facility|debt|"
        r"claim|fund|round|raise|business|company|portfolio|contract)\b",
        after,
    ):
        return 2
    return 1


def _amounts(text: str) -> Iterable[tuple[int, Amount]]:
    for match in _AMOUNT.finditer(text):
        pre, post = match.group("pre"), match.group("post")
        mult = match.group("mult1") or match.group("mult")
        number = float(match.group("num").replace(",", ""))
        currency = _currency(pre) or _currency(post)
        if mult:
            number *= _MULTIPLIER[mult.lower()]
        elif not currency and not _bare_money(text, match):
            continue
        if mult and mult.lower() in ("m", "b") and not currency and not _money_context(text, match):
            continue  # '5m' alone may be metres; need a money word nearby
        rank = 0 if currency else 1 if mult else 2
        yield rank, Amount(round(number, 2), currency, match.start(), match.end())
    for match in _WORD_AMOUNT.finditer(text):
        spoken = _words_to_number(match.group("words"))
        if spoken is None:
            continue
        value = spoken * _MULTIPLIER[match.group("mult").lower()]
        currency = _currency(match.group("post"))
        yield (0 if currency else 1), Amount(value, currency, match.start(), match.end())


def _currency(token: str | None) -> str | None:
    if not token:
        return None
    token = token.strip().lower()
    if re.fullmatch(_CODES, token):
        return token.upper()
    return _SYMBOL_CURRENCY.get(token) or _WORD_CURRENCY.get(token)


def _bare_money(text: str, match: re.Match[str]) -> bool:
    """A bare number is money when written like money and not counting something."""
    raw = match.group("num")
    digits = raw.replace(",", "").split(".")[0]
    if "," not in raw and not (len(digits) >= 4 and not re.fullmatch(r"(19|20)\d\d", digits)):
        return False
    after = text[match.end() :]
    return not re.match(r"\s*[A-Za-z]", after) or _money_context(text, match)


def _money_context(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 30) : match.start()].lower()
    return bool(
        re.search(
            r"(fee|fees|worth|budget|value|est|estimate|ballpark|around|about|"
            r"approx|maybe|circa|c\.|~)\W*$",
            before,
        )
    )


def _words_to_number(words: str) -> float | None:
    total = 0.0
    current = 0.0
    for word in re.split(r"[\s-]+", words.lower()):
        if word == "and" or not word:
            continue
        if word == "hundred":
            current = (current or 1) * 100
        elif word in _UNITS:
            current += _UNITS[word]
        else:
            return None
    total += current
    return total or None
