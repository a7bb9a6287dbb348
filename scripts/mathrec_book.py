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
   copy throws "Identifier has already been declared" (and, with live code
   off, thebe's scripts are dropped altogether). (The other one,
   pydata-sphinx-theme's "Got invalid theme mode", is fixed in ``_config.yml`` by
   ``html_context: {default_mode: light}``.)
5. let docstrings write maths as in the notebooks, ``$...$`` and ``$$...$$``:
   before numpydoc and autodoc parse a docstring (reStructuredText, which has
   no dollar maths), ``dollar_math_to_rst`` turns them into ``:math:`...``` and
   ``.. math::`` blocks, so the API reference typesets them;
6. register the pybtex style ``authoryear`` (``bibtex_default_style`` in
   ``_config.yml``): pybtex's "plain" entries, labelled "Koren et al. 2009"
   instead of "[12]", to match the author–year citations in the text;
7. link the first mention of each glossary term on every chapter page to the
   glossary (``_link_glossary_terms``), so chapters are linked to the glossary
   without marking every term by hand. A term the author linked with
   {term}`...` (or any synonym of its entry) is not linked again. Only
   distinctive terms are linked: terms of two or more words, acronyms, Chinese
   terms and ``GLOSSARY_SINGLE_WORDS``;
8. resolve references to the top-level shortcuts (``mathrec.ItemKNN``) to the
   documented objects (``mathrec.neighbors.ItemKNN``);
9. give the glossary a way in (``_glossary_letters``): its one sorted
   ``{glossary}`` block is split into one section per initial letter (anchors
   ``letter-a`` ...), with an A–Z bar above them, so the page has an in-page
   contents and a reader jumps to a letter. Authors still add a term anywhere
   in the one block;
10. make Chinese words findable by search without a word segmenter
   (``CJKEnglishSearch``): Sphinx's English index takes a run of Chinese
   characters as one "word", so 余弦 finds nothing inside 余弦相似度. The
   index also holds every substring of two to ``CJK_MAX_NGRAM`` characters of
   each Chinese run, so any Chinese word of up to that length is found where
   it occurs. (Sphinx's own ``zh`` search needs jieba, which the book does
   not depend on; without it, it indexes no Chinese at all.)
11. show library source as code: a ``literalinclude`` of a Python object
   (``:pyobject:``) leaves out the docstrings of that object and of the
   functions and classes inside it (``strip_docstrings``). The docstrings are
   rendered on the API pages; in a chapter, the prose around the listing
   explains the code, and raw numpydoc markup would only take room.
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
    """Drop repeated <script>s and unused thebe ones; load mermaid so that pages work from disk.

    sphinxcontrib-mermaid's inline module does ``import mermaid from "<url>"``;
    browsers refuse module imports on file:// pages (CORS), so a reader who
    opens ``_build/html/index.html`` directly would get no diagrams. We load the
    classic build (which sets ``globalThis.mermaid``) with a plain <script> and
    let the inline module use that global instead.
    """
    launch = (app.config.html_theme_options or {}).get("launch_buttons") or {}
    thebe = bool(launch.get("thebe"))
    seen, unique = set(), []
    for js in context.get("script_files", []):
        attrs = dict(getattr(js, "attributes", {}) or {})
        filename = str(getattr(js, "filename", None) or "")
        if not thebe and (filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in (attrs.get("body") or "")):
            continue  # live code (thebe) is off: no loader, and no unpkg.com URL in the page
        # an inline script has filename None or "" depending on who added it
        key = (getattr(js, "filename", None) or "", attrs.get("body"), attrs.get("type"))
        if key in seen:
            continue
        seen.add(key)
        body = attrs.get("body") or ""
        if attrs.get("type") == "module" and MERMAID_IMPORT.search(body):
            if doctree is None:  # genindex, search, ...: no diagrams, skip 2.7 MB of JavaScript
                continue
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
        if DOCTEST.match(line):
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


GLOSSARY_PAGES = ("notebooks/",)  # docname prefixes of the pages whose terms get linked
GLOSSARY_SINGLE_WORDS = {"backpropagation", "sparsity", "eigenvector", "eigenvalue", "anonymisation"}


def _linkable_term(term: str) -> bool:
    return (" " in term or "-" in term or not term.isascii() or term in GLOSSARY_SINGLE_WORDS
            or (term.isupper() and len(term) >= 2))


def _link_glossary_terms(app, doctree, docname) -> None:
    from docutils import nodes
    from sphinx import addnodes

    if app.builder.format != "html" or not docname.startswith(GLOSSARY_PAGES):
        return
    objects = app.env.get_domain("std").objects
    terms = {name.lower(): target for (kind, name), target in objects.items()
             if kind == "term" and target[0] != docname and _linkable_term(name)}
    if not terms:
        return
    # One glossary entry can have several terms (synonyms, the Chinese term), each
    # with its own anchor: work per entry, named by the anchor of its first term.
    entry = {}
    for gdoc in {target[0] for target in terms.values()}:
        for item in app.env.get_doctree(gdoc).findall(nodes.definition_list_item):
            ids = [i for term in item.findall(nodes.term) for i in term["ids"]]
            entry.update({i: ids[0] for i in ids})
    terms = {name: (tdoc, label, entry.get(label, label)) for name, (tdoc, label) in terms.items()}
    anchors = {label: key for _, label, key in terms.values()}
    # entries the author already linked on this page
    done = {anchors[a] for ref in doctree.findall(nodes.reference)
            if (a := ref.get("refuri", "").rpartition("#")[2]) in anchors}
    # longest first, so "item-based collaborative filtering" wins over "collaborative filtering"
    order = sorted((t for t in terms if terms[t][2] not in done), key=len, reverse=True)
    if not order:
        return
    # English terms as whole words (plural allowed); Chinese terms anywhere, since
    # Chinese text has no spaces between words
    latin = "|".join(re.escape(t) for t in order if t.isascii()) or "(?!)"
    cjk = "|".join(re.escape(t) for t in order if not t.isascii()) or "(?!)"
    pattern = re.compile(rf"(?<![\w-])({latin})(?:s|es)?(?![\w-])|({cjk})", re.IGNORECASE)
    skip = (nodes.reference, nodes.literal, nodes.literal_block, nodes.math, nodes.math_block,
            nodes.title, nodes.caption, nodes.raw, nodes.term, nodes.target, nodes.rubric,
            addnodes.pending_xref, nodes.FixedTextElement)
    for text in list(doctree.findall(nodes.Text)):
        parent = text.parent
        if not isinstance(parent, (nodes.paragraph, nodes.emphasis, nodes.strong)):
            continue
        ancestor, inside = parent, False
        while ancestor is not None:
            if isinstance(ancestor, skip) or "admonition-title" in ancestor.get("classes", []):
                inside = True
                break
            ancestor = ancestor.parent
        if inside:
            continue
        source, pieces, pos = str(text), [], 0
        for m in pattern.finditer(source):
            name = (m.group(1) or m.group(2)).lower()
            tdoc, label, key = terms[name]
            if key in done:
                continue
            done.add(key)
            uri = app.builder.get_relative_uri(docname, tdoc) + "#" + label
            pieces += [nodes.Text(source[pos:m.start()]),
                       nodes.reference("", "", nodes.Text(m.group(0)), refuri=uri,
                                       internal=True, classes=["glossary-term"],
                                       reftitle=f"glossary: {name}")]
            pos = m.end()
        if pieces:
            pieces.append(nodes.Text(source[pos:]))
            index = parent.index(text)
            parent.remove(text)
            for offset, piece in enumerate(pieces):
                parent.insert(index + offset, piece)


def _resolve_shortcuts(app, env, node, contnode):
    """Resolve ``mathrec.ItemKNN`` (a top-level shortcut) to ``mathrec.neighbors.ItemKNN``."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("mathrec.") or target.count(".") != 1:
        return None
    import mathrec

    name = target.split(".", 1)[1]
    if name not in getattr(mathrec, "__all__", ()):
        return None
    obj = getattr(mathrec, name)
    full = f"{getattr(obj, '__module__', 'mathrec')}.{name}"
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                             full, node, contnode)


# --------------------------------------------------------------------------- #
# Search: Chinese sub-words (item 10 above)

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
CJK_MAX_NGRAM = 6


def cjk_ngrams(text: str, longest: int = CJK_MAX_NGRAM) -> list[str]:
    """Every substring of 2..longest characters of each run of Chinese characters in ``text``."""
    out = []
    for run in CJK_RUN.findall(text):
        for size in range(2, min(longest, len(run)) + 1):
            out += [run[i:i + size] for i in range(len(run) - size + 1)]
    return out


def _cjk_search_class():
    from sphinx.search.en import SearchEnglish

    class CJKEnglishSearch(SearchEnglish):
        """English search (stemming, stop words) that also indexes Chinese sub-words."""

        def split(self, input: str) -> list[str]:  # noqa: A002 - Sphinx's signature
            return super().split(input) + cjk_ngrams(input)

    return CJKEnglishSearch


# --------------------------------------------------------------------------- #
# Glossary: one section per letter and an A-Z bar (item 9 above)

GLOSSARY_DOC = "book/glossary"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _initial(item) -> str:
    import unicodedata

    from docutils import nodes

    term = next(iter(item.findall(nodes.term)), None)
    text = unicodedata.normalize("NFD", term.astext() if term else "").strip()
    letter = text[:1].upper()
    return letter if letter in ALPHABET else "#"


def glossary_letters(doctree) -> list[str]:
    """Split the page's glossary into one section per initial letter; return the letters."""
    from docutils import nodes
    from sphinx import addnodes

    glossary = next(iter(doctree.findall(addnodes.glossary)), None)
    if glossary is None:
        return []
    parent = glossary.parent
    if not isinstance(parent, nodes.section) or parent.index(glossary) != len(parent) - 1:
        return []  # sections can only close a section: leave any other layout alone
    groups: dict[str, list] = {}
    for dl in glossary.findall(nodes.definition_list):
        for item in dl.children:
            groups.setdefault(_initial(item), []).append(item)
    if not groups:
        return []
    letters = sorted(groups, key=lambda x: (x == "#", x))
    bar = nodes.paragraph(classes=["glossary-az"])
    for letter in ALPHABET:
        if letter in groups:
            bar += nodes.reference("", letter, internal=True, refid=f"letter-{letter.lower()}",
                                   reftitle=f"terms starting with {letter}")
        else:
            bar += nodes.inline("", letter, classes=["glossary-az-empty"])
        bar += nodes.Text(" ")
    parent.remove(glossary)
    parent += bar
    for letter in letters:
        anchor = "letter-other" if letter == "#" else f"letter-{letter.lower()}"
        section = nodes.section(ids=[anchor], names=[anchor], classes=["glossary-letter"])
        section += nodes.title("", "Other" if letter == "#" else letter)
        block = addnodes.glossary(classes=glossary.get("classes", []))
        dl = nodes.definition_list(classes=["glossary"])
        for item in groups[letter]:
            item.parent.remove(item)
            dl += item
        block += dl
        section += block
        parent += section
    return letters


def _glossary_letters(app, doctree) -> None:
    if app.env.docname == GLOSSARY_DOC:
        glossary_letters(doctree)


def strip_docstrings(lines: list[str]) -> list[str]:
    """The source lines of a Python object without its docstrings.

    ``lines`` is one function or class as ``literalinclude``'s ``:pyobject:``
    cuts it out of a module (indented as in the module, newlines kept). Every
    docstring of the object and of the functions and classes nested in it is
    removed with the blank lines that follow it; a body that held only a
    docstring keeps ``...`` so the listing stays valid Python. Lines that are
    not Python are returned unchanged.
    """
    import ast
    import textwrap

    text = "".join(lines)
    try:
        tree = ast.parse(textwrap.dedent(text))
    except SyntaxError:
        return lines
    drop: set[int] = set()
    keep_ellipsis: dict[int, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first = node.body[0]
        if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            continue
        drop.update(range(first.lineno - 1, first.end_lineno))
        end = first.end_lineno
        while len(node.body) > 1 and end < len(lines) and not lines[end].strip():
            drop.add(end)
            end += 1
        if len(node.body) == 1:
            indent = lines[first.lineno - 1][: len(lines[first.lineno - 1])
                                              - len(lines[first.lineno - 1].lstrip())]
            keep_ellipsis[first.lineno - 1] = indent + "...\n"
    return [keep_ellipsis.get(i, line) for i, line in enumerate(lines)
            if i not in drop or i in keep_ellipsis]


def _code_only_reader():
    """``literalinclude``'s reader with ``strip_docstrings`` after ``:pyobject:``."""
    from sphinx.directives.code import LiteralIncludeReader

    class CodeOnlyReader(LiteralIncludeReader):
        def pyobject_filter(self, lines, location=None):
            lines = super().pyobject_filter(lines, location=location)
            if self.options.get("pyobject") and str(self.filename).endswith(".py"):
                lines = strip_docstrings(lines)
            return lines

    return CodeOnlyReader


def setup(app):
    import pybtex.plugin
    import sphinx.directives.code
    import sphinx.search

    # LiteralInclude.run builds its reader from this module-level name
    sphinx.directives.code.LiteralIncludeReader = _code_only_reader()

    # before Sphinx's toc collector (priority 500) reads the page's sections
    app.connect("doctree-read", _glossary_letters, priority=400)
    sphinx.search.languages["en"] = _cjk_search_class()

    app.connect("missing-reference", _resolve_shortcuts)

    app.connect("doctree-resolved", _link_glossary_terms)

    labels, style = _authoryear_plugins()
    pybtex.plugin.register_plugin("pybtex.style.labels", "authoryear", labels, force=True)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "authoryear", style, force=True)
    app.setup_extension("sphinx.ext.autodoc")
    # before numpydoc (priority 500) parses the sections
    app.connect("autodoc-process-docstring", _docstring_maths, priority=400)
    app.connect("config-inited", _prepare)
    app.connect("html-page-context", _page_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
