"""A second draft for a generated sentence that its citations do not support.

Small models slip a figure or a name that the passages do not give ("about $10 million", "70 %"
for "91 %"). Such a sentence is shown to the model once more, with the passages it was written
from, and the model restates it with the facts as those passages give them, under the same
citation grammar, or answers "NONE" when the passages do not say it, and the sentence is
withdrawn. The verifier then judges the new draft like any other: one that still fails stays
marked unsupported."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.claims import Claim, citation_grammar, split_claims, without_passage_mentions

__all__ = ["NONE", "repair_messages", "repair_grammar", "parse_redraft"]

NONE = "NONE"
_INSTRUCTION = ("Your sentence: \"{claim}\"\n{problem}Rewrite it in {language} as one sentence that states only "
                "what the passages state, with the numbers and names exactly as the passages give them, ending with "
                "the number of its passage in square brackets, like [1]. Only if the passages say nothing that "
                "answers the question, write {none}.")
_MISSING = "It states {facts}, which the passages do not state.\n"
_OTHER = "The passages do not say it in those words.\n"


def repair_messages(system: str, claim: str, missing: Sequence[str], language: str, question: str,
                    passages: Sequence[tuple[int, str]]) -> list[dict[str, str]]:
    """The prompt of a second draft; `missing`: the claim's numbers and names the passages lack."""
    numbered = "\n".join(f"[{n}] {text}" for n, text in passages)
    problem = _MISSING.format(facts=", ".join(f"\"{m}\"" for m in missing)) if missing else _OTHER
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Passages:\n{numbered}\n\nQuestion: {question}\n\n"
                                        + _INSTRUCTION.format(claim=claim, problem=problem, language=language,
                                                              none=NONE)}]


def repair_grammar(numbers: Sequence[int]) -> str:
    """One sentence ending with markers of `numbers`, or the bare word NONE."""
    return citation_grammar(numbers, sentences=1, alternative=NONE)


def parse_redraft(text: str, passages: Sequence[tuple[int, str]]) -> Claim | None:
    """The second draft the model wrote, or None when it answered NONE (or wrote nothing usable).
    `passages`: the numbered passages of its prompt."""
    if re.fullmatch(rf"\W*{NONE}\W*", text):
        return None
    claims = split_claims(without_passage_mentions(text, [n for n, _ in passages], [t for _, t in passages]))
    return claims[0] if claims else None
