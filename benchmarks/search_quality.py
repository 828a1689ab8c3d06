"""Search quality on a firm's `queries.jsonl`: Crossbot against a plain rank-bm25 baseline.

    python benchmarks/search_quality.py --content ../shared/eval/devset [--misses]

A question is answered correctly when an expected card is in the top 3 or, for a question the
firm doesn't cover (empty `expect`), when nothing is returned. hit@1, hit@3 and MRR are over
the questions that have an expected card; no-match accuracy over those that don't.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog import Card, read_folder  # noqa: E402
from bot.search import SearchIndex, load_vocabulary  # noqa: E402

Ranker = Callable[[str], list[str]]


def crossbot(folder: Path, keep: set[str] | None = None) -> Ranker:
    catalog, _ = read_folder(folder)
    if keep is not None:
        catalog.cards = [c for c in catalog.cards if c.id in keep]
    glossary, areas = load_vocabulary(folder)
    index = SearchIndex.build(catalog.cards, catalog.people, catalog.clients, glossary, areas)
    return lambda q: [m.card.id for m in index.search(q, limit=3).matches]


def bm25(folder: Path, keep: set[str] | None = None) -> Ranker:
    from rank_bm25 import BM25Okapi

    catalog, _ = read_folder(folder)
    cards: list[Card] = [c for c in catalog.cards if keep is None or c.id in keep]
    tokens = [_tokens(" ".join([c.title, c.team, *c.aliases, *c.sections.values()])) for c in cards]
    model = BM25Okapi(tokens)

    def rank(q: str) -> list[str]:
        scores = model.get_scores(_tokens(q))
        order = sorted(range(len(cards)), key=lambda i: -scores[i])
        return [cards[i].id for i in order[:3]]

    return rank


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def evaluate(rank: Ranker, queries: list[dict]) -> dict:
    right = hit1 = hit3 = 0
    rr = 0.0
    answerable = nomatch_total = nomatch_right = 0
    misses = []
    for item in queries:
        got = rank(item["q"])
        expect = set(item["expect"])
        if not expect:
            nomatch_total += 1
            ok = not got
            nomatch_right += ok
        else:
            answerable += 1
            ranks = [n for n, card in enumerate(got, 1) if card in expect]
            first = ranks[0] if ranks else None
            hit1 += first == 1
            hit3 += first is not None and first <= 3
            rr += 1 / first if first else 0.0
            ok = first is not None and first <= 3
        right += ok
        if not ok:
            misses.append({"q": item["q"], "expect": item["expect"], "got": got})
    return {
        "overall": right / len(queries),
        "hit@1": hit1 / max(1, answerable),
        "hit@3": hit3 / max(1, answerable),
        "mrr": rr / max(1, answerable),
        "no-match": nomatch_right / max(1, nomatch_total),
        "misses": misses,
    }


def split_halves(folder: Path, queries: list[dict]) -> dict[str, dict]:
    """Each system on two half-firms (alternate cards), figures averaged over the halves."""
    catalog, _ = read_folder(folder)
    ids = sorted(c.id for c in catalog.cards)
    halves = [set(ids[0::2]), set(ids[1::2])]
    results: dict[str, dict] = {}
    for name, system in (("crossbot", crossbot), ("rank-bm25", bm25)):
        runs = []
        for keep in halves:
            adjusted = [
                {"q": q["q"], "expect": [c for c in q["expect"] if c in keep]} for q in queries
            ]
            runs.append(evaluate(system(folder, keep), adjusted))
        results[name] = {key: sum(r[key] for r in runs) / 2 for key in runs[0] if key != "misses"}
        results[name]["misses"] = runs[0]["misses"] + runs[1]["misses"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--content", type=Path, required=True, help="firm folder with queries.jsonl"
    )
    parser.add_argument("--queries", type=Path, help="questions file (default: DIR/queries.jsonl)")
    parser.add_argument("--misses", action="store_true", help="list the baseline's misses too")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--split",
        action="store_true",
        help="held-out estimate: keep half the cards (each half in turn); questions about the "
        "other half must then get no match",
    )
    args = parser.parse_args()
    lines = (
        (args.queries or args.content / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    )
    queries = [json.loads(line) for line in lines if line.strip()]
    if args.split:
        results = split_halves(args.content, queries)
    else:
        results = {
            "crossbot": evaluate(crossbot(args.content), queries),
            "rank-bm25": evaluate(bm25(args.content), queries),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{len(queries)} questions from {args.content}")
    print(f"{'':10} {'overall':>8} {'hit@1':>7} {'hit@3':>7} {'MRR':>7} {'no-match':>9}")
    for name, r in results.items():
        print(
            f"{name:10} {r['overall']:8.3f} {r['hit@1']:7.3f} {r['hit@3']:7.3f} "
            f"{r['mrr']:7.3f} {r['no-match']:9.3f}"
        )
    for name, r in results.items():
        if name != "crossbot" and not args.misses:
            continue
        print(f"\n{name} misses ({len(r['misses'])}):")
        for miss in r["misses"]:
            expected, got = miss["expect"] or "no match", miss["got"] or "no match"
            print(f"  - {miss['q']!r} expected {expected}, got {got}")


if __name__ == "__main__":
    main()
