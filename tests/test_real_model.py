"""The real default model: loaded offline from the wheel, verified, and right on the seed."""
import shutil

import numpy as np
import pytest

import qa
import qa.default
from conftest import SEED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder():
    from qa.encoders import load_encoder

    return load_encoder("all-MiniLM-L6-v2")


def test_default_model_is_the_verified_official_one(encoder):
    from qa.encoders.sbert import OFFICIAL_SHA256, default_model_path, verify_files

    path = default_model_path()
    verify_files(path, OFFICIAL_SHA256)  # raises on any mismatch
    assert encoder.dim == 384 and encoder.name == "all-MiniLM-L6-v2"


def test_tampered_weights_are_refused(tmp_path):
    from qa.encoders.sbert import OFFICIAL_SHA256, default_model_path, verify_files
    from qa.errors import ModelError

    copy = tmp_path / "model"
    shutil.copytree(default_model_path(), copy)
    with open(copy / "tokenizer.json", "a") as fh:
        fh.write(" ")
    with pytest.raises(ModelError, match="refusing to load"):
        verify_files(copy, OFFICIAL_SHA256)


def test_embeddings_are_unit_and_meaningful(encoder):
    v = encoder.encode(["The envoy criticised Tokyo.", "The ambassador attacked Japan's remarks.",
                        "The striker scored twice."])
    assert v.dtype == np.float32 and v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_unknown_model_is_a_clear_error():
    from qa.encoders.sbert import SentenceTransformerEncoder
    from qa.errors import ModelError

    with pytest.raises(ModelError, match="offline"):
        SentenceTransformerEncoder("no-such-org/no-such-model-xyz")


@pytest.fixture(scope="module")
def seed_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    (home / "seeds").mkdir()
    shutil.copy(SEED, home / "seeds")
    mp = pytest.MonkeyPatch()
    mp.setenv("QA_HOME", str(home))
    mp.delenv("QA_MODEL", raising=False)
    qa.default.reset()
    yield home
    qa.default.reset()
    mp.undo()


def test_kremlin_spokesman_puts_peskov_first(seed_home):
    hits = qa.retrieve("Who is the Kremlin spokesman?", k=3)
    assert hits[0].text.startswith("Kremlin Spokesman Dmitry Peskov branded")


def test_what_did_galuzin_say_puts_his_statements_first(seed_home):
    hits = qa.retrieve("What did Galuzin say?", k=3)
    galuzin = ("Mikhail Galuzin asserted", "The rhetoric of Japanese authorities",
               "\"I've heard and read", "As far as these", "The envoy also asserted",
               "\"And I would like to recommend")
    assert all(h.text.startswith(galuzin) for h in hits), [h.text[:40] for h in hits]


def test_unanswerable_question_is_not_answered(seed_home):
    from qa.default import default_index

    answer = default_index().ask("What is the population of Tokyo?")
    answered = default_index().ask("Who is the Kremlin spokesman?")
    assert answered.answered is True and answer.answered is False
    assert answer.hits and answer.hits[0].score < answered.hits[0].score
