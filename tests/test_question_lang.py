"""Telling a question's language: among the app's languages and its articles', not every language."""

from __future__ import annotations

import pytest

from qa.question import MAX_QUESTION_CHARS, QuestionError, keep_end, prepare_question


@pytest.mark.parametrize(("question", "lang"), [
    ("Où vivent les Criollos ?", "fr"), ("Quand ?", "fr"), ("Qui dirigent Marie-Garante ?", "fr"),
    ("Who authored the Liber servitoris?", "en"),
])
def test_short_questions_are_told_among_the_apps_languages(question, lang):
    # among every supported language these read as Spanish, Portuguese, Spanish
    assert prepare_question(question).lang == lang


@pytest.mark.parametrize(("question", "lang"), [
    ("Qui est John Kirby ?", "fr"), ("Qui est Shin Won-sik ?", "fr"), ("Où est le Clark Art Institute ?", "fr"),
    ("Where was James Marangé born?", "en"), ("Who is Vladimir Poutine?", "en"), ("Kirby ?", "en"),
])
def test_names_from_the_other_language_do_not_decide_a_questions_language(question, lang):
    # with their names, the French ones read as English and the English one as French
    assert prepare_question(question).lang == lang


def test_a_corpus_language_is_a_question_language_too():
    assert prepare_question("Wer hat den Vertrag unterschrieben?", ("de", "en", "fr")).lang == "de"


def test_a_long_pasted_paragraph_keeps_its_end_where_the_question_is():
    question = prepare_question("Contexte : la Russie et la Corée du Nord se rapprochent. " * 40
                                + "Combien de conteneurs la Corée du Nord a-t-elle envoyés ?")
    assert question.text.endswith("Combien de conteneurs la Corée du Nord a-t-elle envoyés ?")
    assert len(question.text) <= MAX_QUESTION_CHARS and question.text.startswith(("Contexte", "la ", "Russie", "et ", "Corée", "du ", "Nord", "se ", "rapprochent"))
    assert question.notices == (f"La question a été raccourcie à ses {len(question.text)} derniers caractères "
                                "(la question est d’ordinaire à la fin).",)


def test_a_paste_cut_at_its_question_mark_says_so_not_that_it_kept_its_end():
    question = prepare_question("Who met Kim in Pyongyang? " + "Lorem ipsum dolor sit amet. " * 60)
    assert question.text == "Who met Kim in Pyongyang?"
    assert question.notices == ("The question was shortened to 25 characters ending at its last question mark "
                                "(what follows a question is not the question).",)


def test_notices_and_errors_come_in_the_question_or_page_language():
    assert prepare_question("<b>Who met Kim?</b>").notices == ("HTML tags were removed from the question.",)
    assert prepare_question("<b>Qui a rencontré Kim ?</b>").notices == (
        "Les balises HTML ont été retirées de la question.",)
    with pytest.raises(QuestionError) as caught:
        prepare_question("  ?! ")
    assert str(caught.value) == "The question is empty; type a question in French or English."
    assert caught.value.in_language("fr") == "La question est vide ; posez une question en français ou en anglais."
    assert QuestionError("No article named x.").in_language("fr") == "No article named x."
    assert keep_end("un deux trois", 9) == "trois" and keep_end("un deux trois", 13) == "un deux trois"
    assert keep_end("Qui ? " + "très " * 50, 20) == "Qui ?"


def test_a_pasted_paragraph_is_typed_by_its_question():
    from qa.question import Kind

    assert prepare_question("Contexte : Kim et Poutine se sont vus. Qui a offert une limousine ?").kind == Kind.WHO
    assert prepare_question("Combien M. Poutine a-t-il offert ?").kind == Kind.HOW_MANY  # "M." ends no sentence


def test_bytes_a_terminal_could_not_decode_are_read_back_not_a_traceback():
    from qa.question import check_question

    assert check_question("Qui est Sergue\udcefgou ?")[0] == "Qui est Sergueïgou ?"   # Latin-1 in a UTF-8 shell
    assert check_question("Where is \ud800 Pyongyang?")[0] == "Where is \ufffd Pyongyang?"
    prepare_question("Qui est Sergue\udcefgou ?").text.encode("utf-8")


def test_a_question_in_another_script_says_why_it_may_be_missed():
    note = ("The question is not written in French or English, the languages the app reads best: if the answer is "
            "missed, ask it in one of them.")
    assert prepare_question("朝鲜向俄罗斯派遣了多少士兵？").notices == (note,)
    assert prepare_question("Сколько солдат Северная Корея отправила в Россию?").notices == (note,)
    assert prepare_question("Qui est Сергей Шойгу ?").notices == ()          # a name in its own script
    assert prepare_question("Wer hat den Vertrag unterschrieben?").notices == ()
    # a corpus with Russian articles reads Russian questions
    assert prepare_question("Сколько солдат отправила Корея?", ("en", "fr", "ru")).notices == ()
