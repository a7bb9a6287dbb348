"""The API reference of the book documents every public name, and its docstrings render.

``book/api.md`` includes ``book/_generated/api_reference.md``, which
``scripts/make_api.py`` writes from the live package at build time. These tests
fail when a public name of ``mathrec`` would be missing from that page, when a
new module has not been placed in the reference (one line in ``MODULES``), or
when a docstring would not render. Docstrings may write maths as ``:math:`` /
``.. math::`` (reStructuredText) or as ``$...$`` / ``$$...$$``, which the book's
extension (``scripts/mathrec_book.py``) converts; what it cannot convert would
show as raw TeX. A docstring with LaTeX must be a raw string, or its
backslashes become control characters.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_api  # noqa: E402
from mathrec_book import dollar_math_to_rst  # noqa: E402

import mathrec  # noqa: E402


def _public_modules() -> list[str]:
    return make_api.public_modules()


def _public_names() -> list[str]:
    """Every public name: ``mathrec.<module>.<name>`` for each module's ``__all__``."""
    names = []
    for module in _public_modules():
        mod = importlib.import_module(f"mathrec.{module}")
        exported = getattr(mod, "__all__", None)
        assert exported is not None, f"mathrec.{module} has no __all__: list its public names"
        names += [f"mathrec.{module}.{n}" for n in exported]
    return names


@pytest.fixture(scope="module")
def reference() -> str:
    return make_api.render()


def test_api_page_includes_the_generated_index():
    page = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    assert "{include} _generated/api_index.md" in page
    index = make_api.render_index()
    for module in _public_modules():
        row = next(line for line in index.splitlines() if f"</book/api/{module}>" in line)
        assert row.rstrip(" |").split("|")[-1].strip(), f"mathrec.{module} has no one-line summary"


def _toc_api_pages() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc["parts"]:
        for chapter in part.get("chapters", []):
            if chapter.get("file") == "book/api":
                return [s["file"] for s in chapter.get("sections", [])]
    return []


def test_one_page_per_module_in_the_table_of_contents():
    """Each module has its page book/api/<module>.md, listed under book/api in MODULES order."""
    assert _toc_api_pages() == [f"book/api/{m}" for m in _public_modules()], (
        "_toc.yml must list book/api/<module> for every module, in the order of MODULES"
    )
    for module in _public_modules():
        page = ROOT / "book" / "api" / f"{module}.md"
        assert page.is_file(), f"no page {page.relative_to(ROOT)}: run python scripts/make_api.py --stubs"
        assert page.read_text(encoding="utf-8") == make_api.stub(module)
    extra = {p.stem for p in (ROOT / "book" / "api").glob("*.md")} - set(_public_modules())
    assert not extra, f"pages for modules that do not exist: {sorted(extra)}"


@pytest.mark.parametrize("module", _public_modules())
def test_module_page_has_its_title_and_every_name(module):
    text = make_api.render_module(module)
    assert text.splitlines()[2].startswith(f"# `mathrec.{module}`: ")
    assert text.count("\n# ") == 1, "one title per module page"
    for e in make_api.entries(module):
        assert f".. {e.kind}:: {e.qualname}" in text
        assert e.summary, f"{e.qualname} has an empty description in the module's table"


@pytest.mark.parametrize("qualname", _public_names())
def test_every_public_name_is_documented(qualname, reference):
    assert f".. {qualname}" not in reference  # sanity: the format below is what we look for
    assert re.search(rf"^\.\. auto\w+:: {re.escape(qualname)}$", reference, re.MULTILINE), (
        f"{qualname} is missing from the API reference (scripts/make_api.py)"
    )


@pytest.mark.parametrize("name", sorted(getattr(mathrec, "__all__", [])))
def test_every_top_level_name_is_documented(name, reference):
    obj = getattr(mathrec, name)
    qualname = f"{obj.__module__}.{name}"
    assert f"(also `mathrec.{name}`)" in reference, f"mathrec.{name} is not listed in the API reference"
    assert re.search(rf"^\.\. auto\w+:: {re.escape(qualname)}$", reference, re.MULTILINE)


@pytest.mark.parametrize("module", _public_modules())
def test_every_module_is_placed_in_the_reference(module):
    assert module in make_api.MODULES, (
        f"mathrec.{module} is new: add one line for it to MODULES in scripts/make_api.py "
        "(its title and the chapter that teaches it)"
    )


@pytest.mark.parametrize("module", _public_modules())
def test_every_public_name_names_its_chapter(module):
    missing = [e.qualname for e in make_api.entries(module) if e.chapter is None]
    assert not missing, f"no chapter for {missing}: add 'Taught in chapter N.' to the docstring"


def _docstrings():
    for module in _public_modules():
        mod = importlib.import_module(f"mathrec.{module}")
        yield f"mathrec.{module}", mod.__doc__ or ""
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.isclass(obj) or callable(obj):
                yield f"mathrec.{module}.{name}", obj.__doc__ or ""
                if inspect.isclass(obj):
                    for attr, member in vars(obj).items():
                        if not attr.startswith("_") and callable(member) and member.__doc__:
                            yield f"mathrec.{module}.{name}.{attr}", member.__doc__


# TeX between dollars: "$$", or "$...$" holding a command, ^, _ or braces, or one letter
DOLLAR_MATH = re.compile(r"\$\$|(?<![\w$`])\$(?=\S)[^$\n]*(?:\\[A-Za-z]+|[\^_{}])[^$\n]*(?<=\S)\$|(?<![\w$`])\$[A-Za-z]\$")
CONTROL = re.compile(r"[\x07\x08\x0b\x0c]")  # \a \b \v \f: "\frac", "\beta", "\bar" in a non-raw string


@pytest.mark.parametrize("where, doc", list(_docstrings()),
                         ids=lambda x: x if isinstance(x, str) and x.startswith("mathrec") else "")
def test_docstring_maths_renders(where, doc):
    converted = "\n".join(dollar_math_to_rst(inspect.cleandoc(doc).splitlines()))
    leftover = [line for line in converted.splitlines()
                if DOLLAR_MATH.search(line) and not line.lstrip().startswith((">>>", "..."))]
    assert not leftover, (
        f"{where}: dollar maths that the book cannot convert (it would show as raw TeX): "
        f"{leftover}; use :math:`...` or a '.. math::' block"
    )
    assert not CONTROL.search(doc), (
        f"{where}: the docstring has control characters; make it a raw string (r\"\"\"...\"\"\") "
        "so that LaTeX backslashes survive"
    )


def test_dollar_math_detector():
    """The check above catches what broke pages before, and spares prose."""
    assert DOLLAR_MATH.search(r"$$G = \frac{1}{2}$$")
    assert DOLLAR_MATH.search(r"the bias $\mu + b_u$ is")
    assert DOLLAR_MATH.search(r"user $u$ with $n_u$ ratings")
    assert not DOLLAR_MATH.search(r"costs $5 and $10")
    assert not DOLLAR_MATH.search(r":math:`\frac{1}{2}`")
    assert not DOLLAR_MATH.search(r"``$XDG_CACHE_HOME/mathrec``")
    assert CONTROL.search("\frac{1}{2}") and not CONTROL.search(r"\frac{1}{2}")


def test_dollar_math_conversion_of_a_display_on_its_own_lines():
    lines = ["Notes", "-----", "$$", "G = \\frac{1}{2}", "$$", "", "Done."]
    out = dollar_math_to_rst(lines)
    assert out[:5] == ["Notes", "-----", ".. math::", "", "   G = \\frac{1}{2}"]
    assert "$" not in "\n".join(out) and out[-1] == "Done."


def test_dollar_math_conversion():
    lines = [
        "The loss of user $u$ is",
        "",
        "$$L = \\sum_i (\\hat r_{ui}",
        "     - r_{ui})^2,$$",
        "",
        "and costs $5 or $10, see ``$HOME``.",
        ">>> print('$x$')",
    ]
    assert dollar_math_to_rst(lines) == [
        "The loss of user :math:`u` is",
        "",
        ".. math::",
        "",
        "   L = \\sum_i (\\hat r_{ui} - r_{ui})^2,",
        "",
        "",
        "and costs $5 or $10, see ``$HOME``.",
        ">>> print('$x$')",
    ]
