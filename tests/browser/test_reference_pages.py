"""In a real browser: the reference pages' ways in, dark mode and printing.

* search finds a Chinese sub-word (余弦 inside 余弦相似度), and its result
  snippets show formulas as text, never raw TeX;
* the glossary's A–Z bar jumps to its letter sections;
* in dark mode the mermaid diagram keeps mermaid's dark theme (no extra
  filter) and plots are shown undimmed;
* the per-page ".pdf" button (the browser's print) prints without the
  navigation, with code wrapped at the page width.

Uses the server and browser of ``test_book_pages.py``; skipped like it.
"""

from __future__ import annotations

import pytest
from test_book_pages import BUILD, SCREENSHOTS, SKIP, TIMEOUT_MS, browser, server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

RESULTS = "#search-results li, ul.search li"


def _search(browser, server, query):  # noqa: F811 - fixtures
    page = browser.new_page()
    try:
        page.goto(f"{server}/search.html?q={query}", wait_until="load")
        page.wait_for_function(f"() => document.querySelectorAll('{RESULTS}').length > 0", timeout=TIMEOUT_MS)
        # snippets arrive one by one after the titles
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{RESULTS}')].slice(0, 5)"
            ".every(li => li.querySelector('p.context') || li.textContent.includes('('))",
            timeout=TIMEOUT_MS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"search__{query}.png"), full_page=True)
        return page.evaluate(f"() => [...document.querySelectorAll('{RESULTS}')]"
                             ".map(li => [li.querySelector('a').getAttribute('href'), li.innerText])")
    finally:
        page.close()


def test_search_finds_a_chinese_sub_word(browser, server):  # noqa: F811
    hits = _search(browser, server, "余弦")
    pages = [href for href, _ in hits]
    assert any("book/glossary.html" in h for h in pages), pages
    assert any("ch04_maths.html" in h for h in pages), pages


def test_search_snippets_show_no_raw_tex(browser, server):  # noqa: F811
    hits = _search(browser, server, "cosine")
    texts = [text for _, text in hits]
    raw = [t for t in texts if "\\(" in t or "\\[" in t or "\\frac" in t or "\\mathrm" in t]
    assert not raw, raw[:3]


def test_glossary_letter_bar_jumps_to_its_section(browser, server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{server}/book/glossary.html", wait_until="load")
        letters = page.evaluate("() => [...document.querySelectorAll('p.glossary-az a')].map(a => a.textContent)")
        assert len(letters) >= 15
        page.click("p.glossary-az a:text-is('M')")
        page.wait_for_timeout(300)
        top = page.evaluate("() => document.getElementById('letter-m').getBoundingClientRect().top")
        assert 0 <= top < 300, f"section M is at {top}px after clicking M"
        assert page.evaluate("() => document.querySelector('section#letter-m dl.glossary dt') !== null")
    finally:
        page.close()


def test_dark_mode_keeps_the_diagram_dark_and_plots_undimmed(browser, server):  # noqa: F811
    page_path = next((p for p in sorted((BUILD / "notebooks").glob("*.html"))
                      if 'class="mermaid' in p.read_text(encoding="utf-8")), None)
    if page_path is None:
        pytest.skip("no page with a diagram")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    page = context.new_page()
    try:
        page.goto(f"{server}/notebooks/{page_path.name}", wait_until="load")
        page.wait_for_function("() => document.querySelector('pre.mermaid svg') !== null", timeout=TIMEOUT_MS)
        state = page.evaluate("""() => ({
            theme: document.documentElement.dataset.theme,
            diagram: getComputedStyle(document.querySelector('pre.mermaid svg')).filter,
            plot: (el => el ? getComputedStyle(el).filter : 'none')(document.querySelector('div.cell_output img')),
        })""")
        el = page.query_selector("pre.mermaid")
        el.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dark__diagram.png"))
    finally:
        context.close()
    assert state == {"theme": "dark", "diagram": "none", "plot": "none"}, state


def test_print_shows_content_only_and_wraps_code(browser, server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{server}/notebooks/ch04_maths.html", wait_until="load")
        page.emulate_media(media="print")
        state = page.evaluate("""() => ({
            sidebar: getComputedStyle(document.querySelector('.bd-sidebar-primary')).display,
            pre: getComputedStyle(document.querySelector('div.highlight pre')).whiteSpace,
        })""")
        pdf = page.pdf(format="A4")
    finally:
        page.close()
    assert state == {"sidebar": "none", "pre": "pre-wrap"}, state
    assert pdf.startswith(b"%PDF")
