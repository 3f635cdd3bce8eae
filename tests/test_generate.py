"""Generated answers with the real default GGUF (Qwen2.5-Coder-1.5B-Instruct) through llama.cpp
(skipped, with the reason, when the optional extra or the model is missing: `make generate-setup`
installs both), the citation grammar, and the OpenAI-compatible backend against a small fake
server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from index.lang import detect_language
from qa import GenerationConfig, Generator, LLMError, Partial
from qa.claims import citation_grammar, closed
from qa.generate import UNSUPPORTED_MARK, split_claims
from qa.llm import LlamaConfig, LlamaCppBackend, OpenAIBackend, RemoteConfig, make_backend
from qa.models import DEFAULT_GGUF, find_model

ROOT = Path(__file__).resolve().parents[1]
MAX_TOKENS = 96
BOUNDED = GenerationConfig(max_tokens=MAX_TOKENS)


@pytest.fixture(scope="session")
def gguf() -> Path:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        pytest.skip("llama-cpp-python (the optional `generate` extra) is not installed; run `make generate-setup`")
    path = find_model(DEFAULT_GGUF)
    if path is None:
        pytest.skip(f"the {DEFAULT_GGUF} GGUF model is not fetched; run `make generate-setup` "
                    "(or `python -m qa.models fetch`)")
    return path


@pytest.fixture(scope="session")
def local(gguf: Path) -> LlamaCppBackend:
    backend = LlamaCppBackend(LlamaConfig(gguf))
    backend.load()
    return backend


@pytest.fixture(scope="session")
def generator(pipeline, local: LlamaCppBackend) -> Generator:
    return Generator(pipeline, local, BOUNDED)


def _check_verified(generator: Generator, answer) -> None:
    """Every citation is an exact sentence span of the index that the verifier accepts for each
    sentence citing it; every other sentence is marked unsupported."""
    data = generator.pipeline.data
    assert answer.generated and not answer.abstained
    starts = {(s.doc_id, s.start) for s in data.sentences}
    ends = {(s.doc_id, s.end) for s in data.sentences}
    for c in answer.citations:
        assert data.documents[c.doc_id].text[c.start : c.end] == c.quote
        assert (c.doc_id, c.start) in starts and (c.doc_id, c.end) in ends
    numbers = {c.n for c in answer.citations}
    claims = split_claims(answer.text)
    assert len(claims) >= 1
    for claim, vector in zip(claims, generator.verifier.embed([c.text for c in claims])):
        if claim.text in answer.unsupported:
            assert f"{claim.text} {UNSUPPORTED_MARK}" in answer.text
            continue
        assert claim.cited and set(claim.cited) <= numbers, answer.text
        for n in claim.cited:
            c = answer.citations[n - 1]
            rows = [i for i, s in enumerate(data.sentences) if s.doc_id == c.doc_id and c.start <= s.start < c.end]
            assert generator.verifier.support(claim.text, answer.lang, vector, rows) is not None, (claim, c.quote)


@pytest.mark.slow
@pytest.mark.parametrize("question", [
    "What does North Korea want from Russia in exchange?",
    "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?",
])
def test_real_model_streams_then_answers_with_verified_citations(pipeline, generator, question):
    steps = list(generator.stream(question))
    partials, answer = steps[:-1], steps[-1]
    assert partials and all(isinstance(p, Partial) for p in partials)
    assert all(b.text.startswith(a.text) for a, b in zip(partials, partials[1:]))
    written = split_claims(partials[-1].text)  # what the model wrote, before verification
    assert written and all(c.cited for c in written[:-1]), partials[-1].text  # (the last may be cut by max_tokens)
    assert answer.question == question
    if answer.withdrawn and not answer.generated:  # the model withdrew every sentence on its second draft
        assert set(answer.withdrawn) <= {t for t in closed(written)}, (answer.withdrawn, partials[-1].text)
        assert answer.citations == generator.pipeline.ask(question).citations
        assert any("withdrew" in n for n in answer.notices)
        return
    _check_verified(generator, answer)
    assert answer.citations or answer.unsupported


@pytest.mark.slow
def test_english_question_over_french_articles_gets_english_sentences(pipeline, generator):
    # The 0.5B model often mixed French words into English answers; the 1.5B default translates.
    answer = generator.answer("How many containers of munitions did North Korea send to Russia?")
    assert answer.lang == "en"
    assert any(detect_language(c.text) == "en" for c in split_claims(answer.text)), answer.text


@pytest.mark.slow
def test_the_model_is_not_called_when_the_articles_do_not_answer(pipeline, local):
    calls = []

    class Counting:
        name = "counting"

        def count_tokens(self, text: str) -> int:
            return local.count_tokens(text)

        def stream(self, *args: Any) -> Iterator[str]:
            calls.append(args)
            yield from local.stream(*args)

    answer = Generator(pipeline, Counting(), BOUNDED).answer("Quelle est la capitale du Pérou ?")
    assert answer.abstained and calls == []


@pytest.mark.slow
def test_closing_the_stream_stops_the_model(pipeline, generator, local):
    stream = generator.stream("Who met Kim Jong Un in Pyongyang?")
    first = next(step for step in stream if isinstance(step, Partial))
    assert first.text
    stream.close()
    started = time.perf_counter()
    pieces = list(local.stream([{"role": "user", "content": "Say yes."}], 4, 0.0))  # the lock is free again
    assert pieces and time.perf_counter() - started < 30


@pytest.mark.slow
def test_page_handler_shows_a_generating_state_then_the_checked_answer(generator):
    from ui.app import article_views, generate, stopped

    articles = article_views(generator.pipeline)
    question = "Combien de conteneurs la Corée du Nord a-t-elle envoyés à la Russie ?"
    updates = list(generate(generator, articles, question, 5, [], "fr", True))
    assert 'class="qa-out qa-generating"' in updates[0][0] and updates[0][1]["visible"] is True
    final_html, final_button = updates[-1]
    assert "qa-generating" not in final_html and final_button["visible"] is False
    assert "Réponse rédigée" in final_html
    assert "Rédaction arrêtée" in stopped("fr")[0]
    skipped = list(generate(generator, articles, "Qui ?", 5, [], "fr", False))
    assert len(skipped) == 1


@pytest.mark.slow
def test_cli_generate_prints_json_with_verified_fields(seed_index, gguf):
    done = subprocess.run([sys.executable, "-m", "qa", "ask", "Who met Kim Jong Un in Pyongyang?", "--generate",
                           "--gguf", str(gguf), "--max-tokens", "48", "--json", "--index-dir", str(seed_index)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["generated"] is True and isinstance(data["unsupported"], list)


# --- the OpenAI-compatible backend, against a fake server -------------------------------------

class _FakeOpenAI(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: streams `server.reply` in pieces; /slow/... waits; others 404."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
            pass

    def _answer(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        if self.path.startswith("/slow/"):
            time.sleep(2.0)
        if not self.path.endswith("/v1/chat/completions"):
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "not found"}}')
            return
        reply: str = self.server.reply  # type: ignore[attr-defined]
        if not body.get("stream") or self.server.ignore_stream:  # type: ignore[attr-defined]
            self._json({"choices": [{"message": {"role": "assistant", "content": reply}}]})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i in range(0, len(reply), 6):
            event = {"choices": [{"index": 0, "delta": {"content": reply[i : i + 6]}}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def _json(self, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture()
def fake_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    server.requests = []  # type: ignore[attr-defined]
    server.reply = "Hello [1]."  # type: ignore[attr-defined]
    server.ignore_stream = False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _url(server: ThreadingHTTPServer, path: str = "/v1") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_remote_backend_streams_and_sends_the_model_name(fake_server):
    backend = OpenAIBackend(RemoteConfig(_url(fake_server), "tiny", timeout_s=5))
    pieces = list(backend.stream([{"role": "user", "content": "hi"}], 16, 0.0))
    assert "".join(pieces) == "Hello [1]." and len(pieces) > 1
    sent = fake_server.requests[-1]  # type: ignore[attr-defined]
    assert sent["model"] == "tiny" and sent["stream"] is True and sent["max_tokens"] == 16


def test_remote_generation_is_verified_like_a_local_one(pipeline, fake_server):
    question = "How many containers of munitions did North Korea send to Russia?"
    fake_server.reply = (  # type: ignore[attr-defined]
        "North Korea sent more than 1,000 containers of munitions to Russia, according to John Kirby [1]. "
        "It also sent 40 submarines [1].")
    backend = make_backend(llm_url=_url(fake_server, ""), llm_model="tiny")
    answer = Generator(pipeline, backend, BOUNDED).answer(question)
    # the unsupported sentence's second draft (the same reply) only repeats the first: withdrawn
    assert answer.generated and answer.unsupported == () and answer.withdrawn == ("It also sent 40 submarines.",)
    assert len(answer.citations) == 1 and "John Kirby" in answer.citations[0].quote
    first, second = fake_server.requests[-2:]  # type: ignore[attr-defined]
    prompt = first["messages"][-1]["content"]
    assert "Passages:" in prompt and "in English" in prompt
    assert "It also sent 40 submarines" in second["messages"][-1]["content"] and "NONE" in second["grammar"]


def test_remote_backend_sends_the_citation_grammar_as_llama_cpp_server_takes_it(fake_server):
    backend = OpenAIBackend(RemoteConfig(_url(fake_server), "tiny", timeout_s=5))
    list(backend.stream([{"role": "user", "content": "hi"}], 8, 0.0, citation_grammar([1, 2])))
    assert fake_server.requests[-1]["grammar"] == citation_grammar([1, 2])  # type: ignore[attr-defined]
    list(backend.stream([{"role": "user", "content": "hi"}], 8, 0.0))
    assert "grammar" not in fake_server.requests[-1]  # type: ignore[attr-defined]


def test_the_citation_grammar_names_only_the_prompt_passages() -> None:
    grammar = citation_grammar([3, 1, 3], sentences=2)
    assert 'cite ::= "[1]" | "[3]"' in grammar and "[2]" not in grammar
    assert 'root ::= sentence (" " sentence){0,1}' in grammar
    with pytest.raises(ValueError, match="at least one passage"):
        citation_grammar([])


def test_llama_cpp_parses_the_citation_grammar(gguf: Path) -> None:
    from llama_cpp import LlamaGrammar

    assert LlamaGrammar.from_string(citation_grammar([1, 2, 3, 4]), verbose=False) is not None
    assert LlamaGrammar.from_string(citation_grammar([1, 2], alternative="NONE"), verbose=False) is not None


@pytest.mark.slow
def test_the_grammar_makes_even_a_bare_prompt_end_every_sentence_with_a_marker(local: LlamaCppBackend) -> None:
    # no instruction about markers at all: the grammar alone puts them there
    text = "".join(local.stream([{"role": "user", "content": "Say two short sentences about the sea."}], 48, 0.0,
                                citation_grammar([1, 2])))
    claims = split_claims(text)
    assert claims and all(set(c.cited) <= {1, 2} for c in claims), text
    assert all(c.cited for c in claims[:-1]), text


def test_remote_server_that_ignores_streaming_still_answers(fake_server):
    fake_server.ignore_stream = True  # type: ignore[attr-defined]
    backend = OpenAIBackend(RemoteConfig(_url(fake_server), "tiny", timeout_s=5))
    assert "".join(backend.stream([{"role": "user", "content": "hi"}], 8, 0.0)) == "Hello [1]."


def test_unreachable_server_is_one_clear_error():
    with socket.socket() as sock:  # a port that was free a moment ago, with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAIBackend(RemoteConfig(f"http://127.0.0.1:{port}/v1", "tiny", timeout_s=2))
    with pytest.raises(LLMError, match=r"Cannot reach the LLM server at http://127\.0\.0\.1:\d+/v1/chat/completions"):
        list(backend.stream([{"role": "user", "content": "hi"}], 8, 0.0))


def test_slow_server_times_out(fake_server):
    backend = OpenAIBackend(RemoteConfig(_url(fake_server, "/slow/v1"), "tiny", timeout_s=0.5))
    started = time.perf_counter()
    with pytest.raises(LLMError, match="0.5 s"):
        list(backend.stream([{"role": "user", "content": "hi"}], 8, 0.0))
    assert time.perf_counter() - started < 5


def test_wrong_path_names_the_fix(fake_server):
    backend = OpenAIBackend(RemoteConfig(_url(fake_server, "/api"), "tiny", timeout_s=5))
    with pytest.raises(LLMError, match="HTTP 404.*should end with /v1"):
        list(backend.stream([{"role": "user", "content": "hi"}], 8, 0.0))


def test_backend_options_are_checked():
    with pytest.raises(ValueError, match="--llm-model"):
        make_backend(llm_url="http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="not both"):
        make_backend(gguf=Path("x.gguf"), llm_url="http://127.0.0.1:1/v1", llm_model="m")
    with pytest.raises(ValueError, match="http://"):
        make_backend(llm_url="127.0.0.1:8080", llm_model="m")
    with pytest.raises(LLMError, match="does not exist"):
        make_backend(gguf=Path("/nonexistent/model.gguf"))
    assert OpenAIBackend(RemoteConfig("http://h:1", "m")).url == "http://h:1/v1/chat/completions"
    assert OpenAIBackend(RemoteConfig("http://h:1/v1/chat/completions", "m")).url == "http://h:1/v1/chat/completions"
