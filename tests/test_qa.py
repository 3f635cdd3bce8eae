"""The question-answering core on the real seeds with the real model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from qa import Filters, Mode, QuestionError

KIRBY_DOC = "000_110a115a5bf18778.txt"
SHIN_DOC = "004_113f9629b7018fa7.txt"
BELOOUSSOV_DOC = "003_7614884e23d75de0.txt"


def _check_offsets(pipeline, answer) -> None:
    for c in answer.citations + answer.related:
        raw = pipeline.documents[c.doc_id].text
        assert raw[c.start : c.end] == c.quote, f"citation {c.n} quote is not raw[start:end]"
        if c.answer_start is not None:
            assert c.start <= c.answer_start < c.answer_end <= c.end
            assert raw[c.answer_start : c.answer_end] == c.short_answer


@pytest.mark.parametrize(
    ("question", "doc", "words"),
    [
        ("Who is the Russian defence minister who met Kim Jong Un?", BELOOUSSOV_DOC, "Belooussov"),
        ("Qui est le ministre russe de la Défense qui a rencontré Kim Jong Un ?", BELOOUSSOV_DOC, "Belooussov"),
        ("Which Pentagon spokesman talked about the containers sent to Russia?", KIRBY_DOC, "John Kirby"),
        ("Combien de soldats nord-coréens auraient été envoyés en Russie ?", BELOOUSSOV_DOC, "10 000 soldats"),
    ],
)
def test_answers_cite_the_sentence_that_answers(pipeline, question, doc, words):
    answer = pipeline.ask(question)
    assert not answer.abstained, answer.to_dict()
    assert any(c.doc_id == doc and words in c.quote for c in answer.citations), answer.text
    assert all(f"[{c.n}]" in answer.text for c in answer.citations)
    _check_offsets(pipeline, answer)


def test_english_question_is_answered_in_english_with_french_evidence(pipeline):
    answer = pipeline.ask("When did North Korea successfully launch its reconnaissance satellite?")
    assert answer.lang == "en"
    assert any("novembre" in c.quote for c in answer.citations)
    assert answer.signals["cross_lingual"] == 1.0


def test_reader_marks_the_short_answer_inside_the_best_sentence(pipeline):
    found = pipeline.candidates("Qui a dit que la Corée du Nord avait expédié plus de 1 000 conteneurs ?")
    best = found.scored[0]
    sentence = pipeline.data.sentences[best.index]
    assert sentence.doc_id == KIRBY_DOC and best.reading is not None
    assert sentence.text[best.reading.span[0] : best.reading.span[1]] == "John Kirby"


def test_short_answers_are_shown_only_when_confident(pipeline):
    for question in ("Qui a dit que la Corée du Nord avait expédié plus de 1 000 conteneurs ?",
                     "Who is John Kirby?", "When did North Korea launch its reconnaissance satellite?"):
        found = pipeline.candidates(question)
        answer = pipeline.ask(question)
        for c in answer.citations:
            s = next(s for s in found.scored if pipeline.data.sentences[s.index].start == c.start)
            sure = pipeline.combination.short_confidence(s, found.question, c.quote) >= pipeline.combination.short_threshold
            assert (c.short_answer is not None) == sure


def test_disagreeing_figures_are_shown_with_each_source(pipeline):
    answer = pipeline.ask("Combien de conteneurs d'armes la Corée du Nord a-t-elle envoyés à la Russie ?")
    assert {c.doc_id for c in answer.citations} >= {KIRBY_DOC, SHIN_DOC}
    assert any("7 000" in c.quote for c in answer.citations) and any("1 000" in c.quote for c in answer.citations)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("Why did China open an investigation into Nvidia?", "The articles don't answer this question."),
        ("Pourquoi l'oignon nouveau est-il apprécié ?", "Les articles ne répondent pas à cette question."),
    ],
)
def test_questions_about_excluded_noise_abstain_in_the_question_language(pipeline, question, message):
    answer = pipeline.ask(question)
    assert answer.abstained
    assert answer.text == message
    assert answer.citations == ()
    assert answer.related, "an abstention lists the nearest passages as related"
    _check_offsets(pipeline, answer)


@pytest.mark.parametrize("question", ["a", "the", "[a]", "Qui ?", "What is it?"])
def test_questions_without_content_words_abstain(pipeline, question):
    answer = pipeline.ask(question)
    assert answer.abstained and answer.citations == ()


def test_search_returns_ranked_passages_with_exact_offsets(pipeline):
    hits = pipeline.search("John Kirby conteneurs", k=4)
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert hits[0].doc_id == KIRBY_DOC
    for h in hits:
        assert pipeline.documents[h.doc_id].text[h.start : h.end] == h.text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("mode", list(Mode))
def test_every_retrieval_mode_finds_a_named_person(pipeline, mode):
    hits = pipeline.search("Belooussov Kim Jong Un", k=3, mode=mode)
    assert BELOOUSSOV_DOC in {h.doc_id for h in hits}


@pytest.mark.parametrize("mode", list(Mode))
def test_every_retrieval_mode_answers_an_answerable_question(pipeline, mode):
    # the abstention model reads the dense cosines in BM25 mode too (it refused most answers without them)
    answer = pipeline.ask("Who is the Pentagon spokesman who talked about containers?", mode=mode)
    assert not answer.abstained and answer.confidence > 0.5 and answer.signals["dense_top"] > 0.5
    assert answer.citations[0].doc_id == KIRBY_DOC
    ranked = pipeline.search("John Kirby conteneurs", k=3, mode=Mode.BM25)
    assert [h.bm25 is not None for h in ranked] == [True] * 3   # BM25 alone still ranks


def test_filters_restrict_documents_and_dates(pipeline):
    only = pipeline.search("conteneurs", k=10, filters=Filters(doc_ids=(KIRBY_DOC,)))
    assert only and {h.doc_id for h in only} == {KIRBY_DOC}
    dated = pipeline.search("conteneurs", k=10, filters=Filters(date_from="2024-01", date_to="2024-12"))
    assert {h.doc_id for h in dated} == {SHIN_DOC}, "only 004 carries a date (2024-03)"
    assert pipeline.search("conteneurs", filters=Filters(date_from="2030")) == []
    day = pipeline.search("conteneurs", k=10, filters=Filters(date_from="2024-03-18", date_to="2024-03-31"))
    assert {h.doc_id for h in day} == {SHIN_DOC}, "an article dated 2024-03 is within a range inside March"


def test_a_filter_no_article_matches_is_named_not_blamed_on_the_articles(pipeline):
    answer = pipeline.ask("Combien de conteneurs la Corée du Nord a-t-elle envoyés ?", filters=Filters(date_from="2030"))
    assert answer.abstained and not answer.citations
    assert answer.notices[-1] == "Aucun article ne correspond au filtre (articles ou dates) ; élargissez-le ou retirez-le."
    matched = pipeline.ask("How many containers did North Korea send?", filters=Filters(date_from="2024"))
    assert not any("filter" in n for n in matched.notices)


@pytest.mark.parametrize(("start", "end", "says"), [
    ("notadate", None, "The start date 'notadate' is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD"),
    ("2024-13", None, "The start date '2024-13' is not a date"),
    (None, "03/2024", "The end date '03/2024' is not a date"),
    ("2025", "2023", "The date range ends (2023) before it starts (2025); swap the two dates."),
])
def test_a_date_filter_that_is_not_a_date_is_refused_with_the_fix(start, end, says):
    with pytest.raises(ValueError) as caught:
        Filters(date_from=start, date_to=end)
    assert str(caught.value).startswith(says)


@pytest.mark.parametrize("question", ["", "   ", "\x00\x07", "<br/>", "?!"])
def test_empty_questions_are_refused_with_a_clear_message(pipeline, question):
    with pytest.raises(QuestionError, match="empty"):
        pipeline.ask(question)


def test_a_how_much_answer_without_any_figure_says_so_in_the_question_language(pipeline):
    answering = pipeline.with_config(replace(pipeline.config, abstain=pipeline.config.abstain.never()))
    worth = answering.ask("How much was the limousine Putin gave Kim worth?")  # its sentence gives no price
    assert "No figure appears in the quoted sentences: they may not say how many or how much." in worth.notices
    counted = pipeline.ask("Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?")
    assert not counted.abstained and not any("nombre" in n for n in counted.notices)


def test_the_figure_notice_reads_digits_and_number_words_not_the_questions_own():
    from qa.answer import figure_notice

    assert figure_notice("Combien d'enfants avaient-ils ?", "fr", ["Une famille ouvrière de neuf enfants."]) == ()
    assert figure_notice("How many containers were sent in 2024?", "en", ["In 2024 they met."]) == (
        "No figure appears in the quoted sentences: they may not say how many or how much.",)
    assert figure_notice("Combien valait la limousine ?", "fr", ["Il a offert une limousine de luxe."]) == (
        "Aucun nombre n’apparaît dans les phrases citées : elles ne disent peut-être pas combien.",)
    assert figure_notice("Who met Kim?", "en", ["Putin did."]) == ()
    assert figure_notice("Combien de manifestants ?", "fr", ["Une centaine de personnes ont défilé."]) == ()
    assert figure_notice("How many people died?", "en", ["One person died in the attack."]) == ()
    # a year or a day of a month is a date, not a figure; "pays tiers" is no third
    for quote in ("In September 2023, Putin gave Kim a limousine.", "Le 1er mars, il l'a offerte.",
                  "Les pays tiers n'ont rien dit."):
        assert figure_notice("How much was it worth?", "en", [quote]), quote


def test_very_long_question_is_cut_and_says_so(pipeline):
    answer = pipeline.ask("Combien de conteneurs ? " + "très " * 20_000)
    assert answer.question == "Combien de conteneurs ?"   # what follows the last question mark is not the question
    assert "La question a été raccourcie à 23 caractères finissant à son dernier point d’interrogation (ce qui suit " \
           "une question n’en fait pas partie)." in answer.notices
    tail = pipeline.ask("très " * 20_000 + "Combien de conteneurs ?")
    assert tail.question.endswith("Combien de conteneurs ?") and len(tail.question) <= 1000
    assert any(n.startswith("La question a été raccourcie à ses") for n in tail.notices)


def test_html_and_control_characters_are_removed(pipeline):
    answer = pipeline.ask("<script>alert(1)</script>Who is John\x00 Kirby?")
    assert "<script>" not in answer.question and "\x00" not in answer.question
    assert any("HTML" in n for n in answer.notices)
    assert not answer.abstained


def test_question_in_another_language_gets_an_answer_not_a_crash(pipeline):
    answer = pipeline.ask("Wie viele Container hat Nordkorea nach Russland geschickt?")
    assert answer.lang == "en"   # told among the app's languages and the articles': answered in English
    assert answer.citations or answer.text == "The articles don't answer this question."
    _check_offsets(pipeline, answer)


def test_concurrent_asks_match_sequential_ones(pipeline):
    questions = ["Who met Kim Jong Un in Pyongyang?", "Combien de conteneurs ?", "Qui est Yun Sun ?"] * 3
    sequential = [pipeline.ask(q).text for q in questions]
    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(lambda q: pipeline.ask(q).text, questions))
    assert concurrent == sequential


def test_answer_json_has_the_documented_fields(pipeline):
    data = pipeline.ask("Who is John Kirby?").to_dict()
    assert {"question", "lang", "abstained", "answer", "citations", "related", "timings_ms"} <= set(data)
    citation = data["citations"][0]
    assert {"n", "doc_id", "title", "date", "start", "end", "quote", "score"} <= set(citation)
    assert {"embed", "search", "sentences", "total"} <= set(data["timings_ms"])
