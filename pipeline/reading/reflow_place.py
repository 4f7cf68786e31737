"""Checking a box's or field's place on a scanned page whose content moved (reflow.py): a signature or seal place found by its Word table row, a place reaching into a line not its own.

A Word printing puts 「担当者署名（肉筆）押印: … 印」 in a one-row table. Pasting a signature or
seal image there grows the row: its label stays at the row's top, 印 and the image sit at
its grown bottom, and the label line's own offset is not known from the lines around it
(merged with the image into one tall band, paired with a piece of it, or its neighbours
moved apart). The row is found by its rules instead (settled_place): on the blank, the rules
just above and below the place, running alike; on the scan, a rule as wide between where the
lines aligned above and below put it, with the label under it (the label matches there
0.62-0.9, under a bottom rule 0.05-0.46), and the first rule as wide below it (the grown
bottom). More than one such top, none, or a line below that sits above the grown bottom:
not placed (uncertain), never read at a guess.

A field whose place on the scan reaches into another aligned line, one it did not hold on
the blank (a place at a blank page's end reaching into its bottom margin, where Word ran the
next page's text on), is not placed either.

Pixels at work dpi in the frame (the blank page's size), origin top left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BBox, BoxLayout, FieldLayout
from pipeline.reading.references import Reference, as_f32
from pipeline.reading.reflow_lines import Alignment, Flow, Lines, element_line, ink_mask, line_of, median3, pair_dy
from pipeline.reading.reflow_settings import REFLOW, ReflowDefaults
from pipeline.reading.sign_settings import SIGN

Element = BoxLayout | FieldLayout


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


def pasted_room(box: BBox, grow: float, kind: str) -> BBox:
    """A Word form's place (points) with the room what is pasted there takes: `grow` further down (its row grew), and a seal's one seal width right of 印.

    A seal pasted into a Word form lands after the printed 印 (the cursor is there), not over
    it: seen in every Word filling of seeds 87000-87003 (born-digital) and on 86500-09 p2 scanned.
    """
    right = box[2] - box[0] if kind == "seal" else 0.0
    return (box[0], box[1], box[2] + right, box[3] + grow)


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


def own_line(lines: Lines, ref: Reference, el: Element, cfg: ReflowDefaults) -> int | None:
    """The blank's line an element goes with (element_line); a signature or seal place in a table row (a Word printing): the row's line; off a table, its label's (label_rows).

    A seal's place there reaches 40 pt down from the row's top, past the row: its bottom met
    the next line's, which element_line took for its own (seed 88002-00: 3-1-5's seal placed
    on the line after its row, on the next page, and read empty there). Off a table a
    signature place can reach up over the 氏名 line too, and element_line took that (seed
    88503-00 1-1-4: placed 27 px high).
    """
    k = px_per_pt(ref.dpi)
    if isinstance(el, FieldLayout) and el.kind in ("signature", "seal"):
        row = table_row(ref.dark, (int(round(el.bbox[0] * k)), int(round(el.bbox[1] * k)), int(round(el.bbox[2] * k)), int(round(el.bbox[3] * k))), cfg)
        if row is not None:
            return line_of(lines, row.top + 1, row.bottom - 1)
        signed = _signature_beside(ref, el) or el
        _, y0, _, y1 = _px_box(signed.bbox, k)
        return line_of(lines, *label_rows(ref, signed, (y0, y1), cfg))
    return element_line(lines, el, k)


def _signature_beside(ref: Reference, el: FieldLayout) -> FieldLayout | None:
    """A seal place's signature place: the same item's, on its rows (the seal goes with the signed line, printed 「…押印: ____ 印」).

    Off a table, a seal's place (24-40 pt around 印) reaches past its line into the next, whose
    bottom can be the place's: element_line took that line for its own, and where Word ran
    that line onto the next page the seal was read there, in its top margin, empty (seeds
    88500-00 7-2-1, 88500-02 3-1-7: signed and sealed, read missing).
    """
    if el.kind != "seal":
        return None
    return next((f for f in ref.layout.fields if f.kind == "signature" and f.owner == el.owner and min(f.bbox[3], el.bbox[3]) > max(f.bbox[1], el.bbox[1])), None)


def _around(flow: Flow, lines: Lines, al: Alignment, j: int) -> tuple[float | None, float | None]:
    """How far the nearest aligned lines above and below flow line j on its page moved (px; None where there is none; j's own pair left out), each the looser way.

    The line above: its pair's offset or its bottom's move, the less; the line below: its
    pair's or its top's, the more. A line merged on the blank with the next one moves its
    bottom further than itself (seed 86500-09 p10: the line under 7-0-1's grown row paired
    at -37 px, its top moved -32).
    """
    same = [(i, jj) for i, jj in al.pairs if jj != j and flow.page[jj] == flow.page[j]]
    above = [min(pair_dy(lines, i, flow.lines, jj), float(lines.y1[i] - flow.lines.y1[jj])) for i, jj in same if jj < j]
    below = [max(pair_dy(lines, i, flow.lines, jj), float(lines.y0[i] - flow.lines.y0[jj])) for i, jj in same if jj > j]
    return (above[-1] if above else None), (below[0] if below else None)


def _grown_under(around: tuple[float | None, float | None], dy: int, cfg: ReflowDefaults) -> bool:
    """Whether a signature or seal place placed at offset dy has its row grown under it: the next aligned line of its page sits grown_px or more further down.

    Word grows a table row around a pasted signature or seal, and its label stays at the
    row's top: the writing is then below the place its label puts it (seed 84004 p3:
    1-1-3's signature read empty, its row 1.6 times as tall). Unless the row is found by its
    rules (_in_row), it is not read there.
    """
    below = around[1]
    return below is not None and below - dy >= cfg.grown_px


def _in_row(
    dark: NDArray[np.float32], ref: Reference, el: FieldLayout, below: float | None, bounds: tuple[float, float], cfg: ReflowDefaults
) -> tuple[FieldLayout, tuple[int, int] | None, int] | None:
    """A signature or seal place found by its table row (reflow_place.grown_row): (the place cut at the row's bottom, offset, px the row grew); offset None when the row found is at odds with the line below it; None without a row.

    The row's top lies within `bounds` (offsets px). The line below the row (`below`, its
    offset) sits under its grown bottom: one above it
    means the rules found are not the row's. What is pasted there stays in the row's cell: a
    seal's place, 40 pt tall, reached past the row into the next line (seed 86500-05 p3).
    """
    k = px_per_pt(ref.dpi)
    box = (int(round(el.bbox[0] * k)), int(round(el.bbox[1] * k)), int(round(el.bbox[2] * k)), int(round(el.bbox[3] * k)))
    row = table_row(ref.dark, box, cfg)
    if row is None:
        return None
    on_row = [f.bbox[0] for f in ref.layout.fields if f.kind in ("signature", "seal") and min(f.bbox[3], el.bbox[3]) > max(f.bbox[1], el.bbox[1])]
    got = grown_row(dark, ref.dark, row, int(round(min(on_row) * k)), *bounds, cfg)
    if got is None:
        return None
    (dx, dy), growth = got
    cut = replace(el, bbox=(*el.bbox[:3], min(el.bbox[3], (row.bottom - 1) / k)))
    if below is not None and below < dy + growth - cfg.search_y_px:
        return cut, None, 0
    return cut, (dx, dy), growth


def pair_offsets(flow: Flow, lines: Lines, al: Alignment) -> list[float]:
    """Each aligned pair's offset (px): the median of its own and its neighbours' on its page (a line merged with what was typed just above it pulls its own: seed 86500-09 p5, 6 px)."""
    dys = [pair_dy(lines, i, flow.lines, jj) for i, jj in al.pairs]
    out = []
    for n, (_, jj) in enumerate(al.pairs):
        near = [dys[m] if 0 <= m < len(dys) and flow.page[al.pairs[m][1]] == flow.page[jj] else dys[n] for m in (n - 1, n + 1)]
        out.append(median3(near[0], dys[n], near[1]))
    return out


def _intruded(flow: Flow, lines: Lines, al: Alignment, el: Element, j: int, dy: int, k: float, cfg: ReflowDefaults) -> bool:
    """Whether a field placed at offset dy reaches into a line on the scan that its place did not hold on the blank (reflow_place.intrudes).

    Such a line: another aligned line where it went (pair_offsets); or a text line of the scan
    left unaligned that overlaps none of the lines the place held, where they went with it. A
    place calibrated on a blank page's first line reaches up into the top margin, and on the
    scan the line before sits there (seed 86500-05 p11: respondent.fax, placed just before
    the run, held the TEL line's value above it, read 03-1494-3006 for 03-5941-8799).
    """
    y0, y1 = el.bbox[1] * k, el.bbox[3] * k
    held = [jj for jj in range(len(flow.page)) if flow.page[jj] == flow.page[j] and min(float(flow.lines.y1[jj]), y1) > max(float(flow.lines.y0[jj]), y0)]
    others = []
    for (_, jj), d in zip(al.pairs, pair_offsets(flow, lines, al), strict=True):
        if jj != j and jj not in held:
            others.append((float(flow.lines.y0[jj]) + d, float(flow.lines.y1[jj]) + d))
    paired = {i for i, _ in al.pairs}
    mine = [(float(flow.lines.y0[jj]) + dy, float(flow.lines.y1[jj]) + dy) for jj in {*held, j}]
    for i in range(len(lines)):
        a, b = float(lines.y0[i]), float(lines.y1[i])
        if i not in paired and b - a >= cfg.few_lines_min_height_px and not intrudes((a, b), mine, cfg.intrude_px):
            others.append((a, b))
    return intrudes((y0 + dy, y1 + dy), others, cfg.intrude_px)


def _bounds(above: float | None, below: float | None, found: tuple[int, ...], cfg: ReflowDefaults) -> tuple[float, float]:
    """Where a signed row's top may be (offsets px): between the lines aligned above and below it; with one of them, up to row_max_growth_px from it (the row grew, or Word pushed it to the next page's top: seed 86500-09 p5, 3-1-8's row 33 px above the first line aligned there); with neither, its tries'."""
    if above is not None and below is not None:
        return above, below
    if below is not None:
        return below - cfg.row_max_growth_px, below
    if above is not None:
        return above, above + cfg.row_max_growth_px
    return float(min(found)), float(max(found))


def settled_place(
    dark: NDArray[np.float32], ref: Reference, el: Element, at: tuple[Flow, Lines, Alignment, int], found: tuple[int, ...], offset: tuple[int, int] | None, cfg: ReflowDefaults
) -> tuple[Element, tuple[int, int] | None, int]:
    """An element's place checked: a signature or seal place by its table row (else not read in a grown row), a field's not reaching into another line; (element, offset, px its row grew)."""
    if not isinstance(el, FieldLayout):
        return el, offset, 0
    flow, lines, al, j = at
    if el.kind in ("signature", "seal"):
        got, offset, grow = _signed_place(dark, ref, el, at, found, offset, cfg)
        if offset is not None and el.kind == "seal":
            offset = print_shift(dark, ref, el, offset, grow, cfg)
        return got, offset, grow
    if offset is not None and _intruded(flow, lines, al, el, j, offset[1], px_per_pt(ref.dpi), cfg):
        return el, None, 0
    return el, offset, 0


def _signed_place(
    dark: NDArray[np.float32], ref: Reference, el: FieldLayout, at: tuple[Flow, Lines, Alignment, int], found: tuple[int, ...], offset: tuple[int, int] | None, cfg: ReflowDefaults
) -> tuple[FieldLayout, tuple[int, int] | None, int]:
    """A signature or seal place: by its table row (_in_row; not read where the row is not found and grew), else by its label off a table, risen to the line above (label_offset, risen)."""
    flow, lines, al, j = at
    above, below = around = _around(flow, lines, al, j)
    row = _in_row(dark, ref, el, below, _bounds(above, below, found, cfg), cfg)
    if row is not None:
        return row
    k = px_per_pt(ref.dpi)
    if any(table_row(ref.dark, _px_box(f.bbox, k), cfg) is not None for f in (el, _signature_beside(ref, el) or el)):  # its row (or its signature's: a seal's place reaches past the row) not found on the scan
        return el, (None if offset is None or _grown_under(around, offset[1], cfg) else offset), 0
    if offset is None or _grown_under(around, offset[1], cfg):
        offset = label_offset(dark, ref, el, at, (_bounds(above, below, found, cfg), found), cfg)
    return (el, None, 0) if offset is None else (risen(lines, ref, el, at, offset, cfg), offset, 0)


def print_shift(dark: NDArray[np.float32], ref: Reference, el: FieldLayout, offset: tuple[int, int], grow: int, cfg: ReflowDefaults) -> tuple[int, int]:
    """A seal place's offset moved sideways as far as its printed 「印」 moved on its line (px), found by the blank's glyph; the offset as it was when the glyph is not found once.

    Word types 「　　印」 after what was pasted in the signature place: a picture narrower than
    the blank's spaces brings 印 and the seal after it left (seed 88501-02 p5: 12 px); the
    blank's 印 carried where it was then read as a stamp's ink (3-1-4, 3-1-7: no seal, read
    uncertain). Grown rows hold 印 at their grown bottom.
    """
    k = px_per_pt(ref.dpi)
    own = next((f.bbox for f in ref.layout.fields if f.name == el.name), el.bbox)
    x0, y0, x1, y1 = _px_box(own, k)
    h, w = dark.shape
    ink = np.zeros(ref.dark.shape, np.uint8)
    ink[y0:y1, x0:x1] = ink_mask(ref.dark[y0:y1, x0:x1], cfg)
    ys, xs = np.nonzero(ink)
    if len(xs) < 10:
        return offset
    pad = 2
    gx0, gy0, gx1, gy1 = int(xs.min()) - pad, int(ys.min()) - pad, int(xs.max()) + 1 + pad, int(ys.max()) + 1 + pad
    if gy1 - gy0 < 8 or gx1 - gx0 > 2 * (gy1 - gy0) or gx0 < 0 or gy0 < 0:
        return offset  # not one glyph
    tmpl = as_f32(ref.dark[gy0:gy1, gx0:gx1])
    dx, dy = offset
    signed = _signature_beside(ref, el)
    left = int(round(signed.bbox[0] * k)) + dx if signed is not None else gx0 + dx - (x1 - x0)
    ay0, ay1 = max(0, gy0 + dy + grow - SIGN.print_search_px), min(h, gy1 + dy + grow + SIGN.print_search_px)
    ax0, ax1 = max(0, left), min(w, x1 + dx + (x1 - x0))
    if ay1 - ay0 < tmpl.shape[0] or ax1 - ax0 < tmpl.shape[1] or float(tmpl.std()) < 0.02:
        return offset
    res = match(as_f32(dark[ay0:ay1, ax0:ax1]), tmpl)
    by_col = res.max(axis=0)
    c = int(np.argmax(by_col))
    best = float(by_col[c])
    far = np.abs(np.arange(len(by_col)) - c) >= gx1 - gx0
    if best < SIGN.print_min or (far & (by_col >= best - SIGN.label_rival)).any():
        return offset
    return ax0 + c - gx0, dy


def match(area: NDArray[np.float32], tmpl: NDArray[np.float32]) -> NDArray[np.float32]:
    """cv2.TM_CCOEFF_NORMED of tmpl over area, 0 where the area under it is flat (white paper: OpenCV gives 1.0 there, seed 88501-02 p5)."""
    res = cv2.matchTemplate(area, tmpl, cv2.TM_CCOEFF_NORMED)
    th, tw = tmpl.shape
    mean = cv2.boxFilter(area, -1, (tw, th), normalize=True, borderType=cv2.BORDER_ISOLATED)
    sq = cv2.boxFilter(area * area, -1, (tw, th), normalize=True, borderType=cv2.BORDER_ISOLATED)
    var = (sq - mean * mean)[th // 2 : th // 2 + res.shape[0], tw // 2 : tw // 2 + res.shape[1]]
    return as_f32(np.where(var > 1e-4, np.nan_to_num(res, nan=0.0, posinf=0.0, neginf=0.0), 0.0))


def _px_box(bbox: BBox, k: float) -> tuple[int, int, int, int]:
    """A bbox (points) in px at k px per pt, rounded."""
    return int(round(bbox[0] * k)), int(round(bbox[1] * k)), int(round(bbox[2] * k)), int(round(bbox[3] * k))


def _label_box(ref: Reference, el: FieldLayout, rows: tuple[int, int], cfg: ReflowDefaults) -> tuple[int, int] | None:
    """The columns (px) of the blank's print left of the signature and seal places on a line's rows: its label (「…署名（肉筆）押印：」)."""
    k = px_per_pt(ref.dpi)
    on_row = [f.bbox[0] for f in ref.layout.fields if f.kind in ("signature", "seal") and min(f.bbox[3], el.bbox[3]) > max(f.bbox[1], el.bbox[1])]
    x1 = int(round(min(on_row) * k)) - 2
    cols = np.flatnonzero((_text_dark(ref.dark, rows[0], rows[1] + 1, max(0, x1), cfg) > cfg.ink).any(axis=0))
    if len(cols) == 0 or x1 - int(cols[0]) < 3 * cfg.rule_px:
        return None
    return max(0, int(cols[0]) - 4), x1


def _text_dark(dark: NDArray[np.float32], y0: int, y1: int, x1: int, cfg: ReflowDefaults) -> NDArray[np.float32]:
    """The blank's darkness over rows y0..y1, columns 0..x1, its rules left out (reflow_lines.ink_mask, ±1 px): a label under a table's bottom rule matched that rule wherever another row's was (seed 88502-04 p8, 4-4-1)."""
    part = dark[max(0, y0) : y1, :x1]
    keep = cv2.dilate(ink_mask(part, cfg), np.ones((3, 3), np.uint8)) > 0
    return as_f32(np.where(keep, part, 0.0))


def label_rows(ref: Reference, el: FieldLayout, rows: tuple[int, int], cfg: ReflowDefaults) -> tuple[int, int]:
    """The rows (px) of a signed line's label within its blank line's `rows`: the lowest run of printed rows left of the places.

    The blank's line can hold the 氏名 line above the label too (printing ind88503-p0: set
    tight, one band); pictures pasted on the label's line push the two apart, and the label
    matched as a pair of lines found 氏名's place (seed 88503-00 1-1-4: 27 px high).
    """
    k = px_per_pt(ref.dpi)
    on_row = [f.bbox[0] for f in ref.layout.fields if f.kind in ("signature", "seal") and min(f.bbox[3], el.bbox[3]) > max(f.bbox[1], el.bbox[1])]
    x1 = max(1, int(round(min(on_row) * k)) - 2)
    inked = np.flatnonzero((_text_dark(ref.dark, rows[0], rows[1] + 1, x1, cfg) > cfg.ink).any(axis=1)) + rows[0]
    if len(inked) == 0:
        return rows
    gaps = np.flatnonzero(np.diff(inked) > 2)
    start = int(inked[gaps[-1] + 1]) if len(gaps) else int(inked[0])
    return max(rows[0], start - 1), rows[1]


def label_offset(
    dark: NDArray[np.float32], ref: Reference, el: FieldLayout, at: tuple[Flow, Lines, Alignment, int], within: tuple[tuple[float, float], tuple[int, ...]], cfg: ReflowDefaults
) -> tuple[int, int] | None:
    """Where a signature or seal place's label line is on the scan, off a table: (dx, dy) px of the one place within `within[0]` (offsets) its label matches; None when none or two do (unless one of them is where its neighbours put its line, `within[1]`, and the other not).

    A picture pasted on a plain line (not in a table) makes the line as tall as itself: the
    label (「…押印：」) sinks under it by the picture's height past the line's, and everything
    after moves with it. The line's own offset is then nowhere near its neighbours' (seed
    88500-00 p10: 7-2-1's label 30 px below where the line above put it, not placed). The
    label left of the places is looked for between the lines aligned above and below; a
    place where the label would cover another aligned line is not it.
    """
    flow, lines, al, j = at
    y0, y1 = label_rows(ref, el, (int(flow.lines.y0[j]), int(flow.lines.y1[j])), cfg)
    cols = _label_box(ref, el, (y0, y1), cfg)
    if cols is None:
        return None
    (lx0, lx1), sx, pad, bounds = cols, cfg.search_x_px, cfg.pad_y_px, within[0]
    ty0, ty1 = max(0, y0 - pad), y1 + pad + 1
    tmpl = as_f32(_text_dark(ref.dark, ty0, ty1, lx1, cfg)[:, lx0:])
    h, w = dark.shape
    ay0, ay1 = max(0, ty0 + int(np.floor(bounds[0])) - cfg.search_y_px), min(h, ty1 + int(np.ceil(bounds[1])) + cfg.search_y_px)
    ax0, ax1 = max(0, lx0 - sx), min(w, lx1 + sx)
    if float(tmpl.std()) < 0.02 or ay1 - ay0 < tmpl.shape[0] or ax1 - ax0 < tmpl.shape[1]:
        return None
    res = match(as_f32(dark[ay0:ay1, ax0:ax1]), tmpl)
    by_row = res.max(axis=1)
    r = int(np.argmax(by_row))
    best = float(by_row[r])
    far = np.abs(np.arange(len(by_row)) - r) >= max(4, (y1 - y0) // 2)
    rivals = np.flatnonzero(far & (by_row >= max(SIGN.label_min, best - SIGN.label_rival))) + ay0 - ty0
    if best < SIGN.label_min or (len(rivals) and not _told_apart(ay0 + r - ty0, rivals, within[1], cfg)):
        return None
    dy = ay0 + r - ty0
    dx = ax0 + int(np.argmax(res[r])) - lx0
    printed = int((tmpl > cfg.ink).sum())
    there = int(ink_mask(dark[ty0 + dy : ty1 + dy, max(0, lx0 + dx) : lx1 + dx], cfg).sum())
    if not printed / 2 <= there <= printed * 2:  # a faint or stray match, not the label's print (seed 88500-00 p5: 3-1-7's line went to the next page)
        return None
    if any(jj != j and min(float(lines.y1[i]), y1 + dy) - max(float(lines.y0[i]), y0 + dy) > cfg.intrude_px for i, jj in al.pairs):
        return None
    return dx, dy


def _told_apart(dy: int, rivals: NDArray[np.intp], near: tuple[int, ...], cfg: ReflowDefaults) -> bool:
    """Whether the best label match (offset dy px) stands against rivals as good: it is where the line's neighbours put it (within search_y_px of `near`), none of them is.

    Seed 88502-04 p4: 3-1-2's label 0.57 where its neighbours put it, 0.49 a line higher.
    """
    def close(d: int) -> bool:
        return any(abs(d - n) <= cfg.search_y_px for n in near)

    return close(dy) and not any(close(int(d)) for d in rivals)


def risen(lines: Lines, ref: Reference, el: FieldLayout, at: tuple[Flow, Lines, Alignment, int], offset: tuple[int, int], cfg: ReflowDefaults) -> FieldLayout:
    """A signature or seal place off a table reaching up to the line above it where that went: a picture pasted there rises above the label's line (a Word printing).

    It reaches up to the scan's nearest text line ending above its label (nothing of the scan
    lies between: the pictures sit on the label's baseline and join its band; a picture
    touching the line above makes that band end lower, never higher). Seed 88501-00 p3: the
    name line above 1-1-3's label unaligned, its seal rose 8 pt above the place (read
    uncertain, 16.6 pt tall). A band of the scan within the places' columns that ends where the
    next begins is a picture's top cut off (a tall band is cut at its emptiest rows), not a line,
    even when aligned with one (88503-00 2-3-2: the seal's top paired with a line of the blank,
    the place kept under it, the stamp 10 pt tall in it; five such tops on its page, each
    meeting the label's band, every text line 3 px or more from the next). A place whose
    gain would reach into another aligned line stays as it was.
    """
    flow, _, al, j = at
    k = px_per_pt(ref.dpi)
    dy = offset[1]
    top = el.bbox[1] * k + dy
    prev = j - 1
    if prev < 0 or flow.page[prev] != flow.page[j]:
        return el
    label_top = float(label_rows(ref, el, (int(flow.lines.y0[j]), int(flow.lines.y1[j])), cfg)[0]) + dy
    span = [f.bbox for f in ref.layout.fields if f.kind in ("signature", "seal") and min(f.bbox[3], el.bbox[3]) > max(f.bbox[1], el.bbox[1])]
    xs0, xs1 = min(b[0] for b in span) * k + offset[0] - 4, max(pasted_room(b, 0.0, "seal")[2] for b in span) * k + offset[0] + 4
    tops = {int(v) for v in lines.y0}
    text = [i for i in range(len(lines)) if not (lines.x0[i] >= xs0 and lines.x1[i] <= xs1 and {int(lines.y1[i]) - 1, int(lines.y1[i]), int(lines.y1[i]) + 1} & tops)]  # a picture's top, cut off its band
    over = [float(lines.y1[i]) for i in text if lines.y1[i] < label_top - 1]
    ceiling = (max(over) if over else label_top - SIGN.max_rise_px) + SIGN.rise_gap_px  # nothing of the scan's between
    new_top = max(ceiling, label_top - SIGN.max_rise_px)
    if new_top >= top:
        return el
    others = [(float(lines.y0[i]), float(lines.y1[i])) for i, jj in al.pairs if jj != j and i in text]
    if intrudes((new_top, top + cfg.intrude_px + 1), others, cfg.intrude_px):  # what it gains (a seal's place may reach below its line already)
        return el
    return replace(el, bbox=(el.bbox[0], (new_top - dy) / k, el.bbox[2], el.bbox[3]))
