"""Charts for the dashboard, drawn server-side by matplotlib as SVG (no pyplot, no global
state: a Figure and its SVG canvas per chart, safe in threads). Each chart is shown as an
image beside a data table with the same figures (reports templates), so a screen-reader user
reads the table and nobody depends on colour alone (labels and hatches).

The SVG is returned as a data: URI for an <img>: the page's CSP allows data: images, and an
image's SVG runs no script.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Colour-blind-safe pair (Okabe-Ito blue and vermillion) on white, with hatches as well.
BLUE = "#0072B2"
ORANGE = "#D55E00"
GREY = "#555555"
WIDTH, HEIGHT = 6.4, 2.8


@lru_cache(maxsize=1)
def _matplotlib():
    """matplotlib and numpy, imported on the first chart: about 40 MB that every web worker
    would otherwise hold from start although only the reports dashboard draws (issue 16)."""
    from matplotlib import rcParams
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    # Text stays text (smaller files, crisp at any zoom); ids are stable from one render to
    # the next, so the same figures give the same bytes.
    rcParams["svg.fonttype"] = "none"
    rcParams["svg.hashsalt"] = "tar-portal-reports"
    rcParams["font.family"] = "sans-serif"
    rcParams["font.size"] = 10
    return Figure, FigureCanvasSVG


def _figure() -> Figure:
    # Fixed margins, not a layout engine: "constrained" layout doubled the drawing time.
    figure_class, _ = _matplotlib()
    figure = figure_class(figsize=(WIDTH, HEIGHT))
    figure.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.3)
    return figure


def _svg(figure: Figure) -> str:
    buffer = io.BytesIO()
    _, canvas_class = _matplotlib()
    canvas_class(figure).print_svg(buffer, metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _frame(axes) -> None:
    axes.spines["top"].set_visible(False)
    axes.spines["right"].set_visible(False)
    axes.tick_params(colors=GREY)


def trend(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, ylabel: str
) -> str:
    """Lines of a percentage by week (None: nothing to measure that week, a gap)."""
    return _trend(tuple(labels), tuple((n, tuple(v)) for n, v in series), ylabel)


def bars(labels: Sequence[str], values: Sequence[int], *, ylabel: str, colour: str = BLUE) -> str:
    """One bar per label, its count written on it."""
    return _bars(tuple(labels), tuple(values), ylabel, colour)


def stacked(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, ylabel: str
) -> str:
    """Stacked bars per label (outcomes by family): colours and hatches per series."""
    return _stacked(tuple(labels), tuple((n, tuple(v)) for n, v in series), ylabel)


# A chart is a function of its figures only: the same figures are drawn once per process (a
# manager reloading the dashboard redraws nothing). Drawing costs tens of milliseconds each.
@lru_cache(maxsize=256)
def _trend(labels, series, ylabel: str) -> str:
    figure = _figure()
    axes = figure.add_subplot()
    markers = ("o", "s", "^")
    for (name, values), colour, marker in zip(series, (BLUE, ORANGE, GREY), markers, strict=False):
        ys = [float("nan") if v is None else v for v in values]
        axes.plot(range(len(labels)), ys, marker=marker, color=colour, label=name)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    axes.set_ylim(0, 105)
    axes.set_ylabel(ylabel)
    axes.axhline(100, color="#cccccc", linewidth=0.8)
    axes.legend(loc="lower left", fontsize=8, frameon=False)
    _frame(axes)
    return _svg(figure)


@lru_cache(maxsize=256)
def _bars(labels, values, ylabel: str, colour: str) -> str:
    figure = _figure()
    axes = figure.add_subplot()
    drawn = axes.bar(range(len(labels)), values, color=colour)
    axes.bar_label(drawn, fontsize=8)
    axes.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    axes.set_ylabel(ylabel)
    _frame(axes)
    return _svg(figure)


@lru_cache(maxsize=256)
def _stacked(labels, series, ylabel: str) -> str:
    figure = _figure()
    axes = figure.add_subplot()
    bottoms = [0] * len(labels)
    colours = (BLUE, ORANGE, "#009E73", "#CC79A7", GREY)
    hatches = ("", "//", "..", "xx", "--")
    for (name, values), colour, hatch in zip(series, colours, hatches, strict=False):
        axes.bar(range(len(labels)), values, bottom=bottoms, color=colour, hatch=hatch, label=name)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize=8, frameon=False, loc="upper right")
    _frame(axes)
    return _svg(figure)
