"""A born-digital page's text layer as characters with boxes (PDF points, origin top-left)."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium

from pipeline.model.records import BBox


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
    """Characters joined in reading order: lines by vertical overlap, then left to right."""
    if not chars:
        return ""
    lines: list[list[Char]] = []
    for c in sorted(chars, key=lambda c: (c.bbox[1] + c.bbox[3]) / 2):
        mid = (c.bbox[1] + c.bbox[3]) / 2
        if lines:
            last = lines[-1]
            top = min(x.bbox[1] for x in last)
            bottom = max(x.bbox[3] for x in last)
            if top - 1 <= mid <= bottom + 1:
                last.append(c)
                continue
        lines.append([c])
    out: list[str] = []
    for line in lines:
        line.sort(key=lambda c: c.bbox[0])
        # Tight glyph boxes: a '.' is tiny, so the gap is judged against the line's height.
        height = max(c.bbox[3] - c.bbox[1] for c in line)
        words = [line[0].text]
        for prev, cur in zip(line, line[1:]):
            # Japanese is written without spaces: only a gap next to Latin text is a space.
            latin = prev.text.isascii() or cur.text.isascii()
            if latin and cur.bbox[0] - prev.bbox[2] > 0.3 * max(height, 1.0):
                words.append(" ")
            words.append(cur.text)
        out.append("".join(words))
    return " ".join(out).strip()
