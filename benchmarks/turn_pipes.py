"""The cost of sending turns to a turn process: the receiver's CPU per turn, and the turn
process's, through `TurnProcesses.answer`.

    python benchmarks/turn_pipes.py [--turns 2000] [--in-hand 16] [--people 5000]

`load.py`'s firm on a SQLite file, one turn process, `--in-hand` who-does turns in flight
at once (as the inbox's worker holds several), after a warm-up of the same number. This
process only sends turns and reads answers, so its CPU per turn (user + system, from
`getrusage`) is what the hand-over costs the receiver; the turn process's (from /proc) is
the turn itself and its end of the hand-over. The load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _firm import load_firm_arguments, load_firm_on_sqlite  # noqa: E402
from load import Firm, cpu_seconds  # noqa: E402

from bot.messages import Turn  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.turn_processes import TurnProcesses  # noqa: E402


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _ask(processes: TurnProcesses, firm: Firm, turns: int, in_hand: int) -> None:
    """`turns` who-does turns, `in_hand` at a time."""

    async def one(first: int) -> None:
        for n in range(first, turns, in_hand):
            _slack, email, _name = firm.users[n % len(firm.users)]
            await processes.answer(Turn(email, f"bench:{email}", text="who does tax?"))

    await asyncio.gather(*(one(k) for k in range(in_hand)))


async def measure(processes: TurnProcesses, firm: Firm, turns: int, in_hand: int) -> None:
    await _ask(processes, firm, turns, in_hand)  # warm: the process's caches, the pipes
    pids = processes.pids()
    mine, theirs = _own_cpu(), cpu_seconds(pids)
    await _ask(processes, firm, turns, in_hand)
    receiver = (_own_cpu() - mine) / turns * 1e6
    turn = (cpu_seconds(pids) - theirs) / turns * 1e6
    one, five, _ = os.getloadavg()
    print(f"{turns} turns, {in_hand} in hand, load average {one:.2f} / {five:.2f}")
    print(f"  receiver CPU µs per turn {receiver:7.0f}")
    print(f"  turn process CPU µs per turn {turn:7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--in-hand", type=int, default=16)
    load_firm_arguments(parser, ROOT)
    args = parser.parse_args()
    with load_firm_on_sqlite(args, "pipes.db") as (firm, url):
        processes = TurnProcesses(url, Settings(), 1)
        try:
            asyncio.run(measure(processes, firm, args.turns, args.in_hand))
        finally:
            processes.close()


if __name__ == "__main__":  # a spawned turn process imports this file again
    main()
