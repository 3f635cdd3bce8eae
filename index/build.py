"""Build or update the index: read articles, chunk, embed what changed, write, swap in.

Articles are embedded and written in batches (memory stays bounded), with a progress bar; each
finished article's vectors are checkpointed (`index.resume`), so a build killed midway is resumed
by the next one, which never serves anything but a whole index (staging folder, then swap)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from index.bm25 import LexicalIndex
from index.build_record import article_records, up_to_date
from index.chunking import Chunk, ChunkConfig, chunk_document
from index.documents import Corpus, Document, Fields, Skipped, read_corpus
from index.embedder import DEFAULT_MODEL, Embedder, resolve_model
from index.lock import DEFAULT_WAIT_S, build_lock
from index.manifest import IndexMissing, IndexNotReady, Manifest
from index.resume import Checkpoints
from index.sentences import Sentence, document_sentences
from index.storage import IndexData, check_target, finish_index, load_index
from index.vocabulary import Vocabulary
from index.store import VectorStore, new_store
from index.swap import recover, staging
from index.writer import StagedWriter

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
    batch_texts: int = 256  # texts embedded per batch: a killed build loses at most one batch
    fields: Fields = field(default_factory=Fields)  # where an export keeps each part of an article


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
    resumed: tuple[str, ...] = ()  # articles whose vectors an interrupted build had checkpointed

    def summary(self) -> str:
        parts = [f"{len(v)} {k}" for k, v in
                 (("added", self.added), ("changed", self.changed), ("removed", self.removed), ("kept", self.kept))]
        text = f"{', '.join(parts)}; {self.chunks} chunks ({self.embedded} embedded) in {self.seconds:.1f}s"
        text += f"; {len(self.resumed)} resumed from an interrupted build" if self.resumed else ""
        return text + (f"; {len(self.skipped)} skipped" if self.skipped else "")


def passage_text(doc: Document, chunk: Chunk) -> str:
    """What is embedded for a chunk: its text, behind the article's headline when it has one."""
    if doc.title_span is None or chunk.start <= doc.title_span.start:
        return chunk.text
    return f"{doc.title}\n{chunk.text}"


def _reusable(index_dir: Path, embedder: Embedder, chunking: ChunkConfig) -> tuple[IndexData | None, str | None]:
    """The previous index when its vectors can be reused (intact, every file checked, and the
    same model, dimension and chunking), and, when an index is there but cannot be trusted (or
    is of an older format), the sentence that says it is rebuilt from scratch."""
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
    if same:  # the same path with other weights (an int8 copy after a float16 one) gives other vectors
        same = manifest.embedding_weights == embedder.weights
    return (previous if same else None), None


def _unchanged(docs: list[Document], chunks: dict[str, list[Chunk]], sentences: dict[str, list[Sentence]],
               previous: IndexData | None) -> set[str]:
    """Articles whose vectors can be reused: same bytes, and the same cleaning, chunks and
    sentences as in the previous index (a new version of this code may cut them differently)."""
    if previous is None:
        return set()
    table = previous.documents
    kept = set()
    for doc in docs:
        if doc.doc_id not in table or table[doc.doc_id] != doc:
            continue
        chunk_ids, sentence_ids = table.row_ranges(doc.doc_id)  # type: ignore[attr-defined]
        if (previous.chunks.range(chunk_ids.start, chunk_ids.stop) == chunks[doc.doc_id]  # type: ignore[attr-defined]
                and previous.sentences.range(sentence_ids.start, sentence_ids.stop) == sentences[doc.doc_id]):  # type: ignore[attr-defined]
            kept.add(doc.doc_id)
    return kept


@dataclass
class _Batches:
    """Where each article's vectors come from: the previous index, a checkpoint, or the model."""

    docs: list[Document]
    chunks: dict[str, list[Chunk]]
    sentences: dict[str, list[Sentence]]
    kept: set[str]
    previous: IndexData | None
    embedder: Embedder
    checkpoints: Checkpoints
    embedded: int = 0
    resumed: list[str] = field(default_factory=list)
    saved: dict[str, tuple[str, int]] = field(default_factory=dict)  # checkpointed articles: key, rows

    def _texts(self, doc: Document) -> list[str]:
        return [passage_text(doc, c) for c in self.chunks[doc.doc_id]] + [s.text for s in self.sentences[doc.doc_id]]

    def _previous(self, doc_id: str) -> np.ndarray:
        assert self.previous is not None
        chunk_ids, sentence_ids = self.previous.documents.row_ranges(doc_id)  # type: ignore[attr-defined]
        return np.vstack([self.previous.store.vectors()[chunk_ids.start : chunk_ids.stop],
                          self.previous.sentence_vectors[sentence_ids.start : sentence_ids.stop]])

    def _to_embed(self, group: list[Document]) -> list[tuple[Document, list[str], str]]:
        """The articles of `group` whose vectors neither the previous index nor a checkpoint holds,
        with the texts to embed and their checkpoint key; the checkpointed ones' keys are kept
        in `self.saved` (their vectors are read when written)."""
        todo = []
        for doc in group:
            if doc.doc_id not in self.kept:
                texts = self._texts(doc)
                key = self.checkpoints.key(texts)
                if self.checkpoints.holds(key, len(texts), self.embedder.dimension):
                    self.saved[doc.doc_id] = (key, len(texts))
                else:
                    todo.append((doc, texts, key))
        return todo

    def _vectors(self, group: list[Document], todo: list[tuple[Document, list[str], str]],
                 fresh: np.ndarray | None) -> list[np.ndarray]:
        """Chunk then sentence vectors of each article of `group`: the new ones from `fresh` (the
        vectors of `todo`'s texts, in order), the others from the previous index or a checkpoint."""
        found: dict[str, np.ndarray] = {}
        used = 0
        for doc, texts, key in todo:
            found[doc.doc_id] = np.asarray(fresh[used : used + len(texts)], dtype=np.float16)  # type: ignore[index]
            used += len(texts)
            self.checkpoints.put(key, found[doc.doc_id])
            self.embedded += len(self.chunks[doc.doc_id])
        for doc in group:
            if doc.doc_id in self.kept:
                found[doc.doc_id] = self._previous(doc.doc_id)
            elif doc.doc_id in self.saved:
                key, rows = self.saved[doc.doc_id]
                found[doc.doc_id] = self.checkpoints.get(key, rows, self.embedder.dimension)  # type: ignore[assignment]
                self.resumed.append(doc.doc_id)
        return [found[d.doc_id] for d in group]

    def _groups(self, group_texts: int) -> list[list[Document]]:
        """The articles in groups of at least `group_texts` texts (the last one may be smaller)."""
        groups: list[list[Document]] = [[]]
        size = 0
        for doc in self.docs:
            if size >= group_texts:
                groups.append([])
                size = 0
            groups[-1].append(doc)
            size += len(self.chunks[doc.doc_id]) + len(self.sentences[doc.doc_id])
        return [g for g in groups if g]

    def write(self, writer: StagedWriter, progress: bool, group_texts: int) -> None:
        groups = self._groups(group_texts)
        plans = [self._to_embed(group) for group in groups]
        texts = [[t for _, doc_texts, _ in todo for t in doc_texts] for todo in plans if todo]
        # An embedder that runs elsewhere (index.ray_embed) takes every group at once and streams
        # the vectors back in order; the local one embeds each group when the writer reaches it.
        streamed = getattr(self.embedder, "embed_groups", None)
        fresh = streamed(texts) if streamed else (self.embedder.embed_passages(t) for t in texts)
        total = sum(len(self.chunks[d.doc_id]) + len(self.sentences[d.doc_id]) for d in self.docs)
        with tqdm(total=total, unit="text", desc="embedding", disable=not progress) as bar:
            for group, todo in zip(groups, plans):
                vectors = self._vectors(group, todo, next(fresh) if todo else None)
                for member, found in zip(group, vectors):
                    n = len(self.chunks[member.doc_id])
                    writer.add(member, self.chunks[member.doc_id], self.sentences[member.doc_id], found[:n], found[n:])
                    bar.update(len(found))


def _vocabulary(embedder: Embedder, sentences: dict[str, list[Sentence]], previous: IndexData | None
                ) -> Vocabulary | None:
    """The corpus's words and their vectors, reusing the previous index's (same model)."""
    embed = getattr(embedder, "embed_queries", None)
    if embed is None:
        log.warning("this embedder cannot embed words: the index keeps no vocabulary (cross-language word "
                    "matches are left out)")
        return None
    texts = (s.text for doc in sentences.values() for s in doc)
    return Vocabulary.build(texts, embed, previous.vocabulary if previous is not None else None)


def build_index(config: BuildConfig, embedder: Embedder | None = None) -> BuildReport:
    """Build `config.index_dir` from `config.seeds_dir`, re-embedding only changed articles. One
    build at a time per folder: this waits up to `config.lock_wait_s` for another to end."""
    started = time.perf_counter()
    with build_lock(config.index_dir, config.lock_wait_s):
        recover(config.index_dir, holding_lock=True)
        check_target(config.index_dir)
        return _build(config, embedder, started)


def _build(config: BuildConfig, embedder: Embedder | None, started: float) -> BuildReport:
    corpus = read_corpus(config.seeds_dir, config.fields)
    embedder = embedder or Embedder(resolve_model(config.model))
    previous, note = _reusable(config.index_dir, embedder, config.chunking)
    docs = list(corpus.documents)
    chunks = {d.doc_id: chunk_document(d, config.chunking) for d in docs}
    sentences = {d.doc_id: document_sentences(d) for d in docs}
    batches = _Batches(docs, chunks, sentences, _unchanged(docs, chunks, sentences, previous), previous, embedder,
                       Checkpoints(config.index_dir, embedder.spec.fingerprint))
    if previous is not None and up_to_date(previous.manifest, config.seeds_dir, config.fields.to_dict(), corpus,
                                           chunks, batches.kept):
        batches.checkpoints.clear()
        log.info("%s is up to date: nothing rewritten", config.index_dir)
        return BuildReport(added=(), changed=(), removed=(), kept=tuple(sorted(batches.kept)), skipped=corpus.skipped,
                           chunks=sum(len(c) for c in chunks.values()), embedded=0,
                           seconds=time.perf_counter() - started)
    if batches.checkpoints.count():
        log.info("resuming: %d articles' vectors were checkpointed by an interrupted build", batches.checkpoints.count())
    ordered = [c for d in docs for c in chunks[d.doc_id]]
    with staging(config.index_dir) as temp:
        writer = StagedWriter(temp, embedder.dimension, len(ordered), sum(len(s) for s in sentences.values()))
        batches.write(writer, config.progress, config.batch_texts)
        store = new_store(writer.close())
        lexical = LexicalIndex.build([c.text for c in ordered], [c.lang for c in ordered])
        manifest = _manifest(config, embedder, corpus, chunks, store, writer,
                             embedder.description if batches.embedded or previous is None
                             else previous.manifest.embedding)
        finish_index(temp, manifest, store, lexical, _vocabulary(embedder, sentences, previous))
    batches.checkpoints.clear()
    before = set(previous.documents) if previous else set()
    now, kept = {d.doc_id for d in docs}, batches.kept
    return BuildReport(
        added=tuple(sorted(now - before)), changed=tuple(sorted((now & before) - kept)),
        removed=tuple(sorted(before - now)), kept=tuple(sorted(kept)),
        skipped=corpus.skipped, chunks=len(ordered), embedded=batches.embedded,
        seconds=time.perf_counter() - started, notes=(note,) if note else (), resumed=tuple(batches.resumed),
    )


def _manifest(config: BuildConfig, embedder: Embedder, corpus: Corpus, chunks: dict[str, list[Chunk]],
              store: VectorStore, writer: StagedWriter, embedding: dict[str, str]) -> Manifest:
    docs = corpus.documents
    return Manifest(
        model_id=embedder.spec.model_id,
        model_fingerprint=embedder.spec.fingerprint,
        dimension=embedder.dimension,
        prompts=embedder.prompts,
        chunking=config.chunking.to_dict(),
        documents=article_records(corpus, chunks),
        seeds_dir=str(config.seeds_dir.resolve()),
        counts={"documents": len(docs), "chunks": sum(len(c) for c in chunks.values()), "sentences": writer.sentences},
        skipped={s.doc_id: s.reason for s in corpus.skipped},
        fields=config.fields.to_dict(),
        store=store.describe(),
        embedding=embedding,
    )
