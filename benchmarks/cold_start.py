"""Cold start: `crossbot ask` and `crossbot --help` as fresh processes, beside a bare Python.

    python benchmarks/cold_start.py content [--runs 7] [--question "who does TUPE?"]

Loads the content folder into a scratch SQLite database (so `ask` reads a migrated database,
as it does at a firm), then times each command as a new subprocess N times and prints the
median and fastest wall-clock time and the median CPU time (user + system) of each, beside
`python -c pass` and `python -c "import sqlmodel"` measured the same way in the same run:

- `crossbot ask, building`: no content snapshot yet (a fresh cache folder each run), so
  it opens the store, reads the catalog and builds the index, then saves the snapshot;
- `crossbot ask`: the same question again, answered from the snapshot (`bot/snapshot.py`);
- `crossbot ask, no bytecode`: the same, with Python compiling Crossbot's modules from source
  each time (`PYTHONDONTWRITEBYTECODE=1` and no `.pyc` beside them, as in a container that
  sets it without `compileall`).

Every other row runs as an installed package does, with compiled bytecode: each command is
run once first with its `.pyc` files written to a scratch `PYTHONPYCACHEPREFIX`.

It ends with the modules a snapshot answer imported that it should not (the store's side,
matplotlib, alembic, the router). On a busy machine compare the rows with each other, not
with the figures in the docs; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UNWANTED = (
    "sqlalchemy",
    "sqlmodel",
    "bot.store.models",
    "bot.context",
    "matplotlib",
    "alembic",
    "bot.conversation",
    "bot.campaigns",
    "bot.digest",
)


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds of one run, and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path, help="a firm's content folder")
    parser.add_argument("--runs", type=int, default=7, help="runs of each command")
    parser.add_argument("--question", default="who does TUPE?", help="what `ask` is asked")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        crossbot = {
            "PYTHONPATH": str(REPO),
            "CROSSBOT_DATABASE_URL": f"sqlite:///{folder / 'cold.db'}",
            "CROSSBOT_CONTENT_DIR": str(args.content.resolve()),
            "CROSSBOT_CACHE_DIR": str(folder / "cache"),
        }
        outside = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPYCACHE")}
        outside.pop("PYTHONDONTWRITEBYTECODE", None)
        env = {**outside, **crossbot, "PYTHONPYCACHEPREFIX": str(folder / "bytecode")}
        from_source = {**outside, **crossbot, "PYTHONDONTWRITEBYTECODE": "1"}
        python = [sys.executable]
        ask = [*python, "-m", "bot", "ask", args.question]
        timed([*python, "-m", "bot", "load", str(args.content.resolve())], env, folder)
        commands = {
            "python -c pass": ([*python, "-c", "pass"], env),
            "import sqlmodel": ([*python, "-c", "import sqlmodel"], env),
            "crossbot --help": ([*python, "-m", "bot", "--help"], env),
            "crossbot ask, building": (ask, env),
            "crossbot ask": (ask, env),
            "crossbot ask, no bytecode": (ask, from_source),
        }
        load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
        print(f"cold start, {args.runs} runs each, content {args.content}, load average {load}")
        print(f"  {'':<26} {'wall median':>11} {'fastest':>8} {'CPU median':>11}")
        for label, (command, base) in commands.items():
            timed(command, base, folder)  # writes the bytecode (and the snapshot)
            walls, cpus = [], []
            for run in range(args.runs):
                run_env = base
                if label.endswith("building"):  # no snapshot to read: a cache of its own
                    run_env = {**base, "CROSSBOT_CACHE_DIR": str(folder / f"cache-{run}")}
                wall, cpu, _ = timed(command, run_env, folder)
                walls.append(wall)
                cpus.append(cpu)
            wall_median, cpu_median = statistics.median(walls), statistics.median(cpus)
            print(f"  {label:<26} {wall_median:9.2f} s {min(walls):6.2f} s {cpu_median:9.2f} s")
        _, _, trace = timed([*python, "-X", "importtime", *ask[1:]], env, folder)
        imported = {line.rsplit("|", 1)[-1].strip() for line in trace.splitlines()}
        found = [name for name in UNWANTED if name in imported]
        listed = ", ".join(UNWANTED)
        print(f"  a snapshot answer imports: {', '.join(found) if found else 'none of ' + listed}")


if __name__ == "__main__":
    main()
