"""The benchmark sets of ../shared/bench as documents and questions."""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from qa.readers import read_jsonl
from qa.types import Document

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"


@dataclass
class Question:
    id: str
    text: str
    type: str  # fact, quote, context, none (WikiQA: fact or none)
    gold: list[str] = field(default_factory=list)
    doc_id: str | None = None


@dataclass
class Corpus:
    name: str
    documents: list[Document]
    questions: list[Question]
    given: dict[str, list[str]] = field(default_factory=dict)  # doc id -> sentences as given


def wikiqa(split: str = "dev", root: Path = SHARED) -> Corpus:
    """Every DocumentID of the split is one document: its sentences as given, one a line (the
    newline keeps the given sentence boundaries), titled with DocumentTitle."""
    path = root / "wikiqa" / f"WikiQA-{split}.tsv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    sentences: dict[str, dict[int, str]] = defaultdict(dict)
    titles: dict[str, str] = {}
    asked: dict[str, Question] = {}
    for r in rows:
        sentences[r["DocumentID"]][int(r["SentenceID"].rsplit("-", 1)[1])] = r["Sentence"].strip()
        titles[r["DocumentID"]] = r["DocumentTitle"]
        q = asked.setdefault(r["QuestionID"], Question(r["QuestionID"], r["Question"], "none",
                                                       doc_id=r["DocumentID"]))
        if r["Label"] == "1":
            q.gold.append(r["Sentence"].strip())
            q.type = "fact"
    given = {d: [s[i] for i in sorted(s)] for d, s in sentences.items()}
    docs = [Document(id=d, title=titles[d], text="\n".join(given[d])) for d in given]
    return Corpus(f"wikiqa-{split}", docs, list(asked.values()), given)


def bbc(questions: str = "dev", root: Path = SHARED) -> Corpus:
    """All 2,225 BBC articles, read by the product's own JSONL reader, and the questions."""
    docs = read_jsonl(root / "bbc" / "articles.jsonl")
    qs = []
    with open(root / "bbc" / f"{questions}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                o = json.loads(line)
                qs.append(Question(o["id"], o["question"], o["type"], list(o["gold"]), o["doc_id"]))
    return Corpus(f"bbc-{questions}", docs, qs)
