"""Signature and seal places of a registered scan: is something signed or stamped there.

- Signature places: ink beyond what the blank prints → handwritten / empty / uncertain; the
  crop is kept for the dossier whatever the state. Read empty with writing just above or below
  (typing moved the line), uncertain.
- Seals (印): on colour scans, the share of red in the place; on grey and black-and-white
  scans (and as a second witness on colour), ink beyond the blank's printed (印) that spans a
  seal's size in both directions. Read empty with a stamp-sized mark beside it, uncertain.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import pt_per_px
from pipeline.model.records import BBox, FieldLayout, FieldReading, PageRef
from pipeline.model.words import STRAY_SEAL_NOTE, STRAY_SIGNATURE_NOTE
from pipeline.reading.field_ink import ink_share, red_share, stray_band, stray_writing
from pipeline.reading.marks import InkView, refine
from pipeline.reading.settings import FIELDS, MARKS, FieldDefaults

# A seal place's height in our printing (40 x 40 pt around 印). Other printings squeeze it
# between lines (seed 87200-03: 24 pt; a stamp's measured height 15 pt, under seal_min_extent_pt).
SEAL_PLACE_PT = 40.0


@dataclass(frozen=True, slots=True)
class FieldMeasure:
    ink: float  # share of the place's pixels inked beyond the blank
    red: float | None  # share of red pixels (seal places on colour scans)
    extent_pt: tuple[float, float] | None  # inked width, height (seal places)
    ocr: tuple[float, float, float] | None = None  # line confidence, mean and least character confidence
    line: NDArray[np.uint8] | None = field(default=None, repr=False, compare=False)  # the line read, for the second reader


def _extent_pt(extra: NDArray[np.float32], dpi: float, level: float) -> tuple[float, float]:
    """Width and height (points) spanned by the ink, ignoring the outer 2 % on each side (specks)."""
    ys, xs = np.nonzero(extra > level)
    if len(xs) < 4:
        return 0.0, 0.0
    k = pt_per_px(dpi)
    return (float(np.percentile(xs, 98) - np.percentile(xs, 2)) * k, float(np.percentile(ys, 98) - np.percentile(ys, 2)) * k)


def _presence(value: float, present: float, empty: float) -> str:
    return "handwritten" if value >= present else "empty" if value <= empty else "uncertain"


def read_signature(
    view: InkView, fld: FieldLayout, ref: PageRef, cfg: FieldDefaults = FIELDS, others: list[BBox] | None = None
) -> tuple[FieldReading, FieldMeasure]:
    """Whether the place holds a signature; read empty with writing just above or below it (outside `others`, the page's other places), uncertain."""
    # 1 pt inside the frame: the printed box outline never counts, and neither does a seal
    # stamped just across its right side (a seal ring is ~1 mm of ink).
    inner = (fld.bbox[0] + 1.5, fld.bbox[1] + 1.5, fld.bbox[2] - 1.5, fld.bbox[3] - 1.5)
    shift = refine(view, fld.bbox, MARKS)
    share, _ = ink_share(view, inner, cfg, shift=shift)
    status = _presence(share, cfg.signature_present, cfg.signature_empty)
    reading = FieldReading(fld.name, fld.owner, fld.kind, None, status, round(share, 4), ref, fld.bbox)  # type: ignore[arg-type]
    if status == "empty" and others is not None and stray_writing(view, fld, cfg, shift, others):
        reading = replace(reading, status="uncertain", note=STRAY_SIGNATURE_NOTE)
    return reading, FieldMeasure(share, None, None)


def read_seal(
    view: InkView, rgb: NDArray[np.uint8] | None, fld: FieldLayout, ref: PageRef, cfg: FieldDefaults = FIELDS, rgb_dpi: float = 0.0,
    others: list[BBox] | None = None,
) -> tuple[FieldReading, FieldMeasure]:
    """Whether the place holds a stamp; read empty with a stamp-sized mark beside it (outside `others`, the page's other places), uncertain."""
    shift = refine(view, fld.bbox, MARKS)
    share, extra = ink_share(view, fld.bbox, cfg, shift=shift)
    red = red_share(rgb, rgb_dpi, fld.bbox, cfg, 0.0)
    short = SEAL_PLACE_PT - (fld.bbox[3] - fld.bbox[1])
    if short > 0:  # a place squeezed between text lines clips the stamp: its extent is measured on a full-height place
        extra = ink_share(view, (fld.bbox[0], fld.bbox[1] - short / 2, fld.bbox[2], fld.bbox[3] + short / 2), cfg, shift=shift)[1]
    ext = _extent_pt(extra, view.dpi, cfg.field_ink)
    big = min(ext) >= cfg.seal_min_extent_pt
    if red is not None and red >= cfg.red_present:
        status, conf = "handwritten", red
    elif share >= cfg.seal_present and big:
        status, conf = "handwritten", share
    elif share <= cfg.seal_empty and (red is None or red <= cfg.red_empty):
        status, conf = "empty", share
    else:
        status, conf = "uncertain", share
    reading = FieldReading(fld.name, fld.owner, fld.kind, None, status, round(conf, 4), ref, fld.bbox)  # type: ignore[arg-type]
    if status == "empty" and others is not None and stray_writing(view, fld, cfg, shift, others, sideways=True):
        reading = replace(reading, status="uncertain", note=STRAY_SEAL_NOTE)  # Word printings: a seal pasted right of and above 印
    return reading, FieldMeasure(share, red, ext)


def around(fld: FieldLayout, reading: FieldReading, cfg: FieldDefaults = FIELDS) -> FieldLayout:
    """The place to crop for the reviewer: with the band searched around it when the writing or stamp was found there, else the place."""
    if reading.note not in (STRAY_SIGNATURE_NOTE, STRAY_SEAL_NOTE):
        return fld
    return replace(fld, bbox=stray_band(fld, cfg, sideways=reading.note == STRAY_SEAL_NOTE))
