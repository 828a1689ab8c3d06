"""firm.yaml: read and checked with the content, applied by load, overridden by settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.catalog import from_store, load_into, read_folder
from bot.firm import Firm, read_firm
from bot.money import format_money
from bot.settings import Settings
from bot.store import Store
from tests.test_cli import crossbot

US_FIRM = Path(__file__).resolve().parent / "data" / "referral_us_firm"


def us_copy(tmp_path: Path, firm_yaml: str | None = None) -> Path:
    folder = tmp_path / "firm"
    shutil.copytree(US_FIRM, folder)
    if firm_yaml is not None:
        (folder / "firm.yaml").write_text(firm_yaml, encoding="utf-8")
    return folder


def test_firm_yaml_is_read_with_the_content(tmp_path: Path) -> None:
    catalog, problems = read_folder(us_copy(tmp_path))
    assert not [p for p in problems if p.file == "firm.yaml"]
    assert catalog.firm == Firm("Ashby Rowe LLP", "USD", "America/New_York")


def test_without_firm_yaml_the_defaults_apply(tmp_path: Path) -> None:
    folder = us_copy(tmp_path)
    (folder / "firm.yaml").unlink()
    firm, problems = read_firm(folder)
    assert (firm, problems) == (Firm("firm", "GBP", "Europe/London"), [])


def test_unknown_currency_and_zone_are_errors_naming_file_and_line(tmp_path: Path) -> None:
    folder = us_copy(
        tmp_path, "name: Ashby Rowe LLP\ncurrency: USA\ntimezone: US/Nowhere\nfax: 1\n"
    )
    _, problems = read_folder(folder)
    found = {(p.file, p.line, p.level) for p in problems if p.file == "firm.yaml"}
    assert found == {
        ("firm.yaml", 2, "error"),
        ("firm.yaml", 3, "error"),
        ("firm.yaml", 4, "warning"),
    }
    messages = " ".join(p.message for p in problems if p.file == "firm.yaml")
    assert "USA" in messages and "ISO 4217" in messages and "US/Nowhere" in messages


def test_cards_check_lists_firm_yaml_problems_and_load_refuses(tmp_path: Path) -> None:
    folder = us_copy(tmp_path, "currency: dollars\n")
    checked = crossbot("cards", "check", str(folder), cwd=tmp_path)
    assert checked.returncode == 1
    assert "firm.yaml:1" in checked.stderr and "dollars" in checked.stderr
    loaded = crossbot("load", str(folder), cwd=tmp_path)
    assert loaded.returncode != 0
    assert "Traceback" not in loaded.stderr


def test_load_stores_the_firm_and_a_reload_updates_it(tmp_path: Path) -> None:
    folder = us_copy(tmp_path)
    store = Store("sqlite://")
    try:
        with store.write() as session:
            load_into(session, read_folder(folder)[0])
        (folder / "firm.yaml").write_text("currency: CAD\ntimezone: America/Toronto\n")
        with store.write() as session:
            load_into(session, read_folder(folder)[0])
        with store.read() as session:
            firm = from_store(session).firm
    finally:
        store.dispose()
    assert firm == Firm("firm", "CAD", "America/Toronto")


def test_settings_override_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSBOT_CURRENCY", "nzd")
    monkeypatch.setenv("CROSSBOT_TIMEZONE", "Pacific/Auckland")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    firm = settings.apply(Firm("Ashby Rowe LLP", "USD", "America/New_York"))
    assert (firm.currency, firm.timezone) == ("NZD", "Pacific/Auckland")


def test_without_overrides_settings_follow_the_content_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CROSSBOT_CURRENCY", raising=False)
    monkeypatch.delenv("CROSSBOT_TIMEZONE", raising=False)
    monkeypatch.setenv("CROSSBOT_CONTENT_DIR", str(US_FIRM))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.currency, settings.timezone) == ("USD", "America/New_York")
    assert settings.apply(Firm(currency="AUD")).currency == "AUD"  # the loaded firm wins


@pytest.mark.parametrize(
    ("name", "value"), [("CROSSBOT_CURRENCY", "EURO"), ("CROSSBOT_TIMEZONE", "EST5")]
)
def test_a_bad_override_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="unknown"):
        Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("value", "currency", "home", "shown"),
    [
        (20_000, "USD", "USD", "$20k"),
        (20_000, "AUD", "AUD", "$20k"),
        (20_000, "USD", "AUD", "US$20k"),
        (20_000, "AUD", "USD", "A$20k"),
        (20_000, "USD", "GBP", "$20k"),
        (20_000, "GBP", "USD", "£20k"),
        (20_000, "CHF", "GBP", "20k CHF"),
        (1_500_000, "CAD", "CAD", "$1.5m"),
        (2_000_000_000, "GBP", "GBP", "£2bn"),
        (8_500, None, "NZD", "$8,500"),
    ],
)
def test_money_is_shown_in_the_firms_terms(
    value: float, currency: str | None, home: str, shown: str
) -> None:
    assert format_money(value, currency, home) == shown


def test_a_bad_setting_is_named_kindly_by_the_cli(tmp_path: Path) -> None:
    result = crossbot("cards", "check", cwd=tmp_path, env={"CROSSBOT_CURRENCY": "EURO"})
    assert result.returncode == 1
    assert "CROSSBOT_CURRENCY" in result.stderr and "EURO" in result.stderr
    assert "Traceback" not in result.stderr and "unexpectedly" not in result.stderr
