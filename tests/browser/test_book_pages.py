"""Open every page of the built book in a real browser and check what a reader sees.

The book is served from ``_build/html`` on 127.0.0.1 (or from
``$MATHREC_BOOK_HTML``) and each HTML page is loaded in Debian's headless
Chromium through Playwright. A page passes when

* the browser logs no JavaScript error and the page throws none;
* every request stays on 127.0.0.1 and succeeds (no CDN, no network: the book
  must work offline), and no script, stylesheet, font or image refers to
  another host;
* MathJax has typeset every formula: no ``.math`` element is left without
  MathJax output, no raw TeX (``$$``, ``\\(``, ``\\[``, ``\\begin{``) is left in
  the prose, and MathJax reported no TeX error;
* every mermaid block has become an SVG without a syntax-error diagram;
* every image has loaded (``naturalWidth > 0``);
* every link into the book resolves: the file exists and so does the anchor;
* every exercise solution is collapsed and comes right after its exercise;
* a chapter notebook has its Colab, Binder and ``.ipynb`` download links and
  links to the glossary, and its install cell is hidden.

Pages with formulas or diagrams are also opened straight from disk
(``file://``), as a reader who opens ``_build/html/index.html`` would, and must
typeset and draw there too.

A screenshot of each page is written to ``$MATHREC_SCREENSHOTS`` (default
``/tmp/mathrec-screenshots``), outside the repository.

Run it with ``pytest -m browser tests/browser`` after building the book. It is
skipped, with the reason, when Chromium (``/usr/bin/chromium``) or the built
book is missing. It never downloads a browser (no ``playwright install``).
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import threading
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("MATHREC_BOOK_HTML", ROOT / "_build" / "html")).resolve()
CHROMIUM = Path(os.environ.get("MATHREC_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("MATHREC_SCREENSHOTS", "/tmp/mathrec-screenshots"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000  # two shared cores: MathJax on a long page can take a while

# Directories of the build that hold assets or copies of sources, not pages.
NOT_PAGES = ("_static", "_sources", "_images", "_downloads", "_sphinx_design_static", "_panels_static")

pytestmark = pytest.mark.browser


def _pages() -> list[str]:
    if not (BUILD / "index.html").is_file():
        return []
    pages = []
    for path in sorted(BUILD.rglob("*.html")):
        rel = path.relative_to(BUILD).as_posix()
        if rel.split("/", 1)[0] in NOT_PAGES:
            continue
        pages.append(rel)
    return pages


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if not (BUILD / "index.html").is_file():
        return f"no built book at {BUILD} (run scripts/setup.sh or jupyter-book build .)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


SKIP = _skip_reason()
PAGES = _pages() or ["index.html"]


# --------------------------------------------------------------------------- #
# A static server on 127.0.0.1 and one browser for the whole module.

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".svg": "image/svg+xml",
    }

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="module")
def server():
    if SKIP:
        pytest.skip(SKIP)
    handler = functools.partial(_QuietHandler, directory=str(BUILD))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


# --------------------------------------------------------------------------- #
# Anchors of the built pages, for checking links.

class _IdCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def _anchors(path: Path) -> frozenset[str]:
    collector = _IdCollector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(collector.ids)


def _local_target(url: str, origin: str) -> tuple[Path, str] | None:
    """The file and fragment a same-origin URL points to (None for other hosts)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    rel = urllib.parse.unquote(parts.path).lstrip("/")
    target = BUILD / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    return target, urllib.parse.unquote(parts.fragment)


def _is_local(url: str, origin: str) -> bool:
    scheme = urllib.parse.urlsplit(url).scheme
    return scheme in ("data", "blob", "about") or url.startswith(origin + "/") or url == origin


# --------------------------------------------------------------------------- #
# What the page is asked once it has settled.

WAIT_FOR_MATHJAX = """
async () => {
  if (!window.MathJax || !window.MathJax.startup) return 'absent';
  await window.MathJax.startup.promise;
  return 'done';
}
"""

MERMAID_SETTLED = """
() => Array.from(document.querySelectorAll('div.mermaid, pre.mermaid')).every(
  el => el.getAttribute('data-processed') === 'true'
        || el.hasAttribute('data-mermaid-render-failed')
        || el.hasAttribute('data-mermaid-deferred'))
"""

RENDER_DEFERRED_MERMAID = """
async () => {
  // Diagrams inside closed dropdowns are rendered lazily when they come into
  // view: open every dropdown and scroll each diagram into view.
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden, .toggle-details__container').forEach(
    el => el.classList.remove('toggle-hidden'));
  for (const el of document.querySelectorAll('[data-mermaid-deferred]')) {
    el.scrollIntoView();
    await new Promise(r => setTimeout(r, 300));
  }
  window.scrollTo(0, 0);
}
"""

WAIT_FOR_IMAGES = """
async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r, {once: true});
    img.addEventListener('error', r, {once: true});
    setTimeout(r, 15000);
  })));
}
"""

INSPECT = r"""
() => {
  const out = {};
  // Text a reader sees, minus code, where TeX is legitimately shown.
  const skip = 'pre, code, script, style, textarea, .highlight, mjx-container, .mermaid, .MathJax, mjx-assistive-mml';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => (n.parentElement && n.parentElement.closest(skip))
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const raw = [];
  // $$, \( \) \[ \], \begin{, or $...$ holding TeX (a command, ^, _ or braces; or one letter)
  const texPattern = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\s][^$\n]*(\\[A-Za-z]+|[\^_{}])[^$\n]*\$|(^|[^\w$])\$[A-Za-z]\$/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent;
    if (texPattern.test(text)) raw.push(text.trim().slice(0, 160));
  }
  out.rawTex = raw;
  const mathEls = Array.from(document.querySelectorAll('.math'));
  out.mathCount = mathEls.length;
  out.untypesetMath = mathEls.filter(el => !el.querySelector('mjx-container') && el.tagName !== 'MJX-CONTAINER')
                             .map(el => el.textContent.trim().slice(0, 160));
  out.mjxCount = document.querySelectorAll('mjx-container').length;
  out.mathErrors = Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                        .map(el => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 160));
  // An undefined macro is drawn as its name in red (MathJax's "noundefined"):
  // CommonHTML draws each character as <mjx-c class="mjx-c5C"> (U+005C = backslash).
  document.querySelectorAll('mjx-container mjx-mtext').forEach(el => {
    const chars = Array.from(el.querySelectorAll('mjx-c')).map(c => {
      const m = Array.from(c.classList).map(k => k.match(/^mjx-c([0-9A-F]+)$/)).find(Boolean);
      return m ? String.fromCodePoint(parseInt(m[1], 16)) : '';
    }).join('');
    if (/color:\s*red/.test(el.getAttribute('style') || '') && chars.startsWith('\\'))
      out.mathErrors.push('undefined macro ' + chars);
  });

  out.mermaid = Array.from(document.querySelectorAll('div.mermaid, pre.mermaid')).map(el => {
    const svg = el.querySelector('svg');
    return {
      svg: !!svg,
      // mermaid draws a "Syntax error in text" picture instead of throwing
      error: !!(svg && (svg.getAttribute('aria-roledescription') === 'error'
                        || /Syntax error/i.test(svg.textContent))),
      text: (el.getAttribute('data-original-code') || el.textContent).trim().slice(0, 80),
    };
  });

  out.images = Array.from(document.images).map(img => ({
    src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0}));

  out.links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  out.glossaryLinks = Array.from(document.querySelectorAll('a.glossary-term')).map(a => a.textContent);

  // Resources that name another host, whether or not they were fetched yet.
  const refs = [];
  document.querySelectorAll('script[src], img[src], iframe[src], source[src], video[src], audio[src]')
    .forEach(el => refs.push(el.src));
  document.querySelectorAll('link[href]').forEach(el => {
    const rel = (el.getAttribute('rel') || '').toLowerCase();
    if (/stylesheet|preload|modulepreload|icon|prefetch|preconnect|dns-prefetch/.test(rel)) refs.push(el.href);
  });
  out.resourceRefs = refs;
  out.title = document.title;
  out.text = document.body.innerText;
  return out;
}
"""


META_REFRESH = re.compile(
    r"""<meta\s+http-equiv=["']refresh["']\s+content=["']\d+;\s*url=([^"']+)["']""", re.IGNORECASE)


SOLUTIONS = """
() => {
  // exercises and solutions (sphinx-exercise) in page order, as first displayed
  return Array.from(document.querySelectorAll('div.exercise, div.solution')).map(el => {
    const isSolution = el.classList.contains('solution');
    const link = isSolution ? el.querySelector('.admonition-title a[href*="#"]') : null;
    const body = Array.from(el.children).filter(c => !c.classList.contains('admonition-title')
                                                   && c.tagName !== 'BUTTON');
    return {
      kind: isSolution ? 'solution' : 'exercise',
      id: el.id,
      target: link ? decodeURIComponent(link.getAttribute('href').split('#')[1]) : null,
      dropdown: el.classList.contains('dropdown'),
      // sphinx-togglebutton collapses a dropdown with visibility: hidden and zero height
      hidden: body.length > 0 && body.every(c => c.offsetParent === null || c.offsetHeight === 0
                                              || getComputedStyle(c).visibility === 'hidden'),
    };
  });
}
"""


def _screenshot_name(rel: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "__", rel.removesuffix(".html")) + ".png"


@pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
@pytest.mark.parametrize("rel", PAGES)
def test_page(rel, server, browser):
    redirect = META_REFRESH.search((BUILD / rel).read_text(encoding="utf-8", errors="replace"))
    if redirect:  # e.g. the index.html that points at the root page: check its target
        target = (BUILD / rel).parent / urllib.parse.unquote(redirect.group(1).split("#")[0])
        assert target.is_file(), f"{rel} redirects to a missing page: {redirect.group(1)}"
        return
    problems: list[str] = []
    console_errors: list[str] = []
    off_host: list[str] = []
    failed: list[str] = []

    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    def route(r):
        if _is_local(r.request.url, server):
            r.continue_()
        else:  # never let the page reach the network, and remember it tried
            off_host.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and console_errors.append(f"{m.text} @ {m.location.get('url', '')}"))
    page.on("pageerror", lambda e: console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: _is_local(r.url, server) and failed.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.url}: HTTP {r.status}"))

    try:
        page.goto(f"{server}/{rel}", wait_until="load")
        if page.evaluate(WAIT_FOR_MATHJAX) == "absent" and page.locator(".math").count():
            problems.append("page has formulas but MathJax is not loaded")
        exercises = page.evaluate(SOLUTIONS)
        try:
            page.wait_for_function(MERMAID_SETTLED, timeout=TIMEOUT_MS)
        except Exception:  # noqa: BLE001 - reported below as unrendered diagrams
            pass
        if page.locator("[data-mermaid-deferred]").count():
            page.evaluate(RENDER_DEFERRED_MERMAID)
            try:
                page.wait_for_function(MERMAID_SETTLED.replace("|| el.hasAttribute('data-mermaid-deferred')", ""),
                                       timeout=TIMEOUT_MS)
            except Exception:  # noqa: BLE001
                pass
        page.evaluate(WAIT_FOR_IMAGES)
        try:  # let late requests (fonts, lazy assets) show up; a busy machine may never be idle
            page.wait_for_load_state("networkidle", timeout=10_000)
        except Exception:  # noqa: BLE001 - every request is checked anyway
            pass
        info = page.evaluate(INSPECT)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / _screenshot_name(rel)), full_page=True)
    finally:
        context.close()

    problems += [f"JavaScript error: {e}" for e in console_errors]
    problems += [f"request left 127.0.0.1: {u}" for u in sorted(set(off_host))]
    problems += [f"request failed: {u}" for u in sorted(set(failed))]
    problems += [f"resource on another host: {u}" for u in info["resourceRefs"] if not _is_local(u, server)]

    problems += [f"raw TeX left in the page: {t!r}" for t in info["rawTex"]]
    problems += [f"formula not typeset by MathJax: {t!r}" for t in info["untypesetMath"]]
    problems += [f"MathJax error: {t!r}" for t in info["mathErrors"]]
    if info["mathCount"] and not info["mjxCount"]:
        problems.append(f"{info['mathCount']} formula(s) but no mjx-container")

    for m in info["mermaid"]:
        if not m["svg"]:
            problems.append(f"mermaid block not drawn: {m['text']!r}")
        elif m["error"]:
            problems.append(f"mermaid block drew a syntax error: {m['text']!r}")

    problems += [f"image did not load: {i['src']}" for i in info["images"] if not i["ok"]]

    for href in sorted(set(info["links"])):
        target = _local_target(href, server)
        if target is None:
            continue  # other hosts: the separate linkcheck command covers them
        path, fragment = target
        shown = href[len(server):]
        if not path.is_file():
            problems.append(f"broken link: {shown} (no file {path.relative_to(BUILD)})")
        elif fragment and path.suffix == ".html" and fragment not in _anchors(path):
            problems.append(f"broken anchor: {shown}")

    last_exercise = None
    for item in exercises:
        if item["kind"] == "exercise":
            last_exercise = item["id"]
            continue
        if not item["dropdown"] or not item["hidden"]:
            problems.append(f"solution to {item['target']!r} is not collapsed (use :class: dropdown)")
        if item["target"] != last_exercise:
            problems.append(f"solution to {item['target']!r} does not follow its exercise "
                            f"(the exercise before it is {last_exercise!r})")

    source_nb = BUILD / "_sources" / (rel.removesuffix(".html") + ".ipynb")
    if source_nb.is_file():  # a chapter notebook: launch buttons, download, hidden install cell
        nb_path = rel.removesuffix(".html") + ".ipynb"
        links = set(info["links"])
        if not any(h.startswith("https://colab.research.google.com/github/") and h.endswith("/" + nb_path)
                   for h in links):
            problems.append(f"no Colab launch link for {nb_path}")
        if not any(h.startswith("https://mybinder.org/v2/gh/") and nb_path in h for h in links):
            problems.append(f"no Binder launch link for {nb_path}")
        if not any(h.endswith("/_sources/" + nb_path) for h in links):
            problems.append(f"no .ipynb download link for {nb_path}")
        if not any("/book/glossary.html#" in h for h in links):
            problems.append("the chapter has no link to the glossary")
        for text in info["glossaryLinks"]:
            half = len(text) // 2
            if len(text) % 2 == 0 and text[:half] == text[half:]:
                problems.append(f"glossary link text is doubled: {text!r}")
        if "%pip install" in info["text"]:
            problems.append("the install cell (tagged remove-cell) is visible")

    assert not problems, f"{rel} ({info['title']!r}):\n  " + "\n  ".join(problems)


@pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
def test_search_works_offline(server, browser):
    """The search page finds a word of the preface using only local files."""
    if not (BUILD / "search.html").is_file():
        pytest.skip("the build has no search.html")
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    off_host: list[str] = []
    errors: list[str] = []
    page.route("**/*", lambda r: r.continue_() if _is_local(r.request.url, server)
               else (off_host.append(r.request.url), r.abort()))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server}/search.html?q=recommender", wait_until="load")
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results li, ul.search li').length > 0",
            timeout=TIMEOUT_MS,
        )
        hits = page.locator("#search-results li, ul.search li").count()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "search__recommender.png"), full_page=True)
    finally:
        context.close()
    assert hits > 0
    assert not off_host, f"search requested other hosts: {off_host}"
    assert not errors, f"JavaScript errors on the search page: {errors}"


def _pages_with_maths_or_diagrams() -> list[str]:
    out = []
    for rel in _pages():
        text = (BUILD / rel).read_text(encoding="utf-8", errors="replace")
        if 'class="mermaid' in text or 'class="math' in text:
            out.append(rel)
    return out or ["index.html"]


@pytest.mark.skipif(SKIP is not None, reason=SKIP or "")
@pytest.mark.parametrize("rel", _pages_with_maths_or_diagrams())
def test_page_from_disk(rel, browser):
    """Opened as a file (no server), formulas are typeset and diagrams drawn."""
    errors: list[str] = []
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    try:
        page.goto((BUILD / rel).as_uri(), wait_until="load")
        page.evaluate(WAIT_FOR_MATHJAX)
        try:
            page.wait_for_function(MERMAID_SETTLED, timeout=TIMEOUT_MS)
        except Exception:  # noqa: BLE001 - reported below
            pass
        info = page.evaluate(INSPECT)
    finally:
        context.close()
    problems = [f"JavaScript error: {e}" for e in errors]
    problems += [f"formula not typeset by MathJax: {t!r}" for t in info["untypesetMath"]]
    problems += [f"MathJax error: {t!r}" for t in info["mathErrors"]]
    problems += [f"mermaid block not drawn: {m['text']!r}" for m in info["mermaid"] if not m["svg"]]
    assert not problems, f"{rel} opened from disk:\n  " + "\n  ".join(problems)


CDN = re.compile(r"cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|ajax\.googleapis\.com|fonts\.googleapis\.com"
                 r"|fonts\.gstatic\.com|polyfill\.io|code\.jquery\.com|stackpath\.bootstrapcdn\.com", re.IGNORECASE)
REMOTE_ASSET = re.compile(r"""<(?:script|img|iframe)\b[^>]*\bsrc=["']https?://|<link\b[^>]*\bhref=["']https?://[^"']*\.(?:css|js)\b""",
                          re.IGNORECASE)


@pytest.mark.skipif(not (BUILD / "index.html").is_file(), reason=f"no built book at {BUILD}")
def test_no_cdn_in_any_page():
    """No page of the build names a CDN or loads a script, style or image from another host."""
    bad = []
    for rel in _pages():
        text = (BUILD / rel).read_text(encoding="utf-8", errors="replace")
        bad += [f"{rel}: {m.group(0)}" for m in CDN.finditer(text)]
        bad += [f"{rel}: {m.group(0)[:100]}" for m in REMOTE_ASSET.finditer(text)]
    assert not bad, "\n".join(bad[:50])
