"""Checks for the hand-written evaluation set eval/questions.jsonl.

No model is needed: these tests only verify that the gold data is well formed
and consistent with the seed articles in seeds/.
"""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
QUESTIONS_PATH = ROOT / "eval" / "questions.jsonl"
SEEDS_DIR = ROOT / "seeds"

REQUIRED_KEYS = ["id", "question", "lang", "answers", "docs", "spans"]
OPTIONAL_KEYS = ["type"]
LANGS = {"fr", "en"}
TYPES = {"fact", "multi", "unanswerable", "noise"}
UNANSWERABLE_TYPES = {"unanswerable", "noise"}

MIN_TOTAL = 80
MIN_FR = 30
MIN_EN = 30
MIN_UNANSWERABLE = 15
MIN_MULTI_DOC = 5


def _load_questions():
    questions = []
    with QUESTIONS_PATH.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                questions.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - reported by the assert
                raise AssertionError(f"line {line_no} is not valid JSON: {exc}") from exc
    return questions


def _load_seeds():
    # Raw text, no newline normalisation: offsets are Python str indices into this.
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(SEEDS_DIR.glob("*.txt"))
    }


QUESTIONS = _load_questions()
SEEDS = _load_seeds()


def _is_unanswerable(q):
    return not q["answers"] and not q["docs"] and not q["spans"]


def _span_text(span):
    return SEEDS[span["doc"]][span["start"]:span["end"]]


def test_file_is_not_empty():
    assert QUESTIONS, f"{QUESTIONS_PATH} contains no questions"
    assert SEEDS, f"no seed articles found in {SEEDS_DIR}"


def test_schema_keys_and_order():
    for q in QUESTIONS:
        keys = list(q)
        qid = q.get("id", "<missing id>")
        assert keys[: len(REQUIRED_KEYS)] == REQUIRED_KEYS, (
            f"{qid}: keys must start with {REQUIRED_KEYS} in that order, got {keys}"
        )
        extra = keys[len(REQUIRED_KEYS):]
        assert extra in ([], OPTIONAL_KEYS), (
            f"{qid}: only an optional trailing 'type' key is allowed, got extra keys {extra}"
        )


def test_schema_types():
    for q in QUESTIONS:
        qid = q["id"]
        assert isinstance(qid, str) and qid, f"{qid!r}: id must be a non-empty string"
        assert isinstance(q["question"], str) and q["question"].strip(), (
            f"{qid}: question must be a non-empty string"
        )
        assert q["lang"] in LANGS, f"{qid}: lang must be one of {sorted(LANGS)}, got {q['lang']!r}"
        for key in ("answers", "docs"):
            assert isinstance(q[key], list), f"{qid}: {key} must be a list"
            assert all(isinstance(x, str) and x for x in q[key]), (
                f"{qid}: every item of {key} must be a non-empty string"
            )
        assert isinstance(q["spans"], list), f"{qid}: spans must be a list"
        for span in q["spans"]:
            assert isinstance(span, dict) and list(span) == ["doc", "start", "end"], (
                f"{qid}: each span must be an object with keys doc, start, end (in that order), got {span}"
            )
            assert isinstance(span["doc"], str), f"{qid}: span doc must be a string: {span}"
            for key in ("start", "end"):
                assert isinstance(span[key], int) and not isinstance(span[key], bool), (
                    f"{qid}: span {key} must be an int: {span}"
                )
        if "type" in q:
            assert q["type"] in TYPES, f"{qid}: type must be one of {sorted(TYPES)}, got {q['type']!r}"


def test_ids_are_unique():
    seen = set()
    duplicates = []
    for q in QUESTIONS:
        if q["id"] in seen:
            duplicates.append(q["id"])
        seen.add(q["id"])
    assert not duplicates, f"duplicate ids: {duplicates}"


def test_counts():
    total = len(QUESTIONS)
    fr = sum(q["lang"] == "fr" for q in QUESTIONS)
    en = sum(q["lang"] == "en" for q in QUESTIONS)
    unanswerable = sum(_is_unanswerable(q) for q in QUESTIONS)
    multi_doc = sum(len(q["docs"]) > 1 for q in QUESTIONS)
    assert total >= MIN_TOTAL, f"only {total} questions, need at least {MIN_TOTAL}"
    assert fr >= MIN_FR, f"only {fr} French questions, need at least {MIN_FR}"
    assert en >= MIN_EN, f"only {en} English questions, need at least {MIN_EN}"
    assert unanswerable >= MIN_UNANSWERABLE, (
        f"only {unanswerable} unanswerable questions, need at least {MIN_UNANSWERABLE}"
    )
    assert multi_doc >= MIN_MULTI_DOC, (
        f"only {multi_doc} questions answered in several docs, need at least {MIN_MULTI_DOC}"
    )


def test_spans_are_within_their_files():
    for q in QUESTIONS:
        for span in q["spans"]:
            assert span["doc"] in SEEDS, f"{q['id']}: unknown doc {span['doc']!r}"
            length = len(SEEDS[span["doc"]])
            assert 0 <= span["start"] < span["end"] <= length, (
                f"{q['id']}: span {span} is outside {span['doc']} (length {length})"
            )


def test_span_text_is_trimmed_and_non_empty():
    for q in QUESTIONS:
        for span in q["spans"]:
            text = _span_text(span)
            assert text.strip(), f"{q['id']}: span {span} is empty or blank"
            assert text == text.strip(), (
                f"{q['id']}: span {span} starts or ends with whitespace: {text!r}"
            )


def test_every_answer_appears_in_a_span():
    for q in QUESTIONS:
        texts = [_span_text(span) for span in q["spans"]]
        for answer in q["answers"]:
            assert any(answer in text for text in texts), (
                f"{q['id']}: answer {answer!r} does not appear verbatim in any of its spans"
            )


def test_docs_match_span_docs():
    for q in QUESTIONS:
        expected = sorted({span["doc"] for span in q["spans"]})
        assert q["docs"] == expected, (
            f"{q['id']}: docs {q['docs']} should be the sorted unique span docs {expected}"
        )


def test_answerable_questions_have_answers_and_spans():
    for q in QUESTIONS:
        if q.get("type") in UNANSWERABLE_TYPES:
            continue
        assert q["answers"], f"{q['id']}: answerable question has no answers"
        assert q["spans"], f"{q['id']}: answerable question has no spans"


def test_unanswerable_questions_have_empty_lists():
    for q in QUESTIONS:
        if q.get("type") in UNANSWERABLE_TYPES or not (q["answers"] and q["spans"]):
            assert q["answers"] == [] and q["docs"] == [] and q["spans"] == [], (
                f"{q['id']}: unanswerable question must have empty answers, docs and spans, got "
                f"answers={q['answers']}, docs={q['docs']}, spans={q['spans']}"
            )


def test_multi_questions_cite_several_docs():
    for q in QUESTIONS:
        if q.get("type") == "multi":
            assert len(q["docs"]) > 1, f"{q['id']}: type 'multi' but only cites {q['docs']}"


@pytest.mark.parametrize("doc", sorted(SEEDS))
def test_questions_are_not_copied_from_the_articles(doc):
    text = SEEDS[doc].casefold()
    copied = [q["id"] for q in QUESTIONS if q["question"].strip().casefold() in text]
    assert not copied, f"question text found verbatim in {doc}: {copied}"

