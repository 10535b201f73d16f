"""The shipped re-ranker itself: its weights, its ONNX export, and what it prefers."""
from __future__ import annotations

import numpy as np
import pytest

from bench.rerank_training import score_pairs_torch
from qa.encoders import crossencoder as rerank
from qa.storage.files import sha256_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reranker():
    return rerank.Reranker()


def test_the_shipped_weights_are_the_trained_ones():
    assert rerank.WEIGHTS_SHA256
    assert sha256_file(rerank.WEIGHTS) == rerank.WEIGHTS_SHA256


def test_it_prefers_the_sentence_that_answers(reranker):
    question = "When did Kishida and Biden talk?"
    answer = ("Japanese Prime Minister Fumio Kishida and US President Joe Biden during the January 21 "
              "online talks decided to continue close cooperation on the situation around Ukraine.")
    topic = ("The Japanese prime minister also stressed that both leaders confirmed that the US would "
             "keep close contact with other allies and partners.")
    scores = reranker.scores(question, [topic, answer])
    assert scores[1] > scores[0]


def test_who_questions_prefer_the_sentence_naming_the_person(reranker):
    question = "Who is the Kremlin spokesman?"
    sentences = [
        "Lately, Ukraine and the West have been increasingly echoing claims of an alleged possible "
        "Russian invasion of Ukraine ever more frequently.",
        "Kremlin Spokesman Dmitry Peskov branded such information as an empty and groundless "
        "escalation of tensions.",
        "The Kremlin said the talks would continue next week.",
    ]
    assert int(np.argmax(reranker.scores(question, sentences))) == 1


def test_the_int8_export_agrees_with_the_trained_model(reranker):
    from pathlib import Path

    model = rerank.build_torch_model(Path(rerank.WEIGHTS))
    question = "how are glacier caves formed?"
    sentences = ["A glacier cave is a cave formed within the ice of a glacier.",
                 "Glacier caves are often called ice caves.",
                 "The ice facade is approximately 60 m high.",
                 "Ice formations in the Titlis glacier cave.",
                 "Melting water flowing through the glacier forms glacier caves."]
    onnx_scores = reranker.scores(question, sentences)
    torch_scores = score_pairs_torch(model, question, sentences)
    assert np.corrcoef(onnx_scores, torch_scores)[0, 1] > 0.95
    assert np.argsort(-onnx_scores)[0] == np.argsort(-torch_scores)[0]


def test_the_int8_export_keeps_only_the_outlier_channels_in_float(reranker):
    import onnx

    graph = onnx.load(str(reranker.model_file)).graph
    weights = {i.name for i in graph.initializer}
    float_products = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    assert float_products and all(name.endswith("/outliers/FloatMatMul") for name in float_products)


def test_several_questions_scored_at_once_keep_their_own_scores(reranker):
    """``scores_many`` (the chat's batcher) gives each question its own sentences' scores; one
    question of up to ``SCORE_CHUNK`` sentences runs as ``scores`` does (same pairs, same
    padding: the same numbers)."""
    kremlin = ["Kremlin Spokesman Dmitry Peskov branded such information as groundless.",
               "The Kremlin said the talks would continue next week.",
               "Lately, Ukraine and the West have been echoing claims of an invasion."]
    glacier = ["A glacier cave is a cave formed within the ice of a glacier.",
               "The ice facade is approximately 60 m high."]
    one = reranker.scores_many([("Who is the Kremlin spokesman?", kremlin)])
    np.testing.assert_allclose(one[0], reranker.scores("Who is the Kremlin spokesman?", kremlin),
                               atol=1e-5)
    both = reranker.scores_many([("Who is the Kremlin spokesman?", kremlin),
                                 ("how are glacier caves formed?", glacier)])
    assert [len(s) for s in both] == [3, 2]
    assert int(np.argmax(both[0])) == 0 and int(np.argmax(both[1])) == 0
