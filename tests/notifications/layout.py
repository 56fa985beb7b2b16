"""A letter's layout read back from its PDF: the text lines of each page, with their height
on the page and font size, to find near-empty pages, half-empty first pages and lines
stranded at a page break."""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass

from pypdf import PdfReader

from tests.notifications.pdf import FOOTER_TOP, _multiply, _scale


@dataclass(frozen=True)
class Line:
    y: float  # baseline, points from the bottom of the page
    size: float  # largest font size on the line, points
    text: str


@dataclass(frozen=True)
class Page:
    height: float
    lines: tuple[Line, ...]


def pages(pdf: bytes) -> list[Page]:
    """Every page's text lines from top to bottom, page footers left out."""
    out: list[Page] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        runs: dict[float, list[tuple[float, float, str]]] = {}

        def visit(text, cm, tm, font_dict, font_size, runs=runs):
            if not text or not text.strip() or text.strip() == "•":
                return
            matrix = _multiply(tm, cm)
            y = round(matrix[5], 1)
            if y <= FOOTER_TOP:
                return
            size = round(float(font_size) * _scale(tm) * _scale(cm), 1)
            runs.setdefault(y, []).append((matrix[4], size, text))

        page.extract_text(visitor_text=visit)
        lines = [
            Line(y=y, size=max(s for _, s, _ in parts), text=" ".join(t.strip() for *_, t in parts))
            for y, parts in sorted(runs.items(), reverse=True)
        ]
        out.append(Page(height=float(page.mediabox.height), lines=tuple(lines)))
    return out


def body_size(letter: list[Page]) -> float:
    return statistics.mode(line.size for page in letter for line in page.lines)


def line_step(letter: list[Page]) -> float:
    """The usual distance between two lines of one paragraph."""
    steps = [
        round(a.y - b.y, 1)
        for page in letter
        for a, b in zip(page.lines, page.lines[1:], strict=False)
        if a.y > b.y
    ]
    return statistics.mode(steps)


_ENDS = (".", ":", ")", "?", "!", ";", "»", '"')


def stranded_lines(letter: list[Page]) -> list[str]:
    """Lines cut off from their paragraph by a page break: the first line of a paragraph
    alone at the foot of a page (it starts a block, runs the full width and does not end a
    sentence: the paragraph goes on overleaf), the last line of one alone at the top of the
    next (the previous page stopped mid-sentence at full width and a block gap follows the
    line), and a heading at the foot of a page."""
    found: list[str] = []
    step = line_step(letter)
    size = body_size(letter)
    widest = max(len(line.text) for page in letter for line in page.lines if line.size == size)

    def runs_on(line: Line) -> bool:
        return len(line.text) >= 0.7 * widest and not line.text.rstrip().endswith(_ENDS)

    for number, page in enumerate(letter[:-1], start=1):
        lines = page.lines
        if len(lines) >= 2:
            last, before = lines[-1], lines[-2]
            starts_block = before.y - last.y > 1.25 * step
            if last.size > size + 0.5:
                found.append(f"page {number} ends with a heading: {last.text!r}")
            elif starts_block and runs_on(last):
                found.append(f"page {number} ends with a paragraph's first line: {last.text!r}")
        following = letter[number].lines
        if len(following) >= 2 and lines:
            first, after = following[0], following[1]
            ends_block = first.y - after.y > 1.25 * step
            if ends_block and first.size <= size + 0.5 and runs_on(lines[-1]):
                found.append(
                    f"page {number + 1} starts with a paragraph's last line: {first.text!r}"
                )
    return found
