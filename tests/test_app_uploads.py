"""Uploaded articles: kept safely, searchable at once and after a restart, removable."""
import shutil

import pytest

import qa.default
from conftest import SEED
from qa.app.uploads import add_files, keep, remove, safe_name, uploads_dir


@pytest.mark.parametrize("name, safe", [
    ("story.txt", "story.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\boot.ini.md", "boot_ini.md"),
    ("/abs/path/Report 2024 (final).HTML", "Report_2024_final.html"),
    (".hidden.jsonl", "hidden.jsonl"),
    ("..", "article"),
    ("", "article"),
    ("ｆｕｌｌ／ｗｉｄｔｈ.txt", "width.txt"),
    ("a" * 300 + ".txt", "a" * 100 + ".txt"),
    ("naïve café.md", "na_ve_caf.md"),
])
def test_safe_name_is_only_a_name(name, safe):
    assert safe_name(name) == safe


@pytest.mark.parametrize("name", ["../../escape.txt", "/etc/cron.d/x.txt", "..", ".", "a/../../b.md"])
def test_kept_files_never_leave_the_upload_folder(tmp_path, name):
    src = tmp_path / "src"
    src.write_text("Headline\nBody.")
    folder = tmp_path / "up" / "loads"
    kept = keep(src, name, folder)
    assert kept.parent == folder.resolve() and kept.read_text() == "Headline\nBody."
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(["src", kept.name])


def test_a_different_file_with_the_same_name_does_not_overwrite(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("one")
    b.write_text("two")
    folder = tmp_path / "up"
    assert keep(a, "x.txt", folder).name == "x.txt"
    assert keep(a, "x.txt", folder).name == "x.txt"  # the same file again: same place
    assert keep(b, "x.txt", folder).name == "x-2.txt"
    assert (folder / "x.txt").read_text() == "one"


def upload(tmp_path, name, data):
    src = tmp_path / "incoming" / name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data if isinstance(data, bytes) else data.encode())
    return src, name


def test_upload_is_searchable_at_once_and_after_a_restart(isolated_home, fake_model, tmp_path):
    shutil.copy(SEED, isolated_home / "seeds")
    index = qa.default.default_index()
    seen = []
    report = add_files(index, [
        upload(tmp_path, "tariffs.txt", "Tariff talks\nThe minister raised steel tariffs sharply."),
        upload(tmp_path, "broken.txt", b"\x00\x01binary"),
        upload(tmp_path, "notes.pdf", "not an article"),
    ], progress=lambda done, total: seen.append((done, total)))
    assert report.added == ["upload/tariffs.txt"]
    assert any("broken.txt" in e and "binary" in e for e in report.errors)
    assert any("notes.pdf" in e and "unsupported" in e for e in report.errors)
    assert str(tmp_path) not in report.message()  # names as uploaded, not server paths
    assert seen and seen[-1][0] == seen[-1][1]
    assert index.search("steel tariffs minister", 1)[0].doc_id == "upload/tariffs.txt"
    assert sorted(p.name for p in uploads_dir().iterdir()) == ["tariffs.txt"]  # bad ones not kept
    qa.default.reset()  # a restart
    again = qa.default.default_index()
    assert "upload/tariffs.txt" in {d.id for d in again.documents}
    assert len(again.documents) == 2


def test_a_bad_jsonl_line_is_reported_and_the_good_lines_go_in(isolated_home, fake_model, tmp_path):
    index = qa.default.default_index()
    lines = '{"id": "j1", "text": "Ports reopened after the storm."}\nnot json\n'
    report = add_files(index, [upload(tmp_path, "batch.jsonl", lines)])
    assert report.added == ["upload/j1"]
    assert len(report.errors) == 1 and "batch.jsonl:2" in report.errors[0]


def test_remove_takes_the_article_and_its_file_away(isolated_home, fake_model, tmp_path):
    shutil.copy(SEED, isolated_home / "seeds")
    index = qa.default.default_index()
    add_files(index, [upload(tmp_path, "a.txt", "A\nThe harbour froze."),
                      upload(tmp_path, "b.jsonl", '{"id": "b1", "text": "Snow fell."}\n'
                                                  '{"id": "b2", "text": "Rain came."}\n')])
    assert remove(index, ["upload/a.txt", "upload/b1", "nope"]) == ["upload/a.txt", "upload/b1"]
    assert sorted(p.name for p in uploads_dir().iterdir()) == ["b.jsonl"]  # b2 still uses it
    assert remove(index, ["upload/b2"]) == ["upload/b2"]
    assert list(uploads_dir().iterdir()) == []
    qa.default.reset()
    assert [d.id for d in qa.default.default_index().documents] == [SEED.name]


def test_an_upload_cannot_replace_a_seed_article(isolated_home, fake_model, tmp_path):
    """The attack of issue 14: a JSONL line reusing the seed's id used to replace its text."""
    import json

    shutil.copy(SEED, isolated_home / "seeds")
    index = qa.default.default_index()
    seed_text = {d.id: d.text for d in index.documents}[SEED.name]
    fake = json.dumps({"id": SEED.name, "title": "Galuzin", "source": "TASS",
                       "text": "Galuzin said that the fake text is true."})
    for replace in (False, True):
        report = add_files(index, [upload(tmp_path, "poison.jsonl", fake + "\n")], replace=replace)
        assert {d.id: d.text for d in index.documents}[SEED.name] == seed_text
        assert report.added in (["upload/" + SEED.name], []) and report.replaced == []
    qa.default.reset()  # and after a restart
    assert {d.id: d.text for d in qa.default.default_index().documents}[SEED.name] == seed_text


def test_an_upload_never_replaces_an_ingested_article_even_when_asked(isolated_home, fake_model,
                                                                      tmp_path):
    from qa.types import Document

    index = qa.default.default_index()
    index.add([Document(id="upload/story.txt", text="Ingested by qa ingest.", origin="/archive/x")])
    for replace in (False, True):
        report = add_files(index, [upload(tmp_path, "story.txt", "Story\nUploaded instead.")],
                           replace=replace)
        assert report.added == [] and "seeds/ or `qa ingest`" in report.message()
        assert index.documents[0].text == "Ingested by qa ingest."
    assert list(uploads_dir().iterdir()) == []  # the refused file is not kept


def test_an_earlier_upload_is_replaced_only_when_asked_and_the_reply_says_so(
        isolated_home, fake_model, tmp_path):
    index = qa.default.default_index()
    assert add_files(index, [upload(tmp_path, "a.txt", "A\nThe harbour froze.")]).added == \
        ["upload/a.txt"]
    again = add_files(index, [upload(tmp_path, "a.txt", "A\nThe harbour thawed.")])
    assert again.added == [] and "already indexed from an earlier upload" in again.message()
    assert "Replace articles uploaded before" in again.message()
    assert index.documents[0].text == "The harbour froze."
    assert [p.name for p in uploads_dir().iterdir()] == ["a.txt"]
    same = add_files(index, [upload(tmp_path, "a.txt", "A\nThe harbour froze.")])
    assert same.unchanged == ["upload/a.txt"] and same.errors == []
    asked = add_files(index, [upload(tmp_path, "a.txt", "A\nThe harbour thawed.")], replace=True)
    assert asked.replaced == ["upload/a.txt"]
    assert asked.message() == "Replaced 1 article(s) uploaded before: upload/a.txt."
    assert index.documents[0].text == "The harbour thawed."
    assert [p.name for p in uploads_dir().iterdir()] == ["a-2.txt"]  # the old file went with it


def test_one_upload_holds_a_bounded_number_of_sentences(isolated_home, fake_model, tmp_path,
                                                        monkeypatch):
    monkeypatch.setattr("qa.app.uploads.MAX_UPLOAD_SENTENCES", 50)
    index = qa.default.default_index()
    embedded = fake_model.encoded
    many = "Many\n" + "Ports shut. " * 200_000  # 2.4 MB of tiny sentences
    report = add_files(index, [upload(tmp_path, "many.txt", many)])
    assert report.added == [] and "QA_MAX_UPLOAD_SENTENCES" in report.message()
    assert fake_model.encoded == embedded  # refused before anything was embedded
    thirty = "Thirty\n" + " ".join(f"Ship {i} left." for i in range(30))
    report = add_files(index, [upload(tmp_path, "a.txt", thirty), upload(tmp_path, "b.txt", thirty)])
    assert report.added == ["upload/a.txt"] and "b.txt" in report.message() \
        and "over the 50 sentences one upload may hold" in report.message()
    assert sorted(p.name for p in uploads_dir().iterdir()) == ["a.txt"]


def test_an_uploaded_sentence_is_bounded_in_length(isolated_home, fake_model, tmp_path):
    index = qa.default.default_index()
    report = add_files(index, [upload(tmp_path, "long.txt", "Long\nIt said " + "x" * 1_000_000)])
    assert report.added == [] and "sentence 1 is 1,000,008 characters long" in report.message()
    assert "QA_MAX_SENTENCE_CHARS" in report.message()


def test_an_upload_embeds_as_background_work_and_questions_do_not(isolated_home, fake_model,
                                                                  tmp_path, monkeypatch):
    from qa import background

    index = qa.default.default_index()
    marked = []
    encode = fake_model.encode

    def noting(texts, **kwargs):
        marked.append(background.active())
        return encode(texts, **kwargs)

    monkeypatch.setattr(fake_model, "encode", noting)
    report = add_files(index, [upload(tmp_path, "port.txt", "Port\nThe harbour froze over.")])
    assert report.added == ["upload/port.txt"] and marked == [True]
    assert index.search("harbour froze", 1)[0].doc_id == "upload/port.txt"
    assert marked[1:] and not any(marked[1:])  # the question: not background work
    assert not background.active()
