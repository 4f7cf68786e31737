"""A born-digital page's text layer as characters with boxes (PDF points, origin top-left)."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium

from pipeline.model import BBox


@dataclass(frozen=True, slots=True)
class Char:
    text: str
    bbox: BBox


def page_chars(page: pdfium.PdfPage) -> list[Char]:
    """Every character of the page's text layer with its box, in reading order.

    pdfium reports boxes in PDF user space (origin bottom-left, before /Rotate); they are
    turned to the top-left origin of the unrotated page here. Rotated form pages are not
    produced by any printing we read, so /Rotate is left to the scan path.
    """
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        left, bottom, _, _ = page.get_cropbox() if hasattr(page, "get_cropbox") else (0.0, 0.0, 0.0, 0.0)
        chars: list[Char] = []
        for i in range(textpage.count_chars()):
            text = textpage.get_text_range(i, 1)
            if not text or text.isspace():
                continue
            x0, y0, x1, y1 = textpage.get_charbox(i, loose=False)
            chars.append(Char(text, (x0 - left, height - (y1 - bottom), x1 - left, height - (y0 - bottom))))
        return chars
    finally:
        textpage.close()


def chars_in(chars: list[Char], box: BBox, pad_pt: float = 0.0) -> list[Char]:
    """Characters whose centre lies inside `box` grown by `pad_pt` on every side."""
    x0, y0, x1, y1 = box[0] - pad_pt, box[1] - pad_pt, box[2] + pad_pt, box[3] + pad_pt
    return [c for c in chars if x0 <= (c.bbox[0] + c.bbox[2]) / 2 <= x1 and y0 <= (c.bbox[1] + c.bbox[3]) / 2 <= y1]


def text_of(chars: list[Char]) -> str:
    """Characters joined in reading order: lines by their top, then left to right."""
    if not chars:
        return ""
    ordered = sorted(chars, key=lambda c: (round(c.bbox[1] / 4), c.bbox[0]))
    out = [ordered[0].text]
    for prev, cur in zip(ordered, ordered[1:]):
        if abs(cur.bbox[1] - prev.bbox[1]) > 4:
            out.append(" ")
        elif cur.bbox[0] - prev.bbox[2] > 0.6 * (cur.bbox[3] - cur.bbox[1]):
            out.append(" ")
        out.append(cur.text)
    return "".join(out).strip()
