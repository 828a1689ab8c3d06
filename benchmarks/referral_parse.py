"""Referral parsing benchmark: accuracy per field and per whole record on a firm's referrals.jsonl.

    python benchmarks/referral_parse.py --content ../shared/eval/devset ../shared/eval/devset2

Each folder is scored with its own firm.yaml (currency, time zone); the output gives every
field and the whole record per firm, the worst field of each, and the worst over all.

A field is correct when it equals the parse; clients are compared case-insensitively,
ignoring punctuation and legal suffixes (Ltd, LLP, plc, Inc), as CONTENT_FORMAT.md says.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog import load_catalog  # noqa: E402
from bot.understand import Directory, parse_referral  # noqa: E402

FIELDS = ("client", "receiver", "card", "value", "currency")
_SUFFIX = re.compile(r"\b(?:ltd|limited|llp|plc|inc)\b\.?", re.IGNORECASE)


def client_key(name: object) -> object:
    if not isinstance(name, str):
        return name
    folded = _SUFFIX.sub(" ", name.casefold())
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def same(field: str, expected: object, got: object) -> bool:
    if field == "client":
        return client_key(expected) == client_key(got)
    if field == "value" and expected is not None and got is not None:
        return abs(float(expected) - float(got)) < 0.005  # type: ignore[arg-type]
    return expected == got


def score(folder: Path) -> tuple[dict[str, float], list[str]]:
    """Per-field and whole-record accuracy on one firm, and the misses."""
    directory = Directory.from_catalog(load_catalog(folder))
    lines = (folder / "referrals.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    right = dict.fromkeys((*FIELDS, "record"), 0)
    misses: list[str] = []
    for case in cases:
        got = parse_referral(case["text"], case["as"], directory).as_json()
        wrong = [f for f in FIELDS if not same(f, case["expect"].get(f), got[f])]
        for field in FIELDS:
            right[field] += field not in wrong
        right["record"] += not wrong
        for field in wrong:
            misses.append(
                f"{field:8} want {case['expect'].get(field)!r:34} got {got[field]!r:34}"
                f" | {case['text'][:90]}"
            )
    total = max(len(cases), 1)
    return {name: count / total for name, count in right.items()}, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--content",
        type=Path,
        required=True,
        nargs="+",
        action="extend",
        help="one or more firms' content folders (each with a referrals.jsonl)",
    )
    parser.add_argument("--quiet", action="store_true", help="figures only, no misses")
    args = parser.parse_args(argv)
    worst: tuple[float, str, str] = (2.0, "", "")
    for folder in args.content:
        figures, misses = score(folder)
        print(f"referral parsing on {folder}")
        for name, figure in figures.items():
            print(f"  {name:9} {figure:.3f}")
        field, figure = min(((f, figures[f]) for f in FIELDS), key=lambda pair: pair[1])
        print(f"  worst field: {field} {figure:.3f}")
        worst = min(worst, (figure, field, str(folder)))
        if misses and not args.quiet:
            print(f"\nmisses ({len(misses)}):")
            print("\n".join(f"  {m}" for m in misses))
        print()
    if len(args.content) > 1:
        print(f"worst field over all firms: {worst[1]} {worst[0]:.3f} on {worst[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
