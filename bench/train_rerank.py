"""Train the answer re-ranker (qa/encoders/crossencoder.py) on the benchmark's training splits, here, on a CPU.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.train_rerank [--epochs 2] [--out FILE]

A cross-encoder: the question and a candidate sentence are read together by the first
``--keep`` layers of all-MiniLM-L6-v2 (the packaged, sha256-verified weights), mean-pooled, and a
linear head scores the pair. Only the top ``--layers`` of those layers and the head are trained;
the word-piece embeddings stay the official weights, so what the project ships is the trained
part (10 MB in float16), applied on load to the verified model. The shipped weights:

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.train_rerank --epochs 3 --keep 3 \
        --layers 3 --lr 5e-5 --threads 1 --unanswered 3 --trec-dev   # about 29 minutes here

is the recipe's first half; the shipped weights add the dev questions' own candidates to the
same data (bench/rerank_folds.py, ``--variant dev --run all``), which calls ``train`` here
(``--device cuda`` on a GPU machine: under three minutes on an H100).

Data (questions with at least one answer, their answers and up to 12 other candidates): WikiQA-train (question, sentence, label; the candidates of a question come from one
Wikipedia article, so the negatives are the near misses the product has to tell apart) and
TREC QA train (newswire); with ``--trec-dev`` TREC dev too, and with ``--unanswered N`` also N
candidates of each WikiQA-train question that has no answer (negatives only: a topical sentence
that does not answer). Loss: binary cross-entropy over every pair plus a softmax over each
question's candidates when one of them answers (rank the answer first). The dev splits
(WikiQA-dev, TREC dev) are scored after each epoch: mean reciprocal rank within each question's
candidates. Test splits and BBC questions are never read here.
"""
from __future__ import annotations

import argparse
import csv
import logging
import random
import re
import time
from collections import defaultdict
from pathlib import Path

from bench.data import data_dir

log = logging.getLogger("train_rerank")
Group = tuple[str, list[tuple[str, int]]]  # question, [(sentence, label)]


def wikiqa_train(root: Path | None = None) -> list[Group]:
    root = root or data_dir()
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    with open(root / "wikiqa" / "WikiQA-train.txt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                groups[parts[0].strip()].append((parts[1].strip(), int(parts[2])))
    return list(groups.items())


def wikiqa_dev(root: Path | None = None) -> list[Group]:
    root = root or data_dir()
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    with open(root / "wikiqa" / "WikiQA-dev.tsv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            groups[r["Question"].strip()].append((r["Sentence"].strip(), int(r["Label"])))
    return list(groups.items())


_PTB = [("-LRB-", "("), ("-RRB-", ")"), ("-LSB-", "["), ("-RSB-", "]"), ("``", '"'), ("''", '"'),
        ("<num>", "1")]


def _detok(text: str) -> str:
    """TREC's Penn-treebank tokens back to plain text (numbers are masked in the data)."""
    for a, b in _PTB:
        text = text.replace(a, b)
    text = re.sub(r" ([,.;:?!%)\]'])", r"\1", text)
    text = re.sub(r"([(\[$]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    return text.strip()


def trec(split: str, root: Path | None = None) -> list[Group]:
    root = root or data_dir()
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    with open(root / "trecqa" / f"{split}.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            groups[_detok(r["qtext"])].append((_detok(r["atext"]), int(r["label"])))
    return list(groups.items())


def _capped(cands: list[tuple[str, int]], negatives: int) -> list[tuple[str, int]]:
    """Every answer of a question and at most ``negatives`` of its other candidates (a random
    choice, fixed by the seed): the questions with an answer carry the ranking signal, and
    TREC's 50-candidate lists would otherwise dominate the time."""
    neg = [c for c in cands if not c[1]]
    return [c for c in cands if c[1]] + random.sample(neg, min(negatives, len(neg)))


def mrr(model, groups: list[Group], device: str = "cpu") -> float:
    from bench.rerank_training import score_pairs_torch

    total, n = 0.0, 0
    for q, cands in groups:
        if not any(label for _, label in cands):
            continue
        scores = score_pairs_torch(model, q, [s for s, _ in cands], device)
        order = sorted(range(len(cands)), key=lambda i: -scores[i])
        first = next(r for r, i in enumerate(order, 1) if cands[i][1])
        total, n = total + 1.0 / first, n + 1
    return total / max(n, 1)


def base_groups(negatives: int = 12, unanswered: int = 0, trec_dev: bool = False
                ) -> list[Group]:
    """The training questions of the shipped recipe: WikiQA-train and TREC train (+ dev) with an
    answer, capped to ``negatives`` other candidates, plus ``unanswered`` candidates of each
    WikiQA-train question without one."""
    wikiqa = wikiqa_train()
    groups = wikiqa + trec("train") + (trec("dev") if trec_dev else [])
    train = [(q, _capped(c, negatives)) for q, c in groups if any(l for _, l in c)]
    if unanswered:
        train += [(q, _capped(c, unanswered)) for q, c in wikiqa if not any(l for _, l in c)]
    return train


def train(groups: list[Group], dev: dict[str, list[Group]], *, epochs: int, lr: float,
          batch: int, layers: int, keep: int, device: str = "cpu", out: Path | None = None,
          start: Path | None = None, head_factor: float = 20):
    """The cross-encoder trained on ``groups`` (binary cross-entropy + a softmax over each
    question's candidates), ``dev`` scored after each epoch; saved to ``out`` after each.
    ``start``: trained weights to go on from (their layer count) instead of a new head."""
    import torch

    from bench import rerank_training as training
    from qa.encoders import crossencoder as rerank

    train = list(groups)
    log.info("train: %d questions, %d pairs (%d answers)", len(train),
             sum(len(c) for _, c in train), sum(l for _, c in train for _, l in c))
    model = rerank.build_torch_model(start, layers=layers, keep=keep).float().to(device)
    trained = training.trained_parameters(model)
    head_params = list(model.head.parameters())
    body = [p for n, p in trained if not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": body, "lr": lr},
                             {"params": head_params, "lr": lr * head_factor}], weight_decay=0.01)
    steps = epochs * (sum(len(c) for _, c in train) // batch + 1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[lr, lr * head_factor],
                                                total_steps=steps, pct_start=0.1)
    model.eval()
    for name, dgroups in dev.items():
        log.info("before training: %s MRR %.4f", name, mrr(model, dgroups, device))
    step = 0
    for epoch in range(epochs):
        random.shuffle(train)
        model.train()
        t0, seen, pending = time.time(), 0, []
        for qi, (q, cands) in enumerate(train):
            pending.append((q, cands))
            if sum(len(c) for _, c in pending) < batch and qi + 1 < len(train):
                continue
            loss = training.loss(model, pending, device)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in trained], 1.0)
            opt.step()
            opt.zero_grad()
            if step < steps - 1:
                sched.step()
            step += 1
            seen += len(pending)
            pending = []
            if step % 200 == 0:
                log.info("epoch %d: %d/%d questions, loss %.4f, %.0f s", epoch + 1, seen,
                         len(train), float(loss), time.time() - t0)
        model.eval()
        for name, dgroups in dev.items():
            log.info("after epoch %d: %s MRR %.4f", epoch + 1, name, mrr(model, dgroups, device))
        if out is not None:
            training.save_trained(model, Path(out))
            log.info("saved %s", out)
    return model


def main() -> None:
    import torch

    from qa.encoders import crossencoder as rerank

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda where torch has a GPU")
    ap.add_argument("--out", default=str(rerank.WEIGHTS))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--layers", type=int, default=rerank.TRAINED_LAYERS,
                    help="train the top this many of the six layers")
    ap.add_argument("--keep", type=int, default=rerank.KEPT_LAYERS,
                    help="use the first this many of the model's six layers (fewer = faster)")
    ap.add_argument("--negatives", type=int, default=12, help="at most this many per question")
    ap.add_argument("--unanswered", type=int, default=0,
                    help="also train on WikiQA-train questions without an answer, this many of "
                         "their candidates each (binary cross-entropy only)")
    ap.add_argument("--trec-dev", action="store_true",
                    help="train on TREC dev too (then only WikiQA-dev is scored)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    groups = base_groups(args.negatives, args.unanswered, args.trec_dev)
    dev = {"wikiqa-dev": wikiqa_dev(), **({} if args.trec_dev else {"trec-dev": trec("dev")})}
    train(groups, dev, epochs=args.epochs, lr=args.lr, batch=args.batch, layers=args.layers,
          keep=args.keep, device=args.device, out=Path(args.out))


if __name__ == "__main__":
    main()
