"""The blank as a scanned page whose content moved has it: the boxes and fields placed by reflow.py moved where they went, with the blank's ink and printed characters carried along, as a Registration marks and fields read unchanged.

A signature or seal place whose table row Word grew (Placement.grow) reaches down that far,
and a seal's one seal width right of 印; the blank's print is carried both at the row's top
and at its grown bottom (印 sits there), and what runs the row's whole height (its vertical
rules) all the way down.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BBox, BoxLayout, FieldLayout
from pipeline.reading.references import Reference, as_f32
from pipeline.reading.reflow import Located, Placement
from pipeline.reading.reflow_lines import form_flow
from pipeline.reading.reflow_place import Row, moved_bbox, pair_offsets, pasted_room, stretched, table_row
from pipeline.reading.reflow_settings import REFLOW, ReflowDefaults
from pipeline.reading.register import Registration


def _paste(
    canvas: NDArray[np.float32], src: NDArray[np.float32], box: tuple[int, int, int, int], offset: tuple[int, int], covered: NDArray[np.bool_] | None = None
) -> None:
    """canvas[box moved by offset] = max(itself, src[box]), clipped to both; marked in `covered`."""
    h, w = canvas.shape
    x0, y0, x1, y1 = box
    dx, dy = offset
    x0, y0 = max(x0, -dx, 0), max(y0, -dy, 0)
    x1, y1 = min(x1, w - dx, src.shape[1]), min(y1, h - dy, src.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    np.maximum(canvas[y0 + dy : y1 + dy, x0 + dx : x1 + dx], src[y0:y1, x0:x1], out=canvas[y0 + dy : y1 + dy, x0 + dx : x1 + dx])
    if covered is not None:
        covered[y0 + dy : y1 + dy, x0 + dx : x1 + dx] = True


def _reached(fld: FieldLayout, grow_pt: float) -> FieldLayout:
    """A placed field with the room Word gives what is pasted there (reflow_place.pasted_room)."""
    return replace(fld, bbox=pasted_room(fld.bbox, grow_pt, fld.kind))


def _carry(canvas: NDArray[np.float32], covered: NDArray[np.bool_], blank: NDArray[np.float32], pl: Placement, k: float, c: int, own: BBox) -> None:
    """The blank's print around a placed element (± c px) onto the canvas where it went; a grown row's at its top and at its grown bottom (印 and the bottom rule sit there), its vertical rules all down.

    A place risen above its layout place (`own`, points: reflow_place.risen) carries the
    blank only from its own top down: above it the blank printed the line before, which on
    the scan sits higher (where the aligned lines' print puts it), and the picture is there.
    """
    assert pl.offset is not None
    fld = pl.element if isinstance(pl.element, BoxLayout) else _reached(pl.element, 0.0)
    x0, y0, x1, y1 = (int(round(v * k)) for v in fld.bbox)
    dx, dy = pl.offset
    row = table_row(blank, _px(own, k)) if pl.grow > 0 else None
    if row is None:
        own_top = int(round(own[1] * k))
        up = c if y0 >= own_top else y0 - own_top  # a risen place: the line above's print is not carried into it
        _paste(canvas, blank, (x0 - c, y0 - up, x1 + c, y1 + c), pl.offset, covered)
        if y0 < own_top:  # nor any aligned line's (one merged with the pictures is pasted too high): the scan holds no print there
            covered[max(0, y0 + dy) : max(0, own_top + dy), max(0, x0 + dx) : max(0, x1 + dx)] = True
        return
    _grown_carry(canvas, covered, blank, (x0 - c, y0 - c, x1 + c, y1 + c), row, pl)


def _grown_carry(canvas: NDArray[np.float32], covered: NDArray[np.bool_], blank: NDArray[np.float32], box: tuple[int, int, int, int], row: Row, pl: Placement) -> None:
    """A grown row's print over columns box[0]..box[2] (px): the row's top with what is above it from box[1] down, at its grown bottom its bottom rule and below it down to box[3]; its vertical rules all down.

    The blank's print above the row is never carried to the grown bottom, nor the bottom rule
    and the line below it to the top: there they would lie over the picture pasted in the
    row and hide it (seed 88501-02 p5 3-1-5: the line above the row, carried into its grown
    bottom, covered the signature, read empty). The whole row is carried so: its rules and
    right border, left where the blank had them, read as a stamp beside an empty seal place
    (88501-02 3-1-4, uncertain).
    """
    assert pl.offset is not None
    x0, top, x1, below = box
    x0, x1 = min(x0, row.x0 - 2), max(x1, row.x1 + 3)  # the whole row: its rules and borders beside the place are where it grew too
    dx, dy = pl.offset
    _paste(canvas, blank, (x0, top, x1, row.bottom - 1), pl.offset, covered)
    _paste(canvas, blank, (x0, row.top + 2, x1, max(below, row.bottom + 2)), (dx, dy + pl.grow), covered)
    left = max(0, x0)
    rows = np.repeat(stretched(blank, (left, row.top + 2, x1, row.bottom - 1)), row.bottom - row.top + pl.grow, axis=0)
    _paste(canvas, rows, (0, 0, rows.shape[1], rows.shape[0]), (left + dx, row.top + dy), covered)


def _px(box: BBox, k: float) -> tuple[int, int, int, int]:
    return int(round(box[0] * k)), int(round(box[1] * k)), int(round(box[2] * k)), int(round(box[3] * k))


def _own_bbox(ref: Reference, el: BoxLayout | FieldLayout) -> BBox:
    """An element's bbox in its page's layout (a placed field may reach further: reflow_place.risen, _in_row)."""
    if isinstance(el, FieldLayout):
        return next((f.bbox for f in ref.layout.fields if f.name == el.name), el.bbox)
    return el.bbox


def _line_print(loc: Located, refs: tuple[Reference, ...], shape: tuple[int, int], cfg: ReflowDefaults) -> NDArray[np.float32]:
    """The blank's print of every aligned line (±1 row) where it went (reflow.pair_offsets).

    What lies just above or below a place (where a signature read empty looks for writing
    that missed it) is then the blank's print where it is: without it, the printed line under
    a grown signature row was taken for stray writing (seed 86500-05 p3, 7 places uncertain).
    """
    flow = form_flow(refs, cfg)
    out = np.zeros(shape, np.float32)
    for (_, jj), d in zip(loc.alignment.pairs, pair_offsets(flow, loc.lines, loc.alignment), strict=True):
        y0, y1 = int(flow.lines.y0[jj]) - 1, int(flow.lines.y1[jj]) + 2
        _paste(out, refs[int(flow.page[jj])].dark, (0, y0, shape[1], y1), (0, int(round(d))))
    return out


def moved_reference(loc: Located, refs: tuple[Reference, ...], principal: int, cfg: ReflowDefaults = REFLOW) -> Reference:
    """The blank as this scan has it: the placed boxes and fields (in the layout of page `principal`), their ink and printed characters; elsewhere its aligned lines' print."""
    base = refs[principal]
    dpi = base.dpi
    k = px_per_pt(dpi)
    canvas = np.zeros_like(base.dark)
    covered = np.zeros(canvas.shape, bool)
    boxes: list[BoxLayout] = []
    fields: list[FieldLayout] = []
    printed: list[tuple[str, BBox]] = []
    c = cfg.carry_px
    for pl in loc.placements:
        if pl.offset is None:
            continue
        src = refs[pl.page]
        el = pl.element if isinstance(pl.element, BoxLayout) else _reached(pl.element, pl.grow / k)
        own = _own_bbox(src, pl.element)
        _carry(canvas, covered, src.dark, pl, k, c, own)
        moved = replace(el, bbox=moved_bbox(el.bbox, pl.offset, dpi))
        if isinstance(moved, BoxLayout):
            boxes.append(moved)
            continue
        fields.append(moved)
        g = 6.0
        eb = own
        for ch, cb in src.printed:
            cx, cy = (cb[0] + cb[2]) / 2, (cb[1] + cb[3]) / 2
            if eb[0] - g <= cx <= eb[2] + g and eb[1] - g <= cy <= eb[3] + g:
                printed.append((ch, moved_bbox(cb, pl.offset, dpi)))
    canvas = np.where(covered, canvas, np.maximum(canvas, _line_print(loc, refs, canvas.shape, cfg)))  # lines only where no element carried its own
    layout = replace(base.layout, boxes=tuple(boxes), fields=tuple(fields))
    gray = np.asarray(255.0 - canvas * 255.0, np.uint8)
    return replace(
        base,
        layout=layout,
        gray=gray,
        dark=canvas,
        dark_max=as_f32(cv2.dilate(canvas, np.ones((3, 3), np.uint8))),
        dark_wide=as_f32(cv2.dilate(canvas, np.ones((5, 5), np.uint8))),
        blank=None,
        cache={"printed": tuple(printed), "qr_bbox": None},
    )


def principal_page(loc: Located) -> int:
    """The reference index this page stands for: the first blank page whose head is on it; else the one whose elements it holds most of (its lines, when it holds none).

    A page holding the tail of one blank page and the head of the next is the next one's
    (the previous scanned page stood for the first): one form page, one scanned page.
    """
    if loc.heads:
        return loc.heads[0]
    counts: dict[int, int] = {}
    for pl in loc.placements:
        counts[pl.page] = counts.get(pl.page, 0) + 1
    if counts:
        return max(counts, key=lambda p: (counts[p], -p))
    return loc.flow_pages[0]


def moved_registration(loc: Located, refs: tuple[Reference, ...], dpi: float, quality: float, cfg: ReflowDefaults = REFLOW) -> Registration:
    """A Registration of the scan onto the moved blank (frame as its matrix)."""
    m = loc.frame
    angle = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    turn = int(round(angle / 90.0)) % 4 * 90
    skew = (angle - turn + 180.0) % 360.0 - 180.0
    ref = moved_reference(loc, refs, principal_page(loc), cfg)
    return Registration(ref, m, dpi, turn, skew, math.hypot(m[0, 0], m[1, 0]), loc.matched, quality, "layout")
