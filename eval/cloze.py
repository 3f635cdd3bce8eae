"""Cloze questions for training the reader: a sentence of a training article with one of its
numbers, dates or names replaced by a question word, its other words thinned around the gap,
asked of the sentence itself (the answer is the removed span) and of a neighbouring sentence
(no answer there). They teach the reader that the answer is what the question lacks, which a
few hundred real questions cannot; only tune-half and seed articles are used."""

from __future__ import annotations

import re

import numpy as np

from eval.train_reader import fold_of_key
from qa.question import Kind
from qa.short_answer import candidate_pattern

__all__ = ["cloze_pairs"]

_ASK = {Kind.HOW_MANY: ("combien", "how many"), Kind.WHEN: ("quand", "when"), Kind.WHO: ("qui", "who"),
        Kind.WHERE: ("où", "where")}
_WINDOW = 7      # words kept on each side of the gap
_DROP = 0.25     # share of the kept words dropped at random
_MIN_CHARS = 40


def _question(sentence: str, start: int, end: int, kind: Kind, lang: str, rng: np.random.Generator) -> str:
    before = re.findall(r"\S+", sentence[:start])[-_WINDOW:]
    after = re.findall(r"\S+", sentence[end:])[:_WINDOW]
    keep = [w for w in before if rng.random() > _DROP] + [_ASK[kind][lang != "fr"]] + \
           [w for w in after if rng.random() > _DROP]
    return " ".join(keep).rstrip(" .,;:!") + " ?"


def cloze_pairs(pipeline, docs: set[str], pair_type, per_sentence: int = 1, seed: int = 0) -> list:
    """`pair_type(probe, fold, question, sentence, relevant, span)` for the sentences of `docs`."""
    rng = np.random.default_rng(seed)
    sentences = pipeline.data.sentences
    pairs = []
    for i, s in enumerate(sentences):
        if s.doc_id not in docs or len(s.text) < _MIN_CHARS:
            continue
        found = [(m.start(), m.end(), kind) for kind in _ASK for m in candidate_pattern(kind).finditer(s.text)
                 if m.end() - m.start() >= 2]
        if not found:
            continue
        fold = fold_of_key(s.doc_id)
        lang = pipeline.documents[s.doc_id].lang
        for n in rng.permutation(len(found))[:per_sentence]:
            start, end, kind = found[n]
            question = _question(s.text, start, end, kind, lang, rng)
            pairs.append(pair_type(-1, fold, question, s.text, True, (start, end)))
            other = i + 1 if i + 1 < len(sentences) and sentences[i + 1].doc_id == s.doc_id else i - 1
            if other >= 0 and sentences[other].doc_id == s.doc_id:
                pairs.append(pair_type(-1, fold, question, sentences[other].text, False, None))
    return pairs
