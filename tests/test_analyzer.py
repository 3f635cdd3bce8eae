"""Lexical analysis for BM25: elisions, accents, digit groups, stop words, stems (FR and EN)."""

from __future__ import annotations

import pytest

from index.analyzer import analyze, analyze_query, fold


@pytest.mark.parametrize(("elided", "bare"), [
    ("l’isolement", "isolement"),
    ("d'armes", "armes"),
    ("L’Ukraine", "Ukraine"),
    ("jusqu’à Pyongyang", "Pyongyang"),
    ("s’intensifient", "intensifient"),
])
def test_french_elisions_are_split_off(elided: str, bare: str) -> None:
    assert analyze(elided, "fr") == analyze(bare, "fr") != []


def test_elided_pronoun_is_a_stop_word() -> None:
    assert analyze("qu’elle", "fr") == []
    assert analyze("qu’il", "fr") == []


def test_apostrophe_inside_a_word_is_not_an_elision() -> None:
    assert analyze("aujourd’hui", "fr") == ["aujourd", "hui"]


def test_accents_are_folded() -> None:
    assert fold("Élysée") == "elysee"
    assert fold("ÉTATS-UNIS, Pékin, Corée") == "etats-unis, pekin, coree"
    assert analyze("Corée du Nord", "fr") == analyze("coree du nord", "fr")
    assert analyze("Pékin", "fr") == analyze("PEKIN", "fr")


@pytest.mark.parametrize(("text", "lang", "number"), [
    ("1 000 conteneurs", "fr", "1000"),
    ("7,000 containers", "en", "7000"),
    ("10 000 soldats", "fr", "10000"),
    ("1\u202f000 obus", "fr", "1000"),  # narrow no-break space, as typeset in French
    ("1\u00a0000 obus", "fr", "1000"),  # no-break space
    ("2 500 000 roquettes", "fr", "2500000"),
    ("1.000.000 shells", "en", "1000000"),
])
def test_digit_groups_are_joined(text: str, lang: str, number: str) -> None:
    terms = analyze(text, lang)
    assert terms[0] == number
    assert analyze(number, lang) == [number]


def test_separate_numbers_stay_separate() -> None:
    assert analyze("en 2010, 2013 et 2017", "fr") == ["2010", "2013", "2017"]
    assert analyze("1,5 million", "fr") == ["1", "5", "million"]


def test_stop_words_are_dropped() -> None:
    assert analyze("la Corée et le Japon", "fr") == analyze("Corée Japon", "fr")
    assert analyze("the sanctions of the United Nations", "en") == analyze("sanctions United Nations", "en")
    assert analyze("Combien de soldats ont été envoyés ?", "fr") == analyze("soldats envoyés", "fr")


def test_french_stemming() -> None:
    assert len(set(analyze("sanctions sanctionné sanctionnés", "fr"))) == 1
    assert analyze("militaires", "fr") == analyze("militaire", "fr")
    assert analyze("relations", "fr") == analyze("relation", "fr")


def test_english_stemming() -> None:
    assert len(set(analyze("sanctions sanctioned sanctioning", "en"))) == 1
    assert analyze("soldiers", "en") == analyze("soldier", "en")
    assert analyze("containers", "en") == ["contain"]


def test_unknown_language_keeps_words_unstemmed() -> None:
    assert analyze("sanctions militaires", "xx") == ["sanctions", "militaires"]


def test_query_terms_cover_each_index_language_once() -> None:
    terms = analyze_query("How many containers and sanctions?", ("en", "fr"))
    assert terms == ["contain", "sanction", "container"]  # English stems, then the French ones not yet there
    assert analyze_query("Russie", ("en", "fr")) == ["russi", "russ"]
    assert analyze_query("soldiers", ()) == analyze("soldiers", "en")
