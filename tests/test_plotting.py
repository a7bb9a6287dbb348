"""The book's plotting style (``mathrec.plotting``) and the figures it draws.

The style is a plain dictionary of Matplotlib settings; these tests pin what
the book relies on (the figure fits the text column, text is large enough,
colours are the Okabe--Ito palette, output is deterministic), that
``import mathrec`` does not import Matplotlib, and that every figure stored in
a chapter notebook is shown at most 590 px wide (a phone's 350 px column then
scales it by 0.59 or more, and its smallest text stays above 9 px), and has a
caption, a label and alt text.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mathrec.plotting import MIN_FONT_PT, OKABE_ITO, book_style

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("ch*.ipynb"))
COLUMN_PX = 590  # 560 px figures (the style) plus what a tight bounding box adds


def test_style_fits_the_column_with_legible_text():
    style = book_style()
    width, height = style["figure.figsize"]
    # 560 px: a phone's ~350 px column scales it by 0.6 at worst, not 0.5
    assert width * style["figure.dpi"] <= 560
    assert style["savefig.dpi"] >= 2 * style["figure.dpi"]  # high-DPI output
    # at 1x, 1 pt = dpi/72 px: tick labels of at least 11 px
    for key in ("xtick.labelsize", "ytick.labelsize", "legend.fontsize", "font.size",
                "legend.title_fontsize", "axes.labelsize", "axes.titlesize"):
        assert style[key] >= MIN_FONT_PT, key
    assert MIN_FONT_PT * style["figure.dpi"] / 72 >= 15  # px at column width
    assert style["axes.titlesize"] >= style["axes.labelsize"] >= style["xtick.labelsize"]
    assert style["figure.facecolor"] == "white"  # dark mode shows plots as white cards
    assert style["svg.hashsalt"]  # deterministic SVG ids


def test_colour_cycle_is_okabe_ito():
    assert OKABE_ITO == (
        "#0072B2", "#E69F00", "#009E73", "#D55E00",
        "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    )
    colours = book_style()["axes.prop_cycle"].by_key()["color"]
    assert tuple(colours) == OKABE_ITO


def test_style_is_accepted_by_matplotlib():
    matplotlib = pytest.importorskip("matplotlib")
    with matplotlib.rc_context(book_style()):
        assert matplotlib.rcParams["figure.dpi"] == book_style()["figure.dpi"]


def test_import_mathrec_does_not_import_matplotlib():
    code = (
        "import sys, mathrec, mathrec.plotting; "
        "mathrec.plotting.book_style; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


def _figures(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                yield index, cell, output


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_figures_fit_the_column(path):
    for index, cell, output in _figures(path):
        meta = output.get("metadata", {}).get("image/png", {})
        where = f"{path.name} cell {index}"
        assert "width" in meta, f"{where}: no display width (call use_book_style())"
        assert meta["width"] <= COLUMN_PX, f"{where}: shown {meta['width']} px wide"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_are_numbered_with_caption_and_alt_text(path):
    chapter = path.stem.split("_")[0]
    for index, cell, _ in _figures(path):
        where = f"{path.name} cell {index}"
        mystnb = cell["metadata"].get("mystnb", {})
        figure, image = mystnb.get("figure", {}), mystnb.get("image", {})
        assert figure.get("name", "").startswith(f"fig-{chapter}-"), where
        assert len(figure.get("caption", "").split()) >= 5, f"{where}: caption"
        alt = image.get("alt", "")
        assert len(alt.split()) >= 10, f"{where}: alt text too short"


# What the notebooks themselves set: a figure wider than the style's, or text
# smaller than MIN_FONT_PT, would shrink its text on a phone below what the
# browser test (tests/browser/test_layout.py) accepts.
_FIGSIZE = re.compile(r"figsize=\(\s*([\d.]+)\s*,")
_FONT = re.compile(r"(?:fontsize|labelsize|size)\s*=\s*(?:([\d.]+)|[\"'](xx?-small|small|smaller)[\"'])")


def _code(nb):
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_figures_are_no_wider_than_the_style_and_text_no_smaller(nb):
    code = _code(nb)
    width = book_style()["figure.figsize"][0]
    assert all(float(w) <= width for w in _FIGSIZE.findall(code)), _FIGSIZE.findall(code)
    for line in code.splitlines():
        if "fontsize" not in line and "labelsize" not in line:
            continue
        for number, name in _FONT.findall(line):
            assert not name and float(number) >= MIN_FONT_PT, (nb.name, line.strip())
