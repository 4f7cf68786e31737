"""A born-digital or AcroForm form page + its layout → MarkReadings and FieldReadings.

Two witnesses are asked about every box: the text layer (a □ replaced by ■ ☑ ✓ …, or an
AcroForm value) and the drawn page (ink inside the box beyond what the blank prints). When
they disagree, the box is `uncertain` with the reason, never one of them trusted silently.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BBox, FieldLayout, FieldReading, MarkReading, MarkState, PageLayout, PageRef
from pipeline.reading.fields import fit_pattern
from pipeline.sources.textlayer import Char, chars_in, text_of

CHECKED_GLYPHS = set("■☑☒✓✔✗✘×☓●◉▣◼⬛レ")
EMPTY_GLYPHS = set("□☐◻⬜")
RING_GLYPHS = set("○〇◯")

# Ink above the blank, as mean darkness 0..1 over the inner box. Measured on our printing at
# 100 dpi: an empty box differs from the blank by < 0.01, a ■ by ~0.9, a ✓ glyph by 0.15-0.3,
# a drawn 1 pt tick by ~0.12. Between the two bounds a box is uncertain.
INK_CHECKED = 0.07
INK_EMPTY = 0.025
# A signature or seal place holds ink when this share of its area darkened beyond the blank.
INK_FIELD_PRESENT = 0.004
DIGITAL_DPI = 100


@dataclass(frozen=True, slots=True)
class PageReading:
    marks: tuple[MarkReading, ...]
    fields: tuple[FieldReading, ...]
    crops: Mapping[str, NDArray[np.uint8]]  # field or box name → grey crop, for the dossier
    # The page as the reader saw it, grey, in the blank's frame at page_dpi (the dossier's
    # answer-sheet pages and crops are cut from it; None when the reader had no picture).
    page_image: NDArray[np.uint8] | None = None
    page_dpi: float = 0.0
    bilevel: bool = False  # a scan stored black-and-white: faint pencil may have been erased before anything could read it


def _px(box: BBox, dpi: int, shape: tuple[int, ...], shrink: float = 0.0) -> tuple[int, int, int, int]:
    scale = px_per_pt(dpi)
    dx, dy = (box[2] - box[0]) * shrink, (box[3] - box[1]) * shrink
    x0, y0 = int(round((box[0] + dx) * scale)), int(round((box[1] + dy) * scale))
    x1, y1 = int(round((box[2] - dx) * scale)), int(round((box[3] - dy) * scale))
    h, w = shape[:2]
    return max(0, x0), max(0, y0), min(w, max(x1, x0 + 1)), min(h, max(y1, y0 + 1))


def ink_delta(page: NDArray[np.uint8], blank: NDArray[np.uint8], box: BBox, dpi: int, shrink: float = 0.18) -> float:
    """Mean extra darkness (0..1) of the page over the blank inside `box` (shrunk to skip the frame)."""
    x0, y0, x1, y1 = _px(box, dpi, page.shape, shrink)
    a = page[y0:y1, x0:x1].astype(np.float32)
    b = blank[y0:y1, x0:x1].astype(np.float32)
    if a.size == 0 or a.shape != b.shape:
        return 0.0
    return float(np.clip((b - a) / 255.0, 0.0, 1.0).mean())


def ink_share(page: NDArray[np.uint8], blank: NDArray[np.uint8], box: BBox, dpi: int) -> float:
    """Share of pixels in `box` clearly darker on the page than on the blank."""
    x0, y0, x1, y1 = _px(box, dpi, page.shape)
    a = page[y0:y1, x0:x1].astype(np.int16)
    b = blank[y0:y1, x0:x1].astype(np.int16)
    if a.size == 0 or a.shape != b.shape:
        return 0.0
    return float(((b - a) > 80).mean())


def crop(page: NDArray[np.uint8], box: BBox, dpi: int, pad_pt: float = 4.0) -> NDArray[np.uint8]:
    grown = (box[0] - pad_pt, box[1] - pad_pt, box[2] + pad_pt, box[3] + pad_pt)
    x0, y0, x1, y1 = _px(grown, dpi, page.shape)
    return page[y0:y1, x0:x1].copy()


def _glyph_state(chars: list[Char], box: BBox) -> MarkState | None:
    inside = chars_in(chars, box, pad_pt=2.5)
    glyphs = {c.text for c in inside}
    if glyphs & CHECKED_GLYPHS or glyphs & RING_GLYPHS:
        return "checked"
    if glyphs & EMPTY_GLYPHS:
        return "empty"
    return None


def _ink_state(delta: float) -> MarkState:
    if delta >= INK_CHECKED:
        return "checked"
    if delta <= INK_EMPTY:
        return "empty"
    return "uncertain"


# A box's state as the reviewer reads it in a note.
STATE_WORDS: dict[str, str] = {"checked": "チェックあり", "empty": "空欄", "uncertain": "判別できない状態"}


def combine(said: MarkState | None, drawn: MarkState, witness: str) -> tuple[MarkState, str | None]:
    """The box's state from the text layer (or AcroForm) and the drawn page."""
    if said is None or said == drawn:
        return drawn, None if drawn != "uncertain" else "枠の中に薄い記入があります"
    if said == "empty" and drawn == "checked":
        return "checked", f"{witness}では空欄ですが、枠の上に印が書き込まれています"
    if said == "checked" and drawn == "uncertain":
        # A thin ✓ or ○ glyph in a wide bracket darkens little of it; some ink is what it predicts.
        return "checked", None
    if drawn == "uncertain":
        return "uncertain", f"{witness}では{STATE_WORDS[said]}ですが、ページ上には薄い記入しか見えません"
    return "uncertain", f"{witness}では{STATE_WORDS[said]}ですが、ページ上は{STATE_WORDS[drawn]}に見えます"


def read_page(
    layout: PageLayout,
    ref: PageRef,
    chars: list[Char],
    image: NDArray[np.uint8],
    blank: NDArray[np.uint8],
    acro: Mapping[str, str | bool] | None,
    blank_chars: list[Char] = (),  # type: ignore[assignment]
    dpi: int = DIGITAL_DPI,
    field_witness: tuple[NDArray[np.uint8], NDArray[np.uint8]] | None = None,
) -> PageReading:
    """Read every box and field of one identified form page.

    `image` and `blank` are grey renderings of the submitted page and of the blank form page
    at `dpi`, same size. `acro` holds AcroForm values by field name (`<owner>.<option>` for
    boxes, the layout field name for text), or None for a plain text-layer page.
    `field_witness`: (page, blank) images in which the ink a field holds is measured instead
    of `image` and `blank` (a reflowed page: the form's print painted out of both).
    """
    on_page = chars
    chars = added_chars(chars, blank_chars)
    moved = added_chars(list(blank_chars), on_page)  # the blank's print not found at its place on this page
    marks: list[MarkReading] = []
    crops: dict[str, NDArray[np.uint8]] = {}
    source = "acroform" if acro is not None else "text_layer"
    for box in layout.boxes:
        name = f"{box.owner}.{box.option}"
        delta = ink_delta(image, blank, box.bbox, dpi)
        drawn = _ink_state(delta)
        if acro is not None and name in acro:
            said: MarkState = "checked" if _truthy(acro[name]) else "empty"
            state, note = _acro_combine(said, drawn)
        else:
            state, note = combine(_glyph_state(chars, box.bbox), drawn, "ファイルの文字情報")
        marks.append(MarkReading(box.owner, box.option, state, delta, ref, box.bbox, source, note))  # type: ignore[arg-type]
        if state == "uncertain":
            crops[name] = crop(image, box.bbox, dpi, pad_pt=30)
    fields = []
    for fld in layout.fields:
        reading, picture = _read_field(fld, ref, chars, image, blank, acro, dpi, on_page, field_witness)
        if acro is None and fld.kind not in ("signature", "seal") and print_moved(fld.bbox, list(blank_chars), moved):
            reading, picture = _displaced(reading), picture if picture is not None else crop(image, fld.bbox, dpi)
        fields.append(reading)
        if picture is not None:
            crops[fld.name] = picture
    return PageReading(tuple(marks), tuple(fields), crops)


def added_chars(chars: list[Char], blank_chars: list[Char], tol_pt: float = 1.5) -> list[Char]:
    """The page's characters that the blank form does not print at the same place."""
    cell = 2 * tol_pt
    printed: dict[tuple[str, int, int], list[Char]] = {}
    for c in blank_chars:
        printed.setdefault((c.text, int(c.bbox[0] // cell), int(c.bbox[1] // cell)), []).append(c)

    def on_blank(c: Char) -> bool:
        gx, gy = int(c.bbox[0] // cell), int(c.bbox[1] // cell)
        near = (b for dx in (-1, 0, 1) for dy in (-1, 0, 1) for b in printed.get((c.text, gx + dx, gy + dy), ()))
        return any(abs(b.bbox[0] - c.bbox[0]) <= tol_pt and abs(b.bbox[1] - c.bbox[1]) <= tol_pt for b in near)

    return [c for c in chars if not on_blank(c)]


def _acro_combine(said: MarkState, drawn: MarkState) -> tuple[MarkState, str | None]:
    # A reader draws the checkbox's appearance only if the PDF renderer was asked to; the
    # value is what the applicant set. Ink drawn on top of an unchecked box still counts.
    if said == "empty" and drawn == "checked":
        return "uncertain", "入力欄の値はチェックなしですが、ページ上の枠に記入があります"
    return said, None


def _truthy(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lstrip("/").lower() not in ("", "off", "no", "false", "0", "none")


def _read_field(
    fld: FieldLayout,
    ref: PageRef,
    chars: list[Char],
    image: NDArray[np.uint8],
    blank: NDArray[np.uint8],
    acro: Mapping[str, str | bool] | None,
    dpi: int,
    on_page: list[Char] = (),  # type: ignore[assignment]
    witness: tuple[NDArray[np.uint8], NDArray[np.uint8]] | None = None,
) -> tuple[FieldReading, NDArray[np.uint8] | None]:
    ink_page, ink_blank = witness if witness is not None else (image, blank)
    if fld.kind in ("signature", "seal"):
        share = ink_share(ink_page, ink_blank, fld.bbox, dpi)
        typed = text_of(chars_in(chars, fld.bbox))
        picture = crop(image, fld.bbox, dpi)
        if typed and fld.kind == "signature":
            # A typed name where the form asks for 肉筆: a reviewer decides whether it counts.
            return FieldReading(fld.name, fld.owner, fld.kind, typed, "uncertain", share, ref, fld.bbox), picture
        status = "handwritten" if share >= INK_FIELD_PRESENT else "empty"
        return FieldReading(fld.name, fld.owner, fld.kind, None, status, share, ref, fld.bbox), picture  # type: ignore[arg-type]
    value, note = acro_text(acro, fld.name), None
    if value is None:
        # No AcroForm value (or an empty one): what the page itself shows there is read instead —
        # a PDF reader may draw the applicant's text as page content and leave the field empty.
        value, note = typed_value(fld, chars, on_page)
    if value is None and ink_share(ink_page, ink_blank, fld.bbox, dpi) >= INK_FIELD_PRESENT * 2:
        # Ink but no text: written by hand on a printed copy, or pasted as a picture.
        return FieldReading(fld.name, fld.owner, fld.kind, None, "handwritten", None, ref, fld.bbox), crop(image, fld.bbox, dpi)
    if value is None:
        return FieldReading(fld.name, fld.owner, fld.kind, None, "empty", None, ref, fld.bbox), None
    reading = fit_pattern(
        FieldReading(fld.name, fld.owner, fld.kind, value, "uncertain" if note else "read", 1.0, ref, fld.bbox, note=note), fld
    )
    return reading, None if reading.status == "read" else crop(image, fld.bbox, dpi)


# Around a field (its band of the page, this far above and below), the blank's printed characters
# that must be found at their own place for the field's place to be trusted. Word fillings that
# reflow move the print below a long answer by a line or more. Measured: on the demo's three
# fillings none of the print near any of the 131 fields is missing; on a Word filling of another
# printing (seed 81300) 86 of 92 fields have 40-100 % of it missing, the rest 0-17 %.
BAND_PT = 24.0
MOVED_SHARE = 0.1
MOVED_NOTE = "この欄のまわりの印刷が様式の位置にありません（記入で行がずれた可能性）。原本で確認してください"


def print_moved(box: BBox, printed: list[Char], moved: list[Char]) -> bool:
    """Whether the print around a field is not where the blank has it: the page's text was reflowed there.

    `printed` are the blank's characters, `moved` those of them not found at their place on
    the page. Looks at the band of the page from BAND_PT above the field to BAND_PT below it.
    """
    y0, y1 = box[1] - BAND_PT, box[3] + BAND_PT

    def near(c: Char) -> bool:
        # the field's own print (年 月 日 typed over) and the boxes (□ typed as ■) change by design
        cx, cy = (c.bbox[0] + c.bbox[2]) / 2, (c.bbox[1] + c.bbox[3]) / 2
        inside = box[0] <= cx <= box[2] and box[1] <= cy <= box[3]
        return y0 <= cy <= y1 and not inside and c.text not in EMPTY_GLYPHS

    around = sum(1 for c in printed if near(c))
    return around >= 3 and sum(1 for c in moved if near(c)) >= MOVED_SHARE * around


def _displaced(reading: FieldReading) -> FieldReading:
    """A field whose place cannot be trusted: whatever it holds is for the reviewer to read."""
    return replace(reading, value=None, status="uncertain", confidence=None, note=MOVED_NOTE)  # no guess from a place known to be off


def acro_text(acro: Mapping[str, str | bool | None] | None, name: str) -> str | None:
    """The AcroForm text value of a field, None when there is none: absent, empty, white space or not text."""
    if acro is None:
        return None
    value = acro.get(name)
    if not isinstance(value, str) or isinstance(value, bool):
        return None  # None (no /V), a checkbox's True/False
    return unicodedata.normalize("NFC", value).strip() or None


def clip(chars: list[Char], box: BBox) -> tuple[list[Char], bool]:
    """The characters that are this field's, and whether typed text crosses the field's edge.

    A character is the field's when at least half of its glyph box lies inside `box`. Text
    that crosses the edge makes the reading doubtful: a character partly inside (a fifth to a
    half of it), or a character of the same line just past either end (within 1.5 font sizes of
    one inside) — the value ran on past the field, or a neighbouring field's value reaches in.
    """
    inside: list[Char] = []
    doubt = False
    outside: list[Char] = []
    for c in chars:
        share = _share_inside(c.bbox, box)
        if share >= 0.5:
            inside.append(c)
        elif share >= 0.2:
            doubt = True
        elif share == 0.0:
            outside.append(c)
    for c in outside:
        if doubt:
            break
        cb = c.advance or c.bbox  # advance boxes span the font's height: a flat 'ー' is on its line too
        for k in inside:
            kb = k.advance or k.bbox
            em = max(kb[3] - kb[1], cb[3] - cb[1], 1.0)
            same_line = min(kb[3], cb[3]) - max(kb[1], cb[1]) > 0.5 * em
            gap = max(cb[0] - kb[2], kb[0] - cb[2])
            if same_line and gap < 1.5 * em and (c.bbox[0] >= box[2] or c.bbox[2] <= box[0]):
                doubt = True
                break
    return inside, doubt


def _share_inside(b: BBox, box: BBox) -> float:
    w, h = max(b[2] - b[0], 0.01), max(b[3] - b[1], 0.01)
    ix = max(0.0, min(b[2], box[2]) - max(b[0], box[0]))
    iy = max(0.0, min(b[3], box[3]) - max(b[1], box[1]))
    return min(1.0, ix * iy / (w * h)) if b[2] > b[0] and b[3] > b[1] else float(box[0] <= b[0] <= box[2] and box[1] <= b[1] <= box[3])


def typed_value(fld: FieldLayout, added: list[Char], on_page: list[Char]) -> tuple[str | None, str | None]:
    """(the text typed into a field's place on the page, why it is doubtful or None); (None, None) when nothing is typed there.

    `added` are the page's characters the blank does not print at the same place, `on_page`
    all of the page's. A date is written around the 年 月 日 the form prints inside its place
    (or typed over them, moving them), so once something is typed there its value is every
    character of the page in the place, in reading order.
    """
    mine, doubt = clip(added, fld.bbox)
    if not mine:
        return None, None
    if fld.kind == "date":
        mine = clip(on_page, fld.bbox)[0]
    text = text_of(mine)
    return (text or None), ("記入が欄の外にはみ出しているか、隣の欄の文字が掛かっています" if doubt and text else None)
