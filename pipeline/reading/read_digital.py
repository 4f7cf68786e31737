"""A born-digital or AcroForm form page + its layout → MarkReadings and FieldReadings.

Two witnesses are asked about every box: the text layer (a □ replaced by ■ ☑ ✓ …, or an
AcroForm value) and the drawn page (ink inside the box beyond what the blank prints). When
they disagree, the box is `uncertain` with the reason, never one of them trusted silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BBox, FieldLayout, FieldReading, MarkReading, MarkState, PageLayout, PageRef
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


def combine(said: MarkState | None, drawn: MarkState, witness: str) -> tuple[MarkState, str | None]:
    """The box's state from the text layer (or AcroForm) and the drawn page."""
    if said is None or said == drawn:
        return drawn, None if drawn != "uncertain" else "faint ink in the box"
    if said == "empty" and drawn == "checked":
        return "checked", f"{witness} shows an empty box with a mark drawn over it"
    if said == "checked" and drawn == "uncertain":
        # A thin ✓ or ○ glyph in a wide bracket darkens little of it; some ink is what it predicts.
        return "checked", None
    if drawn == "uncertain":
        return "uncertain", f"{witness} says {said}, the drawn page shows faint ink"
    return "uncertain", f"{witness} says {said} but the drawn page shows {drawn}"


def read_page(
    layout: PageLayout,
    ref: PageRef,
    chars: list[Char],
    image: NDArray[np.uint8],
    blank: NDArray[np.uint8],
    acro: Mapping[str, str | bool] | None,
    blank_chars: list[Char] = (),  # type: ignore[assignment]
    dpi: int = DIGITAL_DPI,
) -> PageReading:
    """Read every box and field of one identified form page.

    `image` and `blank` are grey renderings of the submitted page and of the blank form page
    at `dpi`, same size. `acro` holds AcroForm values by field name (`<owner>.<option>` for
    boxes, the layout field name for text), or None for a plain text-layer page.
    """
    chars = added_chars(chars, blank_chars)
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
            state, note = combine(_glyph_state(chars, box.bbox), drawn, "the text layer")
        marks.append(MarkReading(box.owner, box.option, state, delta, ref, box.bbox, source, note))  # type: ignore[arg-type]
        if state == "uncertain":
            crops[name] = crop(image, box.bbox, dpi, pad_pt=30)
    fields = []
    for fld in layout.fields:
        reading, picture = _read_field(fld, ref, chars, image, blank, acro, dpi)
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
        return "uncertain", "the AcroForm value is off but the page shows a mark in the box"
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
) -> tuple[FieldReading, NDArray[np.uint8] | None]:
    if fld.kind in ("signature", "seal"):
        share = ink_share(image, blank, fld.bbox, dpi)
        typed = text_of(chars_in(chars, fld.bbox))
        picture = crop(image, fld.bbox, dpi)
        if typed and fld.kind == "signature":
            # A typed name where the form asks for 肉筆: a reviewer decides whether it counts.
            return FieldReading(fld.name, fld.owner, fld.kind, typed, "uncertain", share, ref, fld.bbox), picture
        status = "handwritten" if share >= INK_FIELD_PRESENT else "empty"
        return FieldReading(fld.name, fld.owner, fld.kind, None, status, share, ref, fld.bbox), picture  # type: ignore[arg-type]
    value = None
    if acro is not None and fld.name in acro and not isinstance(acro[fld.name], bool):
        value = str(acro[fld.name]).strip() or None
    if value is None:
        value = text_of(chars_in(chars, fld.bbox, pad_pt=1.0)) or None
    if value is None and ink_share(image, blank, fld.bbox, dpi) >= INK_FIELD_PRESENT * 2:
        # Ink but no text: written by hand on a printed copy, or pasted as a picture.
        return FieldReading(fld.name, fld.owner, fld.kind, None, "handwritten", None, ref, fld.bbox), crop(image, fld.bbox, dpi)
    return FieldReading(fld.name, fld.owner, fld.kind, value, "read" if value else "empty", 1.0 if value else None, ref, fld.bbox), None
