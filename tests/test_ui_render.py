"""Rendering: every piece of text is escaped, and highlights slice the raw text at the citation's offsets."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from qa import Answer, Citation, Hit
from ui.render import ArticleView, highlight, render_answer, render_error, render_hits, score_bar

PREFIX = "Titre « piégé » <script>alert(1)</script>\n\n"
EVIL = "Voici <img src=x onerror=alert(1)> et l’écho."
SENTENCE = "Kim Jong Un a rencontré M. Choïgou à Pyongyang, selon l’agence « KCNA »."
SUFFIX = "\n\nFin & suite <b>non</b>."
RAW = PREFIX + EVIL + " " + SENTENCE + SUFFIX
START = len(PREFIX + EVIL + " ")
END = START + len(SENTENCE)
ANSWER_START = START + SENTENCE.index("M. Choïgou")
ANSWER_END = ANSWER_START + len("M. Choïgou")
ARTICLE = ArticleView("doc<1>.txt", "Titre <i>x</i> « piégé »", "2024-03", RAW)


class _Collector(HTMLParser):
    """Records every tag, and the text inside <mark> and <strong>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.marked: list[str] = []
        self.strong: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.open.append(tag)
        if tag in ("mark", "strong"):
            (self.marked if tag == "mark" else self.strong).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if "mark" in self.open:
            self.marked[-1] += data
        if "strong" in self.open:
            self.strong[-1] += data


def _parse(markup: str) -> _Collector:
    parser = _Collector()
    parser.feed(markup)
    parser.close()
    return parser


def _citation(n: int = 1, with_answer: bool = True) -> Citation:
    return Citation(n=n, doc_id=ARTICLE.doc_id, title=ARTICLE.title, date=ARTICLE.date, start=START, end=END,
                    quote=RAW[START:END], score=0.91, answer_start=ANSWER_START if with_answer else None,
                    answer_end=ANSWER_END if with_answer else None)


def _answer(question: str = "Qui a rencontré Kim ?", lang: str = "fr") -> Answer:
    c = _citation()
    return Answer(question=question, lang=lang, abstained=False, text=f"{c.quote} [1]", citations=(c,),
                  timings_ms={"total": 1234.5})


def _no_live_tags(markup: str) -> None:
    """No tag from the text became a real element, and no element got an event handler."""
    tags = {tag for tag, _ in _parse(markup).tags}
    assert not tags & {"script", "img", "b", "i"}, tags
    for _, attrs in _parse(markup).tags:
        assert not any(name.startswith("on") for name in attrs), attrs


def test_highlight_wraps_exactly_the_span_and_keeps_the_rest() -> None:
    markup = highlight(RAW, START, END, "m1")
    before, rest = markup.split('<mark id="m1">', 1)
    inside, after = rest.split("</mark>", 1)
    assert html.unescape(before) == RAW[:START]
    assert html.unescape(inside) == RAW[START:END] == SENTENCE
    assert html.unescape(after) == RAW[END:]
    _no_live_tags(markup)


def test_highlight_emphasises_the_short_answer_by_offsets() -> None:
    markup = highlight(RAW, START, END, "m1", (ANSWER_START, ANSWER_END))
    parsed = _parse(markup)
    assert parsed.marked == [SENTENCE]
    assert parsed.strong == ["M. Choïgou"] == [RAW[ANSWER_START:ANSWER_END]]


@pytest.mark.parametrize("span", [(-1, 3), (5, 3), (0, len(RAW) + 1)])
def test_highlight_rejects_spans_outside_the_text(span: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        highlight(RAW, *span, "m")


def test_answer_escapes_article_text_and_marks_the_cited_span() -> None:
    markup = render_answer(_answer(), {ARTICLE.doc_id: ARTICLE}, "en")
    _no_live_tags(markup)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup
    parsed = _parse(markup)
    assert parsed.marked == [RAW[START:END]]
    ids = [attrs.get("id") for tag, attrs in parsed.tags if tag == "mark"]
    assert ids == ["ans-1-span"]
    assert any(tag == "a" and attrs.get("href") == "#ans-1" for tag, attrs in parsed.tags)
    assert any(tag == "li" and attrs.get("id") == "ans-1" for tag, attrs in parsed.tags)


def test_article_text_around_the_mark_is_intact() -> None:
    markup = render_answer(_answer(), {ARTICLE.doc_id: ARTICLE}, "en")
    article = markup.split('<div class="qa-article-text">', 1)[1].split("</div>", 1)[0]
    text = html.unescape(re.sub(r"</?(mark|strong)[^>]*>", "", article))
    assert text == RAW


def test_accents_and_french_punctuation_survive() -> None:
    markup = render_answer(_answer(), {ARTICLE.doc_id: ARTICLE}, "fr")
    for piece in ("é", "’", "« KCNA »", "Choïgou", "« piégé »"):
        assert piece in html.unescape(markup)
    assert "Réponse en 1,23 s" in markup
    assert "Sources" in markup


def test_duration_reads_naturally() -> None:
    fast = Answer("q", "en", False, "It did.", timings_ms={"total": 42.4})
    assert "Answered in 42 ms" in render_answer(fast, {}, "en")


def test_answer_text_keeps_every_claim_and_links_only_real_markers() -> None:
    c = _citation()
    answer = Answer("q", "fr", False, f"{c.quote} [1] Autre phrase [7] fin.", citations=(c,))
    markup = render_answer(answer, {ARTICLE.doc_id: ARTICLE}, "fr")
    text = markup.split('<p class="qa-text">', 1)[1].split("</p>", 1)[0]
    assert html.unescape(re.sub(r"<[^>]+>", "", text)) == answer.text
    assert text.count('class="qa-marker"') == 1 and "[7]" in text


def test_short_answer_is_emphasised_in_quote_and_summary() -> None:
    parsed = _parse(render_answer(_answer(), {ARTICLE.doc_id: ARTICLE}, "en"))
    assert parsed.strong.count("M. Choïgou") >= 3  # short-answer line, quote, article


def test_no_short_answer_means_no_emphasis() -> None:
    c = _citation(with_answer=False)
    answer = Answer("q", "en", False, f"{c.quote} [1]", citations=(c,))
    assert _parse(render_answer(answer, {ARTICLE.doc_id: ARTICLE}, "en")).strong == []


def test_mismatched_offsets_show_no_wrong_highlight() -> None:
    c = Citation(1, ARTICLE.doc_id, "t", None, START + 1, END, RAW[START:END], 0.5)
    markup = render_answer(Answer("q", "en", False, "x [1]", citations=(c,)), {ARTICLE.doc_id: ARTICLE}, "en")
    assert "<mark" not in markup


def test_question_html_is_escaped_in_passages() -> None:
    hit = Hit(rank=1, doc_id=ARTICLE.doc_id, start=START, end=END, text=RAW[START:END], score=0.02,
              dense=0.8, bm25=1.2)
    question = "<img src=x onerror=alert(1)> Qui ?"
    markup = render_hits([hit], {ARTICLE.doc_id: ARTICLE}, question, "fr")
    _no_live_tags(markup)
    assert html.escape(question) in markup
    assert _parse(markup).marked == [SENTENCE]
    assert "— 1 passage</p>" in markup   # one passage, not "1 passages"
    assert "— 2 passages</p>" in render_hits([hit, hit], {ARTICLE.doc_id: ARTICLE}, "Qui ?", "en")


def test_abstention_is_explicit_and_lists_related_not_sources() -> None:
    related = Citation(1, ARTICLE.doc_id, ARTICLE.title, None, START, END, RAW[START:END], 0.3)
    fr = Answer("Capitale du Pérou ?", "fr", True, "Les articles ne répondent pas à cette question.",
                related=(related,))
    markup = render_answer(fr, {ARTICLE.doc_id: ARTICLE}, "en")
    assert "Les articles ne répondent pas à cette question." in markup
    assert "Pas de réponse" in markup and "pas des sources" in markup
    assert 'id="rel-1"' in markup and 'id="ans-' not in markup and ">Sources<" not in markup
    assert "qa-score" not in markup   # no strength bars for what is not an answer
    en = Answer("Capital of Peru?", "en", True, "The articles don't answer this question.", timings_ms={"total": 80.0})
    assert "The articles don&#x27;t answer this question." in render_answer(en, {}, "fr")
    assert "Searched in 80 ms" in render_answer(en, {}, "fr") and "Answered in" not in render_answer(en, {}, "fr")


def test_unknown_language_follows_the_interface() -> None:
    markup = render_answer(_answer(lang="de"), {ARTICLE.doc_id: ARTICLE}, "fr")
    assert 'lang="fr"' in markup and "Réponse en" in markup


def test_error_and_score_bar_escape() -> None:
    assert "&lt;b&gt;" in render_error("<b>empty</b>", "en")
    assert 'style="width:50%"' in score_bar(0.5, 1.0, "en")
    assert 'style="width:100%"' in score_bar(2.0, 1.0, "en")
    assert 'style="width:0%"' in score_bar(0.5, 0.0, "en")


def test_a_citation_shows_its_confidence_and_a_passage_its_search_score() -> None:
    assert "confidence 92%" in score_bar(0.9213, 1.0, "en", kind="confidence")
    assert "confiance 92 %" in score_bar(0.9213, 1.0, "fr", kind="confidence")
    assert "search score 0.0328" in score_bar(0.0328, 0.05, "en")
    assert "score de recherche 0.0328" in score_bar(0.0328, 0.05, "fr")


def test_a_generated_answers_citation_shows_its_similarity_not_a_confidence() -> None:
    """A generated sentence's citation carries the verifier's cosine, not a probability."""
    c = replace(_citation(), score=0.8731)
    answer = Answer("q", "en", False, f"{c.quote} [1]", citations=(c,), generated=True)
    markup = render_answer(answer, {ARTICLE.doc_id: ARTICLE}, "en")
    assert "similarity to the sentence 0.8731" in markup and "confidence" not in markup
    assert "confidence 87%" in render_answer(replace(answer, generated=False), {ARTICLE.doc_id: ARTICLE}, "en")


def test_example_questions_fit_their_chips_whole() -> None:
    from ui.i18n import EXAMPLE_CHARS, EXAMPLES

    assert all(len(q) <= EXAMPLE_CHARS for q in EXAMPLES), [q for q in EXAMPLES if len(q) > EXAMPLE_CHARS]


def test_passage_count_reads_what_api_clients_send() -> None:
    from ui.inputs import DEFAULT_K, MAX_K, passage_count

    assert [passage_count(k) for k in (None, "", 3, 3.0, "3", " 7 ", 2.6, MAX_K)] == [DEFAULT_K, DEFAULT_K, 3, 3, 3, 7, 3, MAX_K]
    assert [passage_count(k) for k in ("five", 0, MAX_K + 1, -2, True, float("nan"), float("inf"), [3], {})] == [None] * 9


def test_question_and_articles_read_what_api_clients_send() -> None:
    from ui.inputs import article_names, question_text

    assert [question_text(q) for q in (None, "Qui ?", 42)] == ["", "Qui ?", "42"]
    assert [article_names(d) for d in (None, "", "a.txt", ["a.txt", None, "", "b.txt"], ("a.txt",))] == \
        [[], [], ["a.txt"], ["a.txt", "b.txt"], ["a.txt"]]
