"""Sphinx extension with the book's build-time steps (loaded from ``_config.yml``).

``sphinx: local_extensions: {mathrec_book: scripts}`` makes every
``jupyter-book build`` of the book, however it is started:

1. vendor MathJax and mermaid into ``_static/vendor/`` when they are missing
   (``scripts/vendor_assets.py``: pinned npm releases, SHA-512 checked), so the
   HTML works offline and never loads a CDN;
2. keep those vendored files out of every page's ``<script>`` tags. Jupyter
   Book adds *every* ``*.js`` below ``_static/`` to ``html_js_files``; MathJax is
   loaded once through ``mathjax_path`` and loads its own components on demand;
3. write the status page's table (``scripts/make_status.py``) and the body of
   the API reference from the live package (``scripts/make_api.py``);
4. load mermaid as a classic script, so diagrams also draw when a reader opens
   the HTML files from disk (``_page_scripts``), and fix two JavaScript errors
   that the stock Jupyter Book 1 stack logs on every
   page (the browser test fails on any console error): sphinx-thebe's inline
   configuration (``const THEBE_JS_URL = ...``) is emitted twice, so the second
   copy throws "Identifier has already been declared". (The other one,
   pydata-sphinx-theme's "Got invalid theme mode", is fixed in ``_config.yml`` by
   ``html_context: {default_mode: light}``.)
5. let docstrings write maths as in the notebooks, ``$...$`` and ``$$...$$``:
   before numpydoc and autodoc parse a docstring (reStructuredText, which has
   no dollar maths), ``dollar_math_to_rst`` turns them into ``:math:`...``` and
   ``.. math::`` blocks, so the API reference typesets them;
6. register the pybtex style ``authoryear`` (``bibtex_default_style`` in
   ``_config.yml``): pybtex's "plain" entries, labelled "Koren et al. 2009"
   instead of "[12]", to match the author–year citations in the text.
"""

from __future__ import annotations

import re

import make_api
import make_status
import vendor_assets

VENDOR_PREFIX = "vendor/"


def _is_vendored(entry) -> bool:
    name = entry[0] if isinstance(entry, (tuple, list)) else entry
    return isinstance(name, str) and name.startswith(VENDOR_PREFIX)


def _prepare(app, config) -> None:
    if vendor_assets.main([]) != 0:
        raise RuntimeError("vendoring MathJax/mermaid failed; see the messages above")
    config.html_js_files = [e for e in config.html_js_files if not _is_vendored(e)]
    config.html_css_files = [e for e in config.html_css_files if not _is_vendored(e)]
    make_status.main([])
    make_api.main([])


MERMAID_CLASSIC = "_static/vendor/mermaid/mermaid.min.js"
MERMAID_IMPORT = re.compile(r"import mermaid from [^;\n]+;")


def _page_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated <script>s; load mermaid so that pages also work from disk.

    sphinxcontrib-mermaid's inline module does ``import mermaid from "<url>"``;
    browsers refuse module imports on file:// pages (CORS), so a reader who
    opens ``_build/html/index.html`` directly would get no diagrams. We load the
    classic build (which sets ``globalThis.mermaid``) with a plain <script> and
    let the inline module use that global instead.
    """
    seen, unique = set(), []
    for js in context.get("script_files", []):
        attrs = dict(getattr(js, "attributes", {}) or {})
        # an inline script has filename None or "" depending on who added it
        key = (getattr(js, "filename", None) or "", attrs.get("body"), attrs.get("type"))
        if key in seen:
            continue
        seen.add(key)
        body = attrs.get("body") or ""
        if attrs.get("type") == "module" and MERMAID_IMPORT.search(body):
            attrs["body"] = MERMAID_IMPORT.sub("const mermaid = globalThis.mermaid;", body, count=1)
            unique.append(type(js)(MERMAID_CLASSIC, priority=js.priority))
            js = type(js)(js.filename, priority=js.priority, **attrs)
        unique.append(js)
    context["script_files"] = unique


DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
# $...$ on one line or across lines of one paragraph (no blank line inside)
INLINE_MATH = re.compile(r"(?<![\\$\w`])\$(?=[^\s$])((?:[^$\n]|\n(?![ \t]*\n))+?)(?<=[^\s\\])\$(?![\w$])")
DOCTEST = re.compile(r"^\s*(>>>|\.\.\.)( |$)")


def dollar_math_to_rst(lines: list[str]) -> list[str]:
    """Rewrite ``$$...$$`` as ``.. math::`` blocks and ``$...$`` as ``:math:`...```.

    Doctest lines (``>>>``/``...``) are left alone. A ``$$...$$`` that starts a
    line becomes a block at that line's indentation; one inside a sentence
    becomes inline maths.
    """
    kept = {}
    masked = []
    for i, line in enumerate(lines):
        if DOCTEST.match(line) or "$" not in line:
            kept[i] = line
            masked.append(f"\0{i}\0")
        else:
            masked.append(line)
    text = "\n".join(masked)

    def display(m: re.Match) -> str:
        start = text.rfind("\n", 0, m.start()) + 1
        indent = text[start:m.start()]
        body = " ".join(part.strip() for part in m.group(1).strip().splitlines())
        if indent.strip():  # inside a sentence
            return f":math:`{body}`"
        return f".. math::\n\n{indent}   {body}\n"

    text = DISPLAY_MATH.sub(display, text)
    text = INLINE_MATH.sub(lambda m: f":math:`{m.group(1)}`", text)
    out = text.split("\n")
    return [kept[int(x[1:-1])] if x.startswith("\0") and x.endswith("\0") else x for x in out]


def _docstring_maths(app, what, name, obj, options, lines: list[str]) -> None:
    lines[:] = dollar_math_to_rst(lines)


def _authoryear_plugins():
    from pybtex.markup import LaTeXParser
    from pybtex.style.formatting.plain import Style as PlainStyle
    from pybtex.style.labels import BaseLabelStyle

    def text(latex: str) -> str:
        return LaTeXParser(latex).parse().render_as("text")

    class AuthorYearLabels(BaseLabelStyle):
        """Labels "Smith 2001", "Smith and Jones 2001", "Smith et al. 2001" (a, b, ... if equal)."""

        def format_labels(self, sorted_entries):
            labels = []
            for entry in sorted_entries:
                people = entry.persons.get("author") or entry.persons.get("editor") or []
                names = [text(" ".join(person.last_names)) for person in people]
                if not names:
                    who = text(entry.fields.get("title", entry.key)).split(":")[0]
                elif len(names) == 1:
                    who = names[0]
                elif len(names) == 2:
                    who = f"{names[0]} and {names[1]}"
                else:
                    who = f"{names[0]} et al."
                labels.append(f"{who} {entry.fields.get('year', 'n.d.')}")
            counts = {label: labels.count(label) for label in labels}
            seen: dict[str, int] = {}
            for label in labels:
                if counts[label] > 1:
                    seen[label] = seen.get(label, 0) + 1
                    label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
                yield label

    class AuthorYearStyle(PlainStyle):
        default_label_style = "authoryear"

    return AuthorYearLabels, AuthorYearStyle


def setup(app):
    import pybtex.plugin

    labels, style = _authoryear_plugins()
    pybtex.plugin.register_plugin("pybtex.style.labels", "authoryear", labels, force=True)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "authoryear", style, force=True)
    app.setup_extension("sphinx.ext.autodoc")
    # before numpydoc (priority 500) parses the sections
    app.connect("autodoc-process-docstring", _docstring_maths, priority=400)
    app.connect("config-inited", _prepare)
    app.connect("html-page-context", _page_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
