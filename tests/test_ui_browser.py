"""Drive Debian's Chromium against the real `python -m ui` server and the real index."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from ui_server import ARTIFACTS, Server, raw_text, start_server, stop_server_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

EXPECTED_DOCS = {"000_110a115a5bf18778.txt", "004_113f9629b7018fa7.txt"}
QUESTION = "How many containers of munitions did North Korea send to Russia?"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
ANSWER_TIMEOUT_MS = 90_000
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@dataclass
class PageLog:
    """What a page did that a test must check: requests that left the machine, console errors."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            self.outside.append(request.url)

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} @ {message.location}")

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"uncaught: {error}")

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture(scope="session")
def ui_server() -> Iterator[Server]:
    server = start_server()
    yield server
    stop_server_process(server.process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser: Any, server: Server, width: int, height: int) -> tuple[Any, PageLog]:
    page = browser.new_page(viewport={"width": width, "height": height})
    events = PageLog()
    page.on("request", events.on_request)
    page.on("console", events.on_console)
    page.on("pageerror", events.on_page_error)
    page.goto(server.url)
    page.wait_for_selector("#qa-question textarea")
    return page, events


def _ask(page: Any, question: str, press_enter: bool = False) -> None:
    page.fill("#qa-question textarea", question)
    if press_enter:
        page.press("#qa-question textarea", "Enter")
    else:
        page.click("#qa-ask")
    page.wait_for_selector("#qa-answer .qa-out:not(.qa-empty)", timeout=ANSWER_TIMEOUT_MS)


def _cited_cards(page: Any) -> list[dict[str, Any]]:
    return page.eval_on_selector_all("#qa-answer .qa-card", """cards => cards.map(card => ({
        id: card.id, doc: card.querySelector('.qa-meta code').textContent,
        start: Number(card.querySelector('.qa-offsets').dataset.start),
        end: Number(card.querySelector('.qa-offsets').dataset.end),
        mark: card.querySelector('mark') ? card.querySelector('mark').textContent : null,
        quote: card.querySelector('.qa-quote').textContent}))""")


def test_answer_marks_the_cited_span_of_the_expected_article(browser: Any, ui_server: Server) -> None:
    page, events = _open(browser, ui_server, 1280, 900)
    _ask(page, QUESTION)
    cards = _cited_cards(page)
    assert cards, page.inner_text("#qa-answer")
    matching = []
    for card in cards:
        assert card["mark"] == card["quote"] == raw_text(card["doc"])[card["start"]:card["end"]]
        if card["doc"] in EXPECTED_DOCS and "1 000" in card["mark"]:
            matching.append(card)
    assert matching, f"no citation of {EXPECTED_DOCS} about the 1 000 containers: {cards}"
    assert "[1]" in page.inner_text("#qa-answer .qa-text")
    assert page.inner_text("#qa-answer .qa-time").startswith("Answered in")
    page.screenshot(path=str(ARTIFACTS / "ui-desktop-answer.png"), full_page=True)

    card_id = matching[0]["id"]
    page.click(f"#{card_id} summary a")
    mark = page.locator(f"#{card_id}-span")
    sync_api.expect(mark).to_be_in_viewport()
    assert page.evaluate(f"document.querySelector('#{card_id} details').open")
    page.screenshot(path=str(ARTIFACTS / "ui-desktop-article.png"))

    page.click(f"#qa-answer .qa-text a[href='#{card_id}']")
    assert page.evaluate("location.hash") == f"#{card_id}"
    sync_api.expect(page.locator(f"#{card_id}")).to_be_in_viewport()
    events.assert_clean()
    page.close()


def test_passages_tab_lists_passages_marked_in_their_articles(browser: Any, ui_server: Server) -> None:
    page, events = _open(browser, ui_server, 1280, 900)
    _ask(page, "Who met Kim Jong Un in Pyongyang?", press_enter=True)
    page.get_by_role("tab", name="Passages").click()
    cards = page.locator("#qa-passages .qa-card")
    sync_api.expect(cards).to_have_count(5)
    spans = page.eval_on_selector_all("#qa-passages .qa-card", """cards => cards.map(card => ({
        doc: card.querySelector('.qa-meta code').textContent,
        start: Number(card.querySelector('.qa-offsets').dataset.start),
        end: Number(card.querySelector('.qa-offsets').dataset.end),
        mark: card.querySelector('mark').textContent,
        passage: card.querySelector('.qa-passage').textContent}))""")
    for span in spans:
        assert span["mark"] == span["passage"] == raw_text(span["doc"])[span["start"]:span["end"]]
    page.screenshot(path=str(ARTIFACTS / "ui-desktop-passages.png"), full_page=True)
    events.assert_clean()
    page.close()


def test_phone_width_french_example(browser: Any, ui_server: Server) -> None:
    page, events = _open(browser, ui_server, 390, 844)
    page.get_by_text("Combien de conteneurs la Corée du Nord", exact=False).first.click()
    page.wait_for_selector("#qa-answer .qa-card", timeout=ANSWER_TIMEOUT_MS)
    sync_api.expect(page.locator("#qa-ask")).to_have_text("Demander")
    assert "Sources" in page.inner_text("#qa-answer")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px"
    page.screenshot(path=str(ARTIFACTS / "ui-phone-answer.png"), full_page=True)
    events.assert_clean()
    page.close()


def test_on_a_phone_the_page_scrolls_to_the_answer(browser: Any, ui_server: Server) -> None:
    page, events = _open(browser, ui_server, 390, 844)
    top = page.evaluate("document.getElementById('qa-answer').getBoundingClientRect().top / window.innerHeight")
    assert top > 0.75, "the answer starts in the upper part of the screen at 390×844; this test needs it lower"
    _ask(page, "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?")
    page.wait_for_function("""() => {   // the answer's start is brought near the top of the screen
        const top = document.querySelector('#qa-answer .qa-out').getBoundingClientRect().top;
        return top > -20 && top < window.innerHeight * 0.25; }""", timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "ui-phone-scrolled.png"))
    events.assert_clean()
    page.close()


def test_french_toggle_then_empty_question(browser: Any, ui_server: Server) -> None:
    page, events = _open(browser, ui_server, 1280, 900)
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_text("Français", exact=True).click()
    sync_api.expect(page.locator("#qa-ask")).to_have_text("Demander")
    page.wait_for_function("document.documentElement.lang === 'fr'", timeout=5000)
    sync_api.expect(page.locator("#qa-answer .qa-empty")).to_contain_text("Posez une question")
    page.click("#qa-ask")
    page.wait_for_selector("#qa-answer .qa-error", timeout=ANSWER_TIMEOUT_MS)
    assert "Impossible de répondre" in page.inner_text("#qa-answer .qa-error")
    assert page.inner_text("#qa-answer .qa-error p").strip()
    events.assert_clean()
    page.close()
