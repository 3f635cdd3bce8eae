""""Who" answered by a sentence that only says "she": cite the sentence that names her too.

A sentence like "He also describes the distillation of sea-water for drinking" answers "Who
wrote about distilling sea water?" only with the sentence before it ("Al-Muwaffaq's
contributions in the field are also pioneering"): the person is named earlier in the article.
The rule is grammatical, not learned: the question asks for a person, the best sentence names
no one the question does not, and its subject is a personal pronoun; the sentence cited with it
is the nearest one before it whose subject is not (the one that names the person, in a run of
"She ... She ..." sentences)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from index.analyzer import fold
from qa.question import Kind, Question
from qa.short_answer import candidate_pattern

if TYPE_CHECKING:
    from qa.evidence import Scored

__all__ = ["names_someone", "with_antecedent"]

# a sentence whose subject is one of these (first, or after an opening phrase and its comma:
# "Living in the 10th century, he wrote") refers to someone named earlier; impersonal "il" is not one
_PERSON_SUBJECT = re.compile(
    r"^\W*(?:[^,.;:!?]{1,60},\s*)?(?:he|she|they|his|her|their|ils|elles|elle|"
    r"il(?!\s+(?:y\s|s['’]agit|faut|semble|reste|suffit|para[iî]t|fait\s)))\b",
    re.IGNORECASE)
_PERSON_PRONOUN = re.compile(r"\b(?:he|she|they|his|her|him|their|them|il|elle|ils|elles)\b", re.IGNORECASE)
_LOOK_BACK = 3


def names_someone(text: str, question: Question) -> bool:
    """Whether `text` names someone the question does not (a run of capitalised words not
    opening on a pronoun: "His Liber servitoris" is no name), or its subject is no personal pronoun."""
    if not _PERSON_SUBJECT.match(text):
        return True
    asked = fold(question.text)
    return any(not _PERSON_PRONOUN.match(m.group(0)) and fold(m.group(0)) not in asked
               for m in candidate_pattern(Kind.WHO).finditer(text))


def with_antecedent(question: Question, chosen: list[Scored], scored: list[Scored], sentences,
                    max_sentences: int) -> list[Scored]:
    """`chosen` (the best sentence first), with the nearest earlier sentence of the best one's
    article whose subject is not a personal pronoun put right after it, when "who" is asked and
    the best sentence names no one (up to three sentences back; only a candidate that is not a
    heading; the last of `chosen` gives way when `max_sentences` are already chosen).
    `sentences`: the index's sentence table."""
    best = chosen[0]
    if max_sentences < 2 or question.kind != Kind.WHO or names_someone(sentences[best.index].text, question):
        return chosen
    by_index = {s.index: s for s in scored}
    for j in range(best.index - 1, max(best.index - 1 - _LOOK_BACK, -1), -1):
        if sentences[j].doc_id != sentences[best.index].doc_id:
            return chosen
        if not _PERSON_SUBJECT.match(sentences[j].text):
            before = by_index.get(j)
            if before is None or before in chosen or before.heading:
                return chosen
            return [best, before] + chosen[1 : max_sentences - 1]
    return chosen
