"""`python -m qa` as a user runs it: human output, JSON, batch mode, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _qa(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_ask_search_and_batch(seed_index):
    index_dir = str(seed_index)
    human = _qa("ask", "Who is the Pentagon spokesman who talked about containers?", "--index-dir", index_dir)
    assert human.returncode == 0, human.stderr
    assert "John Kirby" in human.stdout and "Sources:" in human.stdout and "[1]" in human.stdout

    data = json.loads(_qa("ask", "Combien de conteneurs ?", "--json", "--index-dir", index_dir).stdout)
    assert {"question", "lang", "abstained", "answer", "citations", "related", "timings_ms"} <= set(data)

    hits = json.loads(_qa("search", "Belooussov", "--json", "--k", "3", "--index-dir", index_dir).stdout)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert {"rank", "doc_id", "start", "end", "text", "score"} <= set(hits[0])

    batch = _qa("ask", "-", "--index-dir", index_dir, stdin="Who met Kim Jong Un?\n\n   \nQuel âge a Poutine ?\n")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert batch.returncode == 0 and len(lines) == 2
    assert lines[0]["question"] == "Who met Kim Jong Un?" and lines[1]["lang"] == "fr"


def test_errors_are_one_sentence_and_exit_2(tmp_path):
    empty = _qa("ask", "   ")
    assert empty.returncode == 2 and empty.stderr.strip() == "error: The question is empty; type a question in French or English."
    missing = _qa("ask", "Who?", "--index-dir", str(tmp_path / "none"))
    assert missing.returncode == 2 and "python -m index build" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_k = _qa("search", "x", "--k", "0")
    assert bad_k.returncode == 2 and "--k" in bad_k.stderr
    bad_date = _qa("ask", "Who?", "--date-from", "notadate")
    assert bad_date.returncode == 2 and "Traceback" not in bad_date.stderr
    assert bad_date.stderr.strip().startswith("error: The start date 'notadate' is not a date; write it as YYYY")


@pytest.mark.slow
def test_a_reader_that_stops_early_ends_the_command_quietly(seed_index):
    """`python -m qa ask - < questions | head -1`: the output closed before the answers are written
    ends the command with the shell's status for a closed pipe, not a traceback."""
    process = subprocess.Popen([sys.executable, "-m", "qa", "ask", "-", "--index-dir", str(seed_index)], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()   # the reader is gone before the first answer
    _, err = process.communicate("Who is John Kirby?\nCombien de conteneurs ?\n", timeout=600)
    assert process.returncode == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_the_human_output_speaks_the_answers_language():
    from qa import Answer, Citation
    from qa.cli import _format_answer

    cited = Citation(n=1, doc_id="a.txt", title="Titre", date=None, start=0, end=22, quote="Kim a rencontré Poutine.",
                     score=0.9)
    french = _format_answer(Answer("Qui ?", "fr", False, "Kim a rencontré Poutine. [1]", citations=(cited,),
                                   notices=("Une remarque.",)))
    assert "remarque\u00a0: Une remarque." in french and "\nSources\u00a0:" in french and "(sans date)" in french
    english = _format_answer(Answer("Who?", "en", True, "No answer.", related=(cited,)))
    assert "\nRelated passages:" in english and "(no date)" in english
