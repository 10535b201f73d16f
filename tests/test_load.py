"""Load: many people chatting at once with the running app, through its real HTTP interface on
127.0.0.1 (gradio_client, as any API user would), while an upload is being indexed.

Checked: no request fails, no conversation sees another's history or follow-up subject, questions
asked while the upload is embedding are answered. Measured: p50/p95 response time, overall and
during the upload (printed, and written as JSON to ``QA_LOAD_REPORT`` when set).

    pytest -m stress tests/test_load.py -s      # 50 users x 20 questions
    QA_LOAD_USERS=20 QA_LOAD_QUESTIONS=10 pytest -m stress tests/test_load.py -s
    QA_LOAD_UPLOAD=0 pytest -m stress tests/test_load.py -s     # without the upload
    QA_LOAD_PATH=api pytest -m stress tests/test_load.py -s     # the JSON API (/api/ask)

The stress test prints its figures against issue 17's targets (p95 <= 2.5 s, >= 25 questions/s
on the 2-core machine) and asserts them only with QA_LOAD_ASSERT_TARGETS=1: on a machine shared
with other work they measure the load as much as the app. The load driver is lean (no file
downloads, one SSL context): gradio_client's defaults spent more CPU than the server did.
"""
from __future__ import annotations

import json
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "bench" / "bbc" / "articles.jsonl"
TOPICS = ["the economy", "the election", "oil prices", "the budget", "music sales", "the film",
          "broadband", "the airline", "the match", "interest rates", "the new phone", "taxes"]
NAME = re.compile(r"Speaker[A-Z]{3}")


def _client(url: str):
    """A gradio_client on ``url`` as light as a browser: answer files are not downloaded (a
    browser fetches them only when clicked), and one SSL context serves every request
    (gradio_client otherwise builds one, reading the CA bundle, for each HTTP call: that was
    over a third of the load driver's CPU, on the cores the server runs on)."""
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, ssl_verify=_SSL)


_SSL = ssl.create_default_context()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _articles(start: int, count: int) -> list[str]:
    if not BBC.is_file():
        pytest.skip(f"the BBC corpus is not at {BBC}")
    with open(BBC, encoding="utf-8") as fh:
        return [line for n, line in enumerate(fh) if start <= n < start + count]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app (real model) serving a home of the seed article and 50 BBC articles."""
    if not (ROOT / "app.py").is_file():
        pytest.skip("no app.py yet")
    pytest.importorskip("gradio_client")
    home = tmp_path_factory.mktemp("load-home")
    (home / "seeds").mkdir()
    for seed in (ROOT / "seeds").iterdir():
        (home / "seeds" / seed.name).write_bytes(seed.read_bytes())
    (home / "seeds" / "bbc.jsonl").write_text("".join(_articles(0, 50)), encoding="utf-8")
    port = _free_port()
    env = dict(os.environ, QA_HOME=str(home), QA_UPLOADS=str(home / "uploads"),
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT), GRADIO_ANALYTICS_ENABLED="False")
    log = open(home / "app.log", "wb")
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 600  # first start embeds the seeds with the real model
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the app did not start:\n" + (home / "app.log").read_text()[-3000:])
            time.sleep(1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@dataclass
class Result:
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (start, end) monotonic
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def _user(url: str, n: int, questions: int, result: Result, start: threading.Barrier) -> None:
    """One person: asks about their own made-up speaker, then follows up with "he"; the bot's
    "Taken as" line must name that speaker, and the history only hold their own questions."""
    name = "Speaker" + "".join(chr(65 + (n // 26 ** p) % 26) for p in (2, 1, 0))
    client = _client(url)
    history: list = []
    asked: list[str] = []
    failed: set[str] = set()  # asked, failed on the way back: the server may still have kept them
    start.wait()
    for q in range(questions):
        topic = TOPICS[(n + q) % len(TOPICS)]
        message = (f"What did {name} say about {topic}?" if q % 2 == 0
                   else f"and what did he say about {topic}?")
        t0 = time.monotonic()
        try:
            # The history is kept by the server per session; the client sends only the question.
            history = client.predict(message, 3, [], api_name="/respond")[0]
        except Exception as e:  # any failure of the app or the transport is what we count
            failed.add(message)
            with result.lock:
                result.errors.append(f"user {n} question {q}: {type(e).__name__}: {e}"[:300])
            continue
        t1 = time.monotonic()
        _stream_closed(client)
        asked.append(message)
        reply = _text(history[-1])
        problems = []
        if '<div class="qa-answer">' not in reply or 'class="qa-note"' in reply:
            problems.append(f"not an answer: {reply[:200]}")
        if q % 2 and f"Taken as: “<bdi>What did {name} say about {topic}?</bdi>”" not in reply:
            problems.append(f"follow-up not taken with {name}: {reply[:200]}")
        others = set(NAME.findall(json.dumps(history, ensure_ascii=False))) - {name}
        if others:
            problems.append(f"sees other users {sorted(others)}")
        if not _own_history([_text(m) for m in history if m["role"] == "user"], asked, failed):
            problems.append("history is not this user's questions")
        with result.lock:
            result.latencies.append((t0, t1))
            (result.leaks if any("other" in p or "history" in p or "taken" in p
                                 for p in problems) else result.errors).extend(
                f"user {n} question {q}: {p}" for p in problems)


def _stream_closed(client, most: float = 5.0) -> None:
    """Wait (at most ``most`` seconds) until gradio_client has read the server's close of the
    session's event stream, which follows every answer when nothing else is pending. Asked
    before then, the next question is registered on the closing stream, and gradio_client gives
    it up with a CancelledError while the server still answers it (then the user's later
    histories come back without one of their questions): a race of the driver's client seen
    under heavy machine load (BENCHMARKS.md "Load"), not a failure of the app."""
    deadline = time.monotonic() + most
    while getattr(client, "stream_open", False) and time.monotonic() < deadline:
        time.sleep(0.005)


def _api_user(url: str, n: int, questions: int, result: Result, start: threading.Barrier) -> None:
    """One program on the JSON API (GET /api/ask, no conversation, so every question names its
    speaker): each answer must be to its own question."""
    import httpx

    name = "Speaker" + "".join(chr(65 + (n // 26 ** p) % 26) for p in (2, 1, 0))
    with httpx.Client(base_url=url, timeout=120) as client:
        start.wait()
        for q in range(questions):
            question = f"What did {name} say about {TOPICS[(n + q) % len(TOPICS)]}?"
            t0 = time.monotonic()
            try:
                response = client.get("api/ask", params={"q": question, "k": 3})
                response.raise_for_status()
                answer = response.json()
            except Exception as e:  # any failure of the app or the transport is what we count
                with result.lock:
                    result.errors.append(f"user {n} question {q}: {type(e).__name__}: {e}"[:300])
                continue
            t1 = time.monotonic()
            with result.lock:
                result.latencies.append((t0, t1))
                if answer.get("question") != question or not answer.get("hits"):
                    result.leaks.append(f"user {n} question {q}: answer to "
                                        f"{answer.get('question')!r}")


def _own_history(shown: list[str], asked: list[str], failed: set[str]) -> bool:
    """Whether the questions in a history are the ones this user asked, in order, the last of
    them included; a question whose request failed may stand among them or not (the server may
    have answered it after the client gave up)."""
    matched, rest = 0, list(asked)
    for text in reversed(shown):  # from the newest: an old question may have been dropped
        if rest and rest[-1] in text:
            rest.pop()
            matched += 1
        elif not any(f in text for f in failed):
            return False
    return matched == len(asked) or len(shown) >= 20


def _upload(url: str, path: Path, window: dict) -> None:
    from gradio_client import handle_file

    client = _client(url)
    window["start"] = time.monotonic()
    window["status"] = client.predict([handle_file(str(path))], False,
                                      api_name="/add_articles")[0]
    window["end"] = time.monotonic()


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _article_count(url: str) -> int:
    stats = _client(url).predict(api_name="/sources")[0]
    return int(re.match(r"(\d+) articles", stats).group(1))


def run_load(url: str, tmp_path: Path, users: int, questions: int, upload_articles: int,
             upload_from: int, path: str = "chat") -> dict:
    """``path``: "chat" (the Gradio chat's /respond, with its history) or "api" (/api/ask)."""
    upload = tmp_path / "more-articles.jsonl"
    upload.write_text("".join(_articles(upload_from, upload_articles)), encoding="utf-8")
    articles_before = _article_count(url)
    result, window = Result(), {}
    start = threading.Barrier(users + 1)
    with ThreadPoolExecutor(max_workers=users + 1) as pool:
        person = _api_user if path == "api" else _user
        futures = [pool.submit(person, url, n, questions, result, start) for n in range(users)]
        if upload_articles:  # the people start asking once the upload is being indexed
            uploading = pool.submit(_upload, url, upload, window)
            futures.append(uploading)
            while "start" not in window and not uploading.done():
                time.sleep(0.05)
            time.sleep(0.5)
        start.wait()
        for f in futures:
            f.result()
    all_lat = [e - s for s, e in result.latencies]
    wall = max(e for _, e in result.latencies) - min(s for s, _ in result.latencies)
    during = [e - s for s, e in result.latencies
              if window and s < window["end"] and e > window["start"]]
    report = {
        "path": "/api/ask" if path == "api" else "/respond (chat)", "users": users,
        "questions_each": questions, "answered": len(all_lat),
        "errors": len(result.errors), "leaks": len(result.leaks),
        "p50_s": round(statistics.median(all_lat), 3) if all_lat else None,
        "p95_s": round(_pct(all_lat, 95), 3) if all_lat else None,
        "max_s": round(max(all_lat), 3) if all_lat else None,
        "questions_per_s": round(len(all_lat) / wall, 1),
        "upload_articles": upload_articles,
        "upload_s": round(window["end"] - window["start"], 1) if window else None,
        "answered_during_upload": len(during),
        "p95_during_upload_s": round(_pct(during, 95), 3) if during else None,
        "upload_status": (window.get("status") or "")[:120],
        "articles_before": articles_before, "articles_after": _article_count(url),
        "first_problems": (result.errors + result.leaks)[:5],
        # when the first question was asked and the last answered (time.monotonic of this
        # process): bench/serve_load.py splits the server's CPU by it
        "asking": [min(s for s, _ in result.latencies), max(e for _, e in result.latencies)],
    }
    print("\nload:", json.dumps(report, ensure_ascii=False))
    if os.environ.get("QA_LOAD_REPORT"):
        Path(os.environ["QA_LOAD_REPORT"]).write_text(json.dumps(report, indent=1))
    return report


def _check(report: dict, upload_articles: int) -> None:
    assert report["errors"] == 0 and report["leaks"] == 0, report["first_problems"]
    assert report["answered"] == report["users"] * report["questions_each"]
    if not upload_articles:
        return
    assert report["answered_during_upload"] > 0, "no question overlapped the upload"
    assert report["upload_status"].startswith(f"Added {upload_articles} article(s)")
    assert report["articles_after"] == report["articles_before"] + upload_articles


@pytest.mark.slow
def test_a_few_users_chat_while_an_upload_is_indexed(app_url, tmp_path):
    report = run_load(app_url, tmp_path, users=6, questions=6, upload_articles=20,
                      upload_from=1000)
    _check(report, 20)


@pytest.mark.stress
def test_fifty_users_twenty_questions_each_while_an_upload_is_indexed(app_url, tmp_path):
    users = int(os.environ.get("QA_LOAD_USERS", "50"))
    questions = int(os.environ.get("QA_LOAD_QUESTIONS", "20"))
    articles = int(os.environ.get("QA_LOAD_UPLOAD", "150"))  # 0: no upload, for a baseline
    path = os.environ.get("QA_LOAD_PATH", "chat")  # "api": the JSON API instead of the chat
    report = run_load(app_url, tmp_path, users=users, questions=questions, upload_articles=articles,
                      upload_from=1200, path=path)
    _check(report, articles)
    verdict = _targets(report)
    print("targets (issue 17, on 2 cores):", verdict, f"load average {os.getloadavg()[0]:.1f}")
    if os.environ.get("QA_LOAD_ASSERT_TARGETS") == "1":
        assert "NOT" not in verdict, verdict


TARGET_P95_S, TARGET_PER_S = 2.5, 25.0


def _targets(report: dict) -> str:
    """The measured figures against the targets, in words: 'p95 1.9 s <= 2.5 s met; ...'."""
    p95, rate = report["p95_s"], report["questions_per_s"]
    return (f"p95 {p95} s <= {TARGET_P95_S} s {'met' if p95 <= TARGET_P95_S else 'NOT met'}; "
            f"{rate} questions/s >= {TARGET_PER_S} {'met' if rate >= TARGET_PER_S else 'NOT met'}")
