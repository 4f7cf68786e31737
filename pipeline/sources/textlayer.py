"""The one reader of a PDF's text layer: characters and words with their boxes on the displayed page.

Boxes are in PDF points with the origin at the top left of the page as displayed: pdfium's boxes
(PDF user space, origin bottom left, before /Rotate) are taken through the crop box and /Rotate
by display.display_affine. Page.chars()/words()/text() and page_chars() on a bare pdfium page all
read through here, so a blank form and a submission's page give the same boxes.
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from typing import NamedTuple

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.model.records import BBox
from pipeline.sources.display import Affine, apply_affine, display_affine


@dataclass(frozen=True, slots=True)
class Char:
    """One text-layer character and its tight glyph box (PDF points, top-left origin, displayed page).

    `advance` is its loose box: from the glyph's origin to the next glyph's (its advance width)
    and from the font's descent to its ascent, so its height is the font size. Two characters
    typed next to each other touch in their advance boxes whatever their shapes ('1', '.');
    a typed space leaves a gap there of about a quarter of the font size. None when unknown.
    """

    text: str
    bbox: BBox
    advance: BBox | None = None


class Word(NamedTuple):
    """A run of text-layer characters without white space, bbox in PDF points (top-left origin)."""

    text: str
    bbox: BBox


def page_text(textpage: pdfium.PdfTextPage) -> str:
    """All characters of a text page, one per pdfium character index."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    if count <= 0:
        return ""
    buf = (ctypes.c_ushort * (count + 1))()
    pdfium_c.FPDFText_GetText(raw, 0, count, buf)
    text = bytes(buf)[: 2 * count].decode("utf-16-le", errors="replace")
    if len(text) != count:  # characters outside the BMP take two UTF-16 units: go one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 0xFFFD) for i in range(count))
    return text


def char_boxes(textpage: pdfium.PdfTextPage, affine: Affine, loose: bool) -> list[tuple[str, BBox | None]]:
    """Every character index of a text page with its displayed box (None for white space/no box)."""
    text = page_text(textpage)
    raw = textpage.raw
    a, b, c, d, e, f = affine
    out: list[tuple[str, BBox | None]] = []
    append = out.append
    if loose:
        rect = pdfium_c.FS_RECTF()
        get_loose = pdfium_c.FPDFText_GetLooseCharBox
        for i, ch in enumerate(text):
            if ch <= " " or ch.isspace() or not get_loose(raw, i, rect):
                append((ch, None))
                continue
            x0, y0, x1, y1 = rect.left, rect.top, rect.right, rect.bottom
            X0, X1 = a * x0 + c * y0 + e, a * x1 + c * y1 + e
            Y0, Y1 = b * x0 + d * y0 + f, b * x1 + d * y1 + f
            append((ch, (min(X0, X1), min(Y0, Y1), max(X0, X1), max(Y0, Y1))))
        return out
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    get_tight = pdfium_c.FPDFText_GetCharBox
    for i, ch in enumerate(text):
        if ch <= " " or ch.isspace() or not get_tight(raw, i, left, right, bottom, top):
            append((ch, None))
            continue
        append((ch, apply_affine(affine, left.value, top.value, right.value, bottom.value)))
    return out


def textpage_chars(textpage: pdfium.PdfTextPage, affine: Affine) -> list[Char]:
    """Every character of a text page with its tight glyph box and its advance box on the displayed page, white space left out."""
    tight = char_boxes(textpage, affine, loose=False)
    loose = char_boxes(textpage, affine, loose=True)
    return [Char(ch, box, adv) for (ch, box), (_, adv) in zip(tight, loose, strict=True) if box is not None]


def textpage_words(textpage: pdfium.PdfTextPage, affine: Affine) -> list[Word]:
    """Words of a text page (loose character boxes), split at white space and where a character jumps away."""
    words: list[Word] = []
    chars: list[str] = []
    box = [0.0, 0.0, 0.0, 0.0]
    prev: BBox = (0.0, 0.0, 0.0, 0.0)

    def flush() -> None:
        if chars:
            words.append(Word("".join(chars), (box[0], box[1], box[2], box[3])))
            chars.clear()

    for ch, cb in char_boxes(textpage, affine, loose=True):
        if cb is None:
            flush()
            continue
        if chars:
            # a jump of more than a character's size starts a new word (table cells, columns)
            tol = max(prev[2] - prev[0], prev[3] - prev[1], cb[2] - cb[0], cb[3] - cb[1], 1.0)
            gap_x = max(0.0, cb[0] - prev[2], prev[0] - cb[2])
            gap_y = max(0.0, cb[1] - prev[3], prev[1] - cb[3])
            if gap_x > tol or gap_y > tol:
                flush()
        if chars:
            box[0], box[1] = min(box[0], cb[0]), min(box[1], cb[1])
            box[2], box[3] = max(box[2], cb[2]), max(box[3], cb[3])
        else:
            box[:] = cb
        chars.append(ch)
        prev = cb
    flush()
    return words


def page_affine(page: pdfium.PdfPage) -> Affine:
    """The page space → displayed page affine of a pdfium page (its crop box and /Rotate)."""
    bbox = tuple(page.get_bbox())
    return display_affine(bbox, page.get_rotation() % 360)  # type: ignore[arg-type]


def page_chars(page: pdfium.PdfPage) -> list[Char]:
    """Every character of a pdfium page's text layer with its tight box on the displayed page, in reading order.

    The same characters and boxes as Page.chars() gives for that page (white space left out).
    """
    affine = page_affine(page)
    textpage = page.get_textpage()
    try:
        return textpage_chars(textpage, affine)
    finally:
        textpage.close()


def page_words(page: pdfium.PdfPage) -> list[Word]:
    """The words of a pdfium page's text layer with their boxes on the displayed page, as Page.words() gives them."""
    affine = page_affine(page)
    textpage = page.get_textpage()
    try:
        return textpage_words(textpage, affine)
    finally:
        textpage.close()


# --- quality: is the text layer real text? ---------------------------------------------------

_QUALITY_SAMPLE = 256  # characters checked for a missing Unicode mapping per page
_BLANK_CHARS = re.compile(r"[\s\x00-\x1f]")
_BAD_CHARS = re.compile("[\ufffd\ue000-\uf8ff]")


def char_quality(textpage: pdfium.PdfTextPage) -> tuple[int, int]:
    """(real characters, characters without a trustworthy Unicode value) of a text page.

    U+FFFD and private-use characters count as bad outright; pdfium's per-character mapping
    check runs on an even sample (a full pass cost 15 ms on a 5000-character page).
    """
    text = page_text(textpage)
    visible = len(_BLANK_CHARS.sub("", text))
    if visible == 0:
        return 0, 0
    bad_now = len(_BAD_CHARS.findall(text))
    step = max(1, len(text) // _QUALITY_SAMPLE)
    sample = [i for i in range(0, len(text), step) if not (text[i].isspace() or text[i] < " " or _BAD_CHARS.match(text[i]))]
    raw = textpage.raw
    unmapped = sum(pdfium_c.FPDFText_HasUnicodeMapError(raw, i) == 1 for i in sample)
    rest = visible - bad_now
    bad = bad_now + (round(unmapped * rest / len(sample)) if sample else 0)
    return visible - bad, bad


# --- characters → text ---------------------------------------------------------------------


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
        words = [line[0].text]
        for prev, cur in zip(line, line[1:]):
            # Japanese is written without spaces: only a gap next to Latin text is a space.
            latin = prev.text.isascii() or cur.text.isascii()
            if latin and is_space_between(prev, cur):
                words.append(" ")
            words.append(cur.text)
        out.append("".join(words))
    return " ".join(out).strip()


# A space is a gap between advance boxes of more than this share of the font size. Measured on
# the demo's reportlab filling and a LibreOffice-made Word filling with its attachments (seed
# 81300; IPAex fonts): 4,300 neighbouring Latin glyph pairs lie -0.004..0.026 em apart, the 47
# pairs with a typed space between them 0.28 em or more.
SPACE_EM = 0.12
# Without advance boxes, the old rule on tight boxes: a gap of 0.3 x the line's glyph height.
SPACE_TIGHT = 0.3


def is_space_between(prev: Char, cur: Char) -> bool:
    """Whether the gap from `prev` to `cur` (same line, left to right) holds a space, judged from glyph positions.

    pdfium's own inferred spaces are not used: it puts one wherever a glyph box leaves room
    (after a '1' of a proportional font, before a '.'), and none where a PDF maker moved the
    pen instead of typing a space. The advance boxes say where the pen went.
    """
    if prev.advance is not None and cur.advance is not None:
        em = max(prev.advance[3] - prev.advance[1], cur.advance[3] - cur.advance[1], 1.0)
        return cur.advance[0] - prev.advance[2] > SPACE_EM * em
    height = max(prev.bbox[3] - prev.bbox[1], cur.bbox[3] - cur.bbox[1], 1.0)
    return cur.bbox[0] - prev.bbox[2] > SPACE_TIGHT * height
