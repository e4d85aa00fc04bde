"""Every supported format is read into documents; bad files are skipped with a clear reason."""

from __future__ import annotations

import gzip
import json
import os
import zipfile
from pathlib import Path

import pytest

from index_build.build import build_index
from index_build.core.dates import normalize_date
from index_build.core.errors import SourceError
from index_build.read import read_bytes, read_source
from tests.conftest import SEED_000, article_text, open_record
from tests.samples import encrypt_pdf, make_docx, make_pdf

BODY = (
    "The special envoy travelled to Geneva on Sunday for a new round of talks on sanctions. "
    "Diplomats said they expected the meeting to last two days.\n\n"
    "“We remain open to negotiations,” a spokesman said."
)


def read(name: str, data: bytes, warnings: list | None = None):
    return read_bytes(name, data, warnings)


# -- plain text and front matter -------------------------------------------------------------
def test_plain_text_title_is_its_first_line():
    (doc,) = read("notes/a.txt", f"Envoy Heads To Geneva\n\n{BODY}\n".encode())
    assert doc.title == "Envoy Heads To Geneva"
    assert doc.source == "notes/a.txt"
    assert doc.text.startswith("Envoy Heads To Geneva\n\nThe special envoy")


def test_yaml_front_matter_overrides_metadata_and_is_not_in_the_text():
    data = (
        "---\ntitle: Front Matter Title\nauthor: Jane Doe\npublisher: Daily Planet\n"
        "date: 2020-03-04\nurl: https://example.org/a\n---\nA Different First Line\n\n" + BODY
    ).encode()
    (doc,) = read("a.md", data)
    assert (doc.title, doc.author, doc.publisher, doc.published, doc.url) == (
        "Front Matter Title", "Jane Doe", "Daily Planet", "2020-03-04", "https://example.org/a")
    assert "---" not in doc.text and "Jane Doe" not in doc.text
    assert doc.text.startswith("A Different First Line")


def test_toml_front_matter_overrides_metadata():
    data = ('+++\ntitle = "Toml Title"\npublished = 2021-05-06\nauthor = "T. Oml"\n+++\n' + BODY).encode()
    (doc,) = read("b.txt", data)
    assert (doc.title, doc.author, doc.published) == ("Toml Title", "T. Oml", "2021-05-06")
    assert "+++" not in doc.text and doc.text.startswith("The special envoy")


def test_broken_front_matter_is_treated_as_text_not_an_error():
    data = ("---\ntitle: [unclosed\n---\n" + BODY).encode()
    (doc,) = read("c.md", data)
    assert "The special envoy" in doc.text


# -- metadata from the lead lines ----------------------------------------------------------
def test_byline_and_date_lines_fill_author_publisher_and_date():
    (doc,) = read("ledger.txt", f"By Elena Marquez, Coastal Ledger / March 14, 2024\n\n{BODY}\n".encode())
    assert (doc.author, doc.publisher, doc.published) == ("Elena Marquez", "Coastal Ledger", "2024-03-14")
    assert doc.provenance == {"author": "byline", "publisher": "byline", "published": "byline",
                              "title": "lead sentence"}
    assert doc.title == "The special envoy travelled to Geneva on Sunday for a new round of talks on sanctions"
    assert doc.title_derived
    assert doc.text.startswith("By Elena Marquez")  # the byline stays citable


def test_a_dateline_gives_the_publisher_not_the_place():
    data = f"Envoy Heads To Geneva\nUpdated 2024-03-15\n\nGENEVA (Reuters) - {BODY}\n".encode()
    (doc,) = read("wire.md", data)
    assert (doc.title, doc.author, doc.publisher, doc.published) == ("Envoy Heads To Geneva", "", "Reuters",
                                                                     "2024-03-15")
    assert doc.provenance == {"title": "headline", "publisher": "dateline", "published": "date line"}
    assert not doc.title_derived


def test_a_date_deep_in_the_body_is_not_the_published_date():
    body = "\n\n".join([BODY] * 4)
    (doc,) = read("late.txt", f"Envoy Heads To Geneva\n\n{body}\n\nMarch 14, 2024\n".encode())
    assert doc.published is None and "published" not in doc.provenance


def test_front_matter_wins_over_the_byline():
    data = ("---\nauthor: Jane Doe\ndate: 2020-03-04\n---\nEnvoy Heads To Geneva\n"
            "By Elena Marquez, Coastal Ledger / March 14, 2024\n\n" + BODY).encode()
    (doc,) = read("a.md", data)
    assert (doc.author, doc.publisher, doc.published) == ("Jane Doe", "Coastal Ledger", "2020-03-04")
    assert doc.provenance == {"author": "metadata", "published": "metadata", "title": "headline",
                              "publisher": "byline"}


def test_html_meta_tags_win_over_a_byline_in_the_article():
    html = HTML.replace("<article><h1>Envoy Heads To Geneva For Talks</h1>",
                        "<article><h1>Envoy Heads To Geneva For Talks</h1><p>By Elena Marquez, Coastal Ledger</p>")
    (doc,) = read("page.html", html.encode())
    assert (doc.author, doc.publisher, doc.published) == ("Ada Reporter", "The Test Gazette", "2019-06-02")
    assert doc.provenance["author"] == doc.provenance["publisher"] == "metadata"


def test_provenance_is_kept_in_the_record_and_an_old_record_still_reads(settings, tmp_path, fake_embedder):
    folder = tmp_path / "lead"
    folder.mkdir()
    (folder / "ledger.txt").write_text(f"By Elena Marquez, Coastal Ledger / March 14, 2024\n\n{BODY}\n")
    build_index(settings, folder, embedder=fake_embedder)
    record = open_record(settings.index_dir)
    try:
        (doc,) = record.documents()
        assert doc.provenance["author"] == "byline" and doc.title_derived
        # an index written before provenance was kept: no such column
        record.db.execute("ALTER TABLE documents DROP COLUMN provenance")
    finally:
        record.close()
    from index_build.store.docstore import DocStore

    old = DocStore(settings.db_path, readonly=True)
    try:
        (doc,) = old.documents()
        assert (doc.author, doc.provenance) == ("Elena Marquez", {})
        assert old.document(doc.doc_id) == doc
    finally:
        old.close()
    report = build_index(settings, folder, embedder=fake_embedder)  # the writer adds the column back
    assert report.skipped == []
    record = open_record(settings.index_dir)
    try:
        assert record.documents()[0].author == "Elena Marquez"
    finally:
        record.close()


# -- HTML ------------------------------------------------------------------------------------
HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Envoy Heads To Geneva For Talks | The Test Gazette</title>
<meta name="author" content="Ada Reporter">
<meta property="og:site_name" content="The Test Gazette">
<meta property="og:title" content="Envoy Heads To Geneva For Talks">
<meta property="article:published_time" content="2019-06-02T10:00:00Z">
<style>.STYLE_MARK { color: red; }</style>
<script>var tracking = "SCRIPT_MARK";</script></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Envoy Heads To Geneva For Talks</h1>
<p>The special envoy travelled to Geneva on Sunday for a new round of talks on sanctions, officials
said, in a trip that had been on hold for weeks.</p>
<p>Diplomats from both sides said they expected the meeting to last two days and to cover trade,
energy exports and the return of workers.</p>
<p>“We remain open to negotiations,” a spokesman said.</p></article>
<script>document.write("SCRIPT_MARK_2")</script>
</body></html>"""


def test_html_article_text_and_metadata_without_scripts_or_styles():
    (doc,) = read("page.html", HTML.encode())
    assert doc.title == "Envoy Heads To Geneva For Talks"
    assert doc.publisher == "The Test Gazette"
    assert doc.author == "Ada Reporter"
    assert doc.published == "2019-06-02"
    assert "SCRIPT_MARK" not in doc.text and "STYLE_MARK" not in doc.text
    assert "“We remain open to negotiations,” a spokesman said." in doc.text
    assert doc.text.count("Envoy Heads To Geneva For Talks") == 1  # headline once, not twice


def test_htm_suffix_is_read_as_html():
    (doc,) = read("page.htm", HTML.encode("utf-8"))
    assert "travelled to Geneva" in doc.text


def test_html_without_article_text_is_skipped():
    with pytest.raises(SourceError) as e:
        read("empty.html", b"<html><head><script>x=1</script></head><body></body></html>")
    assert e.value.source == "empty.html"
    assert "no article text" in e.value.reason


# -- PDF -------------------------------------------------------------------------------------
PDF_LINES = [
    "Sanctions Talks Resume In Geneva",
    "Diplomats met on Monday to discuss the sanctions regime.",
    "They agreed to meet again next week (officials said).",
]


def test_pdf_text_and_info_metadata():
    (doc,) = read("report.pdf", make_pdf(PDF_LINES, title="PDF Title", author="Pdf Author"))
    assert doc.title == "PDF Title"
    assert doc.author == "Pdf Author"
    for line in PDF_LINES:
        assert line in doc.text


def test_pdf_without_info_title_uses_first_line():
    (doc,) = read("report.pdf", make_pdf(PDF_LINES))
    assert doc.title == "Sanctions Talks Resume In Geneva"


def test_pdf_encrypted_with_empty_user_password_is_read():
    (doc,) = read("open.pdf", encrypt_pdf(make_pdf(PDF_LINES), ""))
    assert "Diplomats met on Monday" in doc.text


# -- DOCX ------------------------------------------------------------------------------------
def test_docx_paragraphs_and_core_properties():
    data = make_docx(["Docx Headline Here", BODY.split("\n\n")[0], "Second paragraph of the story."],
                     title="Docx Title", author="Word Author")
    (doc,) = read("memo.docx", data)
    assert doc.title == "Docx Title"
    assert doc.author == "Word Author"
    assert doc.text.split("\n\n") == ["Docx Headline Here", BODY.split("\n\n")[0], "Second paragraph of the story."]


# -- JSONL collections -----------------------------------------------------------------------
def _jsonl_lines() -> list[str]:
    return [
        json.dumps({"id": "r1", "title": "JSON One", "text": "Text one here. Another sentence.",
                    "date": "2019-01-02", "author": "A. Writer", "publisher": "Wire", "url": "https://x/1"}),
        "{this is not json",
        json.dumps({"id": "r2", "text": "Second record text without a title.", "published": "March 5, 2018"}),
        json.dumps({"title": "a record with no text"}),
        "",
        json.dumps({"id": "r1", "text": "A repeated id."}),
        json.dumps({"text": "No id at all, so the line number names it."}),
    ]


@pytest.mark.parametrize("name", ["feed.jsonl", "feed.jsonl.gz"])
def test_jsonl_records_become_documents_and_bad_lines_are_warnings(name):
    data = "\n".join(_jsonl_lines()).encode()
    if name.endswith(".gz"):
        data = gzip.compress(data)
    warnings: list[str] = []
    docs = read(name, data, warnings)
    assert [d.record_id for d in docs] == ["r1", "r2", "line-7"]
    one, two, three = docs
    assert (one.title, one.author, one.publisher, one.published, one.url) == (
        "JSON One", "A. Writer", "Wire", "2019-01-02", "https://x/1")
    assert two.title == "Second record text without a title"
    assert two.published == "2018-03-05"
    assert len({d.doc_id for d in docs}) == 3
    assert all(d.source == name for d in docs)
    assert len(warnings) == 3
    assert any("line 2" in w and "not valid JSON" in w for w in warnings)
    assert any("line 4" in w and '"text"' in w for w in warnings)
    assert any("line 6" in w and "repeats id 'r1'" in w for w in warnings)
    assert all(w.startswith(name + ": ") for w in warnings)


def test_jsonl_with_no_usable_record_is_skipped():
    with pytest.raises(SourceError) as e:
        read("bad.jsonl", b'{"title": "no text"}\nnot json\n')
    assert "no usable records" in e.value.reason


def test_corrupt_gzip_is_skipped():
    with pytest.raises(SourceError) as e:
        read("bad.jsonl.gz", b"\x1f\x8b\x08\x00garbage-not-gzip")
    assert "gzip" in e.value.reason


@pytest.mark.parametrize(
    "value, iso",
    [("2017", "2017"), ("2017-9", "2017-09"), ("2017/09/12", "2017-09-12"), ("12 September 2017", "2017-09-12"),
     ("2017-02-30", None), ("not a date", None), (None, None), ("", None)],
)
def test_dates_normalize_to_iso(value, iso):
    assert normalize_date(value) == iso


# -- encodings through the reader ------------------------------------------------------------
def test_utf16_without_bom_and_cp1252_files_are_read(tmp_path):
    text = "Envoy In Zürich\n\nThe café’s owner said “we are naïve” — and the résumé was on the table."
    (a,) = read("a.txt", text.encode("utf-16-le"))
    (b,) = read("b.txt", text.encode("cp1252"))
    assert a.text == b.text == text


# -- bad input: each is skipped with a reason naming the file; the rest is indexed -----------
def _bad_files(folder: Path) -> dict[str, str]:
    """name → a word the reason must contain."""
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b"  \n\n\t\n")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 16)
    (folder / "undecodable.txt").write_bytes(bytes(range(0x80, 0x100)) * 8)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    (folder / "truncated.pdf").write_bytes(make_pdf(PDF_LINES)[:200])
    (folder / "scanned.pdf").write_bytes(make_pdf([]))
    (folder / "secret.pdf").write_bytes(encrypt_pdf(make_pdf(PDF_LINES), "letmein"))
    (folder / "corrupt.docx").write_bytes(b"PK\x03\x04this is not a zip file")
    (folder / "notword.docx").write_bytes(_zip_without_document())
    (folder / "huge.txt").write_bytes(b"word " * 240_000)  # 1.2 MB, over a 1 MB limit
    return {
        "empty.txt": "empty", "blank.md": "empty", "binary.txt": "not readable text",
        "undecodable.txt": "not readable text", "corrupt.pdf": "not a readable PDF",
        "truncated.pdf": "not a readable PDF", "scanned.pdf": "no extractable text",
        "secret.pdf": "encrypted", "corrupt.docx": "not a readable DOCX", "notword.docx": "not a readable DOCX",
        "huge.txt": "over the 1 MB limit",
    }


def _zip_without_document() -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("hello.txt", "a zip, but not a Word document")
    return out.getvalue()


def test_bad_files_are_skipped_with_reasons_and_good_ones_indexed(settings, seed_sources, fake_embedder):

    expected = _bad_files(seed_sources)
    (seed_sources / "notes.csv").write_text("a,b\n1,2\n")
    report = build_index(settings.replace(max_source_mb=1.0), embedder=fake_embedder)

    reasons = {item.source: item.reason for item in report.skipped}
    assert set(reasons) == set(expected) | {"notes.csv"}
    for name, word in expected.items():
        assert word in reasons[name], (name, reasons[name])
    assert "unsupported type" in reasons["notes.csv"]
    assert report.added == 2 and report.documents == 3 and report.chunks > 0
    for reason in reasons.values():
        assert "Traceback" not in reason and "\n" not in reason
    record = open_record(settings.index_dir)
    try:
        assert set(record.sources()) == {p.name for p in seed_sources.glob("*.txt")} - set(expected)
    finally:
        record.close()


def test_bad_files_are_retried_on_the_next_run(settings, seed_sources, fake_embedder):
    (seed_sources / "later.txt").write_bytes(b"")
    first = build_index(settings, embedder=fake_embedder)
    assert [s.source for s in first.skipped] == ["later.txt"]
    (seed_sources / "later.txt").write_text(article_text(7))
    second = build_index(settings, embedder=fake_embedder)
    assert (second.added, second.unchanged, second.skipped) == (1, 2, [])


def test_size_limit_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 3000)
    with pytest.raises(SourceError) as e:
        read_source(path, tmp_path, max_bytes=1000)
    assert e.value.source == "big.txt"
    assert "max_source_mb" in e.value.reason


def test_unreadable_file_is_skipped_with_permission_reason(settings, seed_sources, fake_embedder):
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading a file")
    locked = seed_sources / "locked.txt"
    locked.write_text(article_text(1))
    locked.chmod(0)
    try:
        report = build_index(settings, embedder=fake_embedder)
    finally:
        locked.chmod(0o644)
    assert [s.source for s in report.skipped] == ["locked.txt"]
    assert "permission denied" in report.skipped[0].reason
    assert report.added == 2


def test_unreadable_file_read_error_is_a_source_error(tmp_path, monkeypatch):
    """Permission errors while reading become a SourceError, even where chmod cannot cause them."""
    path = tmp_path / "locked.txt"
    path.write_text("Some text.")

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(SourceError) as e:
        read_source(path, tmp_path, max_bytes=10**6)
    assert e.value.source == "locked.txt"
    assert "permission denied" in e.value.reason


def test_missing_sources_folder_is_an_error_and_the_index_is_untouched(settings, fake_embedder, tmp_path):
    build_index(settings, embedder=fake_embedder)
    record = open_record(settings.index_dir)
    before = record.all_chunk_ids()
    record.close()
    with pytest.raises(SourceError) as e:
        build_index(settings, tmp_path / "no-such-folder", embedder=fake_embedder)
    assert "no-such-folder" in str(e.value)
    assert "sources folder not found" in e.value.reason
    record = open_record(settings.index_dir)
    try:
        assert record.all_chunk_ids() == before
    finally:
        record.close()


def test_indexed_file_that_turns_unreadable_keeps_its_chunks(settings, seed_sources, fake_embedder):
    build_index(settings, embedder=fake_embedder)
    record = open_record(settings.index_dir)
    before = record.chunk_ids_of_sources([SEED_000])
    record.close()
    assert before

    (seed_sources / SEED_000).write_bytes(bytes(range(256)) * 4)  # now binary garbage
    report = build_index(settings, embedder=fake_embedder)
    assert [s.source for s in report.skipped] == [SEED_000]
    assert (report.updated, report.removed, report.unchanged) == (0, 0, 1)
    record = open_record(settings.index_dir)
    try:
        assert record.chunk_ids_of_sources([SEED_000]) == before
        assert report.documents == 3
    finally:
        record.close()


def test_links_leading_outside_the_sources_folder_are_not_followed(settings, seed_sources, fake_embedder, tmp_path):
    outside = tmp_path / "private.txt"
    outside.write_text(article_text(3))
    (seed_sources / "link.txt").symlink_to(outside)
    report = build_index(settings, embedder=fake_embedder)
    assert [s.source for s in report.skipped] == ["link.txt"]
    assert "outside the sources folder" in report.skipped[0].reason


def test_hidden_files_and_folders_are_ignored(settings, seed_sources, fake_embedder):
    (seed_sources / ".draft.txt").write_text(article_text(4))
    (seed_sources / ".git").mkdir()
    (seed_sources / ".git" / "x.txt").write_text(article_text(5))
    (seed_sources / "sub").mkdir()
    (seed_sources / "sub" / "nested.md").write_text(article_text(6))
    report = build_index(settings, embedder=fake_embedder)
    assert report.skipped == []
    assert report.added == 3
    record = open_record(settings.index_dir)
    try:
        assert "sub/nested.md" in record.sources()
    finally:
        record.close()


def test_every_format_in_one_folder_is_indexed(settings, tmp_path, fake_embedder):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.txt").write_text(article_text(1))
    (folder / "b.md").write_text("---\ntitle: Markdown Piece\n---\n" + article_text(2))
    (folder / "c.html").write_text(HTML)
    (folder / "d.pdf").write_bytes(make_pdf(PDF_LINES, title="PDF Title"))
    (folder / "e.docx").write_bytes(make_docx(article_text(3).split("\n\n"), title="Docx Title"))
    (folder / "f.jsonl").write_text("\n".join(_jsonl_lines()))
    (folder / "g.jsonl.gz").write_bytes(gzip.compress("\n".join(_jsonl_lines()).encode()))
    report = build_index(settings, folder, embedder=fake_embedder)
    assert report.skipped == []
    assert report.added == 7
    assert report.documents == 5 + 3 + 3
    assert any("line 2" in w for w in report.warnings)
    record = open_record(settings.index_dir)
    try:
        titles = {d.source: d.title for d in record.documents()}
        assert titles["b.md"] == "Markdown Piece"
        assert titles["d.pdf"] == "PDF Title"
        assert titles["e.docx"] == "Docx Title"
        assert titles["c.html"] == "Envoy Heads To Geneva For Talks"
    finally:
        record.close()


def test_a_parser_crash_on_one_file_does_not_stop_the_build(settings, seed_sources, fake_embedder, monkeypatch):
    import index_build.pipeline as pipeline_module

    real = pipeline_module.read_source

    def flaky(path, root, max_bytes, warnings=None):
        if path.name == SEED_000:
            raise RuntimeError("parser exploded")
        return real(path, root, max_bytes, warnings)

    monkeypatch.setattr(pipeline_module, "read_source", flaky)
    report = build_index(settings, embedder=fake_embedder)
    assert [s.source for s in report.skipped] == [SEED_000]
    assert "RuntimeError: parser exploded" in report.skipped[0].reason
    assert report.added == 1 and report.documents == 2


def test_partial_dates_one_type_for_every_date_rule():
    """Issue 17: readers, filters, Chroma's date_key and the timeline read dates the same way."""
    from assistant.models import filter_date
    from assistant.nlp.dates import parse_published
    from index_build.core.dates import PartialDate, date_key

    assert PartialDate.parse("2019-3-5") == PartialDate(2019, 3, 5) and str(PartialDate(2019, 3)) == "2019-03"
    assert PartialDate.parse("2019-13") is None and PartialDate.parse("2019-02-30") is None
    assert PartialDate.parse("2019-00") is None and PartialDate.parse("2019-01-00") is None
    assert (date_key("2019"), date_key("2019", end=True), date_key("2019-03", end=True)) == (20190000, 20191231, 20190331)
    assert date_key(None) == 0
    with pytest.raises(ValueError):
        date_key("last week")
    assert filter_date(" 2019-03 ") == "2019-03"
    with pytest.raises(ValueError):
        filter_date("2019-02-30")
    assert parse_published("2017-09-12T10:00") == (2017, 9, 12) and parse_published("2017") == (2017, 0, 0)
    assert parse_published("undated") is None
