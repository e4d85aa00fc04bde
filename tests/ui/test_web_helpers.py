"""The web app's pure helpers: escaping, span highlighting, citation links, upload names and
logins. No browser, no model."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from types import SimpleNamespace

import pytest

from assistant.models import Answer, Citation, Passage
from index_build.core.errors import SettingsError, SourceError
from index_build.core.models import Document, Skipped
from index_build.sources import delete_source, list_sources, safe_source_name, save_upload
from index_build.status import IndexStatus
from ui.auth import parse_auth
from ui.render import (
    answer_html,
    answer_markdown,
    article_html,
    build_report_html,
    cite_ref,
    highlight_span,
    memo_preview_html,
    memo_status_html,
    parse_cite_ref,
    status_html,
    streaming_html,
    undated_note,
    updated_text,
)

HOSTILE = 'Intro <script>alert(1)</script> and <img src=x onerror="alert(2)"> end.'
DOC_ID = "5ca6616c1e1d6e3407aeb2b64ff88f57"


def doc(text: str = HOSTILE, **meta) -> Document:
    fields = dict(doc_id=DOC_ID, source="news/a.txt", text=text, content_hash="h", title="T <b>x</b>",
                  publisher="Pub & Co", published="2018-08-04", author="", url="")
    fields.update(meta)
    return Document(**fields)


def citation(n: int, start: int, end: int, text: str = HOSTILE) -> Citation:
    return Citation(n=n, chunk_id="c", doc_id=DOC_ID, source="news/a.txt", title="T <b>x</b>",
                    start=start, end=end, quote=text[start:end])


# -- escaping and highlighting ----------------------------------------------------------
def test_highlighted_span_is_escaped_and_marked():
    start = HOSTILE.index("<script>")
    end = HOSTILE.index("</script>") + len("</script>")
    out = highlight_span(HOSTILE, start, end)
    assert out.count("<mark") == 1 and out.count("</mark>") == 1
    assert '<mark id="cited">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in out
    assert "<script" not in out and "<img" not in out
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in out  # markupsafe's entities (Jinja2 autoescape)


def test_highlight_clamps_offsets_and_skips_an_empty_span():
    text = "abc <def>"
    assert highlight_span(text, 4, 999) == 'abc <mark id="cited">&lt;def&gt;</mark>'
    assert highlight_span(text, -5, 3) == '<mark id="cited">abc</mark> &lt;def&gt;'
    assert highlight_span(text, 5, 5) == "abc &lt;def&gt;"
    assert highlight_span(text, 7, 2) == "abc &lt;def&gt;"


def test_article_view_escapes_text_and_metadata():
    html = article_html(doc(), 0, 5)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "T &lt;b&gt;x&lt;/b&gt;" in html and "Pub &amp; Co" in html and "2018-08-04" in html
    assert "<code>news/a.txt</code>" in html
    assert '<mark id="cited">Intro</mark>' in html


def test_article_view_says_when_the_span_no_longer_fits():
    html = article_html(doc("short"), 10, 20)
    assert "no longer in this article" in html
    assert "<mark" not in html


# -- answers ----------------------------------------------------------------------------
def test_answer_markers_become_links_to_their_spans():
    text = "Intro one."
    answer = Answer(question="q", text="First <i>claim</i> [1] and second [2]. Unknown [9].", abstained=False,
                    citations=[citation(1, 0, 5, text), citation(2, 6, 9, text)])
    html = answer_html(answer)
    assert f'href="#cite:{DOC_ID}:0:5"' in html and f'href="#cite:{DOC_ID}:6:9"' in html
    assert ">[1]</a>" in html and ">[2]</a>" in html
    assert "Unknown [9]." in html  # a marker without a citation stays text
    assert "&lt;i&gt;claim&lt;/i&gt;" in html and "<i>" not in html
    assert "<code>news/a.txt</code>" in html and "Sources" in html


def test_abstention_lists_the_closest_passages_escaped():
    p = Passage(rank=1, chunk_id="c", doc_id=DOC_ID, source="news/a.txt", title="T", publisher="P",
                published=None, start=3, end=40, text=HOSTILE, score=0.1)
    answer = Answer(question="q", text="The sources don't say.", abstained=True, passages=[p])
    html = answer_html(answer)
    assert 'class="answer abstained"' in html and "The sources don&#39;t say." in html
    assert f'href="#cite:{DOC_ID}:3:40"' in html
    assert "<script" not in html and "&lt;script&gt;" in html


def test_streaming_text_is_escaped():
    assert "<script" not in streaming_html("<script>x</script> [1]")
    assert "&lt;script&gt;x&lt;/script&gt; [1]" in streaming_html("<script>x</script> [1]")


def test_markdown_copy_has_each_citation_with_file_and_quote():
    text = "Intro one."
    answer = Answer(question="q", text="Intro [1].", abstained=False, citations=[citation(1, 0, 5, text)])
    md = answer_markdown(answer)
    assert md.startswith("Intro [1].\n")
    assert "[1] T <b>x</b> — `news/a.txt`, characters 0–5" in md
    assert "> Intro" in md


@pytest.mark.parametrize("ref, expected", [
    (cite_ref(DOC_ID, 3, 9), (DOC_ID, 3, 9)),
    (f"{DOC_ID}:9:3", None),
    ("../../etc/passwd:0:1", None),
    (f"{DOC_ID}:1:2<script>", None),
    (None, None),
    (42, None),
])
def test_citation_references_from_the_browser_are_validated(ref, expected):
    assert parse_cite_ref(ref) == expected


# -- upload names -----------------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("report.txt", "report.txt"),
    ("C:\\Users\\me\\Desktop\\notes.md", "notes.md"),
    ("/etc/cron.d/evil.txt", "evil.txt"),
    ("C:\\fakepath\\a.txt", "a.txt"),
    ("good name (1).txt", "good_name_1.txt"),
    ("Zürich Élection.html", "Zürich_Élection.html"),
    ("feed.jsonl.gz", "feed.jsonl.gz"),
    ("semi;colon$and`tick`.txt", "semi_colon_and_tick.txt"),
])
def test_upload_names_are_made_safe(name, expected):
    assert safe_source_name(name) == expected


@pytest.mark.parametrize("name", ["../../etc/passwd.txt", "..\\..\\boot.ini.txt", "..txt", "a..b.txt", ".hidden.txt", "-rf.txt",
                                  "notes.exe", "noextension", "", "dir/", "x" * 200 + ".txt"])
def test_unsafe_or_unsupported_upload_names_are_refused(name):
    with pytest.raises(SourceError):
        safe_source_name(name)


def test_upload_is_saved_under_its_safe_name_and_size_is_limited(tmp_path):
    sources = tmp_path / "sources"
    upload = tmp_path / "upload.bin"
    upload.write_text("Headline\n\nBody.", encoding="utf-8")
    assert save_upload(upload, "C:\\fakepath\\My Article.txt", sources, max_mb=1) == ("My_Article.txt", False)
    assert (sources / "My_Article.txt").read_text(encoding="utf-8") == "Headline\n\nBody."
    assert save_upload(upload, "My Article.txt", sources, max_mb=1) == ("My_Article.txt", True)
    assert sorted(p.name for p in sources.iterdir()) == ["My_Article.txt"]
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(SourceError, match="limit is 0.001 MB"):
        save_upload(big, "big.txt", sources, max_mb=0.001)
    assert not (sources / "big.txt").exists()


def test_only_listed_sources_can_be_deleted(tmp_path):
    sources = tmp_path / "sources"
    (sources / "sub").mkdir(parents=True)
    (sources / "a.txt").write_text("A", encoding="utf-8")
    (sources / "sub" / "b.md").write_text("B", encoding="utf-8")
    outside = tmp_path / "keep.txt"
    outside.write_text("keep", encoding="utf-8")
    assert list_sources(sources) == ["a.txt", "sub/b.md"]
    for bad in ["../keep.txt", "missing.txt", "sub", str(outside)]:
        with pytest.raises(SourceError):
            delete_source(sources, bad)
    delete_source(sources, "sub/b.md")
    assert list_sources(sources) == ["a.txt"] and outside.exists()


# -- logins -----------------------------------------------------------------------------
def test_logins_come_from_the_flag_and_the_users_file(tmp_path):
    users = tmp_path / "users"
    users.write_text("# team\nalice:s3cret:with:colons\n\n bob : pw \n", encoding="utf-8")
    assert parse_auth(None, None) is None
    assert parse_auth("user:pass") == [("user", "pass")]
    assert parse_auth("user:pass", users) == [("user", "pass"), ("alice", "s3cret:with:colons"), ("bob", " pw")]


@pytest.mark.parametrize("flag", ["nopassword", "user:", ":pass"])
def test_malformed_logins_are_refused(flag):
    with pytest.raises(SettingsError, match="USER:PASSWORD"):
        parse_auth(flag)


def test_users_file_problems_name_the_file_and_line(tmp_path):
    users = tmp_path / "users"
    users.write_text("alice:pw\nbroken\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"users:2: expected USER:PASSWORD"):
        parse_auth(None, users)
    users.write_text("# nobody\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="no user:password lines"):
        parse_auth(None, users)


def test_serve_refuses_a_malformed_login_before_starting(tmp_path):
    from click.testing import CliRunner

    from ui.cli import main

    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "index"), "serve", "--auth", "nopassword"])
    assert result.exit_code == 1
    assert "error: --auth: expected USER:PASSWORD" in result.output
    assert "running at" not in result.output


# -- memo preview -----------------------------------------------------------------------
def test_memo_preview_markers_link_to_their_spans_for_the_viewer():
    memo = ('<article class="memo"><ul><li>Says &lt;b&gt; [1] and [2].'
            f'<sup class="cite"><a href="#cite-1" data-cite="{DOC_ID}:10:42" title="a.txt">[1]</a></sup>'
            '<sup class="cite"><a href="#cite-2" data-cite="nothex:1:2" title="b.txt">[2]</a></sup></li></ul>'
            '<ol class="citations"><li id="cite-1">q</li></ol></article>')
    html = memo_preview_html(memo)
    assert html.startswith('<div class="memo-preview"><article class="memo">')
    assert f'<a class="cite" href="#cite:{DOC_ID}:10:42" data-cite="{DOC_ID}:10:42" title="a.txt">[1]</a>' in html
    assert '<a href="#cite-2" data-cite="nothex:1:2"' in html  # a malformed reference is not a viewer link
    assert "Says &lt;b&gt;" in html and '<li id="cite-1">' in html


# -- what a new user meets (issue 14) ---------------------------------------------------
def test_a_date_that_is_not_one_is_an_input_mistake_named_by_its_field():
    from ui.forms import InputMistake
    from ui.forms import filters_of as _filters

    assert _filters(["a.txt"], [], " 2018-01-01 ", "2019").since == "2018-01-01"
    for since, until, said in (("yesterday", "", "“Published since”: 'yesterday' is not a date"),
                               ("", "2019-13-45", "“Published until”: '2019-13-45' is not a date"),
                               ("2020", "2019-06", "is after “Published until”")):
        with pytest.raises(InputMistake, match=re.escape(said)):
            _filters([], [], since, until)


def test_a_question_over_the_limit_is_refused_with_both_lengths():
    from ui.forms import MAX_QUESTION_CHARS, InputMistake
    from ui.forms import check_question as _check_question

    _check_question("q" * MAX_QUESTION_CHARS)
    with pytest.raises(InputMistake, match=r"limited to 1,000 characters and this one has 5,000"):
        _check_question("q" * 5000)


def test_the_filters_title_says_which_filters_are_on():
    from ui.forms import filters_label

    assert filters_label([], [], "", " ") == "Filters"
    assert filters_label([], [], "2018-01-01", "") == "Filters on: since 2018-01-01"
    assert filters_label(["a.txt", "b.txt"], ["Bloomberg"], "", "2019") == \
        "Filters on: until 2019, 2 sources, publisher Bloomberg"


def test_an_answer_under_a_date_filter_says_what_it_left_out():
    assert undated_note(0) == ""
    assert undated_note(1).startswith("1 undated document was left out by the date filter")
    note = undated_note(2)
    assert note.startswith("2 undated documents were left out by the date filter")
    abstained = Answer(question="q", text="The sources don't say.", abstained=True, passages=[])
    html = answer_html(abstained, note)
    assert html.index('class="abstain"') < html.index('class="filter-note"')
    assert note in answer_markdown(abstained, note)


def test_the_status_line_is_about_documents_and_time_not_internals():
    info = IndexStatus(documents=3, sources=2, chunks=11, embedder="minilm:all-MiniLM-L6-v2", dimension=384,
                       chunk_tokens=200, store="embedded:.briefing/chroma", index_dir=".briefing", generation=2,
                       skipped=())
    now = datetime(2026, 5, 3, 15, 0)
    html = status_html(info, updated=datetime(2026, 5, 3, 14, 5), now=now)
    line = html.split("</p>")[0]
    assert "3 documents</strong> from 2 source files, 11 passages · updated today at 14:05" in line
    assert "generation" not in html and "embedded:" not in html
    assert updated_text(datetime(2026, 5, 2, 9, 12), now) == "yesterday at 09:12"
    assert updated_text(datetime(2026, 4, 1, 9, 12), now) == "on 1 April 2026"
    assert "1 document</strong> from 1 source file, 1 passage" in status_html(
        dataclasses.replace(info, documents=1, sources=1, chunks=1))


def test_the_build_report_counts_the_files_it_lists():
    report = SimpleNamespace(seconds=0.4, added=1, updated=0, removed=0, unchanged=2, documents=4, chunks=12,
                             warnings=[], skipped=[Skipped("old.pdf", "is not a readable PDF")])
    html = build_report_html(report, ["Added a.txt"], [("-rf.txt", "names starting with '-' are not accepted")])
    assert "skipped" not in html
    assert "2 files not indexed:" in html and html.count("<li><code>") == 2


def test_an_empty_memo_says_there_is_nothing_to_download():
    empty = SimpleNamespace(citations=(), sources=())
    assert "Nothing to download" in memo_status_html(empty)
    full = SimpleNamespace(citations=(1, 2, 3), sources=(1,))
    assert "3 citations from 1 document" in memo_status_html(full)


def test_the_viewer_leads_back_to_the_answer():
    html = article_html(doc(), 0, 5)
    assert '<a class="back-to-answer" href="#back">' in html
    assert html.index("back-to-answer") < html.index("source-title")
