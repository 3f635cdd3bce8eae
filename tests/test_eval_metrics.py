"""The metric functions on small hand-made cases."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (Gold, Located, abstention_prf, answer_tokens, citation_correct, contains_answer,
                          exact_match, mrr_at, ndcg_at, normalize, percentile, recall_at, token_f1)

GOLD = Gold(answers=("1 000 conteneurs",), docs=("a.txt", "b.txt"),
            spans=(Located("a.txt", 100, 200), Located("b.txt", 50, 80)))
HIT_A = Located("a.txt", 150, 400)      # overlaps the first gold span
HIT_A2 = Located("a.txt", 180, 260)     # overlaps it again
HIT_B = Located("b.txt", 0, 60)         # overlaps the second
MISS = Located("a.txt", 200, 300)       # touches the end of the first span only: no overlap
OTHER = Located("c.txt", 100, 200)


def test_recall_counts_gold_spans_covered():
    assert recall_at([MISS, HIT_A, HIT_B], GOLD, 1) == 0.0
    assert recall_at([MISS, HIT_A, HIT_B], GOLD, 2) == 0.5
    assert recall_at([MISS, HIT_A, HIT_B], GOLD, 3) == 1.0
    assert recall_at([HIT_A, HIT_A2], GOLD, 10) == 0.5, "the same span twice counts once"


def test_recall_falls_back_to_documents_without_spans():
    gold = Gold(answers=(), docs=("c.txt",), spans=())
    assert recall_at([HIT_A, OTHER], gold, 1) == 0.0
    assert recall_at([HIT_A, OTHER], gold, 2) == 1.0


def test_mrr_is_the_inverse_rank_of_the_first_relevant_hit():
    assert mrr_at([OTHER, MISS, HIT_B], GOLD, 10) == pytest.approx(1 / 3)
    assert mrr_at([OTHER, MISS, HIT_B], GOLD, 2) == 0.0


def test_ndcg_rewards_new_evidence_early():
    perfect = ndcg_at([HIT_A, HIT_B], GOLD, 10)
    late = ndcg_at([OTHER, HIT_A, HIT_B], GOLD, 10)
    repeated = ndcg_at([HIT_A, HIT_A2, HIT_B], GOLD, 10)
    assert perfect == pytest.approx(1.0)
    ideal = 1 + 1 / math.log2(3)
    assert late == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / ideal)
    assert late < repeated < perfect


def test_normalize_ignores_case_accents_apostrophes_and_digit_spacing():
    assert normalize("  Plus de 1\u202f000  CONTENEURS d’armes ") == "plus de 1000 conteneurs d'armes"
    assert normalize("Corée") == normalize("COREE")


def test_contains_answer():
    assert contains_answer("… expédié plus de 1 000 conteneurs de munitions", GOLD.answers)
    assert not contains_answer("7 000 conteneurs", GOLD.answers)
    assert not contains_answer("anything", ("",))
    # a gold answer's own edge punctuation (cut from its sentence) does not count, inner one does
    assert contains_answer("It is also known as Amazonia or the Amazon Jungle. [1]", ("known as Amazonia or the Amazon Jungle,",))
    assert not contains_answer("anything", (", ",))
    assert contains_answer("19.3% of households", ("19.3%",)) and not contains_answer("193 households", ("19.3%",))


def test_citation_is_correct_by_span_or_by_quoted_answer():
    assert citation_correct(HIT_B, "unrelated words", GOLD)
    assert citation_correct(OTHER, "il y avait 1 000 conteneurs", GOLD)
    assert not citation_correct(OTHER, "unrelated words", GOLD)


def test_abstention_precision_recall_f1():
    predicted = [True, True, False, False, True]
    unanswerable = [True, False, True, False, True]
    precision, recall, f1 = abstention_prf(predicted, unanswerable)
    assert (precision, recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert f1 == pytest.approx(2 / 3)
    assert abstention_prf([False, False], [True, False]) == (0.0, 0.0, 0.0)


def test_percentile_interpolates():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5], 95) == 5
    assert percentile([], 50) == 0.0
    assert percentile(list(range(101)), 95) == 95


def test_answer_normalisation_drops_articles_punctuation_and_elisions_in_both_languages():
    assert answer_tokens("The Eiffel Tower.") == ["eiffel", "tower"]
    assert answer_tokens("l’armée de l'air") == ["armée", "air"]
    assert answer_tokens("1 000 conteneurs") == answer_tokens("1000 conteneurs") == ["1000", "conteneurs"]
    assert answer_tokens("Le 24 novembre, 1930") == ["24", "novembre", "1930"]


def test_exact_match_against_any_gold_answer():
    assert exact_match("the Brazil", ["Brazil"])
    assert exact_match("L'Armée rouge", ["armée rouge", "Soviets"])
    assert not exact_match("Brazil and Peru", ["Brazil"])
    assert not exact_match("anything", [])


def test_token_f1_is_the_best_overlap():
    assert token_f1("le 24 novembre 1930", ["24 novembre"]) == pytest.approx(0.8)
    assert token_f1("Kim Jong-Un", ["Vladimir Poutine", "Kim Jong-Un"]) == 1.0
    assert token_f1("Moscou", ["Pyongyang"]) == 0.0
    assert token_f1("", ["x"]) == 0.0


def test_the_short_answer_level_must_hold_its_rate_with_confidence():
    from eval.fit_reader import wilson_lower

    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(24, 30) < 0.8 < 24 / 30 + 1e-9     # 80 % of 30: not sure enough
    assert wilson_lower(90, 100) > 0.8 > wilson_lower(80, 100)
    assert wilson_lower(1000, 1000) > 0.99 and wilson_lower(100, 200) < 0.5
