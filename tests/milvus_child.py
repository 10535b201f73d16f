"""A child process for the Milvus tests: adds articles to an index in Milvus and commits, or is
killed in the middle of a commit.

    python tests/milvus_child.py add LOCATION PREFIX N    # N articles PREFIX0.., then save
    python tests/milvus_child.py crash LOCATION           # commit "first", then start
                                                          # committing "second" and stop there
In ``crash`` mode it prints ``mid`` once the second commit's sentences are in the engine and
before its articles are, then waits to be SIGKILLed.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fakes, when run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = "harbour council budget ferry mayor storm river school rail bridge".split()


def docs(prefix: str, n: int):
    from qa import Document

    return [Document(id=f"{prefix}{i}", title=f"{prefix} {WORDS[i % len(WORDS)]}",
                     text=f"The {WORDS[i % len(WORDS)]} story {prefix} number {i}. "
                          f"It happened in {prefix}town. Officials said little.")
            for i in range(n)]


def main(argv: list[str]) -> int:
    from fakes import FakeEncoder
    from qa import Index
    from qa.milvusindex import MilvusIndex
    from qa.storage import milvus

    mode, location = argv[0], argv[1]
    if mode == "add":
        index = MilvusIndex.open_or_new(location, encoder=FakeEncoder())
        index.add(docs(argv[2], int(argv[3])))
        index.save()
        print("done", flush=True)
        return 0
    index = Index.build(docs("first", 3), path=location, encoder=FakeEncoder())
    write = milvus.Engine._write_articles

    def stop_here(self, todo, seq, dim):  # (qa.storage.milvus.Engine._write_articles)
        print("mid", flush=True)
        time.sleep(600)  # the parent kills the process here
        write(self, todo, seq, dim)

    milvus.Engine._write_articles = stop_here
    index.add(docs("second", 3) + [docs("first", 1)[0].__class__(
        id="first0", title="first harbour", text="A changed first story. Nothing else.")])
    index.save()
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
