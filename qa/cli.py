"""The ``qa`` command: ingest articles, ask questions, inspect the index, serve the chat.

User mistakes print one line and exit with code 2; no traceback.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import re
import sys
import textwrap
from pathlib import Path

from .display import for_terminal, not_text
from .errors import QAError

log = logging.getLogger("qa")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except QAError as e:
        print(f"qa: error: {for_terminal(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `qa info | head -4`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit either
        return 141  # as a command ended by SIGPIPE


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa", description="Ask questions of news articles; answers are "
                                "the articles' own sentences, with citations.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ing = sub.add_parser(
        "ingest", help="add articles (.txt .md .html .jsonl, or folders) to an index",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Add articles to an index. Several ingests, the chat and --watch can share "
                    "one index: each commit adds its own changes on top of the others'.",
        epilog=textwrap.dedent(f"""\
            Commits: a long ingest commits every {archive_defaults()[0]} articles or
            {archive_defaults()[1]:g} seconds (QA_COMMIT_ARTICLES, QA_COMMIT_SECONDS), so a crash
            keeps what was committed and running it again goes on from there.

            --watch FOLDER: ingest the folder, then keep running: a file added or changed in it
            is read and committed, a file deleted from it has its articles removed from the
            index, a file that cannot be read is named and skipped. Ctrl-C stops it between
            commits."""))
    ing.add_argument("paths", nargs="*", metavar="PATH")
    ing.add_argument("--index", metavar="DIR", help="index folder (default: the project's index/)")
    ing.add_argument("--rebuild", action="store_true", help="start the index afresh")
    ing.add_argument("--watch", metavar="FOLDER", help="keep FOLDER and the index in step")
    ing.add_argument("--commit-every", type=int, metavar="N",
                     help="commit every N articles (default QA_COMMIT_ARTICLES or "
                          f"{archive_defaults()[0]})")
    ing.add_argument("--device", choices=["cpu", "cuda", "auto"],
                     help="embed on the CPU (default) or a GPU (QA_DEVICE); questions are "
                          "always encoded on the CPU")
    ing.set_defaults(run=_ingest)

    ask = sub.add_parser("ask", help="ask a question")
    ask.add_argument("question")
    ask.add_argument("--k", type=int, default=None,
                     help="how many sentences (default 5; a \"what did X say\" question gives "
                          "every statement of X's unless --k is given)")
    ask.add_argument("--since", metavar="DATE", help="only articles published on or after DATE "
                     "(2022-02-01); a time phrase in the question (\"last week\") sets it too")
    ask.add_argument("--until", metavar="DATE", help="only articles published on or before DATE")
    ask.add_argument("--source", action="append", metavar="NAME", dest="sources",
                     help="only articles from this source (repeat for several)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--index", metavar="DIR", help="index folder (default: built from seeds/)")
    ask.set_defaults(run=_ask)

    info = sub.add_parser("info", help="what an index holds")
    info.add_argument("--index", metavar="DIR")
    info.set_defaults(run=_info)

    serve = sub.add_parser("serve", help="open the chat in the browser")
    serve.add_argument("--index", metavar="DIR",
                       help="serve this index folder (or Milvus location) as it is, without the "
                       "seeds (default: QA_INDEX, else index/, with seeds/ in it)")
    serve_options(serve)
    serve.set_defaults(run=_serve)

    pw = sub.add_parser("hash-password", help="a user:hash line for the QA_AUTH_FILE logins file")
    pw.add_argument("user")
    pw.set_defaults(run=_hash_password)
    return p


def serve_options(p: argparse.ArgumentParser) -> None:
    """The chat's options, for `qa serve` and `python app.py`."""
    # Flags win, then QA_HOST / QA_PORT, then the GRADIO_SERVER_NAME / GRADIO_SERVER_PORT that
    # container platforms set; the network-safety rules apply whichever way it was set.
    p.add_argument("--host", default=os.environ.get("QA_HOST")
                   or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; QA_HOST, "
                        "GRADIO_SERVER_NAME)")
    p.add_argument("--port", type=int, help="port (default 7860; QA_PORT, GRADIO_SERVER_PORT)",
                   default=os.environ.get("QA_PORT") or os.environ.get("GRADIO_SERVER_PORT")
                   or "7860")  # a string: argparse checks it as it checks a flag
    p.add_argument("--share", action="store_true", help="also open a public share link")
    p.add_argument("--auth", action="append", metavar="USER:PASSWORD",
                   help="a login (repeatable); or name a file of user:hash lines in QA_AUTH_FILE "
                        "(`qa hash-password USER`), which keeps passwords out of `ps`")
    p.add_argument("--read-only", action="store_true",
                   help="no upload or remove control, and no endpoint that changes the index")
    p.add_argument("--i-know-it-is-open", dest="open", action="store_true",
                   help="serve beyond this machine with neither logins nor --read-only")


def _open(index_dir: str | None):
    from .default import default_index
    from .index import Index

    if index_dir is None:
        return default_index()
    return Index.open(index_dir)


def archive_defaults() -> tuple[int, float]:
    from .ingest import archive

    return archive.COMMIT_ARTICLES, archive.COMMIT_SECONDS


def _ingest(args) -> int:
    from .ingest import archive
    from .ingest.readers import ReadResult, count_articles, iter_paths

    if args.device:
        os.environ["QA_DEVICE"] = args.device
    if not args.paths and not args.watch:
        print("qa: error: name the files or folders to ingest, or --watch FOLDER",
              file=sys.stderr)
        return 2
    result = ReadResult()
    said = [0, 0]  # errors and skipped files printed so far: each once, as it is met

    def read():  # the articles one at a time: an archive is never held whole
        for doc in iter_paths(args.paths, result):
            _say_skipped(result, said)
            yield doc
        _say_skipped(result, said)

    index = _index_to_change(args)
    if args.paths:
        stream = read()
        first = next(stream, None)
        if first is None and not args.watch:
            print("qa: error: no article could be read from " + ", ".join(args.paths),
                  file=sys.stderr)
            return 2
        if first is not None:
            docs = itertools.chain([first], stream)
            report = archive.ingest(index, docs, every=args.commit_every, replace=args.rebuild,
                                    total=count_articles(args.paths))
            print(report.line(index))
    elif not args.watch:
        report = archive.ingest(index, [], every=args.commit_every, replace=args.rebuild)
        print(report.line(index))
    if args.watch:
        archive.watch(index, Path(args.watch),
                      say=lambda line: print(line, file=sys.stderr, flush=True))
    return 2 if result.errors else 0


def _say_skipped(result, said: list[int]) -> None:
    for err in result.errors[said[0]:]:
        print(f"qa: skipped {err}", file=sys.stderr)
    for note in result.skipped[said[1]:]:
        print(f"qa: skipped {note}", file=sys.stderr)
    said[:] = [len(result.errors), len(result.skipped)]


def _index_to_change(args):
    from .default import default_index, index_dir
    from .errors import IndexFileError
    from .index import Index

    from . import config
    from .storage import milvus

    location = args.index if args.index is not None else config.index_location()
    if milvus.is_location(location) and (args.index is not None or args.rebuild):
        from .milvusindex import MilvusIndex

        return MilvusIndex(location) if args.rebuild else MilvusIndex.open_or_new(location)
    if args.index is None and not args.rebuild:
        return default_index(progress=True)
    path = Path(args.index) if args.index else index_dir()
    if path.exists() and not path.is_dir():
        raise QAError(f"--index {path} is a file, not an index folder: name a folder (a new "
                      "one is created)")
    if args.rebuild:
        return Index(path)
    try:
        return Index.open(path)
    except IndexFileError:
        if (path / "manifest.json").exists():
            raise
        return Index(path)  # a new index (or another ingest is creating it: commits merge)


def _ask(args) -> int:
    why = not_text(args.question)
    if why:
        print(f"qa: error: the question {why}", file=sys.stderr)
        return 2
    answer = _open(args.index).ask(args.question, k=args.k, since=args.since, until=args.until,
                                   sources=args.sources)
    if args.json:  # JSON escapes C0 controls itself; C1 and bidi controls are escaped here
        text = json.dumps(answer.to_dict(), ensure_ascii=False, indent=1)
        print(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
        return 0
    if answer.taken_as:
        print(f"Taken as: {for_terminal(answer.taken_as)}")
    if not answer.answered:
        print("No article answers this." + (" Nearest sentences:" if answer.hits else ""))
    elif answer.statements:
        from .statements import count_line

        print(count_line(answer.hits) + ":")
    for n, hit in enumerate(answer.hits, 1):
        cite = ", ".join(x for x in (hit.title or hit.doc_id, hit.source, hit.published) if x)
        cite += " (undated)" if hit.doc_id in answer.undated else ""
        print(f"{n}. {for_terminal(hit.text)}")
        print(textwrap.indent(f"— {for_terminal(cite)}; sentence {hit.sentence + 1} "
                              f"(score {hit.score:.2f})", "   "))
        if hit.answer_start is not None:
            phrase = hit.text[hit.answer_start - hit.start:hit.answer_end - hit.start]
            print(f"   answer: {for_terminal(phrase)}")
    return 0


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _info(args) -> int:
    from . import store
    from .default import index_dir

    index = _open(args.index)
    path = index.path or index_dir()
    print(f"index: {for_terminal(path)}")
    print(f"model: {for_terminal(index.model)}   backend: {index.backend or 'not recorded'}")
    print(f"articles: {len(index.documents)}   sentences: {len(index)}")
    manifest = store.read_manifest(path) if isinstance(path, Path) and path.exists() else {}
    if manifest:
        print(f"format: {manifest['format']}   generation: {manifest['generation']}")
    for doc in index.documents[:20]:
        print(f"  {for_terminal(doc.id)}: {for_terminal(doc.title or '(no title)')} — "
              f"{index.sentence_count(doc.id)} sentences")
    if len(index.documents) > 20:
        print(f"  … and {len(index.documents) - 20} more")
    return 0


def _serve(args) -> int:
    import importlib.util

    from .default import home

    # The app sits beside the package in a checkout; QA_HOME may be a data-only folder.
    candidates = [Path(__file__).resolve().parent.parent / "app.py", home() / "app.py",
                  Path.cwd() / "app.py"]
    app_file = next((c for c in candidates if c.is_file()), None)
    if app_file is None:
        print("qa: error: app.py not found beside the qa package, in QA_HOME or here; run "
              "`qa serve` from the project folder", file=sys.stderr)
        return 2
    if args.index:  # that index as it stands, not seeded (the app asks default_index())
        from .default import use

        use(args.index)
    spec = importlib.util.spec_from_file_location("newsroom_app", app_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.launch(host=args.host, port=args.port, share=args.share, auth=args.auth,
                  read_only=args.read_only, open_ok=args.open)
    return 0


def _hash_password(args) -> int:
    import getpass

    from .app.logins import hash_password

    if ":" in args.user or not args.user.strip():
        print("qa: error: a user name cannot be empty or hold ':'", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.user}: ")
        if getpass.getpass("again: ") != password:
            print("qa: error: the two passwords differ; nothing was written", file=sys.stderr)
            return 2
    else:  # piped: the first line is the password
        password = sys.stdin.readline().rstrip("\r\n")
    print(f"{args.user.strip()}:{hash_password(password)}")
    return 0
