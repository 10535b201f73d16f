"""``qa`` as a separate process with the fake encoder (a real process, real files and locks; no
model to load): ``python tests/ingest_child.py ingest --index DIR FILE ...``.

``QA_FAKE_DELAY`` (seconds) makes each encoder call take that long, so a parent can kill it in
the middle of an ingest.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fakes, when run as a script


def main() -> int:
    import qa.encoders
    from fakes import FakeEncoder
    from qa.cli import main as qa_main

    delay = float(os.environ.get("QA_FAKE_DELAY", "0"))

    class SlowFake(FakeEncoder):
        def encode(self, texts, **kwargs):
            time.sleep(delay)
            return super().encode(texts, **kwargs)

    encoder = SlowFake()
    os.environ["QA_MODEL"] = encoder.name
    qa.encoders.loaded[encoder.name] = encoder
    return qa_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
