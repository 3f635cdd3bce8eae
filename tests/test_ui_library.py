"""The article panel's handlers (`ui.library`) without a browser: the panel is there only when
asked for, removes a file, and the page keeps answering from the old index while an upload is
embedded. The browser side is `test_ui_upload.py`."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from index import BuildConfig, build_index
from qa import Pipeline
from ui.app import build_app
from ui.library import Library, add_uploaded, remove_chosen
from ui.source import PageSource

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
EXPORT = Path(__file__).resolve().parent / "fixtures" / "imports" / "export.jsonl"


@pytest.fixture()
def served(tmp_path: Path, embedder) -> tuple[PageSource, Path]:
    seeds, index_dir = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(SEEDS, seeds)
    build_index(BuildConfig(seeds, index_dir, progress=False), embedder=embedder)
    return PageSource.follow(Pipeline.load(index_dir, embedder=embedder), index_dir), index_dir


def test_the_panel_is_there_only_with_the_flag_and_removes_a_file(served: tuple[PageSource, Path]) -> None:
    source, index_dir = served
    seeds = index_dir.parent / "articles"
    ids = [c.get("props", {}).get("elem_id") for c in build_app(source).config["components"]]
    assert "qa-upload" not in ids and "qa-question" in ids
    library = Library.of(source, index_dir)
    with_panel = build_app(source, library=library).config["components"]
    assert "qa-upload" in [c.get("props", {}).get("elem_id") for c in with_panel]
    gone = sorted(p.name for p in SEEDS.glob("*.txt"))[0]
    *_, (status, _, table, _, _) = remove_chosen(library, source, gone, "fr")
    assert "1 article(s) retiré(s)" in status and gone not in str(table)
    assert gone not in source.snapshot().articles and (seeds / ".removed" / gone).is_file()
    *_, (status, *_) = remove_chosen(library, source, gone, "en")
    assert "Nothing was changed: No article file" in status


def test_questions_are_answered_from_the_old_index_while_an_upload_is_embedded(
        served: tuple[PageSource, Path]) -> None:
    source, index_dir = served
    library = Library.of(source, index_dir)
    question = "Combien de kilomètres mesure la Véloroute des Crêtes ?"
    upload = index_dir.parent / "cms.jsonl"  # the default field names, so no mapping is needed
    upload.write_text(EXPORT.read_text(encoding="utf-8").replace('"body"', '"text"'), encoding="utf-8")
    steps: list[tuple] = []
    worker = threading.Thread(target=lambda: steps.extend(add_uploaded(library, source, [str(upload)], "en")))
    worker.start()
    old = source.snapshot().pipeline
    during = []
    while worker.is_alive():
        served = source.snapshot().pipeline  # the new index once the build swapped it in
        during.append((served is old, served.ask(question)))
    worker.join()
    from_old = [answer for was_old, answer in during if was_old]
    assert from_old, "the upload ended before a question could be asked"
    assert all(c.doc_id.endswith(".txt") for a in from_old for c in a.citations)  # the old index, whole
    assert "Added 3 article(s)" in steps[-1][0]
    after = source.snapshot().pipeline.ask(question)
    assert after.citations and after.citations[0].doc_id == "cms.jsonl#cms-1057"
