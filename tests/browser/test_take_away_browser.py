"""Taking an answer away, in headless Chromium against the running app (real model): each quote's
copy button puts its citation on the clipboard, and the answer downloads as Markdown and JSON."""
from __future__ import annotations

import json

import pytest

from .conftest import ask, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_copy_a_citation_and_download_the_answer(tab):
    page, watch = tab
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    reply = ask(page, "Who is the Kremlin spokesman?")
    first = reply.locator(".qa-quote").first
    assert "Dmitry Peskov" in first.locator("blockquote").inner_text()
    button = first.locator("button.qa-copy")
    assert button.is_visible() and button.inner_text() == "Copy citation"
    button.click()
    page.wait_for_function("document.querySelector('button.qa-copy').innerText === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("“Kremlin Spokesman Dmitry Peskov branded such information")
    assert "— Tokyo’s rhetoric on issue of Ukraine against spirit of Japanese-Russian " \
        "relations — envoy, TASS, February 2 (sentence" in copied
    screenshot(page, "take-away.png")
    with page.expect_download() as md:
        page.locator("#qa-download-md").click()
    text = open(md.value.path(), encoding="utf-8").read()
    assert text.startswith("# Who is the Kremlin spokesman?")
    assert "Dmitry Peskov" in text and "TASS" in text
    with page.expect_download() as js:
        page.locator("#qa-download-json").click()
    data = json.load(open(js.value.path(), encoding="utf-8"))
    assert data["question"] == "Who is the Kremlin spokesman?" and data["answered"] is True
    assert data["hits"][0]["text"].startswith("Kremlin Spokesman Dmitry Peskov")
    assert data["citations"][0] == copied
    assert not watch.dialogs and not watch.foreign_requests()
