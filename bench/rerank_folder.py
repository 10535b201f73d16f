"""Write the shipped re-ranker as a sentence-transformers CrossEncoder folder.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m bench.rerank_folder OUT [--weights FILE]

``CrossEncoder(OUT)`` then loads it anywhere, and ``QA_RERANKER=OUT`` makes the product run it
with sentence-transformers (the default stays the shipped weights on the int8 ONNX path).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main(argv=None) -> int:
    from qa.encoders import crossencoder

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--weights", type=Path, default=crossencoder.WEIGHTS)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(crossencoder.save_folder(args.out, args.weights))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
