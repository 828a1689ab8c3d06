"""Building search and the parser's card scorer at scale: one tokenisation, exact pruning."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot._search import tokens
from bot._search.index import FieldIndex
from bot.catalog import Card, load_catalog
from bot.dialogs.whodoes import build_index
from bot.search import FIELD_WEIGHTS
from bot.understand import Directory, KeywordCardScorer, infer_card
from tests.conftest import SAMPLE_CONTENT


def test_a_content_build_tokenises_each_card_once() -> None:
    catalog = load_catalog(SAMPLE_CONTENT)
    tokens.forget()
    before = tokens.builds
    index = build_index(catalog)
    directory = Directory.from_catalog(catalog)
    assert infer_card("their TUPE transfer next month", directory) == "employment"
    assert index.search("who handles redundancies?").found
    assert tokens.builds == before + 1  # the scorer read what search tokenised
    KeywordCardScorer(catalog.cards[1:])  # other cards: tokenised afresh
    assert tokens.builds == before + 2


def test_the_shared_tokens_are_the_cards_words() -> None:
    card = Card(
        "tax",
        "Corporate Tax",
        "Tax",
        ("a@firm.example",),
        aliases=("R&D relief",),
        sections={
            "what_we_do": "We file returns. And claim reliefs!\n- Group relief",
            "situations": "- A contested will\n- The client will sell",
        },
    )
    found = tokens.card_tokens([card])
    segments = [
        (tokens.FIELDS[field], [found.words[w] for w in found.tokens[start:end]])
        for field, start, end in zip(
            found.segment_field, np.r_[0, found.segment_end[:-1]], found.segment_end, strict=True
        )
    ]
    assert ("title", ["corporate", "tax"]) in segments
    assert ("aliases", ["rd", "relief"]) in segments
    assert ("what_we_do", ["we", "file", "returns"]) in segments
    assert ("what_we_do", ["and", "claim", "reliefs"]) in segments
    assert ("what_we_do", ["group", "relief"]) in segments
    assert ("situations", ["a", "contested", "wills"]) in segments  # the document
    assert ("situations", ["the", "client", "will", "sell"]) in segments  # the verb
    stems = {found.words[w]: s for w, s in enumerate(found.stem_of.tolist())}
    assert stems["we"] == -1  # a stopword
    assert found.stems[stems["reliefs"]] == found.stems[stems["relief"]] == "relief"


def _firm(cards: int, seed: int) -> list[Card]:
    """Cards whose words follow a Zipf-like law: a few words on most cards, many rare."""
    rng = random.Random(seed)
    vocabulary = [f"w{n}x" for n in range(3000)]
    weights = [1 / (n + 1) for n in range(len(vocabulary))]

    def text(n: int) -> str:
        return " ".join(rng.choices(vocabulary, weights, k=n))

    return [
        Card(
            f"card-{n}",
            text(3),
            f"team {n % 7}",
            ("a@firm.example",),
            aliases=(text(2),),
            sections={"what_we_do": f"{text(25)}. {text(15)}", "situations": text(20)},
        )
        for n in range(cards)
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_pruned_top_k_is_the_exhaustive_top_k(seed: int) -> None:
    rng = random.Random(seed)
    cards = _firm(1200, seed)
    index = FieldIndex(tokens.card_tokens(cards), FIELD_WEIGHTS)
    common = [f"w{n}x" for n in range(12)]  # on most cards: their postings are long
    pruned = 0
    for _ in range(150):
        asked = rng.sample(common, rng.randint(1, 3)) + [
            f"w{rng.randint(12, 2999)}x" for _ in range(rng.randint(0, 4))
        ]
        weights = {term: rng.choice((1.0, 1.0, 0.5, 0.35)) for term in asked}
        query = _split(weights, rng)
        prior = np.zeros(len(cards), dtype=np.float32)
        some = rng.sample(range(len(cards)), rng.randint(0, 200))
        prior[some] = 0.8 * np.asarray([rng.random() for _ in some], dtype=np.float32)
        bonus = set(rng.sample(range(len(cards)), rng.randint(0, 2)))
        for k in (1, 3, 10):
            fast = index.top(query, k, prior, bonus, 1.0, prune=True)
            slow = index.top(query, k, prior, bonus, 1.0, prune=False)  # parts kept after k=1
            assert fast.docs.tolist() == slow.docs.tolist()
            assert fast.scores.tobytes() == slow.scores.tobytes()  # to the last bit
            assert fast.best == slow.best
            pruned += fast.pruned
    assert pruned >= 150  # most questions skipped a long posting: the test tests pruning


def test_long_postings_kept_as_full_rows_score_as_the_postings_do() -> None:
    rng = random.Random(3)
    cards = _firm(600, 3)
    index = FieldIndex(tokens.card_tokens(cards), FIELD_WEIGHTS)
    sparse = FieldIndex(tokens.card_tokens(cards), FIELD_WEIGHTS)
    sparse._dense = {}  # every posting scattered, as before the full rows
    assert index._dense  # the common words' postings are long enough to be rows
    for _ in range(40):
        asked = rng.sample([f"w{n}x" for n in range(12)], 2) + [f"w{rng.randint(12, 2999)}x"]
        query = {term: rng.choice((1.0, 0.5, 0.35)) for term in asked}
        prior = np.zeros(len(cards), dtype=np.float32)
        dense, scattered = (i.top([query], 5, prior, {7}, 1.0, False) for i in (index, sparse))
        assert dense.docs.tolist() == scattered.docs.tolist()
        assert dense.scores.tobytes() == scattered.scores.tobytes()  # to the last bit
        for term in asked:  # a full row and a posting hold the same documents
            held = [doc for doc in range(len(cards)) if index.contains(term, doc)]
            assert held == [doc for doc in range(len(cards)) if sparse.contains(term, doc)]


def test_a_query_part_kept_scores_as_summed_afresh_and_the_kept_parts_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot._search.index._PART_BYTES", 3 * 4 * 600)  # three rows of 600
    rng = random.Random(4)
    index = FieldIndex(tokens.card_tokens(_firm(600, 4)), FIELD_WEIGHTS)
    words = [f"w{n}x" for n in range(12)] + [f"w{n}x" for n in range(12, 40)]
    asked = [_split({t: rng.choice((1.0, 0.5, 0.35)) for t in rng.sample(words, 5)}, rng)]
    asked += [asked[0]] * 3 + [_split({t: 1.0 for t in rng.sample(words, 4)}, rng)]
    for query in asked * 4:
        kept = index.scores(query)
        index._parts.clear()
        assert kept.tobytes() == index.scores(query).tobytes()  # to the last bit
        assert 0 < len(index._parts) <= 3


def test_postings_scattered_together_score_as_added_one_by_one() -> None:
    rng = random.Random(5)
    index = FieldIndex(tokens.card_tokens(_firm(600, 5)), FIELD_WEIGHTS)
    words = [f"w{n}x" for n in range(60)]
    for _ in range(40):
        asked = {t: rng.choice((1.0, 0.5, 0.35)) for t in rng.sample(words, rng.randint(1, 12))}
        query = _split(asked, rng)
        index._parts.clear()
        assert index.scores(query).tobytes() == _one_by_one(index, query).tobytes()


def _one_by_one(index: FieldIndex, query: list[dict[str, float]]) -> np.ndarray:
    """BM25F scores as the index adds them (each part's terms by weight, then id; the
    terms of a weight summed, then weighted), each posting added on its own."""
    total = np.zeros(index.size, dtype=np.float32)
    for part in query:
        held = sorted((w, index.term_ids[t]) for t, w in part.items() if t in index.term_ids)
        summed = np.zeros(index.size, dtype=np.float32)
        for weight in sorted({w for w, _ in held}):
            alike = np.zeros(index.size, dtype=np.float32)
            for _, tid in (term for term in held if term[0] == weight):
                docs, weights = index._row(tid)
                np.add.at(alike, docs, weights)
            summed += alike if weight == 1 else weight * alike
        total += summed
    return total


def _split(weights: dict[str, float], rng: random.Random) -> list[dict[str, float]]:
    """A query's weighted terms in one to three parts, as a question's words split them."""
    parts: list[dict[str, float]] = [{} for _ in range(rng.randint(1, 3))]
    for term, weight in weights.items():
        rng.choice(parts)[term] = weight
    return parts
