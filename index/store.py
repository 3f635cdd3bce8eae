"""Vector search over the chunk vectors, which live memory-mapped in a float16 `.npy` file.

Small archives are searched exactly (FAISS flat, inner product over L2-normalised vectors: the
cosine). From `ANN_THRESHOLD` chunks on, an inverted-file index (IVF, 8-bit scalar codes) finds
candidates, re-ranked exactly against the stored vectors. Row i of the store is chunk i."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

__all__ = ["ANN_THRESHOLD", "VectorStore", "FlatStore", "IVFStore", "new_store", "open_store", "exact_search"]

log = logging.getLogger(__name__)

ANN_THRESHOLD = 50_000     # chunks; below, exact search takes under ~10 ms here (see README, "At scale")
EXACT_ALLOWED = 50_000     # a filter allowing at most this many rows is searched exactly
_RERANK = 8                # ANN candidates per result re-ranked exactly
_BATCH = 65_536


class VectorStore(Protocol):
    dimension: int
    KIND: str
    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors(self) -> np.ndarray: ...
    def describe(self) -> dict[str, object]: ...
    def __len__(self) -> int: ...


def _as_query(query: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(query, dtype=np.float32).reshape(-1)


def exact_search(vectors: np.ndarray, query: np.ndarray, k: int,
                 rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and rows of the `k` best of `rows` (all by default), best first, ties by row."""
    query = _as_query(query)
    if rows is None:
        scores = np.concatenate([np.asarray(vectors[i : i + _BATCH], dtype=np.float32) @ query
                                 for i in range(0, len(vectors), _BATCH)] or [np.zeros(0, np.float32)])
        rows = np.arange(len(scores), dtype=np.int64)
    else:
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        scores = np.asarray(vectors[rows], dtype=np.float32) @ query
    k = min(k, len(rows))
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    top = top[np.lexsort((rows[top], -scores[top]))]
    return scores[top].astype(np.float32), rows[top]


class FlatStore:
    """Exact search: the vectors, in float32, in a FAISS flat index built at load."""

    KIND = "faiss-flat-ip"

    def __init__(self, vectors: np.ndarray) -> None:
        self._vectors = vectors
        self.dimension = int(vectors.shape[1])
        self._index = faiss.IndexFlatIP(self.dimension)
        for i in range(0, len(vectors), _BATCH):
            self._index.add(np.ascontiguousarray(vectors[i : i + _BATCH], dtype=np.float32))

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self) -> np.ndarray:
        """The stored vectors (float16, memory-mapped): row i is chunk i."""
        return self._vectors

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores and rows of the `k` nearest rows, best first; `allowed` restricts the rows."""
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, rows = self._index.search(_as_query(query).reshape(1, -1), k, params=params)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep].astype(np.int64)

    def save(self, folder: Path) -> None:
        """Nothing beyond the vectors: the flat index is rebuilt from them at load."""

    def describe(self) -> dict[str, object]:
        return {"kind": self.KIND, "dimension": self.dimension, "rows": len(self)}


class IVFStore:
    """Approximate candidates from an IVF index (8-bit codes), re-ranked exactly."""

    KIND = "faiss-ivf-sq8-ip"
    FILE = "ann.faiss"

    def __init__(self, vectors: np.ndarray, index: faiss.Index, nprobe: int) -> None:
        self._vectors = vectors
        self._index = index
        self.dimension = int(vectors.shape[1])
        self.nprobe = nprobe

    @classmethod
    def build(cls, vectors: np.ndarray, seed: int = 11) -> IVFStore:
        """Train the coarse quantizer and the codes on a sample, then add every row in batches."""
        dimension, rows = int(vectors.shape[1]), len(vectors)
        nlist = max(16, 2 ** round(math.log2(2 * math.sqrt(rows))))
        index = faiss.index_factory(dimension, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
        sample = np.sort(np.random.default_rng(seed).choice(rows, min(rows, 40 * nlist), replace=False))
        index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
        for i in range(0, rows, _BATCH):
            index.add(np.ascontiguousarray(vectors[i : i + _BATCH], dtype=np.float32))
        return cls(vectors, index, nprobe=max(16, nlist // 32))

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self) -> np.ndarray:
        """The stored vectors (float16, memory-mapped): row i is chunk i."""
        return self._vectors

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores and rows of the `k` nearest rows, best first; a small `allowed` set (one
        article, a few dates) is searched exactly, a larger one through the ANN index."""
        if allowed is not None and len(allowed) <= EXACT_ALLOWED:
            return exact_search(self._vectors, query, k, allowed)
        depth = min(len(self), max(k * _RERANK, 64))
        if depth <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        params = faiss.SearchParametersIVF(nprobe=self.nprobe)
        if allowed is not None:
            mask = np.zeros(len(self), dtype=bool)
            mask[np.asarray(allowed, dtype=np.int64)] = True
            params = faiss.SearchParametersIVF(nprobe=self.nprobe, sel=faiss.IDSelectorBitmap(
                len(self), faiss.swig_ptr(np.packbits(mask, bitorder="little"))))
        _, rows = self._index.search(_as_query(query).reshape(1, -1), depth, params=params)
        candidates = rows[0][rows[0] >= 0]
        return exact_search(self._vectors, query, k, candidates)

    def save(self, folder: Path) -> None:
        faiss.write_index(self._index, str(folder / self.FILE))

    def describe(self) -> dict[str, object]:
        return {"kind": self.KIND, "dimension": self.dimension, "rows": len(self),
                "nlist": int(self._index.nlist), "nprobe": self.nprobe, "rerank": _RERANK}


def new_store(vectors: np.ndarray, kind: str | None = None) -> FlatStore | IVFStore:
    """The store for these vectors: flat below `ANN_THRESHOLD` rows, IVF from there on."""
    kind = kind or (IVFStore.KIND if len(vectors) >= ANN_THRESHOLD else FlatStore.KIND)
    if kind == FlatStore.KIND:
        return FlatStore(vectors)
    if kind == IVFStore.KIND:
        return IVFStore.build(vectors)
    raise ValueError(f"unknown vector store {kind!r}; use {FlatStore.KIND!r} or {IVFStore.KIND!r}.")


def open_store(folder: Path, vectors: np.ndarray, described: dict[str, object]) -> FlatStore | IVFStore:
    """The store the manifest describes, over the memory-mapped `vectors`."""
    kind = described.get("kind")
    if kind == FlatStore.KIND:
        return FlatStore(vectors)
    if kind == IVFStore.KIND:
        index = faiss.read_index(str(folder / IVFStore.FILE))
        if index.ntotal != len(vectors) or index.d != vectors.shape[1]:
            raise ValueError(f"{IVFStore.FILE} holds {index.ntotal} vectors, the chunk vectors {len(vectors)}")
        return IVFStore(vectors, index, int(described.get("nprobe", 32)))  # type: ignore[call-overload]
    raise ValueError(f"the manifest names an unknown vector store {kind!r}")
