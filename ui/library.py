"""The page's "Articles: add or remove" panel, shown only when the server was started with
`--allow-upload`: upload article files (the formats of `index.formats`), see the articles the
index holds, remove one. The work is `index.manage`'s: files are checked first and a bad one
changes nothing; only new articles are embedded; the page keeps answering from the old index
until the new one is swapped in, then `PageSource.refresh` serves it from the next question."""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

from index import BuildConfig
from index.documents import ArticleError
from index.manage import REMOVED, add_articles, check_new_files, config_for, remove_articles
from index.manifest import IndexNotReady
from index.sources import ARTICLE_KINDS
from ui.i18n import t, ui_lang
from ui.render import ArticleView
from ui.source import PageSource

__all__ = ["Library", "MAX_UPLOAD_MB", "add_uploaded", "remove_chosen", "article_rows", "library_panel"]

log = logging.getLogger(__name__)

MAX_UPLOAD_MB = 20


@dataclass(frozen=True)
class Library:
    """Where the page's uploads go: the articles folder and index it follows; one update at a time."""

    config: BuildConfig
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    @classmethod
    def of(cls, source: PageSource, index_dir: Path) -> Library:
        """Updates of the served index: its articles folder, model, chunking and export fields."""
        seeds = Path(source.snapshot().pipeline.data.manifest.seeds_dir)
        return cls(config_for(seeds, index_dir))


def article_rows(articles: Mapping[str, ArticleView]) -> list[list[str]]:
    return [[a.doc_id, a.title, a.date or "", a.lang, a.source] for a in sorted(articles.values(), key=lambda a: a.doc_id)]


def _files(articles: Mapping[str, ArticleView]) -> list[str]:
    """What can be removed: whole files (an export's rows go with their file)."""
    return sorted({a.source or a.doc_id for a in articles.values()})


def _status(text: str, error: bool = False) -> str:
    kind = "qa-library-error" if error else "qa-library-status"
    return f"<div class=\"{kind}\" role=\"status\">{html.escape(text)}</div>"


def _names(ids: Sequence[str]) -> str:
    return ", ".join(ids[:5]) + ("…" if len(ids) > 5 else "")


def _unchanged() -> tuple[Any, ...]:
    return gr.skip(), gr.skip(), gr.skip(), gr.skip()


def _after(source: PageSource) -> tuple[Any, ...]:
    """The upload box emptied, the article list and both choosers from the index served now."""
    articles = source.refresh().articles
    choices = [(f"{a.title} ({a.doc_id})", a.doc_id) for a in sorted(articles.values(), key=lambda a: a.doc_id)]
    return (gr.update(value=None), gr.update(value=article_rows(articles)),
            gr.update(choices=_files(articles), value=None), gr.update(choices=choices))


def _update(library: Library, source: PageSource, lang: str, work, done_key: str) -> Iterator[tuple[Any, ...]]:
    if not library.lock.acquire(blocking=False):
        yield _status(t(lang, "busy"), error=True), *_unchanged()
        return
    try:
        report = work()
    except Exception as err:  # the page says it in a sentence whatever failed; the folder is as it was
        log.warning("page update refused: %s", err, exc_info=not isinstance(err, (ArticleError, IndexNotReady)))
        yield _status(t(lang, "update_failed", error=str(err)), error=True), *_unchanged()
        return
    finally:
        library.lock.release()
    ids = list(report.added if done_key == "added" else report.removed)
    message = t(lang, done_key, count=len(ids), names=_names(ids), seconds=report.seconds,
                trash=str(library.config.seeds_dir / REMOVED))
    if report.skipped:
        message += " " + t(lang, "left_out", count=len(report.skipped), reason=report.skipped[0].reason)
    log.info("%s", message)
    yield (_status(message), *_after(source))


def add_uploaded(library: Library, source: PageSource, files: Sequence[str] | None, interface_lang: str,
                 progress: gr.Progress = gr.Progress(track_tqdm=True)) -> Iterator[tuple[Any, ...]]:
    """Check the uploaded files, add them and update the index; yields (status, upload box, list,
    choosers)."""
    lang = ui_lang(interface_lang)
    paths = [Path(f) for f in files or []]
    problem = None if paths else t(lang, "no_files")
    for path in paths:
        size = path.stat().st_size
        if problem is None and size > MAX_UPLOAD_MB * 1_000_000:
            problem = t(lang, "too_big", name=path.name, size=f"{size / 1e6:.0f}", limit=MAX_UPLOAD_MB)
    if problem is None:
        yield _status(t(lang, "checking", count=len(paths))), *_unchanged()
        try:
            count = check_new_files(library.config.seeds_dir, paths, library.config)
        except (ArticleError, OSError) as err:
            problem = t(lang, "update_failed", error=str(err))
    if problem is not None:
        yield _status(problem, error=True), *_unchanged()
        return
    yield _status(t(lang, "embedding", count=count)), *_unchanged()
    yield from _update(library, source, lang, partial(add_articles, library.config, paths), "added")


def remove_chosen(library: Library, source: PageSource, chosen: str | None,
                  interface_lang: str) -> Iterator[tuple[Any, ...]]:
    lang = ui_lang(interface_lang)
    if not chosen:
        yield _status(t(lang, "no_choice"), error=True), *_unchanged()
        return
    yield from _update(library, source, lang, partial(remove_articles, library.config, [chosen]), "removed")


def library_panel(library: Library, source: PageSource, lang: str, language: gr.Radio, doc_ids: gr.Dropdown) -> None:
    """The panel's components and events, inside the page being built."""
    articles = source.snapshot().articles
    with gr.Accordion(t(lang, "library"), open=False, elem_id="qa-library"):
        gr.HTML(f"<p class=\"qa-library-notice\">{html.escape(t(lang, 'upload_notice'))}</p>", padding=False)
        files = gr.File(label=t(lang, "upload_files"), file_count="multiple", type="filepath",
                        file_types=list(ARTICLE_KINDS), elem_id="qa-upload")
        add_button = gr.Button(t(lang, "add"), variant="primary", elem_id="qa-add")
        status = gr.HTML("", elem_id="qa-library-status", padding=False)
        table = gr.Dataframe(value=article_rows(articles), headers=t(lang, "columns").split("|"),
                             interactive=False, label=t(lang, "article_list"), elem_id="qa-article-list", wrap=True,
                             column_widths=["24%", "40%", "12%", "8%", "16%"], max_height=320)
        with gr.Row(equal_height=True):
            chosen = gr.Dropdown(choices=_files(articles), value=None, label=t(lang, "remove_choice"), scale=4,
                                 elem_id="qa-remove-choice")
            remove_button = gr.Button(t(lang, "remove"), variant="stop", scale=1, elem_id="qa-remove")
    outputs = [status, files, table, chosen, doc_ids]
    add_button.click(partial(add_uploaded, library, source), [files, language], outputs, api_visibility="private",
                     concurrency_id="library", concurrency_limit=1)
    remove_button.click(partial(remove_chosen, library, source), [chosen, language], outputs,
                        api_visibility="private", concurrency_id="library", concurrency_limit=1)
