"""The real app in a subprocess (real model, its own QA_HOME with a copy of seeds/), driven by
Debian's Chromium through Playwright. Screenshots go to test-artifacts/."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAX_UPLOAD_MB = 1  # small, so the test of the limit uploads little
START_TIMEOUT = 300  # seconds: the first start embeds the seeds with the real model


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.fail("Debian's chromium is not installed: run `bash scripts/setup.sh`")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python app.py`` on 127.0.0.1 (or ``host``) with an isolated home, given ``args`` and
    ``env``; ``restart()`` keeps the home."""

    def __init__(self, home: Path, *, host: str = "127.0.0.1", args: tuple = (),
                 env: dict | None = None):
        self.home = home
        self.host = host
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.url = f"http://{host}:{self.port}/"
        self.log = home / "app.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("QA_SEEDS", "QA_INDEX", "QA_UPLOADS", "QA_MODEL")}
        env.update(QA_HOME=str(self.home), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
                   QA_MAX_UPLOAD_MB=str(MAX_UPLOAD_MB),
                   PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
                   **self.extra_env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port",
                                          str(self.port), "--host", self.host, *self.args],
                                         cwd=self.home, env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"app.py exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        self.stop()
        pytest.fail(f"app.py did not answer on {self.url}:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("qa-home")
    shutil.copytree(ROOT / "seeds", home / "seeds")
    srv = Server(home)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """What a page did that it should not: dialogs, and requests other than to the app."""

    def __init__(self, page, app_url: str):
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.origin = urlparse(app_url).netloc
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self.requests.append(r.url))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                and urlparse(u).netloc != self.origin]


def open_page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    watch = Watch(page, server.url)
    page.goto(server.url)
    page.wait_for_selector("#qa-question textarea")
    page.wait_for_function("document.querySelector('#qa-stats')?.innerText.includes('indexed')")
    return page, watch


@pytest.fixture
def tab(browser, server):
    """A fresh browser session on the app: (page, watch)."""
    page, watch = open_page(browser, server)
    yield page, watch
    page.context.close()


def ask(page, question: str):
    """Type a question, press Enter, wait for the bot's reply; returns its locator."""
    bots = page.locator('[data-testid="bot"]')
    before = bots.count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-question textarea").press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"bot\"] .qa-answer').length > n", arg=before)
    return bots.nth(before)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
