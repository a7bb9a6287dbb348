#!/usr/bin/env python3
"""Write the API reference (``book/api.md`` and ``book/api/*.md``) from the live package.

The reference has one page per module. ``book/api.md`` is the index: it
includes ``book/_generated/api_index.md`` (the package and a table of its
modules, each with the first line of its docstring). Each module page
``book/api/<module>.md`` holds one line, an include of
``book/_generated/api/<module>.md``: its title, a table of its public names and
their autodoc entries. This script writes the generated files (git-ignored)
before every build (the book's Sphinx extension ``scripts/mathrec_book.py``
calls it). It documents every public name of ``mathrec``: each public
submodule's ``__all__`` and the top-level shortcuts of ``mathrec.__all__``. A
new name therefore appears in the book without editing anything; a new module
needs one line in ``MODULES`` below (its title and default chapter), its page
``book/api/<module>.md`` (``python scripts/make_api.py --stubs`` writes it) and
its line in ``_toc.yml``; ``tests/test_api_reference.py`` fails until all three
are there.

Each name links to the chapter that teaches it: the chapter number comes from
a "Taught in chapter N" line in its docstring, else from its module's
docstring, else from ``MODULES``; it becomes a link once a notebook
``notebooks/chNN_*.ipynb`` is in ``_toc.yml`` (before that the page says the
chapter is in preparation). A chapter with several notebooks: a docstring that
names one (``notebooks/ch03_factorisation.ipynb``) links to that one.

Usage: ``python scripts/make_api.py [--output DIR] [--stubs]``
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
# Document the package beside the book, never another installed copy of it
# (an editable install of another checkout, a stale wheel): the book's
# extension imports this module, so autodoc imports mathrec from here too.
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))
from toc_notebooks import toc_notebooks  # noqa: E402

DEFAULT_OUTPUT = ROOT / "book" / "_generated"  # api_index.md and api/<module>.md
PAGES = ROOT / "book" / "api"  # the committed one-line module pages
INDEX_NAME = "api_index.md"

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
    "spark": ("Apache Spark's ALS in mathrec's terms", 7),
    "plotting": ("Plotting style of the book", 1),
}

# Modules whose chapter is not written yet: the notebook that will teach them.
# Until it is in the table of contents, their entries say "(in preparation)"
# instead of linking to another notebook of the same chapter number.
PLANNED: dict[str, str] = {
    "neural": "ch03_deep_learning",
    "ranking": "ch03_ranking",
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


def _attribute_doc(module: str, name: str) -> str | None:
    """The ``#:`` comment above a module constant (what autodoc shows for it)."""
    try:
        from sphinx.pycode import ModuleAnalyzer

        docs = ModuleAnalyzer.for_module(f"mathrec.{module}").find_attr_docs()
    except Exception:  # noqa: BLE001 - no comment: an empty summary
        return None
    lines = docs.get(("", name))
    return "\n".join(lines).strip() if lines else None


def _summary(obj, kind: str, module: str = "", name: str = "") -> str:
    """The docstring's first paragraph, translated from reStructuredText to MyST."""
    doc = inspect.getdoc(obj) if kind != "autodata" else _attribute_doc(module, name)
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
    if module_nb is None and module in PLANNED:
        module_nb = NOTEBOOK.search(f"notebooks/{PLANNED[module]}.ipynb")
    out = []
    for name in names:
        obj = getattr(mod, name)
        kind = _kind(obj)
        doc = inspect.getdoc(obj) if kind != "autodata" else None
        chapter = _chapter_of(doc, loose=False)
        nb = NOTEBOOK.search(doc or "") or (module_nb if chapter in (None, default) else None)
        if nb and chapter is None:
            chapter = int(nb.group(2))
        out.append(Entry(module, name, kind, _summary(obj, kind, module, name), chapter or default,
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
    if notebook and docs.get(chapter):
        return f"Chapter {chapter} (its section on this is in preparation)"
    return f"Chapter {chapter} (in preparation)"


def module_summary(module: str) -> str:
    """The first line of the module's docstring (for the index)."""
    doc = inspect.getdoc(importlib.import_module(f"mathrec.{module}")) or ""
    first = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
    return RST_LITERAL.sub(lambda m: f"`{m.group(1)}`", first).replace("|", "\\|")


def _shortcuts() -> dict[str, str]:
    """Qualified name -> top-level shortcut (``mathrec.neighbors.ItemKNN`` -> ``mathrec.ItemKNN``)."""
    import mathrec

    out = {}
    for name in getattr(mathrec, "__all__", []):
        obj = getattr(mathrec, name)
        out[f"{getattr(obj, '__module__', '') or ''}.{name}"] = f"mathrec.{name}"
    return out


ROLES = {"autoclass": "class", "autoexception": "exc", "autofunction": "func", "autodata": "data"}
GENERATED = "<!-- Generated by scripts/make_api.py at build time; do not edit. -->"


def render_index() -> str:
    """The index page's body: the package docstring and one row per module."""
    lines = [GENERATED, "", "## Modules", "", "| Module | What it holds |", "|---|---|"]
    for module in public_modules():
        lines.append(f"| {{doc}}`mathrec.{module} </book/api/{module}>` | {module_summary(module)} |")
    lines += ["", "## The package `mathrec`", "", "```{eval-rst}", ".. automodule:: mathrec",
              "   :no-members:", "```"]
    return "\n".join(lines) + "\n"


def render_module(module: str, docs: dict | None = None, shortcuts: dict | None = None) -> str:
    """One module's page: its title, what teaches it, a table of names, and their entries."""
    docs = chapter_docs() if docs is None else docs
    shortcuts = _shortcuts() if shortcuts is None else shortcuts
    found = entries(module)
    title, _ = MODULES.get(module, (module, None))
    lines = [GENERATED, "", f"# `mathrec.{module}`: {title}", ""]
    refs = dict.fromkeys(_chapter_ref(e.chapter, docs, e.notebook)
                         for e in sorted(found, key=lambda e: e.chapter or 0) if e.chapter is not None)
    if refs:
        lines += ["Taught in " + ", ".join(refs) + ". All modules: {doc}`the API reference </book/api>`.", ""]
    lines += ["| Name | What it is | Chapter |", "|---|---|---|"]
    for e in found:
        also = f" (also `{shortcuts[e.qualname]}`)" if e.qualname in shortcuts else ""
        lines.append(f"| {{py:{ROLES[e.kind]}}}`~{e.qualname}`{also} | {e.summary} | "
                     f"{_chapter_ref(e.chapter, docs, e.notebook)} |")
    lines += ["", "```{eval-rst}", f".. automodule:: mathrec.{module}", "   :no-members:", ""]
    for e in found:
        lines.append(f".. {e.kind}:: {e.qualname}")
        if e.kind == "autoclass":
            lines += ["   :members:", "   :inherited-members:"]
        lines.append("")
    lines.append("```")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole reference as one text (the index, then every module page)."""
    docs, shortcuts = chapter_docs(), _shortcuts()
    return render_index() + "".join(render_module(m, docs, shortcuts) for m in public_modules())


def stub(module: str) -> str:
    """The committed page of one module: an include of its generated body."""
    return f"```{{include}} ../_generated/api/{module}.md\n```\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")  # untouched when unchanged: no needless rebuild


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    ap.add_argument("--stubs", action="store_true",
                    help="also write the missing one-line module pages book/api/<module>.md")
    args = ap.parse_args(argv)
    docs, shortcuts = chapter_docs(), _shortcuts()
    _write(args.output / INDEX_NAME, render_index())
    for module in public_modules():
        _write(args.output / "api" / f"{module}.md", render_module(module, docs, shortcuts))
        if args.stubs and not (PAGES / f"{module}.md").is_file():
            _write(PAGES / f"{module}.md", stub(module))
            print(f"wrote {PAGES.relative_to(ROOT)}/{module}.md: add it to _toc.yml under book/api")
    return 0


if __name__ == "__main__":
    sys.exit(main())
