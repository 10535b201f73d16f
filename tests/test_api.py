"""The JSON API beside the chat (qa/app/api.py), over real HTTP on the app launched in this process
(fake encoder): the same answer as `qa ask --json`, the articles, errors as JSON, logins."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from conftest import ROOT
from test_serving import app, free_port, home, serve  # noqa: F401  (fixtures)


def test_ask_returns_what_qa_ask_json_prints(serve, home, capsys):  # noqa: F811
    from qa.cli import main

    base = serve()
    r = httpx.get(f"{base}/api/ask", params={"q": "Who is the Kremlin spokesman?", "k": 3})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    capsys.readouterr()  # what the server printed as it started
    assert main(["ask", "--json", "--k", "3", "Who is the Kremlin spokesman?"]) == 0
    assert r.json() == json.loads(capsys.readouterr().out)
    assert r.json()["answered"] in (True, False) and len(r.json()["hits"]) == 3
    hit = r.json()["hits"][0]
    assert {"text", "doc_id", "title", "sentence", "start", "end", "context", "source",
            "published"} <= hit.keys()


def test_articles_are_listed(serve, home):  # noqa: F811
    base = serve()
    r = httpx.get(f"{base}/api/articles")
    assert r.status_code == 200
    [article] = r.json()
    assert article["id"] == "000_ad6409121addf6a1.txt" and article["sentences"] == 12
    assert article["source"] == "TASS" and article["title"].startswith("Tokyo’s rhetoric")


@pytest.mark.parametrize("params, message", [
    ({"q": "  "}, "the question is empty"), ({}, "the question is empty"),
    ({"q": "Who?", "k": "0"}, "k must be a whole number of at least 1"),
    ({"q": "Who?", "k": "many"}, "k must be a whole number of at least 1, not 'many'")])
def test_errors_are_json_with_a_message(serve, home, params, message):  # noqa: F811
    r = httpx.get(f"{serve()}/api/ask", params=params)
    assert r.status_code == 400 and message in r.json()["error"]


def test_the_api_obeys_logins_and_is_described(serve, home):  # noqa: F811
    base = serve(auth=["desk:s3cret-words"])
    for path in ("/api/ask?q=Who", "/api/articles", "/api/openapi.json", "/api/docs"):
        assert httpx.get(base + path).status_code == 401
        assert httpx.get(base + path, auth=("desk", "wrong")).status_code == 401
        assert httpx.get(base + path, auth=("desk", "s3cret-words")).status_code == 200
    login = httpx.post(f"{base}/login", data={"username": "desk", "password": "s3cret-words"})
    assert httpx.get(f"{base}/api/articles", cookies=login.cookies).status_code == 200
    spec = httpx.get(f"{base}/api/openapi.json", auth=("desk", "s3cret-words")).json()
    assert {"/api/ask", "/api/articles"} <= set(spec["paths"])
    assert "question" in json.dumps(spec["paths"]["/api/ask"])


def test_the_api_refuses_other_origins(serve, home):  # noqa: F811
    base = serve()
    r = httpx.get(f"{base}/api/articles", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


def test_read_only_keeps_the_api(serve, home):  # noqa: F811
    assert httpx.get(f"{serve(read_only=True)}/api/articles").status_code == 200


def test_platform_address_variables(home):  # noqa: F811
    """GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are honoured; QA_PORT wins; the network rules
    apply whichever way the address was set."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("QA_PORT", None)
    env.pop("QA_HOST", None)
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], capture_output=True, text=True,
                          timeout=120, env={**env, "GRADIO_SERVER_NAME": "0.0.0.0"})
    assert done.returncode == 2 and "serving on 0.0.0.0 opens the chat" in done.stderr
    from qa.cli import _parser

    os.environ.update(GRADIO_SERVER_NAME="127.0.0.2", GRADIO_SERVER_PORT="7123")
    try:
        args = _parser().parse_args(["serve"])
        assert (args.host, args.port) == ("127.0.0.2", 7123)
        os.environ["QA_PORT"] = "7124"
        assert _parser().parse_args(["serve"]).port == 7124
        assert _parser().parse_args(["serve", "--port", "7125"]).port == 7125
    finally:
        for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "QA_PORT"):
            os.environ.pop(name, None)


def test_ask_takes_dates_sources_and_gives_every_statement(serve, home):  # noqa: F811
    base = serve()
    r = httpx.get(f"{base}/api/ask", params={"q": "What did Galuzin say?", "since": "2022-02-01",
                                             "source": "TASS"})
    body = r.json()
    assert r.status_code == 200 and body["statements"] is True and len(body["hits"]) == 6
    assert body["taken_as"] == "published on or after 1 February 2022, from TASS"
    assert body["undated"] == ["000_ad6409121addf6a1.txt"]  # "February 2": no year, kept
    assert len(httpx.get(f"{base}/api/ask", params={"q": "What did Galuzin say?", "k": 2}
                         ).json()["hits"]) == 2
    r = httpx.get(f"{base}/api/ask", params={"q": "What did Galuzin say?", "source": "Reuters"})
    assert r.status_code == 400 and "no article comes from Reuters" in r.json()["error"]
    assert "TASS (1)" in r.json()["error"]  # the sources there are
    r = httpx.get(f"{base}/api/ask", params={"q": "Who?", "since": "soon-ish maybe"})
    assert r.status_code == 400 and "since must be a date" in r.json()["error"]
