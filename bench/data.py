"""The benchmark sets of ../shared/bench (``QA_BENCH_DATA`` elsewhere): as documents and
questions for the product (``wikiqa``, ``bbc``), and as plain sentences for the speed benchmark
(``bbc_sentences``, ``wikiqa_sentences``)."""
from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from qa.ingest.readers import read_jsonl
from qa.types import Document

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The shared benchmark data: ``QA_BENCH_DATA``, else ../shared/bench beside the project."""
    return Path(os.environ.get("QA_BENCH_DATA") or ROOT.parent / "shared" / "bench")


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


def wikiqa(split: str = "dev", root: Path | None = None) -> Corpus:
    """Every DocumentID of the split is one document: its sentences as given, one a line (the
    newline keeps the given sentence boundaries), titled with DocumentTitle."""
    path = (root or data_dir()) / "wikiqa" / f"WikiQA-{split}.tsv"
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


def bbc(questions: str = "dev", root: Path | None = None) -> Corpus:
    """All 2,225 BBC articles, read by the product's own JSONL reader, and the questions."""
    root = root or data_dir()
    docs = read_jsonl(root / "bbc" / "articles.jsonl")
    qs = []
    with open(root / "bbc" / f"{questions}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                o = json.loads(line)
                qs.append(Question(o["id"], o["question"], o["type"], list(o["gold"]), o["doc_id"]))
    return Corpus(f"bbc-{questions}", docs, qs)


def trec(split: str = "test", root: Path | None = None) -> Corpus:
    """TREC QA answer-sentence selection as one corpus: every distinct candidate sentence of the
    split (back to plain text, numbers masked as in the data) is a document of its own, and every
    question is asked of all of them; a question without a sentence labelled 1 is `none`."""
    from bench.train_rerank import trec as groups

    sentences: dict[str, int] = {}
    questions = []
    for n, (text, cands) in enumerate(groups(split, root)):
        for s, _ in cands:
            sentences.setdefault(s, len(sentences))
        gold = [s for s, label in cands if label]
        questions.append(Question(f"trec-{split}-{n}", text, "fact" if gold else "none", gold))
    docs = [Document(id=f"trec-{split}-s{i}", text=s) for s, i in sentences.items()]
    return Corpus(f"trec-{split}", docs, questions)


# ---- plain sentences, for the speed benchmark -------------------------------------------
@dataclass
class Sentences:
    texts: list[str]
    doc_ids: list[str]


def bbc_documents() -> list:
    """The BBC articles as the speed benchmark has always indexed them: id, text, title, source
    BBC, straight from the JSON (``bbc()`` reads them with the product's reader instead)."""
    docs = []
    with open(data_dir() / "bbc" / "articles.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            docs.append(Document(id=row["id"], text=row["text"], title=row.get("title"),
                                 source="BBC"))
    return docs


def bbc_sentences() -> Sentences:
    """Every sentence of the BBC corpus, split as the index splits them."""
    from qa.ingest.splitter import split_document

    texts, ids = [], []
    for doc in bbc_documents():
        spans, _ = split_document(doc.text)
        texts += [doc.text[s.start:s.end] for s in spans]
        ids += [doc.id] * len(spans)
    return Sentences(texts, ids)


def bbc_questions() -> list[str]:
    with open(data_dir() / "bbc" / "dev.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


@dataclass
class WikiQA:
    sentences: list[str]  # every distinct sentence of the split: one corpus
    questions: list[str]  # answerable questions only
    gold: list[set[int]]  # per question: rows of ``sentences`` labelled 1


def wikiqa_sentences(split: str = "dev") -> WikiQA:
    with open(data_dir() / "wikiqa" / f"WikiQA-{split}.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    row_of: dict[str, int] = {}
    sentences: list[str] = []
    gold: dict[str, set[int]] = defaultdict(set)
    text_of: dict[str, str] = {}
    for r in rows:
        s = " ".join(r["Sentence"].split())
        if s not in row_of:
            row_of[s] = len(sentences)
            sentences.append(s)
        text_of[r["QuestionID"]] = r["Question"]
        if r["Label"] == "1":
            gold[r["QuestionID"]].add(row_of[s])
    qids = [q for q in text_of if gold.get(q)]
    return WikiQA(sentences, [text_of[q] for q in qids], [gold[q] for q in qids])
