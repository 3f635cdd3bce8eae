"""A synthetic archive of any size, written without the model: real sentences (the seeds and
the dev set) recombined into articles, with vectors made from their real embeddings.

Each synthetic article draws its chunks from one real article: a chunk is a run of three to
five consecutive real sentences of it, starting anywhere.

A few thousand real sentences are embedded once (cached under ~/.cache/newsqa/bench, keyed by
the model fingerprint and the texts). Each synthetic sentence is a real one, its vector the real
vector plus a small Gaussian perturbation (cosine about 0.95 to it), renormalised; each chunk's
vector is the normalised mean of its sentences' plus a smaller perturbation. The texts, offsets,
dates and languages are those of real articles' rows; BM25 is built from each chunk's analysed
sentences (analysed once per distinct sentence)."""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from index.analyzer import analyze
from index.chunking import Chunk
from index.documents import Document, Span, read_corpus
from index.embedder import Embedder
from index.sentences import Sentence, document_sentences
from index.writer import StagedWriter

__all__ = ["BaseSentences", "base_sentences", "write_archive", "synthetic_corpus"]

log = logging.getLogger(__name__)

CHUNKS_PER_ARTICLE = 8
_SENTENCE_NOISE = 0.33   # norm of the perturbation of a unit vector: cosine ~0.95
_CHUNK_NOISE = 0.15
_MAX_BASE = 4000


@dataclass(frozen=True)
class BaseSentences:
    texts: tuple[str, ...]
    langs: tuple[str, ...]
    vectors: np.ndarray  # float32, L2-normalised, row i embeds texts[i]
    articles: tuple[tuple[int, int], ...] = ()  # rows [first, stop) of each real article, in reading order


def _real_sentences(folders: list[Path]) -> list[list[tuple[str, str]]]:
    """Sentences of each real article, in reading order (each sentence once)."""
    seen: set[str] = set()
    articles = []
    for folder in folders:
        if folder.is_dir():
            for doc in read_corpus(folder).documents:
                kept = [(s.text, doc.lang) for s in document_sentences(doc)
                        if 40 <= len(s.text) <= 400 and s.text.rstrip().endswith((".", "!", "»", "”", '"'))
                        and s.text not in seen]
                seen.update(t for t, _ in kept)
                if len(kept) >= 3:
                    articles.append(kept)
    return articles


def base_sentences(folders: list[Path], embedder: Embedder, cache_dir: Path) -> BaseSentences:
    """Real sentences of `folders` and their real embeddings (computed once, then cached)."""
    articles, total = [], 0
    for article in _real_sentences(folders):
        if total + len(article) > _MAX_BASE:
            break
        articles.append(article)
        total += len(article)
    if not articles:
        raise ValueError(f"no sentences found in {', '.join(map(str, folders))}; pass folders of .txt articles.")
    pairs = [pair for article in articles for pair in article]
    bounds = np.cumsum([0] + [len(a) for a in articles]).tolist()
    texts, langs = tuple(t for t, _ in pairs), tuple(lang for _, lang in pairs)
    key = hashlib.sha256("\x00".join((embedder.spec.fingerprint, *texts)).encode()).hexdigest()[:16]
    path = cache_dir / f"base-{key}.npy"
    if path.is_file():
        vectors = np.load(path, allow_pickle=False)
    else:
        log.info("embedding %d real sentences once (cached in %s)", len(texts), path)
        vectors = embedder.embed_passages(list(texts), progress=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors, allow_pickle=False)
    return BaseSentences(texts, langs, vectors.astype(np.float32), tuple(zip(bounds[:-1], bounds[1:])))


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _article(i: int, picks: list[list[int]], base: BaseSentences, date: str) -> tuple[Document, list[Chunk],
                                                                                       list[Sentence]]:
    """Article i: a headline, then one paragraph per chunk made of the picked sentences."""
    doc_id, lang = f"synthetic_{i:07d}.txt", base.langs[picks[0][0]]
    title = base.texts[picks[0][0]].rstrip(".")[:80]
    parts, chunks, sentences, at = [title, "\n\n"], [], [], len(title) + 2
    for p, paragraph in enumerate(picks):
        start = at
        for j, row in enumerate(paragraph):
            text = base.texts[row]
            sentences.append(Sentence(doc_id, at, at + len(text), text))
            parts.append(text)
            at += len(text)
            if j < len(paragraph) - 1:
                parts.append(" ")
                at += 1
        chunks.append(Chunk(doc_id, start, at, "", lang))
        if p < len(picks) - 1:
            parts.append("\n\n")
            at += 2
    text = "".join(parts) + "\n"
    chunks = [Chunk(c.doc_id, c.start, c.end, text[c.start : c.end], lang) for c in chunks]
    doc = Document(doc_id=doc_id, title=title, date=date, lang=lang, sha256=hashlib.sha256(text.encode()).hexdigest(),
                   text=text, body=(Span(len(title) + 2, len(text) - 1),), title_span=Span(0, len(title)))
    return doc, chunks, sentences


def _window(rng: np.random.Generator, first: int, stop: int, size: int) -> list[int]:
    """`size` consecutive sentences of one real article (from a random one of its sentences,
    wrapping round): a chunk reads like a passage, about one thing."""
    start = int(rng.integers(first, stop))
    return [first + (start - first + j) % (stop - first) for j in range(size)]


def write_archive(folder: Path, base: BaseSentences, chunks: int, seed: int = 7,
                  progress: bool = True) -> tuple[StagedWriter, list[list[str]], list[str], dict[str, dict]]:
    """Rows and vectors of a synthetic archive of `chunks` chunks into `folder`; returns the
    writer (to close), each chunk's BM25 tokens and language, and the articles' metadata (as
    the manifest lists them)."""
    rng = np.random.default_rng(seed)
    tokens_of = [analyze(t, lang) for t, lang in zip(base.texts, base.langs)]
    sizes = rng.integers(3, 6, size=chunks)  # sentences per chunk
    writer = StagedWriter(folder, base.vectors.shape[1], chunks, int(sizes.sum()))
    tokens: list[list[str]] = []
    langs: list[str] = []
    docs: dict[str, dict] = {}
    done = 0
    with tqdm(total=chunks, unit="chunk", desc="synthetic archive", disable=not progress) as bar:
        while done < chunks:
            n = min(CHUNKS_PER_ARTICLE, chunks - done)
            first, stop = base.articles[int(rng.integers(len(base.articles)))]
            picks = [_window(rng, first, stop, int(k)) for k in sizes[done : done + n]]
            date = f"{int(rng.integers(2015, 2026))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
            doc, doc_chunks, doc_sentences = _article(len(docs), picks, base, date)
            flat = [row for paragraph in picks for row in paragraph]
            noise = rng.standard_normal((len(flat), base.vectors.shape[1])).astype(np.float32)
            sentence_vectors = _normalise(base.vectors[flat] + noise * (_SENTENCE_NOISE / np.sqrt(noise.shape[1])))
            bounds = np.cumsum([0] + [len(p) for p in picks])
            means = np.stack([sentence_vectors[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
            noise = rng.standard_normal(means.shape).astype(np.float32) * (_CHUNK_NOISE / np.sqrt(means.shape[1]))
            chunk_vectors = _normalise(_normalise(means) + noise)
            writer.add(doc, doc_chunks, doc_sentences, chunk_vectors, sentence_vectors)
            tokens += [[t for row in paragraph for t in tokens_of[row]] for paragraph in picks]
            langs += [doc.lang] * n
            docs[doc.doc_id] = {"sha256": doc.sha256, "title": doc.title, "date": doc.date, "lang": doc.lang,
                                "chunks": n}
            done += n
            bar.update(n)
    return writer, tokens, langs, docs


# English sentences for the English articles of the synthetic corpus (the seeds are French).
_ENGLISH = (
    "North Korea has shipped more than 1,000 containers of military equipment to Russia, the White House said.",
    "Kim Jong Un met Vladimir Putin at a space launch centre in the Russian Far East.",
    "Officials in Washington said Moscow bought millions of rockets and artillery shells from Pyongyang.",
    "Analysts warned that the alliance could undermine the sanctions imposed by the United Nations.",
    "The Kremlin denied that any arms deal had been signed during the visit.",
    "South Korea's defence ministry said thousands of North Korean soldiers had been sent to Russia.",
    "China is wary of a northern triangle forming on the Korean peninsula.",
    "Sergei Shoigu travelled to Pyongyang for talks on security cooperation.",
    "The two leaders pledged to deepen military and economic ties despite international isolation.",
    "Russia vetoed the renewal of the panel of experts that monitored the sanctions.",
    "Pyongyang launched a reconnaissance satellite in November after two failed attempts.",
    "Western diplomats fear that Russia could share missile and submarine technology.",
    "The meeting marked the closest cooperation between the two countries since the Cold War.",
    "Experts said the shells were of poor quality but arrived in large numbers.",
    "Japan and South Korea strengthened their own defence cooperation with the United States.",
    "Moscow and Pyongyang signed a comprehensive strategic partnership treaty in June.",
    "The treaty includes a mutual defence clause in case either country is attacked.",
    "Trade between the two neighbours remains small compared with China's.",
    "Satellite images showed trains loaded with containers crossing the border at Tumangang.",
    "Ukraine said it had found fragments of North Korean missiles after strikes on Kharkiv.",
)


def synthetic_corpus(seeds: Path, folder: Path, articles: int, seed: int = 7) -> int:
    """Write `articles` deterministic articles into `folder` (one in four in English), made of
    shuffled seed sentences in paragraphs of two to four; returns the number of characters."""
    french = [s.text for d in read_corpus(seeds).documents for s in document_sentences(d) if len(s.text) > 40]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(articles):
        pool = list(_ENGLISH) if i % 4 == 3 else french
        picked = rng.sample(pool, min(len(pool), 30))
        title = picked[0].rstrip(".")[:80]
        paragraphs, rest = [], picked[1:]
        while rest:
            size = rng.randint(2, 4)
            paragraphs.append(" ".join(rest[:size]))
            rest = rest[size:]
        text = title + "\n\n" + "\n\n".join(paragraphs) + "\n"
        (folder / f"synthetic_{i:04d}.txt").write_text(text, encoding="utf-8")
        total += len(text)
    return total
