"""Sharing the chat, in headless Chromium against the real app (real model): a page from another
origin cannot change the index, logged in or not; the login page guards the chat; read-only mode
has no controls; bidi overrides in an article do not reorder the app's labels."""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request

import pytest

from .conftest import ROOT, Server, ask, free_port, open_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEED_ID = "000_ad6409121addf6a1.txt"
APP_HOST = "127.0.0.2"  # not "localhost" to Gradio: it answers any Origin there, as on a LAN
PASSWORD = "harbour-lights-47"

# What the attacker's page runs: the three calls (sources, then remove every article),
# by fetch with the visitor's cookies (in one session, so that the remove list holds what sources
# listed), then the same as a "simple" request that needs no CORS preflight (text/plain), and a
# form post. It records what it could see.
ATTACK = """
async (app) => {
  const seen = [];
  async function call(name, data, extra) {
    try {
      const r = await fetch(app + "gradio_api/call/" + name, Object.assign({method: "POST",
        credentials: "include", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({data, session_hash: "attack"})}, extra || {}));
      const body = await r.text();
      seen.push(name + " " + r.status);
      if (!r.ok) return null;
      const result = await fetch(app + "gradio_api/call/" + name + "/" + JSON.parse(body).event_id,
                                 {credentials: "include"});
      return await result.text();
    } catch (e) { seen.push(name + " blocked: " + e.name); return null; }
  }
  await call("sources", []);
  await call("remove_articles", [["%s"]]);
  try {
    await fetch(app + "gradio_api/call/remove_articles", {method: "POST", mode: "no-cors",
      credentials: "include", headers: {"Content-Type": "text/plain"},
      body: JSON.stringify({data: [["%s"]], session_hash: "attack"})});
    seen.push("no-cors sent");
  } catch (e) { seen.push("no-cors blocked: " + e.name); }
  const form = document.createElement("form");
  form.method = "POST"; form.action = app + "gradio_api/queue/join"; form.target = "sink";
  const frame = document.createElement("iframe"); frame.name = "sink";
  document.body.append(frame, form); form.submit();
  await new Promise(r => setTimeout(r, 1500));
  return seen;
}
""" % (SEED_ID, SEED_ID)


class Evil:
    """A plain page served from another origin (another address or another port)."""

    def __init__(self, host: str, folder):
        (folder / "index.html").write_text("<!doctype html><title>cat pictures</title><p>cats")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer((host, free_port()), handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def articles(server) -> str:
    """The stats line, asked by a script on this machine (no Origin), after a login if any."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    if "--auth" in server.args or "QA_AUTH_FILE" in server.extra_env:
        opener.open(urllib.request.Request(server.url + "login", data=(
            f"username=desk&password={PASSWORD}").encode()))
    post = urllib.request.Request(server.url + "gradio_api/call/sources", data=b'{"data": []}',
                                  headers={"Content-Type": "application/json"})
    event = json.load(opener.open(post))["event_id"]
    return opener.open(f"{server.url}gradio_api/call/sources/{event}").read().decode()


def start(tmp_path_factory, name, **options) -> Server:
    home = tmp_path_factory.mktemp(name)
    shutil.copytree(ROOT / "seeds", home / "seeds")
    (home / "seeds" / "rtl.txt").write_text(
        "\u202eNATO warns\nThe minister spoke about shipping lanes near the harbour.\n",
        encoding="utf-8")
    srv = Server(home, **options)
    srv.start()
    return srv


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    srv = start(tmp_path_factory, "open", host=APP_HOST)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def login_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logins")
    line = subprocess.run([sys.executable, "-m", "qa", "hash-password", "desk"], input=PASSWORD,
                          capture_output=True, text=True, cwd=ROOT, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    (folder / "logins").write_text("# the desk\n" + line)
    srv = start(tmp_path_factory, "login", host=APP_HOST,
                env={"QA_AUTH_FILE": str(folder / "logins")})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def read_only_server(tmp_path_factory):
    srv = start(tmp_path_factory, "read-only", args=("--read-only",))
    yield srv
    srv.stop()


@pytest.mark.parametrize("evil_host", ["127.0.0.3", APP_HOST])  # another address; another port
def test_a_page_from_another_origin_cannot_change_the_index(browser, open_server, tmp_path,
                                                            evil_host):
    evil = Evil(evil_host, tmp_path)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(evil.url)
        seen = page.evaluate(ATTACK, open_server.url)
        assert "sources 403" in seen or "sources blocked: TypeError" in seen, seen
        assert "remove_articles 403" in seen or "remove_articles blocked: TypeError" in seen
        assert "2 articles and 13 sentences indexed." in articles(open_server)
        # The same script from the app's own page does remove the article: the attack is real.
        page.goto(open_server.url)
        page.wait_for_selector("#qa-question textarea")
        assert "remove_articles 200" in page.evaluate(ATTACK, open_server.url)
        assert "1 article and 1 sentence indexed." in articles(open_server)
    finally:
        context.close()
        evil.close()
        open_server.stop()  # a fresh index from seeds/ for the next test
        shutil.rmtree(open_server.home / "index")
        open_server.start()


def test_the_login_page_guards_the_chat(browser, login_server, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    evil = Evil(APP_HOST, tmp_path)  # the same site, another port: the cookie goes along
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(login_server.url)
        page.get_by_text("log in").first.wait_for()
        assert page.locator("#qa-question").count() == 0 and page.locator("#qa-chat").count() == 0
        assert page.evaluate("JSON.stringify(window.gradio_api_info)") == "{}"
        screenshot(page, "login.png")
        page.locator("input[type=text]").fill("desk")
        page.locator("input[type=password]").fill("wrong")
        page.keyboard.press("Enter")
        page.get_by_text("Incorrect credentials").wait_for()
        assert page.locator("#qa-question").count() == 0
        page.locator("input[type=text]").fill("desk")  # the form is cleared after a failure
        page.locator("input[type=password]").fill(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("#qa-question textarea")
        assert "Galuzin" in ask(page, "What did Galuzin say?").locator("blockquote").first \
            .inner_text()
        # Logged in, a page from another origin still cannot change the index.
        attacker = context.new_page()
        attacker.goto(evil.url)
        seen = attacker.evaluate(ATTACK, login_server.url)
        assert "remove_articles 403" in seen or "remove_articles blocked: TypeError" in seen
        assert "2 articles and 13 sentences indexed." in articles(login_server)
    finally:
        context.close()
        evil.close()
    log = login_server.log.read_text()
    assert "failed login for user 'desk'" in log  # the log is the one this server wrote
    assert PASSWORD not in log and "wrong" not in log and "scrypt$" not in log
    cmdline = open(f"/proc/{login_server.proc.pid}/cmdline", "rb").read()
    environ = open(f"/proc/{login_server.proc.pid}/environ", "rb").read()
    assert PASSWORD.encode() not in cmdline + environ and b"scrypt$" not in cmdline + environ


def test_read_only_mode_has_no_controls(browser, read_only_server):
    page, _ = open_page(browser, read_only_server)
    try:
        for control in ("#qa-upload", "#qa-add", "#qa-replace", "#qa-remove-pick", "#qa-remove",
                        "#qa-status", "input[type=file]"):
            assert page.locator(control).count() == 0, control
        assert "NATO warns" in page.locator("#qa-sources").inner_text()
        assert "Galuzin" in ask(page, "What did Galuzin say?").locator("blockquote").first \
            .inner_text()
        screenshot(page, "read-only.png")
    finally:
        page.context.close()


LETTERS_X = """
(cite) => {
  const walk = document.createTreeWalker(cite, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const i = n.data.indexOf("sentence");
    if (i < 0) continue;
    return [...Array(8).keys()].map(j => {
      const r = document.createRange(); r.setStart(n, i + j); r.setEnd(n, i + j + 1);
      return r.getBoundingClientRect().left; });
  }
  return null;
}
"""


def test_a_right_to_left_override_does_not_reorder_the_labels(browser, read_only_server):
    page, _ = open_page(browser, read_only_server)
    try:
        reply = ask(page, "What did the minister say about shipping lanes near the harbour?")
        cite = reply.locator(".qa-cite", has_text="NATO warns").first
        assert cite.locator("bdi").count() >= 1  # kept by Gradio's sanitiser
        xs = cite.evaluate(LETTERS_X)
        assert xs == sorted(xs) and len(set(xs)) == 8, xs  # "sentence" reads left to right
        score = cite.locator(".qa-score").bounding_box()
        title = cite.locator("bdi").first.bounding_box()
        assert score["x"] > title["x"] + title["width"]  # the score stays at the end
        # Without the isolation the same line is reordered (what the issue saw).
        cite.evaluate("c => { const d = c.cloneNode(true); d.id = 'bare-cite'; d.innerHTML = "
                      "d.innerHTML.replaceAll('<bdi>', '<span>').replaceAll('</bdi>', '</span>');"
                      " c.after(d); }")
        xs_bare = page.locator("#bare-cite").evaluate(LETTERS_X)
        screenshot(page, "rtl.png")
        assert xs_bare == sorted(xs_bare, reverse=True), xs_bare
    finally:
        page.context.close()
