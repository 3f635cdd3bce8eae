"""Clean a raw question, tell its language and what kind of answer it wants."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from index.analyzer import fold
from index.lang import detect_language
from index.sentences import split_sentences

__all__ = ["QuestionError", "Kind", "Question", "check_question", "prepare_question", "question_message",
           "keep_end", "MAX_QUESTION_CHARS", "ANSWER_LANGS"]

MAX_QUESTION_CHARS = 1000
ANSWER_LANGS = ("en", "fr")   # what the app answers in (another language is answered in English)
_TAG = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>|<[^>]{0,500}>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


_MESSAGES = {
    "tags": {"en": "HTML tags were removed from the question.",
             "fr": "Les balises HTML ont été retirées de la question."},
    "shortened": {"en": "The question was shortened to its last {n} characters (the question is usually at the end).",
                  "fr": "La question a été raccourcie à ses {n} derniers caractères (la question est d’ordinaire à la "
                        "fin)."},
    "shortened_at_mark": {"en": "The question was shortened to {n} characters ending at its last question mark (what "
                                "follows a question is not the question).",
                          "fr": "La question a été raccourcie à {n} caractères finissant à son dernier point "
                                "d’interrogation (ce qui suit une question n’en fait pas partie)."},
    "model_cut": {"en": "The question was cut to its last {n} characters, as much as the model reads.",
                  "fr": "La question a été coupée à ses {n} derniers caractères, ce que le modèle peut lire."},
    "no_match": {"en": "No article matches the filter (articles or dates); widen or remove it.",
                 "fr": "Aucun article ne correspond au filtre (articles ou dates) ; élargissez-le ou retirez-le."},
    "other_script": {"en": "The question is not written in French or English, the languages the app reads best: if the "
                           "answer is missed, ask it in one of them.",
                     "fr": "La question n’est écrite ni en français ni en anglais, les langues que l’application lit "
                           "le mieux : si la réponse manque, posez-la dans l’une d’elles."},
    "not_text": {"en": "The question must be text; type a question in French or English.",
                 "fr": "La question doit être du texte ; posez une question en français ou en anglais."},
    "empty": {"en": "The question is empty; type a question in French or English.",
              "fr": "La question est vide ; posez une question en français ou en anglais."},
}


def question_message(key: str, lang: str, **values: object) -> str:
    """One of the question's notices or errors, in French or English (`lang`; English otherwise)."""
    texts = _MESSAGES[key]
    return texts.get(lang, texts["en"]).format(**values)


class QuestionError(ValueError):
    """The question cannot be asked as it is; the message says what to do (in English; `french`
    when one was given, for a French page)."""

    def __init__(self, message: str, french: str | None = None) -> None:
        super().__init__(message)
        self.french = french

    @classmethod
    def of(cls, key: str) -> QuestionError:
        return cls(question_message(key, "en"), question_message(key, "fr"))

    def in_language(self, lang: str) -> str:
        return self.french if lang == "fr" and self.french else str(self)


class Kind(str, Enum):
    HOW_MANY = "how_many"
    WHEN = "when"
    WHO = "who"
    WHERE = "where"
    OTHER = "other"


_KIND_PATTERNS = (
    (Kind.HOW_MANY, r"\b(how many|how much|how old|quel age|combien|quel(le)?s? (est le )?(nombre|quantite|montant)|"
                    r"what (is the )?(number|amount|figure))\b"),
    (Kind.WHEN, r"^(when|quand)\b|\b(since when|depuis quand|what (year|date|day|month)|which (year|month|day)|"
                r"en quelle (annee|mois)|quel(le)? (jour|date|annee|mois)|a quelle (date|epoque|periode)|"
                r"in what (year|month))\b"),
    (Kind.WHO, r"^((a|de|par|avec|pour|to|by|with|for) )?(qui|who|whom|whose)\b|\b(name of|nom d[eu]?|s'appelle|called|named|"
               r"quel(le)? (personne|responsable|dirigeant|ministre|expert|analyste|porte-parole)|"
               r"which (person|official|minister|expert|analyst|leader|spokes\w+))\b"),
    (Kind.WHERE, r"^(d')?(ou|where)\b|\b(dans quel(le)? (pays|ville|lieu|region)|"
                 r"in (which|what) (country|city|place|region)|(what|which) (country|city|place))\b"),
)


@dataclass(frozen=True)
class Question:
    raw: str
    text: str
    lang: str
    kind: Kind
    notices: tuple[str, ...] = ()


def question_kind(text: str) -> Kind:
    """What kind of answer the question wants, read from its last sentence that asks (a pasted
    paragraph ends with its question)."""
    spans = split_sentences(text)
    if len(spans) > 1:
        asking = [text[a:b] for a, b in spans if "?" in text[a:b]] or [text[a:b] for a, b in spans]
        text = asking[-1]
    folded = fold(text)
    for kind, pattern in _KIND_PATTERNS:
        if re.search(pattern, folded):
            return kind
    return Kind.OTHER


def keep_end(text: str, chars: int) -> str:
    """The last `chars` characters of `text` or fewer, starting at a word (a pasted paragraph
    usually ends with its question), up to its last question mark when it has one."""
    if len(text) <= chars:
        return text
    if "?" in text:   # what follows the last question mark is not the question
        text = text[: text.rindex("?") + 1]
        if len(text) <= chars:
            return text
    kept = text[len(text) - chars :]
    if not text[len(text) - chars - 1].isspace() and " " in kept:
        kept = kept.split(" ", 1)[1]
    return kept.strip()


def _decoded(raw: str) -> str:
    """`raw` with the undecodable bytes a terminal passes as lone surrogates ("Sergue\\udcefgou",
    Latin-1 typed into a UTF-8 shell) read back as Windows-1252, or replaced when they cannot be."""
    if not any("\ud800" <= c <= "\udfff" for c in raw):
        return raw
    try:
        data = raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in raw)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _clean(raw: str) -> tuple[str, list[tuple[str, dict[str, object]]]]:
    """The cleaned text, and its notices as (message key, values)."""
    notices: list[tuple[str, dict[str, object]]] = []
    raw = _decoded(raw)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in raw)
    without_tags = _TAG.sub(" ", text)
    if without_tags != text:
        notices.append(("tags", {}))
    text = _SPACE.sub(" ", html.unescape(without_tags)).strip()
    if len(text) > MAX_QUESTION_CHARS:
        whole, text = text, keep_end(text, MAX_QUESTION_CHARS)
        notices.append(("shortened" if whole.endswith(text) else "shortened_at_mark", {"n": len(text)}))
    return text, notices


def _checked(raw: str) -> tuple[str, list[tuple[str, dict[str, object]]]]:
    if not isinstance(raw, str):
        raise QuestionError.of("not_text")
    text, notices = _clean(raw)
    if not any(c.isalnum() for c in text):
        raise QuestionError.of("empty")
    return text, notices


def _first_letter(word: str) -> str:
    return next((c for c in word if c.isalpha()), "")


def _other_script(text: str) -> bool:
    """Most of the question's words are written outside the Latin script (Chinese, Russian,
    Arabic...); a name in its own script in a French or English question is not enough."""
    letters = [first for first in map(_first_letter, re.findall(r"\w+", text)) if first]
    other = sum(not unicodedata.name(first, "").startswith("LATIN") for first in letters)
    return other * 2 > len(letters)


def _without_names(text: str) -> str:
    """The question without its capitalised words after the first (names, acronyms), when at
    least two words are left: a name in the other language ("Qui est John Kirby ?", "Where was
    James Marangé born?") outweighs the few words that tell a short question's language."""
    words = text.split()
    kept = words[:1] + [w for w in words[1:] if not _first_letter(w).isupper()]
    return " ".join(kept) if sum(bool(_first_letter(w)) for w in kept) >= 2 else text


def check_question(raw: str) -> tuple[str, list[str]]:
    """The cleaned question and its notices (in English); raises `QuestionError` when nothing
    answerable is left (what `prepare_question` checks, without detecting the language: a CLI
    fails fast)."""
    text, notices = _checked(raw)
    return text, [question_message(key, "en", **values) for key, values in notices]


def prepare_question(raw: str, langs: Iterable[str] = ANSWER_LANGS) -> Question:
    """Raises `QuestionError` when nothing answerable is left once the question is cleaned. Its
    language is told among `langs`: the languages the app answers in and its articles' own; its
    notices are in that language (English unless French)."""
    text, notices = _checked(raw)
    lang = detect_language(_without_names(text), among=langs)
    if lang in ANSWER_LANGS and _other_script(text):   # not a language of the articles' either
        notices.append(("other_script", {}))
    return Question(raw=raw, text=text, lang=lang, kind=question_kind(text),
                    notices=tuple(question_message(key, lang, **values) for key, values in notices))
