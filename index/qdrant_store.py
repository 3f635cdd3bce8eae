"""An index read from Qdrant: the same `IndexData` parts the file store gives `qa`, each backed by
the collection `index.qdrant_export` wrote. Dense and BM25 search run in Qdrant; rows (articles,
chunks, sentences) and sentence vectors are fetched by id when the answer step asks for them,
and the most recent are kept. The manifest is checked on load, as the file store's is."""

from __future__ import annotations

import json
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from index.chunking import Chunk
from index.corpus_stats import CorpusStats
from index.vocabulary import Vocabulary
from index.documents import Document
from index.manifest import FORMAT_VERSION, IndexNotReady, Manifest
from index.qdrant_target import KIND_BASE, QdrantTarget, QdrantUnavailable
from index.rows import document_from
from index.sentences import Sentence
from index.storage import IndexData

__all__ = ["open_qdrant"]

_CACHE = 4096


class _Guarded:
    """The client, each call's transport errors turned into one sentence naming the server."""

    def __init__(self, client, target: QdrantTarget) -> None:
        self._client, self._target = client, target

    def __getattr__(self, name: str):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except Exception as err:  # transport errors of several libraries
                raise self._target.unreachable(err) from None
        return call


class _Points:
    """Points of one kind by row, fetched in batches and kept (most recent first out)."""

    def __init__(self, client, collection: str, kind: str, count: int, vectors: bool = False) -> None:
        self._client, self._collection, self._kind, self._len = client, collection, kind, count
        self._vectors = vectors
        self._cache: OrderedDict[int, object] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._len

    def fetch(self, rows: Iterable[int]) -> list:
        rows = [int(r) for r in rows]
        with self._lock:
            found = {r: self._cache[r] for r in rows if r in self._cache}
        missing = sorted(set(rows) - set(found))
        for at in range(0, len(missing), 512):
            part = missing[at : at + 512]
            records = self._client.retrieve(self._collection, ids=[KIND_BASE[self._kind] + r for r in part],
                                            with_payload=True, with_vectors=["dense"] if self._vectors else False)
            found.update((int(r.id) - KIND_BASE[self._kind], r) for r in records)
        with self._lock:
            self._cache.update((r, found[r]) for r in missing if r in found)
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return [found[r] for r in rows]


class _Rows(_Points):
    """`index.rows.Rows` over chunk or sentence points."""

    def _make(self, record) -> Chunk | Sentence:
        p = record.payload
        if self._kind == "chunk":
            return Chunk(p["doc_id"], p["start"], p["end"], p["text"], p["lang"])
        return Sentence(p["doc_id"], p["start"], p["end"], p["text"])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.many(range(*i.indices(self._len)))
        i = int(i) + (self._len if int(i) < 0 else 0)
        if not 0 <= i < self._len:
            raise IndexError(f"row {i} is outside the {self._kind}s ({self._len} rows)")
        return self._make(self.fetch([i])[0])

    def many(self, ids: Iterable[int]) -> list:
        return [self._make(r) for r in self.fetch(ids)]

    def range(self, first: int, stop: int) -> list:
        return self.many(range(first, stop))

    def __iter__(self) -> Iterator:
        for at in range(0, self._len, 512):
            yield from self.many(range(at, min(self._len, at + 512)))


class _Vectors(_Points):
    """Sentence vectors by row (`vectors[i]`, `vectors[[i, j]]`); `vectors @ q` reads them all once."""

    def __init__(self, *args, dimension: int, **kwargs) -> None:
        super().__init__(*args, vectors=True, **kwargs)
        self.shape = (self._len, dimension)
        self._all: np.ndarray | None = None

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            return np.asarray(self.fetch([i])[0].vector["dense"], dtype=np.float32)
        return np.array([r.vector["dense"] for r in self.fetch(np.asarray(i).ravel())], dtype=np.float32)

    def __matmul__(self, query: np.ndarray) -> np.ndarray:
        if self._all is None:
            self._all = self[np.arange(self._len)] if self._len else np.zeros(self.shape, dtype=np.float32)
        return self._all @ query


class _Documents(Mapping[str, Document]):
    """`index.rows.DocumentTable` over article points: ids, dates and ranges read once at load."""

    def __init__(self, client, collection: str, count: int) -> None:
        self._points = _Points(client, collection, "document", count)
        self._table: dict[str, dict] = {}
        for record in self._points.fetch(range(count)):
            self._table[record.payload["doc_id"]] = {**record.payload, "row": int(record.id) - KIND_BASE["document"]}

    def __len__(self) -> int:
        return len(self._table)

    def count(self) -> int:
        return len(self._table)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __getitem__(self, doc_id: str) -> Document:
        return document_from(self._points.fetch([self._table[doc_id]["row"]])[0].payload["record"])

    def date(self, doc_id: str) -> str | None:
        return self._table[doc_id]["date"]

    def lang(self, doc_id: str) -> str:
        return self._table[doc_id]["lang"]

    def row_ranges(self, doc_id: str) -> tuple[range, range]:
        entry = self._table[doc_id]
        return range(*entry["chunks"]), range(*entry["sentences"])

    def chunk_ids(self, doc_ids: Iterable[str]) -> np.ndarray:
        parts = [np.arange(*self._table[d]["chunks"]) for d in doc_ids if d in self._table]
        return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _only(kind: str, rows: np.ndarray | None = None, other_than: str | None = None):
    """Points of `kind`, among `rows` when given, not written in `other_than` when given (a
    condition on their language, not a list of the ids of every point in other languages)."""
    from qdrant_client import models

    must: list = [models.FieldCondition(key="kind", match=models.MatchValue(value=kind))]
    if rows is not None:
        must.append(models.HasIdCondition(has_id=[KIND_BASE[kind] + int(r) for r in rows]))
    must_not = [models.FieldCondition(key="lang", match=models.MatchValue(value=other_than))] if other_than else None
    return models.Filter(must=must, must_not=must_not)


class _DenseStore:
    """`index.store.VectorStore` over the chunk points' dense vectors."""

    def __init__(self, client, collection: str, count: int, dimension: int) -> None:
        self._client, self._collection, self._len, self.dimension = client, collection, count, dimension

    def __len__(self) -> int:
        return self._len

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        found = self._client.query_points(self._collection, query=np.asarray(query, dtype=np.float32).ravel().tolist(),
                                          using="dense", limit=k, query_filter=_only("chunk", allowed)).points
        return (np.array([p.score for p in found], dtype=np.float32),
                np.array([int(p.id) - KIND_BASE["chunk"] for p in found], dtype=np.int64))

    def vectors(self) -> np.ndarray:
        return _Vectors(self._client, self._collection, "chunk", self._len, dimension=self.dimension)[
            np.arange(self._len)]

    def describe(self) -> dict[str, object]:
        return {"kind": "qdrant"}


class _Lexical:
    """`index.bm25.LexicalIndex` as a sparse dot product over the chunk points' BM25 weights."""

    def __init__(self, client, collection: str, vocab: dict[str, int], langs: tuple[str, ...], rows: int) -> None:
        self._client, self._collection, self._vocab = client, collection, vocab
        self.langs, self.rows = langs, rows

    def top(self, query: str, k: int, allowed: np.ndarray | None = None, other_than: str | None = None
            ) -> dict[int, float]:
        from qdrant_client import models

        from index.analyzer import analyze_query

        counts = Counter(self._vocab[t] for t in analyze_query(query, self.langs) if t in self._vocab)
        if not counts or k <= 0:
            return {}
        ids = sorted(counts)
        found = self._client.query_points(
            self._collection, query=models.SparseVector(indices=ids, values=[float(counts[i]) for i in ids]),
            using="bm25", limit=k, query_filter=_only("chunk", allowed, other_than)).points
        scored = [(int(p.id) - KIND_BASE["chunk"], float(p.score)) for p in found if p.score > 0]
        return dict(sorted(scored, key=lambda rs: (-rs[1], rs[0])))


def open_qdrant(target: QdrantTarget) -> IndexData:
    """The index the target's alias points at; raises `IndexNotReady` / `QdrantUnavailable` with the fix."""
    raw = target.client()
    collection = target.resolve(raw)
    client = _Guarded(raw, target)
    meta = client.retrieve(collection, ids=[KIND_BASE["meta"]], with_payload=True)
    if not meta:
        raise QdrantUnavailable(f"Qdrant collection {collection!r} holds no index of this app; build one with "
                                f"`{target.build_command}`.")
    payload = meta[0].payload
    manifest_data = json.loads(payload["manifest"])
    if manifest_data.get("format_version") != FORMAT_VERSION:
        raise IndexNotReady(f"The index in {target.spec} has format {manifest_data.get('format_version')}, this "
                            f"version reads {FORMAT_VERSION}; rebuild it with `{target.build_command}`.")
    manifest = Manifest(**manifest_data)
    vectors = client.get_collection(collection).config.params.vectors
    dimension = vectors["dense"].size if isinstance(vectors, dict) else vectors.size
    if dimension != manifest.dimension:
        raise QdrantUnavailable(f"Qdrant collection {collection!r} holds {dimension}-dimension vectors but its "
                                f"manifest says {manifest.dimension}; rebuild it with `python -m index build "
                                f"--store {target.spec}`.")
    counts = manifest.counts
    langs = tuple(sorted({str(info["lang"]) for info in manifest.documents.values()}))
    data = IndexData(Path(target.spec), manifest, _Documents(client, collection, counts["documents"]),
                     _Rows(client, collection, "chunk", counts["chunks"]),
                     _DenseStore(client, collection, counts["chunks"], dimension),
                     _Lexical(client, collection, json.loads(payload["vocab"]), langs, counts["chunks"]),
                     _Rows(client, collection, "sentence", counts["sentences"]),
                     _Vectors(client, collection, "sentence", counts["sentences"], dimension=dimension),
                     CorpusStats.from_text(payload["stats_npz"]),
                     Vocabulary.from_text(payload["vocabulary_npz"]) if payload.get("vocabulary_npz") else None)
    weakref.finalize(data, raw.close)  # closed with the index, or before the interpreter tears down
    return data
