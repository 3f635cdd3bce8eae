"""Saved web pages and CMS exports as articles, and `index add` / `index remove`, on hand-written
fixtures (`tests/fixtures/imports/`: a French and an English saved news page with menus, cookie
banner, teasers, comments and footer; a JSONL and a CSV export)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from index import BuildConfig, build_index, load_index
from index.documents import ArticleError, Fields, read_corpus, read_documents
from index.manage import REMOVED, add_articles, remove_articles
from index.manifest import Manifest, StaleIndex
from test_index_cli import assert_one_line_error, run

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
CSV_FIELDS = Fields.parse("text=content,title=headline,url=link")
BOILERPLATE = {
    "lemonde-style.html": ["Nous utilisons des cookies", "500 millions", "Sur le même sujet", "parc des Glénan",
                           "Mentions légales", "La Matinale", "Breizh_Energie", "Plan du site", "gtag"],
    "guardian-style.htm": ["We use cookies", "£50 million", "Most viewed", "Storm Hollis", "Example News Ltd",
                           "harbourwatcher", "The Culture Weekly", "Privacy policy", "beacon"],
}
FACTS = {
    "lemonde-style.html": ["11 mars 2026", "412 millions d'euros", "240 mégawatts", "Yannick Le Goff",
                           "180 000 foyers", "Hydrolis"],
    "guardian-style.htm": ["4 February 2026", "£38 million", "Priya Raman", "12,000 objects", "Saint Brigid"],
}


@pytest.mark.parametrize("name", sorted(BOILERPLATE))
def test_a_saved_page_keeps_its_story_and_leaves_the_page_around_it_out(name: str) -> None:
    (doc,), skipped, _ = read_documents(FIXTURES / name)
    indexed = " ".join(doc.span_text(s) for s in doc.body)
    assert not skipped
    assert all(fact in indexed for fact in FACTS[name])
    assert not [b for b in BOILERPLATE[name] if b in doc.text]
    assert "Lire aussi" not in indexed and "Related:" not in indexed  # inline links to other stories
    assert doc.url is not None and doc.url.startswith(("https://www.exemple-journal.fr/", "https://www.example-news.co.uk/"))
    assert doc.date == ("2026-03-12" if name.endswith(".html") else "2026-02-04")
    assert doc.lang == ("fr" if name.endswith(".html") else "en")
    assert doc.author in ("Claire Martin", "Tom Hadley") and "Port" in doc.title


def test_an_export_gives_one_article_per_row_with_its_fields() -> None:
    docs, skipped, _ = read_documents(FIXTURES / "export.jsonl", Fields.parse("text=body,date=published_at"))
    assert [d.doc_id for d in docs] == ["export.jsonl#cms-1041", "export.jsonl#cms-1057", "export.jsonl#cms-1063"]
    assert [d.lang for d in docs] == ["fr", "fr", "en"] and docs[0].date == "2026-01-20" and not skipped
    assert all(d.url and d.url.startswith("http") and d.source == "export.jsonl" for d in docs)
    assert "Sophie Arnaud" in docs[0].text and "\n\n" in docs[0].text  # paragraphs kept apart
    rows, _, _ = read_documents(FIXTURES / "export.csv", CSV_FIELDS)
    assert [d.doc_id for d in rows] == ["export.csv#art-2201", "export.csv#art-2202"]
    assert "Hélène Vasseur" in rows[0].text and '"a lifeline, not a luxury"' in rows[1].text
    assert rows[0].title.startswith("À Tours,") and rows[1].lang == "en"


def test_an_export_without_its_text_field_names_the_fields_it_has() -> None:
    with pytest.raises(ArticleError, match=r"export.csv has no 'text' field \(it has: content, date, headline, "
                                           r"id, link\); name the text's field with --fields text=NAME"):
        read_documents(FIXTURES / "export.csv")


def test_bad_rows_are_left_out_with_their_reason(tmp_path: Path) -> None:
    lines = [{"id": "a", "text": "Premier article, assez long pour être lu comme un article."},
             {"id": "a", "text": "Un autre texte avec le même identifiant que le premier."},
             {"id": "b", "text": ""}]
    (tmp_path / "cms.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    docs, skipped, _ = read_documents(tmp_path / "cms.jsonl")
    assert [d.doc_id for d in docs] == ["cms.jsonl#a"]
    assert [s.doc_id for s in skipped] == ["cms.jsonl#a", "cms.jsonl#b"]
    assert "repeats the id 'a'" in skipped[0].reason and "has no text" in skipped[1].reason
    (tmp_path / "cms.jsonl").write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ArticleError, match=r"cms.jsonl line 2 is not JSON"):
        read_documents(tmp_path / "cms.jsonl")


def test_a_semicolon_export_from_a_french_spreadsheet_is_read(tmp_path: Path) -> None:
    body = "Le conseil municipal a voté; le budget, de 12 millions d'euros, est adopté.\n\nLes travaux commencent en mai."
    (tmp_path / "export.csv").write_text(f'id;texte;date\r\n7;"{body}";2026-04-02\r\n', encoding="utf-8-sig")
    (doc,), _, _ = read_documents(tmp_path / "export.csv", Fields.parse("text=texte"))
    assert doc.doc_id == "export.csv#7" and doc.text == body and doc.date == "2026-04-02"


def test_a_page_that_is_not_html_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.html").write_text("Just a line of plain text, saved with the wrong name.", encoding="utf-8")
    with pytest.raises(ArticleError, match=r"notes.html does not look like a web page \(no HTML tags\); rename it"):
        read_documents(tmp_path / "notes.html")


def test_a_page_with_no_article_is_refused_not_indexed_as_its_menu(tmp_path: Path) -> None:
    (tmp_path / "menu.html").write_text('<html><head><title>Menu</title></head><body><nav><a href="/">Accueil</a>'
                                        "</nav><footer>© 2025</footer></body></html>", encoding="utf-8")
    with pytest.raises(ArticleError, match=r"menu.html holds no article text that could be told from the page"):
        read_documents(tmp_path / "menu.html")


def test_a_jsonl_string_may_hold_unicode_line_separators(tmp_path: Path) -> None:
    row = {"id": "x", "text": "Premier paragraphe\u2028même paragraphe, ligne suivante.\x85 Fin de l'article."}
    (tmp_path / "cms.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    (doc,), skipped, _ = read_documents(tmp_path / "cms.jsonl")
    assert doc.doc_id == "cms.jsonl#x" and not skipped


def test_fields_option_is_checked() -> None:
    assert Fields.parse("text=body, date=published_at").date == "published_at"
    with pytest.raises(ValueError, match=r"--fields 'txt=body' is not understood at 'txt=body'"):
        Fields.parse("txt=body")
    mixed = Fields.parse("text=body").merged(Fields.parse("text=content"))
    assert mixed.get({"content": "x"}, "text") == "x" and mixed.get({"text": "y"}, "text") == "y"


@pytest.fixture()
def library(tmp_path: Path) -> BuildConfig:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEEDS_DIR / sorted(p.name for p in SEEDS_DIR.glob("*.txt"))[0], folder)
    shutil.copy(FIXTURES / "lemonde-style.html", folder)
    return BuildConfig(folder, tmp_path / "index", progress=False, fields=CSV_FIELDS)


def test_pages_and_exports_are_answered_with_exact_offsets_and_their_url(library: BuildConfig, embedder) -> None:
    from qa import Pipeline

    build_index(library, embedder=embedder)
    report = add_articles(library, [FIXTURES / "export.csv", FIXTURES / "guardian-style.htm"], embedder=embedder)
    assert report.added == ("export.csv#art-2201", "export.csv#art-2202", "guardian-style.htm")
    assert len(report.kept) == 2  # only the new articles were embedded
    pipeline = Pipeline.load(library.index_dir, embedder=embedder)
    for question, doc_id in (("Combien a coûté l'usine marémotrice de Port-Kerlan ?", "lemonde-style.html"),
                             ("How many instruments does the Médiathèque des Tanneurs lend?", "export.csv#art-2201"),
                             ("Who was the lead architect of the Harwick Maritime Museum?", "guardian-style.htm")):
        answer = pipeline.ask(question)
        assert not answer.abstained and answer.citations[0].doc_id == doc_id, question
        for c in answer.citations:
            assert pipeline.documents[c.doc_id].text[c.start:c.end] == c.quote
            assert c.url == pipeline.documents[c.doc_id].url and c.url.startswith("https://")


def test_add_refuses_what_it_cannot_add_and_changes_nothing(library: BuildConfig, embedder, tmp_path: Path) -> None:
    build_index(library, embedder=embedder)
    before = (sorted(p.name for p in library.seeds_dir.iterdir()), Manifest.load(library.index_dir).documents)
    copy = tmp_path / "copy.htm"
    shutil.copy(FIXTURES / "lemonde-style.html", copy)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "empty.txt").write_text("   ", encoding="utf-8")
    cases = {copy: "repeats the article lemonde-style.html", FIXTURES / "lemonde-style.html": "already in",
             tmp_path / "notes.pdf": "is not an article file", tmp_path / "empty.txt": "is empty"}
    for path, problem in cases.items():
        with pytest.raises(ArticleError, match=problem):
            add_articles(library, [FIXTURES / "export.csv", path], embedder=embedder)
        assert (sorted(p.name for p in library.seeds_dir.iterdir()),
                Manifest.load(library.index_dir).documents) == before, path


def test_remove_moves_the_file_aside_and_refuses_one_row_of_an_export(library: BuildConfig, embedder) -> None:
    add_articles(library, [FIXTURES / "export.csv"], embedder=embedder)
    with pytest.raises(ArticleError, match=r"export.csv#art-2201 is one row of the export export.csv; delete "):
        remove_articles(library, ["export.csv#art-2201"], embedder=embedder)
    with pytest.raises(ArticleError, match=r"No article file 'nope.txt'"):
        remove_articles(library, ["nope.txt"], embedder=embedder)
    report = remove_articles(library, ["export.csv"], embedder=embedder)
    assert report.removed == ("export.csv#art-2201", "export.csv#art-2202") and not report.added
    assert (library.seeds_dir / REMOVED / "export.csv").is_file()
    assert set(load_index(library.index_dir).documents) == {p.name for p in library.seeds_dir.iterdir() if p.is_file()}


def test_removing_every_article_is_refused_and_moves_nothing(library: BuildConfig, embedder) -> None:
    build_index(library, embedder=embedder)
    names = sorted(p.name for p in library.seeds_dir.iterdir() if p.is_file())
    with pytest.raises(ArticleError, match=rf"Removing {len(names)} article\(s\) would leave .* with none, and an index "
                                           r"needs at least one; add an article first"):
        remove_articles(library, names, embedder=embedder)
    assert sorted(p.name for p in library.seeds_dir.iterdir() if p.is_file()) == names
    assert set(load_index(library.index_dir).documents) == set(names)


def test_updates_keep_the_index_model_and_chunking_and_every_removed_copy(library: BuildConfig, embedder) -> None:
    from index import ChunkConfig
    from index.manage import config_for

    build_index(replace(library, chunking=ChunkConfig(500, 80)), embedder=embedder)
    config = config_for(library.seeds_dir, library.index_dir, progress=False)
    assert config.chunking == ChunkConfig(500, 80) and "content" in config.fields.text.split("|")
    report = add_articles(config, [FIXTURES / "guardian-style.htm"], embedder=embedder)
    assert len(report.kept) == 2 and Manifest.load(library.index_dir).chunking["size"] == 500
    remove_articles(config, ["guardian-style.htm"], embedder=embedder)
    add_articles(config, [FIXTURES / "guardian-style.htm"], embedder=embedder)
    remove_articles(config, ["guardian-style.htm"], embedder=embedder)
    assert len(list((library.seeds_dir / REMOVED).rglob("guardian-style.htm"))) == 2  # none overwritten


def test_an_edited_export_makes_the_index_stale_by_its_file_name(library: BuildConfig, embedder) -> None:
    add_articles(library, [FIXTURES / "export.csv"], embedder=embedder)
    manifest = Manifest.load(library.index_dir)
    manifest.check_seeds(library.seeds_dir)
    path = library.seeds_dir / "export.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("3 200", "3 300"), encoding="utf-8")
    with pytest.raises(StaleIndex, match=r"changed: export.csv"):
        manifest.check_seeds(library.seeds_dir)
    report = build_index(library, embedder=embedder)
    assert report.changed == ("export.csv#art-2201",) and "export.csv#art-2202" in report.kept
    assert len(read_corpus(library.seeds_dir, CSV_FIELDS).documents) == 4


def test_cli_add_and_remove(tmp_path: Path) -> None:
    folder, index_dir = tmp_path / "articles", tmp_path / "index"
    args = ("--seeds", str(folder), "--index-dir", str(index_dir), "--quiet")
    added = run("add", str(FIXTURES / "export.jsonl"), *args, "--fields", "text=body,date=published_at")
    assert added.returncode == 0, added.stderr
    assert "added: export.jsonl#cms-1063" in added.stdout and "3 added" in added.stdout
    assert (folder / "export.jsonl").stat().st_mode & 0o777 == (FIXTURES / "export.jsonl").stat().st_mode & 0o777
    assert Manifest.load(index_dir).fields["text"].startswith("body")
    again = run("add", str(FIXTURES / "export.csv"), *args, "--fields", "text=content,title=headline")
    assert again.returncode == 0 and "3 kept" in again.stdout, again.stderr  # the JSONL's mapping is kept
    line = assert_one_line_error(run("remove", "export.jsonl#cms-1041", *args))
    assert "is one row of the export export.jsonl" in line
    gone = run("remove", "export.jsonl", *args)
    assert gone.returncode == 0 and "removed: export.jsonl#cms-1041" in gone.stdout and ".removed" in gone.stdout
    assert "export.csv#art-2201" in run("info", "--index-dir", str(index_dir)).stdout
    assert "is not understood" in assert_one_line_error(run("add", str(FIXTURES / "export.csv"), *args,
                                                            "--fields", "body"))
