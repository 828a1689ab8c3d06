"""A BM25F index over the fields of many documents, scored with numpy."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

K1 = 1.2
B = 0.6


class FieldIndex:
    """BM25F: per-field weighted, length-normalised term frequencies, saturated once per term.

    Term weights are precomputed per (term, document), so a query costs one vectorised
    add per query term, whatever the number of documents.
    """

    def __init__(self, docs: Sequence[Mapping[str, Sequence[str]]], weights: Mapping[str, float]):
        self.size = len(docs)
        avg = {
            f: max(1.0, sum(len(d.get(f, ())) for d in docs) / max(1, len(docs))) for f in weights
        }
        pseudo: dict[str, dict[int, float]] = defaultdict(dict)
        for n, doc in enumerate(docs):
            for fld, weight in weights.items():
                toks = doc.get(fld, ())
                if not toks:
                    continue
                norm = weight / (1 - B + B * len(toks) / avg[fld])
                for term, count in Counter(toks).items():
                    slot = pseudo[term]
                    slot[n] = slot.get(n, 0.0) + count * norm
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idf: dict[str, float] = {}
        for term, per_doc in pseudo.items():
            idf = math.log(1 + (self.size - len(per_doc) + 0.5) / (len(per_doc) + 0.5))
            ids = np.fromiter(per_doc.keys(), dtype=np.int32, count=len(per_doc))
            tf = np.fromiter(per_doc.values(), dtype=np.float64, count=len(per_doc))
            self.postings[term] = (ids, (idf * tf * (K1 + 1) / (K1 + tf)).astype(np.float32))
            self.idf[term] = idf
        self.max_idf = math.log(1 + (self.size + 0.5) / 0.5)

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """BM25F score of every document for weighted query terms."""
        total = np.zeros(self.size, dtype=np.float32)
        for term, weight in query.items():
            posting = self.postings.get(term)
            if posting is not None:
                total[posting[0]] += weight * posting[1]
        return total

    def contains(self, term: str, doc: int) -> bool:
        posting = self.postings.get(term)
        return posting is not None and bool(np.any(posting[0] == doc))

    def term_idf(self, term: str) -> float:
        """idf of a term; a term no document has counts as the rarest."""
        return self.idf.get(term, self.max_idf)
