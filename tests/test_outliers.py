"""The int8 export's outlier channels (qa/encoders/outliers.py) on a one-product graph: the
planted outlier channel is found, splitting it off changes nothing in float, and int8 with it
split off is closer to float than int8 without."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from qa.encoders import outliers  # noqa: E402

NAME = "/encoder/layer.0/output/dense/MatMul"  # named as torch exports a BERT feed-forward output
IN, OUT = 64, 16


def graph(w: np.ndarray):
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node("MatMul", ["x", "w"], ["y"], name=NAME)
    g = helper.make_graph([node], "ffn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", IN])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", OUT])],
                          [numpy_helper.from_array(w, "w")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def inputs(rng, outlier: int, n: int = 4):
    x = rng.normal(0, 1, (n, 6, IN)).astype(np.float32)
    x[:, 0, outlier] = 40.0  # one token a sentence, one channel, far above the rest
    return x


def run(model, x):
    sess = ort.InferenceSession(model.SerializeToString() if not isinstance(model, str) else model,
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


@pytest.fixture
def case():
    rng = np.random.default_rng(7)
    w = rng.normal(0, 0.1, (IN, OUT)).astype(np.float32)
    return rng, w


def test_the_planted_outlier_channel_is_found_and_no_other(case):
    rng, w = case
    model = graph(w)
    feeds = [{"x": inputs(rng, 9), "attention_mask": np.ones((4, 6), np.int64)}]
    assert outliers.outlier_channels(model, outliers.feed_forward_outputs(model.graph), feeds) \
        == {NAME: [9]}


def test_padding_positions_do_not_make_outliers(case):
    rng, w = case
    model = graph(w)
    x = rng.normal(0, 1, (2, 6, IN)).astype(np.float32)
    x[:, 5, 3] = 40.0  # only where the mask says padding
    mask = np.ones((2, 6), np.int64)
    mask[:, 5] = 0
    feeds = [{"x": x, "attention_mask": mask}]
    assert outliers.outlier_channels(model, outliers.feed_forward_outputs(model.graph), feeds) == {}


def test_splitting_off_channels_changes_nothing_in_float(case):
    rng, w = case
    model = graph(w)
    x = inputs(rng, 9)
    before = run(model, x)
    floats = outliers.split_outliers(model, {NAME: [9, 20]})
    onnx.checker.check_model(model)
    assert floats == ["/encoder/layer.0/output/dense/outliers/FloatMatMul"]
    np.testing.assert_allclose(run(model, x), before, rtol=1e-5, atol=1e-4)


def test_int8_with_the_outlier_split_off_is_closer_to_float(case, tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rng, w = case
    fp32 = tmp_path / "fp32.onnx"
    onnx.save(graph(w), str(fp32))
    calibration = [{"x": inputs(rng, 9), "attention_mask": np.ones((4, 6), np.int64)}]
    chosen = outliers.quantize_with_outliers(fp32, tmp_path / "split.onnx", calibration)
    assert chosen == {NAME: [9]}
    quantize_dynamic(str(fp32), str(tmp_path / "plain.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True, op_types_to_quantize=["MatMul"])
    x = inputs(rng, 9, n=8)  # other sentences, the same outlier channel
    exact = run(str(fp32), x)
    err_split = np.abs(run(str(tmp_path / "split.onnx"), x) - exact).mean()
    err_plain = np.abs(run(str(tmp_path / "plain.onnx"), x) - exact).mean()
    assert err_split < err_plain / 3, (err_split, err_plain)
    assert not list(tmp_path.glob("*.split.onnx"))  # the intermediate graph is removed


def test_the_calibration_text_ships_with_the_package():
    sentences = outliers.calibration_sentences()
    assert len(sentences) >= 24 and all(s == s.strip() for s in sentences)
