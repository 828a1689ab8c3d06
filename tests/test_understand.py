"""The referral parser: starting a referral, amounts, people, clients, cards, status updates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.catalog import Card, from_store, load_catalog, load_into
from bot.store import Store
from bot.understand import (
    Directory,
    ReferralDraft,
    looks_like_referral,
    parse_amount,
    parse_referral,
    parse_status_update,
)
from tests.conftest import SAMPLE_CONTENT
from tests.referral_firm import DANA, GRACE, OLU, PRIYA, TOM_BAKER, TOM_NG, write_firm


@pytest.fixture(scope="module")
def firm(tmp_path_factory: pytest.TempPathFactory) -> Directory:
    folder = write_firm(tmp_path_factory.mktemp("firm"))
    return Directory.from_catalog(load_catalog(folder))


def parse(firm: Directory, text: str, speaker: str = DANA) -> ReferralDraft:
    return parse_referral(text, speaker, firm)


# -- ways to start a referral -------------------------------------------------------------


def test_introduced_sentence(firm: Directory) -> None:
    draft = parse(firm, "I've introduced Acme to Priya for their TUPE issue, maybe £20k")
    assert (draft.client, draft.client_known) == ("Acme Ltd", True)
    assert draft.receiver == PRIYA
    assert draft.card == "employment"
    assert (draft.value, draft.currency) == (20000, "GBP")
    assert draft.missing == []


def test_referred_to_a_team(firm: Directory) -> None:
    draft = parse(firm, "referred Northwind Foods to the pensions team")
    assert draft.client == "Northwind Foods"
    assert draft.receiver is None
    assert draft.receiver_team == "Pensions"
    assert draft.card == "pensions"
    assert "receiver" not in draft.missing  # the card's contact is the lifecycle's default


def test_log_a_referral_with_an_arrow(firm: Directory) -> None:
    draft = parse(firm, "log a referral: Blue Fin → Olu")
    assert (draft.client, draft.receiver, draft.card) == ("Blue Fin Hotels", OLU, None)
    assert draft.missing == ["card"]


def test_slash_command_with_service_value_and_note(firm: Directory) -> None:
    draft = parse(firm, "/refer Acme to Tom Baker for auto-enrolment £5k, they are late")
    assert (draft.client, draft.receiver, draft.card) == ("Acme Ltd", TOM_BAKER, "pensions")
    assert (draft.value, draft.currency) == (5000, "GBP")
    assert "they are late" in draft.note


def test_slash_command_lowercase_first_name(firm: Directory) -> None:
    assert parse(firm, "/refer Blue Fin to olu").receiver == OLU


def test_slash_command_without_client(firm: Directory) -> None:
    draft = parse(firm, "/refer to grace.lim@ormsby.example for an HMRC enquiry")
    assert (draft.client, draft.receiver, draft.card) == (None, GRACE, "tax")
    assert draft.missing == ["client"]


def test_slash_command_client_name_containing_to(firm: Directory) -> None:
    draft = parse(firm, "/refer Back to Basics Ltd to Olu for a lease renewal")
    assert (draft.client, draft.receiver, draft.card) == ("Back to Basics Ltd", OLU, "property")


def test_slash_command_without_to(firm: Directory) -> None:
    draft = parse(firm, "/refer @Priya Acme redundancy programme")
    assert (draft.client, draft.receiver, draft.card) == ("Acme Ltd", PRIYA, "employment")


def test_slack_escaping_is_undone(firm: Directory) -> None:
    draft = parse(firm, "Blue Fin -&gt; Olu, lease renewal &amp; rent review, £9k")
    assert (draft.client, draft.receiver, draft.card, draft.value) == (
        "Blue Fin Hotels",
        OLU,
        "property",
        9000,
    )


def test_long_pasted_text_is_bounded(firm: Directory) -> None:
    draft = parse(firm, "refer Acme to Priya for TUPE. " + "Lorem ipsum A B C. " * 2000)
    assert (draft.client, draft.receiver) == ("Acme Ltd", PRIYA)


def test_pipe_separated_command(firm: Directory) -> None:
    draft = parse(firm, "/referral Northwind | Olu Bakare | lease renewal | €12,500")
    assert (draft.client, draft.receiver, draft.card) == ("Northwind Foods", OLU, "property")
    assert (draft.value, draft.currency) == (12500, "EUR")


def test_pass_them_to(firm: Directory) -> None:
    text = "Met the FD of Acme, they want to sell the business. Could you pass them to Dana?"
    draft = parse(firm, text, speaker=OLU)
    assert (draft.client, draft.receiver, draft.card) == ("Acme Ltd", DANA, "corporate-ma")


# -- people ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Acme → <@U01PRIYA> redundancy programme",
        "Acme → <@U09UNKNOWN|priya> redundancy programme",
        "@Priya Shah can you take Acme? redundancy programme",
        "Acme, redundancy programme: priya.shah@ormsby.example",
        "Acme → Priya Shaw, redundancy programme",  # surname typo
    ],
)
def test_receiver_by_mention_email_or_name(firm: Directory, text: str) -> None:
    draft = parse(firm, text)
    assert (draft.client, draft.receiver, draft.card) == ("Acme Ltd", PRIYA, "employment")


def test_ambiguous_first_name_gives_a_choice(firm: Directory) -> None:
    draft = parse(firm, "refer Acme to Tom")
    assert draft.receiver is None
    assert sorted(draft.receiver_candidates) == sorted([TOM_NG, TOM_BAKER])
    assert draft.missing[:2] == ["receiver", "card"]


def test_candidates_who_own_the_card_come_first(firm: Directory) -> None:
    draft = parse(firm, "Acme → Tom, their DB scheme needs a buy-in")
    assert draft.receiver is None
    assert draft.receiver_candidates == [TOM_BAKER, TOM_NG]


def test_teams_mention(firm: Directory) -> None:
    assert parse(firm, "<at>Olu Bakare</at> Blue Fin lease renewal").receiver == OLU


def test_first_names_that_are_words_stay_words(tmp_path: Path) -> None:
    folder = write_firm(tmp_path)
    with (folder / "people.csv").open("a", encoding="utf-8") as people:
        people.write("will.hart@ormsby.example,Will Hart,Tax,London,Partner,member,\n")
    directory = Directory.from_catalog(load_catalog(folder))
    assert parse(directory, "Will you refer Acme to Grace?").receiver == GRACE
    assert (
        parse(directory, "refer Acme to Will, HMRC enquiry").receiver == "will.hart@ormsby.example"
    )


@pytest.mark.parametrize(
    ("text", "receiver"),
    [
        ("Tom Ng, Priya's client Acme needs a pensions review", TOM_NG),
        ("Spoke with Priya about Acme; Tom Baker please, DB scheme buy-in", TOM_BAKER),
        ("Acme → Grace, cc Dana, HMRC enquiry", GRACE),
        ("Dana and I met Acme yesterday - they want a lease renewal. Olu?", OLU),
    ],
)
def test_the_receiver_among_several_people(firm: Directory, text: str, receiver: str) -> None:
    assert parse(firm, text, speaker="visitor@ormsby.example").receiver == receiver


def test_a_title_before_a_colleagues_full_name(firm: Directory) -> None:
    draft = parse(firm, "Mrs Jane Doe wants her DB scheme reviewed — Dr Tom Baker please")
    assert (draft.client, draft.receiver) == ("Mrs Jane Doe", TOM_BAKER)


def test_nicknames_when_nobody_has_that_first_name(tmp_path: Path) -> None:
    folder = write_firm(tmp_path)
    with (folder / "people.csv").open("a", encoding="utf-8") as people:
        people.write("matthew.hart@ormsby.example,Matthew Hart,Tax,London,Partner,member,\n")
    directory = Directory.from_catalog(load_catalog(folder))
    assert parse(directory, "Acme → Matt, HMRC enquiry").receiver == "matthew.hart@ormsby.example"
    assert parse(directory, "refer Acme to Tom").receiver is None  # two real Toms: a choice


def test_surname_settles_an_ambiguous_first_name(firm: Directory) -> None:
    assert parse(firm, "refer Acme to Tom Ng").receiver == TOM_NG


def test_the_speaker_is_not_their_own_receiver(firm: Directory) -> None:
    draft = parse(firm, "Tom here: Blue Fin → Tom for a tribunal claim", speaker=TOM_NG)
    assert draft.receiver == TOM_BAKER


# -- clients -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "client"),
    [
        (
            "Referring Zephyr Analytics Ltd to Grace for an R&D tax relief claim",
            "Zephyr Analytics Ltd",
        ),
        ("Mrs Jane Doe wants a pension review. Tom Baker please", "Mrs Jane Doe"),
        ("Harlow Bakeries (family firm, Leeds) want to buy a rival. Dana, £40k", "Harlow Bakeries"),
        ("The Ashby family need advice on their DB scheme, Tom Baker?", "The Ashby family"),
    ],
)
def test_unknown_clients_are_kept_as_written(firm: Directory, text: str, client: str) -> None:
    draft = parse(firm, text)
    assert (draft.client, draft.client_known) == (client, False)


@pytest.mark.parametrize(
    "text",
    [
        "/refer Northwnd Foods to Olu",  # typo
        "Northwind's lease is up, Olu please",  # alias with a possessive
        "introduced Northwind to Olu for a lease renewal",
    ],
)
def test_known_clients_by_alias_or_typo(firm: Directory, text: str) -> None:
    draft = parse(firm, text)
    assert (draft.client, draft.client_known) == ("Northwind Foods", True)


def test_acronym_alias_needs_its_capitals(firm: Directory) -> None:
    assert parse(firm, "BFH → Olu, new lease").client == "Blue Fin Hotels"
    assert parse(firm, "a client of mine wants a new lease, Olu please").client is None


# -- cards -------------------------------------------------------------------------------


def test_card_from_the_words_when_no_receiver(firm: Directory) -> None:
    draft = parse(firm, "Acme got an HMRC enquiry letter about their R&D tax relief claim")
    assert (draft.receiver, draft.card) == (None, "tax")


def test_no_words_no_card(firm: Directory) -> None:
    assert parse(firm, "/refer Acme to Grace Lim").card is None


def test_kindred_words_count_for_a_service(firm: Directory) -> None:
    draft = parse(firm, "Harlow Bakeries Ltd are buying a rival bakery. Dana?", speaker=OLU)
    assert (draft.client, draft.receiver, draft.card) == (
        "Harlow Bakeries Ltd",
        DANA,
        "corporate-ma",
    )


def test_small_talk_is_not_a_service(firm: Directory) -> None:
    text = "Acme → Grace Lim, as discussed at lunch yesterday; their CEO expects your call"
    assert parse(firm, text).card is None


def test_card_scorer_seam(firm: Directory) -> None:
    def always_pensions(words: str, cards: Sequence[Card]) -> dict[str, float]:
        return {"pensions": 10.0}

    draft = parse_referral("refer Acme to Priya", DANA, firm, scorer=always_pensions)
    assert draft.card == "pensions"


# -- amounts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("maybe £20k", 20000, "GBP"),
        ("20,000 GBP in fees", 20000, "GBP"),
        ("$1.2m", 1_200_000, "USD"),
        ("€5k", 5000, "EUR"),
        ("twenty grand or so", 20000, None),
        ("twenty-five thousand pounds", 25000, "GBP"),
        ("twelve thousand quid max", 12000, "GBP"),
        ("1.2 million euros", 1_200_000, "EUR"),
        ("USD 250k", 250_000, "USD"),
        ("EUR 55,000", 55000, "EUR"),
        ("fees c.£180k", 180_000, "GBP"),
        ("~£27.5k", 27500, "GBP"),
        ("£70k-ish", 70000, "GBP"),
        ("est 30k", 30000, None),
        ("certification refresh 18,000", 18000, None),
        ("£2bn deal", 2_000_000_000, "GBP"),
        ("40 staff, budget £8,500", 8500, "GBP"),
        ("GBP20k", 20000, "GBP"),
        ("£20-25k", 20000, "GBP"),
        ("20k–30k USD", 20000, "USD"),
        ("CHF 20,000", 20000, "CHF"),
        ("A$5k", 5000, "AUD"),
        ("a $2m deal so fees maybe $60k", 60000, "USD"),
        ("£400k loan facility, fees around £8k", 8000, "GBP"),
    ],
)
def test_parse_amount(text: str, value: float, currency: str | None) -> None:
    amount = parse_amount(text)
    assert amount is not None
    assert (amount.value, amount.currency) == (value, currency)


@pytest.mark.parametrize(
    "text",
    [
        "40,000 emails in scope",
        "lease renewals on 6 stores",
        "a FTSE 250 manufacturer",
        "their 2022 return",
        "before Q3",
        "section 106 renegotiation",
        "no fee idea yet",
    ],
)
def test_numbers_that_are_not_money(text: str) -> None:
    assert parse_amount(text) is None


def test_value_without_currency_takes_the_firms(firm: Directory) -> None:
    draft = parse(firm, "Acme → Priya, redundancies, 30k")
    assert (draft.value, draft.currency) == (30000, "GBP")


# -- intent ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I've introduced Acme to Priya for their TUPE issue, maybe £20k",
        "referred Northwind Foods to the pensions team",
        "log a referral: Blue Fin → Tom",
        "/refer Acme to Priya",
        "Acme -> Olu, lease renewal",
        "Could you pass them to Dana? They want to sell.",
        "Passing Acme to Grace for the HMRC enquiry",
    ],
)
def test_looks_like_referral(text: str) -> None:
    assert looks_like_referral(text)


@pytest.mark.parametrize(
    "text",
    [
        "who does employment law?",
        "Who handles TUPE transfers?",
        "what does the tax team do?",
        "hello",
        "thanks!",
        "which team does pensions?",
    ],
)
def test_questions_are_not_referrals(text: str) -> None:
    assert not looks_like_referral(text)


def test_named_colleague_client_and_amount_count_with_a_directory(firm: Directory) -> None:
    assert looks_like_referral("Acme need help with a tribunal claim, Priya please", firm)
    assert not looks_like_referral("Acme need help with a tribunal claim", firm)


# -- status updates ----------------------------------------------------------------------


def test_status_won_with_value(firm: Directory) -> None:
    update = parse_status_update("Acme went well, we won it, £18k", firm)
    assert update is not None
    assert (update.client, update.status, update.value, update.currency) == (
        "Acme Ltd",
        "won",
        18000,
        "GBP",
    )


def test_status_lost_with_reason(firm: Directory) -> None:
    update = parse_status_update("we lost Acme, price", firm)
    assert update is not None
    assert (update.client, update.status, update.reason) == ("Acme Ltd", "lost", "price")


def test_status_meeting_booked(firm: Directory) -> None:
    update = parse_status_update("meeting booked with Northwind", firm)
    assert update is not None
    assert (update.client, update.status) == ("Northwind Foods", "meeting")


def test_status_unknown_client_kept_as_written() -> None:
    update = parse_status_update("We lost Zephyr Analytics because of timing")
    assert update is not None
    assert (update.client, update.status, update.reason) == ("Zephyr Analytics", "lost", "timing")


@pytest.mark.parametrize(
    ("text", "status", "reason"),
    [
        ("Blue Fin went with another firm", "lost", None),
        ("Acme didn't go ahead, budget", "lost", "budget"),
        ("Proposal sent to Northwind", "proposal", None),
        ("Call set up with Acme next Tuesday", "meeting", None),
        ("Northwind signed the engagement letter, £25k", "won", None),
    ],
)
def test_more_status_updates(firm: Directory, text: str, status: str, reason: str | None) -> None:
    update = parse_status_update(text, firm)
    assert update is not None
    assert (update.status, update.reason) == (status, reason)
    assert update.client_known


@pytest.mark.parametrize("text", ["We won't hear from Acme until May", "no update on Acme"])
def test_no_status_in_these(firm: Directory, text: str) -> None:
    assert parse_status_update(text, firm) is None


def test_no_status_is_none(firm: Directory) -> None:
    assert parse_status_update("who does employment law?", firm) is None


# -- JSON contract -----------------------------------------------------------------------


def test_json_contract(firm: Directory) -> None:
    data = parse(firm, "I've introduced Acme to Priya for their TUPE issue, maybe £20k").as_json()
    assert list(data) == ["client", "receiver", "card", "value", "currency", "missing"]
    assert data["value"] == 20000 and isinstance(data["value"], int)
    assert parse(firm, "hello").as_json() == {
        "client": None,
        "receiver": None,
        "card": None,
        "value": None,
        "currency": None,
        "missing": ["client", "receiver", "card"],
    }


# -- held-out sanity check on the sample firm (sentences written for it, not the devset) ---

HARTWELL = "@hartwellfinch.example"
HELD_OUT = [
    (
        "I've introduced Brightpath to Kofi Asante, they need sponsor "
        "licence help for 20 carers, ~£6k",
        "sam.patel",
        ("Brightpath Care Group", "kofi.asante", "business-immigration", 6000, "GBP"),
    ),
    (
        "/refer Severn Software to Aisha for a DSAR from a former employee",
        "james.thornton",
        ("Severn Software Ltd", "aisha.bello", "data-protection", None, None),
    ),
    (
        "Calder Valley → Tariq, R&D claim for the new robotics line, 15k",
        "sam.whitaker",
        ("Calder Valley Engineering Ltd", "tariq.hussain", "rd-tax-relief", 15000, "GBP"),
    ),
    (
        "Kestrel Retail are struggling with cash flow and a landlord served a statutory demand. "
        "Philippa please.",
        "nikhil.bose",
        ("Kestrel Retail Group plc", "philippa.lane", "restructuring-insolvency", None, None),
    ),
    (
        "Referring Harbourside to Lauren Fitzgerald for a rent review "
        "on their Cardiff offices, £9,000",
        "helen.carmichael",
        ("Harbourside Estates Ltd", "lauren.fitzgerald", "valuation-rates", 9000, "GBP"),
    ),
    (
        "Thistle & Tweed want to raise a Series A. Rosie Clarke? Maybe £40k",
        "grace.whitfield",
        ("Thistle & Tweed Distillers Ltd", "rosie.clarke", "fundraising", 40000, "GBP"),
    ),
    (
        "Acme got hit by ransomware last night, <@U00NOPE|ollie> can you call them?",
        "priya.shah",
        ("Acme Logistics plc", "ollie.brent", "cyber-incident", None, None),
    ),
    (
        "Pennine Dairies need their statutory audit tendered, Andrew Kerr, £35k",
        "sam.patel",
        ("Pennine Dairies Ltd", "andrew.kerr", "statutory-audit", 35000, "GBP"),
    ),
    (
        "Lockhart & Reid: the two founders have fallen out, deadlock on the board. Ruth Okonjo pls",
        "philippa.lane",
        ("Lockhart & Reid Builders Ltd", "ruth.okonjo", "shareholder-disputes", None, None),
    ),
    (
        "Mr Peter Walsh wants to update his will and set up a lasting power of attorney. "
        "Harriet Lowe please",
        "angus.drummond",
        ("Mr Peter Walsh", "harriet.lowe", "wills-probate", None, None),
    ),
    (
        "Oakmere Schools Trust → Owen, TUPE on the transfer of two academies, twenty grand",
        "andrew.kerr",
        ("Oakmere Schools Trust", "owen.gallagher", "employment", 20000, "GBP"),
    ),
    (
        "Fenwick Robotics Ltd (spin-out, Cambridge) want help with an EMI share option scheme. "
        "Morag Campbell, €12k",
        "rosie.clarke",
        ("Fenwick Robotics Ltd", "morag.campbell", "business-tax", 12000, "EUR"),
    ),
    (
        "Forth Valley → Ngozi Eze, first CSRD and scope 3 carbon accounting, £25k",
        "andrew.kerr",
        ("Forth Valley Renewables Ltd", "ngozi.eze", "esg-reporting", 25000, "GBP"),
    ),
    (
        "Marlowe Dental are selling the group to a PE buyer; Natalie for the "
        "vendor due diligence, $90k",
        "james.thornton",
        ("Marlowe Dental Partners", "natalie.price", "transaction-services", 90000, "USD"),
    ),
    (
        "refer Greystone to the VAT team - TOGC question on a property deal",
        "james.thornton",
        ("Greystone Capital Partners LLP", None, "vat-customs", None, None),
    ),
    (
        "Carrow family office would like inheritance tax planning for the next "
        "generation, Jessica Moore",
        "victoria.hale",
        ("Carrow Family Office", "jessica.moore", "trusts-estate-planning", None, None),
    ),
]


@pytest.mark.skipif(not SAMPLE_CONTENT.is_dir(), reason="the sample firm is not in this checkout")
def test_held_out_sentences_on_the_sample_firm() -> None:
    directory = Directory.from_catalog(load_catalog(SAMPLE_CONTENT))
    fields = ("client", "receiver", "card", "value", "currency")
    right = dict.fromkeys(fields, 0)
    misses = []
    for text, speaker, expected in HELD_OUT:
        got = parse_referral(text, speaker + HARTWELL, directory).as_json()
        want = dict(zip(fields, expected, strict=True))
        if want["receiver"]:
            want["receiver"] = str(want["receiver"]) + HARTWELL
        for field in fields:
            if got[field] == want[field]:
                right[field] += 1
            else:
                misses.append((field, want[field], got[field], text[:50]))
    accuracy = {field: right[field] / len(HELD_OUT) for field in fields}
    assert min(accuracy.values()) >= 0.9, (accuracy, misses)


CLIENT_SHAPES = [
    (
        "Zephyr's CFO called: they need help with an HMRC VAT inspection. Grace Whitfield please",
        "Zephyr",
    ),
    ("Got one for you Priya: Zephyr Analytics want a TUPE review, £10k", "Zephyr Analytics"),
    ("St Mary's School want an audit, Andrew Kerr", "St Mary's School"),
    ("Referral to Kofi for Brindle Care: sponsor licence renewal", "Brindle Care"),
    ("I think Ngozi should talk to Halden Marine about scope 3 reporting", "Halden Marine"),
    ("FYI Orion Foods Ltd have asked about R&D tax credits. Tariq?", "Orion Foods Ltd"),
    ("Ollie — one of my clients, Vesta Pharma, had a ransomware attack", "Vesta Pharma"),
    ("For Natalie: Beacon Engineering plc want vendor due diligence", "Beacon Engineering plc"),
    ("Isla, could you have a chat with the founders of Lumio AI?", "Lumio AI"),
    ("Had lunch with the CFO of Halden Marine. Sophie Tran could help?", "Halden Marine"),
    (
        "Sophie Tran for Kestrel, they want their SaaS agreement reviewed",
        "Kestrel Retail Group plc",
    ),
]


@pytest.mark.skipif(not SAMPLE_CONTENT.is_dir(), reason="the sample firm is not in this checkout")
@pytest.mark.parametrize(("text", "client"), CLIENT_SHAPES)
def test_where_clients_are_named(text: str, client: str) -> None:
    directory = Directory.from_catalog(load_catalog(SAMPLE_CONTENT))
    assert parse_referral(text, "james.thornton" + HARTWELL, directory).client == client


def test_directory_from_the_database(tmp_path: Path) -> None:
    store = Store("sqlite://")
    try:
        with store.write() as session:
            load_into(session, load_catalog(write_firm(tmp_path)))
        with store.read() as session:
            directory = Directory.from_catalog(from_store(session))
    finally:
        store.dispose()
    draft = parse_referral(
        "I've introduced Acme to Priya for their TUPE issue, £20k", DANA, directory
    )
    assert (draft.client, draft.receiver, draft.card, draft.value) == (
        "Acme Ltd",
        PRIYA,
        "employment",
        20000,
    )
    assert parse_referral("Acme → <@U01PRIYA>", DANA, directory).receiver == PRIYA
