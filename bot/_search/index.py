"""A BM25F index over the fields of many documents, scored with numpy."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import groupby
from typing import NamedTuple

import numpy as np

from bot._search.tokens import FIELDS, CardTokens

K1 = 1.2
B = 0.6
_PRUNE_FROM = 5_000  # documents: below this, scoring them all is as quick
_LONG = 16  # a posting holding this share of the documents (1/16) is worth skipping
_MARGIN = 1 + 1e-4  # float32 sums may round up a little: bounds are taken this much larger
_SLACK = 1e-4
_GROUPS = 32  # `_top` bounds the k-th best score by the best of each of this many columns
_DENSE = 8  # a posting holding this share of the documents (1/8) is also kept as a full row
_PART_BYTES = 32 * 2**20  # the summed rows of recent query parts, at most (then they start again)

Part = tuple[tuple[int, float], ...]  # a query part's (term id, weight)s, by weight and id


class Ranking(NamedTuple):
    """The best documents, best first, their scores (float32), the best lexical score, and
    whether the long postings were skipped."""

    docs: np.ndarray
    scores: np.ndarray
    best: float
    pruned: bool = False


class FieldIndex:
    """BM25F: per-field weighted, length-normalised term frequencies, saturated once per term.

    Term weights are precomputed per (term, document) and stored term by term in three
    flat arrays (compressed rows: documents int32, weights float32, row starts), so a query
    costs one vectorised add per query term, whatever the number of documents, and one per
    part of it already asked (its summed row is kept).
    """

    def __init__(self, tokens: CardTokens, weights: Mapping[str, float]):
        self.size = size = tokens.cards
        field_weight = np.array([weights.get(f, 0.0) for f in FIELDS], dtype=np.float64)
        # Each token's (document, field) as one int32; int64 only where the term joins it.
        segment_place = tokens.segment_card * len(FIELDS) + tokens.segment_field
        segment_place[field_weight[tokens.segment_field] == 0] = -1  # a field not indexed
        places = segment_place[tokens.token_segments()]
        stems = tokens.stem_tokens()
        kept = (stems >= 0) & (places >= 0)
        stems, places = stems[kept], places[kept]
        del kept
        # Each (document, field)'s length, and each field's average over the documents.
        lengths = np.bincount(places, minlength=size * len(FIELDS))
        lengths = lengths.reshape(size, len(FIELDS)).astype(np.float64)
        average = np.maximum(1.0, lengths.sum(axis=0) / max(1, size))
        norm = (field_weight / (1 - B + B * lengths / average)).ravel()
        # Every (term, document) pair's weighted frequency at once: one sort, one bincount.
        # Sorted by (term, document, field), a pair's tokens come in the order of the text
        # (a card's fields are stored in order), so the sums are the text order's.
        span = max(1, size) * len(FIELDS)
        keys = stems.astype(np.int64)
        del stems
        keys *= span
        keys += places
        del places
        keys.sort()
        place = (keys % span).astype(np.int32)
        keys //= len(FIELDS)  # (term, document)
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        pairs = keys[first]
        del keys
        group = np.cumsum(first, dtype=np.int32)
        group -= 1
        del first
        tf = np.bincount(group, weights=norm[place])
        del group, place
        terms = pairs // max(1, size)
        self.docs = (pairs % max(1, size)).astype(np.int32)
        counts = np.bincount(terms, minlength=len(tokens.stems))
        idf = np.log(1 + (size - counts + 0.5) / (counts + 0.5))
        self.weights = (np.repeat(idf, counts) * tf * (K1 + 1) / (K1 + tf)).astype(np.float32)
        self.starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        # ...and as Python ints: a question slices a posting per term, and a numpy scalar
        # index costs several times a list's
        self._bounds: list[int] = self.starts.tolist()
        present = np.flatnonzero(counts)
        self.term_ids = {tokens.stems[t]: int(t) for t in present}
        self.idf = idf
        # The most any one document gets from each term: bounds for pruning (`best`).
        self.ceiling = np.zeros(len(counts), dtype=np.float32)
        if len(present):
            self.ceiling[present] = np.maximum.reduceat(self.weights, self.starts[present])
        self.max_idf = math.log(1 + (size + 0.5) / 0.5)
        # per term, as Python values: `_pruned` decides from them whether skipping can pay
        self._long: list[bool] = (counts * _LONG >= size).tolist()
        self._ceilings: list[float] = self.ceiling.tolist()
        self._dense = self._dense_rows(counts)
        self._parts: dict[Part, np.ndarray] = {}  # a part's summed row, read-only
        self._part_limit = max(1, _PART_BYTES // (4 * max(1, size)))

    def _dense_rows(self, counts: np.ndarray) -> dict[int, np.ndarray]:
        """The long postings as full rows (zero where a document hasn't the term): adding a
        row is one contiguous add, several times quicker than scattering a long posting,
        and adding zero changes no sum, so the scores are the same to the last bit."""
        long = np.flatnonzero(counts * _DENSE >= max(1, self.size)).tolist()
        rows = np.zeros((len(long), self.size), dtype=np.float32)
        for row, tid in zip(rows, long, strict=True):
            docs, weights = self._row(tid)
            row[docs] = weights
        return dict(zip(long, rows, strict=True))

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
        return self._row(tid)

    def scores(self, query: Sequence[Mapping[str, float]]) -> np.ndarray:
        """BM25F score of every document for a query in parts of weighted terms."""
        return self._scored(self._ids(query))

    def _ids(self, query: Sequence[Mapping[str, float]]) -> list[Part]:
        """Each part's terms some document has, as (term id, weight) by weight, then id: the
        order of the additions, so a part's sum is the same whichever question it is in."""
        ids = self.term_ids
        parts = (
            tuple(
                sorted(
                    ((t, w) for term, w in part.items() if (t := ids.get(term)) is not None),
                    key=lambda term: (term[1], term[0]),
                )
            )
            for part in query
        )
        return [part for part in parts if part]

    def top(
        self,
        query: Sequence[Mapping[str, float]],
        k: int,
        prior: np.ndarray,
        bonus: Collection[int] | np.ndarray = (),
        bonus_weight: float = 0.0,
        prune: bool | None = None,
    ) -> Ranking:
        """The `k` best documents for `score / best score + prior`, plus `bonus_weight` for
        the documents in `bonus`: best first, earlier documents winning ties.

        A document's score adds up each part of the query (its terms' weights), then the
        parts: a part that recurs (a word and its equivalents, from question to question)
        is one cached row. Pruned (MaxScore): the terms with the longest postings are read
        only for the documents the other terms reach, as long as what they could add to any
        other document provably keeps it out of the top `k`; otherwise every document is
        scored. Either way the answer is the exhaustive one (`prune=False`), to the last
        bit. By default only big indexes prune: below `_PRUNE_FROM` documents scoring all
        is as quick.
        """
        parts, extra = self._ids(query), _docs(bonus)
        if prune or (prune is None and self.size >= _PRUNE_FROM):
            found = self._pruned(parts, k, prior, extra, bonus_weight)
            if found is not None:
                return found
        total = self._scored(parts)  # fresh: normalised and added to in place
        best = float(total.max()) if self.size else 0.0
        total /= max(best, 1e-9)
        total += prior
        total[extra] += bonus_weight
        order = _top(total, max(k, 1))
        return Ranking(order, total[order], best)

    def _scored(self, parts: list[Part]) -> np.ndarray:
        total = np.zeros(self.size, dtype=np.float32)
        postings = _Scatter(total)
        for part in parts:
            if len(part) == 1:  # adding its one term is adding its row: no row to keep
                tid, weight = part[0]
                self._add_term(postings, tid, weight)
            else:
                postings.flush()
                total += self._summed(part)
        postings.flush()
        return total

    def _summed(self, part: Part) -> np.ndarray:
        """A part's row: its terms' weights added up for every document, kept for next time."""
        row = self._parts.get(part)
        if row is None:
            row = self._add(np.zeros(self.size, dtype=np.float32), part)
            row.flags.writeable = False  # shared by the questions that ask it
            if len(self._parts) >= self._part_limit:
                self._parts.clear()  # bounded memory; each row can be summed anew
            self._parts[part] = row
        return row

    def _add(self, total: np.ndarray, part: Part) -> np.ndarray:
        """`total` plus the part (in place): the terms of each weight added up, then that sum
        times the weight, so the glossary's many equivalents cost one add each."""
        for weight, tids in _by_weight(part):
            if len(tids) == 1:  # its sum is its row
                with _Scatter(total) as postings:
                    self._add_term(postings, tids[0], weight)
                continue
            summed = np.zeros(self.size, dtype=np.float32)
            with _Scatter(summed) as postings:
                for tid in tids:
                    self._add_term(postings, tid, 1.0)
            total += summed if weight == 1 else np.multiply(summed, weight, out=summed)
        return total

    def _add_term(self, postings: _Scatter, tid: int, weight: float) -> None:
        """Add a term's weights (times `weight`) to the row `postings` adds to: a short
        posting waits to be scattered with the next ones, a full row is added at once."""
        dense = self._dense.get(tid)
        if dense is None:
            docs, weights = self._row(tid)
            postings.add(docs, weights if weight == 1 else weight * weights)
            return
        postings.flush()
        if weight == 1:
            postings.total += dense
        else:
            postings.total += weight * dense

    def _row(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._bounds[tid], self._bounds[tid + 1]
        return self.docs[lo:hi], self.weights[lo:hi]

    def _pruned(
        self,
        parts: list[Part],
        k: int,
        prior: np.ndarray,
        bonus: np.ndarray,
        bonus_weight: float,
    ) -> Ranking | None:
        """`top` reading the long postings only for the documents that could make the top
        `k`; None when no posting is long enough for that to pay."""
        terms = [term for part in parts for term in part]
        long = {t for t, _ in terms if self._long[t]}
        if not long or len(long) == len({t for t, _ in terms}):
            return None
        # Some document has a short term's ceiling: unless the long terms together could
        # add less than that, they could lift every document, and skipping them can't pay.
        ceilings = self._ceilings
        skipped = sum(weight * ceilings[t] for t, weight in terms if t in long)
        reached = max(weight * ceilings[t] for t, weight in terms if t not in long)
        if skipped * _MARGIN >= reached:
            return None
        # What any document could score: its exact share from the short postings, and at
        # most every long term's ceiling (a bound: it may have none of them).
        partial = np.zeros(self.size, dtype=np.float32)
        with _Scatter(partial) as postings:
            for tid, weight in terms:
                if tid not in long:
                    docs, weights = self._row(tid)
                    postings.add(docs, weights if weight == 1 else weight * weights)
        bound = partial * _MARGIN + skipped * _MARGIN
        # The best score: no document bounded below a score some document has can have it.
        seed = np.array([int(np.argmax(partial))], dtype=np.int64)
        floor = float(self._scored_for(parts, seed)[0])
        near = np.flatnonzero(bound >= floor)
        if len(near) * _LONG > self.size:
            return None  # the long terms could lift too many: scoring all is quicker
        lexical = self._scored_for(parts, near)
        best = max(float(lexical.max()), floor)
        # The k-th best total among those scored so far bounds the top k from below.
        limit = bound / max(best, 1e-9) + prior
        limit[bonus] += bonus_weight
        known = _union(near, bonus)
        if len(known) < k:
            known = _union(known, np.argpartition(-limit, k - 1)[:k])
        totals = self._totals(
            self._scored_for(parts, known), known, best, prior, bonus, bonus_weight
        )
        cut = float(np.partition(totals, len(totals) - k)[len(totals) - k]) - _SLACK
        outside = limit >= cut
        outside[known] = False
        rest = np.flatnonzero(outside)
        if len(rest):
            known = np.concatenate((known, rest))  # each part sorted: `_scored_for` per part
            more = self._scored_for(parts, rest)
            totals = np.concatenate(
                (totals, self._totals(more, rest, best, prior, bonus, bonus_weight))
            )
        order = np.lexsort((known, -totals))[:k]
        return Ranking(known[order], totals[order], best, pruned=True)

    def _scored_for(self, parts: list[Part], docs: np.ndarray) -> np.ndarray:
        """`_scored` for the sorted `docs` only: the same additions in the same order, each
        posting searched for the documents rather than read whole."""
        total = np.zeros(len(docs), dtype=np.float32)
        for part in parts:
            summed = np.zeros(len(docs), dtype=np.float32)
            for weight, tids in _by_weight(part):
                alike = np.zeros(len(docs), dtype=np.float32)
                for tid in tids:
                    row, weights = self._row(tid)
                    if len(row):
                        at = np.minimum(np.searchsorted(row, docs), len(row) - 1)
                        hit = row[at] == docs
                        alike[hit] += weights[at[hit]]
                summed += alike if weight == 1 else weight * alike
            total += summed
        return total

    @staticmethod
    def _totals(
        lexical: np.ndarray,
        docs: np.ndarray,
        best: float,
        prior: np.ndarray,
        bonus: np.ndarray,
        bonus_weight: float,
    ) -> np.ndarray:
        total = lexical / best + prior[docs]
        if len(bonus):
            total[np.isin(docs, bonus)] += bonus_weight
        return total

    def frequency(self, term: str) -> int:
        """How many documents have the term."""
        tid = self.term_ids.get(term)
        return 0 if tid is None else self._bounds[tid + 1] - self._bounds[tid]

    def contains(self, term: str, doc: int) -> bool:
        tid = self.term_ids.get(term)
        if tid is None:
            return False
        dense = self._dense.get(tid)
        if dense is not None:  # every weight is positive: a full row is 0 only where it's not
            return bool(dense[doc])
        docs = self._row(tid)[0]  # sorted: one binary search
        at = int(np.searchsorted(docs, doc))
        return at < len(docs) and int(docs[at]) == doc

    def term_idf(self, term: str) -> float:
        """idf of a term; a term no document has counts as the rarest."""
        tid = self.term_ids.get(term)
        return self.max_idf if tid is None else float(self.idf[tid])


class _Scatter:
    """Postings to add to a row, scattered together in one `np.add.at` when flushed.

    `np.add.at` adds its entries one after another, in order: each document gets the same
    additions in the same order as from one call per posting, so the sums are the same to
    the last bit, for one call's overhead instead of one per posting (a question's
    glossary equivalents and relatives bring dozens of short postings).
    """

    def __init__(self, total: np.ndarray):
        self.total = total
        self._docs: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []

    def add(self, docs: np.ndarray, weights: np.ndarray) -> None:
        self._docs.append(docs)
        self._weights.append(weights)

    def flush(self) -> None:
        """Add the waiting postings to the row (before anything else adds to it)."""
        if len(self._docs) == 1:
            np.add.at(self.total, self._docs[0], self._weights[0])
        elif self._docs:
            np.add.at(self.total, np.concatenate(self._docs), np.concatenate(self._weights))
        self._docs.clear()
        self._weights.clear()

    def __enter__(self) -> _Scatter:
        return self

    def __exit__(self, *_: object) -> None:
        self.flush()


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` best scores, best first (earlier documents win ties)."""
    if k * _GROUPS < len(scores):
        # Split into `_GROUPS` rows; each column's best is a score some document has, so the
        # k-th best of those bounds the k-th best score from below: only the few documents
        # at or above it are partitioned (reducing down the rows is one contiguous pass).
        width = len(scores) // _GROUPS
        peaks = scores[: width * _GROUPS].reshape(_GROUPS, width).max(axis=0)
        floor = np.partition(peaks, width - k)[width - k]
        part = np.flatnonzero(scores >= floor)
        near = scores[part]
        if k < len(part):
            cut = np.partition(near, len(part) - k)[len(part) - k]  # the k-th best value
            keep = near >= cut  # every tie at the cut, so order stays stable
            part, near = part[keep], near[keep]
        return part[np.argsort(-near, kind="stable")][:k]
    return np.argsort(-scores, kind="stable")[:k]


def _by_weight(part: Part) -> list[tuple[float, list[int]]]:
    """A part's terms grouped by weight (a part is ordered by weight)."""
    return [(w, [t for t, _ in terms]) for w, terms in groupby(part, key=lambda term: term[1])]


def _docs(docs: Collection[int] | np.ndarray) -> np.ndarray:
    """Document numbers as an index array (an array is taken as it is)."""
    if isinstance(docs, np.ndarray):
        return docs
    return np.fromiter(docs, dtype=np.intp, count=len(docs))


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The sorted distinct values of two int arrays (np.union1d hashes: slow in numpy 2)."""
    both = np.sort(np.concatenate((a, b)).astype(np.int64))
    keep = np.ones(len(both), dtype=bool)
    keep[1:] = both[1:] != both[:-1]
    return both[keep]
