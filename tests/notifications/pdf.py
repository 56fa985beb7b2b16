"""Read generated letters back: their text and the font size of every piece of text."""

from __future__ import annotations

import io
import math

from pypdf import PdfReader


def squash(text: str) -> str:
    """Text without any whitespace: PDF line breaks fall anywhere, words never move."""
    return "".join(text.split())


# Page footers (request number, page x / y) sit below this height in points; leaving them out
# lets a sentence that runs over a page break read as one.
FOOTER_TOP = 50.0


def _multiply(m, n):
    a, b, c, d, e, f = (float(x) for x in m)
    g, h, i, j, k, l_ = (float(x) for x in n)
    return [
        a * g + b * i,
        a * h + b * j,
        c * g + d * i,
        c * h + d * j,
        e * g + f * i + k,
        e * h + f * j + l_,
    ]


def pdf_text(pdf: bytes, *, footers: bool = False) -> str:
    """The letter's text in reading order, without page footers unless asked for."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        parts: list[str] = []

        def visit(text, cm, tm, font_dict, font_size, parts=parts):
            # List bullets are drawn after the page's text: leave them out of the reading order.
            if not text or text.strip() == "•":
                return
            y = _multiply(tm, cm)[5]
            if footers or y > FOOTER_TOP:
                parts.append(text)

        page.extract_text(visitor_text=visit)
        pages.append("".join(parts))
    return "\n".join(pages)


def has(pdf_or_text: bytes | str, *needles: str) -> list[str]:
    """The needles NOT found in the letter (an empty list means all are there)."""
    text = pdf_text(pdf_or_text) if isinstance(pdf_or_text, bytes) else pdf_or_text
    haystack = squash(text)
    return [needle for needle in needles if squash(needle) not in haystack]


def _scale(matrix) -> float:
    a, b, c, d = (float(x) for x in matrix[:4])
    return math.sqrt(abs(a * d - b * c))


def font_sizes(pdf: bytes) -> list[float]:
    """The rendered size in points of every non-blank text run: the font size set by Tf times
    the scale of the text matrix and of the current transformation matrix."""
    sizes: list[float] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text and text.strip():
            sizes.append(round(float(font_size) * _scale(tm) * _scale(cm), 2))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)
