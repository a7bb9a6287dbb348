#!/usr/bin/env python3
"""Write the table of the book's status page: each chapter notebook and its validation.

The status page (``book/status.md``) includes ``book/_generated/status_table.md``
(git-ignored), which this script writes. It runs before every build (the
book's Sphinx extension ``scripts/mathrec_book.py`` calls it), so the page
always describes the build it belongs to.

A notebook is reported *validated* only when the JUnit XML file written by the
test command (``scripts/test.sh`` passes ``--junitxml=_build/test-results/pytest.xml``
to pytest; ``$MATHREC_TEST_RESULTS`` overrides the path) holds nbval results
for it, all of them passed, and the notebook has not changed since. The test
command re-runs the notebooks under a second numerical configuration
(``scripts/portability_env.py``) and writes ``nbval-portable.xml`` beside the
first file; the page reports that run too. Otherwise the page says so: a build
that did not run the tests claims nothing.

It also writes the preface's paragraph on validation
(``book/_generated/validation_note.md``, included by ``book/preface.md``): the
preface says "what you see is what was checked" only when every chapter
notebook passed both runs, and a build made without the tests says so plainly.

The page also names what the outputs depend on: the CPU, the BLAS library and
kernel, and the versions of the libraries (numba included).

Usage: ``python scripts/make_status.py [--results PATH] [--output PATH]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from toc_notebooks import toc_notebooks  # noqa: E402

DEFAULT_RESULTS = ROOT / "_build" / "test-results" / "pytest.xml"
DEFAULT_OUTPUT = ROOT / "book" / "_generated" / "status_table.md"
# The preface's sentence about validated outputs (book/preface.md includes it).
NOTE_NAME = "validation_note.md"  # written beside the status table
PORTABLE_NAME = "nbval-portable.xml"  # written beside the main results by scripts/test.sh

# Distributions whose versions the page reports (name shown, distribution name).
LIBRARIES = (
    ("mathrec", "mathrec"),
    ("NumPy", "numpy"),
    ("SciPy", "scipy"),
    ("pandas", "pandas"),
    ("numba", "numba"),
    ("scikit-learn", "scikit-learn"),
    ("threadpoolctl", "threadpoolctl"),
    ("Matplotlib", "matplotlib"),
    ("Jupyter Book", "jupyter-book"),
    ("Sphinx", "sphinx"),
    ("MyST-NB", "myst-nb"),
    ("nbval", "nbval"),
    ("pytest", "pytest"),
)


def _title(notebook: Path) -> str:
    """The notebook's first ``# Title``, or its file name."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return notebook.stem
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell.get("source", []))
        for line in source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return notebook.stem


def read_results(path: Path) -> tuple[dict[str, dict[str, int]], str | None]:
    """Per notebook classname: counts of passed/failed/skipped cells; and the run's time."""
    tree = ET.parse(path)
    per_class: dict[str, dict[str, int]] = {}
    stamp = None
    for suite in tree.iter("testsuite"):
        stamp = stamp or suite.get("timestamp")
    for case in tree.iter("testcase"):
        counts = per_class.setdefault(case.get("classname", ""), {"passed": 0, "failed": 0, "skipped": 0})
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return per_class, stamp


def notebook_state(nb: str, results: dict | None, results_path: Path,
                   portable: dict | None = None) -> str:
    """The status of one notebook, from the main run and (if given) the second-configuration run."""
    if results is None:
        return "not validated (no test run)"
    key = nb.replace("/", ".")  # pytest's classname for notebooks/x.ipynb
    counts = results.get(key)
    if not counts or counts["passed"] + counts["failed"] == 0:
        return "not validated (no nbval result)"
    if (ROOT / nb).stat().st_mtime > results_path.stat().st_mtime:
        return "not validated (changed since the test run)"
    if counts["failed"]:
        return f"**failed**: {counts['failed']} of {counts['passed'] + counts['failed']} cells differ or raise"
    state = f"validated: all {counts['passed']} code cells re-run and match the stored outputs"
    second = (portable or {}).get(key)
    if not second or second["passed"] + second["failed"] == 0:
        return state + "; not re-run under the second configuration"
    if second["failed"]:
        return (f"**not portable**: {second['failed']} of {second['passed'] + second['failed']} "
                "cells differ under the second configuration")
    return state + ", under both numerical configurations"


def cpu_name() -> str:
    """The processor's model name (Linux), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def blas_description() -> str:
    """The BLAS libraries NumPy and SciPy load: implementation, version, kernel and threads."""
    try:
        import numpy  # noqa: F401
        import scipy.linalg  # noqa: F401
        import threadpoolctl
    except ImportError:
        return "unknown (threadpoolctl or NumPy missing)"
    seen = []
    for info in threadpoolctl.threadpool_info():
        if info.get("user_api") != "blas":
            continue
        text = (f"{info.get('internal_api')} {info.get('version')}, kernel "
                f"{info.get('architecture', '?')}, {info.get('num_threads')} threads")
        if text not in seen:
            seen.append(text)
    return "; ".join(seen) or "none found"


def portable_configuration() -> str:
    try:
        from portability_env import environment
        return " ".join(f"`{k}={v}`" for k, v in environment().items())
    except Exception as exc:  # noqa: BLE001 - the page must build anyway
        return f"unknown ({exc})"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _vendored(name: str) -> str:
    stamp = ROOT / "_static" / "vendor" / name / ".vendored.json"
    try:
        return json.loads(stamp.read_text())["version"] + " (served from this site)"
    except (OSError, ValueError, KeyError):
        return "not vendored"


def _load(results_path: Path):
    """The main run's results and time stamp, and the second configuration's results."""
    results, stamp, portable = (None, None, None)
    if results_path.is_file():
        try:
            results, stamp = read_results(results_path)
        except ET.ParseError as exc:
            print(f"make_status: cannot parse {results_path}: {exc}", file=sys.stderr)
    portable_path = results_path.with_name(PORTABLE_NAME)
    if results is not None and portable_path.is_file():
        try:
            portable, _ = read_results(portable_path)
        except ET.ParseError as exc:
            print(f"make_status: cannot parse {portable_path}: {exc}", file=sys.stderr)
    return results, stamp, portable


def _when(stamp: str | None, results_path: Path) -> str:
    try:
        when = dt.datetime.fromisoformat(stamp)
        if when.tzinfo is None:  # older pytest: local time without offset
            when = when.astimezone()
    except (TypeError, ValueError):
        when = dt.datetime.fromtimestamp(results_path.stat().st_mtime, dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


STATUS_DOC = "{doc}`status </book/status>`"


def validation_note(results_path: Path) -> str:
    """The preface's paragraph on what this build validated: never more than the results show."""
    notebooks = toc_notebooks()
    results, stamp, portable = _load(results_path)
    if results is None:
        return (
            "**This build was made without running the test suite**, so it claims no "
            "validated output: the pages show the outputs stored in the notebooks, and the "
            f"{STATUS_DOC} page lists every notebook as not validated. A book built by the "
            "test command of the README (`bash scripts/test.sh`) says here which notebooks "
            "the tests re-ran and matched.\n"
        )
    states = [notebook_state(nb, results, results_path, portable) for nb in notebooks]
    passed = sum(s.startswith("validated") and s.endswith("both numerical configurations")
                 for s in states)
    when = _when(stamp, results_path)
    if notebooks and passed == len(notebooks):
        return (
            f"In this build, all {passed} chapter notebooks were re-run by the test suite "
            f"({when}) and matched their stored outputs under both numerical configurations, "
            f"so what you see is what was checked; the {STATUS_DOC} page names the versions, "
            "the CPU and the BLAS library of that run.\n"
        )
    return (
        f"In this build, {passed} of {len(notebooks)} chapter notebooks were re-run by the "
        f"test suite ({when}) and matched their stored outputs under both numerical "
        "configurations; **the others are not validated** (an output differed, the notebook "
        f"changed after the run, or it was not re-run). The {STATUS_DOC} page says which, "
        "and names the versions, the CPU and the BLAS library of that run.\n"
    )


def render(results_path: Path) -> str:
    notebooks = toc_notebooks()
    results, stamp, portable = _load(results_path)
    lines = []
    if results is None:
        lines.append(
            "This build was made without running the test suite, so no notebook is "
            "claimed to be validated. The outputs shown are those stored in the "
            "notebooks; run `bash scripts/test.sh` to validate them and rebuild."
        )
    else:
        when = _when(stamp, results_path)
        lines.append(f"Results of the test run of {when} (`pytest --nbval`, then again under "
                     f"the second numerical configuration: {portable_configuration()}).")
    lines += ["", "| Chapter | Notebook | Validation |", "|---|---|---|"]
    if not notebooks:
        lines.append("| — | — | no chapter notebook is in the table of contents yet |")
    for nb in notebooks:
        docname = "/" + nb.removesuffix(".ipynb")
        title = _title(ROOT / nb).replace("|", "\\|")
        lines.append(f"| {{doc}}`{title} <{docname}>` | `{nb}` | {notebook_state(nb, results, results_path, portable)} |")
    lines += [
        "",
        "Machine and software of this build:",
        "",
        "| Software | Version |",
        "|---|---|",
        f"| CPU | {cpu_name()} ({platform.machine()}) |",
        f"| BLAS | {blas_description()} |",
        f"| Python | {platform.python_version()} ({platform.python_implementation()}) |",
    ]
    lines += [f"| {shown} | {_version(dist)} |" for shown, dist in LIBRARIES]
    lines += [f"| MathJax | {_vendored('mathjax')} |", f"| mermaid | {_vendored('mermaid')} |"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path,
                    default=Path(os.environ.get("MATHREC_TEST_RESULTS", DEFAULT_RESULTS)))
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for path, text in ((args.output, render(args.results)),
                       (args.output.with_name(NOTE_NAME), validation_note(args.results))):
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")  # untouched when unchanged: no needless rebuild
    return 0


if __name__ == "__main__":
    sys.exit(main())
