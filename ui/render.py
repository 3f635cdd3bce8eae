"""All the HTML the interface shows. Every piece of article or question text goes through
`html.escape`; highlights slice the raw article text with the offsets the citations carry."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa import Answer, Citation, Hit, IndexNotice
from ui.i18n import t, ui_lang

__all__ = [
    "ArticleView", "highlight", "score_bar", "render_answer", "render_hits", "render_header",
    "render_error", "render_placeholder", "is_placeholder", "render_generating", "render_stopped", "render_notices",
]

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[(\d+|\?)\]")  # a citation number, or "?" after an unsupported generated sentence


@dataclass(frozen=True)
class ArticleView:
    """What the interface shows of an article: plain values, `text` is the raw file text."""

    doc_id: str
    title: str
    date: str | None
    text: str
    url: str | None = None
    lang: str = ""
    source: str = ""      # the file it was read from


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _inside(start: int | None, end: int | None, lo: int, hi: int) -> bool:
    return start is not None and end is not None and lo <= start <= end <= hi


def _span(raw: str, start: int, end: int, emphasis: tuple[int | None, int | None]) -> str:
    """`raw[start:end]` escaped, with `[emphasis)` (raw offsets) wrapped in <strong> when inside."""
    a, b = emphasis
    if a is None or b is None or not _inside(a, b, start, end) or a == b:
        return _esc(raw[start:end])
    return f"{_esc(raw[start:a])}<strong>{_esc(raw[a:b])}</strong>{_esc(raw[b:end])}"


def highlight(raw: str, start: int, end: int, mark_id: str,
              emphasis: tuple[int | None, int | None] = (None, None)) -> str:
    """The whole of `raw`, escaped, with `raw[start:end]` wrapped in `<mark id=mark_id>`."""
    if not _inside(start, end, 0, len(raw)):
        raise ValueError(f"span {start}-{end} lies outside the article ({len(raw)} characters)")
    return (f"{_esc(raw[:start])}<mark id=\"{_esc(mark_id)}\">{_span(raw, start, end, emphasis)}</mark>"
            f"{_esc(raw[end:])}")


def score_bar(score: float, top: float, lang: str, detail: str = "", kind: str = "score") -> str:
    """A horizontal bar `score / top` wide, with the number beside it: an extractive citation's
    `confidence` (the probability that it holds the answer) as a percentage, a generated
    sentence's `similarity` to its cited span (a cosine) or a passage's search `score` as is."""
    width = max(0.0, min(1.0, score / top)) * 100 if top > 0 else 0.0
    label = (t(lang, "confidence", pct=round(score * 100)) if kind == "confidence"
             else f"{t(lang, kind)} {score:.4g}")
    return (f"<div class=\"qa-score\" title=\"{_esc(label)}\"><span class=\"qa-bar\">"
            f"<span class=\"qa-fill\" style=\"width:{width:.0f}%\"></span></span>"
            f"<span class=\"qa-score-num\">{_esc(label)}{_esc(detail)}</span></div>")


def _link(url: str | None, lang: str) -> str:
    """A link to the article's own page; web addresses only (never `javascript:`)."""
    if not url or not url.lower().startswith(("https://", "http://")):
        return ""
    return (f"<a class=\"qa-source\" href=\"{_esc(url)}\" target=\"_blank\" rel=\"noopener noreferrer\">"
            f"{_esc(t(lang, 'source_link'))}</a> · ")


def _meta(title: str, date: str | None, doc_id: str, start: int, end: int, lang: str, url: str | None = None) -> str:
    when = _esc(date) if date else f"<em>{t(lang, 'no_date')}</em>"
    return (f"<div class=\"qa-head-text\"><div class=\"qa-title\">{_esc(title)}</div>"
            f"<div class=\"qa-meta\">{when} · <code>{_esc(doc_id)}</code> · {_link(url, lang)}"
            f"<span class=\"qa-offsets\" data-start=\"{start}\" data-end=\"{end}\">"
            f"{_esc(t(lang, 'chars'))} {start}–{end}</span></div></div>")


def _article(article: ArticleView | None, start: int, end: int, mark_id: str, summary: str,
             emphasis: tuple[int | None, int | None], quote: str) -> str:
    """A closed <details> holding the whole article with the span marked; its summary links to the
    mark, so it opens and scrolls there even without JS. Empty when the span does not slice the
    article to `quote` (the highlight would be wrong, so none is shown)."""
    if article is None or not _inside(start, end, 0, len(article.text)) or article.text[start:end] != quote:
        log.warning("span %s-%s does not match article %s; no article view",
                    start, end, article.doc_id if article else "?")
        return ""
    body = highlight(article.text, start, end, mark_id, emphasis)
    return (f"<details class=\"qa-article\"><summary><a href=\"#{_esc(mark_id)}\">{_esc(summary)}</a></summary>"
            f"<div class=\"qa-article-text\">{body}</div></details>")


def _citation_card(c: Citation, article: ArticleView | None, lang: str, prefix: str, top: float | None,
                   summary_key: str, kind: str) -> str:
    card_id = f"{prefix}-{c.n}"
    emphasis = (c.answer_start, c.answer_end)
    quote = _span(c.quote, 0, len(c.quote), (
        None if c.answer_start is None else c.answer_start - c.start,
        None if c.answer_end is None else c.answer_end - c.start))
    return (f"<li class=\"qa-card\" id=\"{card_id}\"><div class=\"qa-card-head\">"
            f"<span class=\"qa-n\">[{c.n}]</span>{_meta(c.title, c.date, c.doc_id, c.start, c.end, lang, c.url)}"
            f"</div>{'' if top is None else score_bar(c.score, top, lang, kind=kind)}"
            f"<blockquote class=\"qa-quote\">{quote}</blockquote>"
            f"{_article(article, c.start, c.end, f'{card_id}-span', t(lang, summary_key), emphasis, c.quote)}"
            "</li>")


def _cards(citations: Sequence[Citation], articles: Mapping[str, ArticleView], lang: str,
           prefix: str, summary_key: str, bars: bool = True, kind: str = "confidence") -> str:
    """Source cards, with score bars scaled to 1 (the ranker's probability, or a generated
    sentence's cosine with its span: `kind`); without them for the passages shown when there is
    no answer (full bars would read as confidence in what is not an answer)."""
    top = max([1.0, *(c.score for c in citations)]) if bars else None
    items = "".join(_citation_card(c, articles.get(c.doc_id), lang, prefix, top, summary_key, kind)
                    for c in citations)
    return f"<ol class=\"qa-cards\">{items}</ol>"


def _answer_text(text: str, numbers: set[int], lang: str) -> str:
    """`text` escaped, each claim (the text up to a marker `[n]` of an existing citation, or up to
    the `[?]` of an unsupported generated sentence) on its own line, each marker a link to its
    source card; markers that follow one another belong to the same claim."""
    parts, pos = [], 0
    for match in _MARKER.finditer(text):
        value = match.group(1)
        if value != "?" and int(value) not in numbers:
            continue
        if value == "?":
            marker = (f"<span class=\"qa-unsupported-mark\" title=\"{_esc(t(lang, 'unsupported'))}\">"
                      f"[?]</span>")
        else:
            marker = f"<a class=\"qa-marker\" href=\"#ans-{value}\">[{value}]</a>"
        claim = text[pos:match.start()].strip()
        if not claim and parts:
            parts[-1] = parts[-1][: -len("</span>")] + marker + "</span>"
        else:
            kind = "qa-claim qa-unsupported" if value == "?" else "qa-claim"
            parts.append(f"<span class=\"{kind}\">{_esc(claim)} {marker}</span>")
        pos = match.end()
    rest = text[pos:].strip()
    if rest:
        parts.append(f"<span class=\"qa-claim\">{_esc(rest)}</span>")
    return " ".join(parts)


def _short_answers(citations: Sequence[Citation], lang: str) -> str:
    found = [(c.n, c.short_answer) for c in citations if c.short_answer]
    if not found:
        return ""
    items = ", ".join(f"<strong>{_esc(s)}</strong> <a class=\"qa-marker\" href=\"#ans-{n}\">[{n}]</a>"
                      for n, s in found)
    colon = "\u00a0: " if lang == "fr" else ": "
    return f"<p class=\"qa-short\">{_esc(t(lang, 'answer_label'))}{colon}{items}</p>"


def _duration(ms: float, lang: str) -> str:
    """"420 ms" under a second, else seconds with two decimals ("1,42 s" in French)."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    text = f"{ms / 1000:.2f} s"
    return text.replace(".", ",") if lang == "fr" else text


def _footer(answer: Answer, lang: str) -> str:
    notices = "".join(f"<p class=\"qa-notice\">{_esc(n)}</p>" for n in answer.notices)
    total = answer.timings_ms.get("total")
    key = "no_answer_in" if answer.abstained else "answered_in"   # no answer was given
    timing = "" if total is None else \
        f"<p class=\"qa-time\">{_esc(t(lang, key, duration=_duration(total, lang)))}</p>"
    return notices + timing


def render_answer(answer: Answer, articles: Mapping[str, ArticleView], fallback_lang: str) -> str:
    """The answer with its linked markers and source cards, or an unmistakable abstention."""
    lang = ui_lang(answer.lang, fallback_lang)
    if answer.abstained:
        return (f"<div class=\"qa-out qa-abstained\" lang=\"{lang}\"><div class=\"qa-abstain\" role=\"status\">"
                f"<span class=\"qa-abstain-label\">{_esc(t(lang, 'abstained'))}</span>"
                f"<p>{_esc(answer.text)}</p></div>{_footer(answer, lang)}"
                f"<h3 class=\"qa-h\">{_esc(t(lang, 'related'))}</h3>"
                f"{_cards(answer.related, articles, lang, 'rel', 'open_passage', bars=False)}</div>")
    numbers = {c.n for c in answer.citations}
    kind = "similarity" if answer.generated else "confidence"
    generated = (f"<p class=\"qa-generated-label\">{_esc(t(lang, 'generated_label'))}</p>"
                 if answer.generated else "")
    return (f"<div class=\"qa-out\" lang=\"{lang}\"><div class=\"qa-reply\">{generated}"
            f"{_short_answers(answer.citations, lang)}"
            f"<p class=\"qa-text\">{_answer_text(answer.text, numbers, lang)}</p>{_footer(answer, lang)}</div>"
            f"<h3 class=\"qa-h\">{_esc(t(lang, 'sources'))}</h3>"
            f"{_cards(answer.citations, articles, lang, 'ans', 'open_article', kind=kind)}</div>")


def render_generating(draft: str, lang: str) -> str:
    """The model's text while it writes: visibly a draft, not an answer (its markers are prompt
    passage numbers and nothing in it has been checked yet)."""
    lang = ui_lang(lang)
    body = f"<p class=\"qa-draft\">{_esc(draft)}<span class=\"qa-caret\"></span></p>" if draft.strip() else ""
    return (f"<div class=\"qa-out qa-generating\" lang=\"{lang}\" role=\"status\" aria-busy=\"true\">"
            f"<span class=\"qa-generating-label\">{_esc(t(lang, 'generating'))}</span>{body}"
            f"<p class=\"qa-notice\">{_esc(t(lang, 'generating_note'))}</p></div>")


def render_stopped(lang: str) -> str:
    lang = ui_lang(lang)
    return (f"<div class=\"qa-out qa-stopped\" lang=\"{lang}\" role=\"status\">"
            f"<p>{_esc(t(lang, 'stopped'))}</p></div>")


def _hit_card(hit: Hit, article: ArticleView | None, lang: str, top: float) -> str:
    card_id = f"hit-{hit.rank}"
    title = article.title if article else hit.doc_id
    date = article.date if article else None
    parts = [f" · dense {hit.dense:.3f}" if hit.dense is not None else "",
             f" · bm25 {hit.bm25:.2f}" if hit.bm25 is not None else ""]
    context = _article(article, hit.start, hit.end, f"{card_id}-span", t(lang, "open_passage"), (None, None),
                       hit.text)
    return (f"<li class=\"qa-card\" id=\"{card_id}\"><div class=\"qa-card-head\">"
            f"<span class=\"qa-n\">{hit.rank}.</span>"
            f"{_meta(title, date, hit.doc_id, hit.start, hit.end, lang, article.url if article else None)}"
            f"</div>{score_bar(hit.score, top, lang, ''.join(parts))}"
            f"<div class=\"qa-passage\">{_esc(hit.text)}</div>"
            f"{context}</li>")


def render_hits(hits: Sequence[Hit], articles: Mapping[str, ArticleView], question: str, lang: str) -> str:
    """The best passages, each with its score and a view of it marked inside its article."""
    lang = ui_lang(lang)
    if not hits:
        return render_placeholder(t(lang, "no_passage"))
    top = max(h.score for h in hits)
    items = "".join(_hit_card(h, articles.get(h.doc_id), lang, top) for h in hits)
    count = t(lang, "searched_one") if len(hits) == 1 else t(lang, "searched_in", count=len(hits))
    return (f"<div class=\"qa-out\" lang=\"{lang}\"><p class=\"qa-asked\"><q>{_esc(question)}</q> — "
            f"{_esc(count)}</p><ol class=\"qa-cards\">{items}</ol></div>")


def render_header(lang: str) -> str:
    return (f"<div class=\"qa-header\"><h1>{_esc(t(lang, 'title'))}</h1>"
            f"<p>{_esc(t(lang, 'intro'))}</p></div>")


def render_error(message: str, lang: str) -> str:
    return (f"<div class=\"qa-out qa-error\" role=\"alert\"><strong>{_esc(t(lang, 'error'))}</strong>"
            f"<p>{_esc(message)}</p></div>")


def render_notices(notices: Sequence[IndexNotice], lang: str) -> str:
    """What the reader must know about the index before reading an answer from it (the articles
    changed since it was built, a new index could not be loaded); empty when nothing."""
    if not notices:
        return ""
    lang = ui_lang(lang)
    items = "".join(f"<p>{_esc(n.text(lang))}</p>" for n in notices)
    return (f"<div class=\"qa-index-notice\" role=\"status\"><strong>{_esc(t(lang, 'index_notice'))}"
            f"</strong>{items}</div>")


def render_placeholder(text: str) -> str:
    return f"<div class=\"qa-out qa-empty\"><p>{_esc(text)}</p></div>"


def is_placeholder(markup: str | None) -> bool:
    """Whether `markup` is empty or a `render_placeholder` (so a language switch may replace it)."""
    return not markup or markup.startswith("<div class=\"qa-out qa-empty\">")
