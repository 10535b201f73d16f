"""The load test of tests/test_load.py as a benchmark: the app in a subprocess, ``users`` people
asking ``questions`` each (optionally while an upload is indexed), plus what the server process
spent: its CPU seconds a question, and with ``--profile`` a py-spy profile of it split into the
engine (qa.index.Index.ask) and the rest (Gradio, HTTP, rendering, the chat's own code).

    python -m bench.serve_load --users 50 --questions 20 --upload 150
    python -m bench.serve_load --users 1 --questions 60 --profile /tmp/one.txt   # one at a time
    python -m bench.serve_load --rounds 2 --users 50 --questions 20 --upload 0 \
        --compare /path/to/other/checkout    # this checkout and another, alternating

Each run starts from a fresh copy of the same home (the seed article and 50 BBC articles), so
an upload never carries over into the next run.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads_cpu(pid: int) -> tuple[float, float]:
    """(CPU seconds of all ``pid``'s threads alive now, of those among them that run as
    background work: nice 19 or SCHED_IDLE, qa/background.py)."""
    tick = os.sysconf("SC_CLK_TCK")
    every = lowered = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        cpu = (int(fields[11]) + int(fields[12])) / tick
        every += cpu
        if int(fields[16]) == 19 or int(fields[38]) == 5:  # nice, policy (5: SCHED_IDLE)
            lowered += cpu
    return every, lowered


class _Sampler(threading.Thread):
    """The server's background threads' CPU, sampled every ``every`` seconds: how much of the
    cores an upload took while people were asking (its model runs are background work)."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []  # (time.monotonic, background CPU s)
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.samples.append((time.monotonic(), _threads_cpu(self.pid)[1]))
            except OSError:
                return
            self.halt.wait(self.every)

    def between(self, start: float, end: float) -> float:
        """Background CPU seconds spent from ``start`` to ``end`` (nearest samples)."""
        def at(t):
            return min(self.samples, key=lambda s: abs(s[0] - t))[1] if self.samples else 0.0
        return at(end) - at(start)


def _own_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_home(where: Path, checkout: Path) -> Path:
    """A home of the seed article and 50 BBC articles, its index built once by ``qa``."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_load import _articles

    home = where / "home"
    (home / "seeds").mkdir(parents=True)
    for seed in (checkout / "seeds").iterdir():
        shutil.copy(seed, home / "seeds" / seed.name)
    (home / "seeds" / "bbc.jsonl").write_text("".join(_articles(0, 50)), encoding="utf-8")
    env = dict(os.environ, QA_HOME=str(home), HF_HUB_OFFLINE="1", PYTHONPATH=str(checkout))
    subprocess.run([sys.executable, "-m", "qa", "info"], cwd=checkout, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return home


def serve(home: Path, checkout: Path, log: Path, extra: dict | None = None):
    """Start ``checkout``'s app.py over ``home``; (process, url) once it answers."""
    port = _free_port()
    env = dict(os.environ, **(extra or {}), QA_HOME=str(home), QA_UPLOADS=str(home / "uploads"),
               HF_HUB_OFFLINE="1", PYTHONPATH=str(checkout), GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port",
                             str(port)], cwd=checkout, env=env, stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("the app did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.5)


def one_run(base: Path, checkout: Path, args, tag: str, extra: dict | None = None) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_load import run_load

    work = Path(tempfile.mkdtemp(prefix=f"load-{tag}-"))
    home = work / "home"
    shutil.copytree(base, home)
    proc, url = serve(home, checkout, work / "app.log", extra)
    spy = None
    if args.profile:
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-r",
                                "200", "-f", "raw", "-o", f"{args.profile}.{tag}", "--pid",
                                str(proc.pid)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(1)
    load0, cpu0, mine0 = os.getloadavg()[0], _cpu_seconds(proc.pid), _own_cpu()
    sampler = _Sampler(proc.pid)
    sampler.start()
    try:
        report = run_load(url, work, users=args.users, questions=args.questions,
                          upload_articles=args.upload, upload_from=1200, path=args.path)
        sampler.halt.set()
        sampler.join()
        report["server_cpu_s"] = round(_cpu_seconds(proc.pid) - cpu0, 1)
        report["server_cpu_ms_per_question"] = round(
            1000 * report["server_cpu_s"] / max(1, report["answered"]), 1)
        # the upload's model runs (background threads) while people were asking, and the
        # server's CPU a question without any background work
        report["background_cpu_s_while_asking"] = round(sampler.between(*report["asking"]), 1)
        report["server_cpu_ms_per_question_foreground"] = round(
            1000 * (report["server_cpu_s"] - sampler.between(0, time.monotonic()))
            / max(1, report["answered"]), 1)
        report["client_cpu_ms_per_question"] = round(
            1000 * (_own_cpu() - mine0) / max(1, report["answered"]), 1)
        report["env"] = extra or {}
        report["load_average"] = [round(load0, 1), round(os.getloadavg()[0], 1)]
        report["checkout"], report["tag"] = str(checkout), tag
    finally:
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=60)
        proc.terminate()
        proc.wait(timeout=30)
    if args.profile:
        report["profile"] = split(Path(f"{args.profile}.{tag}"))
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report), flush=True)
    return report


ENGINE = "ask (qa/index.py"
PARTS = [("engine: Index.ask", ENGINE), ("rendering (qa/app/render.py)", "qa/app/render.py"),
         ("export files", "_export (app.py"), ("gradio postprocess", "postprocess"),
         ("gradio preprocess", "preprocess")]


def split(raw: Path) -> dict:
    """Busy samples of a py-spy raw profile by part: the engine, rendering, Gradio's pre- and
    post-processing, and the rest (the event loop, HTTP, queue, JSON)."""
    counts: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or _idle(stack):
            continue
        total += int(n)
        part = next((name for name, key in PARTS if key in stack), "the rest")
        counts[part] += int(n)
    return {"busy_samples": total, **{k: round(v / max(1, total), 3) for k, v in
                                      counts.most_common()}}


def _idle(stack: str) -> bool:
    """A thread waiting (select, a lock, a queue), not working."""
    leaf = stack.rsplit(";", 1)[-1]
    return any(w in leaf for w in ("select (", "wait (", "_worker (", "acquire", "poll (",
                                   "run_forever", "accept (", "sleep", "readinto", "recv",
                                   "block_thread ("))  # (the main thread, in time.sleep)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--upload", type=int, default=0, help="articles uploaded meanwhile")
    parser.add_argument("--path", choices=["chat", "api"], default="chat",
                        help="the chat's /respond (default) or the JSON API's /api/ask")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--compare", type=Path, help="another checkout, run alternately")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                        help="also run this checkout with this environment setting")
    parser.add_argument("--profile", help="py-spy raw profile of the server to this path")
    args = parser.parse_args(argv)
    checkouts = [("this", ROOT, {})] + ([("other", args.compare.resolve(), {})]
                                        if args.compare else [])
    checkouts += [(v.lower().replace("=", "-"), ROOT, dict([v.split("=", 1)]))
                  for v in args.variant]
    base = make_home(Path(tempfile.mkdtemp(prefix="load-base-")), ROOT)
    reports = []
    for r in range(args.rounds):
        for tag, checkout, extra in (checkouts if r % 2 == 0 else checkouts[::-1]):
            reports.append(one_run(base, checkout, args, f"{tag}{r}", extra))
    shutil.rmtree(base.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
