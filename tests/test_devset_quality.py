"""A quality floor on articles nobody tuned for: the real pipeline (model, ranker, reader,
abstention) over 15 articles of the dev set's report half and 100 of their questions, French,
English and cross-lingual, plus questions whose article is not there. The floors sit a few
points under what this slice measured when they were set; a change that loses more than that
fails here. Skips where ../shared is absent (a fresh clone)."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from eval.devset import DEVSET_DIR, devset_questions, load_split, question_half
from eval.metrics import contains_answer, token_f1
from index import BuildConfig, build_index

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (DEVSET_DIR / "questions.jsonl").is_file(),
    reason=f"the dev set is not at {DEVSET_DIR} (../shared is beside the project in CI)")]

ARTICLES = 15
QUESTIONS = 100
UNANSWERABLE = 15


def _slice():
    """15 report-half articles (9 French, 6 English) and 100 questions: answerable ones taken
    in turn from each article, then out-of-corpus ones."""
    halves = load_split()
    questions = devset_questions(DEVSET_DIR)
    report = [q for q in questions if question_half(q, halves) == "report"]
    by_doc: dict[str, list] = {}
    for q in report:
        if q.gold.answerable:
            by_doc.setdefault(q.gold.docs[0], []).append(q)
    ordered = sorted(by_doc, key=lambda d: hashlib.sha256(d.encode()).hexdigest())
    docs = [d for d in ordered if d.startswith("fr_")][:9] + [d for d in ordered if d.startswith("en_")][:6]
    chosen, turn = [], 0
    while len(chosen) < QUESTIONS - UNANSWERABLE and turn < 100:
        chosen += [by_doc[d][turn] for d in docs if turn < len(by_doc[d])]
        turn += 1
    chosen = chosen[: QUESTIONS - UNANSWERABLE]
    return docs, chosen + [q for q in report if q.type == "out_of_corpus"][:UNANSWERABLE]


@pytest.fixture(scope="module")
def dev_slice(tmp_path_factory: pytest.TempPathFactory, embedder):
    from qa import Pipeline

    docs, questions = _slice()
    folder = tmp_path_factory.mktemp("devslice")
    corpus = folder / "corpus"
    corpus.mkdir()
    for doc in docs:
        shutil.copyfile(DEVSET_DIR / "corpus" / doc, corpus / doc)
    build_index(BuildConfig(seeds_dir=corpus, index_dir=folder / "index", progress=False), embedder=embedder)
    pipeline = Pipeline.load(folder / "index", embedder=embedder)
    return pipeline, questions, [pipeline.ask(q.question) for q in questions]


def test_slice_mixes_languages_and_kinds(dev_slice):
    pipeline, questions, _ = dev_slice
    assert len(questions) == QUESTIONS and len(pipeline.documents) == ARTICLES
    pairs = {(q.lang, pipeline.documents[q.gold.docs[0]].lang) for q in questions if q.gold.answerable}
    assert pairs == {("fr", "fr"), ("en", "en"), ("en", "fr"), ("fr", "en")}


def test_answers_hold_up_on_articles_nobody_tuned_for(dev_slice):
    _, questions, answers = dev_slice
    answerable = [(q, a) for q, a in zip(questions, answers) if q.gold.answerable]
    unanswerable = [a for q, a in zip(questions, answers) if not q.gold.answerable]
    contained = sum(not a.abstained and contains_answer(a.text, q.gold.answers) for q, a in answerable) / len(answerable)
    refused = sum(a.abstained for _, a in answerable) / len(answerable)
    caught = sum(a.abstained for a in unanswerable) / len(unanswerable)
    cited = [len(a.citations) for _, a in answerable if not a.abstained]
    assert contained >= FLOORS["containment"], f"containment {contained:.3f}"
    assert refused <= FLOORS["false_abstention"], f"false abstentions {refused:.3f}"
    assert caught >= FLOORS["out_of_corpus_caught"], f"out-of-corpus questions refused {caught:.3f}"
    assert sum(cited) / len(cited) <= 2.0


def test_short_answers_when_shown_are_mostly_right(dev_slice):
    """The shipped confidence threshold shows a short answer only when it is usually right (today
    it shows none on this slice: no confidence level reached the bar on the tune half)."""
    _, questions, answers = dev_slice
    shown = [(q, a.citations[0].short_answer) for q, a in zip(questions, answers)
             if q.gold.answerable and not a.abstained and a.citations[0].short_answer]
    right = sum(token_f1(short, q.gold.answers) >= 0.5 for q, short in shown)
    assert right >= FLOORS["short_right"] * len(shown), f"{right} of {len(shown)} short answers right"


# measured on this slice: containment 0.612, false abstentions 0.200, out-of-corpus caught 1.000
FLOORS = {"containment": 0.56, "false_abstention": 0.26, "out_of_corpus_caught": 0.85, "short_right": 0.8}
