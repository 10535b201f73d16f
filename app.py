"""The chat: ask the articles a question, get back their own sentences, quoted and cited.

    python app.py                 # http://127.0.0.1:7860 over the default index (seeds/ -> index/)
    python app.py --host 0.0.0.0  # open it to the network (no share link unless --share)

The default index and the model load once per process (at launch, before the first question);
each browser session keeps its own conversation. Article and question text is shown as text:
``qa.render`` escapes it and the chat renders it with Markdown off and Gradio's sanitiser on.
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine

import gradio as gr  # noqa: E402

from qa import render  # noqa: E402
from qa.chat import DEFAULT_K, Conversation, reply  # noqa: E402
from qa.default import default_index  # noqa: E402
from qa.errors import QAError  # noqa: E402
from qa import uploads  # noqa: E402

log = logging.getLogger("qa.app")

MAX_UPLOAD_MB = int(os.environ.get("QA_MAX_UPLOAD_MB", "20"))
EXAMPLES = ["What did Galuzin say?", "and what did he say about NATO?", "what else?",
            "Who is the Kremlin spokesman?", "What did Kishida and Biden decide?"]
CSS = """
.qa-answer blockquote { margin: 0.2em 0; padding-left: 0.6em; border-left: 3px solid #999; }
.qa-quote { margin-bottom: 0.8em; }
.qa-weak blockquote { color: #666; border-left-style: dashed; }
.qa-cite { font-size: 0.85em; color: #555; }
.qa-score { font-size: 0.8em; color: #888; margin-left: 0.4em; }
.qa-context summary { cursor: pointer; font-size: 0.85em; color: #446; }
.qa-context p { font-size: 0.9em; }
.qa-understood, .qa-nearest { font-size: 0.85em; color: #555; }
.qa-sources { font-size: 0.85em; width: 100%; table-layout: fixed; overflow-wrap: break-word; }
.qa-sources th:first-child { width: 42%; }
.qa-sources th:last-child { width: 22%; }
"""


def respond(message: str, history: list | None, conversation: Conversation | None = None,
            k: int = DEFAULT_K, articles: list[str] | None = None):
    """Answer ``message``: returns the chat history with the question and answer added, the
    conversation to keep, and an empty text box."""
    if not (message or "").strip():
        return list(history or []), conversation or Conversation(), ""
    html, conversation = reply(default_index(), message, conversation, k=int(k),
                               doc_ids=articles or None)
    history = list(history or []) + [
        {"role": "user", "content": render.question_html(message)},
        {"role": "assistant", "content": html}]
    return history, conversation, ""


def sources():
    """Stats line, sources table, and the article choices for the filters, from the index."""
    index = default_index()
    docs = index.documents
    counts = {d.id: index.sentence_count(d.id) for d in docs}
    choices = [((d.title or d.id)[:80], d.id) for d in docs]
    return (render.stats_line(len(docs), len(index)), render.sources_html(docs, counts),
            gr.update(choices=choices), gr.update(choices=choices, value=[]))


def add_articles(files, progress=gr.Progress()):
    """Upload: keep, read, embed and save; then refresh the sources."""
    if not files:
        return ("Choose one or more .txt, .md, .html or .jsonl files first.", *sources())
    pairs = [(Path(f), Path(f).name) for f in files]
    progress(0, desc="Reading")

    def step(done: int, total: int) -> None:
        progress((done, total), desc="Embedding sentences", unit="sentences")

    try:
        report = uploads.add_files(default_index(), pairs, progress=step)
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


with gr.Blocks(title="Newsroom QA") as demo:
    gr.Markdown("## Newsroom QA\nAsk the articles a question: the answer is their own sentences, "
                "quoted and cited.")
    stats = gr.Markdown(elem_id="qa-stats")
    conversation = gr.State(Conversation())
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
            gr.Examples(EXAMPLES, inputs=question, label="Examples")
            new_chat = gr.Button("New conversation", size="sm")
        with gr.Column(scale=2):
            with gr.Accordion("Settings", open=False):
                k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Passages to show")
                only = gr.CheckboxGroup(label="Only these articles (none ticked: all)",
                                        elem_id="qa-only")
            with gr.Accordion("Sources", open=True):
                table = gr.HTML(elem_id="qa-sources", js_on_load=None)
                files = gr.File(label=f"Add articles (.txt .md .html .jsonl, up to "
                                      f"{MAX_UPLOAD_MB} MB)", file_count="multiple",
                                file_types=[".txt", ".md", ".html", ".htm", ".jsonl"],
                                elem_id="qa-upload")
                add = gr.Button("Add to the index", elem_id="qa-add")
                doomed = gr.Dropdown(label="Remove articles", multiselect=True, choices=[],
                                     elem_id="qa-remove-pick")
                drop = gr.Button("Remove", variant="stop", size="sm", elem_id="qa-remove")
                status = gr.Textbox(label="Status", interactive=False, elem_id="qa-status")

    chat_io = dict(fn=respond, inputs=[question, chatbot, conversation, k, only],
                   outputs=[chatbot, conversation, question])
    question.submit(**chat_io)
    ask.click(**chat_io)
    new_chat.click(lambda: ([], Conversation(), ""), outputs=[chatbot, conversation, question])
    chatbot.clear(lambda: Conversation(), outputs=conversation)
    listing = [stats, table, only, doomed]
    add.click(add_articles, inputs=files, outputs=[status, *listing]).then(
        lambda: None, outputs=files)
    drop.click(remove_articles, inputs=doomed, outputs=[status, *listing])
    demo.load(sources, outputs=listing)


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Load the index and model, then serve the chat (127.0.0.1 unless ``host`` says else)."""
    index = default_index()
    index.search("warm up", k=1)  # loads the model now, not on the first question
    log.info("serving %d articles, %d sentences", len(index.documents), len(index))
    demo.queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, share=share, max_file_size=f"{MAX_UPLOAD_MB}mb",
        css=CSS, footer_links=[])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The newsroom QA chat.")
    parser.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"),
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="also open a public share link")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    launch(host=args.host, port=args.port, share=args.share)
