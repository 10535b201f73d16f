"""The index with the fake encoder: build, open, add, remove, save, search."""
import json

import pytest

from fakes import FakeEncoder
from qa import Document, Index
from qa.errors import IndexFileError, InputError

DOCS = [
    Document(id="a", title="Envoy criticises Tokyo", source="TASS", published="February 2",
             text="The envoy criticised Tokyo. He said the remarks were counterproductive. "
                  "Talks will continue next month."),
    Document(id="b", title="Markets", text="Shares in Tokyo rose sharply. The yen fell against the dollar."),
    Document(id="c", title="Football", text="The striker scored twice. The coach praised the team."),
]


def build(tmp_path=None, encoder=None):
    return Index.build(DOCS, path=tmp_path, encoder=encoder or FakeEncoder())


def test_search_returns_exact_sentences_with_offsets_and_context():
    index = build()
    hits = index.search("envoy said remarks counterproductive", k=3)
    assert hits[0].text == "He said the remarks were counterproductive."
    for hit in hits:
        doc = next(d for d in index.documents if d.id == hit.doc_id)
        assert doc.text[hit.start:hit.end] == hit.text
        assert hit.context[hit.start - hit.context_start:hit.end - hit.context_start] == hit.text
    top = hits[0]
    assert (top.doc_id, top.sentence, top.title, top.source) == ("a", 1, "Envoy criticises Tokyo", "TASS")
    assert top.context == DOCS[0].text  # two neighbours each side cover this short article
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_len_and_documents():
    index = build()
    assert len(index) == 7
    assert [d.id for d in index.documents] == ["a", "b", "c"]


def test_save_open_roundtrip_without_reembedding(tmp_path):
    enc = FakeEncoder()
    build(tmp_path / "ix", enc)
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["model"] == enc.name and manifest["dimension"] == enc.dim
    assert manifest["documents"] == 3 and manifest["sentences"] == 7
    assert set(manifest["hashes"]) == {"a", "b", "c"}
    enc2 = FakeEncoder()
    reopened = Index.open(tmp_path / "ix", encoder=enc2)
    assert enc2.encoded == 0 and len(reopened) == 7
    assert reopened.search("striker scored", k=1)[0].text == "The striker scored twice."
    assert enc2.encoded == 1  # only the question


def test_unchanged_documents_are_never_reembedded():
    enc = FakeEncoder()
    index = build(encoder=enc)
    assert enc.encoded == 7
    report = index.add(DOCS)
    assert enc.encoded == 7 and sorted(report.unchanged) == ["a", "b", "c"]
    changed = Document(id="b", title="Markets", text="Shares fell. Bonds rose. Oil was flat.")
    report = index.add([changed, Document(id="d", text="A new article here.")])
    assert enc.encoded == 7 + 3 + 1
    assert report.updated == ["b"] and report.added == ["d"] and report.sentences == 4
    assert len(index) == 7 - 2 + 3 + 1
    assert index.search("bonds", k=1)[0].text == "Bonds rose."


def test_remove():
    index = build()
    assert index.remove(["b", "zzz"]) == ["b"]
    assert len(index) == 5 and all(h.doc_id != "b" for h in index.search("Tokyo yen", k=5))


def test_restrict_to_documents():
    index = build()
    hits = index.search("Tokyo", k=5, doc_ids=["b"])
    assert hits and {h.doc_id for h in hits} == {"b"}
    assert index.search("Tokyo", k=5, doc_ids=["nope"]) == []


def test_ask_wraps_hits():
    answer = build().ask("  the striker   scored  ", k=2)
    assert answer.question == "the striker scored" and len(answer.hits) == 2
    assert isinstance(answer.answered, bool)


def test_duplicate_ids_in_one_batch_are_refused_before_any_change():
    index = build()
    with pytest.raises(InputError, match="id 'x'"):
        index.add([Document(id="x", text="One."), Document(id="x", text="Two.")])
    assert len(index) == 7
    # the same article twice is harmless
    index.add([Document(id="y", text="Same."), Document(id="y", text="Same.")])
    assert len(index) == 8


def test_document_without_sentences_is_reported_not_added():
    index = build()
    report = index.add([Document(id="empty", text=" ... !!! ")])
    assert report.empty == ["empty"] and "empty" not in [d.id for d in index.documents]


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_a_clear_error(question):
    with pytest.raises(InputError, match="question is empty"):
        build().search(question)


@pytest.mark.parametrize("question, message", [
    (None, "question must be text, not NoneType"), (5, "question must be text, not int"),
    (b"Tokyo", "question must be text, not bytes"), ("flood \ud800", "not valid Unicode")])
def test_a_question_that_is_not_text_says_so(question, message):
    with pytest.raises(InputError, match=message):
        build().ask(question)


def test_one_id_or_one_document_is_taken_as_one_and_wrong_types_are_said():
    """A string where a list of ids goes was read letter by letter (a user sweep): remove("a")
    removed nothing and doc_ids="a" found nothing."""
    index = build()
    assert [h.doc_id for h in index.search("Tokyo", k=5, doc_ids="b")] == ["b", "b"]
    assert index.ask("Tokyo", doc_ids="b").hits and index.remove("c") == ["c"]
    assert index.add(Document(id="d", text="The ferry sailed at dawn.")).added == ["d"]
    for call, message in [
            (lambda: index.add(None), "expected qa.Document objects"),
            (lambda: index.remove(None), "doc_ids takes article ids"),
            (lambda: index.remove([1]), "as strings, not int"),
            (lambda: index.ask("Tokyo", doc_ids=5), "doc_ids takes article ids"),
            (lambda: index.ask("Tokyo", sources=5), "sources takes source names"),
            (lambda: index.sentence_count("nope"), "no article 'nope'"),
            (lambda: index.keep_following(0), "at least 0.05"),
            (lambda: index.keep_following("x"), "at least 0.05")]:
        with pytest.raises(InputError, match=message):
            call()


@pytest.mark.parametrize("field, value, message", [
    ("title", 5, "title must be text"), ("source", ["TASS"], "source must be text"),
    ("published", 20220202, "published must be text"),
    ("text", "Bad \ud800 text.", "not valid Unicode"), ("title", "\udcff", "not valid Unicode")])
def test_a_documents_fields_are_checked_before_anything_is_indexed(field, value, message):
    index = build()
    doc = Document(id="x", text="A ferry sank. Forty were rescued.")
    setattr(doc, field, value)
    with pytest.raises(InputError, match=message):
        index.add([doc])
    assert "x" not in {d.id for d in index.documents}


def test_a_published_date_becomes_its_iso_text(tmp_path):
    from datetime import date

    index = build(tmp_path / "ix")
    index.add([Document(id="x", text="A ferry sank. Forty were rescued.",
                        published=date(2022, 2, 2))])
    index.save()
    assert Index.open(tmp_path / "ix", encoder=FakeEncoder()).ask(
        "ferry", since="2022-02-01").hits  # saved, and read back as a date


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k(k):
    with pytest.raises(InputError, match="k must be"):
        build().search("Tokyo", k=k)


def test_empty_index_answers_nothing():
    index = Index(encoder=FakeEncoder())
    assert index.search("anything") == [] and index.ask("anything").answered is False


def test_in_memory_index_needs_a_folder_to_save(tmp_path):
    index = build()
    with pytest.raises(InputError, match="give save"):
        index.save()
    assert index.save(tmp_path / "out") == tmp_path / "out"
    assert len(Index.open(tmp_path / "out", encoder=FakeEncoder())) == 7


def test_opening_with_another_model_names_the_fix(tmp_path):
    build(tmp_path / "ix")
    with pytest.raises(IndexFileError, match=r"built with model 'fake-bag-of-words'.*qa ingest --rebuild"):
        Index.open(tmp_path / "ix", encoder=FakeEncoder(name="other-model"))


def test_missing_index_names_the_fix(tmp_path):
    with pytest.raises(IndexFileError, match="qa ingest --index"):
        Index.open(tmp_path / "nothing", encoder=FakeEncoder())


def test_truncated_vectors_file_is_reported(tmp_path):
    build(tmp_path / "ix")
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    faiss_file = tmp_path / "ix" / manifest["generation"] / "vectors.f32"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexFileError, match="rebuild"):
        Index.open(tmp_path / "ix", encoder=FakeEncoder())


def test_a_save_keeps_one_generation_and_the_old_one_until_the_manifest_moves(tmp_path):
    index = build(tmp_path / "ix")
    first = json.loads((tmp_path / "ix" / "manifest.json").read_text())["generation"]
    index.add([Document(id="d", text="Another one.")])
    index.save()
    second = json.loads((tmp_path / "ix" / "manifest.json").read_text())["generation"]
    assert first != second
    assert sorted(p.name for p in (tmp_path / "ix").iterdir()) == sorted(["manifest.json", ".lock", second])


def test_an_index_past_the_full_ranker_ranks_candidates_with_the_same_features():
    from qa.state import Sizes

    questions = ["Bonds and shares in Tokyo", "The striker scored twice", "What did the envoy say?"]
    full = build()
    want = [full.search(q, k=3) for q in questions]
    index = Index.build(DOCS, encoder=FakeEncoder(), sizes=Sizes(rank_all_max=3))
    assert type(index.row_source()).__name__ == "GraphCandidates"
    for q, hits in zip(questions, want):  # every sentence is a candidate here: the same ranking
        got = index.search(q, k=3)
        assert [(h.doc_id, h.sentence) for h in got] == [(h.doc_id, h.sentence) for h in hits]
        assert [h.score for h in got] == pytest.approx([h.score for h in hits], abs=1e-5)
        assert [h.evidence for h in got] == pytest.approx([h.evidence for h in hits], abs=1e-5)
    assert index.ask("The striker scored twice").answered is True
    assert {h.doc_id for h in index.search("Tokyo", k=5, doc_ids=["b"])} == {"b"}
    # one candidate and its article's sentences
    index = Index.build(DOCS, encoder=FakeEncoder(), sizes=Sizes(rank_all_max=3, candidates=1))
    hits = index.search("The striker scored twice", k=5)
    assert hits[0].text == "The striker scored twice." and {h.doc_id for h in hits} == {"c"}


def test_a_failed_transaction_puts_back_settings_changed_in_place_too():
    index = build()
    index.extra["kept"] = 1
    with pytest.raises(RuntimeError):
        with index.transaction():
            index.extra["kept"] = 2
            index.remove(["a"])
            raise RuntimeError("disk full")
    assert index.extra == {"kept": 1} and [d.id for d in index.documents] == ["a", "b", "c"]


def test_a_failure_after_a_save_in_a_transaction_keeps_what_the_save_committed(tmp_path):
    """What a save committed stays: memory goes back to the save, not to before the block
    (it went back before the block while the folder held the commit: a user sweep)."""
    index = build(tmp_path / "ix")
    with pytest.raises(RuntimeError):
        with index.transaction():
            index.add([Document(id="x3", text="Gamma rays were detected on Tuesday.")])
            index.save()
            index.remove(["a"])
            raise RuntimeError("after the save")
    assert sorted(d.id for d in index.documents) == ["a", "b", "c", "x3"]
    assert sorted(d.id for d in Index.open(tmp_path / "ix", encoder=FakeEncoder()).documents) \
        == ["a", "b", "c", "x3"]


def test_a_question_answers_from_the_state_it_took_while_a_change_swaps_in_a_new_one():
    index = build()
    before = index.state
    index.add([Document(id="d", text="A brand new article about harbours.")])
    assert index.state is not before and "d" not in before.docs  # the old state is untouched
    assert index.search("harbours", k=1)[0].doc_id == "d"
