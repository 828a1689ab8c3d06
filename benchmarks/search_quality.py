"""Search quality on one or more firms' `queries.jsonl`: Crossbot beside a plain rank-bm25.

    python benchmarks/search_quality.py ../shared/eval/devset ../shared/eval/devset2 [--misses]
    python benchmarks/search_quality.py --content A --content B --fit A   # fit on A, score on B
    python benchmarks/search_quality.py --content A --split               # held-out halves

A question is answered correctly when an expected card is in the top 3 or, for a question the
firm doesn't cover (empty `expect`), when nothing is returned. hit@1, hit@3 and MRR are over
the questions that have an expected card; no-match accuracy over those that don't.

Several firms in one run print each firm's figures, then their mean and worst: the engine is
meant to transfer to firms it was never tuned on, so the worst firm matters as much as the
mean. The one figure the engine could learn from data, the evidence floor (the share of a
question's informative words the top card must explain), is fixed in the code; `--fit`
shows what fitting it on some firms and scoring the others would give instead.
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
from bot.search import EVIDENCE_FLOOR, SearchIndex, load_vocabulary  # noqa: E402

Ranker = Callable[[str], list[str]]
FIGURES = ("overall", "hit@1", "hit@3", "mrr", "no-match")
FLOORS = [round(0.05 * n, 2) for n in range(0, 15)]


def crossbot(folder: Path, keep: set[str] | None = None, floor: float | None = None) -> Ranker:
    index = _index(folder, keep)
    if floor is not None:
        index.evidence_floor = floor
    return lambda q: [m.card.id for m in index.search(q, limit=3).matches]


def _index(folder: Path, keep: set[str] | None = None) -> SearchIndex:
    catalog, _ = read_folder(folder)
    if keep is not None:
        catalog.cards = [c for c in catalog.cards if c.id in keep]
    glossary, areas = load_vocabulary(folder)
    return SearchIndex.build(catalog.cards, catalog.people, catalog.clients, glossary, areas)


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
        results[name] = {key: sum(r[key] for r in runs) / 2 for key in FIGURES}
        results[name]["misses"] = runs[0]["misses"] + runs[1]["misses"]
    return results


def fit_floor(firms: dict[str, list[dict]], folders: dict[str, Path]) -> float:
    """The evidence floor with the best mean overall accuracy on `firms` (ties: the lowest)."""
    indexes = {name: _index(folders[name]) for name in firms}
    best = (-1.0, 0.0)
    for floor in FLOORS:
        scores = []
        for name, queries in firms.items():
            indexes[name].evidence_floor = floor
            index = indexes[name]
            rank: Ranker = lambda q, i=index: [m.card.id for m in i.search(q).matches]  # noqa: E731
            scores.append(evaluate(rank, queries)["overall"])
        mean = sum(scores) / len(scores)
        if mean > best[0] + 1e-9:
            best = (mean, floor)
    return best[1]


def _queries(folder: Path, path: Path | None = None) -> list[dict]:
    lines = (path or folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _row(name: str, r: dict) -> str:
    return (
        f"  {name:12} {r['overall']:8.3f} {r['hit@1']:7.3f} {r['hit@3']:7.3f} "
        f"{r['mrr']:7.3f} {r['no-match']:9.3f}"
    )


def _header() -> str:
    return f"  {'':12} {'overall':>8} {'hit@1':>7} {'hit@3':>7} {'MRR':>7} {'no-match':>9}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="firm folders with queries.jsonl")
    parser.add_argument(
        "--content", type=Path, action="append", default=[], help="a firm folder (repeatable)"
    )
    parser.add_argument("--queries", type=Path, help="questions file (one firm only)")
    parser.add_argument("--misses", action="store_true", help="list the baseline's misses too")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--split",
        action="store_true",
        help="held-out estimate: keep half the cards (each half in turn); questions about the "
        "other half must then get no match",
    )
    parser.add_argument(
        "--fit",
        action="append",
        default=[],
        metavar="NAME",
        help="fit the evidence floor on these firms (folder names) and score the others with it",
    )
    args = parser.parse_args()
    folders = {f.name: f for f in [*args.folders, *args.content]}
    if not folders:
        parser.error("name at least one content folder")
    queries = {
        name: _queries(f, args.queries if len(folders) == 1 else None)
        for name, f in folders.items()
    }
    results: dict[str, dict[str, dict]] = {}
    for name, folder in folders.items():
        if args.split:
            results[name] = split_halves(folder, queries[name])
        else:
            results[name] = {
                "crossbot": evaluate(crossbot(folder), queries[name]),
                "rank-bm25": evaluate(bm25(folder), queries[name]),
            }
    summary = _summary(results)
    fitted = _fitted(args.fit, folders, queries) if args.fit else None
    if args.json:
        print(json.dumps({"firms": results, "summary": summary, "fit": fitted}, indent=2))
        return
    for name, firm in results.items():
        print(f"{name}: {len(queries[name])} questions from {folders[name]}")
        print(_header())
        for system, r in firm.items():
            print(_row(system, r))
    if len(results) > 1:
        print(f"all {len(results)} firms")
        print(_header())
        for label, r in summary.items():
            print(_row(label, r))
    if fitted:
        print(
            f"evidence floor fitted on {', '.join(fitted['fit_on'])}: {fitted['floor']:.2f} "
            f"(shipped {EVIDENCE_FLOOR:.2f}); scored on the others"
        )
        print(_header())
        for name, pair in fitted["scored"].items():
            print(_row(f"{name} fit", pair["fitted"]))
            print(_row(f"{name} ship", pair["shipped"]))
    for name, firm in results.items():
        for system, r in firm.items():
            if system != "crossbot" and not args.misses:
                continue
            print(f"\n{name}, {system} misses ({len(r['misses'])}):")
            for miss in r["misses"]:
                expected, got = miss["expect"] or "no match", miss["got"] or "no match"
                print(f"  - {miss['q']!r} expected {expected}, got {got}")


def _summary(results: dict[str, dict[str, dict]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for system in ("crossbot", "rank-bm25"):
        rows = [firm[system] for firm in results.values()]
        out[f"{system} mean"] = {k: sum(r[k] for r in rows) / len(rows) for k in FIGURES}
        out[f"{system} worst"] = {k: min(r[k] for r in rows) for k in FIGURES}
    return out


def _fitted(
    fit_on: list[str], folders: dict[str, Path], queries: dict[str, list[dict]]
) -> dict[str, object]:
    unknown = [name for name in fit_on if name not in folders]
    if unknown:
        raise SystemExit(f"--fit names a firm not in this run: {', '.join(unknown)}")
    floor = fit_floor({n: queries[n] for n in fit_on}, folders)
    scored = {}
    for name in folders:
        if name in fit_on:
            continue
        scored[name] = {
            "fitted": _figures(evaluate(crossbot(folders[name], floor=floor), queries[name])),
            "shipped": _figures(evaluate(crossbot(folders[name]), queries[name])),
        }
    return {"fit_on": fit_on, "floor": floor, "scored": scored}


def _figures(r: dict) -> dict:
    return {k: r[k] for k in FIGURES}


if __name__ == "__main__":
    main()
