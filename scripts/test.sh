#!/usr/bin/env bash
# README command 2: the whole test suite. CI (.ci/run) calls exactly this.
#   1. pytest: unit, property, worked-example and data tests, the docstring
#      examples of mathrec (doctests), and nbval over every notebook in _toc.yml;
#   2. nbval over every notebook again, under a second numerical configuration
#      (one BLAS thread, another OpenBLAS kernel, NumPy's narrower SIMD paths,
#      numba compiling for another CPU: scripts/portability_env.py), so that an
#      output that would differ on a reader's machine fails here first;
#   3. a fresh jupyter-book build that fails on any warning, and the tests that
#      read that build (pytest -m book);
#   4. the real-browser test of the built book (when Chromium is installed).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
if [ ! -x "$PY" ]; then
    echo "No .venv here: run 'bash scripts/setup.sh' first." >&2
    exit 2
fi

# Tests and notebooks read MovieLens from a checked copy when one lies beside the
# repository; otherwise mathrec.datasets downloads it into the user's cache.
if [ -z "${MATHREC_DATA:-}" ] && [ -d ../shared/data/ml-latest-small ]; then
    MATHREC_DATA="$(cd ../shared/data && pwd)"
    export MATHREC_DATA
fi
# No MPLBACKEND here: nbval's kernels must use the inline backend (ipykernel sets it
# only when MPLBACKEND is unset), or every plot cell loses its stored figure output
# and fails. Headless pytest falls back to Agg by itself.
unset MPLBACKEND
export PYTHONHASHSEED=0

mapfile -t NOTEBOOKS < <("$PY" scripts/toc_notebooks.py)

echo "==> pytest: tests, doctests and nbval over ${#NOTEBOOKS[@]} notebook(s)"
# --junitxml: the nbval results that the book's status page reports (scripts/make_status.py).
"$PY" -m pytest tests mathrec --doctest-modules -m "not browser and not book" \
    --junitxml=_build/test-results/pytest.xml \
    --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
    "${NOTEBOOKS[@]}"

PORTABLE_ENV=$("$PY" scripts/portability_env.py)
echo "==> nbval again under a second numerical configuration: $PORTABLE_ENV"
# shellcheck disable=SC2086  # word splitting of NAME=value pairs is intended
env $PORTABLE_ENV "$PY" -m pytest -p no:cacheprovider \
    --junitxml=_build/test-results/nbval-portable.xml \
    --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
    "${NOTEBOOKS[@]}"

echo "==> jupyter-book build (warnings are errors)"
.venv/bin/jupyter-book build . --all -W -n --keep-going

echo "==> tests of the built book (search index, A-Z bar, API pages, launch buttons)"
"$PY" -m pytest tests -m book

if [ -x /usr/bin/chromium ]; then
    echo "==> browser test of the built book"
    "$PY" -m pytest tests/browser -m browser
else
    echo "==> Chromium not found (/usr/bin/chromium): browser test skipped"
fi
