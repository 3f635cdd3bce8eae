"""Reading articles: languages, spans that index the raw text, and one clear message per bad file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from index.documents import MAX_ARTICLE_BYTES, ArticleError, read_corpus, read_document

SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"

ENGLISH = (
    "North Korea ships artillery shells to Russia\n\n"
    "North Korea has shipped artillery shells to Russia, officials said on Tuesday. "
    "Analysts expect more deliveries, and the White House declined to comment.\n"
)
FRENCH = (
    "La Corée du Nord livre des obus à la Russie\n\n"
    "La Corée du Nord a expédié des obus d’artillerie à la Russie, selon des responsables américains. "
    "Les analystes s’attendent à d’autres livraisons.\n"
)
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x00\x00\x00\x00IEND\xaeB`\x82")


def write(folder: Path, name: str, data: bytes | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_seeds_are_french_and_keep_their_bytes() -> None:
    corpus = read_corpus(SEEDS_DIR)
    assert [d.doc_id for d in corpus.documents] == sorted(p.name for p in SEEDS_DIR.glob("*.txt"))
    assert corpus.skipped == ()
    for doc in corpus.documents:
        raw = (SEEDS_DIR / doc.doc_id).read_bytes()
        assert doc.lang == "fr"
        assert doc.text == raw.decode("utf-8")
        assert doc.sha256 == hashlib.sha256(raw).hexdigest()


def test_english_article_is_detected_as_english(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "en.txt", ENGLISH))
    assert doc.lang == "en"
    assert read_document(write(tmp_path, "fr.txt", FRENCH)).lang == "fr"


def test_every_span_indexes_the_raw_text() -> None:
    for doc in read_corpus(SEEDS_DIR).documents:
        edges = [(s.start, s.end) for s in doc.body]
        assert edges == sorted(edges) and all(a < b for a, b in edges)
        assert all(prev[1] <= nxt[0] for prev, nxt in zip(edges, edges[1:]))
        for span in doc.body:
            text = doc.text[span.start : span.end]
            assert text == doc.span_text(span) and text == text.strip() and text
            assert not any(span.start < e.end and e.start < span.end for e in doc.excluded)
        if doc.title_span is not None:
            assert doc.text[doc.title_span.start : doc.title_span.end] == doc.title
            assert any(s.start <= doc.title_span.start and doc.title_span.end <= s.end for s in doc.body)


def test_long_first_sentence_gives_a_shortened_title_without_span() -> None:
    (path,) = SEEDS_DIR.glob("002_*.txt")
    doc = read_document(path)
    assert doc.title.startswith("Sergei Shoigu, haut responsable") and doc.title.endswith("…")
    assert len(doc.title) <= 91 and doc.title_span is None


# --- bad input: each gets one clear message naming the file -----------------------------------


def test_empty_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(ArticleError, match=r"No article to index in .*empty: it holds no article files"):
        read_corpus(folder)


def test_missing_folder_is_an_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match=r"nowhere does not exist; pass --seeds"):
        read_corpus(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("latin1.txt", "La Corée du Nord a été sanctionnée.".encode("latin-1"),
         r"latin1\.txt is not valid UTF-8 \(byte 6\) and looks like Windows-1252 \(Latin-1\) text; re-save it as "
         r"UTF-8, e\.g\. `iconv -f WINDOWS-1252 -t UTF-8 latin1\.txt > utf8-latin1\.txt`\."),
        ("broken.txt", b"North Korea \x81\x8d shells", r"broken\.txt is not valid UTF-8 \(byte 12\); re-save it as UTF-8"),
        ("empty.txt", b"", r"empty\.txt is empty"),
        ("blank.txt", b" \n\n\t\r\n", r"blank\.txt is empty"),
        ("image.txt", PNG, r"image\.txt looks binary"),
        ("nul.txt", b"North Korea\x00\x00\x00 shipped shells", r"nul\.txt looks binary \(it contains NUL bytes\)"),
        ("controls.txt", bytes(range(1, 9)) * 40, r"controls\.txt looks binary \(\d+ control characters\)"),
        ("menu.txt", "Home\nWorld\nPolitics\nSport\n", r"menu\.txt has no article text left"),
    ],
)
def test_bad_file_is_skipped_with_a_reason_naming_it(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(ArticleError, match=message):
        read_document(path)
    write(tmp_path, "good.txt", ENGLISH)
    corpus = read_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good.txt"]
    (skipped,) = corpus.skipped
    assert skipped.doc_id == name
    assert skipped.reason.startswith(name)


def test_huge_file_is_refused_without_being_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:  # sparse: instant, takes no disk space
        fh.truncate(MAX_ARTICLE_BYTES + 1)

    def refuse(self: Path) -> bytes:
        raise AssertionError(f"{self.name} was read into memory")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ArticleError, match=rf"huge\.txt is {MAX_ARTICLE_BYTES + 1:,} bytes, over the "
                                           rf"{MAX_ARTICLE_BYTES:,}-byte limit"):
        read_document(path)


def test_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    text = (FRENCH * (MAX_ARTICLE_BYTES // len(FRENCH.encode())))
    path = write(tmp_path, "big.txt", text)
    assert path.stat().st_size <= MAX_ARTICLE_BYTES
    assert read_document(path).lang == "fr"


def test_duplicate_article_is_skipped_naming_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a_original.txt", FRENCH)
    write(tmp_path, "b_copy.txt", FRENCH.replace("\n", "\r\n"))  # same story, other bytes
    corpus = read_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["a_original.txt"]
    (skipped,) = corpus.skipped
    assert skipped.doc_id == "b_copy.txt"
    assert "b_copy.txt duplicates a_original.txt" in skipped.reason


def test_folder_of_only_bad_files_raises_naming_each(tmp_path: Path) -> None:
    write(tmp_path, "empty.txt", b"")
    write(tmp_path, "latin1.txt", "Corée".encode("latin-1"))
    write(tmp_path, "image.txt", PNG)
    write(tmp_path, "notes.md", ENGLISH)  # not an article: named, so that a mistyped extension is seen
    with pytest.raises(ArticleError) as caught:
        read_corpus(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"No article to index in {tmp_path}")
    for name in ("empty.txt", "latin1.txt", "image.txt"):
        assert name in message
    assert "notes.md is not an article file" in message
    assert "\n" not in message and ".;" not in message


def test_a_file_given_as_the_articles_folder_is_named_as_a_file(tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text("Titre\n\nUn texte.", encoding="utf-8")
    with pytest.raises(ArticleError, match=r"article.txt is a file, not a folder of articles; pass --seeds with the "
                                           r"folder that holds it \(or add it to an index with `python -m index add`\)"):
        read_corpus(article)
