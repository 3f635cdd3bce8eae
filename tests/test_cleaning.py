"""Cleaning: navigation, teasers, tags and metadata are excluded by offsets, the story is kept.

The seeds carry real web noise; the small English articles show that the rules are about the
shape of the noise, not about these files."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.cleaning import find_exclusions, split_lines
from index.documents import Document, read_document

SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"


def seed(prefix: str) -> Document:
    (path,) = SEEDS_DIR.glob(f"{prefix}_*.txt")
    return read_document(path)


def body(doc: Document) -> str:
    return "\n".join(doc.span_text(s) for s in doc.body)


def excluded(doc: Document) -> list[str]:
    return [doc.text[e.start : e.end] for e in doc.excluded]


def article(tmp_path: Path, text: str, name: str = "article.txt") -> Document:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_document(path)


# --- the seeds --------------------------------------------------------------------------------


def test_000_table_of_contents_is_excluded_but_section_headings_are_kept() -> None:
    doc = seed("000")
    toc = doc.text[doc.text.index("Un rapprochement dangereux") : doc.text.index("\n\nLorsque le monde")]
    assert toc.count("\n") >= 15, "the fixture should be the multi-line table of contents"
    nav = [e for e in doc.excluded if e.reason == "navigation"]
    assert len(nav) == 1
    assert doc.text[nav[0].start : nav[0].end] == toc
    assert "Les craintes se sont concrétisées\n1 000 conteneurs" not in body(doc)
    # The same headings stand alone between paragraphs further down, and stay.
    assert "Les craintes se sont concrétisées\n\nLes craintes mondiales" in body(doc)
    assert "Sanctions en Corée du Nord\n\nMoscou a soutenu" in body(doc)


def test_000_et_aussi_trailer_is_excluded() -> None:
    doc = seed("000")
    assert excluded(doc)[-1] == "Et aussi"
    assert "Et aussi" not in body(doc)
    assert body(doc).endswith("selon Reuters.")


def test_000_title_is_the_headline() -> None:
    doc = seed("000")
    assert doc.title == "Faut-il s'inquiéter des nouvelles relations entre la Russie et la Corée du Nord ?"
    assert doc.title_span is not None and doc.span_text(doc.title_span) == doc.title


def test_001_trailing_site_tag_is_excluded() -> None:
    doc = seed("001")
    assert excluded(doc) == ["ttn-fr-56"]
    assert "ttn-fr-56" not in body(doc)
    assert body(doc).endswith("dans le camp américain.")


@pytest.mark.parametrize("teaser", ["Nvidia", "oignon", "British Council", "Disney", "Une vidéo de cette scène"])
def test_002_trailing_teasers_are_excluded(teaser: str) -> None:
    doc = seed("002")
    assert teaser in doc.text
    assert teaser not in body(doc)
    assert any(teaser in text for text in excluded(doc))


def test_002_story_ends_before_the_teasers() -> None:
    doc = seed("002")
    assert [e.reason for e in doc.excluded] == ["teasers"]
    teasers = excluded(doc)[0].splitlines()
    assert len(teasers) == 6 and all(line.endswith("…") for line in teasers)
    assert body(doc).endswith("en passant par l’Afrique.")


def test_004_leading_date_becomes_the_document_date_and_is_excluded() -> None:
    doc = seed("004")
    assert doc.date == "2024-03"
    assert doc.excluded[0].reason == "metadata"
    assert doc.text[doc.excluded[0].start : doc.excluded[0].end].strip() == "date 2024-03"
    assert doc.span_text(doc.body[0]).startswith("Les liens entre la Corée du Nord")
    assert "date" not in body(doc) and "2024-03" not in doc.title


def test_003_keeps_its_bullet_list_and_headings() -> None:
    doc = seed("003")
    bullets = [line.text for line in split_lines(doc.text) if line.text.startswith("- ")]
    assert len(bullets) == 4
    assert bullets[0].startswith("- L’implication croissante")
    for line in bullets + ["Un consensus satisfaisant pour renforcer les liens",
                           "Quel impact sur les équilibres régionaux et mondiaux ?"]:
        assert line in body(doc)
    assert doc.excluded == ()


def test_seeds_lose_nothing_but_their_exclusions() -> None:
    """Every non-blank character of every seed is either in the body or in an exclusion."""
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        doc = read_document(path)
        kept = [False] * len(doc.text)
        for start, end in [(s.start, s.end) for s in doc.body] + [(e.start, e.end) for e in doc.excluded]:
            kept[start:end] = [True] * (end - start)
        lost = [i for i, c in enumerate(doc.text) if not c.isspace() and not kept[i]]
        assert lost == [], f"{doc.doc_id} dropped {doc.text[lost[0]:lost[0] + 40]!r}"


# --- small English articles: the rules are general ------------------------------------------

STORY = (
    "North Korea ships artillery shells to Russia\n\n"
    "North Korea has shipped artillery shells to Russia, officials said on Tuesday. "
    "The shipments began last year.\n\n"
    "Analysts expect more deliveries. The White House declined to comment.\n"
)


def test_english_menu_block_is_excluded(tmp_path: Path) -> None:
    doc = article(tmp_path, "Home\nWorld\nPolitics\nBusiness\nSport\n\n" + STORY)
    assert excluded(doc) == ["Home\nWorld\nPolitics\nBusiness\nSport"]
    assert doc.title == "North Korea ships artillery shells to Russia"
    assert body(doc) == STORY.strip()


def test_english_read_more_trailer_is_excluded(tmp_path: Path) -> None:
    doc = article(tmp_path, STORY + "\nRead more\n")
    assert excluded(doc) == ["Read more"]
    assert body(doc) == STORY.strip()


def test_english_teasers_ending_in_three_dots_are_excluded(tmp_path: Path) -> None:
    teasers = "Apple unveils a new phone with a...\nThe humble spring onion, known for its...\n"
    doc = article(tmp_path, STORY + "\n" + teasers)
    assert excluded(doc) == [teasers.strip()]
    assert "onion" not in body(doc)


def test_tags_after_teasers_and_read_more_before_them_are_excluded(tmp_path: Path) -> None:
    tail = "Read more:\nApple unveils a new phone with a...\nThe humble spring onion, known for its...\nnews-en-12\n"
    doc = article(tmp_path, STORY + "\n" + tail)
    assert "\n".join(excluded(doc)) == tail.strip()
    assert [e.reason for e in doc.excluded] == ["trailer", "teasers", "trailer"]
    assert body(doc) == STORY.strip()


def test_two_teasers_in_the_middle_are_excluded_and_the_story_around_them_kept(tmp_path: Path) -> None:
    middle = "Apple unveils a new phone with a...\nThe humble spring onion, known for its...\n\n"
    text = STORY.replace("Analysts expect", middle + "Analysts expect")
    doc = article(tmp_path, text)
    assert excluded(doc) == [middle.strip()]
    assert "The shipments began last year." in body(doc) and body(doc).endswith("declined to comment.")


def test_normal_article_with_single_headings_loses_nothing(tmp_path: Path) -> None:
    text = (
        "North Korea and Russia\n\n"
        "North Korea has shipped artillery shells to Russia, officials said on Tuesday.\n\n"
        "A growing alliance\n\n"
        "Analysts expect more deliveries: 1,000 containers so far.\n\n"
        "What comes next\n\n"
        "- More shipments by rail\n- Talks on technology\n\n"
        "The White House declined to comment.\n"
    )
    assert find_exclusions(text) == []
    doc = article(tmp_path, text)
    assert body(doc) == text.strip()
    assert doc.title == "North Korea and Russia" and doc.lang == "en" and doc.date is None


def test_windows_line_endings_give_the_same_exclusions(tmp_path: Path) -> None:
    unix = "Home\nWorld\nPolitics\nBusiness\nSport\n\n" + STORY + "\nRead more\n"
    doc = article(tmp_path, unix.replace("\n", "\r\n"))
    assert excluded(doc) == ["Home\r\nWorld\r\nPolitics\r\nBusiness\r\nSport", "Read more"]
    for span in doc.body:
        assert not doc.span_text(span).startswith(("\r", "\n")) and not doc.span_text(span).endswith(("\r", "\n"))


def test_english_date_line_is_metadata(tmp_path: Path) -> None:
    doc = article(tmp_path, "Published: 2024-11-05\n" + STORY)
    assert doc.date == "2024-11-05"
    assert excluded(doc) == ["Published: 2024-11-05"]
    assert doc.title == "North Korea ships artillery shells to Russia"
