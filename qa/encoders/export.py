"""Exporting a torch model to ONNX, once a machine: the sentence encoder and the cross-encoder
share this. The result is quantized to int8 where asked and cached under ``QA_CACHE`` with its
sha256 beside it, written whole or not at all; later processes load it with onnxruntime alone.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import ModelError
from ..storage.files import locked_file, sha256_file

log = logging.getLogger(__name__)

OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def torch_to_onnx(module, out: Path, output: str, output_axes: dict) -> None:
    """Write ``module`` (called with a BERT-style batch: ids, attention mask, token types) to
    ``out`` as float ONNX, batch size and length dynamic."""
    import warnings

    import torch

    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {n: {0: "batch", 1: "tokens"} for n in INPUTS}
    axes[output] = output_axes
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about python control flow: shapes only
        torch.onnx.export(module, (sample, sample, torch.zeros_like(sample)), str(out),
                          input_names=list(INPUTS), output_names=[output], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


Quantizer = Callable[[Path, Path], None]  # (fp32 file, int8 file to write)


def cached_export(target: Path, export: Callable[[Path], None], quantize: bool,
                  fuse: Quantizer | None = None) -> Path:
    """``target``, made by ``export`` (writes an fp32 ONNX file) and quantized, unless another
    process made it meanwhile. Written whole or not at all, with its sha256 beside it.
    ``fuse``: the quantizer to use instead of ``_quantize`` (``fused_int8``)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with locked_file(target.parent / ".export.lock"):  # two processes export once
            if intact(target):
                return target
            return _export_to(export, target, quantize, fuse)
    except OSError as e:
        raise ModelError(f"cannot write the ONNX model to {target.parent} ({e.strerror or e}); "
                         "set QA_CACHE to a writable folder, or QA_BACKEND=torch") from None


def _export_to(export: Callable[[Path], None], target: Path, quantize: bool,
               fuse: Quantizer | None = None) -> Path:
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.onnx"
        export(fp32)
        made = fp32
        if quantize:
            made = Path(tmp) / "model.int8.onnx"
            (fuse or _quantize)(fp32, made)
        digest = sha256_file(made)
        os.replace(made, target)
        Path(str(target) + ".sha256").write_text(digest + "\n", encoding="ascii")
    return target


def _quantize(fp32: Path, out: Path) -> None:
    """int8 weights, one scale per output channel, the feed-forward output projections left in
    float: the recipe of both models until session 15, now the benchmarks' baseline
    (``bench.ingest_ratio --float-ffn``); the models use ``outliers.quantize_with_outliers``.

    Those projections' inputs (after GELU) have outliers that a per-batch int8 activation scale
    flattens. Measured on BBC sentences: cosine to the float model min 0.985 / mean 0.993 with
    them quantized, 0.993 / 0.996 without.
    """
    import onnx

    from .outliers import feed_forward_outputs

    graph = onnx.load(str(fp32), load_external_data=False).graph
    keep_float = [n.name for n in feed_forward_outputs(graph)]
    quantize_int8(fp32, out, op_types_to_quantize=["MatMul"], nodes_to_exclude=keep_float)


def quantize_int8(src: Path, out: Path, **options) -> None:
    """``onnxruntime.quantization.quantize_dynamic`` of ``src`` to ``out``: int8 weights, one
    scale per output channel; ``options`` as that function takes them."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()  # onnxruntime advises pre-processing on the root logger
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         **options)
    finally:
        quiet.setLevel(level)


def fused_int8(fp32: Path, out: Path, heads: int = 12, hidden: int = 384) -> None:
    """QA_BACKEND=onnx-int8-fused: attention, layer norms and GELU fused into single operators
    (``onnxruntime.transformers.optimizer``, BERT), then every matrix product int8 per channel,
    the feed-forward output projections too, outliers and all. WikiQA-dev MRR@10 0.6706 against
    torch 0.6740, cosine to torch min 0.981 / mean 0.994; since session 15 slower than the
    default graph (``outliers``) and further from torch, kept for indexes built with it
    (BENCHMARKS.md, "Ingest"). ``heads``/``hidden``: the model's."""
    import onnx
    from onnxruntime.transformers import optimizer

    fused = out.with_suffix(".fused.onnx")
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        optimizer.optimize_model(str(fp32), model_type="bert", num_heads=heads,
                                 hidden_size=hidden, opt_level=1).save_model_to_file(str(fused))
    finally:
        quiet.setLevel(level)
    quantize_int8(fused, out, op_types_to_quantize=["MatMul", "Attention"],
                  extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    fused.unlink()


def intact(path: Path) -> bool:
    check = Path(str(path) + ".sha256")
    if not path.is_file() or not check.is_file():
        return False
    if sha256_file(path) == check.read_text(encoding="ascii").strip():
        return True
    log.warning("cached ONNX model %s is damaged; exporting it again", path)
    return False


