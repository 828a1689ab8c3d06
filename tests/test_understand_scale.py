"""Understanding that doesn't grow with the firm: one client index, a cheap first check."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bot._understand.referral import may_name_a_receiver
from bot.catalog import ClientRecord, load_catalog
from bot.understand import Directory, looks_like_referral, parse_referral
from tests.conftest import SAMPLE_CONTENT

HELD_OUT = Path(__file__).parent / "data" / "referral_heldout_au"


def test_the_first_check_passes_every_sentence_that_names_a_receiver() -> None:
    directory = Directory.from_catalog(load_catalog(HELD_OUT))
    lines = (HELD_OUT / "referrals.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    named = 0
    for case in cases:
        draft = parse_referral(case["text"], "", directory)
        if draft.receiver or draft.receiver_candidates or draft.receiver_team:
            named += 1
            assert may_name_a_receiver(case["text"], directory), case["text"]
    assert named > len(cases) // 2


def test_a_sentence_naming_no_one_is_not_parsed_as_a_referral() -> None:
    directory = Directory.from_catalog(load_catalog(SAMPLE_CONTENT))
    plain = "could someone have a look at this before Friday?"
    assert not may_name_a_receiver(plain, directory)
    assert not looks_like_referral(plain, directory)
    assert may_name_a_receiver("Acme need help, could Priya take it?", directory)
    assert may_name_a_receiver("Acme want someone in Tax", directory)


_WORDS = """Ashdown Bracken Corrie Dunmore Elstow Fennick Garrow Hallam Ingleby Jessop Kelling
    Lomond Marden Norland Oakham Pelham Quarley Rendall Selwood Tarrant Ulverston Varley
    Wexcombe Yardley Zennor Alder Birchley Coldharbour Dunstall Eastry""".split()


def test_clients_are_found_among_thousands() -> None:
    catalog = load_catalog(SAMPLE_CONTENT)
    crowd = [
        ClientRecord(f"{a} {b} Holdings", aliases=(f"{a[:2]}{b[:2]}H".upper(),))
        for a in _WORDS
        for b in _WORDS
        if a != b
    ]
    directory = Directory.from_catalog(replace(catalog, clients=[*catalog.clients, *crowd]))
    draft = parse_referral(
        "I've introduced Garrow Selwood Holdings to Priya for TUPE", "", directory
    )
    assert (draft.client, draft.client_known) == ("Garrow Selwood Holdings", True)
    alias = parse_referral("I've introduced GASEH to Priya for a TUPE transfer", "", directory)
    assert (alias.client, alias.client_known) == ("Garrow Selwood Holdings", True)
    typo = parse_referral("Garow Selwood Holdings → Priya for a TUPE transfer", "", directory)
    assert (typo.client, typo.client_known) == ("Garrow Selwood Holdings", True)
