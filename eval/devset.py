"""The mixed French/English development set in `../shared/data/devset` (PIAF, XQuAD, SQuAD 2.0;
see its README for sources and licences), split once by article into a tune half and a report
half, plus the project's own translated (cross-lingual) questions over the same articles.

The split is a fixed file in the repo (`devset_split.json`): articles are assigned by a hash of
their file name within each source; questions without an article (unanswerable ones) by a hash
of their id. Settings are fitted on the tune half only; figures are reported on the report half."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from eval.dataset import DatasetError, EvalQuestion, load_questions

__all__ = ["DEVSET_DIR", "SPLIT_FILE", "CROSSLINGUAL_FILE", "SPLITS", "make_split", "load_split",
           "split_questions", "devset_questions"]

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DEVSET_DIR = ROOT.parent / "shared" / "data" / "devset"
SPLIT_FILE = Path(__file__).with_name("devset_split.json")
CROSSLINGUAL_FILE = Path(__file__).with_name("devset_crosslingual.jsonl")
SPLITS = ("tune", "report")


def _half(key: str) -> str:
    return SPLITS[hashlib.sha256(key.encode("utf-8")).digest()[0] % 2]


def _source(doc_id: str) -> str:
    return "_".join(doc_id.split("_")[:2])


def make_split(corpus: Path) -> dict[str, object]:
    """Articles alternate between the halves in hash order within each source, so both halves
    hold as many French PIAF, English XQuAD and SQuAD articles (within one)."""
    docs = sorted(p.name for p in corpus.glob("*.txt"))
    by_source: dict[str, list[str]] = {}
    for doc in sorted(docs, key=lambda d: hashlib.sha256(d.encode("utf-8")).hexdigest()):
        by_source.setdefault(_source(doc), []).append(doc)
    split: dict[str, list[str]] = {name: [] for name in SPLITS}
    for members in by_source.values():
        for i, doc in enumerate(members):
            split[SPLITS[i % 2]].append(doc)
    return {"rule": "articles: alternate in sha256(file name) order within each source; questions without "
                    "an article: first byte of sha256(id) even = tune, odd = report",
            "tune": sorted(split["tune"]), "report": sorted(split["report"])}


def load_split(path: Path = SPLIT_FILE) -> dict[str, str]:
    """doc id -> half."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {doc: half for half in SPLITS for doc in data[half]}


def question_half(q: EvalQuestion, halves: dict[str, str]) -> str:
    docs = [d for d in q.gold.docs if d in halves]
    return halves[docs[0]] if docs else _half(q.id)


def split_questions(questions: list[EvalQuestion], half: str, path: Path = SPLIT_FILE) -> list[EvalQuestion]:
    if half not in SPLITS:
        raise DatasetError(f"Unknown split {half!r}; choose tune or report.")
    halves = load_split(path)
    return [q for q in questions if question_half(q, halves) == half]


def devset_questions(devset: Path = DEVSET_DIR, crosslingual: bool = True) -> list[EvalQuestion]:
    """The dev set's questions, followed by the translated ones kept in `eval/` whose articles
    are in this folder's corpus (another set in the same format gets none of them)."""
    path = devset / "questions.jsonl"
    if not path.is_file():
        raise DatasetError(f"The dev set is not at {devset}; pass --devset with the folder holding questions.jsonl.")
    questions = load_questions(path)
    if crosslingual and CROSSLINGUAL_FILE.is_file():
        translated = load_questions(CROSSLINGUAL_FILE)
        kept = [q for q in translated if _articles_hold(devset / "corpus", q)]
        if len(kept) < len(translated):
            log.info("%d of the %d translated questions are about articles %s does not hold: left out",
                     len(translated) - len(kept), len(translated), devset / "corpus")
        questions += kept
    return questions


def _articles_hold(corpus: Path, q: EvalQuestion) -> bool:
    """The question's gold articles are in `corpus` and hold its answer where the gold says."""
    if not q.gold.docs:
        return False
    texts: dict[str, str] = {}
    for doc in q.gold.docs:
        path = corpus / doc
        if not path.is_file():
            return False
        texts[doc] = path.read_text(encoding="utf-8", errors="replace")
    return all(s.doc in texts and any(a in texts[s.doc][s.start : s.end] for a in q.gold.answers)
               for s in q.gold.answer_spans)
