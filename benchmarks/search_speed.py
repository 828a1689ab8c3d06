"""Search speed on a large firm: index build time, memory and per-question latency.

    python benchmarks/search_speed.py ../shared/eval/devset [--cards 2000 20000]

Builds a firm of N cards generated from the folder's cards with varied wording (titles,
aliases and sentences shuffled and recombined across cards), then times Crossbot and a
rank-bm25 baseline side by side on the folder's questions (queries.jsonl, or a built-in
list when it has none).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog import Card, read_folder  # noqa: E402
from bot.search import SearchIndex, load_vocabulary  # noqa: E402

_PREFIXES = ["", "Specialist ", "Regional ", "Cross-border ", "Strategic ", "Contentious "]
_SUFFIXES = [
    "",
    " advisory",
    " services",
    " (North)",
    " and disputes",
    " for owner-managed businesses",
]
_QUESTIONS = [
    "who does TUPE?",
    "client's landlord wants the building back",
    "founder wants to sell up",
    "a client is being sued by a former employee",
    "who handles insolvancy?",
    "my laptop won't connect to the VPN",
]


def generate(cards: list[Card], count: int, seed: int = 7) -> list[Card]:
    """`count` cards recombined from `cards`, each with its own wording."""
    rng = random.Random(seed)
    sentences = {
        key: [s for c in cards for s in _sentences(c.section(key))]
        for key in ("what_we_do", "positioning")
    }
    bullets = {
        key: [b for c in cards for b in c.bullets(key)]
        for key in ("clients_we_want", "situations", "questions")
    }
    out = []
    for n in range(count):
        base = cards[n % len(cards)]
        sections = {}
        for key, pool in sentences.items():
            own = _sentences(base.section(key))
            sections[key] = " ".join(
                rng.sample(own, len(own)) + rng.sample(pool, min(2, len(pool)))
            )
        for key, pool in bullets.items():
            own = base.bullets(key)
            picked = rng.sample(own, max(0, len(own) - 1)) + rng.sample(pool, min(2, len(pool)))
            sections[key] = "\n".join(f"- {b}" for b in picked)
        title = f"{rng.choice(_PREFIXES)}{base.title}{rng.choice(_SUFFIXES)}".strip()
        aliases = tuple(rng.sample(base.aliases, max(0, len(base.aliases) - 1)))
        out.append(
            replace(base, id=f"{base.id}-{n}", title=title, aliases=aliases, sections=sections)
        )
    return out


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.replace("\n", " ").split(". ") if s.strip()]


def measure(build: Callable[[], Callable[[str], object]], questions: list[str]) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    ask = build()
    built, built_cpu = time.perf_counter() - started, time.process_time() - cpu
    tracemalloc.start()  # a second build, traced: tracing slows the first one down
    kept = build()
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    for q in questions[:5]:
        ask(q)  # warm caches the way a running bot would be
    times = []
    for q in questions:
        t0 = time.perf_counter()
        ask(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "build_s": built,
        "build_cpu_s": built_cpu,
        "memory_mb": memory / 1e6,
        "p50_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "questions": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path, help="firm folder whose cards seed the big firm")
    parser.add_argument(
        "--cards", type=int, nargs="+", default=[2000], help="firm sizes to time (default 2000)"
    )
    parser.add_argument(
        "--baseline-up-to",
        type=int,
        default=5000,
        help="time rank-bm25 only for firms up to this many cards (it is slow on big ones)",
    )
    args = parser.parse_args()
    for count in args.cards:
        run(args.content, count, baseline=count <= args.baseline_up_to)


def run(content: Path, count: int, baseline: bool) -> None:
    """Time Crossbot (and rank-bm25 when `baseline`) on a firm of `count` cards."""
    catalog, _ = read_folder(content)
    cards = generate(catalog.cards, count)
    path = content / "queries.jsonl"
    questions = _QUESTIONS
    if path.is_file():
        questions = [
            json.loads(line)["q"] for line in path.read_text().splitlines() if line.strip()
        ]
    glossary, areas = load_vocabulary(content)

    def crossbot() -> Callable[[str], object]:
        index = SearchIndex.build(cards, catalog.people, catalog.clients, glossary, areas)
        return index.search

    def bm25() -> Callable[[str], object]:
        import re

        from rank_bm25 import BM25Okapi

        def tok(text: str) -> list[str]:
            return re.findall(r"[a-z0-9]+", text.lower())

        model = BM25Okapi(
            [tok(" ".join([c.title, c.team, *c.aliases, *c.sections.values()])) for c in cards]
        )
        return lambda q: model.get_scores(tok(q))

    print(f"{len(cards)} cards generated from {content}, {len(questions)} questions")
    print(f"{'':10} {'build s':>8} {'(cpu s)':>8} {'memory MB':>10} {'p50 ms':>8} {'p95 ms':>8}")
    systems = (
        [("crossbot", crossbot), ("rank-bm25", bm25)] if baseline else [("crossbot", crossbot)]
    )
    for name, build in systems:
        r = measure(build, questions)
        build_s, cpu_s, memory = r["build_s"], r["build_cpu_s"], r["memory_mb"]
        print(
            f"{name:10} {build_s:8.2f} {cpu_s:8.2f} {memory:10.1f} "
            f"{r['p50_ms']:8.2f} {r['p95_ms']:8.2f}"
        )


if __name__ == "__main__":
    main()
