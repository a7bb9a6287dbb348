#!/usr/bin/env python3
"""Write the body of the API reference (``book/api.md``) from the live package.

``book/api.md`` includes ``book/_generated/api_reference.md`` (git-ignored),
which this script writes before every build (the book's Sphinx extension
``scripts/mathrec_book.py`` calls it). It documents every public name of
``mathrec``: each public submodule's ``__all__`` and the top-level shortcuts of
``mathrec.__all__``. A new module or name therefore appears in the book without
editing anything; to place a new module in the reference, add one line to
``MODULES`` below (its title and default chapter).

Each name links to the chapter that teaches it: the chapter number comes from
a "Taught in chapter N" line in its docstring, else from its module's
docstring, else from ``MODULES``; it becomes a link once a notebook
``notebooks/chNN_*.ipynb`` is in ``_toc.yml`` (before that the page says the
chapter is in preparation). A chapter with several notebooks: a docstring that
names one (``notebooks/ch03_factorisation.ipynb``) links to that one.

Usage: ``python scripts/make_api.py [--output PATH]``
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from toc_notebooks import toc_notebooks  # noqa: E402

DEFAULT_OUTPUT = ROOT / "book" / "_generated" / "api_reference.md"

# module -> (title, default chapter). One line per module; order = page order.
MODULES: dict[str, tuple[str, int | None]] = {
    "attention": ("Attention and position-bias models", 1),
    "data": ("The user-item matrix and its container", 2),
    "datasets": ("Data sets: MovieLens, synthetic and toy data", 2),
    "simulate": ("Simulating the feedback loop", 2),
    "similarity": ("Similarity measures", 4),
    "losses": ("Loss functions", 4),
    "linalg": ("Singular value decomposition and low-rank approximation", 4),
    "baselines": ("Baselines", 3),
    "neighbors": ("Neighbourhood models (user- and item-based CF)", 3),
    "factorization": ("Matrix factorisation", 3),
    "neural": ("Neural recommenders", 3),
    "ranking": ("Learning to rank from implicit feedback", 3),
    "split": ("Train/test splits", 5),
    "metrics": ("Accuracy and ranking metrics", 5),
    "evaluation": ("Evaluation protocols", 5),
    "exceptions": ("Errors of the estimator contract", 3),
    "incremental": ("Real-time (incremental) updates", 8),
    "ctr": ("Click-through prediction and calibration", 6),
    "coldstart": ("Cold start", 9),
    "fairness": ("Diversity, popularity bias and fairness", 9),
    "privacy": ("Privacy", 9),
}

TAUGHT = re.compile(r"[Tt]aught in chapters? (\d+)")
CHAPTER = re.compile(r"\b[Cc]hapters? (\d+)")
NOTEBOOK = re.compile(r"notebooks/(ch(\d+)_[\w-]+)\.ipynb")


@dataclass
class Entry:
    module: str  # defining module, e.g. "similarity"
    name: str  # e.g. "cosine"
    kind: str  # autodoc directive: autofunction, autoclass, autoexception, autodata
    summary: str
    chapter: int | None
    notebook: str | None = None  # e.g. "ch03_factorisation" when the docstring names it

    @property
    def qualname(self) -> str:
        return f"mathrec.{self.module}.{self.name}"


def public_modules() -> list[str]:
    import mathrec

    found = {m.name for m in pkgutil.iter_modules(mathrec.__path__) if not m.name.startswith("_")}
    ordered = [m for m in MODULES if m in found]
    return ordered + sorted(found - set(MODULES))


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


RST_ROLE = re.compile(r":(?:py:)?(?:class|func|exc|meth|attr|data|obj|mod):`~?([^`]+)`")
RST_MATH = re.compile(r":math:`([^`]+)`")
RST_LITERAL = re.compile(r"``([^`]+)``")


def _summary(obj, kind: str) -> str:
    """The docstring's first paragraph, translated from reStructuredText to MyST."""
    doc = inspect.getdoc(obj) if kind != "autodata" else None
    if not doc:
        return ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
    first = RST_ROLE.sub(lambda m: f"`{m.group(1)}`", first)
    first = RST_MATH.sub(lambda m: f"{{math}}`{m.group(1)}`", first)
    first = RST_LITERAL.sub(lambda m: f"`{m.group(1)}`", first)
    return first.replace("|", "\\|")


def _chapter_of(text: str | None, *, loose: bool) -> int | None:
    if not text:
        return None
    m = TAUGHT.search(text) or (CHAPTER.search(text) if loose else None)
    return int(m.group(1)) if m else None


def entries(module: str) -> list[Entry]:
    mod = importlib.import_module(f"mathrec.{module}")
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, v in vars(mod).items()
                 if not n.startswith("_") and getattr(v, "__module__", None) == mod.__name__]
    default = _chapter_of(mod.__doc__, loose=True) or MODULES.get(module, ("", None))[1]
    module_nb = NOTEBOOK.search(mod.__doc__ or "")
    out = []
    for name in names:
        obj = getattr(mod, name)
        kind = _kind(obj)
        doc = inspect.getdoc(obj) if kind != "autodata" else None
        chapter = _chapter_of(doc, loose=False)
        nb = NOTEBOOK.search(doc or "") or (module_nb if chapter in (None, default) else None)
        if nb and chapter is None:
            chapter = int(nb.group(2))
        out.append(Entry(module, name, kind, _summary(obj, kind), chapter or default,
                         nb.group(1) if nb and int(nb.group(2)) == (chapter or default) else None))
    return out


def chapter_docs() -> dict[int | str, str]:
    """Docnames of the chapter notebooks in the table of contents.

    Keyed by notebook stem ("ch03_factorisation") and by chapter number (its
    first notebook in the table of contents).
    """
    docs: dict[int | str, str] = {}
    for nb in toc_notebooks():
        m = re.match(r"notebooks/(ch(\d+)_[\w-]+)\.ipynb$", nb)
        if m:
            docname = "/" + nb.removesuffix(".ipynb")
            docs[m.group(1)] = docname
            docs.setdefault(int(m.group(2)), docname)
    return docs


def _chapter_ref(chapter: int | None, docs: dict, notebook: str | None = None) -> str:
    if chapter is None:
        return "—"
    target = docs.get(notebook) if notebook else docs.get(chapter)
    if target:
        return f"{{doc}}`Chapter {chapter} <{target}>`"
    return f"Chapter {chapter} (in preparation)"


def render() -> str:
    import mathrec

    docs = chapter_docs()
    modules = public_modules()
    by_module = {m: entries(m) for m in modules}
    shortcuts = {}  # qualified name -> top-level shortcut
    for name in getattr(mathrec, "__all__", []):
        obj = getattr(mathrec, name)
        mod = getattr(obj, "__module__", "") or ""
        shortcuts[f"{mod}.{name}"] = f"mathrec.{name}"

    roles = {"autoclass": "class", "autoexception": "exc", "autofunction": "func", "autodata": "data"}
    lines = [
        "<!-- Generated by scripts/make_api.py at build time; do not edit. -->",
        "",
        "## The package `mathrec`",
        "",
        "```{eval-rst}",
        ".. automodule:: mathrec",
        "   :no-members:",
        "```",
    ]
    for module in modules:
        title, _ = MODULES.get(module, (module, None))
        lines += ["", f"## `mathrec.{module}`: {title}", ""]
        refs = dict.fromkeys(_chapter_ref(e.chapter, docs, e.notebook)
                             for e in sorted(by_module[module], key=lambda e: e.chapter or 0)
                             if e.chapter is not None)
        if refs:
            lines += ["Taught in " + ", ".join(refs) + ".", ""]
        lines += ["| Name | What it is | Chapter |", "|---|---|---|"]
        for e in by_module[module]:
            also = f" (also `{shortcuts[e.qualname]}`)" if e.qualname in shortcuts else ""
            lines.append(f"| {{py:{roles[e.kind]}}}`~{e.qualname}`{also} | {e.summary} | "
                         f"{_chapter_ref(e.chapter, docs, e.notebook)} |")
        lines += ["", "```{eval-rst}", f".. automodule:: mathrec.{module}", "   :no-members:", ""]
        for e in by_module[module]:
            lines.append(f".. {e.kind}:: {e.qualname}")
            if e.kind == "autoclass":
                lines += ["   :members:", "   :inherited-members:"]
            lines.append("")
        lines.append("```")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)
    text = render()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if not args.output.is_file() or args.output.read_text(encoding="utf-8") != text:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
