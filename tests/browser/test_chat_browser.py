"""The chat as a person uses it, in headless Chromium against the running app (real model)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .conftest import MAX_UPLOAD_MB, ask, open_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REMOTE = "198.51.100.7"  # TEST-NET-2: nothing answers there; any request to it is a failure
PAYLOAD_ARTICLE = f"""\
Zebra council <img src="http://{REMOTE}/title.png" onerror="window.__pwned=1;alert('title')"> votes
The zebra council voted to paint the crossing <script>window.__pwned=1;alert('script')</script> blue on Tuesday.
The council chair said the zebra vote <img src=x onerror="window.__pwned=1;alert('img')"> was unanimous.
Zebra delegates watched a video <iframe src="javascript:window.__pwned=1;alert('iframe')"></iframe> of the crossing.
Zebra critics posted a link <a href="javascript:window.__pwned=1;alert('link')">click here</a> to the minutes.
The zebra mascot photo ![mascot](http://{REMOTE}/pixel.png) was shared widely.
The zebra budget [details](http://{REMOTE}/budget) was published at www.example.com today.
The zebra council noted <svg onload="window.__pwned=1;alert('svg')"></svg> strong support.
The zebra treasurer wrote ${{alert('tpl')}} and {{{{constructor.constructor('alert(1)')()}}}} in the ledger.
The zebra clerk filed <object data="http://{REMOTE}/obj"></object><link rel="stylesheet" href="http://{REMOTE}/x.css"><style>body{{display:none}}</style> the papers.
"""
QUESTION_PAYLOAD = (f'What did the zebra council vote <img src=x onerror="window.__pwned=1;'
                    f'alert(\'q\')"> ![q](http://{REMOTE}/q.png)?')
LIVE = ("script", "iframe", "img", "svg", "a", "object", "embed", "link", "style", "meta",
        "video", "audio", "form", "input", "math")


def quotes(reply):
    return [q.inner_text() for q in reply.locator("blockquote").all()]


def test_galuzin_quote_with_citation_context_and_follow_ups(tab):
    page, watch = tab
    assert "1 article and 12 sentences indexed." in page.locator("#qa-stats").inner_text()
    assert "TASS" in page.locator("#qa-sources").inner_text()
    reply = ask(page, "What did Galuzin say?")
    first = reply.locator(".qa-quote").first
    assert "Galuzin" in first.locator("blockquote").inner_text()
    cite = first.locator(".qa-cite").inner_text()
    assert "Tokyo’s rhetoric on issue of Ukraine" in cite and "TASS" in cite
    assert "sentence" in cite and "score 0." in cite
    first.locator("summary").click()  # open "In context"
    mark = first.locator("mark.qa-hit")
    assert mark.is_visible() and mark.inner_text() == first.locator("blockquote").inner_text()
    assert len(first.locator(".qa-context p").inner_text()) > len(mark.inner_text())
    screenshot(page, "chat-galuzin.png")

    follow = ask(page, "and what did he say about NATO?")
    assert "Taken as: “What did Galuzin say about NATO?”" in follow.inner_text()
    assert any("NATO" in q for q in quotes(follow))
    more = ask(page, "what else?")
    # all his statements were shown: the rest of the article is near the question, no answer
    assert "Nothing more answers this." in more.inner_text()
    assert "not an answer" in more.inner_text()
    assert not set(quotes(more)) & set(quotes(follow))
    screenshot(page, "chat.png")
    assert watch.dialogs == [] and watch.foreign_requests() == []


def test_unanswerable_question_says_the_articles_do_not_cover_it(tab):
    page, _ = tab
    reply = ask(page, "What is the population of Tokyo?")
    text = reply.inner_text()
    assert "The articles don’t cover this." in text
    assert "not an answer" in text  # the nearest sentences, clearly marked
    assert reply.locator(".qa-quote.qa-weak").count() == reply.locator(".qa-quote").count()


def test_conversations_in_two_sessions_do_not_mix(browser, server):
    alice, _ = open_page(browser, server)
    bob, _ = open_page(browser, server)
    try:
        ask(alice, "What did Galuzin say?")
        reply = ask(bob, "and what did he say about NATO?")
        assert "Taken as" not in reply.inner_text()  # Bob never asked about Galuzin
        assert alice.locator('[data-testid="bot"]').count() == 1
        assert "Taken as: “What did Galuzin say about NATO?”" in \
            ask(alice, "and what did he say about NATO?").inner_text()
    finally:
        alice.context.close()
        bob.context.close()


def test_uploaded_markup_article_is_searchable_and_inert(tab, server, tmp_path):
    page, watch = tab
    article = tmp_path / "zebra<script>.txt"
    article.write_text(PAYLOAD_ARTICLE)
    bad = tmp_path / "scan.txt"
    bad.write_bytes(b"%PDF\x00\x01\x02 not text")
    page.locator("#qa-upload input[type=file]").set_input_files([str(article), str(bad)])
    page.locator("#qa-add").click()
    page.wait_for_function(
        "document.querySelector('#qa-status textarea')?.value.includes('Added 1 article')")
    status = page.locator("#qa-status textarea").input_value()
    assert re.search(r"upload/zebra_?script\.txt", status), status  # the name, made safe
    assert "Not added: scan.txt: looks like a binary file" in status
    assert "2 articles and" in page.locator("#qa-stats").inner_text()
    assert "Zebra council <img" in page.locator("#qa-sources").inner_text()

    page.get_by_text("Settings").click()
    set_passages(page, 10)
    reply = ask(page, QUESTION_PAYLOAD)
    for summary in reply.locator("summary").all():
        summary.click()
    shown = reply.inner_text()
    assert "Zebra council" in reply.locator(".qa-cite").first.inner_text()
    for literal in ("<script>window.__pwned=1;alert('script')</script>",
                    '<img src=x onerror="window.__pwned=1;alert(\'img\')">',
                    f"![mascot](http://{REMOTE}/pixel.png)", "www.example.com",
                    "<iframe src=", '<a href="javascript:', "${alert('tpl')}", "<style>body{"):
        assert literal in shown, literal
    question = page.locator('[data-testid="user"]').last.inner_text()
    assert question == QUESTION_PAYLOAD
    screenshot(page, "chat-payloads.png")

    page.wait_for_timeout(1500)  # give any image, frame or handler a chance to fire
    assert watch.dialogs == []
    assert watch.foreign_requests() == []
    assert not [u for u in watch.requests if REMOTE in u or u.rstrip("/").endswith("/x")]
    assert page.evaluate("window.__pwned") is None
    for where in ("#qa-chat .qa-answer", "#qa-chat .qa-question", "#qa-sources"):
        for tag in LIVE:
            assert page.locator(f"{where} {tag}").count() == 0, (where, tag)
    for tag in set(LIVE) - {"input"}:  # the article filter: its own checkboxes, text labels
        assert page.locator(f"#qa-only {tag}").count() == 0, tag
    assert "Zebra council <img" in page.locator("#qa-only").inner_text()
    assert page.evaluate("document.querySelectorAll('[onerror],[onload],[onclick]').length") == 0
    assert page.locator("body").is_visible()  # the payload's <style> did not apply


def test_an_upload_over_the_size_limit_is_refused_with_a_message(tab, server, tmp_path):
    page, _ = tab
    big = tmp_path / "big.txt"
    big.write_text("Big\n" + "The sentence goes on. " * (MAX_UPLOAD_MB * 60_000))
    page.locator("#qa-upload input[type=file]").set_input_files(str(big))
    page.get_by_text("exceed the maximum allowed size").wait_for()
    assert not (server.home / "uploads" / "big.txt").exists()


def test_uploaded_article_survives_a_restart_and_can_be_removed(browser, server):
    server.restart()
    page, watch = open_page(browser, server)
    try:
        assert "2 articles and" in page.locator("#qa-stats").inner_text()
        reply = ask(page, "What did the zebra council vote?")
        assert "Zebra council" in reply.locator(".qa-cite").first.inner_text()
        page.locator("#qa-remove-pick input").click()
        page.locator('[data-testid="dropdown-option"]', has_text="Zebra council").click()
        page.locator("#qa-remove").click()
        page.wait_for_function(
            "document.querySelector('#qa-status textarea')?.value.includes('Removed 1')")
        assert "1 article and 12 sentences indexed." in page.locator("#qa-stats").inner_text()
        assert list((server.home / "uploads").iterdir()) == []
        assert watch.dialogs == [] and watch.foreign_requests() == []
    finally:
        page.context.close()


def test_the_app_listens_on_loopback_only(server):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((REMOTE, 9))  # UDP: picks the outward interface, sends nothing
            outward = probe.getsockname()[0]
        except OSError:
            pytest.skip("this machine has no network interface besides loopback")
    if outward.startswith("127."):
        pytest.skip("this machine has no network interface besides loopback")
    with socket.socket() as s:
        s.settimeout(5)
        assert s.connect_ex((outward, server.port)) != 0, f"app reachable on {outward}"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", server.port)) == 0


def set_passages(page, n: int) -> None:
    """Type ``n`` into the passages box and wait until the slider shows it, so the next question
    cannot race the setting. A keystroke can land while the accordion is still opening and be
    dropped, so it is typed again until it takes (a few tries at most)."""
    box = page.locator("input[type=number]").first
    rng = page.locator("input[type=range]").first
    for _ in range(5):
        box.fill(str(n))
        box.press("Enter")
        box.press("Tab")
        try:
            page.wait_for_function("([el, v]) => el.value === v", arg=[rng.element_handle(), str(n)],
                                   timeout=3000)
            return
        except PlaywrightTimeout:
            continue  # type it again
    raise AssertionError(f"the passages slider never showed {n}")
