"""The default index: built from seeds/ on first use, reopened after, updated when seeds change."""
import json
import shutil

import qa
import qa.default
from conftest import SEED


def manifest(home):
    return json.loads((home / "index" / "manifest.json").read_text())


def test_first_use_builds_from_seeds_then_only_reopens(isolated_home, fake_model):
    shutil.copy(SEED, isolated_home / "seeds")
    hits = qa.retrieve("Kremlin Spokesman Dmitry Peskov", k=3)
    assert hits[0].text.startswith("Kremlin Spokesman Dmitry Peskov branded")
    built = fake_model.encoded
    assert built > 10
    gen = manifest(isolated_home)["generation"]
    qa.default.reset()  # as a new process would
    qa.retrieve("Galuzin", k=1)
    assert fake_model.encoded == built + 1  # only the question: no rebuild on start
    assert manifest(isolated_home)["generation"] == gen


def test_changed_seeds_update_only_what_changed(isolated_home, fake_model):
    shutil.copy(SEED, isolated_home / "seeds")
    (isolated_home / "seeds" / "b.txt").write_text("Second headline\nThe striker scored twice.")
    qa.retrieve("striker", k=1)
    before = fake_model.encoded
    qa.default.reset()
    (isolated_home / "seeds" / "b.txt").write_text("Second headline\nThe keeper saved a penalty.")
    (isolated_home / "seeds" / "c.txt").write_text("Third\nOil prices rose.")
    hit = qa.retrieve("keeper penalty", k=1)[0]
    assert hit.text == "The keeper saved a penalty." and hit.doc_id == "b.txt"
    assert fake_model.encoded == before + 1 + 1 + 1  # b's sentence, c's sentence, the question
    qa.default.reset()
    (isolated_home / "seeds" / "c.txt").unlink()
    index = qa.default.default_index()
    assert sorted(d.id for d in index.documents) == ["000_ad6409121addf6a1.txt", "b.txt"]


def test_ingested_articles_survive_a_seed_change(isolated_home, fake_model):
    shutil.copy(SEED, isolated_home / "seeds")
    index = qa.default.default_index()
    index.add([qa.Document(id="user-1", text="An uploaded article about tariffs.")])
    index.save()
    qa.default.reset()
    (isolated_home / "seeds" / "new.txt").write_text("New\nA new seed.")
    ids = {d.id for d in qa.default.default_index().documents}
    assert {"user-1", "new.txt", "000_ad6409121addf6a1.txt"} <= ids


def test_model_change_reembeds_everything(isolated_home, fake_model, monkeypatch):
    import qa.encoders
    from fakes import FakeEncoder

    shutil.copy(SEED, isolated_home / "seeds")
    qa.default.default_index()
    qa.default.reset()
    other = FakeEncoder(name="another-model", dim=64)
    monkeypatch.setenv("QA_MODEL", other.name)
    monkeypatch.setitem(qa.encoders.loaded, other.name, other)
    index = qa.default.default_index()
    assert index.model == "another-model" and other.encoded == len(index) > 10
    assert manifest(isolated_home)["model"] == "another-model"


def test_corrupt_default_index_is_rebuilt(isolated_home, fake_model):
    shutil.copy(SEED, isolated_home / "seeds")
    qa.default.default_index()
    qa.default.reset()
    (isolated_home / "index" / "manifest.json").write_text("{ not json")
    assert len(qa.default.default_index()) > 10


def test_no_seeds_gives_an_empty_index_not_a_crash(isolated_home, fake_model):
    assert qa.retrieve("anything") == []


def test_an_index_of_the_earlier_format_is_rebuilt_with_the_articles_it_held(isolated_home,
                                                                             fake_model, caplog):
    """An upgrade: the articles a user added to a format-1 default index are embedded again."""
    shutil.copy(SEED, isolated_home / "seeds")
    old = isolated_home / "index"
    (old / "g000001").mkdir(parents=True)
    added = {"id": "notes.txt", "text": "The harbour bridge reopened on Monday after repairs.",
             "title": "Harbour bridge"}
    (old / "g000001" / "documents.jsonl").write_text(
        json.dumps({"document": added, "hash": "x", "sentences": 1}) + "\n", encoding="utf-8")
    (old / "manifest.json").write_text(json.dumps(
        {"format": 1, "model": fake_model.name, "generation": "g000001", "seed_ids": []}))
    index = qa.default.default_index()
    ids = {d.id for d in index.documents}
    assert "notes.txt" in ids and SEED.name in ids
    assert "older version" in caplog.text
    assert manifest(isolated_home)["format"] == 2
    assert (isolated_home / "index.damaged-1" / "manifest.json").is_file()
