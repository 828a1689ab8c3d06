"""Referral parsing speed on a large firm: directory build time and per-sentence latency.

    python benchmarks/referral_speed.py ../shared/eval/devset [--cards 2000]

Builds a firm of N cards generated from the folder's cards (as `search_speed.py` does),
times building the parser's directory index, then parses the folder's referral sentences
(referrals.jsonl) and a plain sentence naming no one, reporting median and 95th percentile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_speed import generate  # noqa: E402

from bot.catalog import load_catalog  # noqa: E402
from bot.understand import Directory, parse_referral  # noqa: E402

PLAIN = "Could someone look at their new supplier contracts before the board meeting?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path, help="a firm's content folder")
    parser.add_argument("--cards", type=int, default=2000, help="cards in the generated firm")
    args = parser.parse_args()
    catalog = load_catalog(args.content)
    big = replace(catalog, cards=generate(catalog.cards, args.cards))
    lines = (args.content / "referrals.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    started = time.perf_counter()
    Directory.from_catalog(replace(catalog, cards=catalog.cards[:1]))._index  # noqa: B018
    vocabulary = time.perf_counter() - started  # search's glossary and areas, once a process
    started = time.perf_counter()
    directory = Directory.from_catalog(big)
    directory._index.scorer  # build the lookups now, not on the first sentence  # noqa: B018
    build = time.perf_counter() - started
    timings = []
    for case in cases:
        started = time.perf_counter()
        parse_referral(case["text"], case["as"], directory)
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    parse_referral(PLAIN, cases[0]["as"] if cases else "", directory)
    plain = time.perf_counter() - started
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))] if timings else 0.0
    print(f"referral parsing on {args.content} grown to {len(big.cards)} cards")
    print(f"  vocabulary   {vocabulary:.2f} s (once per process)")
    print(f"  build        {build:.2f} s")
    print(f"  median       {1000 * statistics.median(timings):.1f} ms ({len(timings)} sentences)")
    print(f"  p95          {1000 * p95:.1f} ms")
    print(f"  plain        {1000 * plain:.1f} ms")


if __name__ == "__main__":
    main()
