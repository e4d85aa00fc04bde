"""What a new user meets on the web page (issue 14): input mistakes said in one line, filters
that say what they do, a readable chat and Sources tab, honest upload and memo reports, a
way back from the viewer on a phone, and a limit on question length. Screenshots go to
test-artifacts/ (first-use-*.png)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import shot
from .test_web import SEED_QUESTION, ask, open_app, server_sources

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1400, "height": 900}
# Gradio's error toast, and the "Error" a component's status tracker draws over it.
ERROR_OVERLAY = ".toast-body.error, #chat .error, #memo-preview .error, #memo-status .error"


def open_filters(page):
    """Open (or close) the chat's Filters section; its title says which filters are on."""
    page.get_by_role("button", name="Filters").first.click()


def new_log_lines(server, since: int) -> str:
    return "\n".join(server.lines[since:])


def test_a_bad_date_and_an_empty_topic_are_said_in_one_line_without_overlay_or_traceback(server, page):
    logged = len(server.lines)
    open_app(page, server.url)
    open_filters(page)
    page.get_by_label("Published since").first.fill("yesterday")
    box = page.get_by_label("Your question")
    box.fill(SEED_QUESTION)
    box.press("Enter")
    notice = page.locator("#chat-notice .notice")
    expect(notice).to_contain_text("'yesterday' is not a date")
    expect(notice).to_contain_text("YYYY-MM-DD")
    expect(box).to_have_value(SEED_QUESTION)  # kept, to be sent again once the date is fixed
    expect(page.locator("#chat .question")).to_have_count(0)
    page.wait_for_timeout(300)
    expect(page.locator(ERROR_OVERLAY)).to_have_count(0)
    shot(page, "first-use-01-bad-date")

    page.get_by_label("Published since").first.fill("")
    answer, _ = ask(page, SEED_QUESTION)  # the box works at once: nothing to dismiss
    expect(answer).to_contain_text("simultaneous actions")
    expect(notice).to_have_count(0)

    page.get_by_role("tab", name="Memo").click()
    page.locator("#write-memo").click()
    expect(page.locator("#memo-status .notice")).to_contain_text("Enter a topic for the memo")
    page.wait_for_timeout(300)
    expect(page.locator(ERROR_OVERLAY)).to_have_count(0)
    log = new_log_lines(server, logged)
    assert "Traceback" not in log and "Error" not in log, log


def test_a_date_filter_says_how_many_undated_documents_it_left_out_and_shows_while_closed(server, page):
    open_app(page, server.url)
    open_filters(page)
    page.get_by_label("Published since").first.fill("2018-01-01")
    page.get_by_label("Published since").first.press("Tab")
    open_filters(page)  # closed again: the title still says a filter is on
    expect(page.get_by_role("button", name="Filters").first).to_contain_text("Filters on: since 2018-01-01")
    answer, _ = ask(page, SEED_QUESTION)
    # The Bloomberg file (both its stories) has no date: a date filter cannot match it.
    expect(answer.locator(".filter-note")).to_contain_text("2 undated documents were left out by the date filter")
    shot(page, "first-use-02-undated-note")


@pytest.mark.parametrize("page", [WIDE], indirect=True)
def test_the_chat_label_never_covers_the_messages_as_they_scroll(server, page):
    open_app(page, server.url)
    for question in (SEED_QUESTION, "What did he say about impatience?", "Who did Joseph Yun meet in Moscow?"):
        ask(page, question)
    label = page.locator("#chat label.float").bounding_box()
    messages = page.locator("#chat .bubble-wrap").bounding_box()
    assert label["y"] + label["height"] <= messages["y"] + 1, (label, messages)


@pytest.mark.parametrize("page", [WIDE], indirect=True)
def test_a_long_abstention_shows_its_statement_and_readable_passages(server, page):
    open_app(page, server.url)
    open_filters(page)
    passages = page.get_by_label("Passages to show").first  # many closest passages
    passages.fill("20")
    passages.press("Enter")
    abstained, _ = ask(page, "What did Kim Jong Un say in his letter to Trump?")
    expect(abstained).to_have_class(re.compile(r"\babstained\b"))
    page.wait_for_timeout(400)  # the chat's own scroll, then ours
    statement = abstained.locator(".abstain").bounding_box()
    box = page.locator("#chat .bubble-wrap").bounding_box()
    assert box["y"] <= statement["y"] and statement["y"] + statement["height"] <= box["y"] + box["height"], \
        (statement, box)
    ratio = page.evaluate(CONTRAST_JS, "#chat .abstained .snippet")
    assert ratio >= 4.5, f"passage text contrast {ratio:.2f}:1 is below 4.5:1"
    shot(page, "first-use-03-abstention-first")


def test_bold_headings_draw_every_letter_in_one_font(server, page):
    open_app(page, server.url)
    assert page.evaluate(FULL_FACE_JS), "bold headings fall back to another font for most letters"


@pytest.mark.parametrize("page", [WIDE], indirect=True)
def test_sources_tab_shows_every_column_and_a_plain_status_line(server, page):
    open_app(page, server.url)
    page.get_by_role("tab", name="Sources").click()
    status = page.locator("#index-status .index-status")
    expect(status).to_contain_text(re.compile(r"\d+ documents from \d+ source files, \d+ passages · updated today at"))
    expect(status).not_to_contain_text("generation")
    expect(status).not_to_contain_text("embedded:")
    table = page.locator("#documents")
    expect(table).to_contain_text("Bloomberg")
    edge = table.bounding_box()
    for name in ("File", "Headline", "Publisher", "Author", "Published", "Characters", "Passages"):
        head = table.locator("th", has_text=name).first.bounding_box()
        assert head["x"] + head["width"] <= edge["x"] + edge["width"] + 1, f"column {name} is cut off"
    shot(page, "first-use-04-sources-tab")


def test_an_unreadable_upload_is_reported_once_and_taken_out_of_the_sources_folder(server, page):
    open_app(page, server.url)
    page.get_by_role("tab", name="Sources").click()
    expect(page.locator("#index-status")).to_contain_text("documents")
    page.locator("#upload input[type=file]").set_input_files(files=[
        {"name": "fake_report.pdf", "mimeType": "application/pdf", "buffer": b"this is not a PDF at all\n" * 20},
        {"name": "-rf.txt", "mimeType": "text/plain", "buffer": b"Harmless Headline\n\nA sentence."}])
    log = page.locator("#build-log")
    expect(log).to_contain_text("Index rebuilt", timeout=120_000)
    expect(log).not_to_contain_text("Added fake_report.pdf")
    errors = log.locator(".build-errors")
    expect(errors).to_contain_text("2 files not indexed")
    expect(errors.locator("li")).to_have_count(2)
    expect(errors.locator("li", has_text="fake_report.pdf")).to_contain_text("removed from the sources folder")
    expect(log).not_to_contain_text("skipped")
    assert not (server_sources(server) / "fake_report.pdf").exists()
    log.scroll_into_view_if_needed()
    shot(page, "first-use-05-unreadable-upload")


# Samples the memo's progress bar every frame: what it says, how full it is drawn, and
# whether it covers the placeholder text.
SAMPLE_PROGRESS_JS = """() => {
  window.__samples = [];
  const tick = () => {
    const bar = [...document.querySelectorAll('[role=progressbar]')].find(b => b.offsetParent);
    if (bar) {
      const inner = bar.querySelector('.progress-bar');
      const level = bar.closest('.progress-level') || bar;
      const said = (level.textContent.match(/(\\d+(?:\\.\\d+)?)%/) || [])[1];
      const hint = document.querySelector('#memo-preview .memo-empty');
      const a = level.getBoundingClientRect(), b = hint ? hint.getBoundingClientRect() : null;
      const overlaps = !!b && b.width > 0 && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      window.__samples.push({said: said === undefined ? null : parseFloat(said),
        drawn: 100 * inner.getBoundingClientRect().width / bar.getBoundingClientRect().width, overlaps});
    }
    if (!document.querySelector('#memo-preview .memo')) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def test_memo_progress_is_drawn_as_stated_and_an_empty_memo_offers_no_downloads(server, page):
    open_app(page, server.url)
    page.get_by_role("tab", name="Memo").click()
    topic = page.get_by_label("Memo topic")
    topic.fill("Russia and the North Korea sanctions")
    page.evaluate(SAMPLE_PROGRESS_JS)
    topic.press("Enter")
    expect(page.locator("#memo-preview .memo")).to_be_visible(timeout=120_000)
    samples = [s for s in page.evaluate("() => window.__samples") if s["said"] is not None]
    assert samples, "no progress was shown while the memo was written"
    assert not any(s["overlaps"] for s in samples), "the progress bar covers the memo placeholder"
    off = [s for s in samples if abs(s["drawn"] - s["said"]) > 6]
    assert not off, f"progress drawn at another width than it says: {off[:3]}"
    expect(page.locator("#memo-files a[href$='.docx']")).to_have_count(1)

    topic.fill("Penguin colonies on the Antarctic ice shelf")
    topic.press("Enter")
    expect(page.locator("#memo-status")).to_contain_text("Nothing to download", timeout=120_000)
    expect(page.locator("#memo-preview .memo")).to_contain_text("hold nothing")
    expect(page.locator("#memo-files")).to_be_hidden()
    expect(page.locator("#memo-files a")).to_have_count(0)
    shot(page, "first-use-06-empty-memo")


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_on_a_phone_the_viewer_keeps_its_title_and_leads_back_to_the_answer(server, page):
    open_app(page, server.url)
    answer, _ = ask(page, SEED_QUESTION)
    marker = answer.locator("p a.cite", has_text="[1]")
    marker.click()
    expect(page.locator("#viewer mark#cited")).to_be_in_viewport()
    page.wait_for_timeout(300)  # the scroll to the cited span
    expect(page.locator("#viewer .source-title")).to_be_in_viewport()
    back = page.get_by_role("link", name="Back to the answer")
    expect(back).to_be_in_viewport()
    shot(page, "first-use-07-phone-viewer")
    back.click()
    expect(marker).to_be_in_viewport()
    shot(page, "first-use-08-phone-back")


def test_a_question_over_the_limit_is_refused_with_the_reason(server, page):
    open_app(page, server.url)
    box = page.get_by_label("Your question")
    long_question = ("What did Ri Yong Ho demand from the United States at the meeting? " * 80)[:4999] + "?"
    box.fill(long_question)
    box.press("Enter")
    notice = page.locator("#chat-notice .notice")
    expect(notice).to_contain_text("limited to 1,000 characters")
    expect(notice).to_contain_text("5,000")
    expect(page.locator("#chat .question")).to_have_count(0)
    shot(page, "first-use-09-long-question")


# The contrast ratio (WCAG) of an element's text against the first opaque background behind it.
CONTRAST_JS = """(sel) => {
  const el = document.querySelector(sel);
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = c => { c /= 255; return c <= .03928 ? c / 12.92 : ((c + .055) / 1.055) ** 2.4; };
    return .2126 * f(r) + .7152 * f(g) + .0722 * f(b); };
  let bg = null;
  for (let e = el; e && !bg; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) bg = c.slice(0, 3);
  }
  bg = bg || [255, 255, 255];
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + .05) / (b + .05);
}"""

# Does the 600 weight that headings use hold the lowercase letters? A face that lacks them
# draws "i" and "m" in the monospace fallback, at the same width.
FULL_FACE_JS = """async () => {
  const h = [...document.querySelectorAll('h2')].find(e => e.textContent.includes('Briefing'));
  const cs = getComputedStyle(h);
  const font = `${cs.fontWeight} 40px "Source Sans Pro", monospace`;
  await document.fonts.load(font, 'Briefing im');
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = font;
  return Math.abs(ctx.measureText('i').width - ctx.measureText('m').width) > 5;
}"""
