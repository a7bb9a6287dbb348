"""Re-execute chapter notebooks in place, top to bottom, in one fresh kernel each.

Usage::

    MATHREC_DATA=../shared/data .venv/bin/python scripts/execute_notebooks.py notebooks/ch04_maths.ipynb [...]

This is how the stored outputs are produced: the test command then re-runs every
notebook with nbval (twice, under two BLAS configurations) and compares against
what this script stored. Each notebook runs with its own folder as the working
directory, as nbval and Jupyter run it, with ``PYTHONHASHSEED=0``. No timing
metadata is recorded, so a re-run that changes nothing leaves the file unchanged.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 1200) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.pop("MPLBACKEND", None)  # the kernel must use the inline backend
    for name in argv:
        path = Path(name)
        print(f"executing {path}", flush=True)
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
