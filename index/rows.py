"""The rows of an index (documents, chunks, sentences) in one SQLite file, read by row.

The articles' ids, dates and row ranges are a narrow table of their own, read in one query when
a filter needs them; their full records (text, spans) are another, read one article at a time.

Loading opens the file and parses nothing: `Rows` is a sequence that fetches a row (or a batch of
rows) by id when asked, and `DocumentTable` a mapping that fetches an article by its id. Row i of
`chunks` is row i of the vector store and of BM25; row i of `sentences` is row i of the sentence
vectors. Each article's chunks and sentences are contiguous ids, recorded with the article."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Generic, TypeVar, overload

import numpy as np

from index.chunking import Chunk
from index.cleaning import Exclusion
from index.documents import Document, Span
from index.sentences import Sentence

__all__ = ["FILE", "RowWriter", "RowReader", "Rows", "DocumentTable", "document_json", "document_from"]

FILE = "rows.sqlite"
_BATCH = 4096
_CACHE = 4096
_SCHEMA = """
CREATE TABLE documents (row INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE, date TEXT, lang TEXT NOT NULL,
                        chunk_first INTEGER NOT NULL, chunk_count INTEGER NOT NULL,
                        sentence_first INTEGER NOT NULL, sentence_count INTEGER NOT NULL);
CREATE TABLE bodies (row INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
                     text TEXT NOT NULL, lang TEXT NOT NULL);
CREATE TABLE sentences (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
                        text TEXT NOT NULL);
"""

T = TypeVar("T")


def document_json(doc: Document) -> str:
    return json.dumps(asdict(doc), ensure_ascii=False)


def document_from(text: str) -> Document:
    row = json.loads(text)
    return Document(
        doc_id=row["doc_id"], title=row["title"], date=row["date"], lang=row["lang"],
        sha256=row["sha256"], text=row["text"],
        body=tuple(Span(**s) for s in row["body"]),
        excluded=tuple(Exclusion(**e) for e in row["excluded"]),
        title_span=Span(**row["title_span"]) if row["title_span"] else None,
        url=row.get("url"), author=row.get("author"), source=row.get("source"),
    )


class RowWriter:
    """Appends articles with their chunks and sentences, in row order, to a new file."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        self.chunks = 0
        self.sentences = 0
        self.documents = 0

    def add(self, doc: Document, chunks: Sequence[Chunk], sentences: Sequence[Sentence], body: bool = True) -> None:
        """One article; `body=False` stores only its metadata (synthetic archives, benchmarks)."""
        self._db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)", (
            self.documents, doc.doc_id, doc.date, doc.lang, self.chunks, len(chunks), self.sentences, len(sentences)))
        self._db.execute("INSERT INTO bodies VALUES (?,?)", (self.documents, document_json(doc) if body else "{}"))
        self._db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?)", (
            (self.chunks + i, c.doc_id, c.start, c.end, c.text, c.lang) for i, c in enumerate(chunks)))
        self._db.executemany("INSERT INTO sentences VALUES (?,?,?,?,?)", (
            (self.sentences + i, s.doc_id, s.start, s.end, s.text) for i, s in enumerate(sentences)))
        self.documents += 1
        self.chunks += len(chunks)
        self.sentences += len(sentences)

    def close(self) -> None:
        self._db.commit()
        self._db.close()


class RowReader:
    """One read-only connection, shared by the tables under a lock (queries are short)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"{path.name} is missing")
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self.path = path

    def query(self, sql: str, args: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def stream(self, sql: str) -> Iterator[tuple]:
        """The rows of a long query, fetched a batch at a time (what a build reads once)."""
        with self._lock:
            cursor = self._db.execute(sql)
        while True:
            with self._lock:
                rows = cursor.fetchmany(_BATCH)
            if not rows:
                return
            yield from rows

    def count(self, table: str) -> int:
        found = self.query(f"SELECT max(id) FROM {table}" if table != "documents" else "SELECT max(row) FROM documents")
        return 0 if found[0][0] is None else int(found[0][0]) + 1

    def close(self) -> None:
        self._db.close()


class Rows(Sequence[T], Generic[T]):
    """Rows of one table by id, fetched on demand (the most recent ones kept)."""

    def __init__(self, reader: RowReader, table: str, columns: str, make: Callable[[tuple], T]) -> None:
        self._reader, self._table, self._columns, self._make = reader, table, columns, make
        self._len = reader.count(table)
        self._cache: OrderedDict[int, T] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._len

    def _fetch(self, first: int, stop: int) -> list[T]:
        rows = self._reader.query(f"SELECT {self._columns} FROM {self._table} WHERE id >= ? AND id < ? ORDER BY id",
                                  (first, stop))
        return [self._make(r) for r in rows]

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._len))]
        i = int(i)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"row {i} is outside the {self._table} table ({self._len} rows)")
        with self._lock:
            found = self._cache.get(i)
            if found is not None:
                self._cache.move_to_end(i)
                return found
        found = self._fetch(i, i + 1)[0]
        with self._lock:
            self._cache[i] = found
            if len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return found

    def range(self, first: int, stop: int) -> list[T]:
        """Rows `first` to `stop - 1`, in one query."""
        return self._fetch(first, stop)

    def many(self, ids: Iterable[int]) -> list[T]:
        """The rows `ids`, in that order, in one query per batch."""
        ids = [int(i) for i in ids]
        found: dict[int, T] = {}
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            rows = self._reader.query(f"SELECT id, {self._columns} FROM {self._table} WHERE id IN "
                                      f"({','.join('?' * len(part))})", part)
            found.update((r[0], self._make(r[1:])) for r in rows)
        return [found[i] for i in ids]

    def __iter__(self) -> Iterator[T]:
        for first in range(0, self._len, _BATCH):
            yield from self._fetch(first, min(self._len, first + _BATCH))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Rows, tuple, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def chunk_rows(reader: RowReader) -> Rows[Chunk]:
    return Rows(reader, "chunks", "doc_id, start, end, text, lang", lambda r: Chunk(*r))


def sentence_rows(reader: RowReader) -> Rows[Sentence]:
    return Rows(reader, "sentences", "doc_id, start, end, text", lambda r: Sentence(*r))


class DocumentTable(Mapping[str, Document]):
    """Articles by id, parsed when asked for; their ids, dates and row ranges in one small query."""

    def __init__(self, reader: RowReader) -> None:
        self._reader = reader
        self._index: dict[str, tuple] | None = None
        self._cache: OrderedDict[str, Document] = OrderedDict()
        self._lock = threading.Lock()

    def _ranges(self) -> dict[str, tuple]:
        if self._index is None:
            rows = self._reader.query("SELECT doc_id, date, lang, chunk_first, chunk_count, sentence_first, "
                                      "sentence_count FROM documents ORDER BY row")
            self._index = {r[0]: r[1:] for r in rows}
        return self._index

    def __len__(self) -> int:
        return len(self._ranges())

    def count(self) -> int:
        """How many articles, without reading their ids."""
        return self._reader.count("documents")

    def __iter__(self) -> Iterator[str]:
        return iter(self._ranges())

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._ranges()

    def __getitem__(self, doc_id: str) -> Document:
        with self._lock:
            found = self._cache.get(doc_id)
        if found is not None:
            return found
        rows = self._reader.query("SELECT body FROM bodies WHERE row = (SELECT row FROM documents WHERE doc_id = ?)",
                                  (doc_id,))
        if not rows:
            raise KeyError(doc_id)
        found = document_from(rows[0][0])
        with self._lock:
            self._cache[doc_id] = found
            if len(self._cache) > 256:
                self._cache.popitem(last=False)
        return found

    def date(self, doc_id: str) -> str | None:
        return self._ranges()[doc_id][0]

    def lang(self, doc_id: str) -> str:
        return self._ranges()[doc_id][1]

    def chunk_ids(self, doc_ids: Iterable[str]) -> np.ndarray:
        """The chunk rows of these articles, in row order."""
        ranges = self._ranges()
        parts = [np.arange(ranges[d][2], ranges[d][2] + ranges[d][3]) for d in doc_ids if d in ranges]
        return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def row_ranges(self, doc_id: str) -> tuple[range, range]:
        """The ids of the article's chunks and of its sentences."""
        chunk_first, chunk_count, first, count = (int(v) for v in self._ranges()[doc_id][2:6])
        return range(chunk_first, chunk_first + chunk_count), range(first, first + count)
