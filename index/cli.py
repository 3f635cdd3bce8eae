"""`python -m index build|add|remove|info|verify`: build the index from a folder of articles, add
article files to it or take articles out, describe it, or check every file of it against the
checksums its manifest recorded."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from index.build import BuildConfig, BuildReport, build_index
from index.chunking import ChunkConfig
from index.documents import ArticleError, Fields
from index.embedder import DEFAULT_MODEL, resolve_model
from index.lock import DEFAULT_WAIT_S
from index.manage import add_articles, config_for, remove_articles
from index.manifest import IndexDamaged, IndexNotReady, Manifest
from index.qdrant_export import sync_index
from index.qdrant_target import STORE_HELP, open_index, parse_store
from index.ray_embed import RayBuildError, RayEmbedder, RaySettings
from index.storage import load_index

__all__ = ["main"]

log = logging.getLogger("index")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build or update the index from the articles")
    add = sub.add_parser("add", help="copy article files into the articles folder and update the index")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".txt, .html, .htm, .jsonl or .csv files")
    remove = sub.add_parser("remove", help="take articles out (their files go to the folder's .removed/) and "
                                           "update the index")
    remove.add_argument("ids", nargs="+", metavar="DOC_ID", help="article ids, as `index info` lists them")
    for command in (build, add, remove):
        command.add_argument("--seeds", type=Path, default=Path("seeds"),
                             help="folder of articles: .txt, saved .html/.htm pages, .jsonl/.csv exports")
        command.add_argument("--index-dir", type=Path, default=Path("var/index"))
        command.add_argument("--fields", metavar="NAME=COLUMN,...",
                             help="where exports keep each part of an article, e.g. text=body,date=published_at "
                                  "(names: text, id, title, date, url, lang; added to those the index was built "
                                  "with; a part's own name is always read too)")
    build.add_argument("--model", default=DEFAULT_MODEL, help="sentence-transformers model id or local path")
    build.add_argument("--chunk-size", type=int, default=ChunkConfig.size)
    build.add_argument("--chunk-overlap", type=int, default=ChunkConfig.overlap)
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.add_argument("--wait", type=float, default=DEFAULT_WAIT_S, metavar="SECONDS",
                       help="how long to wait for another build of the same folder to end (default: %(default)g)")
    build.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                       help="embed on a Ray cluster: `local` (the default: a Ray started here with this machine's "
                            "cores), `auto` (the cluster this machine belongs to) or ray://HOST:PORT; needs the "
                            "`ray` extra")
    build.add_argument("--ray-actors", type=int, metavar="N", help="Ray actors (default: one per CPU, or per GPU)")
    build.add_argument("--ray-gpus-per-actor", type=float, default=0.0, metavar="G",
                       help="GPUs each actor asks for (> 0: actors embed with sentence-transformers on CUDA)")
    build.add_argument("--store", metavar="STORE",
                       help="also write the index to Qdrant: qdrant+local:DIR or qdrant://HOST:PORT[?collection=NAME"
                            "&api_key_env=VAR] (built in --index-dir first, which keeps unchanged articles' vectors)")
    info = sub.add_parser("info", help="describe the index from its manifest")
    info.add_argument("--index-dir", type=Path, default=Path("var/index"))
    info.add_argument("--store", metavar="STORE", help=STORE_HELP)
    info.add_argument("--json", action="store_true")
    verify = sub.add_parser("verify", help="check every file of the index against its recorded checksum "
                                           "(exit 1 when one is damaged)")
    verify.add_argument("--index-dir", type=Path, default=Path("var/index"))
    for command in (add, remove):
        command.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _fields(args: argparse.Namespace) -> Fields:
    """--fields, then the names the index was built with (so exports added before still read)."""
    return config_for(args.seeds, args.index_dir, Fields.parse(args.fields)).fields


def _config(args: argparse.Namespace) -> BuildConfig:
    """For add and remove: the index's own model and chunking."""
    return config_for(args.seeds, args.index_dir, Fields.parse(args.fields), progress=not args.quiet)


def _print_report(report: BuildReport, index_dir: Path) -> None:
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for skipped in report.skipped:
        print(f"skipped: {skipped.reason}", file=sys.stderr)
    for label in ("added", "changed", "removed"):
        for doc_id in getattr(report, label):
            print(f"{label}: {doc_id}")
    print(f"index {index_dir}: {report.summary()}")


def _add(args: argparse.Namespace) -> int:
    _print_report(add_articles(_config(args), args.files), args.index_dir)
    return 0


def _remove(args: argparse.Namespace) -> int:
    _print_report(remove_articles(_config(args), args.ids), args.index_dir)
    print(f"the removed files are in {args.seeds / '.removed'}; move one back and build to restore it")
    return 0


def _build(args: argparse.Namespace) -> int:
    if not args.wait >= 0:   # also refuses nan
        raise ValueError(f"--wait {args.wait:g} is not a number of seconds; give 0 (do not wait) or more.")
    config = BuildConfig(args.seeds, args.index_dir, args.model, ChunkConfig(args.chunk_size, args.chunk_overlap),
                         progress=not args.quiet, lock_wait_s=args.wait, fields=_fields(args))
    embedder = None
    if args.ray:
        if (args.ray_actors is not None and args.ray_actors < 1) or args.ray_gpus_per_actor < 0:
            raise ValueError("--ray-actors must be at least 1 and --ray-gpus-per-actor at least 0.")
        embedder = RayEmbedder(resolve_model(args.model), RaySettings(args.ray, args.ray_actors,
                                                                       args.ray_gpus_per_actor))
    target = parse_store(args.store)  # a malformed --store fails before the build
    if args.store and target is None:
        raise ValueError(f"--store {args.store} is not a Qdrant address; for a folder, use --index-dir.")
    _print_report(build_index(config, embedder=embedder), args.index_dir)  # type: ignore[arg-type]
    if target is not None:
        written = sync_index(args.index_dir, target)
        print(f"Qdrant at {target.where()}: index {target.collection!r} "
              f"{'written' if written else 'already up to date'}")
    return 0


def _info(args: argparse.Namespace) -> int:
    manifest = open_index(args.store).manifest if args.store else Manifest.load(args.index_dir)
    if args.json:
        print(json.dumps(manifest.__dict__, ensure_ascii=False, indent=2))
        return 0
    print(f"index {args.store or args.index_dir} (format {manifest.format_version}, built {manifest.created})")
    print(f"model {manifest.model_id} ({manifest.dimension} dims, weights {manifest.model_fingerprint[:12]}), "
          f"embedded with {manifest.embedding_path} ({manifest.embedding_weights} weights, "
          f"{manifest.embedding.get('precision', 'fp32')} arithmetic)")
    print(f"chunks {manifest.counts['chunks']} of size {manifest.chunking['size']}, "
          f"overlap {manifest.chunking['overlap']}; articles from {manifest.seeds_dir}")
    for doc_id, doc in manifest.documents.items():
        url = f"  <{doc['url']}>" if doc.get("url") else ""
        print(f"  {doc_id}  {doc['lang']}  {doc['date'] or '-':10}  {doc['chunks']:3} chunks  {doc['title']}{url}")
    for doc_id, reason in manifest.skipped.items():
        print(f"  skipped {doc_id}: {reason}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        data = load_index(args.index_dir, full_check=True)
    except IndexDamaged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    files = data.manifest.files
    size = sum(int(info["size"]) for info in files.values())  # type: ignore[call-overload]
    print(f"index {args.index_dir} is intact: its {len(files)} files ({size / 1e6:.1f} MB) match their checksums.")
    return 0


_COMMANDS = {"build": _build, "add": _add, "remove": _remove, "info": _info, "verify": _verify}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    for printed_below in ("index.documents", "index.build"):  # skipped files and notes
        logging.getLogger(printed_below).setLevel(logging.ERROR)
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ArticleError, IndexNotReady, ValueError, RayBuildError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
