#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite: fast unit tests, the real-model `slow`
# tests and the real-browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest -m "not stress" "$@"
