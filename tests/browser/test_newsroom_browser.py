"""Issue 19 in headless Chromium against the running app (real model): everything Galuzin said
shown at once, the answer phrase marked, and a date-limited question's "Taken as" line."""
from __future__ import annotations

import pytest

from .conftest import ask, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_all_six_galuzin_statements_are_visible(tab):
    page, watch = tab
    reply = ask(page, "What did Galuzin say?")
    assert "6 statements in 1 article" in reply.locator(".qa-count").inner_text()
    quotes = reply.locator(".qa-quote blockquote")
    assert quotes.count() == 6
    for i in range(6):
        assert quotes.nth(i).is_visible()  # nothing to open
    texts = [quotes.nth(i).inner_text() for i in range(6)]
    assert any("the diplomat added" in t for t in texts) or any("he noted" in t for t in texts) \
        or any("And I would like to recommend" in t for t in texts)
    head = reply.locator(".qa-article-head").inner_text()
    assert "Tokyo’s rhetoric" in head and "TASS" in head and "February 2" in head
    screenshot(page, "statements.png")
    assert not watch.dialogs and not watch.foreign_requests()


def test_the_answer_phrase_is_marked(tab):
    page, _ = tab
    reply = ask(page, "Who is the Kremlin spokesman?")
    mark = reply.locator(".qa-quote").first.locator("blockquote mark.qa-answer-phrase")
    assert mark.count() == 1 and mark.is_visible() and mark.inner_text() == "Dmitry Peskov"
    screenshot(page, "answer-phrase.png")


def test_a_date_limited_question_says_how_it_was_taken(tab):
    page, _ = tab
    reply = ask(page, "What did Galuzin say in February 2022?")
    line = reply.locator(".qa-limits").inner_text()
    assert line == "Taken as: “in February 2022”: published 1–28 February 2022"
    assert "(undated)" in reply.inner_text()  # the TASS dateline has no year: kept, marked
    assert reply.locator(".qa-quote").count() == 6
    screenshot(page, "taken-as.png")


def test_the_settings_limit_sources_and_dates(tab):
    page, _ = tab
    page.get_by_text("Settings").click()
    box = page.locator("#qa-sources-only").locator("input, textarea").first
    box.fill("Reuters")
    box.press("Tab")
    page.wait_for_timeout(1000)  # the setting reaches the session's state
    reply = ask(page, "Who is the Kremlin spokesman?")
    # no article comes from Reuters here: said, with the sources there are
    assert "no article comes from Reuters" in reply.inner_text()
    assert "TASS (1)" in reply.inner_text()
    box.fill("TASS")
    since = page.locator("#qa-since").locator("input, textarea").first
    since.fill("2022-02-01")
    since.press("Tab")
    page.wait_for_timeout(1000)
    reply = ask(page, "Who is the Kremlin spokesman?")
    assert reply.locator(".qa-limits").inner_text() == \
        "Taken as: published on or after 1 February 2022, from TASS"
    assert "Dmitry Peskov" in reply.locator(".qa-quote").first.inner_text()
