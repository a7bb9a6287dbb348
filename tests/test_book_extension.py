"""The book's reference pages have a way in: glossary letters, Chinese search, plain snippets.

Unit tests of the build-time steps in ``scripts/mathrec_book.py`` and
``_static/mathrec-search.js``, and, when the book has been built
(``_build/html``), checks of what they produced: the glossary's A–Z bar and
letter sections, Chinese sub-words in the search index, one API page per
module, the status note in the preface, and the stylesheet on every page.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import mathrec_book  # noqa: E402

BUILD = ROOT / "_build" / "html"
BUILT = (BUILD / "index.html").is_file()


# --------------------------------------------------------------------------- #
# Chinese sub-words in the search index

def test_cjk_ngrams_cover_every_sub_word():
    grams = mathrec_book.cjk_ngrams("the cosine, 余弦相似度 (cosine similarity)")
    assert {"余弦", "相似", "相似度", "余弦相似度", "弦相似"} <= set(grams)
    assert all(len(g) >= 2 and mathrec_book.CJK_RUN.fullmatch(g) for g in grams)
    assert mathrec_book.cjk_ngrams("no Chinese here") == []


def test_cjk_ngrams_stop_at_the_longest_size():
    run = "注意力经济与个性化营销"
    grams = mathrec_book.cjk_ngrams(run)
    assert max(map(len, grams)) == mathrec_book.CJK_MAX_NGRAM
    assert "个性化" in grams and "注意力" in grams


def test_search_language_keeps_english_words_and_adds_chinese_ones():
    search = mathrec_book._cjk_search_class()({})
    words = search.split("Pearson correlation 皮尔逊相关系数 of users")
    assert {"Pearson", "correlation", "users", "皮尔逊相关系数", "皮尔逊", "相关系数", "相关"} <= set(words)
    assert search.word_filter("余弦")  # two Chinese characters are kept in the index


# --------------------------------------------------------------------------- #
# Glossary: letter sections and the A-Z bar

def _glossary_doctree(terms):
    from docutils import nodes
    from sphinx import addnodes

    section = nodes.section(ids=["glossary"])
    section += nodes.title("", "Glossary")
    section += nodes.paragraph("", "Intro.")
    dl = nodes.definition_list(classes=["glossary"])
    for term in terms:
        item = nodes.definition_list_item()
        item += nodes.term("", term)
        item += nodes.definition("", nodes.paragraph("", f"about {term}"))
        dl += item
    block = addnodes.glossary()
    block += dl
    section += block
    doc = nodes.document(None, None)
    doc += section
    return doc, section


def test_glossary_is_split_into_letter_sections_with_a_bar():
    from docutils import nodes
    from sphinx import addnodes

    terms = ["alternating least squares", "ALS", "Bayesian personalised ranking", "cold start",
             "Élan", "ε-greedy", "zero vector"]
    doc, section = _glossary_doctree(terms)
    letters = mathrec_book.glossary_letters(doc)
    assert letters == ["A", "B", "C", "E", "Z", "#"]
    subsections = [n for n in section.children if isinstance(n, nodes.section)]
    assert [s["ids"][0] for s in subsections] == ["letter-a", "letter-b", "letter-c", "letter-e",
                                                  "letter-z", "letter-other"]
    assert [s[0].astext() for s in subsections] == ["A", "B", "C", "E", "Z", "Other"]
    # every entry kept, once, in the order it had
    kept = [t.astext() for s in subsections for t in s.findall(nodes.term)]
    assert kept == ["alternating least squares", "ALS", "Bayesian personalised ranking",
                    "cold start", "Élan", "zero vector", "ε-greedy"]
    assert all(len(list(s.findall(addnodes.glossary))) == 1 for s in subsections)
    bar = next(n for n in section.children if "glossary-az" in n.get("classes", []))
    links = {r["refid"] for r in bar.findall(nodes.reference)}
    assert links == {"letter-a", "letter-b", "letter-c", "letter-e", "letter-z"}
    assert len([i for i in bar.findall(nodes.inline) if "glossary-az-empty" in i["classes"]]) == 21


def test_glossary_followed_by_more_text_is_left_alone():
    from docutils import nodes

    doc, section = _glossary_doctree(["cold start"])
    section += nodes.paragraph("", "after")
    assert mathrec_book.glossary_letters(doc) == []


def test_glossary_source_is_one_sorted_block():
    """Authors add terms anywhere in one block; the letters are made at build time."""
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    assert text.count("```{glossary}") == 1 and ":sorted:" in text
    assert text.rstrip().endswith("```"), "the glossary block must close the page"


# --------------------------------------------------------------------------- #
# Search snippets: formulas as plain text

JS = ROOT / "_static" / "mathrec-search.js"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_snippet_formulas_read_as_plain_text():
    cases = {
        r"\(11/14 \approx 0.7857\)": "11/14 ≈ 0.7857",
        r"\(\hat{r}_{ui} = \mu + b_u\)": "r_ui = μ + b_u",
        r"\[\lVert R - R_k \rVert_F^2 = \sum_{i>k} \sigma_i^2\]": "‖ R - R_k ‖_F^2 = Σ_i>k σ_i^2",
        r"\(\mathrm{ILD}(L)=\frac{2}{|L|(|L|-1)}\)": "ILD(L)=2/(|L|(|L|-1))",
    }
    script = (f"const {{mathrecTexToText: f}} = require({json.dumps(str(JS))});"
              f"console.log(JSON.stringify({json.dumps(list(cases))}.map(f)));")
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    got = json.loads(out)
    assert got == list(cases.values())
    assert not [g for g in got if "\\" in g]


def test_stylesheet_fixes_dark_mode_and_printing():
    css = (ROOT / "_static" / "mathrec-reader.css").read_text(encoding="utf-8")
    assert re.search(r'html\[data-theme="dark"\] pre\.mermaid > svg \{\s*filter: none;', css)
    assert re.search(r'html\[data-theme="dark"\] div\.cell_output img', css)
    print_rules = css[css.index("@media print"):]
    assert "white-space: pre-wrap" in print_rules and ".bd-sidebar-primary" in print_rules


# --------------------------------------------------------------------------- #
# The built book (marked `book`: scripts/test.sh runs these after it has built
# the book, so that they read that build, never a stale one)


def _search_index() -> dict:
    text = (BUILD / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


@pytest.mark.book
@pytest.mark.skipif(not BUILT, reason="the book has not been built (_build/html)")
def test_built_search_index_finds_chinese_sub_words():
    index = _search_index()
    terms, docnames = index["terms"], index["docnames"]
    for word in ("余弦", "相似度", "余弦相似度", "皮尔逊"):
        assert word in terms, f"{word} is not in the search index"
    hits = terms["余弦"]
    hits = [hits] if isinstance(hits, int) else hits
    assert "book/glossary" in [docnames[i] for i in hits]


@pytest.mark.book
@pytest.mark.skipif(not BUILT, reason="the book has not been built (_build/html)")
def test_built_glossary_has_an_a_to_z_bar_and_letter_sections():
    html = (BUILD / "book" / "glossary.html").read_text(encoding="utf-8")
    bar = re.search(r'<p class="glossary-az">(.*?)</p>', html, flags=re.S)
    assert bar, "no A-Z bar"
    for letter in re.findall(r'href="#letter-([a-z])"', bar.group(1)):
        assert f'id="letter-{letter}"' in html
    assert len(re.findall(r'href="#letter-', bar.group(1))) >= 15


@pytest.mark.book
@pytest.mark.skipif(not BUILT, reason="the book has not been built (_build/html)")
def test_built_api_reference_has_one_page_per_module():
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_api

    index = (BUILD / "book" / "api.html").read_text(encoding="utf-8")
    for module in make_api.public_modules():
        page = BUILD / "book" / "api" / f"{module}.html"
        assert page.is_file(), f"no page for mathrec.{module}"
        assert f'href="api/{module}.html"' in index
        assert f'id="mathrec.{module}.' in page.read_text(encoding="utf-8")


@pytest.mark.book
@pytest.mark.skipif(not BUILT, reason="the book has not been built (_build/html)")
def test_built_pages_load_the_stylesheet_and_the_snippet_script():
    html = (BUILD / "book" / "preface.html").read_text(encoding="utf-8")
    assert "mathrec-reader.css" in html and "mathrec-search.js" in html
    # the preface includes the build's validation note (scripts/make_status.py), in either form
    assert "without running the test suite" in html or "re-run by the test suite" in html


# --------------------------------------------------------------------------- #
# The whole-book PDF (scripts/build_pdf.py)

def test_pdf_pages_follow_the_table_of_contents():
    import build_pdf
    from toc_notebooks import toc_notebooks

    pages = build_pdf.book_pages()
    assert pages[0] == "book/preface.html" and pages[-1] == "book/status.html"
    notebooks = [p for p in pages if p.startswith("notebooks/ch") and
                 (ROOT / p.replace(".html", ".ipynb")).exists()]
    assert notebooks == [nb.replace(".ipynb", ".html") for nb in toc_notebooks()]
    # chapter 3's opening page (a Markdown page) comes before its three sections
    assert pages.index("notebooks/ch03_algorithms.html") < pages.index(notebooks[2])
    assert not [p for p in build_pdf.book_pages(no_api=True) if p.startswith("book/api")]
    assert len(set(pages)) == len(pages)


@pytest.mark.slow
@pytest.mark.skipif(not BUILT or not Path(mathrec_book.__file__).exists() or shutil.which("fc-list") is None
                    or not Path("/usr/bin/chromium").exists(), reason="needs the built book and Chromium")
@pytest.mark.skipif(__import__("os").environ.get("MATHREC_TEST_PDF") != "1", reason="set MATHREC_TEST_PDF=1")
def test_whole_book_pdf_builds(tmp_path):
    import build_pdf

    out = tmp_path / "book.pdf"
    assert build_pdf.main(["--no-api", "--output", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") > 50


# --------------------------------------------------------------------------- #
# Numbering: chapters by the source's sections, exercises, equations and
# theorems per chapter ("Exercise 4.2", "(4.3)").

CHAPTER_PAGES = sorted(BUILD.glob("notebooks/ch0*.html")) if BUILT else []


def _chapter_of(page: Path) -> int:
    return int(re.match(r"ch0(\d)", page.name).group(1))


@pytest.mark.book
@pytest.mark.skipif(not CHAPTER_PAGES, reason="the book has not been built (_build/html)")
@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=lambda p: p.name)
def test_chapter_pages_are_numbered_by_the_source_section(page):
    html = page.read_text(encoding="utf-8")
    n = _chapter_of(page)
    title = re.search(r'<h1><span class="section-number">([\d.]+) </span>', html)
    assert title, f"{page.name}: the title has no number"
    assert title.group(1).split(".")[0] == str(n), (page.name, title.group(1))
    for kind in ("Exercise", "Theorem", "Figure"):
        numbers = re.findall(rf'<span class="caption-number">{kind} ([\d.]+) </span>', html)
        assert all(x.split(".")[0] == str(n) for x in numbers), (page.name, kind, numbers)
    for number in re.findall(r'<span class="eqno">\(([\d.]+)\)', html):
        assert number.split(".")[0] == str(n), (page.name, number)
    # a heading does not repeat the number Sphinx gives it ("9.2. 9.2 The cold start")
    doubled = re.findall(r'<span class="section-number">[\d.]+ </span>(\d+(?:\.\d+)*\.? [^<]*)', html)
    assert not doubled, (page.name, doubled)


@pytest.mark.book
@pytest.mark.skipif(not BUILT, reason="the book has not been built (_build/html)")
def test_derivations_cite_equations_by_number():
    html = (BUILD / "notebooks" / "ch04_maths.html").read_text(encoding="utf-8")
    numbered = re.findall(r'<span class="eqno">\((4\.\d+)\)', html)
    cited = re.findall(r'href="#equation-[\w-]+">\((4\.\d+)\)</a>', html)
    assert len(numbered) >= 10 and len(set(cited)) >= 8, (numbered, cited)
    assert set(cited) <= set(numbered)
    exercises = re.findall(r'<span class="caption-number">Exercise (4\.\d+) </span>', html)
    assert exercises and exercises[0] == "4.1", exercises


# Chapters whose derivations number their defining equations and cite them
# (within the chapter or across chapters, e.g. chapter 7 citing (3.9)).
CITING_CHAPTERS = ("ch01", "ch03_neighbourhood", "ch03_factorisation", "ch03_comparison",
                   "ch04", "ch06", "ch07", "ch08", "ch09")


@pytest.mark.book
@pytest.mark.skipif(not CHAPTER_PAGES, reason="the book has not been built (_build/html)")
def test_equations_are_numbered_in_every_chapter_and_cited_numbers_exist():
    numbered, cited = {}, {}
    for page in CHAPTER_PAGES:
        html = page.read_text(encoding="utf-8")
        numbered[page.stem] = re.findall(r'<span class="eqno">\(([\d.]+)\)', html)
        cited[page.stem] = re.findall(r'href="[\w.]*#equation-[\w-]+">\(([\d.]+)\)</a>', html)
    everywhere = {n for ns in numbered.values() for n in ns}
    for stem, ns in numbered.items():
        assert len(ns) == len(set(ns)), (stem, ns)
    # every chapter with derivations numbers its equations ...
    for n in range(1, 10):
        if n == 5:  # the project chapter has no display equations
            continue
        assert any(numbered[s] for s in numbered if s.startswith(f"ch0{n}")), f"chapter {n}: no numbered equation"
    # ... and its prose cites them by number, with links that land on a numbered equation
    for prefix in CITING_CHAPTERS:
        pages = [s for s in cited if s.startswith(prefix)]
        assert pages and any(cited[s] for s in pages), f"{prefix}: no equation cited by number"
    for stem, cs in cited.items():
        assert set(cs) <= everywhere, (stem, sorted(set(cs) - everywhere))
