"""Where an index lives, as the `--store` option names it, and writing one to Qdrant.

`--store` is a folder (the FAISS + BM25 files, the default), `qdrant+local:DIR` (Qdrant's local
mode, in-process: what the tests use) or `qdrant://HOST:PORT[?collection=NAME&api_key_env=VAR]`
(a server or a cluster; the API key is read from the environment variable VAR, never from the
command line). In Qdrant an index is one collection holding every part of it as points of four
kinds (chunks with a dense and a sparse BM25 vector, sentences with their vector, articles, and
one point with the manifest, the BM25 vocabulary and the corpus statistics), reached through an
alias: a build writes a new collection, then moves the alias to it in one operation (Qdrant's own
atomic swap), keeping the collection it left for readers still on it and dropping older builds,
so readers never see half an index."""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from index.manifest import IndexNotReady

__all__ = ["QdrantTarget", "QdrantUnavailable", "parse_store", "open_index", "KIND_BASE", "STORE_HELP"]

STORE_HELP = ("an index in Qdrant instead of the folder: qdrant+local:DIR or qdrant://HOST:PORT[?collection=NAME"
              "&api_key_env=VAR] (the API key read from the environment variable VAR)")

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "newsqa"
# point ids: row r of each kind is KIND_BASE[kind] + r (unsigned 64-bit ids)
KIND_BASE = {"chunk": 0, "sentence": 1 << 40, "document": 2 << 40, "meta": 3 << 40}


class QdrantUnavailable(IndexNotReady):
    """Qdrant cannot be used as asked; the message names what is wrong and the fix."""


@dataclass(frozen=True)
class QdrantTarget:
    spec: str
    collection: str                 # the alias readers use
    path: str | None = None         # local mode
    host: str | None = None
    port: int = 6333
    api_key_env: str | None = None
    timeout_s: float = 10.0
    shards: int | None = None       # a new collection's shard count (a cluster: a few per node)
    replicas: int | None = None     # its replication factor
    on_disk: bool = False           # vectors and the sparse index on disk, memory-mapped

    def client(self):
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise QdrantUnavailable("The Qdrant store needs the qdrant extra; install it with "
                                    "`pip install -e '.[qdrant]'`.") from None
        if self.path is not None:
            return QdrantClient(path=self.path)
        api_key = None
        if self.api_key_env:
            api_key = os.environ.get(self.api_key_env)
            if not api_key:
                raise QdrantUnavailable(f"The environment variable {self.api_key_env} named by api_key_env is not "
                                        "set; export the Qdrant API key in it.")
        return QdrantClient(host=self.host, port=self.port, api_key=api_key, timeout=max(1, round(self.timeout_s)),
                            check_compatibility=False,
                            https=False if api_key is None else None)

    def where(self) -> str:
        return f"{self.path} (local mode)" if self.path is not None else f"{self.host}:{self.port}"

    @property
    def build_command(self) -> str:
        """The command that builds (or rebuilds) this store's index."""
        return f"python -m index build --store {self.spec}"

    def unreachable(self, err: Exception) -> QdrantUnavailable:
        return QdrantUnavailable(f"Qdrant at {self.where()} cannot be reached ({type(err).__name__}: "
                                 f"{str(err).splitlines()[0][:160] if str(err) else 'no detail'}); start it or "
                                 "check --store.")

    def resolve(self, client) -> str:
        """The collection the alias points at; raises when there is none."""
        try:
            aliases = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
            names = {c.name for c in client.get_collections().collections}
        except QdrantUnavailable:
            raise
        except Exception as err:  # the client raises transport errors of several libraries
            raise self.unreachable(err) from None
        if self.collection in aliases:
            return aliases[self.collection]
        if self.collection in names:
            return self.collection
        raise QdrantUnavailable(f"No index named {self.collection!r} in Qdrant at {self.where()}; build it with "
                                f"`{self.build_command}`.")

    def new_collection_name(self) -> str:
        return f"{self.collection}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"


def parse_store(spec: str | os.PathLike | None) -> QdrantTarget | None:
    """The Qdrant target `spec` names, or None when it is a folder."""
    if spec is None:
        return None
    text = str(spec)
    if text.startswith("qdrant+local:"):
        path = text[len("qdrant+local:"):]
        if not path:
            raise QdrantUnavailable("--store qdrant+local: needs a folder, e.g. qdrant+local:var/qdrant.")
        return QdrantTarget(text, DEFAULT_COLLECTION, path=path)
    if not text.startswith("qdrant://"):
        if "://" in text and text.split("://", 1)[0].replace("+", "").isalnum():
            raise QdrantUnavailable(f"--store {text} names no kind of store this app knows; use qdrant+local:DIR or "
                                    "qdrant://HOST:PORT, or --index-dir for a folder.")
        return None
    parts = urlsplit(text)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"collection", "api_key_env", "timeout", "shards", "replicas", "on_disk"})
    if not parts.hostname or unknown or parts.path not in ("", "/"):
        raise QdrantUnavailable(f"--store {text} is not understood; write qdrant://HOST:PORT[?collection=NAME"
                                "&api_key_env=VARIABLE&shards=N&replicas=N&on_disk=true] (an API key is read from "
                                "the environment, never given here).")
    try:
        port, timeout = parts.port or 6333, float(query.get("timeout", 10))
        shards, replicas = (int(query[k]) if k in query else None for k in ("shards", "replicas"))
    except ValueError:
        raise QdrantUnavailable(f"--store {text} has a port, timeout, shards or replicas that is not a number.") from None
    return QdrantTarget(text, query.get("collection", DEFAULT_COLLECTION), host=parts.hostname, port=port,
                        api_key_env=query.get("api_key_env"), timeout_s=timeout, shards=shards, replicas=replicas,
                        on_disk=query.get("on_disk", "").lower() in ("1", "true", "yes"))


def open_index(spec: str | os.PathLike):
    """The `IndexData` of a `--store` value: a folder, or an index in Qdrant."""
    target = parse_store(spec)
    if target is None:
        from index.storage import load_index

        return load_index(Path(spec))
    from index.qdrant_store import open_qdrant

    return open_qdrant(target)
