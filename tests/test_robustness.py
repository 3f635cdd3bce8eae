"""Issue 10: nothing a user or a disk can do breaks the index.

One test per reported case, each injecting the fault the way the report describes it (`D` a
seeds folder, `I` an index folder: here `seeds_copy` and `index_copy`, copies of the real seeds
and of the session's real index), and checking that it ends in one clear sentence and a usable
index."""

from __future__ import annotations

import codecs
import html
import hashlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

import index.build
import index.integrity
from index import (BuildConfig, BuildReport, Embedder, IndexDamaged, IndexNotReady, StaleIndex, build_index,
                   load_index)
from index.documents import ArticleError, read_corpus, read_document
from index.lock import build_lock, lock_path
from index.sentences import MAX_SENTENCE_CHARS

ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = ROOT / "seeds"
ENGLISH = (
    "North Korea ships artillery shells to Russia\n\n"
    "North Korea has shipped artillery shells to Russia by rail, US officials said on Tuesday. "
    "Analysts expect more deliveries before winter.\n"
)
QUESTION = "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?"
T = TypeVar("T")


def build(seeds: Path, index_dir: Path, embedder: Embedder) -> BuildReport:
    return build_index(BuildConfig(seeds_dir=seeds, index_dir=index_dir, progress=False), embedder=embedder)


def within(seconds: float, work: Callable[[], T]) -> T:
    """`work()`, failing the test (instead of hanging it) when it takes longer than `seconds`."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as err:  # handed to the test below  # noqa: BLE001
            outcome["error"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s: it hangs"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def cli(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def answers(index_dir: Path, embedder: Embedder) -> None:
    """What `qa ask` and `python -m ui` do first: load the index, checking the articles, then ask."""
    from qa import Pipeline

    answer = Pipeline.load(index_dir, embedder=embedder).ask(QUESTION)
    assert not answer.abstained and "1 000 conteneurs" in answer.text


# --- 1. a skipped entry breaks every later query -------------------------------------------------


@pytest.mark.parametrize("fault", ["dangling link", "folder", "unreadable file"])
def test_1_a_skipped_entry_never_reaches_the_query_path(fault: str, index_copy: Path, seeds_copy: Path,
                                                        embedder: Embedder) -> None:
    entry = seeds_copy / "zz.txt"
    if fault == "dangling link":  # ln -s /nonexistent/x.txt D/zz.txt
        entry.symlink_to("/nonexistent/x.txt")
        reason = "zz.txt is a link to /nonexistent/x.txt, which does not exist; remove the link or restore the file."
    elif fault == "folder":  # mkdir D/dir.txt
        entry.mkdir()
        reason = "zz.txt is a folder, not a regular file; only plain files can be indexed."
    else:  # chmod 000 D/zz.txt
        entry.write_text(ENGLISH, encoding="utf-8")
        entry.chmod(0)
        if os.access(entry, os.R_OK):
            pytest.skip("running as root, which reads a chmod 000 file anyway: the fault cannot be injected")
        reason = "zz.txt cannot be read (Permission denied); check that it exists and is readable."
    report = build(seeds_copy, index_copy, embedder)
    assert [(s.doc_id, s.reason) for s in report.skipped] == [("zz.txt", reason)]
    answers(index_copy, embedder)


def test_1_qa_ask_answers_after_a_build_that_skipped_a_dangling_link(index_copy: Path, seeds_copy: Path,
                                                                     embedder: Embedder) -> None:
    """The report's reproduction, end to end through the command line."""
    (seeds_copy / "zz.txt").symlink_to("/nonexistent/x.txt")
    build(seeds_copy, index_copy, embedder)
    result = cli("qa", "ask", QUESTION, "--index-dir", str(index_copy))
    assert result.returncode == 0, result.stderr
    assert "1 000 conteneurs" in result.stdout and "Traceback" not in result.stderr


# --- 2. a FIFO makes the build hang ----------------------------------------------------------------


def test_2_a_fifo_is_refused_before_it_is_opened(index_copy: Path, seeds_copy: Path, embedder: Embedder) -> None:
    fifo = seeds_copy / "zz.txt"
    os.mkfifo(fifo)  # mkfifo D/zz.txt: nothing ever writes to it
    with pytest.raises(ArticleError, match=r"^zz\.txt is a named pipe \(FIFO\), not a regular file"):
        within(30, lambda: read_document(fifo))
    report = within(120, lambda: build(seeds_copy, index_copy, embedder))
    assert [s.doc_id for s in report.skipped] == ["zz.txt"]
    assert report.skipped[0].reason.startswith("zz.txt is a named pipe (FIFO), not a regular file")
    within(120, lambda: answers(index_copy, embedder))


# --- 8. smaller ones: the articles folder --------------------------------------------------------


def test_8_utf16_is_read_as_text_not_called_binary(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes(ENGLISH.encode("utf-16"))  # what Notepad's "Unicode" writes
    (tmp_path / "bom_be.txt").write_bytes(codecs.BOM_UTF16_BE + ENGLISH.replace("Russia", "Moscow").encode("utf-16-be"))
    (tmp_path / "no_bom.txt").write_bytes(ENGLISH.replace("Russia", "Minsk").encode("utf-16-le"))
    corpus = read_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["bom.txt", "bom_be.txt"]
    doc = corpus.documents[0]
    assert doc.text == ENGLISH and doc.lang == "en"
    assert all(doc.text[s.start:s.end] == doc.span_text(s) for s in doc.body)
    (skipped,) = corpus.skipped
    assert skipped.reason == "no_bom.txt looks like UTF-16 text without a byte-order mark; re-save it as UTF-8 text."


def test_8_other_extensions_are_named_and_upper_case_txt_is_read(tmp_path: Path) -> None:
    (tmp_path / "LOUD.TXT").write_text(ENGLISH, encoding="utf-8")
    (tmp_path / "notes.md").write_text(ENGLISH.replace("Russia", "Iran"), encoding="utf-8")
    (tmp_path / ".hidden.txt.swp").write_bytes(b"\x00editor state")  # hidden: passed over silently
    corpus = read_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["LOUD.TXT"]
    assert [(s.doc_id, s.reason) for s in corpus.skipped] == [
        ("notes.md", "notes.md is not an article file (.txt, .html, .htm, .jsonl, .csv); rename it to end in .txt if it is an article in plain text.")]


def test_8_a_link_to_a_file_outside_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder, outside = tmp_path / "D", tmp_path / "private.txt"
    folder.mkdir()
    outside.write_text(ENGLISH, encoding="utf-8")
    (folder / "a.txt").write_text(ENGLISH.replace("Russia", "Belarus"), encoding="utf-8")
    (folder / "leak.txt").symlink_to(outside)
    (folder / "same.txt").symlink_to(folder / "a.txt")  # inside the folder: read (and found a duplicate)
    corpus = read_corpus(folder)
    assert [d.doc_id for d in corpus.documents] == ["a.txt"]
    assert [(s.doc_id, s.reason) for s in corpus.skipped] == [
        ("leak.txt", f"leak.txt is a link to {outside}, outside {folder}; copy the article into the folder "
                     "instead of linking to it."),
        ("same.txt", "same.txt duplicates a.txt; it was left out (remove one of the two).")]


# --- 3, 4, 5. a damaged index: named on load, repaired by the build -------------------------------


class QuickVectors:
    """Stands in for the model where a test only needs the build to run through (a repaired
    index is rebuilt from scratch): same spec as the real model, random unit vectors."""

    def __init__(self, real: Embedder) -> None:
        self.spec, self.dimension, self.prompts = real.spec, real.dimension, real.prompts
        self.path, self.description, self.weights = real.path, real.description, real.weights  # the same path

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dimension))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def damaged_message(index_dir: Path, detail: str) -> str:
    return (f"The index in {index_dir} is damaged ({detail}); rebuild it with "
            f"`python -m index build --index-dir {index_dir}`.")


def refused(index_dir: Path, embedder: Embedder) -> str:
    """The one sentence `qa ask` and `python -m ui` stop with (they load the index the same way)."""
    from qa import Pipeline

    with pytest.raises(IndexDamaged) as caught:
        Pipeline.load(index_dir, embedder=embedder)
    return str(caught.value)


def recorded_size(index_dir: Path, name: str) -> int:
    return json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["files"][name]["size"]


def test_3_an_emptied_vector_file_is_named_and_index_build_repairs_it(index_copy: Path, embedder: Embedder) -> None:
    size = recorded_size(index_copy, "sentences.f16.npy")
    (index_copy / "sentences.f16.npy").write_bytes(b"")  # : > I/sentences.f16.npy
    assert refused(index_copy, embedder) == damaged_message(
        index_copy, f"sentences.f16.npy is 0 bytes, the manifest recorded {size:,}")
    result = cli("index", "build", "--index-dir", str(index_copy), "--quiet")  # the fix the message names
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"note: The index in {index_copy} is damaged (sentences.f16.npy is 0 bytes, the manifest recorded {size:,}); "
        "every article is indexed again from scratch."]
    answers(index_copy, embedder)


@pytest.mark.parametrize("name", ["bm25/data.csc.index.npy", "bm25/indices.csc.index.npy",
                                  "bm25/indptr.csc.index.npy"])
def test_3_an_emptied_bm25_file_is_named_and_the_build_repairs_it(name: str, index_copy: Path,
                                                                  embedder: Embedder) -> None:
    size = recorded_size(index_copy, name)
    (index_copy / name).write_bytes(b"")  # : > I/bm25/*.npy
    assert refused(index_copy, embedder) == damaged_message(index_copy, f"{name} is 0 bytes, the manifest "
                                                                        f"recorded {size:,}")
    report = build(SEEDS_DIR, index_copy, QuickVectors(embedder))  # type: ignore[arg-type]
    assert report.notes == (f"The index in {index_copy} is damaged ({name} is 0 bytes, the manifest recorded "
                            f"{size:,}); every article is indexed again from scratch.",)
    assert report.embedded == report.chunks and report.kept == ()
    assert load_index(index_copy).lexical.scores("Shoigu").any()


def test_4_an_emptied_rows_file_is_named_not_a_key_error(index_copy: Path, embedder: Embedder) -> None:
    size = recorded_size(index_copy, "rows.sqlite")
    (index_copy / "rows.sqlite").write_bytes(b"")  # : > I/rows.sqlite
    assert refused(index_copy, embedder) == damaged_message(
        index_copy, f"rows.sqlite is 0 bytes, the manifest recorded {size:,}")
    report = build(SEEDS_DIR, index_copy, QuickVectors(embedder))  # type: ignore[arg-type]
    assert report.notes and report.notes[0].startswith(f"The index in {index_copy} is damaged (rows.sqlite")
    assert len(load_index(index_copy).documents) == 5


def rewrite_with_checksum(index_dir: Path, name: str, data: bytes) -> None:
    """Replace a file *and* its manifest entry: damage no checksum can see (as in a big file,
    whose content is only hashed by `verify`)."""
    (index_dir / name).write_bytes(data)
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def edit_rows(index_dir: Path, sql: str, *args: object) -> None:
    """Run `sql` on the rows file, then record its new checksum (damage no checksum can see)."""
    path = index_dir / "rows.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(sql, args)
    db.close()
    rewrite_with_checksum(index_dir, "rows.sqlite", path.read_bytes())


def test_4_a_rows_file_whose_articles_do_not_match_the_chunks_is_damaged(index_copy: Path,
                                                                         embedder: Embedder) -> None:
    pristine = (index_copy / "rows.sqlite").read_bytes()
    edit_rows(index_copy, "DELETE FROM documents WHERE row = 4")  # one article fewer
    assert refused(index_copy, embedder) == damaged_message(
        index_copy, "rows.sqlite does not hold the articles the manifest lists")
    rewrite_with_checksum(index_copy, "rows.sqlite", pristine)
    body, doc_id = sqlite3.connect(index_copy / "rows.sqlite").execute(
        "SELECT body, doc_id FROM bodies JOIN documents USING (row) WHERE row = 0").fetchone()
    row = json.loads(body)
    row["text"] = row["text"].replace("Corée", "Cor\u00e9e ")  # the same articles, shifted text
    edit_rows(index_copy, "UPDATE bodies SET body = ? WHERE row = 0", json.dumps(row, ensure_ascii=False))
    assert refused(index_copy, embedder) == damaged_message(
        index_copy, f"the chunks of rows.sqlite do not match the text of {doc_id}")


def overwrite(path: Path, seed: int, count: int = 64) -> None:
    """`count` random bytes in the middle of `path`, its size unchanged."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + count] = np.random.default_rng(seed).bytes(count)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["bm25/indices.csc.index.npy", "bm25/data.csc.index.npy"])
def test_5_random_bytes_are_caught_on_load(name: str, index_copy: Path, embedder: Embedder) -> None:
    overwrite(index_copy / name, seed=5)
    assert refused(index_copy, embedder) == damaged_message(
        index_copy, f"the content of {name} differs from what was written")


def test_5_a_flipped_bit_in_the_corpus_statistics_is_named_not_a_zip_traceback(index_copy: Path,
                                                                                 embedder: Embedder) -> None:
    # over the size below which content is checked at load, so numpy's zip reader meets it first
    path = index_copy / "corpus_stats.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    message = refused(index_copy, embedder)
    assert message.startswith(f"The index in {index_copy} is damaged (corpus_stats.npz cannot be read")
    assert message.endswith(f"rebuild it with `python -m index build --index-dir {index_copy}`.")


def test_8_an_index_whose_model_is_not_on_this_machine_says_so_with_the_fix(index_copy: Path) -> None:
    from index.manifest import IndexNotReady
    from qa import Pipeline

    manifest = json.loads((index_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["model_id"] = "nobody/no-such-model"
    (index_copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexNotReady) as caught:
        Pipeline.load(index_copy)   # no embedder given: the index's own model is loaded
    assert str(caught.value) == (
        f"The index at {index_copy} was embedded with the model 'nobody/no-such-model', which is not available "
        f"offline on this machine; rebuild it with the default model (`python -m index build --index-dir "
        f"{index_copy}`) or put that model in the local cache.")


def test_5_random_bytes_in_a_big_file_are_caught_by_verify_and_the_build(
        index_copy: Path, seed_index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files over SMALL_FILE_BYTES only have their size checked on load; here every file counts
    as big. Broken BM25 indices are still refused on load (they would raise IndexError at query
    time); altered floats load, and `index verify` and the build catch them."""
    intact = cli("index", "verify", "--index-dir", str(index_copy))
    assert intact.returncode == 0 and intact.stdout.startswith(f"index {index_copy} is intact: its 10 files")
    monkeypatch.setattr(index.integrity, "SMALL_FILE_BYTES", 0)
    overwrite(index_copy / "bm25/indices.csc.index.npy", seed=5)
    with pytest.raises(IndexDamaged, match=r"\(the BM25 index \(bm25/\) cannot be read: its arrays do not fit "
                                           r"together\)"):
        load_index(index_copy)
    shutil.copy(seed_index / "bm25/indices.csc.index.npy", index_copy / "bm25/indices.csc.index.npy")
    overwrite(index_copy / "bm25/data.csc.index.npy", seed=5)
    load_index(index_copy)
    line = one_line_error(cli("index", "verify", "--index-dir", str(index_copy)), code=1)
    assert line == "error: " + damaged_message(
        index_copy, "the content of bm25/data.csc.index.npy differs from what was written")
    report = build(SEEDS_DIR, index_copy, QuickVectors(embedder))  # type: ignore[arg-type]
    assert report.notes and "bm25/data.csc.index.npy" in report.notes[0]
    assert cli("index", "verify", "--index-dir", str(index_copy)).returncode == 0


# --- 8. smaller ones: fix messages name the folders they are about -------------------------------


def command_in(message: str) -> list[str]:
    """The arguments of the `python -m index ...` command a message names."""
    command = re.search(r"`python -m index ([^`]+)`", message)
    assert command, message
    return shlex.split(command.group(1))


def test_8_fix_messages_name_the_index_and_seeds_folders(index_copy: Path, seeds_copy: Path,
                                                         embedder: Embedder) -> None:
    from qa import Pipeline

    build(seeds_copy, index_copy, embedder)
    edited = sorted(seeds_copy.glob("*.txt"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    with pytest.raises(StaleIndex) as caught:
        Pipeline.load(index_copy, embedder=embedder)
    args = command_in(str(caught.value))
    assert args == ["build", "--seeds", str(seeds_copy), "--index-dir", str(index_copy)]
    report = build(Path(args[2]), Path(args[4]), embedder)  # run as written: this index, these articles
    assert report.changed == (edited.name,)
    Pipeline.load(index_copy, embedder=embedder)

    manifest = load_index(index_copy).manifest
    with pytest.raises(IndexNotReady) as caught:
        manifest.check_model("other/model", "0" * 64, 384, index_copy)
    assert command_in(str(caught.value)) == ["build", "--seeds", str(seeds_copy), "--index-dir", str(index_copy),
                                             "--model", "other/model"]
    spaced = index_copy.parent / "my index"
    with pytest.raises(IndexNotReady) as caught:
        load_index(spaced)
    assert command_in(str(caught.value)) == ["build", "--index-dir", str(spaced)]


def test_8_a_folder_that_is_not_an_index_is_never_replaced(tmp_path: Path, embedder: Embedder) -> None:
    documents = tmp_path / "Documents"
    documents.mkdir()
    (documents / "thesis.odt").write_bytes(b"years of work")
    with pytest.raises(IndexNotReady, match=rf"^{re.escape(str(documents))} is not an index folder \(it holds "
                                            r"thesis\.odt\) and a build would replace it; pass a new or empty "
                                            r"folder to --index-dir\.$"):
        build(SEEDS_DIR, documents, QuickVectors(embedder))  # type: ignore[arg-type]
    assert (documents / "thesis.odt").read_bytes() == b"years of work"


# --- 6. two builds into one folder -----------------------------------------------------------------


def test_6_a_second_build_waits_for_the_lock_and_says_who_holds_it(index_copy: Path) -> None:
    live_staging = index_copy.parent / f".index.building-{os.getpid()}-live"  # this process is alive
    live_staging.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    with build_lock(index_copy):  # as a build in progress holds it
        holder = lock_path(index_copy).read_text(encoding="utf-8").strip()
        assert re.fullmatch(rf"pid {os.getpid()} on \S+ since \S+", holder)
        busy = cli("index", "build", "--index-dir", str(index_copy), "--quiet", "--wait", "0")
        assert one_line_error(busy) == (f"error: Another build ({holder}) is writing {index_copy}; wait for it to "
                                        "end, or pass --wait SECONDS to wait longer than 0 s.")
        waiting = subprocess.Popen([sys.executable, "-m", "index", "build", "--index-dir", str(index_copy),
                                    "--quiet", "--wait", "300"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        said = waiting.stderr.readline()  # blocks until the waiting build says something
        assert said == (f"WARNING index.lock: another build ({holder}) is writing {index_copy}; "
                        "waiting up to 300 s for it to end\n")
    out, err = waiting.communicate(timeout=300)  # released: the waiting build goes on
    assert waiting.returncode == 0, err
    assert "Traceback" not in err and "0 added, 0 changed, 0 removed, 5 kept" in out, out
    assert live_staging.is_dir(), "the build deleted the staging folder of a live build"
    load_index(index_copy)


def test_6_forced_race_two_builds_take_turns(index_copy: Path, seeds_copy: Path, embedder: Embedder,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The first build stops inside its staging folder until the second has started: the second
    waits for the lock instead of deleting that folder or racing the swap (and then finds the
    index up to date: it rewrites nothing)."""
    changed = sorted(seeds_copy.glob("*.txt"))[0]   # something for the first build to write
    changed.write_text(changed.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    inside, go_on = threading.Event(), threading.Event()
    staging_seen: list[list[str]] = []
    real_write = index.build.finish_index

    def slow_write(folder: Path, *parts: object) -> None:
        if not inside.is_set():
            inside.set()
            assert go_on.wait(60)
        staging_seen.append(sorted(p.name for p in index_copy.parent.glob(".index.building-*")))
        real_write(folder, *parts)  # type: ignore[arg-type]

    monkeypatch.setattr(index.build, "finish_index", slow_write)
    reports: list[BuildReport] = []
    first = threading.Thread(target=lambda: reports.append(build(seeds_copy, index_copy, embedder)))
    second = threading.Thread(target=lambda: reports.append(build(seeds_copy, index_copy, embedder)))
    first.start()
    assert inside.wait(120)
    second.start()
    second.join(1.0)
    assert second.is_alive(), "the second build did not wait for the first"
    go_on.set()
    first.join(120)
    second.join(120)
    assert len(reports) == 2 and reports[1].kept == tuple(sorted(p.name for p in SEEDS_DIR.glob("*.txt")))
    assert [len(names) for names in staging_seen] == [1], "two builds were staging at once"
    load_index(index_copy)
    assert sorted(p.name for p in index_copy.parent.iterdir()) == [".index.lock", "index", "seeds"]


def test_6_a_query_during_a_swap_does_not_undo_it(index_copy: Path, seed_index: Path) -> None:
    """A load that finds the index folder gone while a build holds the lock is in the middle of a
    swap: it waits for the swap instead of putting the old index back under the build's feet."""
    backup = index_copy.with_name("index.previous")
    new = index_copy.with_name(".index.building-new")
    shutil.copytree(seed_index, new)
    with build_lock(index_copy):
        os.replace(index_copy, backup)  # the swap's first rename
        loading = threading.Thread(target=lambda: load_index(index_copy), daemon=True)
        loading.start()
        loading.join(0.3)
        os.replace(new, index_copy)  # the second: fails if the load restored the backup meanwhile
        loading.join(30)
    assert not loading.is_alive()
    assert backup.is_dir()  # the build removes it next
    load_index(index_copy)


def test_8_a_100_kb_word_is_cited_in_bounded_pieces_with_exact_offsets(tmp_path: Path, embedder: Embedder) -> None:
    from qa import Pipeline

    seeds, index_dir = tmp_path / "D", tmp_path / "I"
    seeds.mkdir()
    text = ("A word pasted by mistake\n\nThe text that follows was pasted by mistake. " + "A" * 100_000
            + " Kim Jong Un met Vladimir Putin at the Vostochny cosmodrome.\n")
    (seeds / "long.txt").write_text(text, encoding="utf-8")
    build(seeds, index_dir, QuickVectors(embedder))  # type: ignore[arg-type]  # 225 texts of 512 tokens
    data = load_index(index_dir)
    assert max(s.end - s.start for s in data.sentences) == MAX_SENTENCE_CHARS
    assert all(text[s.start:s.end] == s.text for s in data.sentences)
    assert [s.text for s in data.sentences[-2:]] == [
        "A" * MAX_SENTENCE_CHARS, "Kim Jong Un met Vladimir Putin at the Vostochny cosmodrome."]
    answer = Pipeline.load(index_dir, embedder=embedder).ask("Where did Kim Jong Un meet Vladimir Putin?")
    quoted = answer.citations + answer.related
    assert quoted and all(len(c.quote) <= MAX_SENTENCE_CHARS and text[c.start:c.end] == c.quote for c in quoted)


class CannedModel:
    """Stands in for a language model (slow, and optional): always writes the same sentence."""

    name = "canned"

    def count_tokens(self, text: str) -> int:
        return len(text) // 4

    def stream(self, messages: object, max_tokens: int, temperature: float,
               grammar: str | None = None) -> Iterator[str]:
        yield from ("La Corée du Nord a envoyé ", "plus de 1 000 conteneurs à la Russie [1].")


def test_8_the_page_says_when_articles_change_and_serves_the_index_a_build_swaps_in(
        index_copy: Path, seeds_copy: Path, embedder: Embedder) -> None:
    from qa import Pipeline
    from ui.app import article_choices, ask_current, generate_current
    from ui.source import PageSource

    build(seeds_copy, index_copy, embedder)
    source = PageSource.follow(Pipeline.load(index_copy, embedder=embedder), index_copy, CannedModel(),
                               check_every_s=0)
    before = source.snapshot()
    assert before.notices == () and "qa-index-notice" not in ask_current(source, QUESTION, 5, [], "fr")[0]

    edited = sorted(seeds_copy.glob("*.txt"))[3]  # an article edited while the page runs
    edited.write_text(edited.read_text(encoding="utf-8") + "\nLes négociations reprendront à Vladivostok.\n",
                      encoding="utf-8")
    answer_html = ask_current(source, QUESTION, 5, [], "fr")[0]
    notice = (f"The articles in {seeds_copy} changed since the index was built (changed: {edited.name}); update "
              f"it with `python -m index build --seeds {seeds_copy} --index-dir {index_copy}`, and until then "
              "answers quote them as they were.")
    assert [n.text("en") for n in source.snapshot().notices] == [notice]
    notice_fr = (f"Les articles de {seeds_copy} ont changé depuis la construction de l’index (modifiés : "
                 f"{edited.name}) ; mettez-le à jour avec `python -m index build --seeds {seeds_copy} --index-dir "
                 f"{index_copy}` ; d’ici là, les réponses les citent tels qu’ils étaient.")
    shown = ('<div class="qa-index-notice" role="status"><strong>L’index et les articles diffèrent</strong>'
             f'<p>{html.escape(notice_fr)}</p></div><div class="qa-out"')
    assert answer_html.startswith(shown)
    drafts = [markup for markup, _ in generate_current(source, QUESTION, 5, [], "fr", True)]
    assert drafts[-1].startswith(shown) and "Réponse rédigée" in drafts[-1]
    assert all("qa-index-notice" not in markup for markup in drafts[:-1])

    (seeds_copy / "005_english.txt").write_text(ENGLISH, encoding="utf-8")
    build(seeds_copy, index_copy, embedder)  # swaps a new index in under the running page
    after = source.snapshot()
    assert after.pipeline is not before.pipeline and after.notices == ()
    assert after.generator is not None and after.generator.pipeline is after.pipeline
    assert "Vladivostok" in after.articles[edited.name].text and "005_english.txt" in after.articles
    assert ("North Korea ships artillery shells to Russia (005_english.txt)", "005_english.txt") in \
        article_choices(source)["choices"]
    assert "qa-index-notice" not in ask_current(source, QUESTION, 5, [], "fr")[0]

    (index_copy / "manifest.json").write_text("{", encoding="utf-8")  # a new index that cannot be loaded
    still = source.snapshot()
    assert still.pipeline is after.pipeline
    assert [n.text("en") for n in still.notices] == [
        f"The index in {index_copy} is damaged (manifest.json is unreadable: Expecting property name enclosed in "
        f"double quotes: line 1 column 2 (char 1)); rebuild it with `python -m index build --index-dir {index_copy} "
        "--seeds ARTICLES_DIR`, ARTICLES_DIR being the folder of its articles, and until then answers come from the "
        "index loaded before."]
    assert still.notices[0].text("fr") == (
        f"Le nouvel index n’a pas pu être chargé (The index in {index_copy} is damaged (manifest.json is unreadable: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1))) ; reconstruisez-le avec "
        f"`python -m index build --index-dir {index_copy} --seeds ARTICLES_DIR` ; d’ici là, les réponses viennent de "
        "l’index chargé avant.")
