"""Build or update the index: read articles, chunk, embed what changed, write, swap in."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.bm25 import LexicalIndex
from index.chunking import Chunk, ChunkConfig, chunk_document
from index.documents import Document, Skipped, read_corpus
from index.embedder import DEFAULT_MODEL, Embedder, resolve_model
from index.manifest import IndexMissing, IndexNotReady, Manifest
from index.sentences import Sentence, document_sentences
from index.storage import IndexData, check_target, load_index, write_index
from index.lock import DEFAULT_WAIT_S, build_lock
from index.swap import recover, staging
from index.store import FlatFaissStore

__all__ = ["BuildConfig", "BuildReport", "build_index", "passage_text"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildConfig:
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("var/index")
    model: str = DEFAULT_MODEL
    chunking: ChunkConfig = field(default_factory=ChunkConfig)
    progress: bool = True
    lock_wait_s: float = DEFAULT_WAIT_S  # how long to wait for another build of the same folder


@dataclass(frozen=True)
class BuildReport:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    chunks: int
    embedded: int
    seconds: float
    notes: tuple[str, ...] = ()  # e.g. why the previous index was not reused

    def summary(self) -> str:
        parts = [f"{len(v)} {k}" for k, v in
                 (("added", self.added), ("changed", self.changed), ("removed", self.removed), ("kept", self.kept))]
        text = f"{', '.join(parts)}; {self.chunks} chunks ({self.embedded} embedded) in {self.seconds:.1f}s"
        return text + (f"; {len(self.skipped)} skipped" if self.skipped else "")


def passage_text(doc: Document, chunk: Chunk) -> str:
    """What is embedded for a chunk: its text, behind the article's headline when it has one."""
    if doc.title_span is None or chunk.start <= doc.title_span.start:
        return chunk.text
    return f"{doc.title}\n{chunk.text}"


def _reusable(index_dir: Path, embedder: Embedder, chunking: ChunkConfig) -> tuple[IndexData | None, str | None]:
    """The previous index when its vectors can be reused (intact, every file checked, and the
    same model, dimension and chunking), and, when an index is there but cannot be trusted, the
    sentence that says it is rebuilt from scratch."""
    try:
        previous = load_index(index_dir, full_check=True)
    except IndexMissing:
        return None, None
    except IndexNotReady as err:
        note = f"{err.problem}; every article is indexed again from scratch."
        log.warning("%s", note)
        return None, note
    manifest = previous.manifest
    same = (manifest.model_fingerprint, manifest.dimension, manifest.chunking) == (
        embedder.spec.fingerprint, embedder.dimension, chunking.to_dict())
    if same and manifest.embedding_path != embedder.path.value:  # planned path: ask the one that loads
        same = manifest.embedding_path == embedder.description["path"]
    return (previous if same else None), None


Units = dict[str, list[str]]  # doc_id -> texts to embed, in row order


def _old_vectors(previous: IndexData | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Previous chunk and sentence vectors grouped by document."""
    if previous is None:
        return {}, {}

    def by_doc(doc_ids: list[str], vectors: np.ndarray) -> dict[str, np.ndarray]:
        rows: dict[str, list[int]] = {}
        for i, doc_id in enumerate(doc_ids):
            rows.setdefault(doc_id, []).append(i)
        return {d: vectors[r] for d, r in rows.items()}

    return (by_doc([c.doc_id for c in previous.chunks], previous.store.vectors()),
            by_doc([s.doc_id for s in previous.sentences], previous.sentence_vectors))


def _vectors(units: Units, reuse: dict[str, np.ndarray], embedder: Embedder, progress: bool) -> tuple[np.ndarray, int]:
    """Vectors for every unit, in order; documents in `reuse` keep their previous vectors."""
    todo = [text for d, texts in units.items() if d not in reuse for text in texts]
    fresh = embedder.embed_passages(todo, progress=progress) if todo else np.zeros((0, embedder.dimension))
    parts, used = [np.zeros((0, embedder.dimension), dtype=np.float32)], 0
    for doc_id, texts in units.items():
        if doc_id in reuse:
            parts.append(reuse[doc_id])
        else:
            parts.append(fresh[used : used + len(texts)])
            used += len(texts)
    return np.vstack(parts).astype(np.float32), len(todo)


def _unchanged(docs: list[Document], chunks: dict[str, list[Chunk]], sentences: dict[str, list[Sentence]],
               previous: IndexData | None) -> set[str]:
    """Articles whose vectors can be reused: same bytes, and the same cleaning, chunks and
    sentences as in the previous index (a new version of this code may cut them differently)."""
    if previous is None:
        return set()
    old_chunks: dict[str, list[Chunk]] = {}
    old_sentences: dict[str, list[Sentence]] = {}
    for chunk in previous.chunks:
        old_chunks.setdefault(chunk.doc_id, []).append(chunk)
    for sentence in previous.sentences:
        old_sentences.setdefault(sentence.doc_id, []).append(sentence)
    return {d.doc_id for d in docs if previous.documents.get(d.doc_id) == d
            and old_chunks.get(d.doc_id, []) == chunks[d.doc_id]
            and old_sentences.get(d.doc_id, []) == sentences[d.doc_id]}


def build_index(config: BuildConfig, embedder: Embedder | None = None) -> BuildReport:
    """Build `config.index_dir` from `config.seeds_dir`, re-embedding only changed articles. One
    build at a time per folder: this waits up to `config.lock_wait_s` for another to end."""
    started = time.perf_counter()
    with build_lock(config.index_dir, config.lock_wait_s):
        recover(config.index_dir, holding_lock=True)
        check_target(config.index_dir)
        return _build(config, embedder, started)


def _build(config: BuildConfig, embedder: Embedder | None, started: float) -> BuildReport:
    corpus = read_corpus(config.seeds_dir)
    embedder = embedder or Embedder(resolve_model(config.model))
    previous, note = _reusable(config.index_dir, embedder, config.chunking)
    docs = list(corpus.documents)
    chunks = {d.doc_id: chunk_document(d, config.chunking) for d in docs}
    sentences = {d.doc_id: document_sentences(d) for d in docs}
    kept = _unchanged(docs, chunks, sentences, previous)
    old_chunks, old_sentences = _old_vectors(previous)
    chunk_vectors, embedded = _vectors(
        {d.doc_id: [passage_text(d, c) for c in chunks[d.doc_id]] for d in docs},
        {d: v for d, v in old_chunks.items() if d in kept}, embedder, config.progress)
    sentence_vectors, _ = _vectors(
        {d.doc_id: [s.text for s in sentences[d.doc_id]] for d in docs},
        {d: v for d, v in old_sentences.items() if d in kept}, embedder, config.progress)
    ordered = [c for d in docs for c in chunks[d.doc_id]]
    store = FlatFaissStore(embedder.dimension)
    store.add(chunk_vectors)
    all_sentences = tuple(s for d in docs for s in sentences[d.doc_id])
    data = IndexData(
        folder=config.index_dir,
        manifest=_manifest(config, embedder, docs, chunks, corpus.skipped, store, len(all_sentences),
                           embedder.description if embedded or previous is None else previous.manifest.embedding),
        documents={d.doc_id: d for d in docs}, chunks=tuple(ordered), store=store,
        lexical=LexicalIndex.build([c.text for c in ordered], [c.lang for c in ordered]),
        sentences=all_sentences, sentence_vectors=sentence_vectors,
    )
    with staging(config.index_dir) as temp:
        write_index(temp, data)
    before = set(previous.documents) if previous else set()
    now = {d.doc_id for d in docs}
    return BuildReport(
        added=tuple(sorted(now - before)), changed=tuple(sorted((now & before) - kept)),
        removed=tuple(sorted(before - now)), kept=tuple(sorted(kept)),
        skipped=corpus.skipped, chunks=len(ordered), embedded=embedded,
        seconds=time.perf_counter() - started, notes=(note,) if note else (),
    )


def _manifest(config: BuildConfig, embedder: Embedder, docs: list[Document], chunks: dict[str, list[Chunk]],
              skipped: tuple[Skipped, ...], store: FlatFaissStore, sentences: int,
              embedding: dict[str, str]) -> Manifest:
    return Manifest(
        model_id=embedder.spec.model_id,
        model_fingerprint=embedder.spec.fingerprint,
        dimension=embedder.dimension,
        prompts=embedder.prompts,
        chunking=config.chunking.to_dict(),
        documents={d.doc_id: {"sha256": d.sha256, "title": d.title, "date": d.date, "lang": d.lang,
                              "chunks": len(chunks[d.doc_id])} for d in docs},
        seeds_dir=str(config.seeds_dir.resolve()),
        counts={"documents": len(docs), "chunks": sum(len(c) for c in chunks.values()), "sentences": sentences},
        skipped={s.doc_id: s.reason for s in skipped},
        store=store.describe(),
        embedding=embedding,
    )
