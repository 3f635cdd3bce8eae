"""`build_app(source)`: the Gradio page. Handlers are small module-level functions bound to the
page's source (`ui.source`) with `functools.partial`; all HTML comes from `ui.render`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr

from qa import Filters, Generator, LLMError, Partial, Pipeline, QuestionError
from ui.i18n import DEFAULT_LANG, EXAMPLES, t, ui_lang
from ui.render import (
    ArticleView,
    is_placeholder,
    render_answer,
    render_error,
    render_generating,
    render_header,
    render_hits,
    render_notices,
    render_placeholder,
    render_stopped,
)
from ui.inputs import DEFAULT_K, MAX_K, article_names, passage_count, question_text
from ui.library import MAX_UPLOAD_MB, Library, library_panel
from ui.source import PageSource, article_views

__all__ = ["build_app", "launch_options", "article_views", "ask", "ask_current", "generate", "generate_current",
           "stopped", "relabel", "CONCURRENCY", "MAX_UPLOAD_BYTES"]

log = logging.getLogger(__name__)

CONCURRENCY = 2
DRAFT_EVERY_S = 0.08  # at most ~12 draft updates a second while the model writes
QUEUE_SIZE = 200
# Without --allow-upload the page takes no file, but Gradio's upload route is open to anyone who
# can reach the page: bound each upload, and delete what was uploaded after an hour.
MAX_UPLOAD_BYTES = 100_000
UPLOADS_KEPT_S = (3600, 3600)
CSS_PATH = Path(__file__).resolve().parent / "static" / "ui.css"
# Opening an article (<details>) scrolls its highlighted span into view. Without JS the
# "show in article" anchors still open the details and jump to the span.
SCROLL_JS = """
element.addEventListener('toggle', (event) => {
  const details = event.target;
  if (!details.open || !details.classList || !details.classList.contains('qa-article')) return;
  const mark = details.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', behavior: 'smooth'});
}, true);
"""

# After a question, an answer that starts below the screen (a phone, under the examples and
# options) is scrolled to; one already in sight is left where it is.
REVEAL_JS = """
() => {
  const answer = document.getElementById('qa-answer');
  if (!answer) return;
  const top = answer.getBoundingClientRect().top;
  if (top > window.innerHeight * 0.75 || top < 0) answer.scrollIntoView({block: 'start', behavior: 'smooth'});
}
"""

# The page's own language (`<html lang>`), for screen readers and the browser, follows the interface.
PAGE_LANG_JS = "(lang) => { document.documentElement.lang = lang; }"


def _filters(doc_ids: Sequence[str] | str | None) -> Filters | None:
    names = article_names(doc_ids)
    return Filters(doc_ids=tuple(names)) if names else None


def ask(pipeline: Pipeline, articles: Mapping[str, ArticleView], question: str, k: float,
        doc_ids: Sequence[str] | None, interface_lang: str) -> tuple[str, str, str]:
    """Answer and passages for `question`; returns (answer HTML, passages HTML, interface language)."""
    lang = ui_lang(interface_lang)
    k_int, filters = passage_count(k), _filters(doc_ids)
    if k_int is None:
        return render_error(t(lang, "bad_k", k=repr(k)[:40], max=MAX_K, default=DEFAULT_K), lang), \
            render_placeholder(t(lang, "empty_passages")), lang
    question = question_text(question)
    try:
        answer = pipeline.ask(question, k=k_int, filters=filters)
        hits = pipeline.search(question, k=k_int, filters=filters)
    except QuestionError as err:
        return render_error(err.in_language(lang), lang), render_placeholder(t(lang, "empty_passages")), lang
    shown = ui_lang(answer.lang, lang)
    log.info("answered (%s, abstained=%s) in %.0f ms", answer.lang, answer.abstained,
             answer.timings_ms.get("total", 0.0))
    return render_answer(answer, articles, lang), render_hits(hits, articles, answer.question, shown), shown


def generate(generator: Generator | None, articles: Mapping[str, ArticleView], question: str, k: float,
             doc_ids: Sequence[str] | None, interface_lang: str, enabled: bool) -> Iterator[tuple[Any, Any]]:
    """After `ask`, when "generate" is ticked: the model's draft while it writes, then the verified
    answer; yields (answer HTML, stop button update). Closing the iterator stops the model."""
    k_int = passage_count(k)
    if not enabled or generator is None or k_int is None:   # `ask` shows why k is refused
        yield gr.skip(), gr.skip()
        return
    lang = ui_lang(interface_lang)
    final, shown_at = None, 0.0
    try:
        yield render_generating("", lang), gr.update(visible=True)
        for step in generator.stream(question_text(question), k=k_int, filters=_filters(doc_ids)):
            if isinstance(step, Partial):
                if time.monotonic() - shown_at >= DRAFT_EVERY_S:
                    shown_at = time.monotonic()
                    yield render_generating(step.text, lang), gr.update(visible=True)
            else:
                final = step
    except QuestionError:  # `ask` already shows why
        yield gr.skip(), gr.update(visible=False)
        return
    except LLMError as err:
        log.warning("generation failed: %s", err)
        yield render_error(str(err), lang), gr.update(visible=False)
        return
    if final is None:
        yield gr.skip(), gr.update(visible=False)
        return
    log.info("generated (%s, %d unsupported) in %.0f ms", final.lang, len(final.unsupported),
             final.timings_ms.get("total", 0.0))
    yield render_answer(final, articles, lang), gr.update(visible=False)


def ask_current(source: PageSource, question: str, k: float, doc_ids: Sequence[str] | None,
                interface_lang: str) -> tuple[str, str, str]:
    """`ask` over the source's current index, its notices (articles changed, new index not
    loadable) above the answer."""
    snap = source.snapshot()
    answer_html, passages_html, shown = ask(snap.pipeline, snap.articles, question, k, doc_ids, interface_lang)
    return render_notices(snap.notices, shown) + answer_html, passages_html, shown


def generate_current(source: PageSource, question: str, k: float, doc_ids: Sequence[str] | None,
                     interface_lang: str, enabled: bool) -> Iterator[tuple[Any, Any]]:
    """`generate` over the source's current index, its notices above the final answer."""
    snap = source.snapshot()
    steps = generate(snap.generator, snap.articles, question, k, doc_ids, interface_lang, enabled)
    try:
        for markup, button in steps:
            if isinstance(markup, str) and not markup.startswith("<div class=\"qa-out qa-generating\""):
                markup = render_notices(snap.notices, ui_lang(interface_lang)) + markup
            yield markup, button
    finally:
        steps.close()  # a stopped generation stops the model


def article_choices(source: PageSource) -> Any:
    """The article filter's choices for a page that opens now (a build may have changed them)."""
    return gr.update(choices=_article_choices(source.snapshot().articles))


def stopped(interface_lang: str) -> tuple[str, Any]:
    """The stop button: what replaces the unchecked draft, and the button hidden again."""
    return render_stopped(ui_lang(interface_lang)), gr.update(visible=False)


def _placeholder(current: str | None, lang: str, key: str) -> Any:
    return render_placeholder(t(lang, key)) if is_placeholder(current) else gr.update()


def relabel(lang: str, answer_html: str | None, passages_html: str | None,
            can_generate: bool = False) -> tuple[Any, ...]:
    """Updates that put every label of the page in `lang`; an answer already shown stays as it is."""
    lang = ui_lang(lang)
    return (
        render_header(lang),
        gr.update(label=t(lang, "question"), placeholder=t(lang, "placeholder")),
        gr.update(value=t(lang, "ask")),
        gr.update(value=t(lang, "stop")),
        gr.update(label=t(lang, "generate"), info=t(lang, "generate_info" if can_generate else "generate_unavailable")),
        gr.update(label=t(lang, "examples")),
        gr.update(label=t(lang, "options")),
        gr.update(label=t(lang, "k")),
        gr.update(label=t(lang, "articles")),
        gr.update(label=t(lang, "tab_answer")),
        gr.update(label=t(lang, "tab_passages")),
        _placeholder(answer_html, lang, "empty_answer"),
        _placeholder(passages_html, lang, "empty_passages"),
        gr.update(label=t(lang, "interface")),
    )


def _article_choices(articles: Mapping[str, ArticleView]) -> list[tuple[str, str]]:
    return [(f"{a.title} ({a.doc_id})", a.doc_id) for a in sorted(articles.values(), key=lambda a: a.doc_id)]


def _language_radio(lang: str) -> gr.Radio:
    return gr.Radio(choices=[("Français", "fr"), ("English", "en")], value=lang,
                    label=t(lang, "interface"), elem_id="qa-lang", container=False)


def build_app(source: PageSource | Pipeline, lang: str = DEFAULT_LANG, generator: Generator | None = None,
              library: Library | None = None) -> gr.Blocks:
    """The page: question, examples, options, an answer tab and a passages tab. With a generator
    (in `source`, or `generator` beside a plain pipeline), the options offer a generated answer
    (streamed, with a stop button); with a `library`, a panel adds and removes articles."""
    lang = ui_lang(lang)
    source = source if isinstance(source, PageSource) else PageSource.fixed(source, generator)
    articles = source.snapshot().articles
    with gr.Blocks(title="News QA", analytics_enabled=False, delete_cache=UPLOADS_KEPT_S) as demo:
        with gr.Row(elem_id="qa-top"):
            header = gr.HTML(render_header(lang), elem_id="qa-header", padding=False, js_on_load=None)
            language = _language_radio(lang)
        with gr.Row(elem_id="qa-ask-row", equal_height=True):
            question = gr.Textbox(label=t(lang, "question"), placeholder=t(lang, "placeholder"), lines=1,
                                  max_lines=4, scale=5, min_width=200, elem_id="qa-question", autofocus=True)
            ask_button = gr.Button(t(lang, "ask"), variant="primary", scale=1, min_width=90, elem_id="qa-ask")
            stop_button = gr.Button(t(lang, "stop"), variant="stop", scale=1, min_width=90, elem_id="qa-stop",
                                    visible=False)
        examples = gr.Examples([[q] for q in EXAMPLES], inputs=[question], label=t(lang, "examples"),
                               examples_per_page=len(EXAMPLES))
        with gr.Accordion(t(lang, "options"), open=False) as options:
            k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label=t(lang, "k"), elem_id="qa-k")
            # custom values: an article a build added after the page was served is filtered on too
            # (an unknown name gets the answer's "no article matches the filter" notice)
            doc_ids = gr.Dropdown(choices=_article_choices(articles), value=[], multiselect=True,
                                  allow_custom_value=True, label=t(lang, "articles"), elem_id="qa-docs")
            can_generate = source.can_generate
            generate_box = gr.Checkbox(value=False, label=t(lang, "generate"), interactive=can_generate,
                                       info=t(lang, "generate_info" if can_generate else "generate_unavailable"),
                                       elem_id="qa-generate")
        if library is not None:
            library_panel(library, source, lang, language, doc_ids)
        with gr.Tabs():
            with gr.Tab(t(lang, "tab_answer"), id="answer") as answer_tab:
                answer_html = gr.HTML(render_placeholder(t(lang, "empty_answer")), elem_id="qa-answer",
                                      js_on_load=SCROLL_JS, padding=False)
            with gr.Tab(t(lang, "tab_passages"), id="passages") as passages_tab:
                passages_html = gr.HTML(render_placeholder(t(lang, "empty_passages")), elem_id="qa-passages",
                                        js_on_load=SCROLL_JS, padding=False)
        handler = partial(ask_current, source)
        inputs, outputs = [question, k, doc_ids, language], [answer_html, passages_html, language]
        asked = [gr.on([ask_button.click, question.submit], handler, inputs, outputs, api_name="ask",
                       concurrency_id="qa", concurrency_limit=CONCURRENCY, preprocess=False),  # see ui.inputs
                 examples.load_input_event.then(handler, inputs, outputs, api_visibility="private",
                                                concurrency_id="qa", concurrency_limit=CONCURRENCY)]
        for event in asked:
            event.then(None, None, None, js=REVEAL_JS, api_visibility="private", queue=False)
        if can_generate:
            writing = partial(generate_current, source)
            generations = [event.then(writing, [*inputs, generate_box], [answer_html, stop_button],
                                      api_visibility="private", concurrency_id="generate",
                                      concurrency_limit=1, preprocess=False)
                           for event in asked]
            stop_button.click(stopped, [language], [answer_html, stop_button], cancels=generations,
                              api_visibility="private", queue=False)
        targets = [header, question, ask_button, stop_button, generate_box, examples.dataset, options, k, doc_ids,
                   answer_tab, passages_tab, answer_html, passages_html, language]
        language.change(None, [language], None, js=PAGE_LANG_JS, api_visibility="private", queue=False)
        demo.load(None, [language], None, js=PAGE_LANG_JS, api_visibility="private", queue=False)
        language.change(partial(relabel, can_generate=can_generate), [language, answer_html, passages_html],
                        targets, api_visibility="private", queue=False)
        demo.load(partial(article_choices, source), None, [doc_ids], api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def launch_options(allow_upload: bool = False) -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch`: local-only, system fonts, no analytics or share link;
    uploads bounded by the article panel's limit when it is on, else by a small one."""
    theme = gr.themes.Default(font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return {"theme": theme, "css_paths": [CSS_PATH], "share": False, "footer_links": ["api"],
            "ssr_mode": False, "pwa": False, "mcp_server": False, "enable_monitoring": False,
            "show_error": False, "quiet": True,
            "max_file_size": MAX_UPLOAD_MB * 1_000_000 if allow_upload else MAX_UPLOAD_BYTES}
