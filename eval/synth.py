"""`python -m eval.synth`: questions written by the local language model over the training
articles (the dev set's tune half and the seeds), for the reader to train on.

A few hundred real questions are too few to teach the reader where an answer lies, and cloze
questions (eval.cloze) keep the sentence's own words. Here a number, date or name of a sentence
is chosen (the short-answer patterns; up to three per sentence), and the model is asked for a question, in the article's
language or (a third of the time) the other one, whose answer is exactly that span. A question
is kept when it is one line ending in "?", is in the asked language, does not say its answer
(nor its figures), and, in the article's language, shares words with the sentence. Greedy
decoding with a fixed seed: the same model writes the same file. The questions are written to
eval/synthetic_questions.jsonl with their article and answer offsets (the article texts stay in
the dev set); the report half is never read."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.cloze import neighbour
from eval.dataset import DEFAULT_QUESTIONS, DatasetError, load_questions
from eval.devset import DEVSET_DIR, devset_questions, split_questions
from eval.runner import corpus_pipeline
from eval.train_reader import fold_of_key
from index.analyzer import fold
from index.lang import detect_language
from qa.llm import LLMError, make_backend
from qa.question import Kind
from qa.short_answer import candidate_pattern

__all__ = ["SYNTH_FILE", "SynthQuestion", "load_synthetic", "accept", "synthetic_pairs", "main"]

log = logging.getLogger("eval.synth")

ROOT = Path(__file__).resolve().parents[1]
SYNTH_FILE = Path(__file__).with_name("synthetic_questions.jsonl")
_KINDS = (Kind.HOW_MANY, Kind.WHEN, Kind.WHO, Kind.WHERE)
_OTHER_LANGUAGE = 0.35   # share of questions asked in the language the article is not in
_MIN_CHARS = 40          # shorter sentences are headings and fragments
_NAMES = {"fr": "French", "en": "English"}
_WORD = re.compile(r"\w{4,}")
_ABOUT_TEXT = re.compile(r"\b(sentences?|phrases?|textes?|texts?|passages?|mentionn\w*|mentioned)\b")
_PER_SENTENCE = 3        # spans asked about per sentence, none overlapping
_TOP = 3                 # the question's vector must rank its sentence among its article's _TOP


@dataclass(frozen=True)
class SynthQuestion:
    id: str
    question: str
    lang: str        # the question's language
    doc: str
    start: int       # the answer's offsets in the article, as the index records it
    end: int
    answer: str
    kind: str


def load_synthetic(path: Path = SYNTH_FILE) -> list[SynthQuestion]:
    if not path.is_file():
        return []
    return [SynthQuestion(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]


def synthetic_pairs(pipeline, docs: set[str], pair_type, questions: list[SynthQuestion]) -> list:
    """`pair_type(probe, fold, question, sentence, relevant, span)`: each question of `docs` with
    the sentence holding its answer, and with a neighbouring sentence (no answer there)."""
    sentences = pipeline.data.sentences
    rows = {}
    for i, s in enumerate(sentences):
        rows.setdefault(s.doc_id, []).append(i)
    pairs = []
    for q in questions:
        found = [i for i in rows.get(q.doc, []) if q.doc in docs and sentences[i].start <= q.start
                 and q.end <= sentences[i].end]
        if not found:
            continue
        i = found[0]
        s = sentences[i]
        if s.text[q.start - s.start : q.end - s.start] != q.answer:
            continue
        fold = fold_of_key(q.doc)
        pairs.append(pair_type(-1, fold, q.question, s.text, True, (q.start - s.start, q.end - s.start)))
        other = neighbour(sentences, i)
        if other is not None:
            pairs.append(pair_type(-1, fold, q.question, sentences[other].text, False, None))
    return pairs


def _prompt(sentence: str, answer: str, lang: str) -> list[dict[str, str]]:
    return [{"role": "user", "content":
             f"Sentence: {sentence}\nAnswer: {answer}\n\nWrite one question in {_NAMES[lang]} whose answer is "
             f"exactly \"{answer}\", as a reader who has not seen the sentence would ask it. Use other words than "
             "the sentence where you can, and do not give the answer. Reply with the question only."}]


def accept(question: str, answer: str, sentence: str, lang: str, article_lang: str) -> bool:
    """Whether a written question is fit to train on (see the module's docstring)."""
    if "\n" in question or not question.endswith("?") or not 12 <= len(question) <= 200:
        return False
    asked = fold(question)
    if _ABOUT_TEXT.search(asked):
        return False
    if fold(answer) in asked or any(d in asked for d in re.findall(r"\d+", answer)):
        return False
    if detect_language(question, among=("fr", "en")) != lang:
        return False
    if lang == article_lang:
        shared = set(_WORD.findall(asked)) & set(_WORD.findall(fold(sentence)))
        return len(shared) >= 2
    return True


def _spans(pipeline, docs: set[str], rng: np.random.Generator):
    """(pipeline, sentence row, article language, answer start, end, kind) for up to
    _PER_SENTENCE candidates of each long enough sentence of `docs`."""
    for row, s in enumerate(pipeline.data.sentences):
        if s.doc_id not in docs or len(s.text) < _MIN_CHARS:
            continue
        found = [(m.start(), m.end(), kind) for kind in _KINDS for m in candidate_pattern(kind).finditer(s.text)
                 if m.end() - m.start() >= 2]
        chosen: list[tuple[int, int, Kind]] = []
        for n in rng.permutation(len(found)):
            start, end, kind = found[n]
            if len(chosen) < _PER_SENTENCE and all(end <= a or b <= start for a, b, _ in chosen):
                chosen.append((start, end, kind))
        for start, end, kind in chosen:
            yield pipeline, row, pipeline.documents[s.doc_id].lang, start, end, kind


def finds_its_sentence(pipeline, question: str, row: int) -> bool:
    """Whether the question's vector ranks sentence `row` among the _TOP of its article (a
    question about something else, or too vague to tell, does not)."""
    sentences = pipeline.data.sentences
    doc = sentences[row].doc_id
    rows = [i for i, s in enumerate(sentences) if s.doc_id == doc and len(s.text) >= _MIN_CHARS]
    scores = pipeline.data.sentence_vectors[rows].astype(np.float32) @ pipeline.embed_question(question)
    return int((scores > scores[rows.index(row)]).sum()) < _TOP


def _training_docs(args: argparse.Namespace) -> list[tuple[object, set[str]]]:
    seeds = corpus_pipeline(ROOT / "seeds", args.cache_dir, not args.quiet)
    dev = corpus_pipeline(args.devset / "corpus", args.cache_dir, not args.quiet)
    tune = split_questions(devset_questions(args.devset), "tune")
    return [(seeds, {d for q in load_questions(DEFAULT_QUESTIONS) for d in q.gold.docs}),
            (dev, {d for q in tune for d in q.gold.docs})]


def _run(args: argparse.Namespace) -> int:
    backend = make_backend(args.gguf)
    rng = np.random.default_rng(args.seed)
    todo = [item for pipeline, docs in _training_docs(args) for item in _spans(pipeline, docs, rng)]
    log.warning("%d sentences with a number, date or name in the training articles", len(todo))
    if args.limit:
        todo = todo[:: max(1, len(todo) // args.limit)]
    kept: list[SynthQuestion] = []
    started = time.perf_counter()
    for pipeline, row, article_lang, start, end, kind in tqdm(todo, desc="write", disable=args.quiet):
        s = pipeline.data.sentences[row]
        lang = ("en" if article_lang == "fr" else "fr") if rng.random() < _OTHER_LANGUAGE else article_lang
        answer = s.text[start:end]
        text = "".join(backend.stream(_prompt(s.text, answer, lang), max_tokens=48, temperature=0.0)).strip()
        if accept(text, answer, s.text, lang, article_lang) and finds_its_sentence(pipeline, text, row):
            kept.append(SynthQuestion(f"synth-{len(kept):05d}", text, lang, s.doc_id, s.start + start, s.start + end,
                                      answer, kind.value))
    args.out.write_text("".join(json.dumps(asdict(q), ensure_ascii=False) + "\n" for q in kept), encoding="utf-8")
    log.warning("kept %d of %d questions in %.0f s -> %s", len(kept), len(todo), time.perf_counter() - started,
                args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m eval.synth", description=__doc__)
    parser.add_argument("--devset", type=Path, default=DEVSET_DIR, help="the dev set folder")
    parser.add_argument("--cache-dir", type=Path, default=Path("var/eval-cache"), help="indexes built for corpora")
    parser.add_argument("--gguf", default=None, help="the model that writes (default: the default generation model)")
    parser.add_argument("--out", type=Path, default=SYNTH_FILE, help="where to write the questions")
    parser.add_argument("--limit", type=int, help="about N sentences (a quick check)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (DatasetError, LLMError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
