"""The `/ask` endpoint through gradio_client, against the real `python -m ui` server."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ui_server import ROOT, Server, free_port, start_server, stop_server_process

pytestmark = pytest.mark.slow

gradio_client = pytest.importorskip("gradio_client", reason="gradio_client is not installed")

EXPECTED_DOCS = {"000_110a115a5bf18778.txt", "004_113f9629b7018fa7.txt"}
TIMEOUT_S = 120


@pytest.fixture(scope="session")
def ui_server() -> Iterator[Server]:
    server = start_server()
    yield server
    stop_server_process(server.process)


@pytest.fixture(scope="module")
def client(ui_server: Server) -> Iterator[Any]:
    client = gradio_client.Client(ui_server.url, verbose=False, analytics_enabled=False, download_files=False)
    yield client
    client.close()


def _ask(client: Any, question: str, k: int = 5, doc_ids: list[str] | None = None,
         lang: str = "en") -> tuple[str, str, str]:
    job = client.submit(question, k, doc_ids or [], lang, api_name="/ask")
    answer_html, passages_html, shown = job.result(timeout=TIMEOUT_S)
    return answer_html, passages_html, shown


def _cited_docs(markup: str) -> list[str]:
    return re.findall(r'<li class="qa-card" id="ans-\d+">.*?<code>([^<]+)</code>', markup)


def test_only_ask_is_public(client: Any) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_english_question_cites_the_container_article(client: Any) -> None:
    answer_html, passages_html, shown = _ask(client, "How many containers of munitions did North Korea send to Russia?")
    assert shown == "en"
    assert set(_cited_docs(answer_html)) & EXPECTED_DOCS, answer_html
    assert "1 000 conteneurs" in answer_html
    assert 'class="qa-abstain"' not in answer_html
    assert passages_html.count('class="qa-card"') == 5


def test_french_question_switches_the_interface_to_french(client: Any) -> None:
    answer_html, _, shown = _ask(client, "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?")
    assert shown == "fr"
    assert "Réponse en" in answer_html
    assert set(_cited_docs(answer_html)) & EXPECTED_DOCS


def test_restricting_to_one_article_cites_only_it(client: Any) -> None:
    only = "004_113f9629b7018fa7.txt"
    answer_html, passages_html, _ = _ask(client, "Who met Kim Jong Un?", k=3, doc_ids=[only])
    cited = _cited_docs(answer_html) or re.findall(r'id="rel-\d+">.*?<code>([^<]+)</code>', answer_html)
    assert cited and set(cited) == {only}
    assert set(re.findall(r"<code>([^<]+)</code>", passages_html)) == {only}


def test_an_article_the_page_did_not_list_is_a_filter_too(client: Any) -> None:
    # an article added after the page was served is not among its choices; one that does not exist matches nothing
    answer_html, passages_html, _ = _ask(client, "Who met Kim Jong Un?", doc_ids=["added_later.txt"])
    assert "No article matches the filter" in answer_html and 'class="qa-card"' not in passages_html


def test_empty_question_returns_an_error_panel(client: Any) -> None:
    answer_html, _, shown = _ask(client, "   ", lang="fr")
    assert 'class="qa-out qa-error"' in answer_html and "Impossible de répondre" in answer_html
    assert "La question est vide" in answer_html and shown == "fr"


def test_a_passage_count_that_is_no_number_gets_one_sentence(client: Any) -> None:
    for k in ("five", 0, 21, True):
        answer_html, passages_html, _ = _ask(client, "Who is Kim Jong Un?", k=k)  # type: ignore[arg-type]
        assert 'class="qa-out qa-error"' in answer_html, k
        assert "k, the number of passages, must be a whole number from 1 to 20, not " in answer_html, k
        assert "qa-passage" not in passages_html
    answer_html, _, _ = _ask(client, "Qui est Kim Jong Un ?", k="cinq", lang="fr")
    assert "k, le nombre de passages, doit être un nombre entier de 1 à 20, pas &#x27;cinq&#x27;" in answer_html


def test_a_null_or_written_passage_count_is_read(client: Any) -> None:
    for k in (None, "3"):
        _, passages_html, _ = _ask(client, "Who is Kim Jong Un?", k=k)  # type: ignore[arg-type]
        assert passages_html.count('<div class="qa-passage">') == (5 if k is None else 3)


def test_one_article_name_as_a_string_is_a_filter(client: Any) -> None:
    job = client.submit("Who is Kim Jong Un?", 5, "000_110a115a5bf18778.txt", "en", api_name="/ask")
    _, passages_html, _ = job.result(timeout=TIMEOUT_S)
    assert set(re.findall(r"<code>([^<]+)</code>", passages_html)) == {"000_110a115a5bf18778.txt"}


def _run_ui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui", "--host", "127.0.0.1", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_missing_index_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    done = _run_ui("--port", str(free_port()), "--index-dir", str(tmp_path / "none"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "python -m index build" in lines[0], done.stderr


def test_busy_port_is_refused_before_loading_the_model(ui_server: Server) -> None:
    done = _run_ui("--port", str(urlsplit(ui_server.url).port))
    assert done.returncode == 2
    assert "pass another --port" in done.stderr


def test_relabel_puts_labels_in_french_and_keeps_an_answer() -> None:
    from ui.app import relabel
    from ui.render import render_placeholder

    updates = relabel("fr", render_placeholder("Ask a question"), '<div class="qa-out">answer</div>')
    assert "Interroger les articles" in updates[0]
    assert updates[2]["value"] == "Demander"
    assert "Posez une question" in updates[-3]
    assert updates[-2] == {"__type__": "update"}
    assert updates[-1]["label"] == "Langue de l’interface"   # the switch's own (screen-reader) label


def test_percentile() -> None:
    from ui.loadtest import percentile

    assert percentile([], 50) == 0.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([float(i) for i in range(1, 101)], 95) == pytest.approx(95.05)


def test_loadtest_runs_and_stops_by_itself(ui_server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    from ui.loadtest import main

    assert main(["--url", ui_server.url, "--n", "4", "--concurrency", "4", "--deadline", "120"]) == 0
    out = capsys.readouterr().out
    assert "questions: 4  ok: 4  errors: 0" in out and "p95" in out


def test_uploads_are_bounded(ui_server: Server) -> None:
    """Issue 10, case 8: the page takes no file, but Gradio's upload route is open; it must refuse
    anything larger than MAX_UPLOAD_BYTES instead of storing it."""
    import httpx

    from ui.app import MAX_UPLOAD_BYTES

    url = ui_server.url + "gradio_api/upload"
    small = httpx.post(url, files={"files": ("note.txt", b"x" * 1000)}, timeout=30)
    assert small.status_code == 200, small.text
    big = httpx.post(url, files={"files": ("big.bin", b"x" * (MAX_UPLOAD_BYTES + 1))}, timeout=30)
    assert big.status_code == 413
    assert big.text == f"File size exceeded maximum allowed size of {MAX_UPLOAD_BYTES} bytes."
