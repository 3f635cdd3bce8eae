"""Sentences: exact offsets, French and English punctuation, never across excluded text."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import Document, read_corpus
from index.sentences import MAX_SENTENCE_CHARS, document_sentences, is_closed, split_sentences

SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
DOCS = read_corpus(SEEDS_DIR).documents


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.fixture(params=DOCS, ids=lambda d: d.doc_id[:3])
def doc(request: pytest.FixtureRequest) -> Document:
    return request.param


def test_sentence_text_is_the_raw_text_at_its_offsets(doc: Document) -> None:
    found = document_sentences(doc)
    assert len(found) >= 10
    for sentence in found:
        assert doc.text[sentence.start : sentence.end] == sentence.text
        assert sentence.doc_id == doc.doc_id
        assert sentence.text == sentence.text.strip() and len(sentence.text) >= 2


def test_sentences_stay_inside_one_body_span(doc: Document) -> None:
    found = document_sentences(doc)
    for sentence in found:
        assert any(s.start <= sentence.start and sentence.end <= s.end for s in doc.body)
        for gap in doc.excluded:
            assert sentence.end <= gap.start or gap.end <= sentence.start
    assert all(a.end <= b.start for a, b in zip(found, found[1:])), "sentences are ordered and disjoint"


def test_no_sentence_spans_a_line_break(doc: Document) -> None:
    assert not [s.text for s in document_sentences(doc) if "\n" in s.text]


def test_abbreviations_in_the_seeds_do_not_end_sentences() -> None:
    doc = next(d for d in DOCS if d.doc_id.startswith("002"))
    texts = [s.text for s in document_sentences(doc)]
    assert "En février, M. Poutine a offert à M. Kim une limousine russe de luxe, contrevenant aux sanctions de l’ONU." in texts
    assert not [t for t in texts if t.endswith(" M.")]


def test_french_punctuation_and_quotes() -> None:
    text = "Faut-il s'inquiéter ? « Oui », dit-il. Le chiffre : 1 000 conteneurs… Puis 3,5 millions d’obus."
    assert sentences(text) == [
        "Faut-il s'inquiéter ?",
        "« Oui », dit-il.",
        "Le chiffre : 1 000 conteneurs…",
        "Puis 3,5 millions d’obus.",
    ]


def test_english_abbreviations_initials_and_decimals() -> None:
    text = "Mr. Kim met Gen. Shoigu in the U.S. embassy. J. Biden said 3.5 million shells! Was it true?"
    assert sentences(text) == [
        "Mr. Kim met Gen. Shoigu in the U.S. embassy.",
        "J. Biden said 3.5 million shells!",
        "Was it true?",
    ]


def test_an_approximate_figure_stays_in_its_sentence() -> None:
    text = "The engine consumes approx. 8.8 pounds of steam. Le trajet fait env. 300 km. Voir fig. 2 ci-dessous."
    assert sentences(text) == [
        "The engine consumes approx. 8.8 pounds of steam.",
        "Le trajet fait env. 300 km.",
        "Voir fig. 2 ci-dessous.",
    ]
    assert sentences("He ate a fig. Then he left.") == ["He ate a fig.", "Then he left."]


def test_a_lowercase_word_after_a_period_does_not_start_a_sentence() -> None:
    assert sentences("Il a dit etc. et puis rien. Fin.") == ["Il a dit etc. et puis rien.", "Fin."]


def test_bounds_are_respected() -> None:
    text = "Avant. Dedans un. Dedans deux. Après."
    start, end = text.index("Dedans"), text.index(" Après")
    assert [text[s:e] for s, e in split_sentences(text, start, end)] == ["Dedans un.", "Dedans deux."]


def test_a_long_run_without_sentence_ends_is_cut_at_spaces_into_bounded_pieces() -> None:
    words = " ".join(f"mot{i}" for i in range(900))  # ~6,000 characters, no punctuation
    text = f"Titre\n{words}\n"
    spans = split_sentences(text, limit=1000)
    assert text[spans[0][0]:spans[0][1]] == "Titre"
    pieces = [text[s:e] for s, e in spans[1:]]
    assert all(len(p) <= 1000 and p == p.strip() for p in pieces)
    assert " ".join(pieces) == words  # cut between words, nothing lost or repeated


def test_a_period_that_lost_its_space_still_ends_a_sentence() -> None:
    text = ("Le musée est situé à Williamstown (États-Unis).Il abrite un centre de recherche, avec le "
            "Williams College.Ses collections datent du XIVe siècle. He moved to St.Louis. The U.S.Army "
            "came. Use Node.js here.")
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Le musée est situé à Williamstown (États-Unis).", "Il abrite un centre de recherche, avec le Williams College.",
        "Ses collections datent du XIVe siècle.", "He moved to St.Louis.", "The U.S.Army came.", "Use Node.js here."]


def test_footnote_marks_close_a_sentence_and_do_not_make_it_a_heading() -> None:
    text = "He also describes the distillation.[verification needed] He made it clear.[12][13] Le vote a lieu.[réf. nécessaire] Il est clos."
    found = [text[a:b] for a, b in split_sentences(text)]
    assert found == ["He also describes the distillation.[verification needed]", "He made it clear.[12][13]",
                     "Le vote a lieu.[réf. nécessaire]", "Il est clos."]
    assert all(is_closed(s) for s in found)
    assert not is_closed("Early life") and not is_closed("History [edit]")


def test_elisions_and_spaced_footnote_marks() -> None:
    # a glued period before an elision stays: a generated "cultures.I'm" is not a sentence end
    # to the generation grammar either (qa.claims splits with this function)
    text = "Le musée est aux États-Unis (Massachusetts).C'est un lieu. He made it clear.[12] [13] Next one here."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Le musée est aux États-Unis (Massachusetts).C'est un lieu.", "He made it clear.[12] [13]",
        "Next one here."]


@pytest.mark.parametrize("text", ["." * 200_000, "a." + " " * 200_000 + "b", "Le chat dort.[12] " * 10_000,
                                  "Le chat dort bien.Il " * 10_000])
def test_long_runs_of_marks_or_spaces_split_in_linear_time(text: str) -> None:
    # each took minutes when the pattern backtracked or each period re-read the text before it
    pieces = split_sentences(text)
    assert pieces and all(b - a <= MAX_SENTENCE_CHARS for a, b in pieces)
