#!/usr/bin/env bash
# One command: set up, bring the store up to date with corpus/, start the chat UI on 127.0.0.1:7860.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/assistant ingest corpus --prune
exec .venv/bin/assistant serve
