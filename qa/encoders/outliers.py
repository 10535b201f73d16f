"""int8 matrix products whose inputs have a few outlier channels: those channels stay in float.

ONNX Runtime's dynamic quantization scales a matrix product's input by one number per batch, its
largest value. The feed-forward output projections of BERT models take GELU outputs in which one
or two of 1,536 channels reach 14-25 while the rest stay under 6 (all-MiniLM-L6-v2, layers 0-3,
on one token a sentence): that one value sets the step for every other. Here each such channel is
taken out of the int8 product and multiplied in float on its own, so the int8 step fits the
rest:

    y = int8(x * keep) @ W  +  x[..., outliers] @ W[outliers]

The outliers are found once, at export, by running the float model on a fixed calibration text
(``calibration.txt``): the same channels come back from 24 sentences as from 600 BBC ones.
BENCHMARKS.md, "Ingest": about 1.45x the sentences a CPU-second of the graph that kept those
projections wholly in float, cosine to torch as close.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

CALIBRATION = Path(__file__).with_name("calibration.txt")
OUTLIER_RATIO = 2.0  # an outlier: max |x| over the calibration text > this x the channels' 99th percentile


def feed_forward_outputs(graph) -> list:
    """The MatMul nodes of the feed-forward output projections (torch-exported BERT names)."""
    weights = {i.name for i in graph.initializer}
    return [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights
            and "/output/dense/" in n.name and "/attention/" not in n.name]


def outlier_channels(model, nodes: list, feeds: Iterable[dict]) -> dict[str, list[int]]:
    """Node name -> the input channels of that MatMul whose largest |value| over ``feeds``
    (model inputs, padded batches) stands far above the others (``OUTLIER_RATIO``)."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    inputs = sorted({n.input[0] for n in nodes})
    probe.graph.output.extend(onnx.helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, None)
                              for x in inputs)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    sess = ort.InferenceSession(probe.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])
    wanted = {i.name for i in sess.get_inputs()}
    peak: dict[str, np.ndarray] = {}
    for feed in feeds:
        outs = sess.run(inputs, {k: v for k, v in feed.items() if k in wanted})
        real = feed["attention_mask"].astype(bool)  # padding positions do not count
        for name, value in zip(inputs, outs):
            top = np.abs(value[real]).max(axis=0)
            peak[name] = np.maximum(peak[name], top) if name in peak else top
    chosen = {}
    for n in nodes:
        top = peak[n.input[0]]
        picked = np.flatnonzero(top > OUTLIER_RATIO * np.percentile(top, 99))
        if len(picked):
            chosen[n.name] = [int(c) for c in picked]
    return chosen


def split_outliers(model, chosen: dict[str, list[int]]) -> list[str]:
    """Rewrite each chosen MatMul of ``model`` (in place) as an int8-able product of its input
    with the outlier channels zeroed plus a float product of those channels alone; the names of
    the float products (to leave out of quantization)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    floats = []
    for node in [n for n in graph.node if n.name in chosen]:
        x, w_name = node.input
        w = numpy_helper.to_array(weights[w_name])
        picked = np.array(chosen[node.name], np.int64)
        keep = np.ones(w.shape[0], w.dtype)
        keep[picked] = 0
        base = node.name.rsplit("/", 1)[0] + "/outliers"
        graph.initializer.extend([numpy_helper.from_array(keep, base + "/keep"),
                                  numpy_helper.from_array(picked, base + "/channels"),
                                  numpy_helper.from_array(w[picked], base + "/weight")])
        rest, part, few, extra = (base + s for s in ("/rest", "/rest_product", "/few", "/few_product"))
        new = [helper.make_node("Mul", [x, base + "/keep"], [rest], name=base + "/Mul"),
               helper.make_node("MatMul", [rest, w_name], [part], name=node.name),
               helper.make_node("Gather", [x, base + "/channels"], [few], name=base + "/Gather",
                                axis=-1),
               helper.make_node("MatMul", [few, base + "/weight"], [extra],
                                name=base + "/FloatMatMul"),
               helper.make_node("Add", [part, extra], [node.output[0]], name=base + "/Add")]
        at = list(graph.node).index(node)
        graph.node.remove(node)
        for offset, made in enumerate(new):
            graph.node.insert(at + offset, made)
        floats.append(base + "/FloatMatMul")
    return floats


def quantize_with_outliers(fp32: Path, out: Path, feeds: Iterable[dict]) -> dict[str, list[int]]:
    """Write ``out``: ``fp32`` with every weight MatMul int8 (weights per output channel), the
    feed-forward output projections' outlier input channels split off in float. Returns the
    channels split off, by node."""
    import onnx

    from .export import quantize_int8

    model = onnx.load(str(fp32))
    chosen = outlier_channels(model, feed_forward_outputs(model.graph), feeds)
    floats = split_outliers(model, chosen)
    split = out.with_suffix(".split.onnx")
    onnx.save(model, str(split))
    try:
        quantize_int8(split, out, op_types_to_quantize=["MatMul"], nodes_to_exclude=floats)
    finally:
        split.unlink(missing_ok=True)
    return chosen


def feeds(encodings, size: int) -> list[dict]:
    """Tokenised inputs as model feeds, ``size`` to a batch, each padded to its longest."""
    from .onnx import pad

    out = []
    for lo in range(0, len(encodings), size):
        ids, mask, types = pad(encodings[lo:lo + size])
        out.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    return out


def calibration_sentences() -> list[str]:
    return [line.strip() for line in CALIBRATION.read_text(encoding="utf-8").splitlines()
            if line.strip()]
