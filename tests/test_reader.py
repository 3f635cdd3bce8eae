"""The reader's span decoding (pure) and its shipped weights (real model)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qa.reader import READER_DIR, ReaderSpec, best_span


def _logits(sentence: str, start_at: int, end_at: int, words: list[tuple[int, int]]):
    """Token logits that put the answer on word `start_at`..`end_at` of `words`, and a CLS token."""
    offsets = [None] + words
    start = np.full(len(offsets), -5.0)
    end = np.full(len(offsets), -5.0)
    start[0] = end[0] = 0.0
    start[start_at + 1], end[end_at + 1] = 4.0, 4.0
    return start, end, offsets


def test_best_span_snaps_to_whole_words_and_trims_punctuation():
    sentence = "Le navire mesure 188 mètres, selon la compagnie."
    # sub-word tokens: "18" | "8" | " mètres," the span ends inside punctuation
    words = [(0, 2), (3, 9), (10, 16), (17, 19), (19, 20), (21, 28)]
    start, end, offsets = _logits(sentence, 4, 5, words)
    span, margin = best_span(sentence, "Quelle est la longueur du navire ?", start, end, offsets, 24)
    assert sentence[span[0]:span[1]] == "188 mètres"
    assert margin == pytest.approx(8.0)


def test_the_questions_own_words_are_never_the_answer():
    sentence = "Kim Jong-Un a reçu Sergueï Choïgou à Pyongyang."
    words = [(0, 3), (4, 11), (12, 13), (14, 18), (19, 26), (27, 34), (35, 36), (37, 46)]
    start, end, offsets = _logits(sentence, 0, 1, words)
    start[5], end[6] = 3.0, 3.0   # the second best span: the visitor
    span, _ = best_span(sentence, "Qui Kim Jong-Un a-t-il reçu ?", start, end, offsets, 3)
    assert sentence[span[0]:span[1]] == "Sergueï Choïgou"


def test_no_sentence_tokens_means_no_span():
    span, margin = best_span("x", "q", np.zeros(2), np.zeros(2), [None, None], 24)
    assert span is None and margin < -100


def test_shipped_reader_is_small_and_records_how_it_was_made():
    spec = ReaderSpec.load(READER_DIR)
    assert spec is not None, "qa/reader/ ships the trained reader (python -m eval.train)"
    size = sum(p.stat().st_size for p in READER_DIR.iterdir())
    assert size <= 50 * 1024 * 1024
    assert spec.combination["read_top"] >= 1 and "short_threshold" in spec.combination


def test_pipeline_loads_the_reader_for_the_converted_model(pipeline):
    assert pipeline.reader is not None and pipeline.combination is not None
    found = pipeline.candidates("Who is the Pentagon's national security spokesman?")
    read = [s for s in found.scored if s.reading is not None]
    assert 1 <= len(read) <= pipeline.combination.read_top
    # abstention reads the ranker's view, so the reader changes which sentences are cited, not
    # whether the question is answered
    plain = pipeline.with_config(replace(pipeline.config, use_reader=False))
    assert plain.candidates("Who is the Pentagon's national security spokesman?").signals == found.signals


def test_a_reader_for_other_weights_is_not_used(tmp_path, embedder):
    from qa.reader import Reader

    folder = tmp_path / "reader"
    folder.mkdir()
    for path in READER_DIR.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    spec = ReaderSpec.load(folder)
    ReaderSpec(base_fingerprint="other", frozen_layers=spec.frozen_layers, combination=spec.combination).save(folder)
    assert Reader.shipped(embedder.spec.path, embedder.spec.fingerprint, folder) is None


def test_short_answer_confidence_reads_the_span_and_the_question():
    from qa.evidence import Scored
    from qa.question import prepare_question
    from qa.reader import Reading
    from qa.reading import SHORT_FEATURES, Combination, short_features

    sentence = "Selon Séoul, la Corée du Nord a envoyé 7 000 conteneurs de munitions."
    at = sentence.index("7 000")
    scored = Scored(0, 0.8, 0.9, 0.5, 0.0, None, reading=Reading(2.0, (at, at + 16), 3.0))
    question = prepare_question("Combien de conteneurs la Corée du Nord a-t-elle envoyés ?")
    features = dict(zip(SHORT_FEATURES, short_features(scored, question, sentence)))
    assert features["pattern_agrees"] == 1.0 and features["typed_question"] == 1.0
    assert features["echo"] == pytest.approx(1 / 3), "of 7, 000 and conteneurs, only conteneurs is asked"
    sure = Combination(short_weights=(1.0, 0, 0, 0, 0, 0, 0), short_bias=0.0, short_threshold=0.9)
    assert sure.short_answer(scored, question, sentence) == (at, at + 16)
    unsure = Combination(short_weights=(1.0, 0, 0, 0, 0, 0, 0), short_bias=-5.0, short_threshold=0.9)
    assert unsure.short_answer(scored, question, sentence) is None
    assert Combination().short_answer(scored, question, sentence) is None, "no fitted model: nothing shown"
