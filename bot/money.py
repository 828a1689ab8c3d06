"""Money in the firm's own currency: which currency a symbol means, and how amounts are shown.

A firm has one currency (ISO 4217, from `firm.yaml` or `CROSSBOT_CURRENCY`). A bare amount
is in it; "$" means the firm's dollar when the firm's currency is a dollar (USD, AUD, CAD,
NZD, ...) and the US dollar otherwise; an explicit other currency (A$, US$, €, GBP) is kept
as written. Amounts in the firm's currency are shown with its plain symbol ("$20k" in a US
or an Australian firm), other dollars with their prefix ("US$20k" in an Australian firm).

One firm per process: `use_firm_currency` is called where the firm is known (the context
that reads the content, the CLI), and `format_money` shows amounts relative to it.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CURRENCY = "GBP"

# ISO 4217 active codes (2024), so a typo in firm.yaml ("USA", "EURO") is caught.
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL
    BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK
    DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS
    INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR
    PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW
    UZS VED VES VND VUV WST XAF XCD XOF XPF XSU YER ZAR ZMW ZWG ZWL""".split()
)

# Currencies written with a bare "$" at home, and the prefix that tells them apart abroad.
DOLLAR_PREFIX = {
    "USD": "US$",
    "AUD": "A$",
    "CAD": "C$",
    "NZD": "NZ$",
    "SGD": "S$",
    "HKD": "HK$",
    "BSD": "B$",
    "BBD": "Bds$",
    "BMD": "BD$",
    "BND": "B$",
    "FJD": "FJ$",
    "JMD": "J$",
    "KYD": "CI$",
    "TTD": "TT$",
    "TWD": "NT$",
    "XCD": "EC$",
}
_SIGNS = {"GBP": "£", "EUR": "€", "JPY": "¥", "INR": "₹"}

# What people write for a currency, lower-cased; "$" and "dollars" are resolved per firm.
SYMBOLS = {
    "£": "GBP",
    "€": "EUR",
    "¥": "JPY",
    "₹": "INR",
    "us$": "USD",
    "a$": "AUD",
    "au$": "AUD",
    "aud$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
    "cad$": "CAD",
    "s$": "SGD",
    "hk$": "HKD",
    "nz$": "NZD",
}
WORDS = {
    "pounds": "GBP",
    "pound": "GBP",
    "quid": "GBP",
    "sterling": "GBP",
    "euros": "EUR",
    "euro": "EUR",
}
DOLLAR_WORDS = frozenset({"$", "dollar", "dollars", "bucks"})

_firm_currency = DEFAULT_CURRENCY


@dataclass(frozen=True)
class Money:
    """An amount of money: `value` in `currency` (None: the firm's, settled where it is kept)."""

    value: float
    currency: str | None = None


def is_currency(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency code (upper case, as firm.yaml writes it)."""
    return code in ISO_4217


def is_dollar(code: str | None) -> bool:
    return (code or "").upper() in DOLLAR_PREFIX


def use_firm_currency(code: str | None) -> None:
    """Make `code` the currency amounts are shown relative to (the process's firm)."""
    global _firm_currency
    _firm_currency = (code or DEFAULT_CURRENCY).upper()


def firm_currency() -> str:
    """The firm's currency as last set by `use_firm_currency` (GBP until then)."""
    return _firm_currency


def dollar(home: str | None) -> str:
    """What "$" means in a firm whose currency is `home`: its own dollar, else the US dollar."""
    home = (home or DEFAULT_CURRENCY).upper()
    return home if is_dollar(home) else "USD"


def currency_of(token: str | None, home: str | None) -> str | None:
    """The ISO code a written symbol, code or word stands for ("$" and "A$" per `home`)."""
    if not token:
        return None
    key = token.strip().lower()
    if key in DOLLAR_WORDS:
        return dollar(home)
    if key.upper() in ISO_4217:
        return key.upper()
    return SYMBOLS.get(key) or WORDS.get(key)


def format_money(
    value: float | int | None,
    currency: str | None = None,
    home: str | None = None,
    exact: bool = False,
) -> str:
    """£20k-style amounts, the way people say them, in `home`'s (the firm's) terms; with
    `exact`, every unit ("£12,345", "£12,345.50"): what was recorded, not a round figure.

    The firm's own currency gets its plain symbol ("$20k" in a US or Australian firm); a
    dollar that isn't the firm's gets its prefix ("US$20k" in an Australian firm); a
    currency without a symbol gets its code ("20k CHF").
    """
    if value is None:
        return ""
    home = (home or _firm_currency).upper()
    code = (currency or home).upper()
    prefix, suffix = _sign(code, home), ""
    if not prefix:
        suffix = f" {code}"
    amount = _exact(float(value)) if exact else _short(float(value))
    return f"{prefix}{amount}{suffix}"


def _exact(amount: float) -> str:
    return f"{amount:,.0f}" if amount == round(amount) else f"{amount:,.2f}"


def _sign(code: str, home: str) -> str:
    if code in _SIGNS:
        return _SIGNS[code]
    if code in DOLLAR_PREFIX:
        return "$" if code == dollar(home) else DOLLAR_PREFIX[code]
    return ""


def _short(amount: float) -> str:
    if amount >= 1_000_000_000:
        return f"{amount / 1_000_000_000:.1f}".rstrip("0").rstrip(".") + "bn"
    if amount >= 1_000_000:
        return f"{amount / 1_000_000:.1f}".rstrip("0").rstrip(".") + "m"
    if amount >= 10_000:
        return f"{amount / 1000:.0f}k"
    return f"{amount:,.0f}"
