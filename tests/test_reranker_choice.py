"""QA_RERANKER names another cross-encoder: a sentence-transformers CrossEncoder folder."""
from __future__ import annotations

import numpy as np
import pytest

from qa.errors import ModelError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cross_encoder_folder(tmp_path_factory):
    """A CrossEncoder folder made offline from the packaged MiniLM (its head untrained: the test
    is about loading and calling it, not its judgement)."""
    from sentence_transformers import CrossEncoder

    from qa.encoders.sbert import default_model_path

    folder = tmp_path_factory.mktemp("reranker")
    CrossEncoder(str(default_model_path()), num_labels=1, device="cpu").save(str(folder))
    return folder


def test_qa_reranker_loads_a_cross_encoder_folder_and_the_index_uses_it(cross_encoder_folder,
                                                                        monkeypatch,
                                                                        fake_encoder):
    from qa import Document, Index
    from qa.encoders.crossencoder import StCrossEncoder
    from qa.ranking import crossencoder

    monkeypatch.setenv("QA_RERANKER", str(cross_encoder_folder))
    monkeypatch.setenv("QA_RERANK", "1")
    model = crossencoder.load()
    assert isinstance(model, StCrossEncoder)
    scores = model.scores("Who scored?", ["The striker scored twice.", "Rain fell."])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    index = Index.build([Document(id="a", text="The striker scored twice. Rain fell.")],
                        encoder=fake_encoder)
    assert index.reranker is model
    assert index.ask("Who scored twice?", k=2).hits


def test_the_shipped_re_ranker_saved_as_a_cross_encoder_folder_scores_as_shipped(tmp_path,
                                                                                   monkeypatch):
    """The standard artifact: CrossEncoder(folder) gives the trained model's scores, and the
    product's own int8 path agrees with it."""
    from sentence_transformers import CrossEncoder

    from qa.encoders import crossencoder

    folder = crossencoder.save_folder(tmp_path / "shipped")
    question = "When did Kishida and Biden talk?"
    sentences = ["Kishida and Biden held online talks on January 21.",
                 "The Japanese prime minister also stressed close contact with allies.",
                 "Tokyo was cold."]
    import torch

    standard = np.asarray(CrossEncoder(str(folder), device="cpu").predict(
        [(question, s) for s in sentences], activation_fn=torch.nn.Identity()))
    shipped = crossencoder.Reranker().scores(question, sentences)
    assert np.argmax(standard) == np.argmax(shipped)
    assert np.corrcoef(standard, shipped)[0, 1] > 0.95
    monkeypatch.setenv("QA_RERANKER", str(folder))
    assert np.allclose(crossencoder.load_model().scores(question, sentences), standard, atol=1e-4)


def test_a_folder_that_is_not_a_cross_encoder_is_refused_with_the_fix(tmp_path, monkeypatch):
    from qa.encoders.crossencoder import load_model

    monkeypatch.setenv("QA_RERANKER", str(tmp_path / "nothing-here"))
    with pytest.raises(ModelError, match="unset QA_RERANKER"):
        load_model()
