"""Print the notebooks listed in ``_toc.yml``, one path per line.

The test command validates exactly the notebooks the book shows, so a chapter
enters the nbval run the moment it enters the table of contents.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            if isinstance(value, (list, dict)):
                yield from _files(value)
    elif isinstance(node, list):
        for value in node:
            yield from _files(value)


def toc_notebooks(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    entries = [toc["root"], *_files(toc.get("parts", toc.get("chapters", [])))]
    notebooks = []
    for entry in entries:
        path = ROOT / f"{entry}.ipynb"
        if path.exists():
            notebooks.append(path.relative_to(ROOT).as_posix())
        elif not (ROOT / f"{entry}.md").exists():
            sys.exit(f"_toc.yml lists {entry!r}, but neither {entry}.ipynb nor {entry}.md exists")
    return notebooks


if __name__ == "__main__":
    print("\n".join(toc_notebooks()))
