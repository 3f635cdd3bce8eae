"""The reader's written training questions (eval.synth): what is kept of what the model writes,
how a question becomes training pairs, and the shipped file's questions, which must sit on
training articles only (the dev set's tune half, the seeds) and point at their answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.devset import DEVSET_DIR, load_split
from eval.synth import SYNTH_FILE, SynthQuestion, accept, finds_its_sentence, load_synthetic, synthetic_pairs
from eval.train_reader import Pair

ROOT = Path(__file__).resolve().parents[1]
needs_devset = pytest.mark.skipif(not (DEVSET_DIR / "questions.jsonl").is_file(),
                                  reason=f"the dev set is not at {DEVSET_DIR} (../shared is beside the project in CI)")

SENTENCE = "Le 14 juillet 1789, la foule parisienne prend la Bastille après plusieurs heures de combat."


def test_a_question_that_asks_for_its_span_in_the_asked_language_is_kept():
    assert accept("Quel jour la foule parisienne a-t-elle pris la Bastille ?", "14 juillet 1789", SENTENCE, "fr", "fr")
    assert accept("On what day did the Paris crowd storm the Bastille?", "14 juillet 1789", SENTENCE, "en", "fr")


@pytest.mark.parametrize("question, lang", [
    ("Que s'est-il passé le 14 juillet 1789 ?", "fr"),                  # says its answer
    ("Que prend la foule parisienne en 1789 ?", "fr"),                   # says the answer's figures
    ("Quel jour la foule parisienne a-t-elle pris la Bastille ?", "en"),  # not the asked language
    ("Quelle date la phrase mentionne-t-elle pour la Bastille ?", "fr"),  # about the text, not the world
    ("Quel jour la foule parisienne a pris la Bastille.", "fr"),         # not a question
    ("Quel jour était-ce ?", "fr"),                                      # shares no words with the sentence
])
def test_a_question_unfit_to_train_on_is_dropped(question, lang):
    assert not accept(question, "14 juillet 1789", SENTENCE, lang, "fr")


def _row(pipeline, needle: str) -> int:
    return next(i for i, s in enumerate(pipeline.data.sentences) if needle in s.text)


def test_a_question_must_point_at_its_own_sentence_among_its_articles(pipeline):
    row = _row(pipeline, "7 000 conteneurs")
    assert finds_its_sentence(pipeline, "Combien de conteneurs d'armes la Corée du Nord a-t-elle envoyés à la Russie ?",
                              row)
    assert not finds_its_sentence(pipeline, "Quelle est la capitale de l'Australie ?", row)


def test_a_written_question_becomes_a_pair_with_its_answer_and_one_without(pipeline):
    row = _row(pipeline, "7 000 conteneurs")
    s = pipeline.data.sentences[row]
    at = s.text.index("7 000")
    q = SynthQuestion("synth-x", "Combien de conteneurs ?", "fr", s.doc_id, s.start + at, s.start + at + 5, "7 000",
                      "how_many")
    pairs = synthetic_pairs(pipeline, {s.doc_id}, Pair, [q])
    assert [(p.relevant, p.sentence == s.text) for p in pairs] == [(True, True), (False, False)]
    assert s.text[pairs[0].span[0] : pairs[0].span[1]] == "7 000"
    assert synthetic_pairs(pipeline, {"another.txt"}, Pair, [q]) == []           # only the docs asked for
    moved = SynthQuestion(**{**q.__dict__, "answer": "8 000"})
    assert synthetic_pairs(pipeline, {s.doc_id}, Pair, [moved]) == []            # offsets that no longer fit


def test_the_shipped_questions_are_on_training_articles_only():
    questions = load_synthetic()
    assert len(questions) >= 200, f"{SYNTH_FILE} holds {len(questions)} questions; rebuild with python -m eval.synth"
    report = {doc for doc, half in load_split().items() if half == "report"}
    seeds = {p.name for p in (ROOT / "seeds").iterdir()}
    assert not {q.doc for q in questions} & report
    assert {q.doc for q in questions} <= seeds | {doc for doc, half in load_split().items() if half == "tune"}
    assert len({q.id for q in questions}) == len(questions)
    assert {q.lang for q in questions} == {"fr", "en"}


@needs_devset
def test_the_shipped_questions_point_at_their_answers_in_the_dev_set():
    for q in load_synthetic():
        path = DEVSET_DIR / "corpus" / q.doc
        if path.is_file():
            assert path.read_text(encoding="utf-8")[q.start : q.end] == q.answer, q.id


def test_the_shipped_file_is_one_question_per_line():
    for line in SYNTH_FILE.read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) == set(SynthQuestion.__dataclass_fields__)
