"""Load an evaluation question file (JSON lines) and check its schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eval.metrics import Gold, Located

__all__ = ["EvalQuestion", "DatasetError", "load_questions", "DEFAULT_QUESTIONS"]

DEFAULT_QUESTIONS = Path(__file__).with_name("questions.jsonl")


class DatasetError(ValueError):
    """A question file that cannot be used; the message names the line and the fix."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    lang: str
    gold: Gold
    type: str = ""


def _located(row: dict, key: str, where: str) -> tuple[Located, ...]:
    try:
        found = tuple(Located(str(s["doc"]), int(s["start"]), int(s["end"])) for s in row.get(key) or [])
    except (KeyError, TypeError, ValueError):
        raise DatasetError(f"{where} has a malformed \"{key}\" entry; each needs doc, start and end.") from None
    for s in found:
        if not 0 <= s.start < s.end:
            raise DatasetError(f"{where} has a \"{key}\" entry from {s.start} to {s.end}; offsets count characters "
                               "from 0 and start must be below end.")
    return found


def _strings(row: dict, key: str, where: str) -> tuple[str, ...]:
    """A list of strings (a lone string would be read letter by letter)."""
    value = row.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{where} has \"{key}\" as {type(value).__name__}; write it as a list of strings, "
                           f"for example [{json.dumps(value if isinstance(value, str) else 'a')}].")
    return tuple(value)


def _parse(line: str, where: str) -> EvalQuestion:
    try:
        row = json.loads(line)
    except ValueError as err:
        raise DatasetError(f"{where} is not valid JSON ({err.msg}); write one JSON object per line.") from None
    if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row.get("id"):
        raise DatasetError(f"{where} needs at least an \"id\" and a \"question\" string.")
    spans = _located(row, "spans", where)
    docs = _strings(row, "docs", where) or tuple(sorted({s.doc for s in spans}))
    gold = Gold(answers=_strings(row, "answers", where), docs=docs, spans=spans,
                answer_spans=_located(row, "answer_spans", where))
    return EvalQuestion(str(row["id"]), row["question"], str(row.get("lang", "")), gold, str(row.get("type", "")))


def load_questions(path: Path) -> list[EvalQuestion]:
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DatasetError(f"Question file {path} {what}; pass --questions with a JSONL file.")
    try:
        text = path.read_text(encoding="utf-8-sig")   # a byte-order mark (Windows editors) is no question
    except UnicodeDecodeError as err:
        raise DatasetError(f"Question file {path} is not UTF-8 (byte {err.start}); save it as UTF-8.") from None
    questions = [_parse(line, f"{path.name} line {n}") for n, line in enumerate(text.splitlines(), start=1)
                 if line.strip()]
    if not questions:
        raise DatasetError(f"Question file {path} holds no questions.")
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise DatasetError(f"{path.name} uses the id {q.id!r} twice; give each question its own id.")
        seen.add(q.id)
    return questions
