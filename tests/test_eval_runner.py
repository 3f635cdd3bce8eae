"""The evaluation runner and its CLI, on the real seeds and on a small corpus of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval.calibrate import fit_abstention
from eval.dataset import DEFAULT_QUESTIONS, DatasetError, load_questions
from eval.report import write_report
from eval.runner import default_variants, run_variant, summarize

ROOT = Path(__file__).resolve().parents[1]

ARTICLES = {
    "harbour.txt": "Harbour reopens after storm\n\nThe port of Brest reopened on Monday after the storm "
                   "damaged two cranes. The harbour master, Anne Le Goff, said repairs cost 3 million euros.",
    "orchard.txt": "Apple harvest\n\nFarmers in Normandy picked 12,000 tonnes of apples this autumn. "
                   "The cooperative blamed a late frost for the smaller crop.",
}
QUESTIONS = [
    {"id": "q1", "question": "Who is the harbour master of Brest?", "lang": "en", "answers": ["Anne Le Goff"],
     "docs": ["harbour.txt"]},
    {"id": "q2", "question": "How many tonnes of apples were picked in Normandy?", "lang": "en",
     "answers": ["12,000 tonnes"], "docs": ["orchard.txt"]},
    {"id": "q3", "question": "Who won the chess championship?", "lang": "en", "answers": [], "docs": []},
]


def test_runner_scores_every_variant_on_a_sample(pipeline):
    questions = [q for q in load_questions(DEFAULT_QUESTIONS) if q.id in {"fr-001", "en-001", "un-001", "fr-038"}]
    for variant in default_variants(pipeline.config):
        results = run_variant(pipeline, questions, variant, progress=False)
        summary = summarize(results)
        assert summary["questions"] == 4 and summary["answerable"] == 3
        assert 0.0 <= summary["recall@5"] <= 1.0
        assert summary["latency_p50_ms"] > 0
    hybrid = {r.id: r for r in results}
    assert hybrid["en-001"].recall_10 == 1.0 and hybrid["en-001"].contains
    assert hybrid["un-001"].abstained


def test_report_files_are_written(tmp_path, pipeline):
    questions = load_questions(DEFAULT_QUESTIONS)[:2]
    results = run_variant(pipeline, questions, default_variants(pipeline.config)[-1], progress=False)
    paths = write_report(tmp_path, {"hybrid": summarize(results)}, {"results": []}, ["a note"])
    assert "| hybrid | 2 |" in paths["md"].read_text(encoding="utf-8")
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["summary"]["hybrid"]["questions"] == 2
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibration_separates_what_it_can(pipeline):
    questions = load_questions(DEFAULT_QUESTIONS)
    sample = [q for q in questions if q.type == "fact"][:30] + [q for q in questions if q.type == "noise"]
    from eval.runner import Variant, never_abstain
    from qa.abstain import FEATURES

    results = run_variant(pipeline, sample, Variant("probe", never_abstain(pipeline.config)), progress=False)
    fitted = fit_abstention([r.signals for r in results], [not r.answerable for r in results], max_false=0.2)
    assert len(fitted.weights) == len(FEATURES) and 0.0 < fitted.threshold < 1.0
    assert fitted.evidence["questions"] == len(sample)
    assert fitted.evidence["oof_f1"] > 0.3, "questions about excluded noise are told apart from facts"
    assert fitted.evidence["oof_false_abstention"] <= 0.2


def test_bad_question_files_get_one_clear_sentence(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="bad.jsonl line 2"):
        load_questions(bad)
    with pytest.raises(DatasetError, match="does not exist"):
        load_questions(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("fields, expected", [
    ({"answers": "Anne Le Goff"}, '"answers" as str; write it as a list of strings, for example ["Anne Le Goff"]'),
    ({"docs": "harbour.txt"}, '"docs" as str; write it as a list of strings, for example ["harbour.txt"]'),
    ({"spans": [{"doc": "harbour.txt", "start": 50, "end": 10}]}, '"spans" entry from 50 to 10'),
])
def test_question_fields_of_the_wrong_shape_are_refused(tmp_path, fields, expected):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "question": "Who?", **fields}) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_questions(bad)
    assert "bad.jsonl line 1" in str(err.value) and expected in str(err.value)


def test_question_files_with_a_byte_order_mark_are_read_and_others_than_utf8_named(tmp_path):
    bom = tmp_path / "bom.jsonl"
    bom.write_text('\ufeff{"id": "a", "question": "Qui est là ?", "answers": ["moi"]}\n', encoding="utf-8")
    assert [q.question for q in load_questions(bom)] == ["Qui est là ?"]
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"id": "a", "question": "Qui a été élu ?"}\n'.encode("latin-1"))
    with pytest.raises(DatasetError, match="latin.jsonl is not UTF-8 .*; save it as UTF-8"):
        load_questions(latin)
    with pytest.raises(DatasetError, match="is a folder, not a file"):
        load_questions(tmp_path)


@pytest.mark.parametrize("fields, expected", [
    ({"docs": ["harbor.txt"]}, "names the article 'harbor.txt', which the corpus does not hold"),
    ({"docs": ["harbour.txt"], "spans": [{"doc": "harbour.txt", "start": 5000, "end": 6000}]},
     "has a gold span ending at 6000, past the end of harbour.txt"),
])
def test_gold_the_corpus_cannot_hold_is_refused_before_scoring(tmp_path, fields, expected):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "Who is the harbour master?", "answers": ["Anne"],
                                     **fields}) + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "eval", "--questions", str(questions), "--corpus", str(corpus),
                             "--quiet", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: q.jsonl: question 'q1' ") and expected in result.stderr
    assert not (tmp_path / "out" / "report.json").exists()
    assert "DEBUG" not in result.stderr


def test_a_limit_below_one_is_refused(tmp_path):
    result = subprocess.run([sys.executable, "-m", "eval", "--limit", "0"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error: --limit must be at least 1 (got 0)")


@pytest.mark.slow
def test_cli_on_another_corpus_builds_once_and_reuses_the_cache(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    command = [sys.executable, "-m", "eval", "--questions", str(questions), "--corpus", str(corpus), "--quiet",
               "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "reports")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "| hybrid | 3 |" in first.stdout
    built = next(p for p in (tmp_path / "cache").iterdir() if p.is_dir() and not p.name.startswith(".")) / "manifest.json"
    stamp = built.stat().st_mtime_ns
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert built.stat().st_mtime_ns == stamp, "an unchanged corpus reuses its cached index"
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    answers = {r["id"]: r for r in report["results"] if r["variant"] == "hybrid"}
    assert answers["q1"]["contains"] and answers["q2"]["contains"]


def test_cli_error_is_one_line_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "eval", "--questions", str(tmp_path / "none.jsonl")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: Question file") and "Traceback" not in result.stderr


def test_the_mixed_generation_list_is_fixed_and_keeps_its_mix_when_cut(pipeline) -> None:
    from eval.devset import DEVSET_DIR
    from eval.generation import SEED_QUOTAS, mixed_questions
    from eval.runner import language_pair

    [seeds] = mixed_questions(pipeline, None, DEVSET_DIR)
    groups = [language_pair(pipeline, q) for q in seeds.questions]
    assert {g: groups.count(g) for g in set(groups)} == SEED_QUOTAS
    assert [q.id for q in mixed_questions(pipeline, None, DEVSET_DIR)[0].questions] == [q.id for q in seeds.questions]
    [cut] = mixed_questions(pipeline, None, DEVSET_DIR, limit=3)
    assert [language_pair(pipeline, q) for q in cut.questions] == ["fr→fr", "en→fr", "unanswerable"]
