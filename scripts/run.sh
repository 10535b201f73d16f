#!/usr/bin/env bash
# Sets everything up, then opens the chat on http://127.0.0.1:7860 over the articles in seeds/.
set -euo pipefail
cd "$(dirname "$0")/.."
QA_SKIP_BROWSER=1 bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/python app.py "$@"
