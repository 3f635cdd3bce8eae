"""Start `python -m ui` once per test session on a free 127.0.0.1 port (shared by the UI test files)."""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
INDEX_DIR = ROOT / "var" / "index"
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT_S = 300
BUILD_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in_s: float

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class ServerExited(RuntimeError):
    def __init__(self, returncode: int, output: str) -> None:
        super().__init__(f"`python -m ui` exited with {returncode}:\n{output}")
        self.output = output


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_index(rebuild: bool = False) -> None:
    """Build var/index when it is missing (or, with `rebuild`, when the server found it stale)."""
    if (INDEX_DIR / "manifest.json").exists() and not rebuild:
        return
    log.info("building the index at %s", INDEX_DIR)
    subprocess.run([sys.executable, "-m", "index", "build", "--quiet"], cwd=ROOT, check=True,
                   timeout=BUILD_TIMEOUT_S)


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_served(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerExited(process.returncode, log_path.read_text(encoding="utf-8", errors="replace"))
        if _answers_http(url):
            return
        time.sleep(0.5)
    stop_server_process(process)
    raise RuntimeError(f"`python -m ui` did not serve {url} within {START_TIMEOUT_S} s")


def launch(*args: str, log_name: str = "ui-server.log") -> Server:
    """`python -m ui ARGS` on a free 127.0.0.1 port, once it serves its page."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = ARTIFACTS / log_name
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    with log_path.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "ui", "--host", "127.0.0.1", "--port", str(port), *args],
                                   cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    _wait_until_served(url, process, log_path)
    return Server(url, process, log_path, time.monotonic() - started)


@functools.cache
def start_server() -> Server:
    """The one server of this test session (started on first use). An index the server refuses
    (stale after a change to the seeds or the index format) is rebuilt once, as its message says."""
    ensure_index()
    try:
        return launch()
    except ServerExited as err:
        if "python -m index build" not in err.output:
            raise
    ensure_index(rebuild=True)
    return launch()


def stop_server_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def raw_text(doc_id: str) -> str:
    """An article's raw text exactly as the index reads it (UTF-8, BOM dropped, newlines kept)."""
    return (SEEDS / doc_id).read_bytes().decode("utf-8-sig")
