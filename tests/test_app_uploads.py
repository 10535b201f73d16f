"""Uploaded articles: kept safely, searchable at once and after a restart, removable."""
import shutil

import pytest

import qa.default
from conftest import SEED
from qa.uploads import add_files, keep, remove, safe_name, uploads_dir


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
