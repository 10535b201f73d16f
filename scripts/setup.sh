#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian machine with Python 3.10+:
# a virtualenv in .venv with the project and its test tools, and Debian's Chromium for the
# browser tests. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# torch is pinned to the CPU build (2.13.0) in pyproject.toml: an unpinned torch pulls CUDA.
if ! .venv/bin/python -c "import qa, faiss, sentence_transformers, gradio, playwright, hypothesis, pymilvus, milvus_lite" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,milvus]"
  touch .venv/.installed
fi

if [ "${QA_SKIP_BROWSER:-0}" != "1" ] && ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
