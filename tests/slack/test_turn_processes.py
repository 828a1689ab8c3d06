"""Turns in worker processes beside the receiver (`CROSSBOT_TURN_PROCESSES`): the same
answers and state changes as in one process, and a turn process that dies is replaced."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import select

from bot import turn_processes
from bot.context import Context
from bot.messages import Turn
from bot.server import with_turn_processes
from bot.settings import Settings
from bot.store import Store
from bot.store.models import InboxDecision, Referral
from tests.conftest import REPO, load_sample
from tests.slack.conftest import (
    PRIYA,
    PRIYA_DM,
    FakeSlack,
    SlackDriver,
    section_texts,
    started_slack,
)


@pytest.fixture
async def slack(
    tmp_path: Path, slack_settings: Settings, fake: FakeSlack
) -> AsyncIterator[SlackDriver]:
    """Our server on a SQLite file, its turns in one worker process."""
    store = load_sample(Store(f"sqlite:///{tmp_path / 'crossbot.db'}"))
    settings = slack_settings.model_copy(update={"turn_processes": 1})
    driver = await started_slack(Context(store, settings), fake)
    yield driver
    await driver.client.close()  # stops the turn processes with the app
    store.dispose()


def _answers(slack: SlackDriver) -> list[dict]:
    return [p for p in slack.fake.of("chat.postMessage") if p["channel"] == PRIYA_DM]


def _turn_processes() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.is_alive()]


async def test_a_question_is_answered_from_a_turn_process(slack: SlackDriver) -> None:
    status, _ = await slack.dm("who does employment law?")

    assert status == 200
    assert _turn_processes(), "the turn ran in a worker process"
    texts = " ".join(t for p in _answers(slack) for t in section_texts(p))
    assert "Employment" in texts


async def test_a_confirmed_referral_is_saved_once(slack: SlackDriver) -> None:
    await slack.dm("I referred Acme Logistics to Sam Patel for business tax")
    [offer] = [p for p in _answers(slack) if "referral.confirm" in str(p.get("blocks"))]

    await slack.press("referral.confirm", {})
    await slack.press("referral.confirm", {})  # a double press

    with slack.channel.ctx.store.read() as session:
        saved = session.exec(select(Referral)).all()
        decided = session.exec(select(InboxDecision)).all()
    assert offer and len(saved) == 1
    # the turn process committed the Confirm's replies with the referral (`bot.outbox`), so
    # a resumed press would send them rather than route again
    assert any(r.get("text", "").startswith("Logged as #1") for d in decided for r in d.replies)


async def test_a_turn_process_that_dies_is_replaced(slack: SlackDriver) -> None:
    await slack.dm("who does employment law?")
    for process in _turn_processes():
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
    before = len(_answers(slack))

    status, _ = await slack.dm("who does tax?")

    assert status == 200
    assert len(_answers(slack)) == before + 1
    assert _turn_processes(), "new turn processes serve the next turns"


async def test_turns_beyond_what_a_process_takes_wait_and_are_all_answered(
    tmp_path: Path, slack_settings: Settings
) -> None:
    store = load_sample(Store(f"sqlite:///{tmp_path / 'crossbot.db'}"))
    processes = turn_processes.TurnProcesses(store.url, slack_settings, 1)
    try:
        asked = [
            Turn(PRIYA, f"test:{n}", text="who does employment law?")
            for n in range(turn_processes.AHEAD * 2 + 1)
        ]
        answers = asyncio.gather(*(processes.answer(turn) for turn in asked))
        await asyncio.sleep(0)  # every turn asked: a process holds AHEAD, the rest wait
        [worker] = processes._workers
        assert len(worker.in_hand) == turn_processes.AHEAD
        replies = await answers
    finally:
        await asyncio.to_thread(processes.close)
        store.dispose()
    assert [any(r.kind == "whodoes_answer" for r in got) for got in replies] == [True] * len(asked)


def test_an_exception_that_cannot_be_pickled_is_sent_as_its_name() -> None:
    class Unpicklable(Exception):  # a local class: pickle can't find it again
        pass

    sent = turn_processes._pickled((7, False, Unpicklable("secret detail")))
    number, ok, error = pickle.loads(sent)
    assert (number, ok, type(error)) == (7, False, RuntimeError)
    assert "Unpicklable" in str(error) and "secret" not in str(error)


RECEIVER = """
import os, sys, time
from bot.settings import Settings
from bot.turn_processes import TurnProcesses

if __name__ == "__main__":  # a spawned turn process imports this file again
    processes = TurnProcesses(sys.argv[1], Settings(), 1)
    [worker] = processes.pids()
    with open(sys.argv[2] + ".tmp", "w") as out:
        out.write(str(worker))
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
    time.sleep(600)
"""


def _gone(pid: int) -> bool:
    """Whether `pid` has exited (a zombie no one has reaped yet counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_turn_process_ends_when_its_receiver_is_killed(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'crossbot.db'}"
    store = load_sample(Store(url))
    store.dispose()
    script, ready = tmp_path / "receiver.py", tmp_path / "worker.pid"
    script.write_text(RECEIVER)
    # PYTHONPATH: the script is outside the repository, and must import this checkout's bot
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    receiver = subprocess.Popen([sys.executable, str(script), url, str(ready)], env=env)
    deadline = time.monotonic() + 120
    while not ready.exists() and receiver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the receiver never started its turn process"
    worker = int(ready.read_text())
    assert not _gone(worker)
    receiver.kill()  # SIGKILL: the receiver can't stop its pool
    receiver.wait()
    deadline = time.monotonic() + 60
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not _gone(worker):
        os.kill(worker, signal.SIGKILL)
    assert _gone(worker), "the turn process outlived its receiver"


@pytest.mark.parametrize(
    ("url", "wanted", "cores", "count"),
    [
        ("sqlite:///crossbot.db", None, 2, 1),  # unset, SQLite: one on two cores or more
        ("sqlite:///crossbot.db", None, 8, 1),
        ("sqlite:///crossbot.db", None, 1, 0),  # one core: the receiver's threads
        ("sqlite://", None, 8, 0),  # an in-memory database can't be shared
        ("postgresql+psycopg://db/crossbot", None, 4, 2),  # a second fills the DB waits
        ("postgresql+psycopg://db/crossbot", None, 1, 0),
        ("sqlite:///crossbot.db", 0, 8, 0),  # what was asked for wins
        ("postgresql+psycopg://db/crossbot", 3, 1, 3),
    ],
)
def test_serve_picks_the_turn_processes_for_its_host(
    url: str, wanted: int | None, cores: int, count: int
) -> None:
    assert turn_processes.for_host(url, wanted, cores) == count


@pytest.mark.parametrize(("value", "wanted"), [("auto", None), ("", None), ("0", 0), ("2", 2)])
def test_the_setting_takes_auto_or_a_count(value: str, wanted: int | None) -> None:
    settings = Settings(_env_file=None, CROSSBOT_TURN_PROCESSES=value)  # type: ignore[call-arg]
    assert settings.turn_processes == wanted


def test_a_count_out_of_range_is_refused() -> None:
    with pytest.raises(ValidationError, match="CROSSBOT_TURN_PROCESSES"):
        Settings(_env_file=None, CROSSBOT_TURN_PROCESSES="-1")  # type: ignore[call-arg]


def test_serve_decides_an_unset_count_and_keeps_a_set_one(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'crossbot.db'}")
    unset = Context(store, Settings(_env_file=None))  # type: ignore[call-arg]
    decided = with_turn_processes(unset)
    assert decided.settings.turn_processes == turn_processes.for_host(store.url, None)
    assert decided.store is store
    chosen = Context(store, unset.settings.model_copy(update={"turn_processes": 0}))
    assert with_turn_processes(chosen) is chosen
    store.dispose()
