"""The web app in a real browser: cited answers, the source viewer, uploads, escaping, login,
and the named API. Each test saves screenshots to test-artifacts/."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import AUTH, HOSTILE_NAME, record_timing, shot

pytestmark = pytest.mark.e2e

SEED_QUESTION = "What did Ri Yong Ho demand?"
ANSWER_TIMEOUT = 60_000


def open_app(page, url: str):
    page.goto(url)
    expect(page.get_by_label("Your question")).to_be_visible(timeout=ANSWER_TIMEOUT)


def ask(page, question: str):
    """Ask in the chat; return the finished answer bubble and seconds to the first token."""
    done = page.locator("#chat .answer:not(.streaming)")
    before = done.count()
    box = page.get_by_label("Your question")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chat .answer')].some(a => "
        "!a.classList.contains('streaming') || a.textContent.replace('▍', '').trim().length > 0)",
        timeout=ANSWER_TIMEOUT)
    first_token = time.perf_counter() - started
    expect(done).to_have_count(before + 1, timeout=ANSWER_TIMEOUT)
    return done.nth(before), first_token


def test_answer_cites_and_marker_opens_the_highlighted_span(server, page):
    open_app(page, server.url)
    answer, first_token = ask(page, SEED_QUESTION)
    # The first question after start-up may still wait for the model to finish loading.
    record_timing("first_token_first_question_s", first_token)
    record_timing("first_question_done_since_server_start_s", time.perf_counter() - server.started)
    expect(answer).to_contain_text("simultaneous actions")
    marker = answer.locator("p a.cite", has_text="[1]")
    expect(marker).to_be_visible()
    expect(answer.locator(".answer-sources")).to_contain_text("001_b7735911f66044ef.txt")
    shot(page, "01-answer")

    marker.click()
    viewer = page.locator("#viewer")
    mark = viewer.locator("mark#cited")
    expect(mark).to_contain_text("simultaneous actions")
    expect(viewer.locator(".source-head")).to_contain_text("Bloomberg")
    expect(viewer.locator(".source-head")).to_contain_text("001_b7735911f66044ef.txt")
    expect(mark).to_be_in_viewport()
    shot(page, "02-viewer-highlight")

    page.get_by_text("Answer as Markdown").click()
    expect(page.locator("#answer-md textarea")).to_have_value(
        re.compile(r"\[1\] .*001_b7735911f66044ef\.txt"))


def test_follow_up_resolves_the_pronoun_and_unanswerable_question_abstains(server, page):
    open_app(page, server.url)
    _, first_token = ask(page, SEED_QUESTION)
    record_timing("first_token_warm_s", first_token)
    follow_up, _ = ask(page, "What did he say about impatience?")
    expect(follow_up).to_contain_text("Impatience is not helpful")
    follow_up.locator("p a.cite", has_text="[1]").focus()  # keyboard: a focused marker opens with Enter
    page.keyboard.press("Enter")
    expect(page.locator("#viewer mark#cited")).to_contain_text("Impatience is not helpful")
    expect(page.locator("#viewer mark#cited")).to_be_in_viewport()
    shot(page, "03-follow-up")

    abstained, _ = ask(page, "What did Kim Jong Un say in his letter to Trump?")
    expect(abstained).to_have_class(re.compile(r"\babstained\b"))
    expect(abstained).to_contain_text("The sources don't say")
    closest = abstained.locator(".answer-sources li")
    assert closest.count() >= 1
    shot(page, "04-abstention")

    closest.first.locator("a.cite").click()
    expect(page.locator("#viewer mark#cited")).to_be_visible()

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#chat .answer")).to_have_count(0)
    expect(page.locator("#viewer mark")).to_have_count(0)

    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Sources", exact=True).click()
    page.get_by_role("option", name="000_8724b5602e0331c2.txt").click()
    page.keyboard.press("Escape")
    filtered, _ = ask(page, SEED_QUESTION)
    expect(filtered).not_to_contain_text("simultaneous actions")
    expect(filtered).not_to_contain_text("001_b7735911f66044ef.txt")
    # the one source left does not say what Ri demanded: abstain, citing nothing from the other source
    expect(filtered).to_have_class(re.compile(r"\babstained\b"))
    shot(page, "05-filtered-to-one-source")


def test_article_markup_shows_as_text_and_never_runs(server, page):
    open_app(page, server.url)
    answer, _ = ask(page, "How many grain ships did Qelvara handle in March?")
    expect(answer).to_contain_text("4,812 grain ships")
    answer.locator("p a.cite", has_text="[1]").click()
    body = page.locator("#viewer .article-body")
    expect(page.locator("#viewer mark#cited")).to_contain_text("4,812")
    expect(body).to_contain_text("<script>window.__pwned=1</script>")
    expect(body).to_contain_text('<img src=x onerror="window.__pwned=2">')
    expect(body).to_contain_text("{{constructor}} and ${7*7}")
    assert page.locator("#viewer script").count() == 0
    assert page.locator("#viewer img").count() == 0
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    expect(page.locator("#viewer .source-head")).to_contain_text(HOSTILE_NAME)
    shot(page, "06-hostile-article-as-text")


def test_uploaded_article_is_indexed_then_cited_and_can_be_deleted(server, page, tmp_path):
    article = tmp_path / "tarnhollow-ferry.txt"
    article.write_text(
        "Tarnhollow Ferry Line Opens Night Crossings\n\n"
        "The island port of Tarnhollow will run 37 night ferry crossings each week from June, "
        "the ferry company announced on Friday.\n\n"
        "Captain Oren Vasko said the night crossings would carry mostly fish and timber.\n\n"
        "(c) 2019, The Test Gazette · Reporter 9\n", encoding="utf-8")
    wrong_type = tmp_path / "notes.exe"
    wrong_type.write_text("not an article", encoding="utf-8")
    open_app(page, server.url)
    page.get_by_role("tab", name="Sources").click()
    expect(page.locator("#index-status")).to_contain_text("documents")
    shot(page, "07-sources-tab")

    page.locator("#upload input[type=file]").set_input_files([str(article)])
    log = page.locator("#build-log")
    expect(log).to_contain_text("Added tarnhollow-ferry.txt", timeout=ANSWER_TIMEOUT)
    expect(log).to_contain_text("Index rebuilt", timeout=120_000)
    expect(log).to_contain_text("1 added")
    expect(page.locator("#documents")).to_contain_text("Tarnhollow Ferry Line Opens Night Crossings")
    shot(page, "08-uploaded-and-rebuilt")

    page.get_by_role("button", name="Rebuild index").click()
    expect(log).to_contain_text("0 added, 0 updated, 0 removed", timeout=120_000)

    page.get_by_role("tab", name="Chat").click()
    answer, _ = ask(page, "How many night ferry crossings will Tarnhollow run each week?")
    expect(answer).to_contain_text("37 night ferry crossings")
    answer.locator("p a.cite", has_text="[1]").click()
    expect(page.locator("#viewer mark#cited")).to_contain_text("37 night ferry crossings")
    expect(page.locator("#viewer .source-head")).to_contain_text("tarnhollow-ferry.txt")
    shot(page, "09-uploaded-article-cited")

    page.get_by_role("tab", name="Sources").click()
    page.locator("#upload input[type=file]").set_input_files([str(wrong_type)])
    expect(page.get_by_text("Invalid file type: notes.exe")).to_be_visible()
    body = b"Harmless Headline\n\nA sentence of text."
    page.locator("#upload input[type=file]").set_input_files(files=[
        {"name": "-rf.txt", "mimeType": "text/plain", "buffer": body},
        {"name": "..hidden.txt", "mimeType": "text/plain", "buffer": body}])
    expect(log.locator(".build-errors")).to_contain_text("-rf.txt", timeout=ANSWER_TIMEOUT)
    expect(log.locator(".build-errors")).to_contain_text("..hidden.txt")
    log.scroll_into_view_if_needed()
    shot(page, "10-refused-uploads")
    assert sorted(p.name for p in server_sources(server).iterdir()) == sorted(
        ["000_8724b5602e0331c2.txt", "001_b7735911f66044ef.txt", HOSTILE_NAME, "tarnhollow-ferry.txt"])

    page.get_by_label("Source file to delete").click()
    page.get_by_role("option", name="tarnhollow-ferry.txt").click()
    page.get_by_role("button", name="Delete file and rebuild").click()
    expect(log).to_contain_text("Deleted tarnhollow-ferry.txt", timeout=120_000)
    expect(log).to_contain_text("1 removed", timeout=120_000)
    expect(page.locator("#documents")).not_to_contain_text("Tarnhollow")
    assert not (server_sources(server) / "tarnhollow-ferry.txt").exists()
    shot(page, "11-deleted")


def server_sources(server):
    args = server.proc.args
    return Path(args[args.index("--sources") + 1])


@pytest.mark.parametrize("page", [{"width": 390, "height": 844}], indirect=True)
def test_phone_width_layout_has_no_sideways_scroll(server, page):
    open_app(page, server.url)
    answer, _ = ask(page, SEED_QUESTION)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1
    shot(page, "12-phone-answer")
    answer.locator("p a.cite", has_text="[1]").click()
    expect(page.locator("#viewer mark#cited")).to_be_in_viewport()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1
    shot(page, "13-phone-viewer")


def test_named_api_returns_the_cli_json(server, page):
    from gradio_client import Client

    client = Client(server.url + "/", verbose=False)
    result = client.predict(SEED_QUESTION, [], 5, api_name="/ask")
    assert set(result) == {"question", "answer", "abstained", "short_answer", "confidence", "citations", "passages",
                           "timings_ms"}
    assert result["question"] == SEED_QUESTION
    assert result["abstained"] is False
    assert "simultaneous actions" in result["answer"]
    assert any("simultaneous actions" in c["quote"] for c in result["citations"])
    follow = client.predict("What did he say about impatience?", json.dumps([SEED_QUESTION]), api_name="/ask")
    assert "Impatience is not helpful" in follow["answer"]

    open_app(page, server.url)
    page.get_by_role("button", name="Use via API").click()
    expect(page.get_by_text("API name:").first).to_be_visible()
    expect(page.get_by_text("/ask", exact=True).first).to_be_visible()
    shot(page, "14-api-page")


def test_login_is_required_for_the_page_and_the_api(auth_server, page):
    from gradio_client import Client

    url = auth_server.url
    request = urllib.request.Request(url + "/gradio_api/call/ask", method="POST",
                                     data=json.dumps({"data": [SEED_QUESTION, [], 5]}).encode(),
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code in (401, 403)
    with pytest.raises(Exception):  # noqa: B017 (gradio_client's error type differs between its versions)
        Client(url + "/", verbose=False).predict(SEED_QUESTION, [], 5, api_name="/ask")
    result = Client(url + "/", auth=AUTH, verbose=False).predict(SEED_QUESTION, [], 5, api_name="/ask")
    assert "simultaneous actions" in result["answer"]

    page.goto(url)
    expect(page.get_by_label("Your question")).to_have_count(0)
    expect(page.get_by_role("button", name="Login")).to_be_visible()
    shot(page, "15-login-required")
    page.get_by_label("username").fill(AUTH[0])
    page.get_by_label("password").fill("wrong")
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_text("Incorrect Credentials")).to_be_visible()
    page.get_by_label("username").fill(AUTH[0])
    page.get_by_label("password").fill(AUTH[1])
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_label("Your question")).to_be_visible(timeout=ANSWER_TIMEOUT)
    answer, _ = ask(page, SEED_QUESTION)
    expect(answer).to_contain_text("simultaneous actions")
    shot(page, "16-logged-in")


def test_memo_tab_writes_a_cited_memo_opens_citations_and_offers_downloads(server, page, tmp_path):
    open_app(page, server.url)
    page.get_by_role("tab", name="Memo").click()
    topic = page.get_by_label("Memo topic")
    topic.fill("Russia and the North Korea sanctions")
    started = time.perf_counter()
    topic.press("Enter")
    preview = page.locator("#memo-preview .memo")
    expect(preview).to_be_visible(timeout=120_000)
    record_timing("memo_in_browser_s", time.perf_counter() - started)
    expect(preview.locator("h2", has_text="Bottom line")).to_be_visible()
    expect(preview.locator("h2", has_text="Positions by actor")).to_be_visible()
    expect(preview).to_contain_text("Pompeo")
    # the memo's date line and its notes ("Left out to keep the memo…") are readable: contrast ≥ 4.5
    contrast = preview.locator(".meta").first.evaluate("""e => {
        const rgb = s => s.match(/[\\d.]+/g).map(Number);
        const bg = (() => { for (let n = e; n; n = n.parentElement) { const c = rgb(getComputedStyle(n).backgroundColor);
                                if (c.length < 4 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; })();
        let a = 1; for (let n = e; n; n = n.parentElement) a *= Number(getComputedStyle(n).opacity);
        const fg = rgb(getComputedStyle(e).color).slice(0, 3).map((c, i) => c * a + bg[i] * (1 - a));
        const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                           return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05); }""")
    assert contrast >= 4.5, contrast

    marker = preview.locator("sup.cite a.cite").first
    expect(marker).to_have_attribute("href", re.compile(r"^#cite:[0-9a-f]+:\d+:\d+$"))
    marker.click()
    mark = page.locator("#memo-viewer mark#cited")
    expect(mark).to_be_visible()
    expect(mark).to_be_in_viewport()
    expect(page.locator("#viewer mark")).to_have_count(0)  # the chat's viewer stays as it was

    files = page.locator("#memo-files")
    expect(files.locator('a[href$=".docx"]')).to_have_count(1)
    expect(files.locator('a[href$=".md"]')).to_have_count(1)
    expect(files.locator('a[href$=".html"]')).to_have_count(1)
    expect(files).to_contain_text("briefing-russia-and-the-north-korea-sanctions")
    shot(page, "17-memo")

    # The long memo, compared with the one just written (downloaded, then uploaded back).
    href = files.locator('a[href$=".md"]').get_attribute("href")
    earlier = tmp_path / "earlier.md"
    earlier.write_bytes(page.request.get(href if href.startswith("http") else server.url.rstrip("/") + href).body())
    assert "briefing-cite" in earlier.read_text(encoding="utf-8")
    page.get_by_text("Options", exact=True).click()
    page.get_by_label("Long memo (no length budget)").check()
    page.locator("#memo-since input[type=file]").set_input_files(str(earlier))
    expect(page.locator("#memo-since")).to_contain_text("earlier.md")
    page.get_by_role("button", name="Write memo").click()
    expect(preview.locator("h2", has_text="New since")).to_be_visible(timeout=120_000)
    expect(preview.locator("h2", has_text="Changed since")).to_be_visible()
    expect(preview).to_contain_text("Every citation of the earlier memo still holds.")
    expect(preview).to_contain_text("Ri Yong Ho")  # the long memo has every actor
    shot(page, "17b-memo-since")
