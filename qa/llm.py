"""Chat backends for generated answers: a local GGUF file through llama.cpp (`llama-cpp-python`,
the optional `generate` extra, imported only when a model is loaded), or any OpenAI-compatible
chat endpoint (llama.cpp's server, Ollama, vLLM) reached with the standard library.

Both stream the answer as text pieces; closing the stream stops the generation."""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

__all__ = ["LLMError", "ChatBackend", "LlamaConfig", "LlamaCppBackend", "RemoteConfig", "OpenAIBackend",
           "make_backend", "SETUP_HINT"]

log = logging.getLogger(__name__)

Message = dict[str, str]
SETUP_HINT = "make generate-setup"


class LLMError(RuntimeError):
    """The language model cannot be loaded or reached; the message says what to do."""


class ChatBackend(Protocol):
    """What `qa.generate` needs from a language model."""

    @property
    def name(self) -> str: ...

    def count_tokens(self, text: str) -> int: ...

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float,
               grammar: str | None = None) -> Iterator[str]: ...


@dataclass(frozen=True)
class LlamaConfig:
    path: Path
    n_ctx: int = 2048
    n_threads: int | None = None  # default: every core, for prompt and generation alike
    seed: int = 0


class LlamaCppBackend:
    """A GGUF model run in this process; loaded on first use, one generation at a time."""

    def __init__(self, config: LlamaConfig) -> None:
        if not config.path.is_file():
            raise LLMError(f"GGUF file {config.path} does not exist; run `python -m qa.models fetch` or pass "
                           "another --gguf path.")
        self.config = config
        self._llama: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"llama.cpp:{self.config.path.name}"

    def _model(self) -> Any:
        if self._llama is None:
            try:
                import llama_cpp
            except ImportError:
                raise LLMError("Generation with a GGUF file needs the optional `generate` extra "
                               f"(llama-cpp-python); install it with `{SETUP_HINT}`.") from None
            started = time.perf_counter()
            threads = self.config.n_threads or os.cpu_count() or 1
            try:
                self._llama = llama_cpp.Llama(model_path=str(self.config.path), n_ctx=self.config.n_ctx,
                                              n_threads=threads, n_threads_batch=threads, seed=self.config.seed,
                                              verbose=False)
            except (ValueError, RuntimeError) as err:
                raise LLMError(f"llama.cpp could not load {self.config.path} ({err}); is it a GGUF model?") from None
            log.info("loaded %s in %.1f s", self.config.path.name, time.perf_counter() - started)
        return self._llama

    def load(self) -> None:
        """Load the model now (otherwise the first question pays for it)."""
        with self._lock:
            self._model()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._model().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float,
               grammar: str | None = None) -> Iterator[str]:
        """The answer in pieces; with `grammar` (GBNF), only text the grammar allows is sampled."""
        with self._lock:
            model = self._model()
            constraint = None
            if grammar is not None:
                from llama_cpp import LlamaGrammar

                constraint = LlamaGrammar.from_string(grammar, verbose=False)
            chunks = model.create_chat_completion(messages=list(messages), max_tokens=max_tokens,
                                                  temperature=temperature, seed=self.config.seed, stream=True,
                                                  grammar=constraint)
            try:
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            except (ValueError, RuntimeError) as err:  # llama.cpp's decode, context and grammar failures
                raise LLMError(f"The local model failed while writing: {err}") from err
            finally:
                chunks.close()


@dataclass(frozen=True)
class RemoteConfig:
    base_url: str                   # http://127.0.0.1:8080/v1 (llama.cpp server), http://127.0.0.1:11434/v1 (Ollama)
    model: str
    timeout_s: float = 30.0         # to connect, and between two streamed pieces
    deadline_s: float = 300.0       # for a whole answer
    api_key: str | None = None
    chars_per_token: float = 3.0    # to estimate prompt sizes without the server's tokenizer


def _endpoint(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"LLM URL {base_url!r} must look like http://127.0.0.1:8080/v1.")
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        path = path[: -len("/chat/completions")]
    if not path:
        path = "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}/chat/completions"


class OpenAIBackend:
    """An OpenAI-compatible `/chat/completions` endpoint, streamed (server-sent events)."""

    def __init__(self, config: RemoteConfig) -> None:
        if not config.model.strip():
            raise ValueError("The LLM model name is empty; pass the name the server knows it by (--llm-model).")
        self.config = config
        self.url = _endpoint(config.base_url)

    @property
    def name(self) -> str:
        return f"{self.config.model}@{self.url}"

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / self.config.chars_per_token)

    def _request(self, messages: Sequence[Message], max_tokens: int, temperature: float,
                 grammar: str | None = None) -> urllib.request.Request:
        body: dict[str, Any] = {"model": self.config.model, "messages": list(messages), "max_tokens": max_tokens,
                                "temperature": temperature, "stream": True}
        if grammar is not None:  # llama.cpp's server (and LocalAI, KoboldCpp) constrain the output with it
            body["grammar"] = grammar
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return urllib.request.Request(self.url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")

    def _open(self, request: urllib.request.Request) -> Any:
        try:
            return urllib.request.urlopen(request, timeout=self.config.timeout_s)
        except urllib.error.HTTPError as err:
            detail = err.read(2000).decode("utf-8", "replace").strip().replace("\n", " ")
            raise LLMError(f"The LLM server at {self.url} answered HTTP {err.code} ({detail[:200] or err.reason}); "
                           "check --llm-url (it should end with /v1) and --llm-model.") from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                reason = f"no answer within {self.config.timeout_s:g} s"
            raise LLMError(f"Cannot reach the LLM server at {self.url} ({reason}); start it or pass another "
                           "--llm-url.") from None

    def stream(self, messages: Sequence[Message], max_tokens: int, temperature: float,
               grammar: str | None = None) -> Iterator[str]:
        """The answer in pieces; `grammar` (GBNF) is sent as llama.cpp's server takes it; servers
        without grammars ignore it, and the verifier still checks every sentence."""
        started = time.monotonic()
        response = self._open(self._request(messages, max_tokens, temperature, grammar))
        with response:
            try:
                if "text/event-stream" not in response.headers.get("Content-Type", ""):
                    yield from _whole(json.loads(response.read().decode("utf-8")))
                    return
                for raw in response:
                    if time.monotonic() - started > self.config.deadline_s:
                        raise LLMError(f"The LLM server at {self.url} took over {self.config.deadline_s:g} s to "
                                       "answer; stopped.")
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:"):].strip()
                    if data == "[DONE]":
                        return
                    piece = _delta(json.loads(data))
                    if piece:
                        yield piece
            except (TimeoutError, socket.timeout):
                raise LLMError(f"The LLM server at {self.url} stopped sending for {self.config.timeout_s:g} s; "
                               "stopped.") from None
            except (ValueError, KeyError, IndexError, TypeError) as err:
                raise LLMError(f"The LLM server at {self.url} sent something that is not an OpenAI chat "
                               f"completion ({err.__class__.__name__}); check --llm-url.") from None


def _delta(event: dict[str, Any]) -> str:
    if "error" in event:
        raise LLMError(f"The LLM server reported an error: {str(event['error'])[:200]}.")
    choices = event.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


def _whole(body: dict[str, Any]) -> Iterator[str]:
    """A server that ignored `stream`: the whole message at once."""
    if "error" in body:
        raise LLMError(f"The LLM server reported an error: {str(body['error'])[:200]}.")
    content = body["choices"][0]["message"]["content"] or ""
    if content:
        yield content


def make_backend(gguf: Path | str | None = None, llm_url: str | None = None, llm_model: str | None = None,
                 n_ctx: int = 2048) -> ChatBackend:
    """A backend from command-line style options: a remote server when `llm_url` is given, else the
    GGUF file `gguf` (a path, or the name of a model `python -m qa.models fetch` assembles, or
    `default`), else the default fetched model."""
    if llm_url:
        if gguf is not None:
            raise ValueError("Pass either a GGUF file (--gguf) or a server (--llm-url), not both.")
        if not llm_model:
            raise ValueError("A server needs the model name it serves (--llm-model NAME).")
        return OpenAIBackend(RemoteConfig(llm_url, llm_model))
    if llm_model:
        raise ValueError("--llm-model goes with --llm-url; for a local file pass --gguf PATH.")
    from qa.models import DEFAULT_GGUF, MODELS, find_model, model_path

    name = DEFAULT_GGUF if gguf is None or str(gguf) == "default" else str(gguf)
    if name in MODELS and not Path(name).exists():
        found = find_model(name)
        if found is None:
            raise LLMError(f"No {name} model at {model_path(name)}; run `python -m qa.models fetch --model {name}` "
                           f"(`{SETUP_HINT}` fetches {DEFAULT_GGUF}), or pass --gguf PATH or --llm-url URL.")
        gguf = found
    return LlamaCppBackend(LlamaConfig(Path(gguf), n_ctx=n_ctx))
