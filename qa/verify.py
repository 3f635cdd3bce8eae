"""Check a generated sentence against the article sentences it cites.

A claim is supported by a span (one sentence of the index, or two adjacent ones) when
- every number it states is in the span (digit groups joined, "1,5" = "1.5", small number words
  read as digits: "three" = "trois" = "3"), and no more often than the span states it ("on March
  18, 18." from a span that says "18 March" once);
- every name it states (a capitalised word, an acronym, a month or weekday) is in the span,
  accent-folded, allowing transliterations ("Shoigu" / "Choïgou") and a short list of exonyms
  ("Korea" / "Corée");
- its content words are there: in the same language, at least `min_coverage` of its stems; across
  languages, at least one anchor (a name, a number or a shared cognate prefix);
- its embedding (multilingual, so translations compare) is close to the span's: at least
  `min_cosine` (`min_cosine_cross` across languages unless it states a number), and either
  `sure_cosine` or within `near_best` of its best match among the index sentences that state its
  numbers and names (so a merely related sentence does not stand in for the one that says it).
A literal quote of the span (two words or more) is supported as it is. Questions, and sentences
that only say the articles do not answer, are never supported. What this cannot see: a relation
turned around between facts that are all in the span ("A met B before" for "A met B after")."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from index import Embedder, IndexData
from index.analyzer import STOP_WORDS, analyze, fold
from index.analyzer import cognate_prefixes
from qa.exonyms import exonyms as _exonyms

__all__ = ["VerifyConfig", "Verdict", "SupportingSpan", "Verifier", "numbers", "number_counts", "names", "is_refusal",
           "missing_facts", "judge"]

_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:([ \u00a0\u202f\u2009.,])\d{3})(?:\1\d{3})*(?![\d]|[.,]\d)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W\d_]+")
_NUMBER_WORDS = {w: str(n) for n, words in {
    2: "two deux", 3: "three trois", 4: "four quatre", 5: "five cinq", 6: "six", 7: "seven sept",
    8: "eight huit", 9: "nine", 10: "ten dix", 11: "eleven onze", 12: "twelve douze"}.items()
    for w in words.split()}
_CALENDAR_EN = set("""january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday""".split())
_CALENDAR = _CALENDAR_EN | set("""janvier fevrier mars avril mai juin juillet aout septembre octobre novembre
decembre lundi mardi mercredi jeudi vendredi samedi dimanche""".split())
_REFUSAL = re.compile(
    r"\b(do(es)? not (say|mention|specify|state|answer|provide|contain)|don't (say|mention|specify)|"
    r"no (information|mention)|not (mentioned|specified|stated)|cannot (answer|be determined)|"
    r"ne (disent|precisent|mentionnent|indiquent|repondent|permettent) pas|"
    r"(aucune|pas d') ?information|pas (mentionne|precise|indique)e?s?)\b")


@dataclass(frozen=True)
class VerifyConfig:
    min_cosine: float = 0.80        # e5-small passage vectors: unrelated sentences of one topic reach ~0.8
    min_cosine_cross: float = 0.85  # across languages, for claims that state no number
    sure_cosine: float = 0.88
    near_best: float = 0.03
    min_coverage: float = 0.5       # same language: share of the claim's stems found in the span
    name_similarity: float = 0.75   # difflib ratio for transliterated names
    window: int = 2                 # adjacent sentences a span may join
    rivals: int = 10                # nearest sentences searched for a better source


@dataclass(frozen=True)
class Verdict:
    supported: bool
    cosine: float
    coverage: float
    missing: tuple[str, ...] = ()   # numbers and names of the claim not found in the span
    reason: str = ""                # why not, when not supported


@dataclass(frozen=True)
class SupportingSpan:
    """A span of the raw article text that supports a claim: `raw[start:end] == text`."""

    doc_id: str
    start: int
    end: int
    text: str
    verdict: Verdict


def number_counts(text: str) -> Counter[str]:
    """How many times a text states each number, normalised as `numbers` does."""
    joined = _GROUPED.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)
    found = Counter(n.replace(",", ".") for n in _NUMBER.findall(joined))
    found.update(_NUMBER_WORDS[w] for w in _WORD.findall(fold(text)) if w in _NUMBER_WORDS)
    return found


def numbers(text: str) -> set[str]:
    """The numbers a text states, normalised: "10 000", "10,000" -> "10000"; "1,5" -> "1.5"."""
    return set(number_counts(text))


def names(text: str) -> list[str]:
    """Accent-folded capitalised words, acronyms, months and weekdays (which French writes in
    lower case), not stop words, in order, without repeats."""
    found = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        folded = fold(word)
        if folded in _CALENDAR and (word[0].isupper() or folded not in _CALENDAR_EN):
            found.append(folded)
            continue
        if len(word) < 2 or not word[0].isupper() or folded in _NUMBER_WORDS:
            continue
        if folded in STOP_WORDS and not word.isupper():
            continue
        found.append(folded)
    return list(dict.fromkeys(found))


def is_refusal(text: str) -> bool:
    """Whether the sentence only says that the articles do not answer."""
    return bool(_REFUSAL.search(fold(text).replace("’", "'")))


def _name_found(name: str, tokens: set[str], exonyms: dict[str, set[str]], threshold: float) -> bool:
    if name in tokens or exonyms.get(name, set()) & tokens:
        return True
    for token in tokens:
        if abs(len(token) - len(name)) > 3:
            continue
        if len(name) >= 5 and token[:5] == name[:5]:
            return True
        if SequenceMatcher(None, name, token).ratio() >= threshold:
            return True
    return False


def _coverage(claim: str, claim_lang: str, source: str, source_lang: str) -> tuple[float, int]:
    """Share of the claim's stems in the source (same language) and the number of anchors shared
    across languages (cognate prefixes)."""
    terms = [t for t in analyze(claim, claim_lang) if not t.isdigit()]
    source_terms = set(analyze(source, source_lang))
    coverage = sum(t in source_terms for t in terms) / len(terms) if terms else 0.0
    shared = set(cognate_prefixes(claim)) & set(cognate_prefixes(source))
    return coverage, len(shared)


def missing_facts(claim: str, source: str, config: VerifyConfig, exonyms: dict[str, set[str]] | None = None
                  ) -> tuple[str, ...]:
    """The numbers and names of `claim` that `source` does not state, and the numbers it repeats
    more often than `source` does ("18 (2 times)"): a figure the model wrote twice, unable to
    write the one it wanted, is not backed by one mention of it."""
    stated, backed = number_counts(claim), number_counts(source)
    missing_numbers = tuple(n if n not in backed else f"{n} ({k} times)"
                            for n, k in sorted(stated.items()) if k > backed[n])
    tokens = {fold(w) for w in _WORD.findall(source)}
    table = exonyms if exonyms is not None else _exonyms()
    return missing_numbers + tuple(n for n in names(claim) if not _name_found(n, tokens, table, config.name_similarity))


def _verbatim(claim: str, source: str) -> bool:
    """The claim (two words or more) is a literal quote of the span, e.g. a bare "7 000 conteneurs"."""
    folded = re.sub(r"\s+", " ", fold(claim)).strip().rstrip(".!…;:, ")
    return len(_WORD.findall(folded) + _NUMBER.findall(folded)) >= 2 and folded in re.sub(r"\s+", " ", fold(source))


def judge(claim: str, claim_lang: str, source: str, source_lang: str, cosine: float, best_cosine: float,
          config: VerifyConfig, exonyms: dict[str, set[str]] | None = None) -> Verdict:
    """Whether `source` supports `claim`, given their cosine and the best cosine of the claim with
    a sentence of the index that states its numbers and names."""
    coverage, anchors = _coverage(claim, claim_lang, source, source_lang)

    def no(reason: str, missing: tuple[str, ...] = ()) -> Verdict:
        return Verdict(False, round(cosine, 4), round(coverage, 4), missing, reason)

    if is_refusal(claim):
        return no("says the articles do not answer")
    if claim.rstrip(" »”\"'").endswith("?"):
        return no("asks instead of stating")
    missing = missing_facts(claim, source, config, exonyms)
    if missing:
        return no("states what the span does not", missing)
    if _verbatim(claim, source):
        return Verdict(True, round(cosine, 4), 1.0)
    # Across languages few words can be compared, so meaning must be closer, unless the claim
    # states a number that the span states too.
    floor = config.min_cosine if claim_lang == source_lang or numbers(claim) else config.min_cosine_cross
    if cosine < floor:
        return no("too far in meaning")
    if cosine < config.sure_cosine and cosine < best_cosine - config.near_best:
        return no("another sentence of the articles matches it better")
    if claim_lang == source_lang and coverage < config.min_coverage:
        return no("too few of its words are in the span")
    if claim_lang != source_lang and not (anchors or names(claim) or numbers(claim)):
        return no("nothing in it can be traced to the span")
    return Verdict(True, round(cosine, 4), round(coverage, 4))


class Verifier:
    """Finds, among given sentences of the index, the span that supports a claim."""

    def __init__(self, data: IndexData, embedder: Embedder, config: VerifyConfig | None = None) -> None:
        self._data = data
        self._embedder = embedder
        self.config = config or VerifyConfig()
        self._exonyms = _exonyms()

    def missing(self, claim: str, source: str) -> tuple[str, ...]:
        """The numbers and names of `claim` that `source` does not state."""
        return missing_facts(claim, source, self.config, self._exonyms)

    def embed(self, claims: Sequence[str]) -> np.ndarray:
        """Claim vectors, embedded as passages like the index's sentences."""
        if not claims:
            return np.zeros((0, self._data.sentence_vectors.shape[1]), dtype=np.float32)
        return self._embedder.embed_passages(list(claims))

    def _windows(self, rows: Sequence[int]) -> list[tuple[int, ...]]:
        """Each sentence, then runs of up to `window` adjacent sentences of one article."""
        ordered = sorted(set(rows))
        sentences = self._data.sentences
        runs: list[tuple[int, ...]] = [(r,) for r in ordered]
        for size in range(2, self.config.window + 1):
            for i in range(len(ordered) - size + 1):
                run = tuple(ordered[i : i + size])
                if run[-1] - run[0] == size - 1 and len({sentences[r].doc_id for r in run}) == 1:
                    runs.append(run)
        return runs

    def support(self, claim: str, lang: str, vector: np.ndarray, rows: Sequence[int]) -> SupportingSpan | None:
        """The best supporting span made of the sentences `rows` (single sentences first), or None."""
        vectors = self._data.sentence_vectors
        best_cosine = self._best_cosine(claim, vectors @ vector)
        windows = self._windows(rows)
        singles = [w for w in windows if len(w) == 1]
        joined = [w for w in windows if len(w) > 1]
        found = self._supported(claim, lang, singles, [float(vectors[w[0]] @ vector) for w in singles], best_cosine)
        # Joined sentences need their own embedding: only for those that pass the word checks.
        joined = [w for w in joined if self._supported(claim, lang, [w], [1.0], 0.0)]
        if not found and joined:
            texts = [self._span(w)[3] for w in joined]
            cosines = [float(v @ vector) for v in self._embedder.embed_passages(texts)]
            found = self._supported(claim, lang, joined, cosines, best_cosine)
        return max(found, key=lambda s: (s.verdict.cosine + 0.1 * s.verdict.coverage, -s.start), default=None)

    def _best_cosine(self, claim: str, cosines: np.ndarray) -> float:
        """The claim's best cosine among its `rivals` nearest sentences that state its numbers and
        names (a sentence lacking them cannot be a better source)."""
        sentences = self._data.sentences
        for row in np.argsort(-cosines, kind="stable")[: self.config.rivals]:
            if not missing_facts(claim, sentences[row].text, self.config, self._exonyms):
                return float(cosines[row])
        return 0.0

    def _supported(self, claim: str, lang: str, windows: list[tuple[int, ...]], cosines: list[float],
                   best_cosine: float) -> list[SupportingSpan]:
        found = []
        for window, cosine in zip(windows, cosines):
            doc_id, start, end, text = self._span(window)
            verdict = judge(claim, lang, text, self._data.documents[doc_id].lang, cosine, best_cosine,
                            self.config, self._exonyms)
            if verdict.supported:
                found.append(SupportingSpan(doc_id, start, end, text, verdict))
        return found

    def _span(self, run: tuple[int, ...]) -> tuple[str, int, int, str]:
        first, last = self._data.sentences[run[0]], self._data.sentences[run[-1]]
        raw = self._data.documents[first.doc_id].text
        return first.doc_id, first.start, last.end, raw[first.start : last.end]
