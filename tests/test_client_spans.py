"""Client names found without a pattern per client: the same places as the client's pattern.

`client_spans` scans ASCII text with `str.find`; `client_pattern` (a compiled regular
expression, Unicode-aware) is the reference it must agree with on every text.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot._understand.clients import client_index, client_pattern, client_spans
from bot.catalog import ClientRecord

FORMS = ["Acme", "Acme Ltd", "ACP", "O'Brien Farms", "O’Brien Farms", "Smith & Jones", "aa aa"]
# pieces that sit at the edges of the pattern: apostrophes, "@", ".", "_", odd whitespace
PIECES = [
    *FORMS,
    "acme",
    "ACME",
    "acp",
    "o’brien",
    "farms",
    "FARMS",
    "smith",
    "&",
    "jones",
    "aa",
    "'s",
    "’s",
    "@",
    ".",
    "_",
    "-",
    ",",
    "x",
    "9",
    " ",
    "  ",
    "\n",
    "\t",
    "\x1c",
    "é",
    "\u212a",  # the Kelvin sign: `re.IGNORECASE` folds it to k, so such text takes the pattern
]


def reference(form: str, text: str) -> list[tuple[int, int]]:
    return [match.span() for match in client_pattern(form).finditer(text)]


@pytest.mark.parametrize(
    ("form", "text", "spans"),
    [
        ("Acme Ltd", "I referred acme   ltd's CFO to Priya", [(11, 21)]),
        # "@" before, a word character after: not the name; a full stop after ends it
        ("Acme", "mail ceo@acme or acme.com, acme_x, xacme; Acme!", [(17, 21), (42, 46)]),
        ("ACP", "ACP and acp and ACPs", [(0, 3)]),
        ("O'Brien Farms", "O’Brien\nfarms want advice", [(0, 13)]),
        ("aa aa", "aa aa aa aa", [(0, 5), (6, 11)]),
        ("Acme", "Acme Café", [(0, 4)]),  # non-ASCII text: found by the pattern
        ("Kestrel", "\u212aestrel want advice", [(0, 7)]),  # the Kelvin sign folds to k
    ],
)
def test_spans_where_the_client_is_named(
    form: str, text: str, spans: list[tuple[int, int]]
) -> None:
    assert client_spans(form, text) == spans == reference(form, text)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(FORMS), st.lists(st.sampled_from(PIECES), max_size=12))
def test_spans_agree_with_the_pattern(form: str, pieces: list[str]) -> None:
    text = "".join(pieces)
    assert client_spans(form, text) == reference(form, text)


def test_a_client_filed_later_is_found_by_its_forms() -> None:
    forms = client_index([ClientRecord(name="Acme Ltd", aliases=["ACP"])])
    assert [m[2:4] for m in forms.matches("ACP and Kestrel Aviation")] == [(0, 3)]
    forms.add("Kestrel Aviation", ClientRecord(name="Kestrel Aviation"))
    found = forms.matches("ACP and kestrel  aviation's board")
    assert [(m[2], m[3], m[4].name) for m in found] == [
        (8, 25, "Kestrel Aviation"),
        (0, 3, "Acme Ltd"),
    ]


def test_clients_sharing_words_are_told_apart() -> None:
    """Forms are filed by all their words: the one named is found among hundreds alike."""
    names = [f"North {a} {b} Ltd" for a in ("Amber", "Birch", "Cobalt") for b in range(100)]
    forms = client_index([ClientRecord(name=name) for name in names])
    found = forms.matches("I referred North Birch 42 to Priya, not North Amber or Birch 7 Ltd")
    assert [(m[2], m[3], m[4].name) for m in found] == [(11, 25, "North Birch 42 Ltd")]
