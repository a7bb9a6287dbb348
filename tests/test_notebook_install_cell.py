"""Every chapter notebook starts with the hidden cell that installs mathrec on Colab.

The book's Colab and Binder buttons open a chapter's ``.ipynb`` from the
repository. On Colab, mathrec is not installed, so each notebook's first code
cell installs it from the repository when ``import mathrec`` fails; the cell is
tagged ``remove-cell`` so that the book does not show it.

The static tests below check that cell in every notebook. The last test runs
the cell for real: it creates a fresh virtual environment, runs the cell in
IPython with the git URL pointed at this clone (``git+file://localhost/...``
instead of ``git+https://github.com/...``), and imports mathrec. It needs the
package index (numpy, scipy, pandas, ipython), so it only runs when
``MATHREC_TEST_INSTALL=1``::

    MATHREC_TEST_INSTALL=1 .venv/bin/python -m pytest tests/test_notebook_install_cell.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "scripts"))
import set_repository  # noqa: E402  (the install cell's one template)

REPO_URL = set_repository.repository()[0]
INSTALL_CELL = set_repository.install_cell(REPO_URL)


def _first_code_cell(path: Path) -> dict:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return next(c for c in cells if c["cell_type"] == "code")


def _source(cell: dict) -> str:
    src = cell["source"]
    return ("".join(src) if isinstance(src, list) else src).strip()


@pytest.mark.skipif(not NOTEBOOKS, reason="no chapter notebook yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_mathrec(path):
    cell = _first_code_cell(path)
    assert _source(cell) == INSTALL_CELL, (
        f"{path.name}: the first code cell must be exactly the install cell (it installs "
        f"from {REPO_URL}, the repository in _config.yml):\n{INSTALL_CELL}"
    )
    assert "remove-cell" in cell.get("metadata", {}).get("tags", []), (
        f"{path.name}: tag the install cell 'remove-cell' so that the book hides it"
    )
    assert not cell.get("outputs"), f"{path.name}: the install cell must have no output"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MATHREC_TEST_INSTALL") != "1",
                    reason="needs the package index; set MATHREC_TEST_INSTALL=1")
def test_install_cell_works_in_a_fresh_environment(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "ipython"], check=True, cwd=tmp_path)
    # (cwd outside the clone, or "import mathrec" would find its source folder)
    assert subprocess.run([python, "-c", "import mathrec"], capture_output=True, cwd=tmp_path).returncode != 0
    # pip wants a host in git+file URLs: git+file://localhost/abs/path
    local = INSTALL_CELL.replace(f"git+{REPO_URL}", f"git+file://localhost{ROOT.as_posix()}")
    script = tmp_path / "cell.ipy"
    script.write_text(local + "\nprint('OK', mathrec.__version__, mathrec.cosine([1, 2, 3], [2, 3, 1]))\n")
    result = subprocess.run([env_dir / "bin" / "ipython", "--no-banner", str(script)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert re.search(r"^OK \S+ 0\.785714", result.stdout, re.MULTILINE), result.stdout + result.stderr
