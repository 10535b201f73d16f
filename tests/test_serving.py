"""The chat's server as someone on the network meets it (in-process, fake encoder, real HTTP):
logins guard every route, read-only has no endpoint that changes the index, other origins and
unknown hosts are refused, an open bind refuses to start."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import httpx
import pytest

from conftest import ROOT, SEED, load_app


@pytest.fixture(scope="module")
def app():
    return load_app("newsroom_app_served")


@pytest.fixture
def home(isolated_home, fake_model):
    shutil.copy(SEED, isolated_home / "seeds")
    return isolated_home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(app, home):
    """serve(**launch options) -> base URL of the app, launched in this process."""
    running = []

    def start(**options):
        port = free_port()
        running.append(app.launch("127.0.0.1", port, block=False, **options))
        return f"http://127.0.0.1:{port}"

    yield start
    for blocks in running:
        blocks.close()


def every_route(blocks):
    """(method, path) of every route the running app serves, placeholders filled in."""
    def flat(routes):
        for r in routes:
            if hasattr(r, "original_router"):
                yield from flat(r.original_router.routes)
            else:
                for m in sorted(getattr(r, "methods", None) or {"GET"}):
                    yield m, r.path

    for method, path in flat(blocks.app.routes):
        path = re.sub(r"\{path_or_url:path\}", "/etc/hostname", path)
        yield method, re.sub(r"\{[^}]+\}", "x1", path)


# Not logged in, only the login page and the framework files it is built from answer.
LOGIN_PAGE = re.compile(r"/(?:|login/?|logout|favicon\.ico|theme\.css|robots\.txt|manifest\.json"
                        r"|gradio_api/theme\.css|gradio_api/startup-events|(?:assets|static|svelte)/.*)")


def api_names(base, cookies=None):
    info = httpx.get(f"{base}/gradio_api/info", cookies=cookies).json()
    return info["named_endpoints"]


def call(base, name, data, cookies=None, headers=None):
    """POST /gradio_api/call/<name>, then read the result stream: (status, events text)."""
    r = httpx.post(f"{base}/gradio_api/call/{name}", json={"data": data}, cookies=cookies,
                   headers=headers or {}, timeout=60)
    if r.status_code != 200:
        return r.status_code, r.text
    event = r.json()["event_id"]
    with httpx.stream("GET", f"{base}/gradio_api/call/{name}/{event}", cookies=cookies,
                      timeout=60) as s:
        return s.status_code, s.read().decode()


def test_with_logins_anonymous_calls_to_every_endpoint_fail(serve, app):
    base = serve(auth=["desk:s3cret-words"])
    blocks = app.demo
    routes = sorted(set(every_route(blocks)))
    assert len(routes) > 60  # Gradio's own routes and the app's: the list is real
    for method, path in routes:
        r = httpx.request(method, base + path, json={"data": [], "fn_index": 0,
                                                     "session_hash": "x1"}, timeout=10)
        if LOGIN_PAGE.fullmatch(path):
            continue
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
    for name in ("respond", "respond_1", "sources", "add_articles", "remove_articles"):
        assert call(base, name, [])[0] == 401
    for fn_index in range(len(blocks.fns)):
        r = httpx.post(f"{base}/gradio_api/queue/join", json={
            "data": [], "fn_index": fn_index, "session_hash": "x1"})
        assert r.status_code == 401
    page = httpx.get(base + "/").text  # the login page: no component, no API description
    assert '"auth_required":true' in page and "remove_articles" not in page \
        and "qa-chat" not in page
    # Logged in, the same calls answer: what was refused was the login, not the call.
    login = httpx.post(f"{base}/login", data={"username": "desk", "password": "s3cret-words"})
    assert login.status_code == 200
    assert {"/respond", "/sources", "/add_articles", "/remove_articles"} <= set(
        api_names(base, login.cookies))
    status, events = call(base, "sources", [], cookies=login.cookies)
    assert status == 200 and "1 article and 12 sentences indexed." in events
    wrong = httpx.post(f"{base}/login", data={"username": "desk", "password": "guess"})
    assert wrong.status_code == 400 and httpx.get(f"{base}/config", cookies=wrong.cookies) \
        .status_code == 401


def test_failed_logins_from_one_address_pause_its_logins(serve, home, monkeypatch, caplog):
    """A guesser is slowed down (a user sweep found 13 guesses a second, unlogged by address):
    after FAILED_LOGINS failures within FAILED_WINDOW seconds, that address's logins get 429,
    by the form and by HTTP Basic, even with the right password, until the window passes."""
    import time

    from qa.app import guard

    monkeypatch.setattr(guard, "FAILED_LOGINS", 3)
    monkeypatch.setattr(guard, "FAILED_WINDOW", 2.0)
    base = serve(auth=["desk:s3cret-words"])
    for _ in range(2):
        assert httpx.post(f"{base}/login", data={"username": "desk", "password": "guess"}
                          ).status_code == 400
    assert httpx.get(f"{base}/api/articles", auth=("desk", "guess")).status_code == 401
    assert "failed login from 127.0.0.1 (3 in the last 2 s)" in caplog.text
    right = {"username": "desk", "password": "s3cret-words"}
    paused = httpx.post(f"{base}/login", data=right)
    assert paused.status_code == 429 and "too many failed logins" in paused.text
    assert httpx.get(f"{base}/api/articles", auth=("desk", "s3cret-words")).status_code == 429
    time.sleep(2.1)  # the window passes: the right password logs in, and clears the count
    assert httpx.post(f"{base}/login", data=right).status_code == 200
    assert httpx.get(f"{base}/api/articles", auth=("desk", "s3cret-words")).status_code == 200


def test_an_unknown_endpoint_name_is_a_404_not_a_server_error(serve, home, caplog):
    base = serve(read_only=True)  # add_articles exists only where uploads are allowed
    for path in ("/gradio_api/call/add_articles", "/gradio_api/run/remove_articles",
                 "/gradio_api/call/no_such_thing"):
        r = httpx.post(base + path, json={"data": []})
        assert r.status_code == 404 and r.json()["detail"] == "no such endpoint", path
    assert "Traceback" not in caplog.text
    assert call(base, "sources", [])[0] == 200  # a real one still answers


def test_files_need_a_login(serve, home):
    base = serve(auth=["desk:s3cret-words"])
    login = httpx.post(f"{base}/login", data={"username": "desk", "password": "s3cret-words"})
    up = httpx.post(f"{base}/gradio_api/upload", cookies=login.cookies,
                    files={"files": ("story.txt", b"Story\nThe harbour froze.")})
    assert up.status_code == 200
    path = up.json()[0]
    assert httpx.get(f"{base}/gradio_api/file={path}", cookies=login.cookies).status_code == 200
    assert httpx.get(f"{base}/gradio_api/file={path}").status_code == 401
    assert httpx.post(f"{base}/gradio_api/upload",
                      files={"files": ("x.txt", b"x")}).status_code == 401


def test_read_only_has_no_endpoint_that_changes_the_index(serve, home):
    base = serve(read_only=True)
    info = httpx.get(f"{base}/gradio_api/info?all_endpoints=true").json()
    names = {n: [p["component"] for p in e["parameters"]]
             for n, e in info["named_endpoints"].items()}
    assert names == {"/respond": ["Textbox", "Slider", "Checkboxgroup"],
                     "/respond_1": ["Textbox", "Slider", "Checkboxgroup"],
                     "/new_conversation": [], "/clear_conversation": [], "/sources": [],
                     "/load_example": ["Dataset"]}
    assert info["unnamed_endpoints"] == {}
    config = httpx.get(f"{base}/config").json()
    types = {c["type"] for c in config["components"]}
    assert "file" not in types and "dropdown" not in types and "button" in types
    fns = {d.get("api_name") for d in config["dependencies"]}
    assert not {"add_articles", "remove_articles"} & fns
    assert httpx.post(f"{base}/gradio_api/upload",
                      files={"files": ("x.txt", b"x")}).status_code == 403
    status, events = call(base, "sources", [])
    assert status == 200 and "1 article and 12 sentences indexed." in events


def test_other_origins_and_unknown_hosts_are_refused(serve, home):
    base = serve()
    evil = {"Origin": "http://evil.example"}
    assert call(base, "remove_articles", [["000_ad6409121addf6a1.txt"]], headers=evil)[0] == 403
    assert httpx.get(f"{base}/gradio_api/info", headers=evil).status_code == 403
    assert httpx.get(f"{base}/config", headers={"Origin": "null"}).status_code == 403
    port = base.rsplit(":", 1)[1]
    assert httpx.get(f"{base}/config", headers={"Origin": f"http://127.0.0.1:{int(port) + 1}"}) \
        .status_code == 403  # another port of the same host is another origin
    assert httpx.get(f"{base}/", headers={"Host": f"rebound.example:{port}"}).status_code == 403
    # The page's own origin, and no Origin at all (curl, scripts on this machine), pass.
    assert httpx.get(f"{base}/config", headers={"Origin": base}).status_code == 200
    status, events = call(base, "sources", [], headers={"Origin": base})
    assert status == 200 and "1 article" in events
    assert httpx.get(f"{base}/config", headers={"Origin": f"http://localhost:{port}"}) \
        .status_code == 403  # localhost and 127.0.0.1 are two origins to a browser


def test_a_question_with_a_lone_surrogate_gets_a_chat_message(serve, home):
    base = serve()
    r = httpx.post(f"{base}/gradio_api/call/respond", timeout=60,
                   content=b'{"data": ["What did \\ud800 say?", 3, []]}',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    with httpx.stream("GET", f"{base}/gradio_api/call/respond/{r.json()['event_id']}",
                      timeout=60) as s:
        events = s.read().decode()
    assert "event: complete" in events and "half of a character" in events


@pytest.mark.parametrize("argv", [["--host", "0.0.0.0"], ["--host", "192.0.2.1"],
                                  ["--host", "::"], ["--share"]])
def test_an_open_bind_refuses_to_start(home, argv):
    for command in ([sys.executable, str(ROOT / "app.py")], [sys.executable, "-m", "qa", "serve"]):
        done = subprocess.run(command + argv + ["--port", str(free_port())], capture_output=True,
                              text=True, cwd=ROOT, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 2 and done.stdout == ""
        [line] = done.stderr.splitlines()
        assert "--auth USER:PASSWORD" in line and "QA_AUTH_FILE" in line \
            and "--read-only" in line and "--i-know-it-is-open" in line


def test_loopback_logins_or_read_only_need_no_override(app, home):
    from qa.errors import InputError

    for host in ("0.0.0.0", "10.1.2.3"):
        with pytest.raises(InputError, match="--read-only"):
            app.launch(host, free_port(), block=False)


def test_the_served_chat_runs_a_questions_models_on_one_thread(serve, home, monkeypatch):
    monkeypatch.delenv("QA_QUESTION_THREADS", raising=False)
    try:
        base = serve()
        assert os.environ["QA_QUESTION_THREADS"] == "1"
    finally:
        os.environ.pop("QA_QUESTION_THREADS", None)  # set by launch in this process
    # Gradio's monitoring page (a table of every event, rebuilt after each) is off
    assert call(base, "sources", [])[0] == 200
    assert httpx.get(f"{base}/monitoring/summary").status_code == 403


def test_the_served_chat_keeps_question_threads_given(serve, home, monkeypatch):
    monkeypatch.setenv("QA_QUESTION_THREADS", "3")
    serve()
    assert os.environ["QA_QUESTION_THREADS"] == "3"
