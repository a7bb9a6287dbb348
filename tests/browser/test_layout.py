"""Nothing in the book scrolls sideways on a desktop screen.

Every page of the built book is opened in headless Chromium at a desktop
viewport 1400 px wide, the width at which the book's code boxes hold the 80
columns that its notebooks and library source are formatted to (the code font
is 14 px DejaVu Sans Mono, 8.43 px a character: a notebook code box holds 89
characters, a code box inside an API entry 85). Collapsed dropdowns are opened
first, since a reader may open them. A page fails when

* a code or output box (``div.highlight pre``, ``.cell_output pre``,
  ``.output pre``, literal blocks) scrolls sideways (``scrollWidth >
  clientWidth + 1``) or sticks out of the article column; the message names
  the page, the box and the start of its widest line;
* a display equation (MathJax 3 CHTML, ``mjx-container[display="true"]``) is
  wider than its box: its ``mjx-math`` is wider than the container, or the
  container (which the theme gives ``overflow: auto``) or its ``div.math``
  scrolls sideways; the message gives the start of the TeX;
* a table is wider than the article column or scrolls inside the theme's
  scrollable table box;
* the page itself scrolls sideways.

At a phone's width (400 px) code boxes scrolling sideways is normal, and so is
a long equation or a wide table scrolling inside its own box; what must not
happen there is the page itself scrolling sideways, or an equation or table
spilling out of the column without a scroll box of its own.
``test_phone_page`` checks that, and lists what scrolls inside its own box
(``pytest -rA`` shows it).

Uses the server and browser of ``test_book_pages.py``; skipped like it. Run it
with ``pytest -m browser tests/browser -k layout`` after building the book.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from test_book_pages import (  # noqa: F401 - server and browser are fixtures
    BUILD,
    META_REFRESH,
    PAGES,
    SCREENSHOTS,
    SKIP,
    TIMEOUT_MS,
    WAIT_FOR_MATHJAX,
    browser,
    server,
)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 400, "height": 800}
CODE_COLUMNS = 80  # what the notebooks and library source are formatted to

OPEN_EVERYTHING = """
async () => {
  // A reader may open any dropdown: measure what it holds too.
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(el => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('button.toggle-button[data-target]').forEach(b => {
    const target = document.getElementById(b.dataset.target.replace(/^#/, ''));
    if (target) target.classList.remove('toggle-hidden');
  });
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}
"""

# Returns every box that is wider than its room, with enough to find it.
MEASURE = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const column = article.getBoundingClientRect();
  const cs = getComputedStyle(article);
  const colLeft = column.left + parseFloat(cs.paddingLeft);
  const colRight = column.right - parseFloat(cs.paddingRight);
  const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const where = el => {
    // the nearest heading's section, and the box's own classes
    // an API entry is named by its object (the dt before its dd), else the section
    const dd = el.closest('dd');
    const dt = dd && dd.previousElementSibling && dd.previousElementSibling.id ? dd.previousElementSibling : null;
    const section = dt || el.closest('section[id]');
    const cell = el.closest('.cell');
    const classes = [...el.classList].slice(0, 3).map(c => '.' + c).join('');
    let parent = el.parentElement, ctx = '';
    for (let i = 0; parent && i < 4 && parent !== article; i++, parent = parent.parentElement) {
      if (parent.classList.contains('cell_output')) { ctx = 'cell output'; break; }
      if (parent.classList.contains('cell_input')) { ctx = 'cell input'; break; }
      if (parent.tagName === 'DD') { ctx = 'API entry'; break; }
    }
    return (section ? '#' + section.id : '(page)') + ' ' + el.tagName.toLowerCase() + classes
           + (ctx ? ' [' + ctx + ']' : '')
           + (cell ? ' cell ' + [...document.querySelectorAll('.cell')].indexOf(cell) : '');
  };
  const out = [];

  // Code and output boxes.
  const codeSel = 'div.highlight pre, .cell_output pre, .output pre, pre.literal-block, .literal-block-wrapper pre';
  for (const pre of new Set(document.querySelectorAll(codeSel))) {
    if (!visible(pre) || pre.closest('.mermaid')) continue;
    const rect = pre.getBoundingClientRect();
    const scrolls = pre.scrollWidth > pre.clientWidth + 1;
    const sticksOut = rect.right > colRight + 1 || rect.left < colLeft - 1;
    // a wrapper (div.highlight, div.output) that scrolls instead of the pre
    let wrapperScrolls = false;
    for (let p = pre.parentElement; p && p !== article; p = p.parentElement) {
      if (p.scrollWidth > p.clientWidth + 1 && getComputedStyle(p).overflowX !== 'visible') { wrapperScrolls = true; break; }
    }
    if (!scrolls && !sticksOut && !wrapperScrolls) continue;
    const lines = pre.textContent.replace(/\n$/, '').split('\n');
    const widest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    const ps = getComputedStyle(pre);
    // characters the box holds: its content width over the width of one character
    const probe = document.createElement('span');
    probe.textContent = '0'.repeat(50);
    pre.appendChild(probe);
    const charWidth = probe.getBoundingClientRect().width / 50;
    probe.remove();
    const room = pre.clientWidth - parseFloat(ps.paddingLeft) - parseFloat(ps.paddingRight);
    out.push({
      kind: 'code', where: where(pre),
      output: !!pre.closest('.cell_output, .output'),
      width: Math.round(pre.scrollWidth), room: Math.round(pre.clientWidth),
      columns: widest.length, holds: Math.floor(room / charWidth),
      text: widest.slice(0, 60),
      how: [scrolls && 'scrolls', wrapperScrolls && 'its wrapper scrolls', sticksOut && 'sticks out of the column']
           .filter(Boolean).join(', '),
      spills: sticksOut,
    });
  }

  // Display equations.
  const tex = el => {
    try {
      const items = window.MathJax.startup.document.getMathItemsWithin(el);
      if (items.length) return items[0].math.trim().replace(/\s+/g, ' ');
    } catch (e) { /* fall through */ }
    return (el.getAttribute('aria-label') || el.textContent || '').trim();
  };
  for (const box of document.querySelectorAll('mjx-container[display="true"]')) {
    if (!visible(box)) continue;
    const math = box.querySelector('mjx-math');
    if (!math) continue;
    const m = math.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    const div = box.closest('div.math');
    const reasons = [];
    if (m.width > b.width + 1) reasons.push(`formula ${Math.round(m.width)} px in a box of ${Math.round(b.width)} px`);
    if (box.scrollWidth > box.clientWidth + 1) reasons.push('its box scrolls');
    if (div && div.scrollWidth > div.clientWidth + 1) reasons.push('div.math scrolls');
    // what the reader sees: the box if it scrolls (it clips the formula), else the formula
    const clipped = getComputedStyle(box).overflowX !== 'visible';
    const seen = clipped ? b : m;
    const spills = seen.right > colRight + 1 || seen.left < colLeft - 1;
    if (spills) reasons.push('sticks out of the column');
    if (!reasons.length) continue;
    out.push({kind: 'equation', where: where(box), width: Math.round(m.width), room: Math.round(b.width),
              text: tex(box).slice(0, 70), how: reasons.join(', '), spills});
  }

  // Tables.
  for (const table of document.querySelectorAll('table')) {
    if (!visible(table) || table.closest('.cell_output, mjx-container, .highlight, .bd-sidebar-primary, .bd-sidebar-secondary')) continue;
    if (!article.contains(table)) continue;
    const t = table.getBoundingClientRect();
    const scroller = table.closest('.pst-scrollable-table-container');
    const reasons = [];
    if (t.width > colRight - colLeft + 1) reasons.push('wider than the column');
    if (scroller && scroller.scrollWidth > scroller.clientWidth + 1) reasons.push('scrolls in its box');
    const seen = scroller ? scroller.getBoundingClientRect() : t;
    const spills = seen.right > colRight + 1 || seen.left < colLeft - 1;
    if (spills) reasons.push('sticks out of the column');
    if (!reasons.length) continue;
    const head = (table.querySelector('caption, th, td') || table).textContent.trim().replace(/\s+/g, ' ');
    out.push({kind: 'table', where: where(table), width: Math.round(t.width), room: Math.round(colRight - colLeft),
              text: head.slice(0, 60), how: reasons.join(', '), spills});
  }

  // The page itself.
  const doc = document.scrollingElement || document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    // what pushes the page: the outermost boxes past the right edge that no
    // scroll box or clipping box inside the window holds in
    const W = doc.clientWidth;
    const past = el => el.getClientRects().length && el.getBoundingClientRect().right > W + 1;
    const held = el => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
        if (getComputedStyle(p).overflowX !== 'visible' && p.getBoundingClientRect().right <= W + 1) return true;
      return false;
    };
    const far = [...document.querySelectorAll('body *')]
      .filter(el => past(el) && !(el.parentElement && past(el.parentElement)))
      .filter(el => !el.closest('mjx-assistive-mml') && getComputedStyle(el).position !== 'fixed' && !held(el))
      .slice(0, 3).map(el => where(el) + ' to ' + Math.round(el.getBoundingClientRect().right) + ' px: '
                       + JSON.stringify((el.textContent || '').trim().slice(0, 40)));
    out.push({kind: 'page', where: '(page)', width: doc.scrollWidth, room: doc.clientWidth,
              text: far.join('; '), how: 'the page scrolls sideways', spills: true});
  }
  return out;
}
"""


def _is_redirect(rel: str) -> bool:
    return bool(META_REFRESH.search((BUILD / rel).read_text(encoding="utf-8", errors="replace")))


def _screenshot_name(rel: str, viewport: dict) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "__", rel.removesuffix(".html")) + f"@{viewport['width']}.png"


def measure(browser, server, rel: str, viewport: dict, screenshot: bool = True) -> list[dict]:  # noqa: F811
    """Open one page at ``viewport`` with every dropdown open; its overflowing boxes."""
    context = browser.new_context(viewport=viewport, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    try:
        page.goto(f"{server}/{urllib.parse.quote(rel)}", wait_until="load")
        page.evaluate(WAIT_FOR_MATHJAX)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.evaluate(OPEN_EVERYTHING)
        found = page.evaluate(MEASURE)
        if screenshot and found:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / _screenshot_name(rel, viewport)), full_page=True)
    finally:
        context.close()
    return found


def describe(rel: str, item: dict) -> str:
    if item["kind"] == "code":
        return (f"{rel}: {item['where']}: code box {item['how']} ({item['width']} px of content in "
                f"{item['room']} px; widest line {item['columns']} characters, the box holds "
                f"{item['holds']}): {item['text']!r}")
    return f"{rel}: {item['where']}: {item['kind']} {item['how']} ({item['width']} px, room {item['room']} px): {item['text']!r}"


@pytest.mark.parametrize("rel", PAGES)
def test_desktop_page(rel, server, browser):  # noqa: F811
    """At 1400 px no code box, equation or table is wider than its room."""
    if _is_redirect(rel):
        pytest.skip("a redirect page")
    found = measure(browser, server, rel, DESKTOP)
    assert not found, f"{len(found)} box(es) wider than their room at {DESKTOP['width']} px:\n  " + "\n  ".join(
        describe(rel, item) for item in found)


@pytest.mark.parametrize("rel", PAGES)
def test_phone_page(rel, server, browser):  # noqa: F811
    """At 400 px the page does not scroll sideways; wide things scroll in their own box."""
    if _is_redirect(rel):
        pytest.skip("a redirect page")
    found = measure(browser, server, rel, PHONE, screenshot=False)
    bad = [item for item in found if item["spills"]]
    for item in found:
        if item not in bad and item["kind"] != "code":
            print("scrolls in its own box:", describe(rel, item))
    assert not bad, f"at {PHONE['width']} px:\n  " + "\n  ".join(describe(rel, item) for item in bad)


def test_code_boxes_hold_80_columns(server, browser):  # noqa: F811
    """At 1400 px a notebook code box and a code box in an API entry hold 80 characters."""
    context = browser.new_context(viewport=DESKTOP, service_workers="block")
    page = context.new_page()
    held = {}
    try:
        for rel, sel in [("notebooks/ch05_project.html", ".cell_input div.highlight pre"),
                         ("book/api/split.html", "dd div.highlight pre")]:
            if not (BUILD / rel).is_file():
                continue
            page.goto(f"{server}/{rel}", wait_until="load")
            page.evaluate("() => document.fonts.ready.then(() => true)")
            held[rel] = page.evaluate("""sel => {
              const pre = document.querySelector(sel);
              const span = document.createElement('span');
              span.textContent = '0'.repeat(100);
              pre.appendChild(span);
              const w = span.getBoundingClientRect().width / 100;
              span.remove();
              const s = getComputedStyle(pre);
              return (pre.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)) / w;
            }""", sel)
    finally:
        context.close()
    if not held:
        pytest.skip("no page to measure")
    print("characters a code box holds at 1400 px:", {k: round(v, 1) for k, v in held.items()})
    assert all(v >= CODE_COLUMNS for v in held.values()), held


CHAPTER_PAGES = [rel for rel in PAGES if re.match(r"notebooks/ch\d\d_[\w-]+\.html$", rel)]

# Every content image of the article: its alt text, shown size, and caption.
IMAGES = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const col = article.getBoundingClientRect();
  const cs = getComputedStyle(article);
  const room = col.width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [...article.querySelectorAll('img')]
    .filter(img => !img.closest('.headerlink, .bd-sidebar-primary, .bd-sidebar-secondary'))
    .map(img => {
      const fig = img.closest('figure');
      const cap = fig && fig.querySelector('figcaption');
      return {
        src: img.getAttribute('src') || '', alt: (img.getAttribute('alt') || '').trim(),
        width: img.getBoundingClientRect().width, room,
        height: img.getBoundingClientRect().height,
        natural: img.naturalHeight ? img.naturalWidth / img.naturalHeight : null,
        naturalWidth: img.naturalWidth,
        output: !!img.closest('.cell_output'),
        caption: cap ? cap.textContent.trim().replace(/\s+/g, ' ') : null,
      };
    });
}
"""

# an alt text that only names a file: "a1b2c3...png", "_images/x.png", a hex hash
FILE_NAME = re.compile(r"^(?:[\w./-]*\.(?:png|jpe?g|svg|gif)|[0-9a-f]{16,}[\w.-]*)$", re.I)


def _on_chapter_page(rel: str, server: str, browser, viewport: dict, script: str):  # noqa: F811
    """Run ``script`` on one chapter page at ``viewport``, once MathJax has typeset it."""
    if rel not in PAGES:
        pytest.skip("no chapter page built")
    context = browser.new_context(viewport=viewport, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{server}/{urllib.parse.quote(rel)}", wait_until="load")
        # page.evaluate awaits a returned promise: MathJax's, when the page has maths
        page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        return page.evaluate(script)
    finally:
        context.close()


def _chapter_images(rel: str, server: str, browser, viewport: dict) -> list[dict]:  # noqa: F811
    """The content images of one chapter page (``IMAGES``) at ``viewport``."""
    return _on_chapter_page(rel, server, browser, viewport, IMAGES)


@pytest.mark.parametrize("rel", CHAPTER_PAGES or ["(no chapter page)"])
def test_chapter_figures_have_alt_text_and_numbered_captions(rel, server, browser):  # noqa: F811
    """Each image of a chapter has real alt text; each plot is a numbered figure that fits."""
    images = _chapter_images(rel, server, browser, DESKTOP)
    problems = []
    for img in images:
        name = img["src"].rsplit("/", 1)[-1]
        if not img["alt"] or FILE_NAME.match(img["alt"]) or img["alt"] == name:
            problems.append(f"{name}: alt text {img['alt']!r} is not a description")
        if img["output"]:
            if not img["caption"] or not re.match(r"Fig(?:ure|\.) \d+(?:\.\d+)+", img["caption"]):
                problems.append(f"{name}: no numbered caption ({img['caption']!r})")
            if img["width"] > img["room"] + 1:
                problems.append(f"{name}: {img['width']:.0f} px wide in a {img['room']:.0f} px column")
    assert not problems, f"{rel}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("rel", CHAPTER_PAGES or ["(no chapter page)"])
def test_chapter_figures_keep_their_shape_on_a_phone(rel, server, browser):  # noqa: F811
    """A figure narrower than its 1x width (on a phone) is scaled, not squeezed."""
    images = _chapter_images(rel, server, browser, PHONE)
    squeezed = [
        f"{img['src'].rsplit('/', 1)[-1]}: shown {img['width']:.0f} x {img['height']:.0f} px, "
        f"drawn with aspect ratio {img['natural']:.3f}"
        for img in images
        if img["output"] and img["natural"] and img["height"] > 0
        and abs(img["width"] / img["height"] / img["natural"] - 1) > 0.02
    ]
    assert not squeezed, f"{rel}:\n  " + "\n  ".join(squeezed)


# The smallest text of a figure, as the reader sees it. A notebook figure is a
# PNG drawn at twice its 1x size ("retina", mathrec.plotting.use_book_style), in
# which no text is smaller than MIN_FONT_PT at figure.dpi (the style and
# tests/test_plotting.py pin both). Its rendered text size is that size in px
# times the factor by which the browser scales the 1x image, measured here.
SMALLEST_TEXT_PX = {"desktop": 14.0, "phone": 9.0}


@pytest.mark.parametrize("rel", CHAPTER_PAGES or ["(no chapter page)"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_figure_text_is_legible_at_column_width_and_on_a_phone(rel, screen, server, browser):  # noqa: F811
    """The smallest text of every chapter figure is >= 14 px at 1400 px and >= 9 px at 400 px."""
    from mathrec.plotting import MIN_FONT_PT, book_style

    px_per_pt = book_style()["figure.dpi"] / 72
    images = _chapter_images(rel, server, browser, DESKTOP if screen == "desktop" else PHONE)
    small = []
    for img in images:
        if not img["output"] or not img["naturalWidth"]:
            continue
        scale = img["width"] / (img["naturalWidth"] / 2)
        text = MIN_FONT_PT * px_per_pt * scale
        if text < SMALLEST_TEXT_PX[screen]:
            name = img["src"].rsplit("/", 1)[-1]
            small.append(f"{name}: shown at {scale:.2f}x, smallest text {text:.1f} px")
    assert not small, f"{rel} ({screen}):\n  " + "\n  ".join(small)


# On a phone a numbered equation puts its number on its own line
# (_static/mathrec-reader.css): the formula gets the whole column instead of
# what the number leaves of it, the number never covers the formula, and a
# formula wider than the column starts at its left edge and scrolls from there.
EQUATIONS = r"""
() => [...document.querySelectorAll('div.math')].filter(d => d.querySelector(':scope > span.eqno'))
  .map(d => {
    const n = d.querySelector(':scope > span.eqno').getBoundingClientRect();
    const box = d.querySelector('mjx-container');
    if (!box) return null;
    const f = box.getBoundingClientRect();
    const math = (box.querySelector('mjx-math') || box).getBoundingClientRect();
    const overlap = !(n.right <= f.left || f.right <= n.left || n.bottom <= f.top || f.bottom <= n.top);
    const whole = f.width >= d.getBoundingClientRect().width - 2;
    return {id: d.id, overlap, whole, cut: math.left < f.left - 1};
  }).filter(Boolean)
"""


@pytest.mark.parametrize("rel", CHAPTER_PAGES or ["(no chapter page)"])
def test_equation_numbers_leave_the_formula_whole_on_a_phone(rel, server, browser):  # noqa: F811
    """At 400 px a numbered formula has the whole column, uncovered, its start not cut off."""
    found = _on_chapter_page(rel, server, browser, PHONE, EQUATIONS)
    bad = [f"{e['id']}: " + ", ".join(
               what for what, wrong in [("number covers the formula", e["overlap"]),
                                        ("formula narrower than the column", not e["whole"]),
                                        ("formula's start cut off", e["cut"])] if wrong)
           for e in found if e["overlap"] or e["cut"] or not e["whole"]]
    assert not bad, f"{rel}:\n  " + "\n  ".join(bad)
