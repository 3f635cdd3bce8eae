"""Second drafts of generated sentences that their citations do not support, and the passage
mentions small models add, with a scripted model over the real seeds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from qa import GenerationConfig, Generator, LLMError, Partial
from qa.claims import split_claims, without_passage_mentions
from qa.repair import NONE, repair_grammar

QUESTION = "How many containers of munitions did North Korea send to Russia?"


class Replies:
    """A language model that gives hand-written replies in turn (the last one again when out)."""

    name = "replies"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[Sequence[dict[str, str]], str | None]] = []

    def count_tokens(self, text: str) -> int:
        return len(text) // 3

    def stream(self, messages: Sequence[dict[str, str]], max_tokens: int, temperature: float,
               grammar: str | None = None) -> Iterator[str]:
        self.calls.append((messages, grammar))
        yield self.replies[min(len(self.calls), len(self.replies)) - 1]


def _passage(pipeline, fragment: str) -> int:
    probe = Replies("x")
    Generator(pipeline, probe, GenerationConfig(repair=0)).answer(QUESTION)
    prompt = probe.calls[0][0][1]["content"]
    line = next(line for line in prompt.splitlines() if fragment in line)
    return int(line[1 : line.index("]")])


def test_passage_mentions_are_dropped_from_generated_sentences():
    def cut(text: str) -> str:
        return without_passage_mentions(text, [1, 2, 3], ["L'Assemblée examine le texte 2 du gouvernement."])

    assert cut("Lavrov, qui est mentionné dans le passage 3. [3]") == "Lavrov. [3]"
    assert cut("It rose by 7,4% (passage 3). [3]") == "It rose by 7,4%. [3]"
    assert cut("iPhone sales rose (passages 1-2). [1]") == "iPhone sales rose. [1]"
    assert cut("As stated in passage 1, Kim met Putin. [1] Selon les passages 1 et 2, il a vu Shoigu. [2]") == (
        "Kim met Putin. [1] Il a vu Shoigu. [2]")
    assert cut("Kim, according to passage 2, met Putin. [2]") == "Kim met Putin. [2]"
    assert cut("Kim met Putin, according to passage [2]. [2]") == "Kim met Putin. [2]"
    assert cut("Sanctions by the U.S., according to passage 2, were lifted. [2]") == (
        "Sanctions by the U.S. were lifted. [2]")
    assert cut("Kim met Putin; according to passage 2, he left. [2]") == "Kim met Putin; he left. [2]"
    assert cut("« Selon le passage 2, il part. » [2]") == "« Il part. » [2]"
    # not a prompt passage, not a reference, or words the passages themselves use: kept
    assert cut("Le bateau est passé dans le passage 7. [1]") == "Le bateau est passé dans le passage 7. [1]"
    assert cut("Il a franchi le passage 3 fois. [1]") == "Il a franchi le passage 3 fois. [1]"
    assert cut("It was sold in the Berlin text 2. [1]") == "It was sold in the Berlin text 2. [1]"
    assert cut("Les députés ont adopté l'amendement dans le texte 2. [1]") == (
        "Les députés ont adopté l'amendement dans le texte 2. [1]")
    assert without_passage_mentions("Il vote, selon le texte 2. [1]", [1, 2], ["Le contexte 2."]) == "Il vote. [1]"
    assert without_passage_mentions("Kim met Putin, according to passage 2. [2]", []) == (
        "Kim met Putin, according to passage 2. [2]")
    assert [c.text for c in split_claims(cut("Kim met Putin, according to passage 2. [2]"))] == ["Kim met Putin."]


def test_the_repair_grammar_allows_one_cited_sentence_or_none():
    grammar = repair_grammar([1, 3])
    assert grammar.startswith(f'root ::= sentence | "{NONE}"') and '"[3]"' in grammar and '"[2]"' not in grammar


def test_an_unsupported_sentence_gets_a_second_draft_told_what_the_passages_lack(pipeline):
    kirby, shin = _passage(pipeline, "John Kirby"), _passage(pipeline, "7 000 conteneurs")
    backend = Replies(f"North Korea sent more than 1,000 containers of munitions to Russia. [{kirby}] "
                      f"South Korea said 9,000 containers were sent. [{shin}]",
                      f"South Korea said 7,000 containers were sent. [{shin}]")
    answer = Generator(pipeline, backend).answer(QUESTION)
    assert answer.generated and answer.unsupported == () and answer.withdrawn == ()
    assert "South Korea said 7,000 containers were sent. [2]" in answer.text and "9,000" not in answer.text
    assert "7 000 conteneurs" in answer.citations[1].quote
    repair_prompt, grammar = backend.calls[1]
    assert '"9000"' in repair_prompt[1]["content"] and "9,000 containers" in repair_prompt[1]["content"]
    assert grammar is not None and f'"[{shin}]"' in grammar
    assert answer.timings_ms["repair"] > 0


def test_a_sentence_the_model_withdraws_is_not_shown(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    backend = Replies(f"North Korea sent more than 1,000 containers of munitions to Russia. [{kirby}] "
                      f"It also sent 50,000 tanks. [{kirby}]", NONE)
    answer = Generator(pipeline, backend).answer(QUESTION)
    assert answer.generated and answer.withdrawn == ("It also sent 50,000 tanks.",)
    assert "tanks" not in answer.text and answer.unsupported == () and len(answer.citations) == 1


def test_a_marker_cut_by_the_token_limit_still_cites():
    assert [(c.text, c.cited) for c in split_claims("Kim met Putin. [2] He left. [1")] == [
        ("Kim met Putin.", (2,)), ("He left.", (1,))]
    assert [(c.text, c.cited) for c in split_claims("Kim met Putin. [")] == [("Kim met Putin.", ())]
    assert [(c.text, c.cited) for c in split_claims("Kim met Putin. [1, 2")] == [("Kim met Putin.", (1, 2))]


def test_a_second_draft_that_fails_again_stays_marked(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    backend = Replies(f"It also sent 50,000 tanks. [{kirby}]", f"It sent 60,000 tanks. [{kirby}]")
    answer = Generator(pipeline, backend).answer(QUESTION)
    assert answer.unsupported == ("It also sent 50,000 tanks.",) and "[?]" in answer.text


def test_when_every_sentence_is_withdrawn_the_quoted_sentences_are_shown(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    answer = Generator(pipeline, Replies(f"It also sent 50,000 tanks. [{kirby}]", NONE)).answer(QUESTION)
    assert not answer.generated and answer.withdrawn == ("It also sent 50,000 tanks.",)
    assert answer.citations == pipeline.ask(QUESTION).citations
    assert any("withdrew" in n for n in answer.notices)


def test_a_second_draft_that_repeats_the_sentence_stays_flagged_not_withdrawn(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    same = f"It also sent 50,000 tanks. [{kirby}]"
    answer = Generator(pipeline, Replies(same, same)).answer(QUESTION)
    assert answer.unsupported == ("It also sent 50,000 tanks.",) and answer.withdrawn == ()


def test_a_second_draft_starting_with_none_is_a_sentence(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    backend = Replies(f"It also sent 50,000 tanks. [{kirby}]", f"None of the 50,000 tanks was sent. [{kirby}]")
    answer = Generator(pipeline, backend).answer(QUESTION)
    assert answer.withdrawn == () and answer.unsupported == ("It also sent 50,000 tanks.",)


def test_a_failing_second_draft_leaves_the_first_flagged(pipeline):
    kirby = _passage(pipeline, "John Kirby")

    class Failing(Replies):
        def stream(self, messages, max_tokens, temperature, grammar=None):
            if self.calls:
                raise LLMError("The language model server did not answer within 5 s.")
            yield from super().stream(messages, max_tokens, temperature, grammar)

    answer = Generator(pipeline, Failing(f"North Korea sent more than 1,000 containers of munitions to Russia. [{kirby}] "
                                         f"It also sent 50,000 tanks. [{kirby}]")).answer(
        QUESTION)
    assert answer.generated and answer.unsupported == ("It also sent 50,000 tanks.",)


def test_at_most_the_configured_number_of_sentences_get_a_second_draft(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    backend = Replies(f"It sent 50,000 tanks. [{kirby}] It sent 60,000 jets. [{kirby}] It sent 70,000 ships. [{kirby}]",
                      NONE)
    answer = Generator(pipeline, backend, GenerationConfig(repair=2)).answer(QUESTION)
    assert len(backend.calls) == 3 and len(answer.withdrawn) == 2 and len(answer.unsupported) == 1
    assert any("withdrawn" in n for n in answer.notices)


def test_closing_the_stream_during_a_second_draft_stops_it(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    closed: list[bool] = []

    class Slow(Replies):
        def stream(self, messages, max_tokens, temperature, grammar=None):
            self.calls.append((messages, grammar))
            if len(self.calls) == 1:
                yield f"It also sent 50,000 tanks. [{kirby}]"
                return
            try:
                for word in ["It ", "sent ", "1,000 ", "containers. ", f"[{kirby}]"]:
                    yield word
            finally:
                closed.append(True)

    backend = Slow()
    steps = Generator(pipeline, backend).stream(QUESTION)
    for step in steps:
        if len(backend.calls) == 2:  # the second draft has begun
            assert isinstance(step, Partial) and step.text == f"It also sent 50,000 tanks. [{kirby}]"
            steps.close()
            break
    assert closed == [True]


def test_a_supported_second_draft_that_repeats_another_sentence_is_withdrawn(pipeline):
    kirby = _passage(pipeline, "John Kirby")
    said = f"North Korea sent more than 1,000 containers of munitions to Russia. [{kirby}]"
    answer = Generator(pipeline, Replies(f"{said} It also sent 50,000 tanks. [{kirby}]", said)).answer(QUESTION)
    assert answer.withdrawn == ("It also sent 50,000 tanks.",) and answer.text.count("1,000 containers") == 1


def test_the_generation_table_counts_withdrawn_sentences_against_support_and_shows_dashes():
    from eval.generation import generation_summary, generation_table
    from eval.runner import QuestionResult

    def row(n: str, sentences: int, unsupported: int, withdrawn: int, lang: str) -> QuestionResult:
        return QuestionResult(id=n, lang="en", type="answerable", variant="generated", answerable=True, abstained=False,
                              confidence=1.0, cross_lingual=False, recall_1=1, recall_5=1, recall_10=1, mrr_10=1,
                              ndcg_10=1, contains=True, citations=1, correct_citations=1, latency_ms=10.0,
                              generated=True, sentences=sentences, unsupported=unsupported, withdrawn=withdrawn,
                              answer_lang=lang, pair="en→en")

    kept, emptied = row("a", 3, 1, 0, "en"), row("b", 1, 1, 1, "")
    s = generation_summary([kept, emptied])
    assert s["supported"] == 0.5 and s["supported_shown"] == pytest.approx(2 / 3) and s["withdrawn"] == 0.25
    assert s["language_match"] == 1.0
    alone = generation_summary([emptied])
    assert alone["supported_shown"] is None and alone["language_match"] is None
    assert "| 0.000 | – | 1.000 | – |" in "\n".join(generation_table([], [emptied], "m"))
