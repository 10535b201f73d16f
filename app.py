"""The chat: ask the articles a question, get back their own sentences, quoted and cited.

    python app.py                 # http://127.0.0.1:7860 over the default index (seeds/ -> index/)
    python app.py --host 0.0.0.0 --auth desk:PASSWORD   # the network, with logins (or QA_AUTH_FILE)
    python app.py --host 0.0.0.0 --read-only            # the network, nobody can add or remove

The default index and the model load once per process (at launch, before the first question);
each browser session keeps its own conversation, and its history on the server: the browser
sends only the question, and earlier answers are kept compact (``qa.app.render.compact``). Article
and question text is shown as text: ``qa.app.render`` escapes it and the chat renders it with
Markdown off and Gradio's sanitiser on. ``build(read_only=True)`` has no upload or remove
control and no endpoint that changes the index; ``qa.app.guard`` stands in front of every route.
"""
from __future__ import annotations

import argparse
import atexit
import collections
import functools
import logging
import os
import shutil
import sys
import tempfile
import threading
import uuid
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine
# Gradio's queue otherwise rebuilds a pandas table of its last 10,000 events after every event,
# for a /monitoring page this app turns off (launch): 1.6 ms of CPU an event with 100 kept, 6.7 ms
# with 10,000, so a question cost more the longer the server ran (BENCHMARKS.md "Load").
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))

import gradio as gr  # noqa: E402

from qa.app import render  # noqa: E402
from qa.app.chat import DEFAULT_K, Conversation, reply_shown  # noqa: E402
from qa.default import default_index  # noqa: E402
from qa.errors import InputError, QAError  # noqa: E402
from qa import config  # noqa: E402
from qa.app import api, export, guard, logins, uploads  # noqa: E402

log = logging.getLogger("qa.app")

# Questions answered at once (Gradio's queue; the others wait their turn). On the 2-core machine,
# 50 people asking together (tests/test_load.py): 17.5 questions/s with 16, 15.6 with 8, 12.7
# with 2 (BENCHMARKS.md "Load"): a question's Python steps overlap another's model runs.
CONCURRENT = 16
HISTORY_MESSAGES = 40  # what a conversation keeps: the last 20 questions and answers
LIST_EVERY = 15.0  # seconds between an open page's checks that the articles listed changed
FOLLOW_EVERY = 1.0  # seconds between looks for another writer's commit (a stat; questions look too)
EXAMPLES = ["What did Galuzin say?", "and what did he say about NATO?", "what else?",
            "Who is the Kremlin spokesman?", "What did Kishida and Biden decide?"]
CSS = """
.qa-answer blockquote { margin: 0.2em 0; padding-left: 0.6em; border-left: 3px solid #999; }
.qa-quote { margin-bottom: 0.8em; }
.qa-weak blockquote { color: #666; border-left-style: dashed; }
.qa-cite { font-size: 0.85em; color: #555; }
.qa-answer mark.qa-answer-phrase { background: #ffe58a; padding: 0 0.1em; }
.qa-article-head { margin: 0.6em 0 0.2em; }
.qa-limits, .qa-count { font-size: 0.9em; color: #444; }
.qa-score { font-size: 0.8em; color: #888; margin-left: 0.4em; }
.qa-shortened { font-size: 0.8em; color: #888; }
.qa-cite-text { display: none; }
.qa-copy { font-size: 0.75em; margin: 0.2em 0; padding: 0 0.5em; border: 1px solid #bbb;
           border-radius: 4px; cursor: pointer; background: transparent; }
bdi { unicode-bidi: isolate; }
.qa-context summary { cursor: pointer; font-size: 0.85em; color: #446; }
.qa-context p { font-size: 0.9em; }
.qa-understood, .qa-nearest { font-size: 0.85em; color: #555; }
.qa-sources { font-size: 0.85em; width: 100%; table-layout: fixed; overflow-wrap: break-word; }
.qa-sources th:first-child { width: 42%; }
.qa-sources th:last-child { width: 22%; }
"""


def respond(message: str, history: list | None, conversation: Conversation | None = None,
            k: int = DEFAULT_K, articles: list[str] | None = None, since: str = "",
            until: str = "", sources: str = ""):
    """Answer ``message``: returns the chat history with the question and answer added, the
    conversation to keep, and an empty text box. Earlier answers are compacted and only the
    last HISTORY_MESSAGES kept, so the history stays small whatever the articles hold."""
    history, conversation, box, _ = _respond(message, history, conversation, k, articles, since,
                                             until, sources)
    return history, conversation, box


def _respond(message, history, conversation, k, articles, since="", until="", sources=""):
    """``respond``, and the answer as shown (None when nothing was answered)."""
    if not (message or "").strip():
        return list(history or []), conversation or Conversation(), "", None
    html, conversation, shown = reply_shown(
        default_index(), message, conversation, k=int(k), doc_ids=articles or None,
        since=(since or "").strip() or None, until=(until or "").strip() or None,
        sources=[s.strip() for s in (sources or "").split(",") if s.strip()] or None)
    earlier = [{**m, "content": _compact(m["content"])}
               for m in list(history or [])[-(HISTORY_MESSAGES - 2):]]
    history = earlier + [
        {"role": "user", "content": render.question_html(message)},
        {"role": "assistant", "content": html}]
    return history, conversation, "", shown


@functools.lru_cache(maxsize=8192)
def _compact(content: str) -> str:
    """``render.compact``, once per message: every turn hands back the earlier messages, which
    were compacted on the turn before (parsing the whole history again each turn was 12% of the
    server's CPU under load, BENCHMARKS.md "Load")."""
    return render.compact(content)


def chat(message, history, conversation, k, articles, limits=None, buttons=False):
    """The listener: the history lives in the session's state, not in what the browser sends;
    the answer shown can be downloaded as Markdown and as JSON. ``limits``: the Settings'
    dates and sources ({"since", "until", "sources"}, as typed); ``buttons``: whether the
    download buttons are shown already (the session's state, returned last)."""
    limits = limits or {}
    history, conversation, box, shown = _respond(message, history, conversation, k, articles,
                                                 limits.get("since"), limits.get("until"),
                                                 limits.get("sources"))
    if shown is None:
        files = (gr.update(), gr.update())
    elif buttons:  # a new file only: Gradio rebuilds a component for any other change (its
        files = tuple(str(f) for f in _export(shown))  # config and schema, every answer)
    else:
        files = tuple(gr.update(value=str(f), visible=True) for f in _export(shown))
    return history, history, conversation, box, *files, buttons or shown is not None


def _export(shown) -> tuple[Path, Path]:
    """The answer as answer-N.md and answer-N.json, in this process's folder of exports."""
    global _EXPORTS
    with _EXPORTS_LOCK:
        if _EXPORTS is None:
            _EXPORTS = Path(tempfile.mkdtemp(prefix="qa-answers-"))
            # Served from this folder as they are: else Gradio checks every answer file against
            # its allowed folders, hashes it and copies it into its cache, for each answer given
            # (2.5 ms of the server's CPU a question under load, BENCHMARKS.md "Load"). The
            # folder holds only this process's answer files, under names no one can guess.
            gr.set_static_paths([_EXPORTS])
            atexit.register(shutil.rmtree, _EXPORTS, ignore_errors=True)
        folder = _EXPORTS
    name = f"answer-{uuid.uuid4().hex[:12]}"
    md, js = folder / f"{name}.md", folder / f"{name}.json"
    md.write_text(export.markdown(shown), encoding="utf-8")
    js.write_text(export.as_json(shown), encoding="utf-8")
    with _EXPORTS_LOCK:  # a shared chat answers all day: the oldest answers' files go
        _WRITTEN.append((md, js))
        while len(_WRITTEN) > KEPT_ANSWERS:
            for old in _WRITTEN.popleft():
                old.unlink(missing_ok=True)
    return md, js


_EXPORTS: Path | None = None
KEPT_ANSWERS = 2000  # answers whose files stay downloadable (two files each, a few kB)
_WRITTEN: collections.deque = collections.deque()
_EXPORTS_LOCK = threading.Lock()


def sources(keep_picks: bool = False):
    """Stats line, sources table, and the article choices for the filters, from the index
    (``keep_picks``: the articles picked for removal stay picked)."""
    index = default_index()
    try:  # other processes' commits (qa ingest, --watch) are listed as soon as they are made
        index.refresh()
    except QAError as e:
        log.warning("listing the articles as last read: %s", e)
    catalogue = index.catalogue()
    docs = [doc for doc, _ in catalogue]
    counts = {doc.id: size for doc, size in catalogue}
    choices = [((d.title or d.id)[:80], d.id) for d in docs]
    return (render.stats_line(len(docs), sum(counts.values())), render.sources_html(docs, counts),
            gr.update(choices=choices),
            gr.update(choices=choices) if keep_picks else gr.update(choices=choices, value=[]))


def relisted(listed, outputs: int):
    """The sources panel again, when the index changed since this page listed it (a timer,
    every LIST_EVERY seconds: another reporter's upload or a `qa ingest` shows without a
    reload); else nothing is sent. The last of ``outputs`` is the page's listing key."""
    now = default_index().listing_key()
    if now == listed:
        return (gr.skip(),) * outputs
    return (*sources(keep_picks=True)[:outputs - 1], now)


def add_articles(files, replace: bool = False, progress=gr.Progress()):
    """Upload: keep, read, embed and save; then refresh the sources. Nothing indexed is
    replaced unless ``replace`` (and then only earlier uploads)."""
    if not files:
        return ("Choose one or more .txt, .md, .html or .jsonl files first.", *sources())
    pairs = [(Path(f), Path(f).name) for f in files]
    progress(0, desc="Reading")

    def step(done: int, total: int) -> None:
        progress((done, total), desc="Embedding sentences", unit="sentences")

    try:
        report = uploads.add_files(default_index(), pairs, progress=step, replace=bool(replace))
        message = report.message()
    except QAError as e:
        message = f"Nothing was added: {e}"
    except OSError as e:  # anything the library did not name: still one line, nothing added
        log.exception("upload failed")
        message = (f"Nothing was added: {e.strerror or e}. Check that the index and uploads "
                   "folders are writable and have free space, then upload again.")
    return (message, *sources())


def remove_articles(doc_ids):
    if not doc_ids:
        return ("Pick the articles to remove first.", *sources())
    try:
        removed = uploads.remove(default_index(), doc_ids)
        message = f"Removed {len(removed)} article(s): {', '.join(removed)}."
    except QAError as e:
        message = f"Nothing was removed: {e}"
    except OSError as e:
        log.exception("removal failed")
        message = (f"Nothing was removed: {e.strerror or e}. Check that the index folder is "
                   "writable and has free space, then try again.")
    return (message, *sources())


def build(read_only: bool = False) -> gr.Blocks:
    """The chat's page. ``read_only``: no upload or remove control, and no such endpoint."""
    with gr.Blocks(title="Newsroom QA") as blocks:
        gr.Markdown("## Newsroom QA\nAsk the articles a question: the answer is their own "
                    "sentences, quoted and cited.")
        stats = gr.Markdown(elem_id="qa-stats")
        conversation = gr.State(Conversation())
        history = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="qa-chat", height=560, render_markdown=False,
                                     sanitize_html=True, allow_tags=False, latex_delimiters=[],
                                     buttons=[], feedback_options=None, show_label=False,
                                     placeholder="Ask about the articles, e.g. "
                                                 "“What did Galuzin say?”")
                with gr.Row():
                    question = gr.Textbox(elem_id="qa-question", placeholder="Your question",
                                          show_label=False, scale=5, max_lines=3, autofocus=True)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                with gr.Row():
                    as_md = gr.DownloadButton("Download answer (Markdown)", visible=False,
                                              size="sm", elem_id="qa-download-md")
                    as_json = gr.DownloadButton("Download answer (JSON)", visible=False,
                                                size="sm", elem_id="qa-download-json")
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
                new_chat = gr.Button("New conversation", size="sm")
            with gr.Column(scale=2):
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Passages to show")
                    only = gr.CheckboxGroup(label="Only these articles (none ticked: all)",
                                            elem_id="qa-only")
                    with gr.Row():
                        since = gr.Textbox(label="Published since", placeholder="2022-02-01",
                                           elem_id="qa-since", max_lines=1)
                        until = gr.Textbox(label="Published until", placeholder="2022-02-28",
                                           elem_id="qa-until", max_lines=1)
                    only_sources = gr.Textbox(label="Only these sources (comma-separated)",
                                              placeholder="TASS, BBC", elem_id="qa-sources-only",
                                              max_lines=1)
                with gr.Accordion("Sources", open=True):
                    table = gr.HTML(elem_id="qa-sources", js_on_load=None)
                    if not read_only:
                        files = gr.File(label=f"Add articles (.txt .md .html .jsonl, up to "
                                              f"{config.max_upload_mb()} MB and "
                                              f"{uploads.max_upload_sentences():,} sentences)",
                                        file_count="multiple",
                                        file_types=[".txt", ".md", ".html", ".htm", ".jsonl"],
                                        elem_id="qa-upload")
                        replace = gr.Checkbox(label="Replace articles uploaded before (same "
                                                    "name or id)", value=False,
                                              elem_id="qa-replace")
                        add = gr.Button("Add to the index", elem_id="qa-add")
                        doomed = gr.Dropdown(label="Remove articles", multiselect=True,
                                             choices=[], elem_id="qa-remove-pick")
                        drop = gr.Button("Remove", variant="stop", size="sm", elem_id="qa-remove")
                        status = gr.Textbox(label="Status", interactive=False,
                                            elem_id="qa-status")

        # The date and source settings reach the chat through the session's state, so the
        # public /respond endpoint keeps its parameters (question, k, articles)
        limits = gr.State({})
        for box in (since, until, only_sources):
            box.change(lambda a, b, c: {"since": a, "until": b, "sources": c},
                       inputs=[since, until, only_sources], outputs=limits,
                       api_visibility="private", concurrency_id="limits",
                       concurrency_limit=1)  # in the order typed: the last edit's values stay
        buttons = gr.State(False)  # the download buttons shown
        chat_io = dict(fn=chat, inputs=[question, history, conversation, k, only, limits, buttons],
                       outputs=[chatbot, history, conversation, question, as_md, as_json, buttons])
        question.submit(**chat_io, api_name="respond")
        ask.click(**chat_io, api_name="respond_1")
        new_chat.click(lambda: ([], [], Conversation(), ""),
                       outputs=[chatbot, history, conversation, question],
                       api_name="new_conversation")
        chatbot.clear(lambda: (Conversation(), []), outputs=[conversation, history],
                      api_name="clear_conversation")
        if read_only:
            listing = [stats, table, only]
            blocks.load(lambda: sources()[:3], outputs=listing, api_name="sources")
        else:
            listing = [stats, table, only, doomed]
            add.click(add_articles, inputs=[files, replace], outputs=[status, *listing]).then(
                lambda: None, outputs=files)
            drop.click(remove_articles, inputs=doomed, outputs=[status, *listing])
            blocks.load(sources, outputs=listing)
        listed = gr.State(None)  # the index's listing key when this page last listed it
        gr.Timer(LIST_EVERY).tick(lambda key: relisted(key, len(listing) + 1), inputs=listed,
                                  outputs=[*listing, listed], api_visibility="private",
                                  show_progress="hidden")
    return blocks


demo = build()


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False, *,
           auth: list[str] | None = None, read_only: bool = False, open_ok: bool = False,
           block: bool = True) -> gr.Blocks:
    """Load the index and model, then serve the chat (127.0.0.1 unless ``host`` says else).

    ``auth``: ``USER:PASSWORD`` logins, with those of the ``QA_AUTH_FILE`` file. Serving beyond
    this machine (another address, or ``share``) needs logins or ``read_only``, or ``open_ok``.
    """
    users = logins.logins(auth, config.auth_file())
    beyond = share or not guard.is_loopback(host)
    if beyond and not users and not read_only and not open_ok:
        where = "a share link" if share else f"serving on {host}"  # --host, QA_HOST or Gradio's
        raise InputError(f"{where} opens the chat beyond "
                         "this machine with no login: add --auth USER:PASSWORD (or QA_AUTH_FILE) "
                         "or --read-only (or --i-know-it-is-open to serve it open anyway)")
    blocks = build(read_only=True) if read_only else demo
    # Up to CONCURRENT questions run at once: each model run on one thread spends less CPU a
    # question than two threads inside one run (BENCHMARKS.md "Load"); ingests keep QA_THREADS.
    os.environ.setdefault("QA_QUESTION_THREADS", "1")
    index = default_index()
    index.search("warm up", k=1)  # loads the model now, not on the first question
    index.keep_following(FOLLOW_EVERY)  # another writer's commit is read without a question
    if config.batch_questions():
        from qa.app import batching

        batching.install(index)
    log.info("serving %d articles, %d sentences%s%s", len(index.documents), len(index),
             f"; {len(users.users)} login(s)" if users else "", "; read-only" if read_only else "")
    hosts = None if beyond else guard.LOOPBACK_NAMES | {host.lower().strip("[]")}
    from starlette.middleware import Middleware

    in_front = Middleware(guard.Guard, logins=bool(users), read_only=read_only, hosts=hosts,
                          origins=guard.extra_origins(), check=users or None,
                          endpoints=frozenset(f.api_name for f in blocks.fns.values()
                                              if f.api_name))
    # The queue's places and times go to those waiting once a second, not at every question
    # started: with 34 waiting that was 34 messages a question (server CPU 75 -> 72 ms a question).
    blocks.queue(default_concurrency_limit=CONCURRENT, status_update_rate=1).launch(
        server_name=host, server_port=port, share=share, max_file_size=f"{config.max_upload_mb()}mb",
        css=CSS, head=render.COPY_SCRIPT, footer_links=[], auth=users or None, auth_message="Newsroom QA: log in",
        enable_monitoring=False,
        app_kwargs={"middleware": [in_front], "routes": api.routes(), "docs_url": "/api/docs",
                    "openapi_url": "/api/openapi.json",
                    "title": "Newsroom QA"}, prevent_thread_lock=not block)
    return blocks


def main(argv: list[str] | None = None) -> int:
    from qa.cli import serve_options

    parser = argparse.ArgumentParser(description="The newsroom QA chat.")
    serve_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        launch(host=args.host, port=args.port, share=args.share, auth=args.auth,
               read_only=args.read_only, open_ok=args.open)
    except QAError as e:
        print(f"app.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
