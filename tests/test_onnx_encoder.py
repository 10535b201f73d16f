"""The ONNX encoders give the torch model's vectors, and a query process does not load torch."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from qa import Document, Index
from qa.encoders import load_encoder

SENTENCES = [
    "The central bank raised interest rates by a quarter of a point on Thursday.",
    "Manchester United beat Arsenal 2-1 at Old Trafford.",
    "\u201cWe will not give up,\u201d the minister told reporters in Moscow.",
    "Shares in the airline fell 12% after it warned on profits.",
    "Storms flooded hundreds of homes along the river.",
    "Who won the election?",
]


# the fused graph quantizes the feed-forward output projections too: over BBC sentences its
# cosine to torch is min 0.981 / mean 0.994, WikiQA-dev MRR@10 within 0.004 (BENCHMARKS.md)
CLOSE = {"onnx-int8-fused": 0.98, "onnx-int8": 0.99, "onnx": 0.99}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx-int8-fused", "onnx-int8", "onnx"])
def test_onnx_vectors_match_torch(backend):
    reference = load_encoder(backend="torch").encode(SENTENCES)
    got = load_encoder(backend=backend).encode(SENTENCES)
    assert got.shape == reference.shape and got.dtype == np.float32
    cosine = (got * reference).sum(axis=1)
    assert cosine.min() > CLOSE[backend], cosine
    # same neighbours: each sentence's best match among the others is the torch one
    assert ((got @ got.T - 2 * np.eye(6)).argmax(1) ==
            (reference @ reference.T - 2 * np.eye(6)).argmax(1)).all()


@pytest.mark.slow
def test_the_default_graph_is_int8_but_for_the_outlier_channels():
    import onnx

    graph = onnx.load(str(load_encoder(backend="onnx-int8").model_file)).graph
    weights = {i.name for i in graph.initializer}
    float_products = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    # all-MiniLM-L6-v2: one or two GELU channels of layers 0-3 reach 14-25 on the calibration text
    assert 1 <= len(float_products) <= 6, float_products
    assert all(name.endswith("/output/dense/outliers/FloatMatMul") for name in float_products)
    assert sum(n.op_type == "MatMulInteger" or n.op_type == "DynamicQuantizeMatMul"
               for n in graph.node) >= 36  # every layer's six weight products, int8


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx-int8-fused", "onnx-int8", "onnx"])
def test_batching_barely_changes_a_vector(backend):
    # int8 activations are scaled per batch, so batchmates move a vector a little; float not
    encoder = load_encoder(backend=backend)
    alone = encoder.encode([SENTENCES[2]])[0]
    together = encoder.encode(SENTENCES + ["a much longer sentence " * 30])[2]
    if backend == "onnx":
        assert np.allclose(alone, together, atol=1e-4)
    assert float(alone @ together) > CLOSE[backend]


@pytest.mark.slow
def test_batches_run_side_by_side_give_the_vectors_of_one_at_a_time():
    encoder = load_encoder(backend="onnx-int8")
    texts = [f"{s} ({i} times)" for i in range(40) for s in SENTENCES]  # 240: several batches
    together = encoder.encode(texts)
    workers = encoder.workers
    try:
        encoder.workers = 1
        serial = encoder.encode(texts)
    finally:
        encoder.workers = workers
    np.testing.assert_allclose(together, serial, atol=1e-5)
    assert workers < 2 or False in encoder._pools  # the side-by-side path ran


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities: Linux")
def test_background_work_runs_on_lowest_priority_threads_with_the_same_vectors():
    from qa import background

    encoder = load_encoder(backend="onnx-int8")
    texts = [f"{s} ({i} times)" for i in range(20) for s in SENTENCES]  # 120: several batches
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    ran_on: list[int] = []
    one_thread = encoder._parallel(False)[0]
    run = one_thread.run

    def watched(*args, **kwargs):  # the real run; which thread's priority it ran at noted
        ran_on.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return run(*args, **kwargs)

    one_thread.run = watched
    try:
        with background.background():
            lowered = encoder.encode(texts)
            single = encoder.encode(texts[:3])  # one batch: also on a background thread
    finally:
        del one_thread.run
    assert len(ran_on) == 5 and set(ran_on) == {background.LOWEST}
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # the caller's own priority is kept
    np.testing.assert_allclose(lowered, encoder.encode(texts), atol=1e-5)
    np.testing.assert_allclose(single, encoder.encode(texts[:3]), atol=1e-5)


@pytest.mark.slow
def test_a_questions_session_takes_question_threads_and_an_ingests_one_thread_each(monkeypatch):
    from qa.encoders.onnx import session

    encoder = load_encoder(backend="onnx-int8")
    monkeypatch.setenv("QA_THREADS", "2")
    monkeypatch.setenv("QA_QUESTION_THREADS", "1")
    assert session(encoder.model_file).get_session_options().intra_op_num_threads == 1
    monkeypatch.setenv("QA_QUESTION_THREADS", "3")
    assert session(encoder.model_file).get_session_options().intra_op_num_threads == 3
    side_by_side = encoder._parallel(False)[0]
    assert side_by_side.get_session_options().intra_op_num_threads == 1


@pytest.mark.slow
def test_asking_a_saved_index_does_not_import_torch(tmp_path):
    load_encoder(backend="onnx-int8")  # exported and cached (that once needs torch)
    Index.build([Document(id="a", text="The mayor opened the new bridge on Monday. "
                          "Traffic was light.", title="Bridge")], tmp_path / "ix")
    env = dict(os.environ, QA_BACKEND="onnx-int8")
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "ask", "--index",
                           str(tmp_path / "ix"), "Who opened the bridge?"],
                          env=env, capture_output=True, text=True, check=True)
    assert "The mayor opened the new bridge on Monday." in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "onnxruntime" in imported
    assert not imported & {"torch", "sentence_transformers", "transformers", "gradio"}


def test_help_imports_nothing_heavy():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "--help"],
                          capture_output=True, text=True, check=True)
    assert "ingest" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert not imported & {"numpy", "faiss", "torch", "onnxruntime", "gradio", "trafilatura"}


def test_backend_is_onnx_int8_unless_configured(monkeypatch):
    from qa.encoders import backend_name
    from qa.errors import ModelError

    monkeypatch.delenv("QA_BACKEND", raising=False)
    assert backend_name() == "onnx-int8"
    monkeypatch.setenv("QA_BACKEND", "Torch")
    assert backend_name() == "torch"
    monkeypatch.setenv("QA_BACKEND", "tensorrt")
    with pytest.raises(ModelError, match="QA_BACKEND='tensorrt'.*onnx-int8-fused, onnx-int8, onnx, torch"):
        backend_name()


def test_onnx_backend_names_a_folder_without_weights(tmp_path, monkeypatch):
    from qa.encoders.onnx import OnnxEncoder
    from qa.errors import ModelError

    with pytest.raises(ModelError, match="holds no model.safetensors"):
        OnnxEncoder(str(tmp_path))
