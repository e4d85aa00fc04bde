"""Markup typed by the user — a question, a memo topic — shows as text and never runs
(the source side is in test_web.py: test_article_markup_shows_as_text_and_never_runs)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import shot
from .test_web import ANSWER_TIMEOUT, ask, open_app

pytestmark = pytest.mark.e2e

HOSTILE_QUESTION = ('What did <img src=x onerror="window.__pwned=3"> and <script>window.__pwned=4</script> '
                    'say about <b>{{constructor}}</b> ${7*7} [1](javascript:window.__pwned=5)?')
HOSTILE_TOPIC = '<img src=x onerror="window.__pwned=6"><script>window.__pwned=7</script> sanctions'


def test_a_question_with_markup_shows_as_text_and_never_runs(server, page):
    open_app(page, server.url)
    answer, _ = ask(page, HOSTILE_QUESTION)
    asked = page.locator("#chat .question").last
    expect(asked).to_have_text(HOSTILE_QUESTION)
    chat = page.locator("#chat")
    assert chat.locator("img[src=x]").count() == 0
    assert chat.locator("script").count() == 0
    assert chat.locator("b", has_text="{{constructor}}").count() == 0
    assert chat.locator('a[href^="javascript:"]').count() == 0
    expect(answer).to_be_visible()
    page.wait_for_timeout(500)  # an onerror handler would have fired by now
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    asked.scroll_into_view_if_needed()
    shot(page, "18-question-markup-as-text")
    # The same question again, as a follow-up: the history it is condensed with is text too.
    ask(page, "And what else?")
    assert page.evaluate("() => typeof window.__pwned") == "undefined"


def test_a_memo_topic_with_markup_shows_as_text_and_never_runs(server, page):
    open_app(page, server.url)
    page.get_by_role("tab", name="Memo").click()
    topic = page.get_by_label("Memo topic")
    topic.fill(HOSTILE_TOPIC)
    topic.press("Enter")
    preview = page.locator("#memo-preview .memo")
    expect(preview).to_be_visible(timeout=ANSWER_TIMEOUT * 2)
    expect(preview.locator("h1")).to_contain_text('<img src=x onerror="window.__pwned=6">')
    assert preview.locator("img").count() == 0
    assert preview.locator("script").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    shot(page, "19-memo-topic-markup-as-text")
