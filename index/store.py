"""Vector storage behind a small interface, so FAISS flat can later become HNSW/IVF or a
distributed engine without touching retrieval logic. Row i of the store is chunk i."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

__all__ = ["VectorStore", "FlatFaissStore"]


class VectorStore(Protocol):
    def add(self, vectors: np.ndarray) -> None: ...
    def remove(self, rows: np.ndarray) -> None: ...
    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors(self) -> np.ndarray: ...
    def save(self, folder: Path) -> None: ...
    def describe(self) -> dict[str, object]: ...
    def __len__(self) -> int: ...


class FlatFaissStore:
    """Exact inner-product search over L2-normalised vectors (cosine similarity)."""

    FILE = "faiss.index"

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexFlatIP(dimension)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"vectors of shape {vectors.shape} do not match dimension {self.dimension}.")
        self._index.add(vectors)

    def remove(self, rows: np.ndarray) -> None:
        """Remove rows; the rows after them move up, as chunk ids do."""
        self._index.remove_ids(np.asarray(rows, dtype=np.int64))

    def vectors(self) -> np.ndarray:
        if len(self) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_n(0, len(self))

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and rows of the `k` nearest rows, best first; `allowed` restricts the rows."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, rows = self._index.search(query, k, params=params)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep].astype(np.int64)

    def save(self, folder: Path) -> None:
        faiss.write_index(self._index, str(folder / self.FILE))

    @classmethod
    def load(cls, folder: Path) -> FlatFaissStore:
        index = faiss.read_index(str(folder / cls.FILE))
        return cls(index.d, index)

    def describe(self) -> dict[str, object]:
        return {"kind": "faiss-flat-ip", "dimension": self.dimension, "rows": len(self)}
