#!/usr/bin/env python3
"""Print the whole built book to one PDF, with the Chromium the browser test uses.

Jupyter Book's own PDF routes do not work on this project's machines: the
LaTeX route (``--builder pdflatex``) needs a TeX installation, and the
HTML-to-PDF route (``--builder pdfhtml``) needs pyppeteer, which downloads a
browser of its own. This script needs neither: it reads the HTML book that
``scripts/setup.sh`` builds (``_build/html``), and in headless Chromium
(``/usr/bin/chromium``, driven by Playwright, both already used by the test
command) joins the pages in the order of ``_toc.yml`` into one document,
typesets its formulas with the book's own MathJax, draws its diagrams, and
prints it with the book's print stylesheet (``_static/mathrec-reader.css``:
no navigation, code wrapped at the page width, each page of the book starting
on a new sheet). Nothing is fetched from another host.

Chinese text needs a font with Chinese glyphs (Debian: ``fonts-wqy-microhei``
or ``fonts-noto-cjk``); without one the script stops rather than print empty
boxes.

Usage (after ``bash scripts/setup.sh``)::

    .venv/bin/python scripts/build_pdf.py            # writes _build/pdf/mathrec.pdf
    .venv/bin/python scripts/build_pdf.py --no-api   # without the API reference pages
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from toc_notebooks import _files  # noqa: E402

CHROMIUM = Path(os.environ.get("MATHREC_CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_MS = 600_000

# Runs in the first page: appends the main article of every other page, with
# its links and images made absolute, then typesets and draws the whole.
JOIN = r"""
async ([root, pages]) => {
  const main = document.querySelector("article.bd-article");
  main.classList.add("mathrec-pdf-part");
  for (const url of pages) {
    const html = await (await fetch(url)).text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const article = doc.querySelector("article.bd-article");
    if (!article) continue;
    for (const el of article.querySelectorAll("[src]")) el.setAttribute("src", new URL(el.getAttribute("src"), url).href);
    for (const el of article.querySelectorAll("a[href]")) el.setAttribute("href", new URL(el.getAttribute("href"), url).href);
    for (const el of article.querySelectorAll("script")) el.remove();
    const part = document.createElement("article");
    part.className = "bd-article mathrec-pdf-part";
    part.innerHTML = article.innerHTML;
    main.parentNode.appendChild(part);
  }
  if (window.MathJax && MathJax.typesetPromise) {
    await MathJax.startup.promise;
    MathJax.typesetClear();
    await MathJax.typesetPromise();
  }
  const diagrams = [...document.querySelectorAll("pre.mermaid")].filter((el) => !el.querySelector("svg"));
  if (diagrams.length) {
    if (!globalThis.mermaid) {
      await new Promise((ok, fail) => {
        const s = document.createElement("script");
        s.src = root + "_static/vendor/mermaid/mermaid.min.js";
        s.onload = ok; s.onerror = fail; document.head.appendChild(s);
      });
    }
    mermaid.initialize({ startOnLoad: false, theme: "default" });
    await mermaid.run({ nodes: diagrams });
  }
  const style = document.createElement("style");
  // each part starts a new sheet; the theme hides a page's first h1 in print
  // (it prints the title once, above the first part), so show the others' titles
  style.textContent = "@media print { article.mathrec-pdf-part + article.mathrec-pdf-part { break-before: page; }"
    + " article.mathrec-pdf-part ~ article.mathrec-pdf-part h1:first-of-type { display: block !important; } }";
  document.head.appendChild(style);
  return document.querySelectorAll("article.mathrec-pdf-part").length;
}
"""


def book_pages(no_api: bool = False) -> list[str]:
    """The HTML pages of the book in reading order (``_toc.yml``)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries = [toc["root"], *_files(toc.get("parts", toc.get("chapters", [])))]
    if no_api:
        entries = [e for e in entries if not e.startswith("book/api")]
    return [f"{e}.html" for e in entries]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".js": "text/javascript"}

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def build(html: Path, out: Path, pages: list[str], extra_css: Path | None = None) -> int:
    from playwright.sync_api import sync_playwright

    missing = [p for p in pages if not (html / p).is_file()]
    if missing:
        raise SystemExit(f"not in {html}: {missing}; build the book first (bash scripts/setup.sh)")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            off_host: list[str] = []
            page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:"))
                    else off_host.append(r.url))
            page.goto(base + pages[0], wait_until="load")
            if extra_css:
                page.add_style_tag(content=extra_css.read_text(encoding="utf-8"))
            parts = page.evaluate(JOIN, [base, [base + p for p in pages[1:]]])
            out.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                     header_template="<span></span>",
                     footer_template='<div style="font-size:8px;width:100%;text-align:center">'
                                     '<span class="pageNumber"></span></div>',
                     margin={"top": "15mm", "bottom": "15mm", "left": "14mm", "right": "14mm"})
            browser.close()
    finally:
        httpd.shutdown()
    if off_host:
        print(f"requests to other hosts: {off_host[:5]}", file=sys.stderr)
    return parts


def has_chinese_font() -> bool | None:
    """Whether fontconfig knows a font with Chinese glyphs (None: fontconfig is absent)."""
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return bool(out.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the built HTML book")
    ap.add_argument("--output", type=Path, default=ROOT / "_build" / "pdf" / "mathrec.pdf")
    ap.add_argument("--no-api", action="store_true", help="leave out the API reference pages")
    ap.add_argument("--extra-css", type=Path, help=argparse.SUPPRESS)  # try a stylesheet on an older build
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    if has_chinese_font() is False:
        print("No font with Chinese glyphs is installed, so the source's Chinese would print as "
              "empty boxes; install one first, e.g. apt-get install fonts-wqy-microhei "
              "(or fonts-noto-cjk).", file=sys.stderr)
        return 2
    pages = book_pages(args.no_api)
    parts = build(args.html.resolve(), args.output, pages, args.extra_css)
    if parts != len(pages):
        print(f"only {parts} of {len(pages)} pages joined", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({len(pages)} pages of the book)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
