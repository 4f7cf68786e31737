"""How much of a field's place is inked beyond the blank: the share, red seal ink, faint strokes.

Measured on the work image aligned to the blank (marks.InkView); the readers in fields.py
decide from these what a field holds.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import pt_per_px, px_per_pt
from pipeline.model.records import BBox, FieldLayout
from pipeline.reading.marks import InkView, extra_ink
from pipeline.reading.settings import MARKS, FieldDefaults


def ink_share(
    view: InkView, box: tuple[float, float, float, float], cfg: FieldDefaults, grow_pt: float = 0.0, floor: float = MARKS.noise_floor,
    shift: tuple[int, int] = (0, 0),
) -> tuple[float, NDArray[np.float32]]:
    """Share of the place's pixels darker than the blank by more than cfg.field_ink (a printed line's one-pixel residue left out), and the extra-ink map.

    `shift` (px) is where the scan's print sits against the blank's here (marks.refine).
    """
    x0, y0, x1, y1 = view.px(box, grow_pt)
    extra = extra_ink(view, x0, y0, x1, y1, shift[0], shift[1], floor, wide=True)  # a blurred underline spreads ±2 px
    if not extra.size:
        return 0.0, extra
    inked = (extra > cfg.field_ink).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inked, connectivity=8)
    residue = (stats[:, cv2.CC_STAT_HEIGHT] <= 1) & (stats[:, cv2.CC_STAT_WIDTH] >= cfg.line_residue_px)
    residue[0] = True  # the background
    return float((~residue[labels]).mean()), extra


def red_share(rgb: NDArray[np.uint8] | None, rgb_dpi: float, box: tuple[float, float, float, float], cfg: FieldDefaults, grow_pt: float) -> float | None:
    """Share of red (seal ink) pixels in the place, on the colour scan aligned to the blank at rgb_dpi; None for grey scans."""
    if rgb is None:
        return None
    k = px_per_pt(rgb_dpi)
    h, w = rgb.shape[:2]
    x0, y0 = max(0, int((box[0] - grow_pt) * k)), max(0, int((box[1] - grow_pt) * k))
    x1, y1 = min(w, int(np.ceil((box[2] + grow_pt) * k))), min(h, int(np.ceil((box[3] + grow_pt) * k)))
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    hue = hsv[:, :, 0].astype(np.int16) * 2  # OpenCV keeps hue / 2
    near_red = (hue <= cfg.red_hue_deg) | (hue >= 360 - cfg.red_hue_deg)
    r, g = rgb[y0:y1, x0:x1, 0].astype(np.int16), rgb[y0:y1, x0:x1, 1].astype(np.int16)
    red = near_red & (hsv[:, :, 1] >= cfg.red_min_sat * 255) & (hsv[:, :, 2] >= 60) & (r - g >= cfg.red_min_excess)
    return float(red.mean()) if red.size else 0.0


def faint_writing(view: InkView, fld: FieldLayout, cfg: FieldDefaults, shift: tuple[int, int]) -> bool:
    """Whether a field too lightly inked to count as written still holds strokes: faint ink at least faint_stroke_pt tall.

    Writing that starts right after the label, left of the underline, crosses into the field
    only by its last strokes (a FAX number on seed 87200-00: one stroke 9 px tall, 0.07 % of the
    field); read empty it would be lost silently. A scan's noise along a printed line is one
    pixel tall and does not count.
    """
    extra = ink_share(view, fld.bbox, cfg, shift=shift)[1]
    n, _, stats, _ = cv2.connectedComponentsWithStats((extra > cfg.faint_ink).astype(np.uint8), connectivity=8)
    k = pt_per_px(view.dpi)
    strokes = [int(stats[i, cv2.CC_STAT_AREA]) for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] * k >= cfg.faint_stroke_pt]
    return sum(strokes) * k * k >= cfg.faint_min_pt2


def stray_band(fld: FieldLayout, cfg: FieldDefaults, sideways: bool, left_pt: float = 0.0) -> BBox:
    """Where stray_writing looks: the place grown by stray_grow of its height (at least stray_min_grow_pt) above and below (`sideways`: of its width beside it too; `left_pt`: this far left of it)."""
    grow = max((fld.bbox[3] - fld.bbox[1]) * cfg.stray_grow, cfg.stray_min_grow_pt)
    wide = (fld.bbox[2] - fld.bbox[0]) * cfg.stray_grow if sideways else 0.0  # a seal pasted beside its 印
    return (max(0.0, fld.bbox[0] - max(wide, left_pt)), max(0.0, fld.bbox[1] - grow), fld.bbox[2] + wide, fld.bbox[3] + grow)


def stray_writing(
    view: InkView, fld: FieldLayout, cfg: FieldDefaults, shift: tuple[int, int], others: list[BBox], sideways: bool = False, left_pt: float = 0.0
) -> bool:
    """Whether writing the blank does not have lies just above or below the place (`sideways`: or beside it; `left_pt`: or this far left of it), outside the page's other places.

    A signature place read empty while the name was written a line lower (typing moved the
    line) or higher would be lost silently; moved print there counts too, which is right: the
    place itself is then not where the page has it.
    """
    band = stray_band(fld, cfg, sideways, left_pt)
    extra = ink_share(view, band, cfg, shift=shift)[1]
    if extra.size == 0:
        return False
    ink = (extra > cfg.faint_ink).astype(np.uint8)
    bx0, by0, bx1, by1 = view.px(band, 0.0)
    if left_pt > 0:  # over a label, the print's edges left by a registration a few px off are not writing
        r = 2 * cfg.stray_off_print_px + 1
        printed = cv2.dilate((view.blank_dark[by0:by1, bx0:bx1] > cfg.faint_ink).astype(np.uint8), np.ones((r, r), np.uint8))
        ink[printed[: ink.shape[0], : ink.shape[1]] > 0] = 0
    for box in others:  # the other places' own writing is theirs
        x0, y0, x1, y1 = view.px(box, 0.0)
        ink[max(0, y0 - by0) : max(0, y1 - by0), max(0, x0 - bx0) : max(0, x1 - bx0)] = 0
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    k = pt_per_px(view.dpi)
    strokes = [int(stats[i, cv2.CC_STAT_AREA]) for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] * k >= cfg.stray_stroke_pt]
    return sum(strokes) * k * k >= cfg.stray_min_pt2
