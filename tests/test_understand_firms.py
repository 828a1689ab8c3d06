"""The referral parser in any firm: its currency, team names, names as people type them.

Each test is a kind of sentence, read in a small US firm (tests/data/referral_us_firm, USD) or in
the held-out Australian firm (tests/data/referral_heldout_au, AUD); none is special-cased.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import load_catalog
from bot.understand import Directory, ReferralDraft, parse_amount, parse_referral
from tests.conftest import load_benchmark

DATA = Path(__file__).resolve().parent / "data"
US = "@ashbyrowe.example"
SAM = "sam.ortiz" + US


@pytest.fixture(scope="module")
def us() -> Directory:
    return Directory.from_catalog(load_catalog(DATA / "referral_us_firm"))


def parse(directory: Directory, text: str, speaker: str = SAM) -> ReferralDraft:
    return parse_referral(text, speaker, directory)


# -- amounts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "home", "value", "currency"),
    [
        ("$20k", "AUD", 20_000, "AUD"),
        ("$20k", "USD", 20_000, "USD"),
        ("$20k", "GBP", 20_000, "USD"),
        ("US$20k", "AUD", 20_000, "USD"),
        ("A$5k", "USD", 5_000, "AUD"),
        ("AU$5k", "USD", 5_000, "AUD"),
        ("NZ$40k fee", "AUD", 40_000, "NZD"),
        ("C$3k", "USD", 3_000, "CAD"),
        ("CA$3k", "USD", 3_000, "CAD"),
        ("€5k", "USD", 5_000, "EUR"),
        ("£7k", "AUD", 7_000, "GBP"),
        ("EUR 55,000", "USD", 55_000, "EUR"),
        ("three thousand dollars", "CAD", 3_000, "CAD"),
        ("$1.5mm budget", "USD", 1_500_000, "USD"),
        ("$2bn", "USD", 2_000_000_000, "USD"),
        ("250k", "USD", 250_000, None),
        ("thirty grand", "AUD", 30_000, None),
    ],
)
def test_currency_in_the_firms_terms(text: str, home: str, value: float, currency: str) -> None:
    amount = parse_amount(text, home)
    assert amount is not None
    assert (amount.value, amount.currency) == (value, currency)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("fee maybe a quarter million", 250_000),
        ("around a quarter of a million", 250_000),
        ("half a million", 500_000),
        ("fifty to seventy-five thousand", 50_000),
        ("fees 60-80k", 60_000),
        ("$150k-$200k", 150_000),
        ("a $4m delay claim, fee maybe a quarter million", 250_000),
        ("deal value about $45 million, fee estimate $350,000", 350_000),
        ("a $2.4m payroll tax assessment; fee around a quarter of a million", 250_000),
        ("Fee could be 0.25m if both go", 250_000),
        ("twenty-five thousand pounds estimate", 25_000),
    ],
)
def test_written_numbers_ranges_and_fee_over_deal(text: str, value: float) -> None:
    amount = parse_amount(text, "USD")
    assert amount is not None and amount.value == value


def test_a_bare_amount_takes_the_firms_currency(us: Directory) -> None:
    draft = parse(us, "Kessler Foods -> the tax folks, IRS audit, 40k")
    assert (draft.value, draft.currency) == (40_000, "USD")


# -- teams and services as the receiver ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("Kessler Foods -> the tax folks, they got an IRS audit notice", "tax"),
        ("Brightline Logistics had a ransomware attack -> Cyber", "cyber"),
        ("Brightline is buying a rival and needs a filing - the HSR people please", "antitrust"),
        ("Kessler Foods has exposure in three states, looping in the payroll tax people", "tax"),
        (
            "Kessler Foods got hit with a wage & hour suit, wage & hour team please",
            "labor-employment",
        ),
        ("/refer Kessler Foods to Construction", "construction"),
        ("Could someone in Antitrust look at the Kessler Foods merger?", "antitrust"),
    ],
)
def test_a_team_or_service_named_as_receiver_gives_its_card(
    us: Directory, text: str, card: str
) -> None:
    draft = parse(us, text)
    assert (draft.card, draft.receiver) == (card, None)
    assert draft.receiver_team and "receiver" not in draft.missing


# -- people ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "receiver"),
    [
        pytest.param(
            "Orla, can you help Kessler Foods with their data breach?",
            "orla.byrne",
            id="names_without_their_accents",
        ),
        pytest.param(
            "Kessler Foods IRS audit, passing to Micheal Chen",
            "michael.chen",
            id="a_first_name_with_a_typo_before_an_exact_surname",
        ),
        pytest.param(
            "Geoff asked me to loop in someone on Brightline's construction delay claim. "
            "Emma's picking it up",
            "emma.stone",
            id="the_person_it_is_sent_to_not_the_first_named",
        ),
        pytest.param(
            "<@U0AGEOFF> is on holiday so I'm sending Kessler Foods to Emma Stone",
            "emma.stone",
            id="someone_away_is_not_the_receiver",
        ),
    ],
)
def test_the_receiver_named(us: Directory, text: str, receiver: str) -> None:
    assert parse(us, text).receiver == receiver + US


@pytest.mark.parametrize(
    ("text", "receiver", "card"),
    [
        pytest.param(
            "/refer Kessler Foods to laura.keane for state tax nexus",
            "laura.keane",
            "tax",
            id="an_email_without_its_domain",
        ),
        pytest.param(
            "Michael's taking the NLRB election for Kessler Foods",
            "michael.reyes",
            "labor-employment",
            id="a_first_name_taking_the_matter_is_settled_by_its_card",
        ),
    ],
)
def test_the_receiver_and_card_named(us: Directory, text: str, receiver: str, card: str) -> None:
    draft = parse(us, text)
    assert (draft.receiver, draft.card) == (receiver + US, card)


def test_a_first_name_merely_sent_to_is_still_asked(us: Directory) -> None:
    draft = parse(us, "Passing Kessler Foods to Michael for the NLRB election")
    assert draft.receiver is None
    assert draft.receiver_candidates[0] == "michael.reyes" + US  # the card's owner first
    assert "receiver" in draft.missing


# -- clients -----------------------------------------------------------------------------


def test_new_client_phrasing_keeps_the_name_as_written(us: Directory) -> None:
    draft = parse(us, "New client: Sandridge Bakeries. Owner wants to sell, Geoff?")
    assert (draft.client, draft.client_known) == ("Sandridge Bakeries", False)
    assert draft.card == "corporate-ma"


def test_a_refer_command_with_an_email_and_no_to(us: Directory) -> None:
    draft = parse(us, "/refer Sandridge Bakeries geoff.hart@ashbyrowe.example sale of the business")
    assert (draft.client, draft.receiver) == ("Sandridge Bakeries", "geoff.hart" + US)


def test_a_client_the_text_disowns(us: Directory) -> None:
    draft = parse(
        us, "Kessler Aviation (nothing to do with Kessler Foods) need an IRS audit, tax team"
    )
    assert (draft.client, draft.client_known) == ("Kessler Aviation", False)


# -- cards -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("Brightline has been named in a new MDL over their trucks, Dana please", "litigation"),
        ("Kessler Foods wants their COO's prenup reviewed before the wedding", "family"),
        ("Brightline's new warehouse faces a CEQA challenge from neighbours", "environmental"),
        ("Kessler Foods needs counterfeit takedowns on Amazon", "ip"),
        ("Kessler Foods' founder is going through a marriage breakdown", "family"),
    ],
)
def test_clear_matters_find_their_card(us: Directory, text: str, card: str) -> None:
    assert parse(us, text).card == card


# -- the benchmark -----------------------------------------------------------------------


def test_the_benchmark_scores_several_firms_and_names_the_worst_field(capsys) -> None:
    bench = load_benchmark("referral_parse")
    folder = DATA / "referral_heldout_au"
    assert bench.main(["--content", str(folder), str(folder), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count(f"referral parsing on {folder}") == 2
    assert out.count("worst field:") == 2 and "worst field over all firms:" in out
