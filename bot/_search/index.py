"""A BM25F index over the fields of many documents, scored with numpy."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from bot._search.tokens import FIELDS, CardTokens

K1 = 1.2
B = 0.6


class FieldIndex:
    """BM25F: per-field weighted, length-normalised term frequencies, saturated once per term.

    Term weights are precomputed per (term, document) and stored term by term in three
    flat arrays (compressed rows: documents int32, weights float32, row starts), so a query
    costs one vectorised add per query term, whatever the number of documents.
    """

    def __init__(self, tokens: CardTokens, weights: Mapping[str, float]):
        self.size = size = tokens.cards
        stems = tokens.stem_tokens()
        segments = tokens.token_segments()
        docs = tokens.segment_card[segments].astype(np.int64)
        fields = tokens.segment_field[segments].astype(np.int64)
        field_weight = np.array([weights.get(f, 0.0) for f in FIELDS], dtype=np.float64)
        kept = (stems >= 0) & (field_weight[fields] > 0)
        stems, docs, fields = stems[kept], docs[kept], fields[kept]
        # Each (document, field)'s length, and each field's average over the documents.
        lengths = np.bincount(docs * len(FIELDS) + fields, minlength=size * len(FIELDS))
        lengths = lengths.reshape(size, len(FIELDS)).astype(np.float64)
        average = np.maximum(1.0, lengths.sum(axis=0) / max(1, size))
        norm = field_weight / (1 - B + B * lengths / average)
        # Every (term, document) pair's weighted frequency at once: one sort, one bincount.
        keys = stems.astype(np.int64) * max(1, size) + docs
        order = np.argsort(keys, kind="stable")  # within a pair, in the order of the text
        ordered = keys[order]
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        pairs = ordered[first]
        tf = np.bincount(np.cumsum(first) - 1, weights=norm[docs, fields][order])
        del keys, order, ordered, first, docs, fields
        terms = pairs // max(1, size)
        self.docs = (pairs % max(1, size)).astype(np.int32)
        counts = np.bincount(terms, minlength=len(tokens.stems))
        idf = np.log(1 + (size - counts + 0.5) / (counts + 0.5))
        self.weights = (np.repeat(idf, counts) * tf * (K1 + 1) / (K1 + tf)).astype(np.float32)
        self.starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        present = np.flatnonzero(counts)
        self.term_ids = {tokens.stems[t]: int(t) for t in present}
        self.idf = idf
        # The most any one document gets from each term: bounds for pruning (`best`).
        self.ceiling = np.zeros(len(counts), dtype=np.float32)
        if len(present):
            self.ceiling[present] = np.maximum.reduceat(self.weights, self.starts[present])
        self.max_idf = math.log(1 + (size + 0.5) / 0.5)

    @property
    def terms(self) -> Iterable[str]:
        """Every term some document has."""
        return self.term_ids.keys()

    def has(self, term: str) -> bool:
        return term in self.term_ids

    def posting(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The documents that have the term (ascending) and its weight in each, or None."""
        tid = self.term_ids.get(term)
        if tid is None:
            return None
        lo, hi = self.starts[tid], self.starts[tid + 1]
        return self.docs[lo:hi], self.weights[lo:hi]

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """BM25F score of every document for weighted query terms."""
        total = np.zeros(self.size, dtype=np.float32)
        for term, weight in query.items():
            posting = self.posting(term)
            if posting is not None:
                # `add.at` adds in one pass (numpy ≥ 1.25): a third of `total[docs] += ...`
                # at 20,000 cards, where a question's terms reach most of them
                np.add.at(total, posting[0], posting[1] if weight == 1 else weight * posting[1])
        return total

    def frequency(self, term: str) -> int:
        """How many documents have the term."""
        tid = self.term_ids.get(term)
        return 0 if tid is None else int(self.starts[tid + 1] - self.starts[tid])

    def contains(self, term: str, doc: int) -> bool:
        posting = self.posting(term)
        if posting is None:
            return False
        docs = posting[0]  # sorted: one binary search
        at = int(np.searchsorted(docs, doc))
        return at < len(docs) and int(docs[at]) == doc

    def term_idf(self, term: str) -> float:
        """idf of a term; a term no document has counts as the rarest."""
        tid = self.term_ids.get(term)
        return self.max_idf if tid is None else float(self.idf[tid])
