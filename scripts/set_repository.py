#!/usr/bin/env python3
"""Set the book's repository address: ``_config.yml`` and every notebook's install cell.

The address lives in one place, ``repository: url:`` in ``_config.yml``. Jupyter
Book derives from it the Colab and Binder launch buttons and the repository
button of every page. The one copy that cannot read ``_config.yml`` is the
hidden first code cell of each chapter notebook (tagged ``remove-cell``), which
installs ``mathrec`` on Colab, where only the ``.ipynb`` file is opened, and the
address of a raw file of the repository that a notebook downloads there
(chapter 5 fetches the source's listing, ``https://raw.githubusercontent.com/
OWNER/REPO/BRANCH``); this script writes both from ``_config.yml``
(``INSTALL_CELL``, ``raw_base``), and ``tests/test_repository.py`` fails when
any copy differs.

To publish the book under another address::

    python scripts/set_repository.py https://github.com/OWNER/REPO [--branch main]

It rewrites the ``url:`` (and ``branch:``) line of ``_config.yml``, the
source of the install cell of each notebook and the raw-file addresses in
notebook cells, and nothing else: no other source,
no output, no metadata, so no notebook needs to be re-executed (the cell prints
nothing; nbval re-runs it, and ``import mathrec`` succeeds there). Without
arguments it only propagates the address already in ``_config.yml``; with
``--check`` it changes nothing and exits 1 when a notebook disagrees.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "_config.yml"
NOTEBOOKS = ROOT / "notebooks"
INSTALL_TAG = "remove-cell"

INSTALL_CELL = '''# Colab / fresh kernels: install mathrec if it is not importable.
try:
    import mathrec
except ImportError:
    %pip install --quiet "mathrec @ git+{url}"
    import mathrec'''

URL = re.compile(r"^https://[\w.-]+/[\w.-]+/[\w.-]+$")
#: A raw-file address of a GitHub repository, up to and including the branch.
RAW = re.compile(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[\w.-]+")


def repository(config: Path = CONFIG) -> tuple[str, str]:
    """The repository address and branch that ``_config.yml`` sets."""
    repo = yaml.safe_load(config.read_text(encoding="utf-8")).get("repository") or {}
    return repo.get("url", ""), repo.get("branch", "main")


def raw_base(url: str, branch: str) -> str | None:
    """``https://raw.githubusercontent.com/OWNER/REPO/BRANCH`` for a GitHub address, else None."""
    host, owner, repo = url.split("://", 1)[1].split("/")
    if host != "github.com":
        return None
    return f"https://raw.githubusercontent.com/{owner}/{repo}/{branch}"


def raw_urls(path: Path) -> set[str]:
    """The raw-file repository addresses (up to the branch) in a notebook's cells."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return {m for cell in nb["cells"] for m in RAW.findall("".join(cell["source"]))}


def install_cell(url: str) -> str:
    return INSTALL_CELL.format(url=url)


def _install_cell_index(cells: list[dict]) -> int:
    """The first code cell; it must be the hidden install cell."""
    for i, cell in enumerate(cells):
        if cell.get("cell_type") == "code":
            if INSTALL_TAG not in cell.get("metadata", {}).get("tags", []):
                raise ValueError(f"the first code cell (cell {i}) is not tagged {INSTALL_TAG!r}")
            return i
    raise ValueError("the notebook has no code cell")


def _lines(text: str) -> list[str]:
    """Jupyter's on-disk form of a cell source: lines that keep their newline."""
    return text.splitlines(keepends=True)


def _dump(nb: dict) -> str:
    # the format Jupyter and nbformat write: one-space indent, sorted keys, UTF-8
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def set_notebook(path: Path, url: str, branch: str = "main") -> bool:
    """Write the install cell and raw-file addresses of one notebook; True when it changed."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    if _dump(nb) != text:
        raise ValueError(f"{path.name} is not in Jupyter's standard JSON layout; save it with "
                         "Jupyter or nbformat first, so that only the install cell changes")
    cell = nb["cells"][_install_cell_index(nb["cells"])]
    cell["source"] = _lines(install_cell(url))
    raw = raw_base(url, branch)
    for other in nb["cells"]:
        source = "".join(other["source"])
        if RAW.search(source):
            if raw is None:
                raise ValueError(f"{path.name} downloads a raw file from GitHub, but {url} is "
                                 "not a GitHub address: edit that cell by hand")
            other["source"] = _lines(RAW.sub(raw, source))
    new = _dump(nb)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def notebook_url(path: Path) -> str | None:
    """The address the notebook's install cell installs from (None if it is not the install cell)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    try:
        cell = nb["cells"][_install_cell_index(nb["cells"])]
    except ValueError:
        return None
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    m = re.search(r'git\+(\S+?)"', source)
    if not m or source.strip() != install_cell(m.group(1)):
        return None
    return m.group(1)


def set_config(url: str, branch: str | None, config: Path = CONFIG) -> None:
    """Rewrite the ``url:``/``branch:`` lines of the ``repository:`` block, keeping comments."""
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    inside = False
    for i, line in enumerate(lines):
        if re.match(r"^repository:\s*$", line):
            inside = True
            continue
        if inside and line.strip() and not line[0].isspace():
            break
        if inside and re.match(r"^\s+url:", line):
            lines[i] = re.sub(r"url:.*", f"url: {url}", line, count=1)
        elif inside and branch and re.match(r"^\s+branch:", line):
            lines[i] = re.sub(r"branch:.*", f"branch: {branch}", line, count=1)
    config.write_text("".join(lines), encoding="utf-8")
    if repository(config)[0] != url:
        raise RuntimeError(f"could not set the url in {config}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", nargs="?", help="e.g. https://github.com/OWNER/REPO (default: keep _config.yml's)")
    ap.add_argument("--branch", help="the branch the launch buttons open (default: keep _config.yml's)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook disagrees")
    ap.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    config, notebooks = args.root / "_config.yml", sorted((args.root / "notebooks").glob("*.ipynb"))
    if args.url:
        url = args.url.rstrip("/").removesuffix(".git")
        if not URL.match(url):
            ap.error(f"not a repository address: {args.url!r} (expected https://HOST/OWNER/REPO)")
        if not args.check:
            set_config(url, args.branch, config)
    url, branch = repository(config)
    if args.check:
        raw = raw_base(url, branch)
        wrong = [f"{p.name}: the install cell does not install from {url}"
                 for p in notebooks if notebook_url(p) != url]
        wrong += [f"{p.name}: downloads from {u}, not {raw}"
                  for p in notebooks for u in sorted(raw_urls(p)) if u != raw]
        for line in wrong:
            print(line, file=sys.stderr)
        return 1 if wrong else 0
    for path in notebooks:
        if set_notebook(path, url, branch):
            print(f"{path.relative_to(args.root)}: now installs and downloads from {url} ({branch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
