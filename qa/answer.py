"""Turn selected evidence sentences into an `Answer` with numbered citations, or abstain."""

from __future__ import annotations

from collections.abc import Sequence

from index import IndexData
from qa.abstain import AbstainConfig, probability_unanswerable
from qa.evidence import Scored
from qa.question import Kind, Question, question_kind
from qa.reading import Combination
from qa.short_answer import states_figure
from qa.types import Answer, Citation, Hit

__all__ = ["assemble", "no_answer_text", "figure_notice"]

_NO_ANSWER = {
    "fr": "Les articles ne répondent pas à cette question.",
    "en": "The articles don't answer this question.",
}
_RELATED = 3
_NO_FIGURE = {"fr": "Aucun nombre n’apparaît dans les phrases citées : elles ne disent peut-être pas combien.",
              "en": "No figure appears in the quoted sentences: they may not say how many or how much."}


def no_answer_text(lang: str) -> str:
    return _NO_ANSWER.get(lang, _NO_ANSWER["en"])


def _citation(n: int, s: Scored, data: IndexData, question: Question, combination: Combination | None) -> Citation:
    sentence = data.sentences[s.index]
    doc = data.documents[sentence.doc_id]
    short = s.answer if combination is None else combination.short_answer(s, question, sentence.text)
    answer = (sentence.start + short[0], sentence.start + short[1]) if short else (None, None)
    return Citation(n=n, doc_id=doc.doc_id, title=doc.title, date=doc.date, start=sentence.start,
                    end=sentence.end, quote=sentence.text, score=round(s.score, 4),
                    answer_start=answer[0], answer_end=answer[1], url=doc.url)


def _related(hits: list[Hit], data: IndexData) -> tuple[Citation, ...]:
    related = []
    for hit in hits[:_RELATED]:
        doc = data.documents[hit.doc_id]
        related.append(Citation(n=len(related) + 1, doc_id=hit.doc_id, title=doc.title, date=doc.date,
                                start=hit.start, end=hit.end, quote=hit.text, score=round(hit.score, 4),
                                url=doc.url))
    return tuple(related)


def figure_notice(question: str, lang: str, quotes: Sequence[str]) -> tuple[str, ...]:
    """A warning when the question asks how many or how much and no quoted sentence gives a figure
    (dates are not checked: "when" is often answered by a period, "young", "the Middle Ages")."""
    if question_kind(question) != Kind.HOW_MANY or any(states_figure(q, question) for q in quotes):
        return ()
    return (_NO_FIGURE.get(lang, _NO_FIGURE["en"]),)


def _reading_order(selected: list[Scored], data: IndexData) -> list[Scored]:
    """Articles in order of their best sentence; sentences in article order within each."""
    doc_rank: dict[str, int] = {}
    for s in selected:
        doc_rank.setdefault(data.sentences[s.index].doc_id, len(doc_rank))
    return sorted(selected, key=lambda s: (doc_rank[data.sentences[s.index].doc_id], data.sentences[s.index].start))


def assemble(question: Question, selected: list[Scored], hits: list[Hit], data: IndexData,
             signals: dict[str, float], config: AbstainConfig, combination: Combination | None = None) -> Answer:
    """Abstain when the model finds the evidence too weak (or there is none). The short answer
    inside a citation is the reader's (when it is loaded and confident), else the pattern's."""
    confidence = 1.0 - probability_unanswerable(signals, config) if selected else 0.0
    if not selected or config.abstains(signals):
        return Answer(question=question.text, lang=question.lang, abstained=True,
                      text=no_answer_text(question.lang), related=_related(hits, data),
                      notices=question.notices, confidence=confidence, signals=signals)
    citations = tuple(_citation(n, s, data, question, combination) for n, s in enumerate(_reading_order(selected, data), start=1))
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    notices = question.notices + figure_notice(question.text, question.lang, [c.quote for c in citations])
    return Answer(question=question.text, lang=question.lang, abstained=False, text=text, citations=citations,
                  notices=notices, confidence=confidence, signals=signals)
