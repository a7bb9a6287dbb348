#!/usr/bin/env bash
# Check the book's external links (DOIs, data set pages, cited web pages).
# It needs the internet, so it is a separate command, not part of the test
# suite (scripts/test.sh), which must pass offline. Run it before a release:
#     bash scripts/linkcheck.sh
# It exits non-zero when a link is broken and prints where the full report is.
# Some publishers answer robots with 403 or 429: check those by hand.
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=_build/linkcheck
rm -rf "$OUT"
.venv/bin/jupyter-book build . --builder linkcheck --path-output "$OUT"
status=$?
REPORT="$OUT/_build/html/output.txt"   # where Jupyter Book's linkcheck writes it
if [ -f "$REPORT" ]; then
    echo "==> $(grep -c '' "$REPORT") problem link(s); full report: $REPORT"
    grep -E '\[(broken|redirected)\]' "$REPORT" | head -50
fi
exit $status
