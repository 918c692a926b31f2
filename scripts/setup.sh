#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine: venv, CPU torch, the package, dev tools.
# Re-running is quick: it skips what is already installed for the current pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($python_bin --version)"
  "$python_bin" -m venv .venv
fi
pip=".venv/bin/python -m pip"

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing Python packages (first run takes a few minutes)"
  $pip install -q --upgrade pip
  # The CPU build of torch first: a plain torch requirement would pull a multi-GB CUDA build.
  .venv/bin/python -c "import torch" 2>/dev/null || $pip install -q torch==2.13.0
  $pip install -q -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# Scanned PDF pages are read by Debian's tesseract-ocr (English). Another language: install
# tesseract-ocr-LANG (e.g. tesseract-ocr-deu) and set ASSISTANT_OCR_LANGUAGES=eng+deu.
if ! command -v tesseract >/dev/null 2>&1; then
  echo "==> installing Debian's tesseract-ocr (OCR of scanned PDF pages)"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  if ! { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq --no-install-recommends \
      tesseract-ocr tesseract-ocr-eng >/dev/null; }; then
    echo "warning: tesseract-ocr not installed: scanned PDF pages will be skipped" >&2
  fi
fi
