"""A born-digital form file whose text moved (typed into in Word) → each form page's readings, read where its print went.

The whole file is aligned with the blank (reading/text_anchor.py). Every box and field of a
layout page is placed by the blank's print on its own line, found again in the file, on
whichever page it went to; boxes and fields that moved alike are read together by
read_digital.read_page against the blank shifted by the same amount, so the text layer and the
ink witnesses work as on a page that never moved. A box or field whose place cannot be told is
`uncertain` / `not_located` at the blank's place, never read at a place that is not its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from pipeline.model.records import BBox, BoxLayout, FieldLayout, FieldReading, FormDef, MarkReading, PageLayout, PageRef
from pipeline.reading.digital_page import blank_page, page_gray
from pipeline.reading.fields import fit_pattern
from pipeline.reading.read_digital import DIGITAL_DPI, INK_FIELD_PRESENT, PageReading, ink_share, read_page
from pipeline.reading.reflow_place import pasted_room
from pipeline.reading.text_anchor import BOX_GLYPHS, Alignment, Placed, Shift, align, growth_below, placed_stream, shift_of, typed_in
from pipeline.sources.page import Page
from pipeline.sources.textlayer import Char, chars_in, text_of

# A layout page counts as present in the file when this share of its print was found there.
PAGE_FOUND_SHARE = 0.5
# Shifts are grouped to this step (pt) so that a line of boxes is read against one shifted blank.
SHIFT_STEP_PT = 0.25
UNPLACED_BOX = "記入で文字の位置が様式からずれ、この枠の位置を特定できませんでした。原本の該当箇所を目視で確認してください"
# A file whose pages share less than this of their 6-character runs with the blank is not the form (no alignment tried).
SHINGLE = 6
RULE_MIN_PT = 28.0  # a straight line this long in a born-digital file is print (an underline, a frame), not ink
# ... and in a signature or seal place an upright line this tall: a table row's cell border, 9 pt
# on an unsigned row of seed 88506-01 (3-3-2), read as a signature where the file's row sat a
# little off the blank's. A pasted picture's strokes are antialiased, never that straight.
CELL_RULE_PT = 8.0
NEXT_LINE_PT = 16.0  # the blank's line after a signature place starts within this below it
MIN_SHINGLE_SHARE = 0.2
SEAL_PRINT = "印㊞"  # the form's own print in a seal place, never a typed name
SPLIT_NOTE = "この署名・押印欄の行が頁の境目で分かれています（記入で行が送られたため）。原本の両頁で確認してください"


@dataclass(slots=True)
class DocumentReading:
    """What a reflowed form file gave: per layout page, the page it mainly went to and its readings."""

    readings: dict[int, tuple[PageRef, PageReading]] = field(default_factory=dict)
    images: dict[int, tuple[PageRef, NDArray[np.uint8]]] = field(default_factory=dict)
    form_page_indices: set[int] = field(default_factory=set)  # the file's pages that are the form's


@lru_cache(maxsize=4)
def _blank_stream(blank_pdf: str, numbers: tuple[int, ...]) -> tuple[tuple[Placed, ...], frozenset[str]]:
    pages = [(n, list(blank_page(blank_pdf, n, DIGITAL_DPI)[1])) for n in numbers]
    stream = placed_stream(pages)
    text = "".join("".join(p.char.text for p in stream).split())
    return stream, frozenset(text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1))


def could_be_form(texts: list[str], shingles: frozenset[str]) -> bool:
    """Cheap test before aligning (page text only, no glyph boxes): does any page print much of the blank's text?"""
    for raw in texts:
        text = "".join(raw.split())
        grams = [text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)]
        if len(grams) >= 20 and sum(g in shingles for g in grams) >= MIN_SHINGLE_SHARE * len(grams):
            return True
    return False


def read_reflowed(pages: list[Page], form: FormDef) -> DocumentReading | None:
    """The form pages of a born-digital file read by where their print went; None when the file is not reflowed.

    None also when the file is not the form at all, or prints the blank where the blank has it:
    the caller then reads it page by page as before.
    """
    numbers = tuple(p.number for p in form.pages)
    blank_stream, shingles = _blank_stream(form.blank_pdf, numbers)
    if not could_be_form([p.text() for p in pages], shingles):
        return None
    chars = [p.chars() for p in pages]
    al = align(blank_stream, placed_stream(list(enumerate(chars))))
    found = al.form_pages(len(pages))
    if not found or al.in_place():
        return None
    doc = DocumentReading(form_page_indices=set(found) | al.tail_pages(len(pages), found))
    images: dict[int, NDArray[np.uint8]] = {}
    for layout in form.pages:
        main = _main_page(al, layout.number)
        if main is None:
            continue  # not in the file: the run reports the page missing
        reading = _read_layout_page(layout, al, pages, chars, images, main, form.blank_pdf)
        doc.readings[layout.number] = (pages[main].ref, reading)
        doc.images[layout.number] = (pages[main].ref, _image(pages, main, layout, images))
    return doc


def _main_page(al: Alignment, number: int) -> int | None:
    """The file page holding most of blank page `number`'s print, if enough of it was found."""
    mine = np.flatnonzero(al.blank_geo[:, 0] == number)
    partners = al.doc_of_blank[mine]
    hit = partners[partners >= 0]
    if len(mine) == 0 or len(hit) < PAGE_FOUND_SHARE * len(mine):
        return None
    return int(np.argmax(np.bincount(al.doc_geo[hit, 0].astype(np.int64))))


def _image(pages: list[Page], index: int, layout: PageLayout, cache: dict[int, NDArray[np.uint8]]) -> NDArray[np.uint8]:
    if index not in cache:
        cache[index] = page_gray(pages[index], layout_blank_shape(layout))
    return cache[index]


def layout_blank_shape(layout: PageLayout) -> tuple[int, int]:
    scale = DIGITAL_DPI / 72.0
    return round(layout.height_pt * scale), round(layout.width_pt * scale)


def _read_layout_page(
    layout: PageLayout,
    al: Alignment,
    pages: list[Page],
    chars: list[list[Char]],
    images: dict[int, NDArray[np.uint8]],
    main: int,
    blank_pdf: str,
) -> PageReading:
    groups: dict[tuple[int, float, float, float], list[BoxLayout | FieldLayout]] = defaultdict(list)
    marks: list[MarkReading] = []
    fields: list[FieldReading] = []
    entries: list[BoxLayout | FieldLayout] = [*layout.boxes, *layout.fields]
    for entry in entries:
        shift = shift_of(al, layout.number, _signed_line(layout, entry).bbox)
        if shift is None:
            lost_mark, lost_field = _unplaced(entry, pages[main].ref)
            marks += lost_mark
            fields += lost_field
            continue
        if isinstance(entry, FieldLayout):
            shift = replace(shift, grow=growth_below(al, layout.number, entry.bbox, shift))
        groups[_key(shift)].append(entry)
    crops: dict[str, NDArray[np.uint8]] = {}
    blank_image, blank_chars = blank_page(blank_pdf, layout.number, DIGITAL_DPI)
    for (index, dx, dy, grow), entries in sorted(groups.items()):
        image = _image(pages, index, layout, images)
        sub = replace(
            layout,
            boxes=tuple(replace(e, bbox=_moved(e.bbox, dx, dy)) for e in entries if isinstance(e, BoxLayout)),
            fields=tuple(replace(e, bbox=pasted_room(_moved(e.bbox, dx, dy), grow, e.kind)) for e in entries if isinstance(e, FieldLayout)),
        )
        moved_blank = _shift_image(blank_image, dx, dy)
        moved_chars = [_moved_char(c, dx, dy) for c in blank_chars]
        witness = (_rules_removed(_print_removed(image, _print_on(al, index))), _print_removed(moved_blank, moved_chars, spread=True))
        got = read_page(sub, pages[index].ref, chars[index], image, moved_blank, None, moved_chars, DIGITAL_DPI, witness)
        marks += got.marks
        originals = {e.name: e for e in entries if isinstance(e, FieldLayout)}
        pictures = (_rules_removed(_print_removed(image, chars[index]), CELL_RULE_PT), witness[1])
        fields += [_pasted(al, layout.number, index, originals[f.name], f, pictures, _signed_line(layout, originals[f.name])) if f.kind in ("signature", "seal") else _typed_value(al, layout.number, originals[f.name], f) for f in got.fields]
        crops.update(got.crops)
    return PageReading(tuple(marks), tuple(fields), crops)


def _typed_value(al: Alignment, number: int, fld: FieldLayout, reading: FieldReading) -> FieldReading:
    """A typed field's value from the text stream (read_page's reading kept when the stream cannot tell, or for ink)."""
    if fld.kind in ("signature", "seal") or reading.status == "handwritten":
        return reading
    typed = typed_in(al, number, fld.bbox)
    if typed is None:
        return reading
    value = text_of(typed) or None
    if value is None:
        return replace(reading, value=None, status="empty", confidence=None, note=None)
    box = reading.bbox if reading.bbox is not None else typed[0].bbox
    for c in typed:  # a value wrapped onto the next line is shown whole
        box = (min(box[0], c.bbox[0]), min(box[1], c.bbox[1]), max(box[2], c.bbox[2]), max(box[3], c.bbox[3]))
    return fit_pattern(replace(reading, value=value, status="read", confidence=1.0, note=None, bbox=box), fld)


def _pasted(al: Alignment, number: int, index: int, fld: FieldLayout, reading: FieldReading, pictures: tuple[NDArray[np.uint8], NDArray[np.uint8]], signed_line: BoxLayout | FieldLayout) -> FieldReading:
    """A signature or seal place's reading from what was pasted there: a picture's ink, every character of the file left out; typed there (the text stream between its label and what follows), uncertain.

    Word moves 「印」 left into the signature place when the pasted signature is narrower than
    the blank's spaces, and a place grown to a pasted picture's height reaches the line above:
    their characters read as a typed name (seed 88500-05: 19 signatures uncertain), and a
    value typed on the line above counted as a seal's ink (88500-05 2-1-4: no seal, read
    present). None of them is typed between the place's label and its 印.
    """
    if reading.bbox is None:
        return reading
    typed = typed_in(al, number, fld.bbox)
    if typed is None:  # its label or what follows not found: what the file adds inside the place
        typed = [al.doc[j].char for j in np.flatnonzero(al.blank_of_doc < 0) if al.doc[j].page == index and chars_in([al.doc[j].char], reading.bbox)]
    text = "".join(c.text for c in typed if c.text not in SEAL_PRINT and not c.text.isspace())
    if text:
        return replace(reading, value=text_of(typed).strip(), status="uncertain")
    share = ink_share(pictures[0], pictures[1], reading.bbox, DIGITAL_DPI)
    bottom = signed_line.bbox[3]
    if share < INK_FIELD_PRESENT and _split(al, number, index, (bottom + 2.0, bottom + NEXT_LINE_PT)):
        return replace(reading, value=None, status="uncertain", note=SPLIT_NOTE, confidence=round(share, 4))  # how far its row grew is not known
    return replace(reading, value=None, status="handwritten" if share >= INK_FIELD_PRESENT else "empty", confidence=round(share, 4))


def _signed_line(layout: PageLayout, entry: BoxLayout | FieldLayout) -> BoxLayout | FieldLayout:
    """The element whose print places `entry`: a seal place's signature place (its 40 pt place reaches the next line, which Word may put on the next page: seed 88506-01 5-1-3's seal was read there, empty); else itself."""
    if isinstance(entry, FieldLayout) and entry.kind == "seal":
        return next((f for f in layout.fields if f.kind == "signature" and f.owner == entry.owner and min(f.bbox[3], entry.bbox[3]) > max(f.bbox[1], entry.bbox[1])), entry)
    return entry


def _split(al: Alignment, number: int, index: int, rows: tuple[float, float]) -> bool:
    """Whether the blank's print on rows (points) of layout page `number` went to another file page than `index`, where a place is read.

    Just below an empty signature place (a seal's: its signature's): its row's end, how far a
    picture grew it, is then on another page (seed 88506-01 5-1-3: a row grown around a
    signature at a page's end, the line after it on the next page; the place, not grown, read
    empty at the row's top).
    """
    geo = al.blank_geo
    mine = np.flatnonzero((geo[:, 0] == number) & (geo[:, 2] >= rows[0]) & (geo[:, 2] <= rows[1]))
    partners = al.doc_of_blank[mine]
    return any(al.doc[int(j)].page != index for j in partners[partners >= 0])


def _key(shift: Shift) -> tuple[int, float, float, float]:
    step = SHIFT_STEP_PT
    return shift.page, round(shift.dx / step) * step, round(shift.dy / step) * step, round(shift.grow / step) * step


def _print_on(al: Alignment, index: int) -> list[Char]:
    """The blank's print as the file shows it on page `index` (where it went), box glyphs left out."""
    found = al.blank_of_doc >= 0
    return [p.char for j, p in enumerate(al.doc) if p.page == index and found[j] and p.char.text not in BOX_GLYPHS]


def _print_removed(image: NDArray[np.uint8], chars: list[Char], spread: bool = False) -> NDArray[np.uint8]:
    """The image with the form's printed characters painted out, so that only a field's own ink is left to measure.

    `spread`: the blank's remaining lines (rules, underlines, frames) are widened by a pixel and
    made black, so that a line of the file half a pixel off its shifted blank does not count as ink.
    """
    out = image.copy()
    scale = DIGITAL_DPI / 72.0
    h, w = out.shape[:2]
    for c in chars:
        if c.text in BOX_GLYPHS:
            continue
        x0, y0 = max(0, int(c.bbox[0] * scale) - 1), max(0, int(c.bbox[1] * scale) - 1)
        x1, y1 = min(w, int(c.bbox[2] * scale) + 2), min(h, int(c.bbox[3] * scale) + 2)
        out[y0:y1, x0:x1] = 255
    if spread:
        import cv2

        out = np.asarray(cv2.erode(out, np.ones((3, 3), np.uint8)), np.uint8)
        out[out < 200] = 0  # a line drawn grey across two pixel rows on one rendering is black on one row on the other
    return out


def _rules_removed(image: NDArray[np.uint8], upright_pt: float = RULE_MIN_PT) -> NDArray[np.uint8]:
    """The file's own straight lines painted out: Word draws an underline as long as what was typed on it.

    An empty URL line of a Word filling ends where the applicant's underlined spaces end, not
    where the blank's underline did, and the difference read as handwriting (seed 87100-01). A
    file made in Word holds ink only as a pasted image (a seal, a signature), never as a ruled
    line RULE_MIN_PT long.
    """
    import cv2

    run = max(3, round(RULE_MIN_PT * DIGITAL_DPI / 72.0))
    up = max(3, round(upright_pt * DIGITAL_DPI / 72.0))
    dark = np.asarray(image < 160, np.uint8)
    lines = np.maximum(cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, run), np.uint8)), cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((up, 1), np.uint8)))
    out = image.copy()
    out[cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0] = 255
    return out


def _moved(box: BBox, dx: float, dy: float) -> BBox:
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def _moved_char(c: Char, dx: float, dy: float) -> Char:
    return Char(c.text, _moved(c.bbox, dx, dy), None if c.advance is None else _moved(c.advance, dx, dy))


def _shift_image(image: NDArray[np.uint8], dx: float, dy: float) -> NDArray[np.uint8]:
    """The blank page image moved by (dx, dy) points, white where nothing was."""
    scale = DIGITAL_DPI / 72.0
    sx, sy = int(round(dx * scale)), int(round(dy * scale))
    h, w = image.shape[:2]
    out = np.full_like(image, 255)
    src = image[max(0, -sy) : h - max(0, sy), max(0, -sx) : w - max(0, sx)]
    out[max(0, sy) : max(0, sy) + src.shape[0], max(0, sx) : max(0, sx) + src.shape[1]] = src
    return out


def _unplaced(entry: BoxLayout | FieldLayout, ref: PageRef) -> tuple[list[MarkReading], list[FieldReading]]:
    if isinstance(entry, BoxLayout):
        return [MarkReading(entry.owner, entry.option, "uncertain", None, ref, entry.bbox, "text_layer", UNPLACED_BOX)], []
    return [], [FieldReading(entry.name, entry.owner, entry.kind, None, "not_located", None, ref, entry.bbox)]
