"""The corpus-normalised abstention signals, on the real seeds with the real model."""

from __future__ import annotations

import pytest

from qa.abstain import FEATURES, AbstainConfig
from qa.evidence import capitalised_names

BELOOUSSOV_DOC = "003_7614884e23d75de0.txt"


def test_capitalised_names_skip_the_first_word_and_short_words():
    assert capitalised_names("Quand Andreï Belooussov est-il allé à Pyongyang en 2024 ?") == ["andrei", "belooussov"[:6],
                                                                                              "pyongy"]
    assert capitalised_names("Who is John Kirby?") == ["kirby"]
    assert capitalised_names("What happened?") == []


def test_every_signal_the_model_reads_is_computed(pipeline):
    found = pipeline.candidates("Qui est le ministre russe de la Défense qui a rencontré Kim Jong Un ?")
    assert set(FEATURES) <= set(found.signals)


def test_an_answerable_question_looks_answerable(pipeline):
    signals = pipeline.candidates("Qui est le ministre russe de la Défense qui a rencontré Kim Jong Un ?").signals
    assert signals["doc_lexical"] > 0.8 and signals["corpus_cov"] == 1.0
    assert signals["name_unseen"] == 0.0
    assert 0.8 < signals["dense_top"] <= 1.0 and signals["dense_gap10"] > 0.0


def test_a_question_about_names_the_corpus_never_mentions_says_so(pipeline):
    asked = pipeline.candidates("Quel album Beyoncé a-t-elle sorti avec Jay-Z à Houston ?").signals
    known = pipeline.candidates("Quel accord Poutine a-t-il signé avec Kim Jong Un à Pyongyang ?").signals
    assert asked["name_unseen"] >= 2 and known["name_unseen"] == 0
    assert asked["corpus_cov"] < known["corpus_cov"]
    assert asked["doc_lexical"] < known["doc_lexical"]
    assert asked["dense_top"] < known["dense_top"]


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_one_retriever_alone_agrees_with_itself(pipeline, mode):
    from qa import Mode

    found = pipeline.candidates("Combien de soldats nord-coréens ont été envoyés en Russie ?", mode=Mode(mode))
    assert found.signals["agree_doc"] == 1.0
    assert 0.0 < found.signals["concentration"] <= 1.0


def test_the_training_command_starts_from_a_model_that_never_abstains():
    model = AbstainConfig.untrained()
    assert model.features == FEATURES and not model.abstains({f: 0.0 for f in FEATURES})


def test_a_model_fitted_on_other_signals_is_refused_with_the_fix(tmp_path, monkeypatch):
    import json

    import qa.abstain

    stale = tmp_path / "abstain.json"
    stale.write_text(json.dumps({"model": {**AbstainConfig().to_dict(), "features": ["best_prob"]}}), encoding="utf-8")
    monkeypatch.setattr(qa.abstain, "CALIBRATION_FILE", stale)
    with pytest.raises(ValueError, match="python -m eval.train"):
        AbstainConfig.shipped()
