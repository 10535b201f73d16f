"""How well speaker attribution (qa.ingest.speakers) links the gold statements of the BBC dev `quote`
questions to the person asked about, within the gold article.

    PYTHONPATH=. /work/main/.venv/bin/python -m bench.speakers [-v]
"""
from __future__ import annotations

import sys

from bench import data
from bench.score import found
from qa.ingest.speakers import asked_about, attribute, matches
from qa.ingest.splitter import split_document


def main(argv: list[str]) -> int:
    corpus = data.bbc("dev")
    docs = {d.id: d for d in corpus.documents}
    total = right = wrong = 0
    for q in corpus.questions:
        if q.type != "quote":
            continue
        doc = docs[q.doc_id]
        sentences = [doc.text[s.start:s.end] for s in split_document(doc.text)[0]]
        speakers = attribute(sentences)
        names = asked_about(q.text)
        said = [matches(s, names) for s in speakers]
        gold = [any(found(g, s) for g in q.gold) for s in sentences]
        r = sum(a and b for a, b in zip(gold, said))
        w = sum(b and not a for a, b in zip(gold, said))
        total, right, wrong = total + sum(gold), right + r, wrong + w
        print(f"{r}/{sum(gold)} gold attributed, {w} other sentences attributed | {q.text}")
        if "-v" in argv:
            for s, who, g, m in zip(sentences, speakers, gold, said):
                print(f"    {'G' if g else ' '}{'M' if m else ' '} {who!s:20.20} {s[:90]}")
    print(f"gold statements attributed to the person asked about: {right} of {total} "
          f"({right / total:.3f}); sentences wrongly attributed to them: {wrong}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
