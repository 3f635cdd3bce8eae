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
        return tuple(Located(str(s["doc"]), int(s["start"]), int(s["end"])) for s in row.get(key) or [])
    except (KeyError, TypeError, ValueError):
        raise DatasetError(f"{where} has a malformed \"{key}\" entry; each needs doc, start and end.") from None


def _parse(line: str, where: str) -> EvalQuestion:
    try:
        row = json.loads(line)
    except ValueError as err:
        raise DatasetError(f"{where} is not valid JSON ({err.msg}); write one JSON object per line.") from None
    if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row.get("id"):
        raise DatasetError(f"{where} needs at least an \"id\" and a \"question\" string.")
    spans = _located(row, "spans", where)
    docs = tuple(row.get("docs") or sorted({s.doc for s in spans}))
    gold = Gold(answers=tuple(row.get("answers") or ()), docs=docs, spans=spans,
                answer_spans=_located(row, "answer_spans", where))
    return EvalQuestion(str(row["id"]), row["question"], str(row.get("lang", "")), gold, str(row.get("type", "")))


def load_questions(path: Path) -> list[EvalQuestion]:
    if not path.is_file():
        raise DatasetError(f"Question file {path} does not exist; pass --questions with a JSONL file.")
    questions = [_parse(line, f"{path.name} line {n}")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if line.strip()]
    if not questions:
        raise DatasetError(f"Question file {path} holds no questions.")
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise DatasetError(f"{path.name} uses the id {q.id!r} twice; give each question its own id.")
        seen.add(q.id)
    return questions
