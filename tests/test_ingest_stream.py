"""Whole archives (issue 17): `qa ingest` reads articles as a stream, says its rate and time
left, and a killed ingest run again embeds only what was not committed."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from fakes import FakeEncoder
from qa import Document, Index
from qa.ingest import archive
from qa.ingest.readers import ReadResult, count_articles, iter_paths, read_paths
from qa.state import Sizes
from qa.storage import SEARCH_FILE, folder as store, writing
from qa.storage.rows import RawRows
from qa.tuning import INGEST_BATCH
from test_live_archive import articles, check_index, qa_process, write_jsonl

ROOT = Path(__file__).resolve().parent.parent


def test_a_progress_line_says_the_rate_and_the_time_left():
    assert archive.line(1200, 53281, 24810, 60.0, 3) == (
        "Ingesting: 1,200 of 53,281 articles, 24,810 sentences embedded, 414 sentences/s, "
        "3 commits, about 43m24s left")
    assert archive.line(10, None, 100, 4.0, 1) == (
        "Ingesting: 10 articles, 100 sentences embedded, 25 sentences/s, 1 commit")
    assert archive.line(53281, 53281, 10**6, 7384.0, 107, final=True).endswith(
        "107 commits, done in 2h03m")


def test_progress_is_shown_every_few_seconds_and_at_the_end():
    now = [0.0]
    said: list[str] = []
    shown = archive.Progress(100, said.append, clock=lambda: now[0])
    for _ in range(10):  # ten batches of 10 articles, 2 s apart
        now[0] += 2.0
        shown.update(10, 50, 1)
    shown.done(2)
    assert len(said) == 3 + 1, said  # every PROGRESS_SECONDS (5 s): at 6, 12, 18 s; the end
    assert said[0] == ("Ingesting: 30 of 100 articles, 150 sentences embedded, 25 sentences/s, "
                       "1 commit, about 14s left")
    assert said[-1].startswith("Ingesting: 100 of 100 articles, 500 sentences embedded")
    assert said[-1].endswith("2 commits, done in 20s")


def test_an_ingest_reads_its_articles_a_batch_at_a_time(tmp_path):
    docs = articles("stream", 5 * INGEST_BATCH + 3)
    pulled = [0]

    def stream():
        for d in docs:
            pulled[0] += 1
            yield d

    index = Index(tmp_path / "index", encoder=FakeEncoder())
    ahead = []
    add = index.add

    def watched_add(batch, **kw):
        ahead.append(pulled[0] - len(index.documents))  # read but not yet in the index
        return add(batch, **kw)

    index.add = watched_add
    said: list[str] = []
    report = archive.ingest(index, stream(), every=2 * INGEST_BATCH, say=said.append,
                            total=len(docs))
    assert max(ahead) == INGEST_BATCH  # one batch read ahead, never the archive
    assert len(report.added) == len(docs) and report.commits == 3
    assert said[-1].startswith(f"Ingesting: {len(docs)} of {len(docs)} articles")
    assert set(check_index(tmp_path / "index")) == {d.id for d in docs}


def test_files_are_read_one_article_at_a_time_with_errors_in_order(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", articles("a", 3))
    (tmp_path / "b.jsonl").write_text('{"id": "x"}\n', encoding="utf-8")  # no text
    (tmp_path / "c.txt").write_text("Title\n\nA sentence here. Another one.", encoding="utf-8")
    result = ReadResult()
    stream = iter_paths([tmp_path], result)
    first = next(stream)
    assert first.id == "a-000" and not result.errors
    rest = list(stream)
    assert [d.id for d in rest] == ["a-001", "a-002", "c.txt"]
    assert len(result.errors) == 1 and "b.jsonl" in str(result.errors[0])
    whole = read_paths([tmp_path])
    assert [d.id for d in whole.documents] == ["a-000", "a-001", "a-002", "c.txt"]
    assert count_articles([tmp_path]) == 5  # lines and files: bad lines are counted too


def test_a_killed_ingest_run_again_embeds_only_the_rest(tmp_path):
    path, docs = tmp_path / "index", articles("arc", 60)
    src = write_jsonl(tmp_path / "archive.jsonl", docs)
    proc = qa_process("ingest", "--index", str(path), "--commit-every", "8", str(src),
                      delay=0.05)
    deadline = time.monotonic() + 120
    while not (path / "manifest.json").exists():  # the first commit: then kill it
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.01)
    proc.kill()
    proc.communicate(timeout=60)
    kept = len(Index.open(path, encoder=FakeEncoder()).documents)
    assert 0 < kept < 60 and kept % 8 == 0
    again = qa_process("ingest", "--index", str(path), "--commit-every", "8", str(src))
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err[-2000:]
    assert f"{60 - kept} added, 0 updated, {kept} unchanged" in out
    final = [x for x in err.splitlines() if x.startswith("Ingesting: ")][-1]
    assert re.fullmatch(r"Ingesting: 60 of 60 articles, [\d,]+ sentences embedded, "
                        r"[\d,]+ sentences/s, \d+ commits?, done in \d+s", final), final
    assert len(check_index(path)) == 60


def test_a_long_ingest_of_a_large_index_answers_as_one_built_in_one_go(tmp_path, monkeypatch):
    """Commits before the last leave the graph and ranking data out (a reader of one builds
    them and answers as the same articles built at once); after each commit the vectors are
    read from the folder, not held, and the next commit copies that file and writes only the
    new rows; the last commit is the same index as one built in one go."""
    sizes = Sizes(rank_all_max=100, flat_max=40)  # large from about the 18th article
    copied: list[int] = []  # rows each commit copied from the last one's vectors file
    copy = writing._copy_written

    def watched_copy(*args):
        out = copy(*args)
        copied.append(out[0])
        return out

    monkeypatch.setattr(writing, "_copy_written", watched_copy)
    docs = articles("arc", 60)
    questions = [f"{' '.join(d.text.split()[1:4])} arc{i}v0" for i, d in enumerate(docs)][::7]
    path = tmp_path / "streamed"
    index = Index(path, encoder=FakeEncoder(), sizes=sizes)
    commits: list[tuple[int, list[str]]] = []
    save = index.save

    def watched_save(*args, **kw):
        out = save(*args, **kw)
        files = sorted(p.name for p in (path / store.current_generation(path)).iterdir())
        commits.append((len(index.documents), files))
        if index.state.large:  # the vectors committed are read from disk from now on
            assert all(isinstance(v, RawRows) for v in index.state.vectors.values())
        return out

    index.save = watched_save
    report = archive.ingest(index, iter(docs), every=8, progress=False)
    assert report.commits == len(commits) == 8
    assert [n for n, _ in commits] == [8, 16, 24, 32, 40, 48, 56, 60]
    for _, files in commits[:-1]:
        assert SEARCH_FILE not in files and not any(f.startswith("rank.") for f in files)
    assert SEARCH_FILE in commits[-1][1] and "rank.lexicon.json" in commits[-1][1]
    large = [i for i, (n, _) in enumerate(commits) if sum(
        index.sentence_count(d.id) for d in docs[:n]) > sizes.rank_all_max]
    assert large and all(copied[i + 1] > 0 for i in large[:-1])  # after a large commit
    assert copied[:large[0] + 1] == [0] * (large[0] + 1)

    whole = Index.build(docs, tmp_path / "whole", encoder=FakeEncoder(), sizes=sizes)
    mine, theirs = (store.read_manifest(p)["files"] for p in (path, whole.path))
    assert {k: v for k, v in mine.items() if k != SEARCH_FILE} == \
        {k: v for k, v in theirs.items() if k != SEARCH_FILE}  # vectors, texts, rank data
    streamed = Index.open(path, encoder=FakeEncoder(), sizes=sizes)
    built = Index.open(whole.path, encoder=FakeEncoder(), sizes=sizes)
    assert streamed.state.large
    for q in questions:
        assert _answer(streamed, q) == _answer(built, q) == _answer(whole, q)
        assert _answer(streamed, q)[0][0] == f"arc-{int(q.split('arc')[1][:-2]):03d}"


def test_a_reader_of_a_commit_before_the_last_answers_from_it(tmp_path):
    """A large index's commit without the graph and ranking data (a long ingest's) opens and
    answers as the same articles built at once: the reader builds what it lacks, and at the
    next such commit extends the graph it built with the new rows."""
    sizes = Sizes(rank_all_max=100, flat_max=40)
    docs = articles("mid", 40)
    index = Index(tmp_path / "mid", encoder=FakeEncoder(), sizes=sizes)
    index.add(docs)
    index.save(derived=False)
    files = {p.name for p in (index.path / store.current_generation(index.path)).iterdir()}
    assert SEARCH_FILE not in files and not any(f.startswith("rank.") for f in files)
    reader = Index.open(index.path, encoder=FakeEncoder(), sizes=sizes)
    whole = Index.build(docs, encoder=FakeEncoder(), sizes=sizes)
    assert reader.state.large
    for i in range(0, 40, 6):
        q = f"{' '.join(docs[i].text.split()[1:4])} mid{i}v0"
        assert _answer(reader, q) == _answer(whole, q)
        assert _answer(reader, q)[0][0] == docs[i].id
    # the next such commit: the reader adds its new rows to the graph it built
    graph = reader.state.lazy.search
    more = articles("mid", 50)[40:]
    index.add(more)
    index.save(derived=False)
    assert reader.refresh() and reader.state.lazy.grow_from is graph
    for i in range(0, 50, 7):  # (an extended graph is not the graph built at once: the best)
        q = f"{' '.join((docs + more)[i].text.split()[1:4])} mid{i}v0"
        assert _answer(reader, q)[0][0] == (docs + more)[i].id
    assert reader.state.lazy.search.ntotal == len(reader) == len(index)


def _answer(index: Index, question: str) -> list[tuple[str, int, float]]:
    return [(h.doc_id, h.start, round(h.score, 6)) for h in index.search(question, k=5)]


@pytest.mark.slow
def test_a_long_ingest_with_the_real_model_answers_as_one_built_in_one_go(tmp_path):
    """The same with the real model, each sentence of the seed article an article, the index
    large from its 6th: one commit per 2 articles, then the same answers."""
    from qa.encoders import load_encoder
    from qa.ingest.readers import read_file
    from qa.ingest.splitter import split_document

    encoder = load_encoder("all-MiniLM-L6-v2")
    seed = next((ROOT / "seeds").glob("*.txt"))
    text = read_file(seed)[0].text
    sentences = [text[s.start:s.end] for s in split_document(text)[0]]
    docs = [Document(id=f"s{i:02d}", text=t, title="Galuzin on Tokyo's rhetoric")
            for i, t in enumerate(sentences)]
    sizes = Sizes(rank_all_max=5, flat_max=3)
    index = Index(tmp_path / "streamed", encoder=encoder, sizes=sizes)
    report = archive.ingest(index, iter(docs), every=2, progress=False)
    assert len(docs) >= 10 and report.commits == -(-len(docs) // 2) and index.state.large
    # built in one commit from the same embedding batches (the model's vectors move in the
    # last digits with what a sentence is batched with: Index.build embeds all at once)
    whole = Index(tmp_path / "whole", encoder=encoder, sizes=sizes)
    for lo in range(0, len(docs), 2):
        whole.add(docs[lo:lo + 2])
    whole.save()
    at_once = Index.build(docs, encoder=encoder, sizes=sizes)
    streamed = Index.open(tmp_path / "streamed", encoder=encoder, sizes=sizes)
    for q in ("What did Galuzin say?", "Where did Galuzin speak?", "Who is the ambassador to "
              "Japan?", "What do Japanese officials say about Ukraine?"):
        assert _answer(streamed, q) == _answer(whole, q)
        assert _answer(streamed, q)[0][:2] == _answer(at_once, q)[0][:2]
    hit = streamed.search("Who is Russia's ambassador to Japan?", k=1)[0]
    assert "Galuzin" in hit.text and "Ambassador" in hit.text
