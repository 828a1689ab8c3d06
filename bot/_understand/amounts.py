"""Money amounts in text: "£20k", "$1.5mm", "a quarter million", "fifty to 75 thousand".

Currencies are read in the firm's terms (`bot.money`): "$" is the firm's dollar when it has
one, an explicit other currency is kept, and a bare amount names none (the caller assumes
the firm's). With several amounts the fee wins over the size of the deal, judged by the
words around each; a range counts from its lower end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.money import ISO_4217, currency_of


@dataclass(frozen=True)
class Amount:
    """A money amount found in text; `currency` is None when the text names none."""

    value: float
    currency: str | None
    start: int = 0
    end: int = 0


_MULTIPLIER = {
    "k": 1e3,
    "thousand": 1e3,
    "grand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mil": 1e6,
    "mill": 1e6,
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
_FRACTIONS = {"quarter": 0.25, "half": 0.5, "third": 1 / 3}
_CODES = "|".join(sorted((c.lower() for c in ISO_4217), key=len, reverse=True))
_PREFIXES = r"(?:us|au|aud|a|ca|cad|c|s|hk|nz)\$|[£$€¥₹]"
_CUR_WORDS = r"dollars?|bucks|pounds?|quid|sterling|euros?"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULT = r"k|thousand|grand|mm|mn|mill?|million|bn|billion|m|b"
_PRE = rf"(?P<{{name}}>{_PREFIXES}|(?:{_CODES})(?=\s?\d))"
_AMOUNT = re.compile(
    rf"(?<![^\W\d_])(?<!\d\.)(?<!\d)(?:{_PRE.format(name='pre')})?\s?"
    rf"(?P<num>{_NUMBER})(?:\s?(?P<mult1>{_MULT})(?![a-z]))?"
    rf"(?:\s?(?:-|–|to)\s?(?:{_PREFIXES})?\s?(?P<upper>{_NUMBER})"  # a range: the lower end
    rf"(?:\s?(?P<mult>{_MULT})(?![a-z]))?)?"
    rf"(?:\s?(?P<post>{_CODES}|{_CUR_WORDS})\b)?",
    re.IGNORECASE,
)
_WORD_NUMBER = "|".join(sorted([*_UNITS, "hundred"], key=len, reverse=True))
_SPOKEN = (
    rf"(?:(?:{_WORD_NUMBER})(?:[\s-]+(?:{_WORD_NUMBER}|and))*"
    rf"(?:[\s-]+and\s+a\s+(?:half|quarter))?"
    rf"|(?:a|one|three)?\s*(?:quarters?|half|third)(?:\s+of)?(?:\s+an?)?)"
)
_WORD_AMOUNT = re.compile(
    rf"\b(?:(?P<low>{_SPOKEN})(?:\s+(?:to|or|-|–)\s+|\s*–\s*))?(?P<words>{_SPOKEN})"
    rf"[\s-]+(?P<mult>thousand|grand|million|mil|billion|k)\b"
    rf"(?:\s(?P<post>{_CUR_WORDS}|{_CODES})\b)?",
    re.IGNORECASE,
)


def parse_amount(text: str, home: str | None = None) -> Amount | None:
    """The money amount a message mentions: '£20k', '20,000 GBP', '$1.2m', 'twenty grand'.

    `home` is the firm's currency: "$" means it when it is a dollar. A bare number counts
    only when it looks like money: written with thousands (18,000) and not followed by a
    noun ("40,000 emails", "6 stores", "FTSE 250" are not amounts). With several amounts,
    the fee wins over the size of the deal ("a $2m deal, fees maybe $60k"); then amounts
    with a currency over amounts with only a k/m multiplier.
    """
    found = list(amounts(text, home))
    if not found:
        return None
    found.sort(key=lambda pair: (_fee_rank(text, pair[1]), pair[0], pair[1].start))
    return found[0][1]


_FEE_BEFORE = re.compile(
    r"\b(?:fees?|our\s+(?:fee|bill|cost)|worth|budget(?:ed)?|billing|billable|charge|quote[ds]?|"
    r"est|estimated?|ballpark|value|cost\s+(?:us|them)|spend)\b\W*(?:\w+\W+){0,3}$"
)
_DEAL_BEFORE = re.compile(
    r"\b(?:deal|transaction|claim|debt|turnover|revenue|valuation|valued|sale|purchase|"
    r"assessment|owing|owed|loan|facility|raise|raising|round|ev|enterprise|price|exposure|"
    r"damages|liability|settlement|portfolio|fund)\s+(?:value\s+|size\s+|price\s+|of\s+|at\s+)?"
    r"(?:is\s+|was\s+|about\s+|around\s+|approx\s+|roughly\s+|c\.\s*|~\s*)?$"
)
_DEAL_AFTER = re.compile(
    r"\W*(?:\w+\W+){0,1}?(?:deal|turnover|revenue|valuation|transaction|loan|facility|debt|"
    r"claim|fund|round|raise|business|company|portfolio|contract|assessment|fit-?out|"
    r"acquisition|purchase|sale|development|project|building|site|judgment|damages|"
    r"exposure|settlement|tender|bid|lawsuit|suit|verdict|estate|property)\b"
)
_FEE_AFTER = re.compile(r"\W*(?:in\s+)?(?:fees?|budget|billing|retainer|spend)\b")


def _fee_rank(text: str, amount: Amount) -> int:
    """0 for an amount said to be the fee, 2 for the size of a deal or debt, else 1."""
    before = text[max(0, amount.start - 40) : amount.start].lower()
    after = text[amount.end : amount.end + 30].lower()
    near_before = text[max(0, amount.start - 25) : amount.start].lower()
    if _DEAL_BEFORE.search(near_before):
        return 2
    if _FEE_BEFORE.search(before) or _FEE_AFTER.match(after):
        return 0
    if _DEAL_AFTER.match(after):
        return 2
    return 1


def amounts(text: str, home: str | None = None) -> Iterable[tuple[int, Amount]]:
    """Every money amount in `text`, each with a rank: 0 with a currency, 1 a multiplier."""
    for match in _AMOUNT.finditer(text):
        pre, post = match.group("pre"), match.group("post")
        mult = match.group("mult1") or match.group("mult")
        number = float(match.group("num").replace(",", ""))
        written = currency_of(post, home)
        # "$250k AUD": a code after the amount says which dollar a bare "$" is
        currency = written if pre == "$" and written else currency_of(pre, home) or written
        if mult:
            number *= _MULTIPLIER[mult.lower()]
        elif not currency and not _bare_money(text, match):
            continue
        if mult and mult.lower() in ("m", "b") and not currency and not _money_context(text, match):
            continue  # '5m' alone may be metres; need a money word nearby
        rank = 0 if currency else 1 if mult else 2
        yield rank, Amount(round(number, 2), currency, match.start(), match.end())
    for match in _WORD_AMOUNT.finditer(text):
        spoken = _words_to_number(match.group("low") or match.group("words"))
        if spoken is None:
            continue
        value = spoken * _MULTIPLIER[match.group("mult").lower()]
        currency = currency_of(match.group("post"), home)
        yield (0 if currency else 1), Amount(value, currency, match.start(), match.end())


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
    return bool(_FEE_BEFORE.search(before)) or bool(
        re.search(
            r"(fee|fees|worth|budget|value|est|estimate|ballpark|around|about|"
            r"approx|maybe|circa|c\.|~)\W*$",
            before,
        )
    )


def _words_to_number(words: str) -> float | None:
    """'seventy-five' → 75, 'a quarter of a' → 0.25, 'two and a half' → 2.5."""
    parts = [w for w in re.split(r"[\s-]+", words.lower()) if w]
    fraction = next((_FRACTIONS[w.rstrip("s")] for w in parts if w.rstrip("s") in _FRACTIONS), 0.0)
    if fraction:
        whole = [w for w in parts if w in _UNITS and w not in ("a", "an")]
        if "and" in parts and whole:  # "two and a half"
            return _UNITS[whole[0]] + fraction
        count = 3 if parts[0] == "three" else 1  # "three quarters of a million"
        return count * fraction
    total = 0.0
    for word in parts:
        if word == "and":
            continue
        if word == "hundred":
            total = (total or 1) * 100
        elif word in _UNITS:
            total += _UNITS[word]
        else:
            return None
    return total or None
