"""What the page answers from: the current pipeline, its article views and its generator.

`PageSource.follow` tracks the index folder (`qa.LivePipeline`): when a build swaps a new index
in, the next question is answered from it, and while the articles differ from the index the page
says so. `PageSource.fixed` serves one pipeline as it is."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from qa import ChatBackend, Generator, IndexNotice, LivePipeline, Pipeline
from ui.render import ArticleView

__all__ = ["Snapshot", "PageSource", "article_views"]


def article_views(pipeline: Pipeline) -> dict[str, ArticleView]:
    return {doc_id: ArticleView(doc_id, doc.title, doc.date, doc.text, doc.url, doc.lang, doc.source_file)
            for doc_id, doc in pipeline.documents.items()}


@dataclass(frozen=True)
class Snapshot:
    """One consistent view for one request: never the articles of one index with another's answers."""

    pipeline: Pipeline
    articles: dict[str, ArticleView]
    generator: Generator | None
    notices: tuple[IndexNotice, ...] = ()


class PageSource:
    def __init__(self, pipeline: Pipeline, live: LivePipeline | None = None, backend: ChatBackend | None = None,
                 generator: Generator | None = None) -> None:
        self._live, self._backend = live, backend
        self._lock = threading.Lock()
        self._snapshot = Snapshot(pipeline, article_views(pipeline), generator)

    @classmethod
    def fixed(cls, pipeline: Pipeline, generator: Generator | None = None) -> PageSource:
        return cls(pipeline, generator=generator)

    @classmethod
    def follow(cls, pipeline: Pipeline, index_dir: Path, backend: ChatBackend | None = None,
               check_every_s: float = 2.0) -> PageSource:
        generator = Generator(pipeline, backend) if backend is not None else None
        return cls(pipeline, LivePipeline(pipeline, index_dir, check_every_s), backend, generator)

    @property
    def can_generate(self) -> bool:
        return self._snapshot.generator is not None

    def refresh(self) -> Snapshot:
        """The current view, the index folder checked now (after an update made from this page)."""
        if self._live is not None:
            self._live.check_now()
        return self.snapshot()

    def snapshot(self) -> Snapshot:
        """The current view; article views and generator are rebuilt only when the index changed."""
        if self._live is None:
            return self._snapshot
        served = self._live.current()
        with self._lock:
            old = self._snapshot
            if served.pipeline is not old.pipeline:
                generator = Generator(served.pipeline, self._backend) if self._backend is not None else None
                old = Snapshot(served.pipeline, article_views(served.pipeline), generator)
            self._snapshot = Snapshot(old.pipeline, old.articles, old.generator, served.notices)
            return self._snapshot
