"""The citation verifier and the mapping of generated sentences to article spans, on hand-written
sentences in French and English over the real seeds (no language model needed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from qa import GenerationConfig, Generator, Partial
from qa.generate import UNSUPPORTED_MARK, build_messages, split_claims
from qa.verify import VerifyConfig, Verifier, is_refusal, judge, missing_facts, names, numbers

KIRBY = "John Kirby, a expliqué aux journalistes que la Corée du Nord avait expédié plus de 1 000 conteneurs"
SHOIGU = "Sergei Shoigu, haut responsable de la sécurité russe, a discuté avec le leader nord-coréen"
BELOOUSSOV = "le ministre russe de la Défense Andreï Belooussov se sont rencontrés vendredi"
SOLDIERS = "d’avoir envoyé plus de 10 000 soldats en Russie"
SATELLITE = "lancement d’un satellite de surveillance par la Corée du Nord en novembre dernier"
SHIN = "avait envoyé 7 000 conteneurs d’armes à la Russie"


def _row(data, fragment: str) -> int:
    return next(i for i, s in enumerate(data.sentences) if fragment in s.text)


def _rows(data, fragment: str) -> list[int]:
    """The sentence holding `fragment` and the next one of its article (a two-sentence passage)."""
    row = _row(data, fragment)
    same_article = row + 1 < len(data.sentences) and data.sentences[row + 1].doc_id == data.sentences[row].doc_id
    return [row, row + 1] if same_article else [row]


@pytest.fixture(scope="module")
def verifier(pipeline) -> Verifier:
    return Verifier(pipeline.data, pipeline.embedder)


def test_numbers_join_digit_groups_and_read_small_number_words():
    assert numbers("plus de 1 000 conteneurs et 10\u202f000 soldats") == {"1000", "10000"}
    assert numbers("more than 1,000 containers and 10,000 soldiers") == {"1000", "10000"}
    assert numbers("1,5 milliard") == numbers("1.5 billion") == {"1.5"}
    assert numbers("trois navires") == numbers("three ships") == numbers("3 ships") == {"3"}
    assert numbers("le 18 mars 2024") == {"18", "2024"}


def test_names_are_capitalised_words_acronyms_and_dates():
    assert names("According to John Kirby, Kim Jong-Un met Sergei Shoigu in Pyongyang.") == [
        "john", "kirby", "kim", "jong", "sergei", "shoigu", "pyongyang"]
    assert names("The US and NATO said so in May.") == ["us", "nato", "may"]
    assert names("Il a été lancé en mars, le 18 mai.") == ["mars", "mai"]
    assert names("They may come.") == []


@pytest.mark.parametrize("sentence", ["The articles do not say.", "The passages don't mention it.",
                                      "Les articles ne précisent pas la date.", "Aucune information n'est donnée."])
def test_refusals_are_recognised(sentence):
    assert is_refusal(sentence)


def test_transliterated_and_translated_names_are_found():
    config = VerifyConfig()
    source = "Sergueï Choïgou a rencontré Kim Jong Un en Corée du Nord, aux États-Unis et à Moscou le 3 novembre."
    assert missing_facts("Sergei Shoigu met Kim Jong Un in North Korea on 3 November.", source, config) == ()
    assert missing_facts("The United States and Moscow.", source, config) == ()
    assert missing_facts("Lavrov met Kim in Seoul on 4 November.", source, config) == ("4", "lavrov", "seoul")


def test_a_figure_repeated_more_often_than_the_span_states_it_is_missing():
    config = VerifyConfig()
    source = "Le 18 mars, Pyongyang a tiré un missile."
    assert missing_facts("It fired a missile on March 18, 18.", source, config) == ("18 (2 times)",)
    assert missing_facts("It fired a missile on March 18.", source, config) == ()
    twice = "Le 18 mars, 18 soldats ont été blessés."
    assert missing_facts("On March 18, 18 soldiers were wounded.", twice, config) == ()
    assert not judge("On March 18, 18.", "en", source, "fr", 0.95, 0.95, config).supported


def test_judge_rules_without_embeddings():
    source = "La Corée du Nord avait envoyé 7 000 conteneurs d’armes à la Russie."
    config = VerifyConfig()
    assert judge("7 000 conteneurs", "fr", source, "fr", 0.5, 0.9, config).supported  # a literal quote
    assert not judge("North Korea sent 8,000 containers.", "en", source, "fr", 0.95, 0.95, config).supported
    assert judge("North Korea sent 7,000 containers.", "en", source, "fr", 0.86, 0.87, config).supported
    asks = judge("Combien de conteneurs la Corée du Nord a-t-elle envoyés ?", "fr", source, "fr", 0.95, 0.95, config)
    assert not asks.supported and asks.reason == "asks instead of stating"
    far = judge("La Russie a envoyé du pétrole.", "fr", source, "fr", 0.75, 0.8, config)
    assert not far.supported and far.reason == "too far in meaning"
    rival = judge("North Korea sent 7,000 containers.", "en", source, "fr", 0.86, 0.95, config)
    assert not rival.supported and "better" in rival.reason


@pytest.mark.parametrize(("lang", "claim", "fragment"), [
    ("en", "North Korea sent more than 1,000 containers of munitions to Russia, according to John Kirby.", KIRBY),
    ("fr", "Selon John Kirby, la Corée du Nord a expédié plus de 1 000 conteneurs de munitions aux Russes.", KIRBY),
    ("en", "Kim Jong Un met Sergei Shoigu in Pyongyang on Friday.", SHOIGU),
    ("fr", "Choïgou a rencontré Kim Jong Un à Pyongyang.", SHOIGU),
    ("en", "Kim Jong Un and Russian Defense Minister Andrei Belousov met on Friday.", BELOOUSSOV),
    ("en", "North Korea sent more than 10,000 soldiers to Russia.", SOLDIERS),
    ("fr", "La Corée du Nord a lancé un satellite de surveillance en novembre.", SATELLITE),
    ("en", "North Korea sent 7,000 containers of weapons to Russia.", SHIN),
])
def test_supported_sentences_map_to_their_sentence_span(pipeline, verifier, lang, claim, fragment):
    data = pipeline.data
    rows = _rows(data, fragment)
    span = verifier.support(claim, lang, verifier.embed([claim])[0], rows)
    assert span is not None, claim
    sentence = data.sentences[rows[0]]
    assert (span.doc_id, span.start, span.end) == (sentence.doc_id, sentence.start, sentence.end)
    assert pipeline.documents[span.doc_id].text[span.start : span.end] == span.text


@pytest.mark.parametrize(("lang", "claim", "fragment", "reason"), [
    ("en", "North Korea sent 5,000 containers of munitions to Russia, according to John Kirby.", KIRBY, "states"),
    ("en", "Kim Jong Un met Sergei Lavrov in Pyongyang on Friday.", SHOIGU, "states"),
    ("fr", "Choïgou a signé un traité nucléaire à Moscou.", SHOIGU, "states"),
    ("en", "North Korea sent 100,000 soldiers to Ukraine.", SOLDIERS, "states"),
    ("fr", "La Corée du Nord a lancé un satellite espion en mars.", SATELLITE, "states"),
    ("en", "Russia sent food and oil to North Korea in exchange.", KIRBY, ""),
    ("en", "The articles do not say.", KIRBY, "answer"),
    ("fr", "Les articles ne précisent pas qui a rencontré Kim.", SHOIGU, "answer"),
])
def test_unsupported_sentences_find_no_span(pipeline, verifier, lang, claim, fragment, reason):
    data = pipeline.data
    rows = _rows(data, fragment)
    vector = verifier.embed([claim])[0]
    assert verifier.support(claim, lang, vector, rows) is None
    best = float((data.sentence_vectors @ vector).max())
    verdicts = [judge(claim, lang, data.sentences[r].text, "fr", float(data.sentence_vectors[r] @ vector), best,
                      verifier.config) for r in rows]
    assert all(not v.supported for v in verdicts) and any(reason in v.reason for v in verdicts)


def test_split_claims_attaches_markers_and_drops_repeats():
    text = ("- North Korea sent 1,000 containers [1]. It sent 7,000. [2][3] It sent 7,000. [2]\n"
            "* Kim met Shoigu [1, 4]\n[5]")
    claims = split_claims(text)
    assert [c.text for c in claims] == ["North Korea sent 1,000 containers.", "It sent 7,000.", "Kim met Shoigu"]
    assert [c.cited for c in claims] == [(1,), (2, 3), (1, 4, 5)]
    assert split_claims("") == [] and split_claims(" [1] ") == []


def test_prompt_asks_for_the_question_language():
    assert "in English" in build_messages("Who?", "en", [])[1]["content"]
    assert "in French" in build_messages("Qui ?", "fr", [])[1]["content"]


class Scripted:
    """A language model that writes a hand-written answer (what the verifier must cope with)."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[Sequence[dict[str, str]]] = []

    def count_tokens(self, text: str) -> int:
        return len(text) // 3

    def stream(self, messages: Sequence[dict[str, str]], max_tokens: int, temperature: float,
               grammar: str | None = None) -> Iterator[str]:
        self.calls.append(messages)
        for i in range(0, len(self.text), 5):
            yield self.text[i : i + 5]


QUESTION = "How many containers of munitions did North Korea send to Russia?"


def _passage_of(backend: Scripted, fragment: str) -> int:
    prompt = backend.calls[0][1]["content"]
    line = next(line for line in prompt.splitlines() if fragment in line)
    return int(line[1 : line.index("]")])


def test_generated_answer_keeps_only_verified_citations(pipeline):
    probe = Scripted("x")
    generator = Generator(pipeline, probe, GenerationConfig(reattribute=False, repair=0))
    generator.answer(QUESTION)
    kirby, shin = _passage_of(probe, "John Kirby"), _passage_of(probe, "7 000 conteneurs")
    backend = Scripted(f"North Korea sent more than 1,000 containers of munitions to Russia [{kirby}][{shin}]. "
                       f"It also sent 50,000 tanks [{kirby}]. South Korea said 7,000 containers were sent. [{shin}]")
    generator = Generator(pipeline, backend, GenerationConfig(reattribute=False, repair=0))
    steps = list(generator.stream(QUESTION))
    partials, answer = steps[:-1], steps[-1]
    assert partials and all(isinstance(p, Partial) for p in partials)
    assert all(b.text.startswith(a.text) for a, b in zip(partials, partials[1:]))
    assert answer.generated and not answer.abstained
    assert answer.unsupported == ("It also sent 50,000 tanks.",)
    assert f"It also sent 50,000 tanks. {UNSUPPORTED_MARK}" in answer.text
    assert [c.n for c in answer.citations] == [1, 2]
    assert "1 000 conteneurs" in answer.citations[0].quote and "7 000 conteneurs" in answer.citations[1].quote
    assert answer.text.startswith("North Korea sent more than 1,000 containers of munitions to Russia. [1] ")
    for c in answer.citations:
        raw = pipeline.documents[c.doc_id].text
        assert raw[c.start : c.end] == c.quote
        assert any(s.doc_id == c.doc_id and s.start == c.start for s in pipeline.data.sentences)
    assert {"first_token", "generate", "verify", "total"} <= set(answer.timings_ms)


def test_a_wrong_citation_is_moved_only_when_another_passage_supports_it(pipeline):
    probe = Scripted("x")
    Generator(pipeline, probe).answer(QUESTION)
    shin = _passage_of(probe, "7 000 conteneurs")
    backend = Scripted(f"John Kirby said North Korea sent more than 1,000 containers of munitions [{shin}].")
    answer = Generator(pipeline, backend).answer(QUESTION)
    assert len(answer.citations) == 1 and "John Kirby" in answer.citations[0].quote
    strict = Generator(pipeline, backend, GenerationConfig(reattribute=False, repair=0)).answer(QUESTION)
    assert strict.citations == () and len(strict.unsupported) == 1


def test_no_model_call_when_the_articles_do_not_answer(pipeline):
    backend = Scripted("Lima is the capital of Peru [1].")
    question = "What is the capital of Peru?"
    answer = Generator(pipeline, backend).answer(question)
    assert backend.calls == []
    assert answer.abstained and not answer.generated
    same, extractive = answer.to_dict(), pipeline.ask(question).to_dict()
    same.pop("timings_ms"), extractive.pop("timings_ms")
    assert same == extractive


def test_an_empty_generation_falls_back_to_the_quoted_sentences(pipeline):
    answer = Generator(pipeline, Scripted("  ")).answer(QUESTION)
    assert not answer.generated and answer.citations == pipeline.ask(QUESTION).citations
    assert any("wrote nothing" in n for n in answer.notices)


def test_prompt_stays_under_its_token_budget(pipeline):
    backend = Scripted("x")
    Generator(pipeline, backend, GenerationConfig(prompt_tokens=300)).answer(QUESTION)
    prompt = "\n".join(m["content"] for m in backend.calls[0])
    assert backend.count_tokens(prompt) <= 300 and "[1]" in prompt
