"""The attacks of issue 14, measured against the app as it is now: `python -m bench.attacks`.

Runs the real app (real model) in this process in a temporary QA_HOME with the seed, bound to
127.0.0.2 (an address Gradio treats as not-localhost, as on a LAN), and prints one line per
attack with what happened (BENCHMARKS.md, "Reliability", "Sharing the chat").
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = "000_ad6409121addf6a1.txt"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return s.getsockname()[1]


def _app():
    spec = importlib.util.spec_from_file_location("newsroom_app_bench", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call(httpx, base, name, data, **kw):
    """POST /gradio_api/call/NAME and read the result: (status, result bytes, request bytes)."""
    body = json.dumps({"data": data, "session_hash": "bench"}).encode()
    r = httpx.post(f"{base}/gradio_api/call/{name}", content=body, timeout=600,
                   headers={"Content-Type": "application/json", **kw.pop("headers", {})}, **kw)
    if r.status_code != 200:
        return r.status_code, r.content, len(body), r.headers
    done = httpx.get(f"{base}/gradio_api/call/{name}/{r.json()['event_id']}", timeout=600, **kw)
    return done.status_code, done.content, len(body), r.headers


def main() -> None:
    import httpx

    home = Path(tempfile.mkdtemp(prefix="qa-attacks-"))
    shutil.copytree(ROOT / "seeds", home / "seeds")
    os.environ.update(QA_HOME=str(home), HF_HUB_OFFLINE="1")
    app = _app()
    from qa.app import uploads
    from qa.default import default_index
    from qa.types import Document

    port = _port()
    served = app.launch("127.0.0.2", port, auth=["desk:bench-password"], block=False)
    base = f"http://127.0.0.2:{port}"
    codes = [_call(httpx, base, n, d)[0] for n, d in
             (("sources", []), ("remove_articles", [[SEED]]), ("add_articles", [[], False]))]
    print(f"anonymous sources/remove/add with --auth: HTTP {codes}; "
          f"articles still {len(default_index().documents)}")
    served.close()

    port = _port()
    served = app.launch("127.0.0.2", port, read_only=True, block=False)
    base = f"http://127.0.0.2:{port}"
    names = sorted(httpx.get(f"{base}/gradio_api/info").json()["named_endpoints"])
    print(f"--read-only endpoints: {names}")
    served.close()

    port = _port()
    served = app.launch("127.0.0.2", port, open_ok=True, block=False)
    base = f"http://127.0.0.2:{port}"
    evil = {"Origin": "http://evil.example"}
    status, body, _, headers = _call(httpx, base, "remove_articles", [[SEED]], headers=evil)
    info = httpx.get(f"{base}/gradio_api/info", headers=evil)
    print(f"Origin evil.example: remove_articles HTTP {status} {body[:60]!r}; /gradio_api/info "
          f"HTTP {info.status_code}, access-control-allow-origin "
          f"{info.headers.get('access-control-allow-origin')!r}; articles still "
          f"{len(default_index().documents)}")

    index = default_index()
    fake = home / "poison.jsonl"
    fake.write_text(json.dumps({"id": SEED, "title": "Galuzin", "source": "TASS",
                                "text": "Galuzin said that the fake text is true."}) + "\n")
    seed_before = {d.id: d.text for d in index.documents}[SEED]
    report = uploads.add_files(index, [(fake, "poison.jsonl")])
    seed_after = {d.id: d.text for d in index.documents}[SEED]
    print(f"poisoned JSONL reusing the seed's id: {report.message()!r}; seed text unchanged: "
          f"{seed_after == seed_before}")
    uploads.remove(index, report.added)

    big = home / "tiny.txt"
    big.write_text("Tiny\n" + "Ports shut. " * 1_700_000)  # 20 MB, 1.7 million sentences
    t = time.perf_counter()
    report = uploads.add_files(index, [(big, "tiny.txt")])
    print(f"20 MB upload of tiny sentences: {time.perf_counter() - t:.1f} s, {report.message()!r}")
    page = home / "tiny.html"
    page.write_text("<html><head><title>Tiny</title></head><body>" + "".join(
        f"<p>Port {i} shut. Ships waited.</p>" for i in range(60_000)) + "</body></html>")
    t = time.perf_counter()
    report = uploads.add_files(index, [(page, "tiny.html")])
    print(f"{page.stat().st_size / 1e6:.1f} MB HTML upload: {time.perf_counter() - t:.1f} s, "
          f"{report.message()[:160]!r}")

    huge = "Galuzin said " + "very " * 200_000 + "much."
    index.add([Document(id="huge.txt", title="Huge", text=huge)])  # as `qa ingest` would
    _call(httpx, base, "sources", [])  # this session's article filter now lists huge.txt
    sizes = []
    for _ in range(4):
        status, body, sent, _ = _call(httpx, base, "respond",
                                      ["Galuzin said very much", 1, ["huge.txt"]])
        assert status == 200 and b"shortened from 1,000,018" in body, body[:300]
        sizes.append((sent, len(body)))
    print("1 MB sentence, four questions (bytes sent, bytes back): "
          + ", ".join(f"({a:,}, {b:,})" for a, b in sizes))
    served.close()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
