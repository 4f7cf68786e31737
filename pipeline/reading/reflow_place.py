"""Where a signature or seal place went when Word grew its table row, and places that reach into a line not theirs (reflow.py's placements).

A Word printing puts 「担当者署名（肉筆）押印: … 印」 in a one-row table. Pasting a signature or
seal image there grows the row: its label stays at the row's top, 印 and the image sit at
its grown bottom, and the label line's own offset is not known from the lines around it
(merged with the image into one tall band, paired with a piece of it, or its neighbours
moved apart). The row is found by its rules instead: on the blank, the rules just above and
below the place, as wide as each other; on the scan, a rule as wide between where the lines
above and below put it, with the label under it (the label matches there 0.62-0.9, under a
bottom rule 0.05-0.36), and the first rule as wide below it (the grown bottom).

Pixels at work dpi in the frame (the blank page's size), origin top left.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BBox
from pipeline.reading.references import as_f32
from pipeline.reading.reflow_settings import REFLOW, ReflowDefaults


@dataclass(frozen=True, slots=True)
class Row:
    """A table row of the blank holding a place: its top and bottom rules (rows px) and their extent (columns px)."""

    top: int
    bottom: int
    x0: int
    x1: int


def rule_rows(dark: NDArray[np.float32], y0: int, y1: int, x0: int, x1: int, cfg: ReflowDefaults = REFLOW) -> list[int]:
    """The rows between y0 and y1 where a rule crosses columns x0..x1: ink (±1 row) over rule_cover of them; the middle row of each run."""
    h, w = dark.shape
    y0, y1, x0, x1 = max(1, y0), min(h - 1, y1), max(0, x0), min(w, x1)
    if y1 <= y0 or x1 - x0 < cfg.rule_px:
        return []
    ink = dark[y0 - 1 : y1 + 1, x0:x1] > cfg.rule_ink
    near = ink[:-2] | ink[1:-1] | ink[2:]  # row y and its neighbours
    hits = np.flatnonzero(near.mean(axis=1) >= cfg.rule_cover) + y0
    runs: list[list[int]] = []
    for y in hits.tolist():
        if runs and y - runs[-1][-1] <= 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return [(r[0] + r[-1]) // 2 for r in runs]


def _extent(ink: NDArray[np.bool_], x0: int, x1: int) -> tuple[int, int]:
    """The columns a rule (one row's ink) runs over, from x0..x1 outwards."""
    gaps = np.flatnonzero(~ink)
    left = gaps[gaps < x0]
    right = gaps[gaps >= x1]
    return (int(left[-1]) + 1 if len(left) else 0), (int(right[0]) if len(right) else len(ink))


def table_row(dark: NDArray[np.float32], box: tuple[int, int, int, int], cfg: ReflowDefaults = REFLOW) -> Row | None:
    """The blank's table row around a place (box px): the nearest rule within row_reach_px above its top and the first below it running alike (±4 px); None when there is none.

    Rows of the blank one at a time (a clean print): an underline just above the row (the
    「氏名」 line's, 3 px above it in printing p1) is another rule, not the row's. A seal's
    place reaches below its row: the bottom is looked for from just under the place's top.
    """
    x0, y0, x1, y1 = box
    h = dark.shape[0]
    ink = dark > cfg.rule_ink
    rows = [y for y in range(max(0, y0 - cfg.row_reach_px), min(h, y1 + cfg.row_reach_px)) if x1 > x0 and float(ink[y, x0:x1].mean()) >= cfg.rule_cover]
    spans = {y: _extent(ink[y], x0, x1) for y in rows}
    for top in (y for y in reversed(rows) if y <= y0 + 3):
        (a0, a1) = spans[top]
        bottom = next((y for y in rows if y >= max(y0 + 6, top + 8) and abs(spans[y][0] - a0) <= 4 and abs(spans[y][1] - a1) <= 4), None)
        if bottom is not None:
            return Row(top, bottom, max(a0, spans[bottom][0]), min(a1, spans[bottom][1]))
    return None


def _label_match(dark: NDArray[np.float32], blank: NDArray[np.float32], row: Row, label_x1: int, dy: int, cfg: ReflowDefaults) -> tuple[float, int, int]:
    """(match, dx, dy) of the blank's label (the row's rules left out, its columns left of the place) on the scan near offset dy."""
    tx0, ty0, ty1 = row.x0 + 4, row.top + 3, row.bottom - 2
    if label_x1 - tx0 < 3 * cfg.rule_px or ty1 - ty0 < 4:
        return 0.0, 0, dy
    tmpl = as_f32(blank[ty0:ty1, tx0:label_x1])
    sx, sy = cfg.search_x_px, cfg.row_label_search_px
    h, w = dark.shape
    ay0, ax0 = ty0 + dy - sy, tx0 - sx
    ay1, ax1 = ty1 + dy + sy, label_x1 + sx
    if ay0 < 0 or ax0 < 0 or ay1 > h or ax1 > w or float(tmpl.std()) < 0.02:
        return 0.0, 0, dy
    res = cv2.matchTemplate(as_f32(dark[ay0:ay1, ax0:ax1]), tmpl, cv2.TM_CCOEFF_NORMED)
    _, peak, _, (bx, by) = cv2.minMaxLoc(res)
    return float(peak), bx - sx, dy + by - sy


def grown_row(
    dark: NDArray[np.float32], blank: NDArray[np.float32], row: Row, label_x1: int, lo: float, hi: float, cfg: ReflowDefaults = REFLOW
) -> tuple[tuple[int, int], int] | None:
    """Where the row is on the scan, the top between offsets lo and hi (px): (offset, px it grew); None unless exactly one place fits.

    Its top: a rule as wide as the blank's with the label under it; more than one such (two
    signed rows within reach) is not told apart. Its bottom: the first rule as wide below the
    row's blank height, within row_max_growth_px.
    """
    x0, x1 = row.x0 + cfg.row_inset_px, row.x1 - cfg.row_inset_px
    tol = cfg.search_y_px
    tops = rule_rows(dark, int(row.top + lo) - tol, int(row.top + hi) + tol + 1, x0, x1, cfg)
    fits = [m for m in (_label_match(dark, blank, row, label_x1, t - row.top, cfg) for t in tops) if m[0] >= cfg.row_label_min]
    if len(fits) != 1:
        return None
    _, dx, dy = fits[0]
    height = row.bottom - row.top
    top = row.top + dy
    bottoms = rule_rows(dark, top + height - 3, top + height + cfg.row_max_growth_px, x0, x1, cfg)
    if not bottoms:
        return None
    growth = bottoms[0] - top - height
    return (dx, dy), growth if growth >= cfg.row_grown_px else 0


def intrudes(place: tuple[float, float], others: list[tuple[float, float]], margin: float) -> bool:
    """Whether a place's rows on the scan reach more than `margin` px into one of `others` (rows of lines on the scan its place did not hold on the blank).

    A place calibrated on a blank page's last line reaches into the bottom margin; where Word
    ran the text on, the next line sits there and its print would be read as what was written
    (seeds 86500-01 4-3-1 and 86500-05 6-1-1: URL paths read present that were never written).
    """
    return any(min(place[1], b - margin) > max(place[0], a + margin) for a, b in others)


def moved_bbox(bbox: BBox, offset: tuple[int, int], dpi: float) -> BBox:
    """A bbox (points) moved by an offset in px at dpi."""
    k = px_per_pt(dpi)
    dx, dy = offset[0] / k, offset[1] / k
    return (bbox[0] + dx, bbox[1] + dy, bbox[2] + dx, bbox[3] + dy)


def stretched(blank: NDArray[np.float32], box: tuple[int, int, int, int]) -> NDArray[np.float32]:
    """The blank's print that runs the whole height of box (px) — a table's vertical rules — one row of it: what a grown row has all down."""
    x0, y0, x1, y1 = box
    h, w = blank.shape
    part = blank[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
    if part.size == 0:
        return np.zeros((1, 0), np.float32)
    return as_f32(part.min(axis=0, keepdims=True))
