"""Telling a question's language: among the app's languages and its articles', not every language."""

from __future__ import annotations

import pytest

from qa.question import prepare_question


@pytest.mark.parametrize(("question", "lang"), [
    ("Où vivent les Criollos ?", "fr"), ("Quand ?", "fr"), ("Qui dirigent Marie-Garante ?", "fr"),
    ("Who authored the Liber servitoris?", "en"),
])
def test_short_questions_are_told_among_the_apps_languages(question, lang):
    # among every supported language these read as Spanish, Portuguese, Spanish
    assert prepare_question(question).lang == lang


def test_a_corpus_language_is_a_question_language_too():
    assert prepare_question("Wer hat den Vertrag unterschrieben?", ("de", "en", "fr")).lang == "de"
