"""The plotting style of the book's figures.

Every chapter notebook that draws a figure calls :func:`use_book_style` once,
in its imports cell, so that all figures share one look that stays readable
where the book is read:

* **Size.** The book's text column is about 750 px wide (at a 1400 px window).
  A figure is 5.6 in wide at 100 dpi by default, 560 px, so the browser shows
  it at its own size instead of scaling it (and its text) down. On a 400 px
  phone screen the column is about 350 px and the figure is scaled to it: the
  narrower the figure, the larger its text stays there. A figure with several
  panels puts one or two panels in a row, never three: each panel keeps the
  full text size.
* **Text.** Tick labels are 12 pt, 16.7 px at column width and about 10.5 px
  on a 400 px phone; axis labels 13 pt, titles 14 pt, legends 11 pt. No text
  in a figure is smaller than :data:`MIN_FONT_PT` (11 pt: 15.3 px at column
  width, about 9.6 px on the phone).
* **Sharpness.** In a notebook the inline backend draws PNGs at twice the
  resolution and records the figure's size in the output's metadata (IPython's
  "retina" format), so the figure is sharp on high-density screens and is
  shown at 1x: the built book (myst-nb) keeps that width and height.
* **Colour.** The colour cycle is the eight colours of Okabe and Ito (2008),
  told apart by readers with the common forms of colour blindness; lines
  also differ in marker or dash where a figure compares several. The figure
  background is white: in dark mode the book shows plots as white cards
  (``_static/mathrec-reader.css``) rather than inverting them.
* **Reproducibility.** ``svg.hashsalt`` is fixed and the figure metadata carry
  no date, so re-running a notebook writes the same figure again.

Matplotlib is imported inside the functions: ``import mathrec`` never imports
it, and it is not a dependency of the package (the notebooks need it).
"""

from __future__ import annotations

__all__ = ["MIN_FONT_PT", "OKABE_ITO", "book_style", "use_book_style"]

#: The smallest text size in the book's figures, in points. At the default
#: 100 dpi, 1 pt is 100/72 px: 11 pt is 15.3 px when a figure is shown at its
#: own size and about 9.6 px when a 560 px figure is scaled to a phone's
#: 350 px column.
MIN_FONT_PT: float = 11

#: The Okabe--Ito palette (Okabe and Ito 2008), in the order of the colour
#: cycle: blue, orange, bluish green, vermilion, reddish purple, sky blue,
#: yellow, black.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)


def book_style() -> dict:
    """The book's Matplotlib settings, as a dictionary of rcParams.

    Returns
    -------
    dict
        Setting name -> value, for ``matplotlib.rcParams.update`` or
        ``matplotlib.pyplot.style.context``. See the module's docstring for
        the reasons behind the values.
    """
    from cycler import cycler  # installed with Matplotlib

    return {
        # 5.6 in x 100 dpi = 560 px: shown unscaled in the 750 px text column
        "figure.figsize": (5.6, 3.4),
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "figure.constrained_layout.use": True,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.transparent": False,
        # text: 12 pt tick labels are 16.7 px at column width
        "font.size": 12,
        "axes.titlesize": 14,
        "axes.labelsize": 13,
        "xtick.labelsize": 12,
        "ytick.labelsize": 12,
        "legend.fontsize": 11,
        "legend.title_fontsize": 11,
        "figure.titlesize": 15,
        "legend.framealpha": 0.9,
        # colour-blind-safe colours, thicker lines
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        "lines.linewidth": 2.0,
        "lines.markersize": 6.0,
        "axes.grid": True,
        "grid.color": "#d0d0d0",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        # deterministic output
        "svg.hashsalt": "mathrec",
        "svg.fonttype": "path",
        "pdf.fonttype": 42,
    }


def use_book_style() -> None:
    """Apply :func:`book_style` and, in a notebook, draw figures at 2x.

    Call it once in a notebook's imports cell. It updates
    ``matplotlib.rcParams`` and, when IPython is running, switches the inline
    backend to the "retina" format: PNGs at twice the figure's dpi whose
    output metadata record the 1x width and height, so the notebook and the
    book show them at their nominal size (560 px for the default 5.6 in).

    It returns nothing, so that a call at the end of a cell prints nothing.
    """
    import matplotlib
    import matplotlib.pyplot as plt  # noqa: F401 - loads the inline backend first

    style = book_style()
    matplotlib.rcParams.update(style)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing more to configure
        return
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        # no date or version-dependent text in the figure's PNG metadata
        set_matplotlib_formats("retina", metadata={"Software": None})
        # the inline backend reapplies its own rc on first use: ours wins
        matplotlib.rcParams.update(style)
