"""Code the book shows fits its 80-column code boxes, and library source is shown as code.

* Every code cell of every chapter notebook is at most ``LINE_LENGTH``
  characters wide (the width of the book's code boxes; ``ruff format`` with
  ``line-length = 80`` in ``pyproject.toml`` keeps it so).
* Every line of text that a code cell prints or returns (a stream, or a
  ``text/plain`` result that has no ``text/html`` form to show instead) is at
  most ``LINE_LENGTH`` characters wide, so that nothing in an output box
  scrolls sideways.
* Every listing of library source (``literalinclude`` of ``../mathrec/...``)
  names a Python object (``:pyobject:``, never line numbers that an edit of the
  module would shift), sits in a collapsible dropdown, and shows code that fits
  the box once the book's extension has left out the docstrings
  (``scripts/mathrec_book.py``, ``strip_docstrings``).
* Every example of a library docstring (the ``>>>`` and ``...`` lines and the
  output they expect), which the API reference shows in a code box, is at
  most ``LINE_LENGTH`` characters wide once the docstring is dedented. A long
  call is continued on ``...`` lines; a long expected output is broken at a
  space (the doctests normalise whitespace, see ``pyproject.toml``).
"""

from __future__ import annotations

import ast
import doctest
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import mathrec_book  # noqa: E402
from toc_notebooks import toc_notebooks  # noqa: E402

LINE_LENGTH = 80
NOTEBOOKS = [ROOT / p for p in toc_notebooks()]
INCLUDE = re.compile(r"```\{literalinclude\} \.\./(mathrec/\S+)\n((?::[\w-]+:[^\n]*\n)*)```")
DROPDOWN = re.compile(r":::\{admonition\} [^\n]+\n:class: dropdown\n$")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _includes() -> list[tuple[str, int, str, str, str]]:
    found = []
    for path in NOTEBOOKS:
        for i, cell in enumerate(_cells(path)):
            text = "".join(cell["source"])
            for m in INCLUDE.finditer(text):
                found.append((path.name, i, text[: m.start()], m.group(1), m.group(2)))
    return found


INCLUDES = _includes()


def _object_lines(module: str, dotted: str) -> list[str]:
    source = (ROOT / module).read_text(encoding="utf-8")
    node: ast.AST = ast.parse(source)
    for name in dotted.split("."):
        matches = [n for n in node.body
                   if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   and n.name == name]
        assert matches, f"{module} has no {dotted}"
        node = matches[0]
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return source.splitlines(keepends=True)[start - 1 : node.end_lineno]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_fits_the_code_box(path):
    wide = [
        f"cell {i}: {line[:60]}... ({len(line)} characters)"
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if len(line) > LINE_LENGTH
    ]
    assert not wide, f"{path.name}: code lines wider than {LINE_LENGTH}:\n" + "\n".join(wide)


def _text_outputs(cell: dict) -> list[str]:
    """The text of a code cell's outputs that the book shows as plain text."""
    texts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/html" in data:
            continue  # shown as an HTML table, not as text
        text = output.get("text", data.get("text/plain"))
        if text is not None:
            texts.append("".join(text))
    return texts


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_fit_the_output_box(path):
    wide = [
        f"cell {i}: {line[:60]}... ({len(line)} characters)"
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code"
        for text in _text_outputs(cell)
        for line in text.splitlines()
        if len(line) > LINE_LENGTH
    ]
    assert not wide, (
        f"{path.name}: output lines wider than {LINE_LENGTH}:\n" + "\n".join(wide)
    )


def test_the_chapters_show_library_source():
    assert len(INCLUDES) >= 10, "the chapters should show the code the models run"


@pytest.mark.parametrize("include", INCLUDES, ids=lambda c: f"{c[0]}-cell{c[1]}-{c[4].strip()}")
def test_library_listing_is_a_collapsible_python_object(include):
    name, cell, before, module, options = include
    opts = dict(re.findall(r":([\w-]+):\s*([^\n]*)", options))
    assert set(opts) == {"pyobject"}, (
        f"{name} cell {cell}: {module} is shown with {sorted(opts)}; name the object with "
        ":pyobject: alone (line numbers shift when the module is edited)"
    )
    assert DROPDOWN.search(before), (
        f"{name} cell {cell}: the listing of {opts['pyobject']} is not in a "
        ":::{admonition} ... :class: dropdown block"
    )
    shown = mathrec_book.strip_docstrings(_object_lines(module, opts["pyobject"]))
    code = textwrap.dedent("".join(shown))
    ast.parse(code)  # what the reader sees is valid Python
    assert '"""' not in code and "'''" not in code, f"{opts['pyobject']}: a docstring is shown"
    wide = [line for line in code.splitlines() if len(line) > LINE_LENGTH]
    assert not wide, f"{module}:{opts['pyobject']} shows lines wider than {LINE_LENGTH}: {wide}"


FUNCTION = '''\
def f(x):
    """Summary.

    More.
    """

    # a comment stays
    return x  # so does this one
'''


def test_strip_docstrings_keeps_the_code_and_comments():
    lines = mathrec_book.strip_docstrings(FUNCTION.splitlines(keepends=True))
    assert "".join(lines) == "def f(x):\n    # a comment stays\n    return x  # so does this one\n"


def test_strip_docstrings_nested_and_docstring_only_bodies():
    source = textwrap.indent(textwrap.dedent('''\
        class A:
            """Class doc."""

            def f(self):
                """Only a docstring."""

            def g(self):
                r"""Two
                lines."""
                return 1
        '''), "    ")
    shown = "".join(mathrec_book.strip_docstrings(source.splitlines(keepends=True)))
    assert shown == textwrap.indent(textwrap.dedent('''\
        class A:
            def f(self):
                ...

            def g(self):
                return 1
        '''), "    ")
    ast.parse(textwrap.dedent(shown))


def test_strip_docstrings_leaves_other_text_alone():
    for text in ["not python (\n", "x = 1\n", 'def f():\n    return "no docstring"\n']:
        lines = text.splitlines(keepends=True)
        assert mathrec_book.strip_docstrings(lines) == lines



def _library_modules() -> list[str]:
    return sorted(p.stem for p in (ROOT / "mathrec").glob("*.py"))


@pytest.mark.parametrize("module", _library_modules())
def test_docstring_examples_fit_the_code_box(module):
    # the doctests as doctest finds them, so docstrings assembled at run time
    # (``__doc__ = (...) + _COMMON_PARAMS + ...``) are checked too
    import importlib

    name = "mathrec" if module == "__init__" else f"mathrec.{module}"
    wide = []
    for test in doctest.DocTestFinder(recurse=True).find(importlib.import_module(name)):
        for example in test.examples:
            source = example.source.rstrip("\n").split("\n")
            lines = [(">>> " if i == 0 else "... ") + line for i, line in enumerate(source)]
            lines += example.want.rstrip("\n").split("\n") if example.want else []
            if example.exc_msg:
                lines += example.exc_msg.rstrip("\n").split("\n")
            wide += [f"{test.name}: {line[:60]}... ({len(line)} characters)"
                     for line in lines if len(line) > LINE_LENGTH]
    assert not wide, f"{name}: docstring examples wider than {LINE_LENGTH}:\n" + "\n".join(sorted(set(wide)))
