"""`build_app(pipeline)`: the Gradio page. Handlers are small module-level functions bound to the
pipeline with `functools.partial`; all HTML comes from `ui.render`."""

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
    render_placeholder,
    render_stopped,
)

__all__ = ["build_app", "launch_options", "article_views", "ask", "generate", "stopped", "relabel", "CONCURRENCY"]

log = logging.getLogger(__name__)

CONCURRENCY = 2
MAX_K = 20
DRAFT_EVERY_S = 0.08  # at most ~12 draft updates a second while the model writes
QUEUE_SIZE = 200
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


def article_views(pipeline: Pipeline) -> dict[str, ArticleView]:
    return {doc_id: ArticleView(doc_id, doc.title, doc.date, doc.text)
            for doc_id, doc in pipeline.documents.items()}


def _filters(doc_ids: Sequence[str] | None) -> Filters | None:
    return Filters(doc_ids=tuple(doc_ids)) if doc_ids else None


def ask(pipeline: Pipeline, articles: Mapping[str, ArticleView], question: str, k: float,
        doc_ids: Sequence[str] | None, interface_lang: str) -> tuple[str, str, str]:
    """Answer and passages for `question`; returns (answer HTML, passages HTML, interface language)."""
    lang = ui_lang(interface_lang)
    k_int = max(1, min(MAX_K, int(k or 5)))
    filters = _filters(doc_ids)
    try:
        answer = pipeline.ask(question or "", k=k_int, filters=filters)
        hits = pipeline.search(question or "", k=k_int, filters=filters)
    except QuestionError as err:
        return render_error(str(err), lang), render_placeholder(t(lang, "empty_passages")), lang
    shown = ui_lang(answer.lang, lang)
    log.info("answered (%s, abstained=%s) in %.0f ms", answer.lang, answer.abstained,
             answer.timings_ms.get("total", 0.0))
    return render_answer(answer, articles, lang), render_hits(hits, articles, answer.question, shown), shown


def generate(generator: Generator | None, articles: Mapping[str, ArticleView], question: str, k: float,
             doc_ids: Sequence[str] | None, interface_lang: str, enabled: bool) -> Iterator[tuple[Any, Any]]:
    """After `ask`, when "generate" is ticked: the model's draft while it writes, then the verified
    answer; yields (answer HTML, stop button update). Closing the iterator stops the model."""
    if not enabled or generator is None:
        yield gr.skip(), gr.skip()
        return
    lang = ui_lang(interface_lang)
    k_int = max(1, min(MAX_K, int(k or 5)))
    final, shown_at = None, 0.0
    try:
        yield render_generating("", lang), gr.update(visible=True)
        for step in generator.stream(question or "", k=k_int, filters=_filters(doc_ids)):
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
    )


def _article_choices(articles: Mapping[str, ArticleView]) -> list[tuple[str, str]]:
    return [(f"{a.title} ({a.doc_id})", a.doc_id) for a in sorted(articles.values(), key=lambda a: a.doc_id)]


def _language_radio(lang: str) -> gr.Radio:
    return gr.Radio(choices=[("Français", "fr"), ("English", "en")], value=lang,
                    label=t(lang, "interface"), elem_id="qa-lang", container=False)


def build_app(pipeline: Pipeline, lang: str = DEFAULT_LANG, generator: Generator | None = None) -> gr.Blocks:
    """The page: question, examples, options, an answer tab and a passages tab. With a `generator`,
    the options offer a generated answer (streamed, with a stop button)."""
    lang = ui_lang(lang)
    articles = article_views(pipeline)
    with gr.Blocks(title="News QA", analytics_enabled=False) as demo:
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
            k = gr.Slider(1, MAX_K, value=5, step=1, label=t(lang, "k"), elem_id="qa-k")
            doc_ids = gr.Dropdown(choices=_article_choices(articles), value=[], multiselect=True,
                                  label=t(lang, "articles"), elem_id="qa-docs")
            can_generate = generator is not None
            generate_box = gr.Checkbox(value=False, label=t(lang, "generate"), interactive=can_generate,
                                       info=t(lang, "generate_info" if can_generate else "generate_unavailable"),
                                       elem_id="qa-generate")
        with gr.Tabs():
            with gr.Tab(t(lang, "tab_answer"), id="answer") as answer_tab:
                answer_html = gr.HTML(render_placeholder(t(lang, "empty_answer")), elem_id="qa-answer",
                                      js_on_load=SCROLL_JS, padding=False)
            with gr.Tab(t(lang, "tab_passages"), id="passages") as passages_tab:
                passages_html = gr.HTML(render_placeholder(t(lang, "empty_passages")), elem_id="qa-passages",
                                        js_on_load=SCROLL_JS, padding=False)
        handler = partial(ask, pipeline, articles)
        inputs, outputs = [question, k, doc_ids, language], [answer_html, passages_html, language]
        asked = [gr.on([ask_button.click, question.submit], handler, inputs, outputs, api_name="ask",
                       concurrency_id="qa", concurrency_limit=CONCURRENCY),
                 examples.load_input_event.then(handler, inputs, outputs, api_visibility="private",
                                                concurrency_id="qa", concurrency_limit=CONCURRENCY)]
        if generator is not None:
            writing = partial(generate, generator, articles)
            generations = [event.then(writing, [*inputs, generate_box], [answer_html, stop_button],
                                      api_visibility="private", concurrency_id="generate",
                                      concurrency_limit=1)
                           for event in asked]
            stop_button.click(stopped, [language], [answer_html, stop_button], cancels=generations,
                              api_visibility="private", queue=False)
        targets = [header, question, ask_button, stop_button, generate_box, examples.dataset, options, k, doc_ids,
                   answer_tab, passages_tab, answer_html, passages_html]
        language.change(partial(relabel, can_generate=can_generate), [language, answer_html, passages_html],
                        targets, api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def launch_options() -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch`: local-only, system fonts, no analytics or share link."""
    theme = gr.themes.Default(font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return {"theme": theme, "css_paths": [CSS_PATH], "share": False, "footer_links": ["api"],
            "ssr_mode": False, "pwa": False, "mcp_server": False, "enable_monitoring": False,
            "show_error": False, "quiet": True}
