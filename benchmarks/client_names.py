"""Known clients found in referral sentences: CPU per sentence over load.py's clients.

    python benchmarks/client_names.py [--clients 2000]

`load.py`'s clients (four words and "Ltd", 720 of them starting "North") in the referral
parser's client index (`bot._understand.clients.client_index`), one `load.py` referral
sentence naming each: printed are the thread's CPU µs per sentence (`ClientForms.matches`)
at each client's first mention, then over three more passes, and the load average.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import CLIENT_WORDS  # noqa: E402

from bot._understand.clients import client_index  # noqa: E402
from bot.catalog import ClientRecord  # noqa: E402


def per_sentence(sentences: list[str], find: Callable[[str], object], passes: int = 1) -> float:
    """The thread's CPU µs per sentence over `passes` passes."""
    started = time.thread_time()
    for _ in range(passes):
        for sentence in sentences:
            find(sentence)
    return (time.thread_time() - started) / len(sentences) / passes * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    count = parser.parse_args().clients
    names = [f"{' '.join(words)} Ltd" for words in itertools.product(*CLIENT_WORDS)][:count]
    sentences = [f"I referred {name} to Priya Shah for Employment law" for name in names]
    forms = client_index([ClientRecord(name=name) for name in names])
    first = per_sentence(sentences, forms.matches)
    again = per_sentence(sentences, forms.matches, passes=3)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()[:2])
    print(f"{len(names)} clients, load average {load}")
    print(f"  CPU µs per sentence: first mention {first:7.1f}  again {again:7.1f}")


if __name__ == "__main__":
    main()
