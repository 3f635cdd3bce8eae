"""The "add or remove articles" panel of `python -m ui --allow-upload`: in Chromium, a saved news
page is uploaded and then a question only it answers is answered from it, with no restart;
without the flag there is no panel. The server works on a copy of the seeds and its own index."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_ui_browser import CHROMIUM_ARGS, _ask, _cited_cards, _open
from ui_server import ARTIFACTS, ROOT, SEEDS, launch, stop_server_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

PAGE = Path(__file__).resolve().parent / "fixtures" / "imports" / "guardian-style.htm"
QUESTION = "How much did the restoration of the Harwick Maritime Museum cost?"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("library")
    seeds, index_dir = root / "articles", root / "index"
    shutil.copytree(SEEDS, seeds)
    subprocess.run([sys.executable, "-m", "index", "build", "--seeds", str(seeds), "--index-dir", str(index_dir),
                    "--quiet"], cwd=ROOT, check=True, timeout=900)
    return seeds, index_dir


def test_an_uploaded_page_is_answered_without_a_restart(library: tuple[Path, Path]) -> None:
    seeds, index_dir = library
    server = launch("--index-dir", str(index_dir), "--allow-upload", log_name="ui-upload-server.log")
    try:
        deadline = time.monotonic() + 30  # printed once the server is up, which may be just after it answers
        while "Uploads are on" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "Uploads are on" in server.output()
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page, events = _open(browser, server, 1280, 900)
            _upload(page, PAGE)
            status = page.text_content("#qa-library-status")
            assert "Added 1 article(s): guardian-style.htm" in status, status
            assert (seeds / PAGE.name).is_file()
            assert "guardian-style.htm" in page.text_content("#qa-article-list")
            page.screenshot(path=str(ARTIFACTS / "upload-added.png"), full_page=True)
            _ask(page, QUESTION)
            cards = _cited_cards(page)
            assert cards and cards[0]["doc"] == "guardian-style.htm", cards
            assert any("£38 million" in card["quote"] for card in cards), cards
            assert page.get_attribute("#qa-answer .qa-source", "href").startswith("https://www.example-news.co.uk/")
            page.screenshot(path=str(ARTIFACTS / "upload-answered.png"), full_page=True)
            empty = seeds.parent / "empty.txt"
            empty.write_text("  \n", encoding="utf-8")
            _upload(page, empty)
            assert "Nothing was changed: empty.txt is empty" in page.text_content("#qa-library-status")
            assert not (seeds / "empty.txt").exists()
            events.assert_clean()
            browser.close()
    finally:
        stop_server_process(server.process)


def _upload(page: Any, path: Path) -> None:
    if not page.is_visible("#qa-upload"):
        page.click("#qa-library button")  # open the panel
    page.set_input_files("#qa-upload input[type=file]", str(path))
    page.wait_for_selector(f"#qa-upload :text('{path.name}')", timeout=30_000)
    page.click("#qa-add")
    page.wait_for_function("""() => {
        const text = document.querySelector('#qa-library-status').textContent;
        return /Added|Nothing was changed/.test(text) && text.includes(%r);
    }""" % path.name, timeout=120_000)
