"""The sentences of a generated answer and the passage numbers each one cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.analyzer import fold
from index.sentences import CLOSING, split_sentences

__all__ = ["Claim", "UNSUPPORTED_MARK", "split_claims", "claim_key", "closed", "citation_grammar",
           "without_passage_mentions"]

UNSUPPORTED_MARK = "[?]"
_MARKERS = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^\s*(?:\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]\s*)+")
_CUT_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)?[\s,;]*$")   # "… Moscow. [1" when the token limit cut it
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# What small models add although told not to: "…, according to passage 2", "(passage 3)", "qui est
# mentionné dans le passage 3". The passage number is not a fact of the article; the verifier would
# read it as one. {n} is filled with the prompt's passage numbers.
_PASSAGE = (r"(?P<core>(?:the |le |la |les |l['’] ?)?(?:passages?|extraits?|textes?|text)\s*\[?(?:{n})\]?"
            r"(?:\s*(?:,|-|–|and|et)\s*\[?(?:{n})\]?)*)")
_MENTION = (r"\s*\(\s*(?:see |voir |cf\. ?)?" + _PASSAGE + r"\s*\)"
            r"|(?P<lead>,)?\s*\b(?:(?:which|that|who|qui)\s+(?:is|are|was|were|est|sont|a été|ont été)\s+)?"
            r"(?:(?:mentioned|stated|cited|described|noted|given|mentionnée?s?|citée?s?|indiquée?s?|décrite?s?)\s+)?"
            r"(?:according to|as (?:stated|mentioned|noted|described|given) in|(?:stated |mentioned )?in|from|"
            r"selon|d['’] ?après|au|aux|(?:comme )?(?:indiqué |mentionné )?dans)\s+" + _PASSAGE.replace("core", "core2")
            + r"(?(lead)(?:,(?=\s)|(?=\s*(?:[.!?;]|\[|$)))|(?=\s*(?:[.!?,;]|\[|$)))")


@dataclass(frozen=True)
class Claim:
    """A generated sentence without its markers, and the passage numbers it cited."""

    text: str
    cited: tuple[int, ...]


def split_claims(text: str) -> list[Claim]:
    """Sentences of a generated answer (lines count as sentences). Markers written after a
    sentence's full stop on the same line ("… Moscow. [2] Then …") belong to that sentence; markers
    opening a line ("[2] Moscow …") to that line. A sentence repeated counts once."""
    text = _CUT_MARKER.sub(lambda m: f"[{m.group(1)}]" if m.group(1) else "", text.replace(UNSUPPORTED_MARK, " "))
    pieces: list[tuple[str, list[int]]] = []
    previous_end = 0
    for start, end in split_sentences(text):
        sentence = text[start:end]
        leading = _LEADING_MARKERS.match(sentence)
        if leading and pieces and "\n" not in text[previous_end:start]:
            pieces[-1][1].extend(_numbers(leading.group(0)))
            sentence = sentence[leading.end():]
        previous_end = end
        cited = _numbers(sentence)
        clean = _MARKERS.sub(" ", _BULLET.sub("", sentence))
        clean = re.sub(r"\s+([.,;:!?…])", r"\1", re.sub(r"\s+", " ", clean)).strip()
        if any(c.isalnum() for c in clean):
            pieces.append((clean, cited))
        elif pieces:
            pieces[-1][1].extend(cited)
    claims: dict[str, Claim] = {}
    for sentence, cited in pieces:
        key = claim_key(sentence)
        previous = claims.get(key)
        claims[key] = Claim(sentence, tuple(dict.fromkeys((previous.cited if previous else ()) + tuple(cited))))
    return list(claims.values())


def claim_key(sentence: str) -> str:
    """What two wordings of one sentence share: accents, case and closing punctuation aside."""
    return fold(sentence).rstrip(".!…; ")


def without_passage_mentions(text: str, numbers: Sequence[int], passages: Sequence[str] = ()) -> str:
    """The answer without its references to the prompt's passages `numbers` ("according to passage
    2"), unless the words themselves are in the passages' text (an article may speak of "le texte 2"
    of a law)."""
    if not numbers:
        return text
    pattern = re.compile(_MENTION.replace("{n}", "|".join(str(n) for n in sorted(set(numbers), reverse=True))),
                         re.IGNORECASE)
    source = fold(" ".join(passages))

    out, at = [], 0
    for match in pattern.finditer(text):
        core = re.escape(fold(match.group("core") or match.group("core2")))
        if re.search(rf"(?<!\w){core}(?!\w)", source):  # the passages' own words
            continue
        before = text[: match.start()]
        out.append(text[at : match.start()])
        at = match.end()
        if not match.group("lead") and re.search(r"(^|[.!?…]\s*(\[\d+\]\s*)*|\n|[«“\"(]\s*)\s*$", before):
            # it opened a sentence (or a quote): the next word opens it now
            out.append(re.match(r"\s*", match.group(0)).group(0))
            rest = re.match(r"[\s,;:]*", text[at:])
            at += rest.end() if rest else 0
            if at < len(text):
                out.append(text[at].upper())
                at += 1
        elif re.search(r"[,;:]\s*$", before) and (comma := re.match(r"\s*,", text[at:])):
            at += comma.end()  # "Putin; according to passage 2, he left": the aside's comma goes too
    return "".join(out) + text[at:]


def closed(claims: Sequence[Claim]) -> list[str]:
    """Claim texts ending with punctuation, so that the answer reads (and splits) as sentences: a
    full stop, or an ellipsis for the last one, which was probably cut by the token limit."""
    return [c.text if c.text.endswith(CLOSING) else c.text.rstrip(",;: ") + ("…" if i == len(claims) - 1 else ".")
            for i, c in enumerate(claims)]


def _numbers(markers: str) -> list[int]:
    return [int(n) for group in _MARKERS.findall(markers) for n in re.split(r"\s*[,;]\s*", group)]


def citation_grammar(numbers: Sequence[int], sentences: int = 3, alternative: str | None = None) -> str:
    """A GBNF grammar (llama.cpp's) for an answer of one to `sentences` sentences on one line,
    each ending with its punctuation, a space and one or more markers `[n]` of `numbers` (the
    passages of the prompt), e.g. `Kim met Putin in Pyongyang. [1][2]`. A full stop inside a
    sentence must be followed by a letter or digit ("7.5", "U.S"), not by a space. With
    `alternative`, that bare word is allowed instead of the sentences."""
    if not numbers:
        raise ValueError("a citation grammar needs at least one passage number")
    cite = " | ".join(f'"[{n}]"' for n in sorted(set(numbers)))
    more = f' (" " sentence){{0,{max(0, sentences - 1)}}}' if sentences > 1 else ""
    instead = f' | "{alternative}"' if alternative else ""
    return "\n".join((
        f"root ::= sentence{more}{instead}",
        'sentence ::= first rest* [.!?] " " cite+',
        "first ::= [^\\[\\]\\n .!?]",
        "rest ::= [^\\[\\]\\n.!?] | [.!?] [^\\[\\]\\n .!?]",
        f"cite ::= {cite}",
    ))
