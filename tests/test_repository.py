"""The repository address is set in one place, ``_config.yml``, and every copy agrees.

Jupyter Book derives the Colab, Binder and repository buttons from
``repository: url:``; the hidden install cell of each chapter notebook (which
Colab runs without the rest of the repository) is written from it by
``scripts/set_repository.py``. These tests fail when a notebook, the built
pages or the README disagree with ``_config.yml``, and check that the script
changes nothing but the address.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import set_repository  # noqa: E402

URL, BRANCH = set_repository.repository()
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BUILD = ROOT / "_build" / "html"


def test_config_sets_a_repository_address():
    assert set_repository.URL.match(URL), f"_config.yml repository url is not an address: {URL!r}"
    assert BRANCH


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_installs_from_the_configured_repository(path):
    assert set_repository.notebook_url(path) == URL, (
        f"{path.name}: the install cell does not install from {URL}; run "
        "`python scripts/set_repository.py` to write it from _config.yml"
    )


def test_no_other_copy_of_the_address_in_the_notebooks():
    """Outside the install cell, a notebook does not hard-code the repository address."""
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        index = set_repository._install_cell_index(cells)
        for i, cell in enumerate(cells):
            if i != index:
                assert URL not in "".join(cell["source"]), f"{path.name} cell {i} repeats {URL}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_raw_file_downloads_use_the_configured_repository(path):
    """A notebook that downloads a file of the repository (ch05's listing) uses its address."""
    raw = set_repository.raw_base(URL, BRANCH)
    for found in set_repository.raw_urls(path):
        assert found == raw, f"{path.name} downloads from {found}, not from {raw}"


def test_readme_says_how_to_set_the_address():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scripts/set_repository.py" in readme and URL in readme


def _copy_project(tmp_path: Path, notebooks: list[Path]) -> Path:
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    for path in notebooks:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    return tmp_path


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebook")
def test_set_repository_changes_only_the_address(tmp_path):
    root = _copy_project(tmp_path, NOTEBOOKS[:2])
    new = "https://github.com/someone/mathrec-fork"
    config_before = (root / "_config.yml").read_text(encoding="utf-8")
    before = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (root / "notebooks").iterdir()}
    assert set_repository.main(["--root", str(root), "--check"]) == 0
    assert set_repository.main(["--root", str(root), new + ".git", "--branch", "pages"]) == 0
    assert set_repository.repository(root / "_config.yml") == (new, "pages")
    config_after = (root / "_config.yml").read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(config_before.splitlines(), config_after.splitlines()) if a != b]
    assert [b.strip() for _, b in changed] == [f"url: {new}", "branch: pages"]
    for path in (root / "notebooks").iterdir():
        nb = json.loads(path.read_text(encoding="utf-8"))
        old = before[path.name]
        index = set_repository._install_cell_index(nb["cells"])
        assert set_repository.notebook_url(path) == new
        # the install cell's source is all that changed
        old["cells"][index]["source"] = nb["cells"][index]["source"]
        assert nb == old
        assert path.read_text(encoding="utf-8") == set_repository._dump(nb)
    assert set_repository.main(["--root", str(root), "--check"]) == 0
    # a notebook edited by hand to another address is caught
    path = next((root / "notebooks").iterdir())
    path.write_text(path.read_text(encoding="utf-8").replace(new, URL), encoding="utf-8")
    assert set_repository.main(["--root", str(root), "--check"]) == 1


def test_set_repository_rewrites_raw_file_addresses(tmp_path):
    users = [p for p in NOTEBOOKS if set_repository.raw_urls(p)]
    assert users, "no notebook downloads a raw file of the repository (ch05 should)"
    root = _copy_project(tmp_path, users)
    assert set_repository.main(["--root", str(root), "https://github.com/someone/fork",
                                "--branch", "pages"]) == 0
    for path in (root / "notebooks").iterdir():
        assert set_repository.raw_urls(path) == {"https://raw.githubusercontent.com/someone/fork/pages"}
    assert set_repository.main(["--root", str(root), "--check"]) == 0


def test_set_repository_refuses_what_is_not_an_address(tmp_path, capsys):
    root = _copy_project(tmp_path, [])
    with pytest.raises(SystemExit):
        set_repository.main(["--root", str(root), "github.com/x"])
    assert set_repository.repository(root / "_config.yml")[0] == URL


def _built_notebook_pages() -> list[Path]:
    if not (BUILD / "index.html").is_file():
        return []
    return [BUILD / "notebooks" / f"{p.stem}.html" for p in NOTEBOOKS
            if (BUILD / "notebooks" / f"{p.stem}.html").is_file()]


@pytest.mark.book
@pytest.mark.skipif(not _built_notebook_pages(), reason="the book has not been built (_build/html)")
@pytest.mark.parametrize("page", _built_notebook_pages(), ids=lambda p: p.name)
def test_built_launch_buttons_use_the_configured_repository(page):
    html = page.read_text(encoding="utf-8")
    owner_repo = URL.split("://", 1)[1].split("/", 1)[1]
    colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
    binder = re.findall(r'href="(https://mybinder\.org/[^"]+)"', html)
    assert colab and binder, f"{page.name}: no Colab or Binder button"
    assert all(f"/github/{owner_repo}/blob/{BRANCH}/" in h for h in colab), colab
    assert all(f"/v2/gh/{owner_repo}/{BRANCH}" in h for h in binder), binder
    assert f'href="{URL}"' in html, f"{page.name}: no repository button for {URL}"
