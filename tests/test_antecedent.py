"""A "who" question answered by a sentence that only says "She": the sentence naming her is
cited too (qa.antecedent), on a small corpus written for the test
and the real model."""

from __future__ import annotations

import pytest

from index import BuildConfig, build_index
from index.sentences import Sentence
from qa.antecedent import names_someone, with_antecedent
from qa.evidence import Scored
from qa.question import prepare_question

CHEMIST = """Marguerite Delacroix

Marguerite Delacroix was a chemist who worked in Lyon in the nineteenth century. She studied the salts \
found in coastal marshes and the brines of the Camargue. She also described how to distil sea water for \
drinking on long voyages.

The city of Lyon opened its first school of chemistry in 1830. The school trained pharmacists, dyers and \
engineers for the silk industry.
"""
HARBOUR = """The harbour of Marseille

The harbour of Marseille was enlarged in 1844 to receive steamships. Ships leaving for long voyages \
carried barrels of fresh water, which often spoiled after a few weeks at sea.
"""


@pytest.fixture(scope="module")
def chemist(tmp_path_factory: pytest.TempPathFactory, embedder):
    from qa import Pipeline

    folder = tmp_path_factory.mktemp("antecedent")
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "delacroix.txt").write_text(CHEMIST, encoding="utf-8")
    (corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    build_index(BuildConfig(seeds_dir=corpus, index_dir=folder / "index", progress=False), embedder=embedder)
    return Pipeline.load(folder / "index", embedder=embedder)


@pytest.mark.parametrize("question", ["Who described how to make sea water drinkable?",
                                      "Qui a décrit comment rendre l'eau de mer potable ?"])
def test_who_answered_by_a_pronoun_also_cites_the_sentence_naming_the_person(chemist, question):
    answer = chemist.ask(question)
    quotes = [c.quote for c in answer.citations]
    assert not answer.abstained
    assert any(q.startswith("She also described") for q in quotes), quotes
    assert any(q.startswith("Marguerite Delacroix was a chemist") for q in quotes), quotes


@pytest.mark.parametrize("question, cited", [
    ("Where did the chemist study salts?", "She studied the salts"),           # not "who"
    ("Who trained pharmacists and dyers for the silk industry?", "The school trained"),  # no pronoun
])
def test_other_questions_do_not_get_the_sentence_before(chemist, question, cited):
    quotes = [c.quote for c in chemist.ask(question).citations]
    assert quotes[0].startswith(cited) and not any("Marguerite" in q for q in quotes), quotes


@pytest.mark.parametrize("sentence, names", [
    ("She also described how to distil sea water.", False),
    ("His Liber servitoris is of particular interest.", False),      # "His Liber" is no name
    ("Il fut secrétaire du syndicat, puis il rejoignit Paul Scarron.", True),
    ("The school trained pharmacists and dyers.", True),              # nothing to resolve
    ("She met Marguerite Delacroix in Lyon.", False),                 # the question's own name
])
def test_what_counts_as_naming_someone(sentence, names):
    question = prepare_question("Who met Marguerite Delacroix?", ("en", "fr"))
    assert names_someone(sentence, question) is names


def _choose(question: str, texts: list[str], best: int, max_sentences: int = 3) -> list[str]:
    """`with_antecedent` on an article of `texts` whose sentence `best` was chosen alone."""
    sentences = [Sentence("a.txt", 0, len(t), t) for t in texts]
    scored = [Scored(i, 0.9 if i == best else 0.1, 0.0, 0.0, 0.0, None) for i in range(len(texts))]
    chosen = with_antecedent(prepare_question(question), [scored[best]], scored, sentences, max_sentences)
    return [texts[s.index] for s in chosen]


@pytest.mark.parametrize("question, texts, best, expected", [
    # the sentence naming her also says "her": it is still the one cited, not the one before it
    ("Who discovered polonium?", ["The Sorbonne admitted women in the 1860s.",
                                  "Marie Curie moved to Paris in 1891 with her sister.",
                                  "She also discovered polonium in 1898."], 2, [2, 1]),
    ("Qui a découvert le polonium ?", ["La Sorbonne accueille des étudiantes depuis 1860.",
                                       "Marie Curie s'installe à Paris en 1891, où elle étudie la physique.",
                                       "Elle découvre aussi le polonium en 1898."], 2, [2, 1]),
    # a chain of "he" sentences, one opening on a phrase: back to the one naming him
    ("Who wrote about distilling sea water?", ["Al-Muwaffaq's contributions are also pioneering.",
                                               "Living in the 10th century, he wrote The foundations.",
                                               "He also describes the distillation of sea-water."], 2, [2, 0]),
    # the subject is named, or is no person: nothing added
    ("Who announced the reform?", ["The unions called a strike.", "Macron said he would announce the reform."], 1, [1]),
    ("Qui a financé le stade ?", ["Le conseil a voté le budget.",
                                  "Selon la mairie, il s'agit d'un stade financé par la région."], 1, [1]),
    ("Who built the bridge?", ["The council met.", "It was built by engineers, and they finished it in 1920."], 1, [1]),
])
def test_the_sentence_cited_with_a_pronoun_is_the_one_naming_the_person(question, texts, best, expected):
    assert _choose(question, texts, best) == [texts[i] for i in expected]


def test_one_citation_allowed_stays_one():
    texts = ["Marie Curie was a physicist.", "She discovered polonium."]
    assert _choose("Who discovered polonium?", texts, 1, max_sentences=1) == [texts[1]]
