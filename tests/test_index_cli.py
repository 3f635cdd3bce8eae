"""`python -m index build|info` as a user runs it: output lines, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = ROOT / "seeds"
SEED_NAMES = sorted(p.name for p in SEEDS_DIR.glob("*.txt"))
ENGLISH = (
    "North Korea ships artillery shells to Russia\n\n"
    "North Korea has shipped artillery shells to Russia by rail, US officials said on Tuesday. "
    "Analysts expect more deliveries before winter.\n"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "index", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_build_prints_each_change_and_a_summary(index_copy: Path, seeds_copy: Path) -> None:
    """An update of the seed index: one article added, one removed, one unreadable."""
    removed = SEED_NAMES[-1]
    (seeds_copy / removed).unlink()
    (seeds_copy / "005_english.txt").write_text(ENGLISH, encoding="utf-8")
    (seeds_copy / "006_broken.txt").write_bytes("Corée".encode("latin-1"))
    result = run("build", "--seeds", str(seeds_copy), "--index-dir", str(index_copy), "--quiet")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["added: 005_english.txt", f"removed: {removed}"]
    assert re.fullmatch(rf"index {re.escape(str(index_copy))}: 1 added, 0 changed, 1 removed, 4 kept; "
                        r"\d+ chunks \(1 embedded\) in \d+\.\ds; 1 skipped", lines[2])
    assert len(lines) == 3
    assert ("skipped: 006_broken.txt is not valid UTF-8 (byte 3) and looks like Windows-1252 (Latin-1) text; re-save it "
            "as UTF-8, e.g. `iconv -f WINDOWS-1252 -t UTF-8 006_broken.txt > utf8-006_broken.txt`." in result.stderr)
    assert "Traceback" not in result.stderr

    info = run("info", "--index-dir", str(index_copy))
    assert info.returncode == 0, info.stderr
    assert info.stdout.startswith(f"index {index_copy} (format 4, built ")
    assert "model multilingual-e5-small (384 dims" in info.stdout
    for name in SEED_NAMES[:-1]:
        assert re.search(rf"^  {re.escape(name)}  fr  ", info.stdout, re.MULTILINE)
    assert re.search(r"^  005_english\.txt  en  -\s+1 chunks  North Korea ships artillery shells to Russia$",
                     info.stdout, re.MULTILINE)
    assert removed not in info.stdout
    assert "skipped 006_broken.txt: 006_broken.txt is not valid UTF-8" in info.stdout

    as_json = json.loads(run("info", "--index-dir", str(index_copy), "--json").stdout)
    assert sorted(as_json["documents"]) == sorted([*SEED_NAMES[:-1], "005_english.txt"])
    assert as_json["counts"]["documents"] == 5


def test_info_shows_the_seed_documents(seed_index: Path) -> None:
    result = run("info", "--index-dir", str(seed_index))
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  004_\w+\.txt  fr  2024-03\s+\d+ chunks  Les liens entre la Corée du Nord", result.stdout,
                     re.MULTILINE)
    assert re.search(r"^  000_\w+\.txt  fr  -\s+\d+ chunks  Faut-il s'inquiéter des nouvelles relations", result.stdout,
                     re.MULTILINE)
    assert sum(1 for line in result.stdout.splitlines() if line.startswith("  0")) == 5


def test_build_of_an_empty_folder_is_a_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("build", "--seeds", str(empty), "--index-dir", str(tmp_path / "index"), "--quiet")
    line = assert_one_line_error(result)
    assert line == (f"error: No article to index in {empty}: it holds no article files (.txt, .html, .htm, .jsonl, "
                    ".csv); put articles there or pass --seeds the folder that holds them.")
    assert result.stdout == ""
    assert not (tmp_path / "index").exists()


def test_info_on_a_file_or_a_damaged_manifest_names_a_command_that_works(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    line = assert_one_line_error(run("info", "--index-dir", str(afile)))
    assert line == (f"error: {afile} is a file, not an index folder; pass --index-dir a folder (`python -m index "
                    "build --index-dir DIR` makes one).")
    damaged = tmp_path / "index"
    damaged.mkdir()
    (damaged / "manifest.json").write_text("{", encoding="utf-8")
    line = assert_one_line_error(run("info", "--index-dir", str(damaged)))
    assert line.endswith(f"rebuild it with `python -m index build --index-dir {damaged} --seeds ARTICLES_DIR`, "
                         "ARTICLES_DIR being the folder of its articles."), line


def test_info_on_a_missing_index_names_the_build_command(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    line = assert_one_line_error(run("info", "--index-dir", str(missing)))
    assert line == f"error: No index in {missing}; build it with `python -m index build --index-dir {missing}`."


def test_invalid_chunk_size_is_a_one_line_error(tmp_path: Path) -> None:
    line = assert_one_line_error(run("build", "--seeds", str(SEEDS_DIR), "--index-dir", str(tmp_path / "i"),
                                     "--chunk-size", "10"))
    assert line == "error: chunk size 10 is too small; use at least 50 characters."


def test_a_negative_wait_is_a_one_line_error(tmp_path: Path) -> None:
    line = assert_one_line_error(run("build", "--seeds", str(SEEDS_DIR), "--index-dir", str(tmp_path / "i"),
                                     "--wait", "-5"))
    assert line == "error: --wait -5 is not a number of seconds; give 0 (do not wait) or more."
    assert not (tmp_path / "i").exists()
