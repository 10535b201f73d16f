"""The real chat (app.py, real model) and `qa ingest` in another process share one index: the
chat answers from an article the ingest committed while it was running, and the chat's own upload
afterwards keeps that article."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from browser.conftest import ROOT, Server

pytestmark = pytest.mark.slow

WIRE = {"id": "wire-zeppelin", "title": "Zeppelin lands on cathedral",
        "text": "A zeppelin landed on the roof of Cologne cathedral on Tuesday morning. "
                "Firefighter Anna Berger said nobody was hurt. The airship was towed away at noon."}


def test_the_chat_answers_from_a_commit_made_while_it_runs(tmp_path_factory):
    from gradio_client import Client, handle_file

    home = tmp_path_factory.mktemp("live-home")
    shutil.copytree(ROOT / "seeds", home / "seeds")
    server = Server(home)
    server.start()
    try:
        client = Client(server.url, verbose=False)
        history, _ = client.predict("Where did the zeppelin land?", [], 3, [], api_name="/respond")
        assert "Cologne cathedral" not in json.dumps(history)
        wire = home / "wire.jsonl"
        wire.write_text(json.dumps(WIRE) + "\n", encoding="utf-8")
        env = dict(os.environ, QA_HOME=str(home), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-m", "qa", "ingest", "--index",
                               str(home / "index"), str(wire)], env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        for _ in range(100):  # the chat reads the commit in the background, then answers from it
            history, _ = client.predict("Where did the zeppelin land?", [], 3, [],
                                        api_name="/respond")
            if "landed on the roof of Cologne cathedral" in json.dumps(history[-1]):
                break
            time.sleep(0.1)
        assert "landed on the roof of Cologne cathedral" in json.dumps(history[-1])
        upload = home / "upload.txt"
        upload.write_text("Harbour news\n\nThe harbour master said the new ferry will sail in "
                          "May.", encoding="utf-8")
        status = client.predict([handle_file(str(upload))], api_name="/add_articles")[0]
        assert status.startswith("Added 1 article"), status
    finally:
        server.stop()
    env = dict(os.environ, QA_HOME=str(home), HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    info = subprocess.run([sys.executable, "-m", "qa", "ask", "--json", "--index",
                           str(home / "index"), "When will the new ferry sail?"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert info.returncode == 0, info.stderr[-2000:]
    from qa import store

    ids = {d.document.id for d in store.load(home / "index").docs}
    assert {"wire-zeppelin", "upload/upload.txt"} <= ids
