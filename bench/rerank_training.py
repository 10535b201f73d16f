"""Training the shipped cross-encoder (qa/encoders/crossencoder.py): its loss, which parameters
train, and saving them. Only bench/train_rerank.py and the tuning scripts use this; the library
needs none of it to answer."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from qa.encoders.crossencoder import tokenizer
from qa.encoders.onnx import pad


def trained_parameters(model) -> list:
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad]


def save_trained(model, path: Path) -> None:
    """The trained weights only, in float16 (the rest is the official model)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({n: p.detach().half().contiguous() for n, p in trained_parameters(model)}, str(path),
              metadata={"layers": str(model.bert.config.num_hidden_layers)})


def _torch_batch(pairs: Sequence[tuple[str, str]], device: str = "cpu"):
    import torch

    ids, mask, types = pad(tokenizer().encode_batch(list(pairs)))
    return tuple(torch.from_numpy(a).to(device) for a in (ids, mask, types))


def loss(model, groups, device: str = "cpu"):
    """Binary cross-entropy over every (question, sentence) pair, plus a softmax over each
    question's candidates that hold an answer, so the answer is ranked first."""
    import torch

    pairs = [(q, s) for q, cands in groups for s, _ in cands]
    labels = torch.tensor([float(l) for _, cands in groups for _, l in cands], device=device)
    logits = model(*_torch_batch(pairs, device))
    total = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    lo, listwise, n = 0, 0.0, 0
    for _, cands in groups:
        hi = lo + len(cands)
        if labels[lo:hi].sum() > 0 and hi - lo > 1:
            target = labels[lo:hi] / labels[lo:hi].sum()
            listwise = listwise - (target * torch.log_softmax(logits[lo:hi], 0)).sum()
            n += 1
        lo = hi
    return total + (listwise / n if n else 0.0)


def score_pairs_torch(model, question: str, sentences: Sequence[str],
                      device: str = "cpu") -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(*_torch_batch([(question, s) for s in sentences], device)).float().cpu().numpy()


