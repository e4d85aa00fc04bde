"""Briefing memos on the seeds (fake embedder): the sections, correctly attributed
positions, the pressure-vs-dialogue disagreement, exact citations, exports that read
back (Markdown anchors, DOCX through python-docx, escaped HTML), `briefing memo`, and
`briefing verify` before and after a source changes."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from tests.assistant_fixtures import build_seed_index
from tests.conftest import SEED_000, SEED_001

TOPIC = "Russia and the North Korea sanctions"
SECTION_KEYS = ["bottom_line", "developments", "positions", "disagreements", "unconfirmed", "timeline",
                "open_questions", "who_said_what"]
PORTS = """---
title: Envoys agree to reopen the northern harbour at Wonsan
publisher: Harbour Daily
date: 2019-03-04
---
Envoys met in Seoul on Monday to discuss reopening the northern harbour at Wonsan.
The talks ended with an agreement to reopen the harbour within six weeks, port officials said.
"""


def _assistant(settings):
    from assistant.answer.corpus import Corpus
    from assistant.answer.service import Assistant
    from tests.fakes import FakeEmbedder

    return Assistant(settings, corpus=Corpus(settings, embedder=FakeEmbedder()))


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory):
    return build_seed_index(tmp_path_factory.mktemp("memo"), {"ports.md": PORTS})


@pytest.fixture(scope="module")
def assistant(seed_settings):
    return _assistant(seed_settings)


@pytest.fixture(scope="module")
def memo(assistant):
    """The long memo (no length budget): every section's choices are visible."""
    from assistant.memo import write_memo

    return write_memo(assistant, TOPIC, long=True)


@pytest.fixture(scope="module")
def short_memo(assistant):
    """The memo as `briefing memo` writes it by default: within its word budget."""
    from assistant.memo import write_memo

    return write_memo(assistant, TOPIC)


def _bullets(memo, key=None):
    return [b for s in memo.sections if key in (None, s.key) for b in s.bullets]


def _quote(memo, bullet) -> str:
    return " ".join(memo.citation(n).quote for n in bullet.citations)


# -- sections and citations -------------------------------------------------------------------
def test_memo_has_every_section_with_title_and_date(memo):
    import datetime as dt

    assert [s.key for s in memo.sections] == SECTION_KEYS
    assert [s.title for s in memo.sections] == ["Bottom line", "Key developments", "Positions by actor",
                                                 "Where sources disagree", "Unconfirmed or disputed", "Timeline",
                                                 "Open questions", "Who said what"]
    assert all(s.bullets for s in memo.sections), [s.key for s in memo.sections if not s.bullets]
    assert memo.budget is None
    assert memo.title == f"Briefing: {TOPIC}"
    assert dt.datetime.fromisoformat(memo.generated).year >= 2024
    assert {s.source for s in memo.sources} == {SEED_000, SEED_001}  # the harbour article is off topic
    seed = next(s for s in memo.sources if s.source == SEED_000)
    assert (seed.publisher, seed.published) == ("The Washington Post", "2017")


def test_bottom_line_is_three_to_five_central_claims_from_different_passages(memo):
    bottom = memo.section("bottom_line").bullets
    assert 3 <= len(bottom) <= 5
    spans = [memo.citation(n) for b in bottom for n in b.citations]
    assert len({c.chunk_id for c in spans}) == len(spans)  # each from a different passage
    assert len({c.doc_id for c in spans}) == min(len(spans), len(memo.sources))  # across the sources
    # the claim the source marks as alleged says so
    alleged = [b for b in bottom if "allegedly" in b.text]
    assert all(b.label == "Alleged" for b in alleged)


def test_lexrank_prefers_the_claim_other_documents_echo():
    import numpy as np

    from assistant.memo.centrality import lexrank

    # three documents: two say nearly the same thing (0, 2), one statement stands alone (1, 3)
    vectors = np.array([[1.0, 0.1, 0.0], [0.0, 1.0, 0.2], [0.95, 0.15, 0.05], [0.1, 0.2, 1.0]])
    scores = lexrank(vectors, ["a", "a", "b", "c"], np.ones(4))
    assert scores.argmax() in (0, 2) and scores[3] < scores[0]
    # the topic bias moves the walk towards the on-topic statement
    biased = lexrank(vectors, ["a", "a", "b", "c"], np.array([0.0, 0.0, 0.0, 1.0]))
    assert biased[3] > scores[3]


def test_default_memo_is_shorter_than_a_quarter_of_its_sources(short_memo, memo, assistant):
    from assistant.memo.budget import MAX_WORDS, MIN_WORDS, SHARE, TRIMMED_NOTE
    from index_build.core.text import words

    cited = {c.doc_id for c in short_memo.citations}
    source_words = sum(len(words(assistant.corpus.document(d).text)) for d in cited)
    memo_words = sum(len(words(b.text)) - len(b.citations) + len(words(b.label)) for s in short_memo.sections
                     for b in s.bullets)
    memo_words += len({(s.key, b.group) for s in short_memo.sections for b in s.bullets if b.group}) * 6
    assert short_memo.budget is not None and short_memo.budget <= max(MIN_WORDS, min(MAX_WORDS, SHARE * source_words)) + 1
    assert memo_words <= short_memo.budget + 10, (memo_words, short_memo.budget)
    long_words = sum(len(words(b.text)) for s in memo.sections for b in s.bullets)
    assert long_words > 2 * memo_words  # the long memo is really longer
    # the bottom line is never cut; a section the budget emptied says so
    assert short_memo.section("bottom_line").bullets == memo.section("bottom_line").bullets
    assert any(s.note == TRIMMED_NOTE for s in short_memo.sections)
    assert short_memo.section("positions").bullets and short_memo.section("disagreements").bullets
    # no sentence is quoted twice in a short memo, but for the two sides of a disagreement
    spans = [n for s in short_memo.sections if s.key != "disagreements" for b in s.bullets for n in b.citations]
    assert len(spans) == len(set(spans))


def test_unconfirmed_or_disputed_holds_what_the_sources_mark_so(memo):
    items = memo.section("unconfirmed").bullets
    labels = {b.label for b in items}
    assert labels <= {"Alleged", "Denied", "Disputed", "Unverified", "Reportedly", "No response"}
    assert any(b.label == "No response" and "didn’t immediately respond" in b.text for b in items)
    # an unanswered request is not an open question
    assert not any("respond" in b.text for b in memo.section("open_questions").bullets)


def test_unconfirmed_marks():
    from assistant.memo.sections import unconfirmed_mark

    assert unconfirmed_mark("The ministry denied the report on Tuesday.") == "Denied"
    assert unconfirmed_mark("He allegedly met the envoy twice.") == "Alleged"
    assert unconfirmed_mark("The figures could not be independently verified.") == "Unverified"
    assert unconfirmed_mark("The company did not respond to a request for comment.") == "No response"
    assert unconfirmed_mark("Officials reportedly discussed a ceasefire.") == "Reportedly"
    assert unconfirmed_mark("The talks ended with an agreement to reopen the harbour.") is None
    # a speaker's own words mark nothing: only the reporter's
    assert unconfirmed_mark('He called the war a "territorial dispute" between the two.') is None


def test_every_bullet_is_cited_and_every_citation_is_exact(memo, assistant):
    used = set()
    for b in _bullets(memo):
        assert b.citations, b
        assert {int(m) for m in re.findall(r"\[(\d+)\]", b.text)} == set(b.citations), b.text
        used |= set(b.citations)
    assert [c.n for c in memo.citations] == list(range(1, len(memo.citations) + 1))
    assert used == {c.n for c in memo.citations}  # no citation that nothing cites
    valid = [assistant.corpus.document(c.doc_id).text[c.start:c.end] == c.quote for c in memo.citations]
    assert sum(valid) / len(valid) == 1.0
    assert len({(c.doc_id, c.start, c.end) for c in memo.citations}) == len(memo.citations)


def test_extractive_bullets_say_nothing_the_sources_do_not(memo):
    from assistant.memo import one_line

    for b in _bullets(memo):
        rest = b.text
        for n in b.citations:
            quote = one_line(memo.citation(n).quote)
            assert quote in rest, (quote, b.text)
            rest = rest.replace(f"{quote} [{n}]", "", 1)
        # what is left is at most a lead-in naming an actor ("Justin Higgins: ")
        assert len(rest.strip()) <= 40, rest


def test_positions_name_the_actors_with_correctly_attributed_words(memo):
    from assistant.answer.extractive import _speech_near

    positions = memo.section("positions").bullets
    groups = {b.group for b in positions}
    for name in ("Joseph Yun", "Igor Morgulov", "Michael Pompeo", "Ri Yong Ho", "Nikki Haley", "Donald Trump",
                 "Joel Wit", "Edward Royce", "Russian foreign ministry"):
        assert any(g.startswith(name) for g in groups), (name, groups)

    def of(name):
        return [b for b in positions if b.group.startswith(name)]

    for name, surname in [("Michael Pompeo", "Pompeo"), ("Ri Yong Ho", "Ri"), ("Nikki Haley", "Haley"),
                          ("Donald Trump", "Trump"), ("Joel Wit", "Joel Wit"), ("Edward Royce", "Edward Royce")]:
        own = [b for b in of(name) if b.label == "In their words"]
        assert own, name
        for b in own:  # the actor is the one speaking in the first (attribution) sentence
            quote = _quote(memo, b)
            assert re.search(r"[“”\"]", quote), quote
            statement = re.search(rf"\b{surname} (?:read out|issued) a statement\b", quote)  # no speech verb
            assert _speech_near(surname, quote) or statement, (name, quote)
    assert "simultaneous actions" in " ".join(_quote(memo, b) for b in of("Ri Yong Ho"))
    assert any("no easing of sanctions" in _quote(memo, b) for b in of("Nikki Haley"))
    # Yun speaks nowhere: his entries are sentences he is the subject of.
    for b in of("Joseph Yun"):
        assert b.label == "Reported" and re.match(r"^(Joseph Yun|Yun|As of last week, Yun)\b", _quote(memo, b))
    morgulov = " ".join(_quote(memo, b) for b in of("Igor Morgulov"))
    assert "meeting with Russian Deputy Foreign Minister Igor Morgulov" in morgulov
    ministry = " ".join(_quote(memo, b) for b in of("Russian foreign ministry"))
    assert "the ministry said" in ministry and "dialogue, not pressure" in ministry
    # no one is credited with someone else's quotation
    higgins = [b for b in positions if "increase pressure" in _quote(memo, b)]
    assert higgins and all(b.group.startswith("Justin Higgins") for b in higgins)


def _share_in_quotes(text: str) -> float:
    """Letters and digits inside quotation marks (“…” or "…"), over all of them."""
    inside, quoted, total = False, 0, 0
    for ch in text:
        if ch in "“”\"":
            inside = ch == "“" or (ch == '"' and not inside)
        elif ch.isalnum():
            total += 1
            quoted += inside
    return quoted / total if total else 0.0


def test_in_their_words_is_the_speakers_own_words_not_the_reporters(memo):
    """Issue 16: a reporter's sentence around a quoted fragment ("Pompeo said he had a “quick,
    polite exchange”…", "Ri read out a statement that…") is reported speech, not their words."""
    positions = memo.section("positions").bullets
    own = [b for b in positions if b.label == "In their words"]
    assert len(own) >= 6
    for b in own:
        quote = _quote(memo, b)
        assert _share_in_quotes(quote) >= 0.5, quote
    reported = " ".join(_quote(memo, b) for b in positions if b.label != "In their words")
    assert "quick, polite exchange" not in " ".join(_quote(memo, b) for b in own)
    assert "Ri read out a statement" not in " ".join(_quote(memo, b) for b in own)
    assert "Ri read out a statement" in reported or "simultaneous actions" in reported


def test_disagreement_states_pressure_against_dialogue(memo):
    section = memo.section("disagreements")
    pairs = {}
    for b in section.bullets:
        pairs.setdefault(b.group, []).append(b)
    found = [g for g, bs in pairs.items()
             if any("increase pressure" in _quote(memo, b) for b in bs)
             and any("dialogue, not pressure" in _quote(memo, b) for b in bs)]
    assert found, list(pairs)
    us, russia = sorted(pairs[found[0]], key=lambda b: "dialogue" in _quote(memo, b))
    assert us.text.startswith("Justin Higgins: ") and russia.text.startswith("Russian foreign ministry: ")
    assert "pressure" in found[0]


def test_timeline_resolves_dates_only_where_the_article_date_allows(memo, assistant):
    from assistant.memo import write_memo

    labels = [b.label for b in memo.section("timeline").bullets]
    # seed 000 is dated 2017 (no day): "on Monday" stays as written, marked relative
    monday = [b for b in memo.section("timeline").bullets if "made a quiet trip to Moscow on Monday" in b.text]
    assert monday and monday[0].label == "“on Monday” (relative; article dated 2017)"
    assert "2017 (published)" in labels
    dated = write_memo(assistant, "northern harbour Wonsan talks", long=True)
    assert {s.source for s in dated.sources} == {"ports.md"}
    assert "4 Mar 2019 (Monday)" in [b.label for b in dated.section("timeline").bullets]


def test_dates_in_text_resolve_against_a_full_article_date():
    from assistant.nlp.dates import find_dates

    def label(text, published):
        return [r.label for r in find_dates(text, published)]

    assert label("made a quiet trip to Moscow on Monday", "2017-09-12") == ["11 Sep 2017 (Monday)"]
    assert label("As of last week, the trip was on hold", "2017-09-12") == ["week of 4 Sep 2017"]
    assert label("Yun last visited Moscow in April.", "2017-09-12") == ["April 2017"]
    assert label("Yun last visited Moscow in April.", "2017") == ["April (no year given; article dated 2017)"]
    assert label("issued a statement on Friday", None) == ["“on Friday” (relative; article undated)"]
    assert label("signed on September 12, 2017 and again in June 2018", None) == ["12 Sep 2017", "June 2018"]


def test_open_questions_carry_doubt_and_unresolved_issues(memo):
    text = " ".join(b.text for b in memo.section("open_questions").bullets)
    assert "Others are skeptical there is enough common ground" in text
    assert "far apart" in text


def test_filters_narrow_the_memo_to_one_source(assistant):
    from assistant.memo import write_memo
    from assistant.models import Filters

    narrow = write_memo(assistant, TOPIC, Filters(sources=(SEED_000,)))
    assert narrow.citations and {c.source for c in narrow.citations} == {SEED_000}
    assert narrow.filters.sources == (SEED_000,)


def test_a_topic_the_sources_do_not_cover_gives_an_empty_memo_that_says_so(assistant):
    from assistant.memo import EMPTY_NOTES, write_memo

    empty = write_memo(assistant, "zebra migration in Kenya")
    assert not empty.citations and not empty.sources
    assert [(s.bullets, s.note) for s in empty.sections] == [((), EMPTY_NOTES[k]) for k in SECTION_KEYS]


def test_empty_topic_is_a_clear_error(assistant):
    from assistant.memo import write_memo
    from index_build.core.errors import BriefingError

    with pytest.raises(BriefingError, match="needs a topic"):
        write_memo(assistant, "   ")


def test_progress_is_reported_by_stage(assistant):
    from assistant.memo import write_memo

    seen = []
    write_memo(assistant, "Haley work permits", progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert {s for s, _, _ in seen} == {"gather", "write"}
    assert all(0 <= d <= t for _, d, t in seen) and seen[-1][1] == seen[-1][2]


def test_memo_json_round_trips(memo):
    from assistant.memo import memo_from_json

    data = json.loads(json.dumps(memo.as_json()))
    assert memo_from_json(data) == memo
    assert data["sections"][0]["bullets"][0]["citations"]


# -- exports ----------------------------------------------------------------------------------
def test_markdown_has_sections_and_anchors_that_parse_back(memo):
    from assistant.memo.anchors import parse_anchors, quote_sha256
    from assistant.memo.export import to_markdown

    md = to_markdown(memo)
    for heading in ["# Briefing: Russia and the North Korea sanctions", "## Bottom line", "## Positions by actor",
                    "### Michael Pompeo — US Secretary of State", "## Where sources disagree", "## Timeline",
                    "## Open questions", "## Sources", "## Citations"]:
        assert f"\n{heading}\n" in f"\n{md}", heading
    anchors = parse_anchors(md)
    assert [(a.n, a.doc_id, a.source, a.start, a.end, a.quote) for a in anchors] == [
        (c.n, c.doc_id, c.source, c.start, c.end, c.quote) for c in memo.citations]
    assert all(a.sha256 == quote_sha256(a.quote) for a in anchors)
    assert "\\[Secretary of State\\]" in md  # brackets in quotes cannot pose as citation markers
    assert "-->" not in md.replace(" -->\n", "")  # each anchor comment closes once


def test_docx_opens_with_real_headings_superscripts_and_anchors(memo, tmp_path):
    from docx import Document

    from assistant.memo.anchors import parse_anchors
    from assistant.memo.export import to_docx

    path = to_docx(memo, tmp_path / "memo.docx")
    doc = Document(str(path))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert ("Title", memo.title) in headings
    for title in ["Bottom line", "Key developments", "Positions by actor", "Where sources disagree", "Timeline",
                  "Open questions", "Sources", "Citations"]:
        assert ("Heading 1", title) in headings, title
    assert ("Heading 2", "Nikki Haley — Ambassador") in headings
    supers = [r.text for p in doc.paragraphs for r in p.runs if r.font.superscript]
    assert {str(c.n) for c in memo.citations} <= set(supers)
    hidden = [r for p in doc.paragraphs for r in p.runs if r.font.hidden]
    assert len(hidden) == len(memo.citations)
    anchors = parse_anchors("\n".join(p.text for p in doc.paragraphs))
    assert [(a.n, a.doc_id, a.start, a.end, a.quote) for a in anchors] == [
        (c.n, c.doc_id, c.start, c.end, c.quote) for c in memo.citations]
    assert doc.core_properties.title == memo.title and doc.core_properties.keywords == "briefing-memo"
    assert doc.core_properties.author == "Briefing" != "python-docx"
    import datetime as dt

    written = dt.datetime.fromisoformat(memo.generated).astimezone(dt.timezone.utc).replace(tzinfo=None)
    assert doc.core_properties.created.replace(tzinfo=None) == written  # the memo's own date, not the export's


def test_docx_citation_numbers_link_to_their_entries(memo, tmp_path):
    """Issue 16: every [n] in the text is an internal link to the bookmark on citation n."""
    from docx import Document
    from docx.oxml.ns import qn

    from assistant.memo.export import to_docx

    doc = Document(str(to_docx(memo, tmp_path / "memo.docx")))
    body = doc.element.body
    marks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    links = [(h.get(qn("w:anchor")), "".join(t.text for t in h.iter(qn("w:t")))) for h in body.iter(qn("w:hyperlink"))]
    assert links and all(anchor in marks for anchor, _ in links)  # no link points nowhere
    assert all(anchor == f"briefing_cite_{text}" for anchor, text in links)  # [3] goes to citation 3
    cited = {n for s in memo.sections for b in s.bullets for n in b.citations}
    assert {int(text) for _, text in links} == cited
    ids = [b.get(qn("w:id")) for b in body.iter(qn("w:bookmarkStart"))]
    assert len(ids) == len(set(ids)) == len(memo.citations)


def test_html_is_print_ready_and_escapes_source_text(memo):
    from dataclasses import replace

    from assistant.memo import Bullet, Section
    from assistant.memo.export import to_html
    from assistant.models import Citation

    html = to_html(memo)
    assert html.startswith("<!doctype html>") and "@media print" in html and "@page" in html
    assert '<h2>Where sources disagree</h2>' in html and 'href="#cite-1"' in html and 'id="cite-1"' in html
    c = memo.citations[0]
    assert f'data-cite="{c.doc_id}:{c.start}:{c.end}"' in html
    evil = Citation(1, "x", "d" * 32, "evil<b>.md", "<img src=x onerror=alert(1)>", 0, 30,
                    "<script>alert(1)</script> & co")
    hostile = replace(memo, topic="<b>topic</b>", citations=(evil,),
                      sections=(Section("bottom_line", "Bottom line", (Bullet(f"{evil.quote} [1]", (1,)),)),))
    out = to_html(hostile)
    assert "<script>" not in out and "<img" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in out
    assert to_html(hostile, standalone=False).startswith('<article class="memo">')


def test_unknown_export_format_is_a_clear_error(memo, tmp_path):
    from assistant.memo.export import export
    from index_build.core.errors import BriefingError

    with pytest.raises(BriefingError, match=r"\.md, \.docx or \.html"):
        export(memo, tmp_path / "memo.pdf")


# -- command line -----------------------------------------------------------------------------
def _cli(*args):
    from ui.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_memo_prints_markdown_and_writes_each_format(seed_settings, tmp_path):
    from assistant.memo.anchors import parse_anchors

    idx = seed_settings.index_dir
    out = _cli("--index-dir", idx, "memo", TOPIC)
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith(f"# Briefing: {TOPIC}\n") and "## Bottom line" in out.stdout
    for name in ("memo.md", "memo.docx", "memo.html"):
        res = _cli("--index-dir", idx, "memo", TOPIC, "-o", tmp_path / name, "--source", SEED_001)
        assert res.exit_code == 0, res.output
        assert res.stdout.startswith(f"Wrote {tmp_path / name}: ")
        assert (tmp_path / name).stat().st_size > 1000
    assert {a.source for a in parse_anchors((tmp_path / "memo.md").read_text())} == {SEED_001}
    as_json = _cli("--index-dir", idx, "memo", TOPIC, "--json")
    data = json.loads(as_json.stdout)
    assert [s["key"] for s in data["sections"]] == SECTION_KEYS and data["citations"]
    (tmp_path / "memo.json").write_text(as_json.stdout)
    checked = _cli("--index-dir", idx, "verify", tmp_path / "memo.json")
    assert checked.exit_code == 0 and f"{len(data['citations'])} hold" in checked.stdout


def test_export_all_writes_the_three_downloads(memo, tmp_path):
    from assistant.memo.export import export_all

    files = export_all(memo, tmp_path / "out")
    assert sorted(files) == [".docx", ".html", ".md"]
    assert files[".md"].name == "briefing-russia-and-the-north-korea-sanctions.md"
    assert all(p.is_file() and p.stat().st_size > 1000 for p in files.values())


def test_cli_verify_passes_on_fresh_memo_and_saved_answer(seed_settings, tmp_path):
    idx = seed_settings.index_dir
    for name in ("fresh.md", "fresh.docx", "fresh.html"):
        assert _cli("--index-dir", idx, "memo", TOPIC, "-o", tmp_path / name).exit_code == 0
        res = _cli("--index-dir", idx, "verify", tmp_path / name)
        assert res.exit_code == 0, res.output
        assert re.search(r": (\d+) citations — \1 hold, 0 moved, 0 changed, 0 missing\.", res.stdout), res.stdout
    answer = _cli("--index-dir", idx, "ask", "What did Ri Yong Ho demand?", "--json")
    (tmp_path / "answer.json").write_text(answer.stdout)
    res = _cli("--index-dir", idx, "verify", tmp_path / "answer.json", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True


def test_cli_verify_refuses_a_file_without_anchors(seed_settings, tmp_path):
    (tmp_path / "notes.md").write_text("# Just notes\n")
    res = _cli("--index-dir", seed_settings.index_dir, "verify", tmp_path / "notes.md")
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith("error: ") and "no citation anchors" in res.stderr


def test_verify_reports_stale_moved_and_missing_citations_after_sources_change(tmp_path):
    from assistant.memo import write_memo
    from assistant.memo.export import export
    from index_build.build import build_index
    from tests.fakes import FakeEmbedder

    settings = build_seed_index(tmp_path / "changing")
    memo = write_memo(_assistant(settings), TOPIC, long=True)
    export(memo, tmp_path / "memo.md")
    export(memo, tmp_path / "memo.docx")
    higgins = next(c for c in memo.citations if "increase pressure on [North Korea]" in c.quote)
    april = next(c for c in memo.citations if c.quote == "Yun last visited Moscow in April.")
    haley = [c for c in memo.citations if c.source == SEED_001]
    untouched = [c for c in memo.citations if c.source == SEED_000 and c.end <= higgins.start]
    assert haley and untouched

    src = settings.sources_dir / SEED_000
    text = src.read_text(encoding="utf-8")
    text = text.replace("to increase pressure on [North Korea]", "to raise the pressure on [North Korea]")
    text = text.replace("Yun last visited Moscow in April. ", "")
    text = text.replace("(c) 2017, The Washington Post",
                        "Yun last visited Moscow in April.\n\n(c) 2017, The Washington Post")
    src.write_text(text, encoding="utf-8")
    (settings.sources_dir / SEED_001).unlink()
    build_index(settings, embedder=FakeEmbedder())

    for name in ("memo.md", "memo.docx"):
        res = _cli("--index-dir", settings.index_dir, "verify", tmp_path / name, "--json")
        assert res.exit_code == 1, res.output
        report = json.loads(res.stdout)
        checks = {c["n"]: c for c in report["checks"]}
        assert report["ok"] is False and report["citations"] == len(memo.citations)
        assert checks[higgins.n]["status"] == "changed"
        assert "raise the pressure" in checks[higgins.n]["now"]
        assert checks[april.n]["status"] == "moved"
        new = _assistant_doc(settings, april.doc_id)
        assert new[checks[april.n]["new_start"]:checks[april.n]["new_end"]] == april.quote
        assert checks[april.n]["new_start"] > april.start
        assert all(checks[c.n]["status"] == "missing" for c in haley)
        assert all(checks[c.n]["status"] == "ok" for c in untouched)
    text_out = _cli("--index-dir", settings.index_dir, "verify", tmp_path / "memo.md")
    assert text_out.exit_code == 1
    assert (f"[{april.n}] moved: the quote is now at characters {checks[april.n]['new_start']}–"
            f"{checks[april.n]['new_end']} of {SEED_000} (was {april.start}–{april.end})") in text_out.stdout
    assert f"[{higgins.n}] changed: the quote is no longer in {SEED_000}" in text_out.stdout
    assert f"[{haley[0].n}] missing: {SEED_001} is no longer in the index" in text_out.stdout


KREMLIN = """---
title: Kremlin rejects new UN sanctions push on North Korea
publisher: Harbour Daily
date: 2017-09-14
---
Russia said on Thursday it would veto any further United Nations sanctions on North Korea this year, a sharp break with Washington over the crisis.
"Sanctions have reached their limit, and more pressure will only push Pyongyang into a corner," Russian Foreign Minister Sergei Lavrov told reporters in Moscow.
Lavrov said Russia would instead press for talks between North Korea and the United States under the Russian-Chinese roadmap.
"""


@pytest.mark.parametrize("suffix", [".md", ".docx"])
def test_since_memo_lists_the_new_article_and_the_edited_citation_and_nothing_else(tmp_path, suffix):
    """Issue 16: after one new article on the topic and one edited cited sentence, the new memo
    opens with that article's claims under "New since" and the edited citation under
    "Changed", and nothing else there."""
    import datetime as dt

    from assistant.memo import write_memo
    from assistant.memo.export import export
    from assistant.memo.since import read_prior
    from index_build.build import build_index
    from tests.fakes import FakeEmbedder

    settings = build_seed_index(tmp_path / "since")
    old = write_memo(_assistant(settings), TOPIC)
    saved = export(old, tmp_path / f"old{suffix}")
    edited = next(c for c in old.citations if c.source == SEED_000 and len(c.quote) > 60)
    text = (settings.sources_dir / SEED_000).read_text(encoding="utf-8")
    first_word = re.search(r"\b[a-z]{5,}\b", edited.quote).group(0)
    changed_quote = edited.quote.replace(first_word, first_word.upper(), 1)
    assert edited.quote in text
    (settings.sources_dir / SEED_000).write_text(text.replace(edited.quote, changed_quote), encoding="utf-8")
    (settings.sources_dir / "kremlin.md").write_text(KREMLIN, encoding="utf-8")
    build_index(settings, embedder=FakeEmbedder())

    prior = read_prior(saved)
    assert prior.generated == dt.datetime.fromisoformat(old.generated)
    memo = write_memo(_assistant(settings), TOPIC, since=prior)
    assert [s.key for s in memo.sections][:3] == ["new_since", "changed", "bottom_line"]
    new, changed = memo.sections[0], memo.sections[1]
    assert new.title.startswith("New since ") and changed.title.startswith("Changed since ")
    assert new.bullets, new.note
    assert all(memo.citation(n).source == "kremlin.md" for b in new.bullets for n in b.citations)
    assert "veto any further United Nations sanctions" in " ".join(b.text for b in new.bullets)
    assert len(changed.bullets) == 1, changed.bullets
    only = changed.bullets[0]
    assert only.label == f"Changed (earlier [{edited.n}])"
    assert edited.quote.split()[0] in only.text and changed_quote in memo.citation(only.citations[0]).quote

    # The same memo again: nothing new, nothing changed.
    again = export(memo, tmp_path / f"again{suffix}")
    later = write_memo(_assistant(settings), TOPIC, since=read_prior(again))
    assert not later.sections[0].bullets and not later.sections[1].bullets
    assert later.sections[0].note.startswith("Nothing in the sources is new since")


def test_since_memo_from_the_command_line_and_its_errors(seed_settings, tmp_path):
    old = tmp_path / "old.json"
    res = _cli("--index-dir", seed_settings.index_dir, "memo", TOPIC, "--json")
    assert res.exit_code == 0
    old.write_text(res.stdout, encoding="utf-8")
    res = _cli("--index-dir", seed_settings.index_dir, "memo", TOPIC, "--since-memo", old)
    assert res.exit_code == 0, res.output
    assert "## New since " in res.stdout and "## Changed since " in res.stdout
    assert "Every citation of the earlier memo still holds." in res.stdout
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\n\nno anchors here\n", encoding="utf-8")
    for bad, says in ((notes, "no citation anchors"), (tmp_path / "nope.md", "no such file")):
        res = _cli("--index-dir", seed_settings.index_dir, "memo", TOPIC, "--since-memo", bad)
        assert res.exit_code != 0 and says in res.output and "Traceback" not in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1


def _wire(publisher: str, date: str, verb: str) -> str:
    return f"""---
title: Russia vows to block more North Korea sanctions
publisher: {publisher}
date: {date}
---
Russia will block any further United Nations sanctions on North Korea, its foreign minister said, deepening the rift with Washington over the crisis.
"Sanctions have reached their limit, and more pressure will only push Pyongyang into a corner," Russian Foreign Minister Sergei Lavrov {verb} in Moscow.
"""


def test_who_said_what_groups_one_statement_carried_by_several_outlets(tmp_path):
    """Issue 16: per actor, their quoted statements with publisher and date; the same
    statement carried by several outlets is one row, from the earliest publisher."""
    from assistant.memo import write_memo
    from assistant.memo.export import to_html, to_markdown

    settings = build_seed_index(tmp_path / "wire", {
        "late.md": _wire("Evening Herald", "2017-09-16", "told reporters"),
        "early.md": _wire("Morning Wire", "2017-09-14", "said"),
    })
    memo = write_memo(_assistant(settings), TOPIC, long=True)
    rows = memo.section("who_said_what").bullets
    lavrov = [b for b in rows if b.group.startswith("Sergei Lavrov")]
    assert len(lavrov) == 1, lavrov
    assert lavrov[0].label == "Morning Wire, 2017-09-14 (also: Evening Herald)"
    assert memo.citation(lavrov[0].citations[0]).source == "early.md"
    assert "Sanctions have reached their limit" in lavrov[0].text
    # every row is a quoted statement of its actor alone, once
    assert len({b.citations for b in rows}) == len(rows)
    assert all(_share_in_quotes(_quote(memo, b)) >= 0.5 for b in rows)
    md = to_markdown(memo)
    assert "| Outlet | Statement |" in md and "| Morning Wire, 2017-09-14 (also: Evening Herald) | " in md
    assert '<table class="statements">' in to_html(memo)
    from docx import Document as Docx

    from assistant.memo.export import to_docx

    cells = [[c.text for c in row.cells] for t in Docx(str(to_docx(memo, tmp_path / "m.docx"))).tables
             for row in t.rows]
    assert ["Outlet", "Statement"] in cells
    assert any(r[0] == lavrov[0].label and "Sanctions have reached their limit" in r[1] for r in cells)


def _edit_seed(settings, old: str, new: str) -> None:
    from index_build.build import build_index
    from tests.fakes import FakeEmbedder

    src = settings.sources_dir / SEED_000
    text = src.read_text(encoding="utf-8")
    assert text.count(old) == 1
    src.write_text(text.replace(old, new), encoding="utf-8")
    build_index(settings, embedder=FakeEmbedder())


def _without_anchors(path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if "briefing-cite" not in ln]


def test_verify_moved_citations_hold_and_fix_rewrites_their_anchors(tmp_path):
    from assistant.memo import write_memo
    from assistant.memo.export import export

    settings = build_seed_index(tmp_path / "moving")
    memo = write_memo(_assistant(settings), TOPIC, long=True)
    names = ("memo.md", "memo.html", "memo.docx")
    for name in names:
        export(memo, tmp_path / name)
    (tmp_path / "memo.json").write_text(json.dumps(memo.as_json()))
    before = {name: _without_anchors(tmp_path / name) for name in names[:2]}
    # one uncited word earlier in the article, two characters longer: later quotes move
    _edit_seed(settings, "briefed reporters last week", "briefed reporters on Thursday")
    doc_id = next(c.doc_id for c in memo.citations if c.source == SEED_000)
    at = _assistant_doc(settings, doc_id).index("on Thursday")
    moved = [c for c in memo.citations if c.source == SEED_000 and c.start > at]
    assert len(moved) >= 3 and len(moved) < len(memo.citations)

    for name in names:
        path = tmp_path / name
        res = _cli("--index-dir", settings.index_dir, "verify", path)
        assert res.exit_code == 0, res.output
        assert f" {len(memo.citations) - len(moved)} hold, {len(moved)} moved, 0 changed, 0 missing." in res.stdout
        for c in moved:
            assert (f"[{c.n}] moved: the quote is now at characters {c.start + 2}–{c.end + 2} of {SEED_000} "
                    f"(was {c.start}–{c.end})") in res.stdout
        assert f"`briefing verify --fix {path}` rewrites" in res.stdout
        assert _cli("--index-dir", settings.index_dir, "verify", path, "--strict").exit_code == 1
        report = json.loads(_cli("--index-dir", settings.index_dir, "verify", path, "--json").stdout)
        assert (report["ok"], report["moved"], report["changed"], report["fixed"]) == (True, len(moved), 0, 0)

        fixed = _cli("--index-dir", settings.index_dir, "verify", path, "--fix")
        assert fixed.exit_code == 0, fixed.output
        assert f"Rewrote {len(moved)} of {len(moved)} moved anchors in {path}." in fixed.stdout
        again = _cli("--index-dir", settings.index_dir, "verify", path, "--strict")
        assert again.exit_code == 0, again.output
        assert f"{len(memo.citations)} hold, 0 moved, 0 changed, 0 missing." in again.stdout
        if name in before:  # nothing but the anchors changed
            assert _without_anchors(path) == before[name]

    res = _cli("--index-dir", settings.index_dir, "verify", tmp_path / "memo.json", "--fix")
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith("error: ") and "--fix rewrites the anchors of .md" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_verify_after_one_word_changed_fails_only_on_that_quote(tmp_path):
    from assistant.memo import write_memo
    from assistant.memo.export import export

    settings = build_seed_index(tmp_path / "one-word")
    memo = write_memo(_assistant(settings), TOPIC, long=True)
    export(memo, tmp_path / "memo.md")
    think = next(c for c in memo.citations if c.quote.startswith("“We think it’s just another very small step"))
    moved = [c for c in memo.citations if c.source == SEED_000 and c.start > think.end]
    assert moved
    _edit_seed(settings, "just another very small step", "just another really small step")

    res = _cli("--index-dir", settings.index_dir, "verify", tmp_path / "memo.md")
    assert res.exit_code == 1, res.output
    assert f"{len(moved)} moved, 1 changed, 0 missing." in res.stdout
    assert f"[{think.n}] changed: the quote is no longer in {SEED_000}" in res.stdout
    assert ": “We think it’s just another really small step" in res.stdout
    assert "““" not in res.stdout  # the quote's own mark is not doubled
    strict = json.loads(_cli("--index-dir", settings.index_dir, "verify", tmp_path / "memo.md", "--json",
                             "--strict").stdout)
    assert (strict["ok"], strict["strict"], strict["moved"], strict["changed"]) == (False, True, len(moved), 1)

    fixed = _cli("--index-dir", settings.index_dir, "verify", tmp_path / "memo.md", "--fix")
    assert fixed.exit_code == 1  # the changed quote still fails; its anchor is left alone
    assert f"Rewrote {len(moved)} of {len(moved)} moved anchors" in fixed.stdout
    after = _cli("--index-dir", settings.index_dir, "verify", tmp_path / "memo.md")
    assert "0 moved, 1 changed, 0 missing." in after.stdout


def _assistant_doc(settings, doc_id: str) -> str:
    from index_build.store.docstore import DocStore

    record = DocStore(settings.db_path, readonly=True)
    try:
        return record.document(doc_id).text
    finally:
        record.close()


# -- attribution ------------------------------------------------------------------------------
def test_quotes_are_attributed_across_sentences_and_pronouns():
    from assistant.nlp.attribution import analyse
    from index_build.core.models import Document

    text = ("Ministers meet in Oslo\n\n"
            "“We will not sign. Not this year,” said Foreign Minister Anna Berg. “Maybe later.”\n\n"
            "“Talks must go on. They must,” the ministry said.\n\n"
            "Prime Minister Lars Holm met the envoy in Oslo. He said the deal was close.")
    an = analyse(Document("d" * 32, "x.txt", text, "h", title="Ministers meet in Oslo"))
    by_text = {s.text: s for s in an.sentences}
    assert by_text["“We will not sign."].speakers == ("Anna Berg",)  # attribution comes after
    assert by_text["“Maybe later.”"].speakers == ("Anna Berg",)  # quotation goes on after it
    assert by_text["He said the deal was close."].speakers == ("Lars Holm",)
    assert an.unit([s.index for s in an.sentences if s.text == "“Maybe later.”"][0]) == (1, 3)
    assert by_text["Ministers meet in Oslo"].heading


# -- generative bottom line --------------------------------------------------------------------
def test_generated_bottom_line_keeps_only_supported_sentences(seed_settings):
    from assistant.memo import write_memo
    from tests.openai_fixture import FakeOpenAI

    def script(messages):
        prompt = messages[-1]["content"]
        n = next(m.group(1) for m in re.finditer(r"^\[(\d+)\] <<<(.*?)>>>$", prompt, re.M)
                 if "dialogue, not pressure" in m.group(2))
        return (f"Moscow described the meeting as dialogue, not pressure [{n}]. "
                f"Haley praised Moscow for enforcing the ban on oil shipments to Pyongyang [{n}].")

    with FakeOpenAI(script) as server:
        memo = write_memo(_assistant(seed_settings), TOPIC, llm=f"openai:{server.url}")
    assert memo.mode == "generative"
    (bullet,) = memo.section("bottom_line").bullets
    assert bullet.text.startswith("Moscow described the meeting as dialogue, not pressure.")
    assert "dialogue, not pressure" in memo.citation(bullet.citations[0]).quote
    assert len(memo.dropped) == 1 and "Haley praised" in memo.dropped[0]
    assert memo.section("positions").bullets  # the rest stays extractive


# -- the real model ---------------------------------------------------------------------------
@pytest.mark.integration
def test_memo_with_the_real_embedder_from_the_command_line(tmp_path, seed_sources):
    from assistant.memo.anchors import parse_anchors
    from tests.conftest import run_briefing

    idx = tmp_path / "index"
    built = run_briefing("--index-dir", idx, "index", seed_sources, "--json", timeout=600)
    assert built.returncode == 0, built.stderr
    out = tmp_path / "memo.md"
    made = run_briefing("--index-dir", idx, "memo", TOPIC, "--long", "-o", out, timeout=600)
    assert made.returncode == 0, made.stderr
    md = out.read_text(encoding="utf-8")
    short = run_briefing("--index-dir", idx, "memo", TOPIC, "--json", timeout=600)
    assert short.returncode == 0, short.stderr
    brief = json.loads(short.stdout)
    assert 3 <= len(brief["sections"][0]["bullets"]) <= 5 and brief["budget"] <= 1200
    # the README's excerpt is this memo's real output (bullets and table rows, anchors aside)
    from assistant.memo import memo_from_json
    from assistant.memo.export import to_markdown
    from tests.conftest import ROOT

    real = to_markdown(memo_from_json(brief))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    excerpt = readme.split("```markdown\n# Briefing: " + TOPIC, 1)[1].split("\n```", 1)[0]
    shown = [line for line in excerpt.splitlines() if line.startswith(("- ", "| ", "## ", "### "))]
    assert len(shown) >= 8
    assert [line for line in shown if line not in real] == []
    assert len(brief["citations"]) < md.count("<!-- briefing-cite")
    for name in ("Joseph Yun", "Igor Morgulov", "Michael Pompeo", "Ri Yong Ho", "Nikki Haley", "Donald Trump"):
        assert f"### {name}" in md, name
    assert "dialogue, not pressure" in md and "increase pressure" in md
    assert parse_anchors(md)
    checked = run_briefing("--index-dir", idx, "verify", out, timeout=600)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    shutil.rmtree(idx, ignore_errors=True)


# -- speaker attribution on labelled news sentences (issue 16) ------------------------------------
def test_speaker_attribution_on_hand_labelled_news_sentences():
    """60 RealTimeQA sentences labelled by hand with who speaks in them (tests/data): the rules
    with the dependency parse where they find no one reach precision ≥ 0.95 and recall ≥ 0.8,
    and the parse adds speakers without costing precision."""
    from bench.memo_bench import SPEAKER_FILES, labelled_rows, speaker_scores

    rows = [r for name in SPEAKER_FILES for r in labelled_rows(name)]
    assert len(rows) == 60 and sum(1 for r in rows if r["speaker"]) >= 40
    rules, both = speaker_scores(rows, parse=False), speaker_scores(rows, parse=True)
    assert both["precision"] >= 0.95 and both["recall"] >= 0.8, both["wrong"]
    assert both["recall"] > rules["recall"] + 0.1 and both["precision"] >= rules["precision"]


def test_parsed_speaker_is_the_subject_of_a_reporting_verb():
    from assistant.nlp import load_nlp, reported_speaker

    def who(text):
        return reported_speaker(load_nlp()(text))

    assert who("In the years since, the problem grew, law enforcement officials said.") == \
        ("law enforcement officials", "name")
    assert who("His comments were contradicted by the police chief, who called the segment “offensive.”")[0] \
        .endswith("police chief")
    assert who("His son, George V, insisted that access should be “democratic”.") == ("George V", "name")
    assert who("“We will not stop,” he said.") == ("he", "pronoun")
    # not speech: negated, passive subject, a verb of saying inside the quotation, a thing added
    assert who("Representatives for Visa did not immediately respond to a request for comment.") == ("", "")
    assert who("Nominees were announced by the Recording Academy in November.")[0] != "Nominees"
    assert who("“I have been told that I must do another test,” the letter read.")[0] != "I"
    assert who("Dictionary.com added 300 new words, including “sexts.”") == ("", "")


HARBOUR_WEEK = """---
title: Wonsan harbour reopens after weeks of talks
publisher: Harbour Daily
date: 2019-03-08
---
The northern harbour at Wonsan reopened to cargo ships on Friday, port officials said.
Envoys first met in Seoul on Monday to discuss reopening the harbour.
A draft agreement on the harbour had been circulated last week among the envoys.
The harbour talks had stalled on February 12, 2019 over inspection rules.
Talks on the harbour resumed on Wednesday after the inspection dispute was settled.
"""


def test_timeline_is_in_date_order_with_relative_dates_resolved(tmp_path):
    """Issue 16: every relative date resolved against the article's date, entries strictly
    in date order whatever order the article tells them in."""
    import datetime as dt

    from assistant.memo import write_memo

    settings = build_seed_index(tmp_path / "week", {"week.md": HARBOUR_WEEK})
    memo = write_memo(_assistant(settings), "Wonsan harbour reopening talks", long=True)
    entries = [(b.label, b.text) for b in memo.section("timeline").bullets if "(published)" not in b.label]
    labels = [label for label, _ in entries]
    assert {"12 Feb 2019", "4 Mar 2019 (Monday)", "6 Mar 2019 (Wednesday)", "8 Mar 2019 (Friday)"} <= set(labels), labels
    days = []
    for label in labels:
        m = re.match(r"(?:week of )?(\d{1,2} \w{3} \d{4})", label)
        assert m, label  # resolved: no "(relative; …)" left
        days.append(dt.datetime.strptime(m.group(1), "%d %b %Y").date())
    assert days == sorted(days), labels
