"""The dev set's fixed split and the project's translated questions. The checks that read the
dev set itself skip where `../shared/data/devset` is absent (a fresh clone); CI has it."""

from __future__ import annotations

import collections
import json

import pytest

from eval.dataset import load_questions
from eval.devset import CROSSLINGUAL_FILE, DEVSET_DIR, SPLIT_FILE, load_split, make_split, question_half

needs_devset = pytest.mark.skipif(not (DEVSET_DIR / "questions.jsonl").is_file(),
                                  reason=f"the dev set is not at {DEVSET_DIR} (../shared is beside the project in CI)")


def test_split_file_puts_every_article_in_exactly_one_half():
    data = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    assert not set(data["tune"]) & set(data["report"])
    assert abs(len(data["tune"]) - len(data["report"])) <= 3


@needs_devset
def test_split_is_reproduced_by_its_rule_and_covers_the_corpus():
    assert make_split(DEVSET_DIR / "corpus") == json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    halves = load_split()
    assert set(halves) == {p.name for p in (DEVSET_DIR / "corpus").glob("*.txt")}
    by_source = collections.Counter((doc.split("_")[1], half) for doc, half in halves.items())
    for source in ("piaf", "xquad", "squad2"):
        assert abs(by_source[(source, "tune")] - by_source[(source, "report")]) <= 1


@needs_devset
def test_translated_questions_cross_languages_and_keep_their_gold_fields():
    source = {q.id: q for q in load_questions(DEVSET_DIR / "questions.jsonl")}
    rows = [json.loads(line) for line in CROSSLINGUAL_FILE.read_text(encoding="utf-8").splitlines()]
    pairs = collections.Counter()
    for row in rows:
        original = source[row["translated_from"]]
        assert row["lang"] != original.lang and row["question"] != original.question
        assert tuple(row["answers"]) == original.gold.answers and tuple(row["docs"]) == original.gold.docs
        pairs[f"{row['lang']}→{original.lang}"] += 1
    assert pairs["en→fr"] >= 100 and pairs["fr→en"] >= 50
    assert len({r["id"] for r in rows}) == len(rows) and not {r["id"] for r in rows} & set(source)


@needs_devset
def test_every_question_of_an_article_falls_in_that_articles_half():
    halves = load_split()
    questions = load_questions(DEVSET_DIR / "questions.jsonl") + load_questions(CROSSLINGUAL_FILE)
    for q in questions:
        if q.gold.docs:
            assert question_half(q, halves) == halves[q.gold.docs[0]]
    kinds = collections.Counter((question_half(q, halves), q.type) for q in questions)
    for half in ("tune", "report"):
        assert kinds[(half, "out_of_corpus")] > 30 and kinds[(half, "adversarial_unanswerable")] > 10


def test_another_set_in_the_dev_sets_format_gets_none_of_the_translated_questions(tmp_path):
    from eval.devset import devset_questions

    (tmp_path / "corpus").mkdir()
    translated = load_questions(CROSSLINGUAL_FILE)
    first = translated[0]
    doc = first.gold.docs[0]
    span = first.gold.answer_spans[0]
    text = "x" * span.start + first.gold.answers[0]
    (tmp_path / "questions.jsonl").write_text(json.dumps(
        {"id": "q1", "question": "Quoi ?", "lang": "fr", "answers": ["x"], "docs": ["a.txt"], "type": "answerable"})
        + "\n", encoding="utf-8")
    assert [q.id for q in devset_questions(tmp_path)] == ["q1"]   # their articles are not there
    (tmp_path / "corpus" / doc).write_text(text + " " * (span.end - len(text)), encoding="utf-8")
    held = [q.id for q in devset_questions(tmp_path)]
    assert first.id in held and len(held) < len(translated) + 1   # the one whose article holds its answer
    (tmp_path / "corpus" / doc).write_text("another article of the same name", encoding="utf-8")
    assert first.id not in [q.id for q in devset_questions(tmp_path)]
