"""Cold start: `crossbot ask` and `crossbot --help` as fresh processes, beside a bare Python.

    python benchmarks/cold_start.py content [--runs 7] [--question "who does TUPE?"]

Loads the content folder into a scratch SQLite database (so `ask` reads a migrated database,
as it does at a firm), then times each command as a new subprocess N times and prints the
median and the fastest, beside `python -c pass` measured the same way in the same run, and
the modules a question imports that it should not (matplotlib, alembic, the router).
On a busy machine compare the rows with each other, not with the figures in the docs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UNWANTED = ("matplotlib", "alembic", "bot.conversation", "bot.campaigns", "bot.digest")


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Wall-clock seconds of one run, and its stderr."""
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path, help="a firm's content folder")
    parser.add_argument("--runs", type=int, default=7, help="runs of each command")
    parser.add_argument("--question", default="who does TUPE?", help="what `ask` is asked")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env["CROSSBOT_DATABASE_URL"] = f"sqlite:///{folder / 'cold.db'}"
        python = [sys.executable]
        timed([*python, "-m", "bot", "load", str(args.content.resolve())], env, folder)
        commands = {
            "python -c pass": [*python, "-c", "pass"],
            "crossbot --help": [*python, "-m", "bot", "--help"],
            "crossbot ask": [*python, "-m", "bot", "ask", args.question],
        }
        print(f"cold start, {args.runs} runs each (median, fastest), content {args.content}")
        for label, command in commands.items():
            times = sorted(timed(command, env, folder)[0] for _ in range(args.runs))
            print(f"  {label:<18} {statistics.median(times):6.2f} s  {times[0]:6.2f} s")
        _, trace = timed([*python, "-X", "importtime", *commands["crossbot ask"][1:]], env, folder)
        imported = {line.rsplit("|", 1)[-1].strip() for line in trace.splitlines()}
        found = [name for name in UNWANTED if name in imported]
        print(f"  a question imports: {', '.join(found) if found else 'none of ' + str(UNWANTED)}")


if __name__ == "__main__":
    main()
