"""Lexical retrieval across languages: a question's words meet an article in another language
through the corpus words the model puts beside them (qa.retrieval's translations)."""

from __future__ import annotations

from dataclasses import replace
import numpy as np
import pytest

from index import BuildConfig, build_index
from index.vocabulary import Vocabulary, content_words
from qa import Mode, Pipeline

FRENCH = ("L'incendie de Vauclain\n\nPendant la guerre de 1870, l'armée prussienne a incendié l'église de Vauclain. "
          "Les habitants ont reconstruit le clocher dix ans plus tard, avec les pierres de la carrière voisine.\n")
ENGLISH = ("Harvest festival\n\nThe village holds its harvest festival every October. Farmers bring apples and "
           "pumpkins to the square, and a brass band plays until midnight.\n")
FRENCH_2 = ("Le marché couvert\n\nLe marché couvert de la ville ouvre le samedi matin. Les maraîchers vendent des "
            "légumes, du fromage et du pain.\n")


def test_nearest_finds_a_words_translation_and_never_the_word_itself(embedder):
    vocabulary = Vocabulary.build(["La guerre, le navire, l'église et l'armée, la guerre."], embedder.embed_queries)
    words = ["war", "church", "army", "guerre"]
    vectors = np.asarray(embedder.embed_queries(words), dtype=np.float32)
    found = vocabulary.nearest(words, vectors, 0.9)
    assert found[:3] == ["guerre", "église", "armée"]
    assert found.count("guerre") == 1          # from "war"; "guerre" itself is not its own neighbour
    assert vocabulary.nearest(words, vectors, 0.99) == []
    # only the `searched` most frequent words are read ("guerre", said twice, comes first)
    first = Vocabulary(vocabulary.words, vocabulary.vectors, searched=1)
    assert first.nearest(words, vectors, 0.9) == ["guerre"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, embedder) -> Pipeline:
    corpus = tmp_path_factory.mktemp("mixed-corpus")
    for name, text in (("incendie.txt", FRENCH), ("harvest.txt", ENGLISH), ("marche.txt", FRENCH_2)):
        (corpus / name).write_text(text, encoding="utf-8")
    folder = corpus.parent / "mixed-index"
    build_index(BuildConfig(seeds_dir=corpus, index_dir=folder, progress=False), embedder=embedder)
    return Pipeline.load(folder, embedder=embedder)


def test_an_english_question_meets_a_french_article_through_its_translated_words(mixed: Pipeline):
    question = "Which army burned the church during the war?"
    prepared = mixed.candidates(question).question
    translations = mixed.translations(prepared)
    assert {"armée", "église"} <= set(translations), translations   # ("war": under four letters, not read)
    french = {int(r) for r in mixed.data.documents.chunk_ids(["incendie.txt"])}
    ranked = mixed.candidates(question).ranked
    assert french & set(ranked.bm25)                    # scored through "armée", "église"
    plain = mixed.with_config(replace(mixed.config, retrieval=replace(mixed.config.retrieval, translations=False)))
    assert not french & set(plain.candidates(question).ranked.bm25)   # no word in common without them
    assert not french & set(mixed.retriever.rank(question, None, "en", Mode.BM25, translations=translations).bm25)


def test_a_question_in_the_language_of_every_article_gets_no_translations(pipeline: Pipeline):
    prepared = pipeline.candidates("Combien de conteneurs la Corée du Nord a-t-elle envoyés ?").question
    assert pipeline.translations(prepared) == ()      # the seeds are all French: nothing to meet
    assert content_words(prepared.text)


def test_translations_only_score_the_articles_in_other_languages(mixed: Pipeline):
    question = "Which army burned the church during the war?"
    translations = mixed.translations(mixed.candidates(question).question)
    english = {int(r) for r in mixed.data.documents.chunk_ids(["harvest.txt"])}
    assert mixed.retriever.other_langs("en") and mixed.retriever.other_langs("fr")
    translated = mixed.data.lexical.top(" ".join(translations), 50, other_than="en")
    assert translated and not set(translated) & english
    with_them = mixed.retriever.rank(question, None, "en", Mode.HYBRID, translations=translations).bm25
    without = mixed.retriever.rank(question, None, "en", Mode.HYBRID).bm25
    assert {r: s for r, s in with_them.items() if r in english} == {r: s for r, s in without.items() if r in english}
    assert with_them != without


def test_translations_stay_within_the_filters(mixed: Pipeline):
    from qa import Filters

    question = "Which army burned the church during the war?"
    ranked = mixed.candidates(question, filters=Filters(doc_ids=("harvest.txt",))).ranked
    english = {int(r) for r in mixed.data.documents.chunk_ids(["harvest.txt"])}
    assert set(ranked.bm25) <= english and set(ranked.dense) <= english
    french = {int(r) for r in mixed.data.documents.chunk_ids(["incendie.txt"])}
    ranked = mixed.candidates(question, filters=Filters(doc_ids=("incendie.txt",))).ranked
    assert french & set(ranked.bm25) and set(ranked.bm25) <= french     # translated, and only there


def test_a_qdrant_store_restricts_the_translated_query_by_language_as_the_files_do(mixed: Pipeline, tmp_path):
    pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed (pip install -e '.[qdrant]')")
    from index.qdrant_export import export_index
    from index.qdrant_target import open_index, parse_store

    export_index(mixed.data, parse_store(f"qdrant+local:{tmp_path / 'qdrant'}"))
    stored = open_index(f"qdrant+local:{tmp_path / 'qdrant'}")
    question = "Which army burned the church during the war?"
    translated = " ".join(mixed.translations(mixed.candidates(question).question))
    english = {int(r) for r in mixed.data.documents.chunk_ids(["harvest.txt"])}
    found = {lang: mixed.data.lexical.top(translated, 50, other_than=lang) for lang in ("en", "fr")}
    for lang, local in found.items():
        assert stored.lexical.top(translated, 50, other_than=lang).keys() == local.keys()
    assert found["en"] and not set(found["en"]) & english   # "armée", "église" reach the French articles only
    assert not found["fr"]                                  # and no French word is in the English one
    qdrant = Pipeline(stored, mixed.embedder, mixed.config, mixed.reader)
    assert qdrant.retriever.rank(question, None, "en", Mode.HYBRID, translations=tuple(translated.split())).bm25.keys() \
        == mixed.retriever.rank(question, None, "en", Mode.HYBRID, translations=tuple(translated.split())).bm25.keys()
