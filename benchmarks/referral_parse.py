"""Referral parsing benchmark: accuracy per field and per whole record on a firm's referrals.jsonl.

    python benchmarks/referral_parse.py --content ../shared/eval/devset

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, required=True, help="the firm's content folder")
    parser.add_argument("--quiet", action="store_true", help="figures only, no misses")
    args = parser.parse_args(argv)
    directory = Directory.from_catalog(load_catalog(args.content))
    lines = (args.content / "referrals.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    right = dict.fromkeys(FIELDS, 0)
    whole = 0
    misses: list[str] = []
    for case in cases:
        got = parse_referral(case["text"], case["as"], directory).as_json()
        wrong = [f for f in FIELDS if not same(f, case["expect"].get(f), got[f])]
        for field in FIELDS:
            right[field] += field not in wrong
        whole += not wrong
        for field in wrong:
            misses.append(
                f"{field:8} want {case['expect'].get(field)!r:34} got {got[field]!r:34}"
                f" | {case['text'][:90]}"
            )
    total = max(len(cases), 1)
    print(f"referral parsing on {args.content} ({len(cases)} records)")
    for field in FIELDS:
        print(f"  {field:9} {right[field] / total:.3f}")
    print(f"  {'record':9} {whole / total:.3f}")
    if misses and not args.quiet:
        print(f"\nmisses ({len(misses)}):")
        print("\n".join(f"  {m}" for m in misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
