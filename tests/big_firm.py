"""A large firm for size tests: the sample firm plus 150 generated cards of about 50 KB.

Deterministic (a seeded generator), written on the fly: no shared data needed. Card n is
titled "Card n <service>", so type-ahead for "card 123" has exactly one obvious answer.
Some sections start with blank lines or are one long line without breaks, the shapes that
once produced empty or oversized Slack sections.
"""

from __future__ import annotations

import random
from pathlib import Path

from tests import firm

CARDS = 150
CARD_BYTES = 50_000
OWNERS = (
    "priya.shah@hartwellfinch.example",
    "owen.gallagher@hartwellfinch.example",
    "sam.patel@hartwellfinch.example",
)
_WORDS = (
    "client board merger employment pension dispute contract property lease tax audit "
    "restructuring data privacy regulator tribunal settlement licence planning finance "
    "acquisition disposal claim review advice strategy risk compliance governance supplier"
).split()
_SERVICES = ("advisory", "disputes", "transactions", "compliance", "reviews", "training")


def _paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _section(rng: random.Random, size: int, shape: int) -> str:
    if shape == 0:  # one line, no breaks at all
        return _paragraph(rng, size // 7)
    parts: list[str] = []
    while sum(len(p) for p in parts) < size:
        if shape == 1:
            parts.append("- " + _paragraph(rng, rng.randint(8, 30)))
        else:
            parts.append(_paragraph(rng, rng.randint(30, 120)))
    body = ("\n" if shape == 1 else "\n\n").join(parts)
    return "\n\n\n" + body if shape == 2 else body  # blank lines first


def write_big_firm(tmp_path: Path, cards: int = CARDS, size: int = CARD_BYTES) -> Path:
    """The sample firm's folder with `cards` extra cards of about `size` characters each."""
    folder = firm.copy_sample(tmp_path)
    rng = random.Random(18)
    for n in range(1, cards + 1):
        service = _SERVICES[n % len(_SERVICES)]
        title = f"Card {n} {service}"
        owners = OWNERS[n % len(OWNERS)]
        sections = [_section(rng, size // len(firm.SECTIONS), (n + i) % 3) for i in range(5)]
        body = "\n\n".join(f"## {h}\n{t}" for h, t in zip(firm.SECTIONS, sections, strict=True))
        (folder / "cards" / f"card-{n}.md").write_text(
            f"---\nid: card-{n}\ntitle: {title}\nteam: Employment\nowners: [{owners}]\n"
            f"aliases: [generated {service} {n}]\n---\n# {title}\n\n{body}\n",
            encoding="utf-8",
        )
    return folder
