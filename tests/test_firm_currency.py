"""A US firm in its own currency, end to end: sentence → confirm → won → digest → report.

The firm's firm.yaml says USD and America/New_York, so "$" is the firm's dollar, bare
amounts are dollars, and every message, the digest and the report show "$" amounts.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from bot import digest
from bot.catalog import from_store, load_catalog, load_into
from bot.channels.console import ConsoleChannel
from bot.context import Context
from bot.firm import Firm
from bot.money import firm_currency, use_firm_currency
from bot.report import write_report
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Referral

US_FIRM = Path(__file__).resolve().parent / "data" / "referral_us_firm"
SAM = "sam.ortiz@ashbyrowe.example"  # Litigation; relationship owner of Kessler Foods
EMMA = "emma.stone@ashbyrowe.example"  # Construction, main contact of the construction card
MONDAY = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


@pytest.fixture
def us_ctx() -> Iterator[Context]:
    store = Store("sqlite://")
    with store.write() as session:
        load_into(session, load_catalog(US_FIRM))
    ctx = Context(store, Settings(_env_file=None))  # type: ignore[call-arg]
    ctx.catalog()
    yield ctx
    store.dispose()
    use_firm_currency(None)  # the next test's firm starts from the default


def test_the_firm_is_stored_by_load_and_its_currency_applies(us_ctx: Context) -> None:
    firm = us_ctx.firm()
    assert (firm.name, firm.currency, firm.timezone) == (
        "Ashby Rowe LLP",
        "USD",
        "America/New_York",
    )
    assert firm_currency() == "USD"


def test_dollars_from_sentence_to_report(us_ctx: Context, tmp_path: Path) -> None:
    sam, emma = ConsoleChannel(us_ctx, SAM), ConsoleChannel(us_ctx, EMMA)
    with time_machine.travel(MONDAY, tick=False):
        [confirm] = sam.send(
            "Kessler Foods has a $4m delay claim on their new plant, fee maybe a quarter "
            "million. Emma's picking it up"
        )
        assert confirm.kind == "referral_ask_confirm"
        assert "$250k" in confirm.text and "£" not in confirm.text
        replies = sam.send("yes")
        dm = next(r for r in replies if r.to_person == EMMA)
        assert "$250k" in dm.text
        rid = int(dm.buttons[0].value["id"])
        emma.press("referral.accept", {"id": rid})
        [form] = emma.press("referral.won", {"id": rid})
        assert form.form is not None and form.form.inputs[0].initial == "250,000 USD"
        won = emma.submit({"value": "240k"})  # a bare amount is in the firm's currency
    assert any("$240,000" in r.text for r in won)  # recorded: every unit
    with us_ctx.store.read() as session:
        row = session.get(Referral, rid)
        assert row is not None
        assert (row.status, row.won_value, row.currency) == ("won", 240_000, "USD")
        zone = ZoneInfo(us_ctx.firm().timezone)
        built = digest.build_digest(session, MONDAY + timedelta(days=7), zone)
        report = write_report(session, tmp_path / "report")
    text = digest.digest_text(built)
    assert "$240k" in text and "£" not in text
    with (tmp_path / "report" / "value_won.csv").open(encoding="utf-8") as handle:
        [value_won] = list(csv.DictReader(handle))
    assert (value_won["currency"], float(value_won["value_won"])) == ("USD", 240_000)
    assert "value_won.png" in {p.name for p in report.files}


def test_other_currencies_are_kept_as_written(us_ctx: Context) -> None:
    sam = ConsoleChannel(us_ctx, SAM)
    [confirm] = sam.send("Kessler Foods -> the construction folks re a site dispute, C$40k")
    assert "C$40k" in confirm.text
    [confirm] = sam.send("no")
    [confirm] = sam.send("Kessler Foods -> the construction folks re a site dispute, £40k")
    assert "£40k" in confirm.text


def test_a_new_firm_yaml_loaded_later_changes_the_currency(us_ctx: Context, tmp_path: Path) -> None:
    folder = tmp_path / "firm"
    shutil.copytree(US_FIRM, folder)
    (folder / "firm.yaml").write_text("name: Ashby Rowe\ncurrency: CAD\n", encoding="utf-8")
    with us_ctx.store.write() as session:
        load_into(session, load_catalog(folder))
    us_ctx.refresh()
    assert us_ctx.firm().currency == "CAD"
    sam = ConsoleChannel(us_ctx, SAM)
    [confirm] = sam.send("Kessler Foods -> the construction folks, $40k")
    assert "$40k" in confirm.text
    sam.send("yes")
    with us_ctx.store.read() as session:
        assert from_store(session).firm == Firm("Ashby Rowe", "CAD", "Europe/London")
        [referral] = session.exec(select(Referral)).all()
    assert (referral.value, referral.currency) == (40_000, "CAD")


def test_help_gives_examples_in_the_firms_currency(us_ctx: Context) -> None:
    replies = ConsoleChannel(us_ctx, SAM).send("help")
    text = "\n".join(r.text for r in replies)
    assert "$20k" in text and "£" not in text
