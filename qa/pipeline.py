"""`Pipeline`: load the index once, then `ask` (answer with citations) and `search` (passages).

Thread-safe: the index is read-only and query embedding is serialised by a lock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from index import BuildConfig, Document, Embedder, IndexData, build_index, resolve_model
from index.qdrant_export import sync_index
from index.qdrant_store import open_qdrant
from index.manifest import IndexNotReady, build_command
from index.qdrant_target import QdrantTarget, open_index, parse_store
from index.lang import detect_language
from index.vocabulary import content_words
from qa.abstain import AbstainConfig
from qa.answer import assemble
from qa.evidence import EvidenceConfig, Scored, SentenceScorer
from qa.question import ANSWER_LANGS, Question, keep_end, prepare_question, question_message
from qa.reader import Reader
from qa.reading import Combination
from qa.retrieval import Ranked, RetrievalConfig, Retriever
from qa.types import Answer, Filters, Hit, Mode

__all__ = ["QAConfig", "Pipeline", "Candidates", "DEFAULT_INDEX_DIR"]

log = logging.getLogger(__name__)

DEFAULT_INDEX_DIR = Path("var/index")
_CACHE_SIZE = 256


@dataclass(frozen=True)
class QAConfig:
    mode: Mode = Mode.HYBRID
    k: int = 5
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    abstain: AbstainConfig = field(default_factory=AbstainConfig.shipped)
    use_reader: bool = True     # read the best candidates with the trained reader, when it ships


@dataclass(frozen=True)
class Candidates:
    question: Question
    ranked: Ranked
    scored: list[Scored]
    signals: dict[str, float]
    timings: dict[str, float]
    vector: np.ndarray


def question_langs(data: IndexData) -> tuple[str, ...]:
    """The languages a question is told among: those the app answers in and its articles'."""
    return tuple(sorted({*ANSWER_LANGS, *data.lexical.langs}))


def _embedder_for(data: IndexData, index_dir: Path | str) -> Embedder:
    """The model the index was embedded with; `IndexNotReady` with the fix when it cannot be loaded."""
    try:
        embedder = Embedder(resolve_model(data.manifest.model_id))
        embedder.dimension   # loads the model, which `Pipeline.load` does next anyway
        return embedder
    except ValueError:
        store = parse_store(index_dir)
        rebuild = build_command(index_dir, data.manifest.seeds_dir) if store is None else store.build_command
        raise IndexNotReady(f"The index at {index_dir} was embedded with the model {data.manifest.model_id!r}, which "
                            f"is not available offline on this machine; rebuild it with the default model (`{rebuild}`) "
                            "or put that model in the local cache.") from None


class Pipeline:
    def __init__(self, data: IndexData, embedder: Embedder, config: QAConfig | None = None,
                 reader: Reader | None = None) -> None:
        self.data = data
        self.embedder = embedder
        self.config = config or QAConfig()
        self._reader = reader
        self.reader = reader if self.config.use_reader else None
        self.combination = Combination.from_dict(self.reader.spec.combination) if self.reader is not None else None
        self.abstain = self.config.abstain
        self.retriever = Retriever(data, self.config.retrieval)
        self.scorer = SentenceScorer(data, self.config.evidence)
        self.question_langs = question_langs(data)
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def load(cls, index_dir: Path | str = DEFAULT_INDEX_DIR, config: QAConfig | None = None,
             check_seeds: bool = True, embedder: Embedder | None = None, reader: Reader | None = None) -> Pipeline:
        """Load the index (a folder, or a `--store` such as qdrant+local:DIR) and its model;
        raises `IndexNotReady` (or `StaleIndex`) with the fix."""
        data = open_index(index_dir)
        if check_seeds and parse_store(index_dir) is None:  # a store's articles are on the machine that built it
            data.manifest.check_seeds(Path(data.manifest.seeds_dir), index_dir)
        embedder = embedder or _embedder_for(data, index_dir)
        data.manifest.check_model(embedder.spec.model_id, embedder.spec.fingerprint, embedder.dimension, index_dir)
        built, asked = ((data.manifest.embedding_path, data.manifest.embedding_weights),
                        (embedder.path.value, embedder.weights))
        if built != asked:
            log.info("the index was embedded with %s (%s weights), questions are embedded with %s (%s weights): "
                     "their vectors agree to a cosine of about 0.998 (python -m index.bench); `python -m index "
                     "build` embeds the articles again with the questions' path", *built, *asked)
        # The language detector loads its models on first use (a second or more, holding the
        # interpreter); it does so here, while OpenVINO compiles the models without holding it.
        warming = threading.Thread(target=detect_language, args=("Qui est là ? Who is there?",),
                                   kwargs={"among": question_langs(data)}, daemon=True)
        warming.start()
        if reader is None and (config is None or config.use_reader):
            reader = Reader.shipped(embedder.spec.path, embedder.spec.fingerprint, tokenizer=embedder.shared_tokenizer)
        warming.join()
        return cls(data, embedder, config, reader)

    @classmethod
    def for_corpus(cls, seeds_dir: Path, index_dir: Path, config: QAConfig | None = None,
                   progress: bool = True, store: QdrantTarget | None = None) -> Pipeline:
        """A pipeline over any folder of articles, with its index kept in `index_dir` and
        brought up to date at every call, incrementally: only articles whose text, chunks or
        sentences changed (a new version of the splitting code may cut them differently) are
        embedded again, and an index already up to date is not rewritten; with a Qdrant
        `store`, the index is written there too (when it changed) and answers come from Qdrant."""
        if store is not None:
            pipeline = cls.for_corpus(seeds_dir, index_dir, config, progress)
            sync_index(index_dir, store)
            return cls(open_qdrant(store), pipeline.embedder, pipeline.config, pipeline._reader)
        embedder = Embedder(resolve_model(None))
        build_index(BuildConfig(seeds_dir=seeds_dir, index_dir=index_dir, progress=progress), embedder=embedder)
        return cls.load(index_dir, config, embedder=embedder)

    def with_config(self, config: QAConfig) -> Pipeline:
        """The same index and models with other settings (for comparing variants)."""
        return Pipeline(self.data, self.embedder, config, self._reader)

    @property
    def documents(self) -> dict[str, Document]:
        return self.data.documents

    def _cached(self, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """`compute()`, kept for the last `_CACHE_SIZE` keys (question embeddings)."""
        with self._lock:
            value = self._cache.get(key)
            if value is None:
                value = compute()
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = value
            return value

    def embed_question(self, text: str) -> np.ndarray:
        return self._cached(text, lambda: self.embedder.embed_query(text))

    def question_words(self, text: str) -> np.ndarray | None:
        """The vectors of the question's content words (for word matches across languages and
        synonyms), or None when the index keeps no vocabulary to match them against."""
        words, vocabulary = content_words(text), self.data.vocabulary
        if vocabulary is None or not words:
            return None

        def compute() -> np.ndarray:   # the corpus's words have theirs; only the others are embedded
            unknown = [w for w in words if w not in vocabulary]
            fresh = dict(zip(unknown, np.asarray(self.embedder.embed_queries(unknown), dtype=np.float32))) \
                if unknown else {}
            return np.stack([fresh[w] if w in fresh else vocabulary.vector(w).astype(np.float32) for w in words])

        return self._cached("\0words\0" + text, compute)

    def translations(self, question: Question) -> tuple[str, ...]:
        """The corpus words closest to the question's (its words in the articles' other languages,
        mostly), when the corpus has articles in another language (see qa.retrieval)."""
        vocabulary, config = self.data.vocabulary, self.config.retrieval
        if vocabulary is None or not config.translations or not self.retriever.other_langs(question.lang):
            return ()
        vectors = self.question_words(question.text)
        if vectors is None:
            return ()
        return tuple(vocabulary.nearest(content_words(question.text), vectors, config.translation_cosine))

    def clear_cache(self) -> None:
        """Forget cached question embeddings (benchmarks measure the embedding each time)."""
        with self._lock:
            self._cache.clear()

    def _fit(self, question: Question) -> Question:
        """Cut the question to what the model reads, and say so."""
        limit = self.embedder.max_tokens - 8
        tokens = self.embedder.count_tokens(question.text)
        if tokens <= limit:
            return question
        text = question.text
        while tokens > limit and len(text) > 1:   # the tokens per character of the end may differ
            text = keep_end(text, max(1, int(len(text) * limit / tokens * 0.95)))
            tokens = self.embedder.count_tokens(text)
        notice = question_message("model_cut", question.lang, n=len(text))
        return replace(question, text=text, notices=question.notices + (notice,))

    def _rank(self, question: Question, mode: Mode, filters: Filters | None, timings: dict[str, float]):
        """The question's vector (always: sentence scoring needs it) and the fused ranking."""
        started = time.perf_counter()
        vector = self.embed_question(question.text)
        embedded = time.perf_counter()
        translations = self.translations(question) if mode == Mode.HYBRID else ()
        ranked = self.retriever.rank(question.text, vector, question.lang, mode, filters, translations)
        timings["embed"] = (embedded - started) * 1000
        timings["search"] = (time.perf_counter() - embedded) * 1000
        return vector, ranked

    def search(self, question: str, k: int = 10, filters: Filters | None = None, mode: Mode | None = None) -> list[Hit]:
        """The best `k` passages for `question`; raises `QuestionError` on empty input."""
        prepared = self._fit(prepare_question(question, self.question_langs))
        _, ranked = self._rank(prepared, mode or self.config.mode, filters, {})
        return self.retriever.hits(ranked, k)

    def candidates(self, question: str, filters: Filters | None = None, mode: Mode | None = None) -> Candidates:
        """Every candidate evidence sentence, scored, with the abstention signals: what `ask`
        decides from (training and inspection use it too)."""
        timings: dict[str, float] = {}
        prepared = self._fit(prepare_question(question, self.question_langs))
        vector, ranked = self._rank(prepared, mode or self.config.mode, filters, timings)
        scoring = time.perf_counter()
        scored = self.scorer.score(prepared, vector, ranked.rows, ranked.fused, self.question_words(prepared.text))
        signals = self.signals(prepared, scored, vector, ranked)   # the ranker's view (see qa.abstain)
        if self.reader is not None and self.combination is not None:
            scored = self.reread(prepared, scored)
        timings["sentences"] = (time.perf_counter() - scoring) * 1000
        return Candidates(prepared, ranked, scored, signals, timings, vector)

    def reread(self, question: Question, scored: list[Scored], combination: Combination | None = None,
               readings: list | None = None) -> list[Scored]:
        """The best candidates re-scored with the reader's view (`readings` given: reuse them)."""
        combination = combination or self.combination
        top = scored[: combination.read_top]
        if readings is None:
            with self._lock:
                readings = self.reader.read(question.text, [self.data.sentences[s.index].text for s in top])
        return combination.apply(scored, readings, self.config.evidence.ranker)

    def signals(self, question: Question, scored: list[Scored], vector: np.ndarray, ranked: Ranked) -> dict[str, float]:
        return self.scorer.signals(question, scored, vector, self.retriever.retrieved(ranked))

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None,
            mode: Mode | None = None) -> Answer:
        """Answer with verbatim evidence sentences and citations, or abstain."""
        started = time.perf_counter()
        found = self.candidates(question, filters, mode)
        prepared, ranked, scored, signals, timings = found.question, found.ranked, found.scored, found.signals, found.timings
        scoring = time.perf_counter()
        hits = self.retriever.hits(ranked, k or self.config.k)
        ranker = self.combination.selection(self.config.evidence.ranker) if self.combination else None
        selected = self.scorer.select(prepared, scored, ranker) if self.scorer.has_content(prepared) else []
        answer = assemble(prepared, selected, hits, self.data, signals, self.abstain, self.combination)
        if filters is not None and not hits:
            answer = replace(answer, notices=answer.notices + (question_message("no_match", prepared.lang),))
        timings["sentences"] += (time.perf_counter() - scoring) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        return replace(answer, timings_ms={k: round(v, 2) for k, v in timings.items()})
