"""Add article files to the articles folder, or take articles out, and update the index.

Both check everything first and change nothing when one thing is wrong: an added file must be
of a supported kind, readable, hold at least one article, and repeat no article already there
(by content, spacing aside) nor the name of another file. Added files are copied in atomically;
removed ones are moved to the folder's hidden `.removed/` (a listing passes hidden entries over),
where they can be restored from. When the index update fails, the folder is put back as it was.
The index itself is only ever swapped whole (`index.build`), so a page answering from it keeps
the old index until the new one is in."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from index.build import BuildConfig, BuildReport, build_index
from index.chunking import ChunkConfig
from index.documents import ArticleError, Fields, content_key, read_corpus, read_documents
from index.embedder import Embedder
from index.manifest import IndexNotReady, Manifest
from index.sources import ARTICLE_KINDS, kind_of, list_articles

__all__ = ["REMOVED", "add_articles", "remove_articles", "check_new_files", "config_for"]

log = logging.getLogger(__name__)

REMOVED = ".removed"


def config_for(seeds_dir: Path, index_dir: Path, fields: Fields = Fields(), progress: bool = True) -> BuildConfig:
    """How to update the index in `index_dir`: with the model and chunking it was built with and
    the export fields it recorded (plus `fields`), so an update never re-embeds it differently."""
    try:
        manifest = Manifest.load(index_dir)
    except IndexNotReady:
        return BuildConfig(seeds_dir, index_dir, progress=progress, fields=fields)
    chunking = ChunkConfig(int(manifest.chunking["size"]), int(manifest.chunking["overlap"]))
    return BuildConfig(seeds_dir, index_dir, manifest.model_id, chunking, progress=progress,
                       fields=fields.merged(Fields.from_dict(manifest.fields)))


def _present(folder: Path, mapping: Fields) -> dict[str, str]:
    """Content key -> article id of what the folder holds now (an empty folder holds nothing)."""
    if not folder.is_dir() or not list_articles(folder).files:
        return {}
    try:
        corpus = read_corpus(folder, mapping)
    except ArticleError:
        return {}
    return {content_key(d): d.doc_id for d in corpus.documents}


def check_new_files(folder: Path, files: list[Path], config: BuildConfig) -> int:
    """Raise `ArticleError` naming the first file that cannot be added; else how many articles they hold."""
    if not files:
        raise ArticleError("No file to add; name one or more article files.")
    present, names, count = _present(folder, config.fields), set(), 0
    for path in files:
        name = path.name
        if kind_of(name) is None:
            raise ArticleError(f"{name} is not an article file; add {', '.join(ARTICLE_KINDS)} files.")
        if name in names:
            raise ArticleError(f"{name} is named twice; add each file once.")
        names.add(name)
        if (folder / name).exists():
            raise ArticleError(f"An article file named {name} is already in {folder}; rename the new file, or "
                               f"remove the old one first.")
        docs, _, _ = read_documents(path, config.fields)
        if not docs:
            raise ArticleError(f"{name} holds no article to add.")
        for doc in docs:
            key = content_key(doc)
            if key in present:
                raise ArticleError(f"{doc.doc_id} repeats the article {present[key]}, already in {folder}; "
                                   "nothing was added.")
            present[key] = doc.doc_id
        count += len(docs)
    return count


def _copy_in(path: Path, folder: Path) -> Path:
    fd, temp = tempfile.mkstemp(prefix=".adding-", dir=folder)
    os.close(fd)
    try:
        shutil.copyfile(path, temp)
        shutil.copymode(path, temp)   # mkstemp makes it 0600; the article keeps its own permissions
        target = folder / path.name
        os.replace(temp, target)
    except OSError:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def add_articles(config: BuildConfig, files: list[Path], embedder: Embedder | None = None) -> BuildReport:
    """Copy `files` into the articles folder and update the index (only new articles are embedded)."""
    folder = config.seeds_dir
    folder.mkdir(parents=True, exist_ok=True)
    check_new_files(folder, files, config)
    copied: list[Path] = []
    try:
        for path in files:
            copied.append(_copy_in(path, folder))
        return build_index(config, embedder=embedder)
    except BaseException:
        for target in copied:
            target.unlink(missing_ok=True)
        raise


def _files_to_remove(config: BuildConfig, ids: list[str]) -> list[Path]:
    folder = config.seeds_dir
    try:
        documents = Manifest.load(config.index_dir).documents
    except (ArticleError, ValueError, OSError):
        documents = {}
    files: list[Path] = []
    for doc_id in ids:
        source = documents.get(doc_id, {}).get("source")
        if source:
            raise ArticleError(f"{doc_id} is one row of the export {source}; delete that row from the file and run "
                               f"`python -m index build`, or remove the whole export with `python -m index remove "
                               f"{source}`.")
        path = folder / doc_id
        if "/" in doc_id or doc_id.startswith(".") or kind_of(doc_id) is None or not path.is_file():
            raise ArticleError(f"No article file {doc_id!r} in {folder}; `python -m index info` lists the "
                               "articles.")
        files.append(path)
    if not files:
        raise ArticleError("No article to remove; name one or more article ids.")
    if not set(list_articles(folder).files) - set(files):
        raise ArticleError(f"Removing {len(files)} article(s) would leave {folder} with none, and an index needs at "
                           "least one; add an article first (`python -m index add FILE`), or remove fewer.")
    return files


def remove_articles(config: BuildConfig, ids: list[str], embedder: Embedder | None = None) -> BuildReport:
    """Move the files of `ids` to the folder's `.removed/` and update the index."""
    files = _files_to_remove(config, ids)
    trash = config.seeds_dir / REMOVED
    trash.mkdir(exist_ok=True)
    moved: list[tuple[Path, Path]] = []
    try:
        for path in files:
            target = trash / path.name
            if target.exists():  # an earlier removal of the same name stays restorable
                target = trash / time.strftime("%Y%m%d-%H%M%S") / path.name
                target.parent.mkdir(exist_ok=True)
            os.replace(path, target)
            moved.append((path, target))
        return build_index(config, embedder=embedder)
    except BaseException:
        for path, target in moved:
            os.replace(target, path)
        raise
