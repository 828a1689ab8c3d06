"""The command line as a person uses it: piped input, output, exit codes (`crossbot` runs
the console script in this process: see tests/cli_run.py)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from bot.store import Store
from bot.store.models import ServiceCard
from tests.cli_run import crossbot
from tests.conftest import SAMPLE_CONTENT
from tests.firm import copy_sample, edit, line_of


def broken_copy(tmp_path: Path) -> Path:
    """The sample firm with a duplicate id, broken YAML and an unknown owner."""
    folder = copy_sample(tmp_path)
    duplicate = folder / "cards" / "employment-again.md"
    duplicate.write_text((folder / "cards" / "employment.md").read_text())
    edit(folder / "cards" / "tech-contracts.md", "title:", "title: [unclosed")
    edit(
        folder / "cards" / "wills-probate.md",
        "owners: [",
        "owners: [nobody@hartwellfinch.example, ",
    )
    return folder


def test_piped_demo_answers_who_does_employment(tmp_path: Path) -> None:
    result = crossbot("demo", cwd=tmp_path, stdin="who does employment law?\n")
    assert result.returncode == 0, result.stderr
    assert "Employment law" in result.stdout and "Priya Shah" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert (tmp_path / "crossbot-demo.db").exists()


def test_piped_chat_reads_every_line_then_exits(tmp_path: Path) -> None:
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    assert crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env).returncode == 0
    result = crossbot(
        "chat",
        "--as",
        "PRIYA.SHAH@hartwellfinch.example",
        cwd=tmp_path,
        env=env,
        stdin="hello\ncard employment\n\n/nonsense\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("I'm Crossbot") >= 2  # the greeting, and help after /nonsense
    assert "Questions to ask" in result.stdout
    assert "I didn't catch anything" in result.stdout


def test_chat_as_unknown_person_is_a_kind_error(tmp_path: Path) -> None:
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env)
    result = crossbot("chat", "--as", "ghost@example.com", cwd=tmp_path, env=env, stdin="hi\n")
    assert result.returncode == 2
    assert "ghost@example.com" in result.stderr and "people.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_cards_check_lists_all_three_problems_with_file_and_line(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path)
    result = crossbot("cards", "check", str(folder), cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    tech = folder / "cards" / "tech-contracts.md"
    wills = folder / "cards" / "wills-probate.md"
    again = folder / "cards" / "employment-again.md"
    assert f"{again}:2: error: duplicate id 'employment'" in out
    assert f"{tech}:{line_of(tech, 'title:')}: error: malformed YAML" in out
    assert f"{wills}:{line_of(wills, 'owners:')}: error: owner 'nobody@" in out


def test_cards_check_on_the_sample_firm_exits_zero(tmp_path: Path) -> None:
    result = crossbot("cards", "check", str(SAMPLE_CONTENT), cwd=tmp_path)
    assert result.returncode == 0
    assert "0 errors" in result.stdout


def test_load_refuses_a_broken_folder_and_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    env = {"CROSSBOT_DATABASE_URL": url}
    assert crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env).returncode == 0
    with Store(url).read() as session:
        before = [(c.id, c.title, c.owners) for c in session.exec(select(ServiceCard))]
    result = crossbot("load", str(broken_copy(tmp_path)), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "database was not changed" in result.stderr
    with Store(url).read() as session:
        assert [(c.id, c.title, c.owners) for c in session.exec(select(ServiceCard))] == before


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'up.db'}"}
    result = crossbot("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 0 and "revision" in result.stdout


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    env = {"CROSSBOT_DATABASE_URL": "postgresql+psycopg://u:secret@127.0.0.1:1/x"}
    result = crossbot("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "CROSSBOT_DATABASE_URL" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_learned_aliases_survive_a_reload_and_are_exported(tmp_path: Path) -> None:
    from bot import learning
    from bot.store.models import Person

    database = tmp_path / "aliases.db"
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{database}"}
    assert crossbot("cards", "aliases", cwd=tmp_path, env=env).returncode == 0  # none yet
    assert crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env).returncode == 0
    store = Store(env["CROSSBOT_DATABASE_URL"])
    with store.write() as session:
        admin = session.exec(select(Person).where(Person.role == "admin")).first()
        assert admin is not None
        asked = learning.record(session, admin.id, "who does a zqxv vrrk?", [], "weak")
        learning.accept_alias(session, asked, "commercial-property", admin.id)
    store.dispose()

    assert crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env).returncode == 0
    listed = crossbot("cards", "aliases", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "cards/commercial-property.md" in listed.stdout
    assert "aliases: [real estate," in listed.stdout and "zqxv vrrk]" in listed.stdout
    as_json = crossbot("cards", "aliases", "--json", cwd=tmp_path, env=env)
    [row] = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert (row["card"], row["learned"]) == ("commercial-property", ["zqxv vrrk"])
    assert row["aliases"][-1] == "zqxv vrrk"
    answered = crossbot("ask", "--json", "zqxv vrrk", cwd=tmp_path, env=env)
    assert json.loads(answered.stdout)["matches"][0]["card"] == "commercial-property"
