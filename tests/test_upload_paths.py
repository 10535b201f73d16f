"""File names from uploads cannot put a file anywhere but the upload folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

uploads = pytest.importorskip("qa.app.uploads")  # the app's upload handling

NASTY_NAMES = [
    "../../etc/passwd", "..", ".", "", "/", "/etc/cron.d/x.txt", "..\\..\\win.ini", "a/../../b.txt",
    "．．／．．／x.txt", "..%2f..%2fx.txt", "x.txt\x00.html", "\x00", "~/.bashrc", ".hidden.txt",
    "con.txt", "a" * 5000 + ".txt", "😀/../😀.md", "\u202etxt.exe", "C:\\x\\y.txt", "..\u2215x.txt",
    "x.txt/", "./.././.txt", "\n../x.txt", "..\t/x.txt",
]
SETTINGS = settings(deadline=None, max_examples=300, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _inside(folder: Path, path: Path) -> bool:
    return path.resolve().parent == folder.resolve()


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.fixture
def src(tmp_path):
    f = tmp_path / "incoming" / "upload.tmp"
    f.parent.mkdir()
    f.write_text("The harbour reopened on Monday.", encoding="utf-8")
    return f


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_a_nasty_name_stays_in_the_folder(tmp_path, src, name):
    folder = tmp_path / "root" / "uploads"
    folder.parent.mkdir()
    before = _snapshot(tmp_path)
    kept = uploads.keep(src, name, folder)
    assert _inside(folder, kept) and kept.read_text(encoding="utf-8").startswith("The harbour")
    new = _snapshot(tmp_path) - before
    assert all(p == folder or folder in p.parents for p in new), new


@SETTINGS
@given(name=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_safe_name_is_only_a_name(name):
    safe = uploads.safe_name(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and safe not in (".", "..")
    assert len(safe) <= 2 * uploads.MAX_NAME


@SETTINGS
@given(parts=st.lists(st.sampled_from(["..", ".", "/", "\\", "a", "．", "／", "x.txt", "\x00",
                                        "%2e", "~", "😀"]), max_size=12))
def test_any_name_built_from_path_pieces_stays_in_the_folder(tmp_path_factory, parts):
    base = tmp_path_factory.mktemp("up")
    src = base / "upload.tmp"
    src.write_text("Some text.", encoding="utf-8")
    folder = base / "root" / "uploads"
    try:
        kept = uploads.keep(src, "".join(parts), folder)
    except uploads.InputError:
        return
    assert _inside(folder, kept)


@pytest.mark.parametrize("planted", [
    ["article.txt"],
    [".article.txt.part"],
    ["article.txt", ".article.txt.part"],
])
def test_a_symlink_in_the_folder_is_not_written_through(tmp_path, src, planted):
    """A link planted in the upload folder (under the name a file will get, or its temporary
    name) must not make the upload write outside the folder."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("precious", encoding="utf-8")
    for name in planted:
        (folder / name).symlink_to(outside)
    try:
        kept = uploads.keep(src, "article.txt", folder)
    except uploads.InputError:
        kept = None
    assert outside.read_text(encoding="utf-8") == "precious"
    if kept is not None:
        assert _inside(folder, kept) and not kept.is_symlink()


def test_an_upload_folder_that_is_a_symlink_is_followed_once(tmp_path, src):
    """A configured QA_UPLOADS that is itself a link is fine: the files land in its target."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    kept = uploads.keep(src, "../x.txt", link)
    assert kept.resolve().parent == real.resolve()
    assert os.listdir(real) == [kept.name]
