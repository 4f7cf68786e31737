"""A registered scan + its layout page → MarkReading per box: ink beyond the blank → checked / empty / uncertain.

Per box or bracket, on the scan resampled into the blank's frame (work_dpi):
1. Local refinement: the blank's picture of the box and its surroundings is matched within
   ±3 px of the registered position, so that a residual error of the page transform or a
   paper stretch never puts the printed frame into the measure.
2. Inner ink: mean extra darkness (scan darkness beyond the blank's own ink, max-filtered)
   over the inside of the box, pixels below the noise floor ignored. Graded darkness, not a
   binarised count: binarising lost a third of thin 1-px ticks (notes/measured.md). Ink
   only in the outermost pixels of the inside, grey and along whole sides (rim_run), with
   nothing outside, is the printed frame come out bolder than the blank's: empty.
3. Ring: the band around the box, cut into angular sectors; a ○ drawn around the box inks
   most of them, a neighbour's mark or a stray stroke only a few. Pixels inside other boxes
   and under the blank's printed text do not count.
4. Edge band: dark ink just inside and outside the frame — a mark straying over the edge,
   or a ○ drawn so tight that it hugs the frame. The share of it 2 px or more outside the
   box (edge_reach) tells a stroke, which goes on, from a frame printed bolder, which does not.
5. 二重線: ink running through the box and on past both sides is a struck-out mark: uncertain
   on its own; empty (a correction, said so in the note) when another box of the same item is
   clearly checked, as a person reads a 二重線 beside a new mark.
Between the bounds of any measure the box is uncertain; nothing is guessed. The context used:
edge ink on an otherwise empty box next to a box read as circled is that ○ (next to a checked
box, that box's mark when it never touches this frame), a stroke across a corner of a box
with no other box or field near is that box's stray mark, and the new mark beside a
struck-out one.

`score` is the mark strength: the larger of inner ink / inner_checked and (for a ringed box)
ring coverage / ring_checked, so 1.0 sits at the checked threshold. Thresholds and their
provenance are in settings.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BBox, BoxLayout, FieldLayout, FieldReading, MarkReading, MarkState, PageLayout, PageRef
from pipeline.reading.settings import MARKS, MarkDefaults


@dataclass(frozen=True, slots=True)
class InkView:
    """The scan and the blank, both in the blank's frame at `dpi` (pixel = 72/dpi points, origin top left)."""

    dpi: float
    scan_dark: NDArray[np.float32]  # darkness 0..1 of the aligned scan
    blank_dark: NDArray[np.float32]  # darkness 0..1 of the blank
    blank_max: NDArray[np.float32]  # blank_dark, 3x3 max-filtered (±1 px of registration)
    cache: dict[object, object] | None = None  # per blank page: geometry that does not depend on the scan
    blank_wide: NDArray[np.float32] | None = None  # blank_dark, 5x5 max-filtered: room for a scan's blurred, bolder print

    @property
    def allowance(self) -> NDArray[np.float32]:
        return self.blank_wide if self.blank_wide is not None else self.blank_max

    def px(self, box: BBox, grow_pt: float = 0.0) -> tuple[int, int, int, int]:
        k = px_per_pt(self.dpi)
        h, w = self.scan_dark.shape
        x0 = int(math.floor((box[0] - grow_pt) * k))
        y0 = int(math.floor((box[1] - grow_pt) * k))
        x1 = int(math.ceil((box[2] + grow_pt) * k))
        y1 = int(math.ceil((box[3] + grow_pt) * k))
        return max(0, x0), max(0, y0), min(w, max(x1, x0 + 1)), min(h, max(y1, y0 + 1))


@dataclass(frozen=True, slots=True)
class BoxMeasure:
    """What was measured for one box (kept for the reviewer and for tuning)."""

    inner: float  # mean extra darkness inside, 0..1
    edge: float  # mean extra darkness over the box's edge band (inside and just outside), 0..1
    ring: float  # share of available ring sectors inked, 0..1
    ring_sectors: int  # sectors available
    struck: bool
    shift_px: tuple[int, int]
    core: float = 1.0  # mean extra darkness over the middle of the inside (1 px further in), 0..1
    edge_sides: int = 0  # sides of the box (of 4) whose edge band holds a stroke: a ○ hugging the frame inks all
    peak: float = 1.0  # darkest extra pixel inside, 0..1
    rim_run: float = 0.0  # ink only in the inside's outermost pixels: the least share of an inked side's length inked, else 0
    edge_reach: float = 1.0  # share of the edge band's ink 2 px or more outside the box (0: it all hugs the frame)
    centre: float = 0.0  # share of the inside's ink that lies in its middle (where `core` is measured), 0..1
    specks: float = 0.0  # faint ink inside (darkness × px at work dpi, from speck_floor up): what a pencil tick leaves on a bw scan


def extra_ink(view: InkView, x0: int, y0: int, x1: int, y1: int, dx: int, dy: int, floor: float, wide: bool = False) -> NDArray[np.float32]:
    """Scan ink beyond the blank in [x0:x1, y0:y1] of the blank, the scan read at +(dx, dy); noise floor removed.

    `wide` compares with the blank's ink grown by 2 px instead of 1: outside a box, where the
    printed frame and text of a blurred 150 dpi scan spread further than the blank's.
    """
    h, w = view.scan_dark.shape
    sx0, sy0, sx1, sy1 = x0 + dx, y0 + dy, x1 + dx, y1 + dy
    out = np.zeros((y1 - y0, x1 - x0), np.float32)
    cx0, cy0, cx1, cy1 = max(0, sx0), max(0, sy0), min(w, sx1), min(h, sy1)
    if cx0 >= cx1 or cy0 >= cy1:
        return out
    blank = view.allowance if wide else view.blank_max
    part = view.scan_dark[cy0:cy1, cx0:cx1] - blank[cy0 - dy : cy1 - dy, cx0 - dx : cx1 - dx]
    out[cy0 - sy0 : cy1 - sy0, cx0 - sx0 : cx1 - sx0] = part
    out[out < floor] = 0.0
    return out


def refine(view: InkView, box: BBox, cfg: MarkDefaults) -> tuple[int, int]:
    """Shift (dx, dy) in px of the scan against the blank near `box`, within ±cfg.refine_px."""
    r = cfg.refine_px
    x0, y0, x1, y1 = view.px(box, 3.0)
    tmpl = view.blank_dark[y0:y1, x0:x1]
    h, w = view.scan_dark.shape
    if x0 - r < 0 or y0 - r < 0 or x1 + r > w or y1 + r > h or float(tmpl.std()) < 0.05:
        return 0, 0
    area = view.scan_dark[y0 - r : y1 + r, x0 - r : x1 + r]
    res = cv2.matchTemplate(area, tmpl, cv2.TM_CCORR_NORMED)
    _, peak, _, (bx, by) = cv2.minMaxLoc(res)
    if peak < cfg.refine_min_corr:
        return 0, 0
    return bx - r, by - r


def _inner_box(box: BoxLayout, cfg: MarkDefaults) -> BBox:
    x0, y0, x1, y1 = box.bbox
    if box.shape == "bracket":
        # between the [ and ] (the glyphs sit at the ends), and clear of the top and bottom:
        # a ○ drawn around the bracket above or below passes within 1-2 pt of this one
        inset_x = min(3.0, (x1 - x0) * 0.12)
        inset_y = min(2.0, (y1 - y0) * 0.2)
    else:
        inset_x = inset_y = min(cfg.inner_inset_pt, (x1 - x0) * 0.22)
    return (x0 + inset_x, y0 + inset_y, x1 - inset_x, y1 - inset_y)


def _ring_geometry(view: InkView, box: BoxLayout, others: list[BBox], cfg: MarkDefaults) -> tuple[tuple[int, int, int, int], NDArray[np.int32], NDArray[np.float32], NDArray[np.bool_]]:
    """Where the ring is (px), each pixel's sector, which pixels can be seen, and which sectors count."""
    key = ("ring", box, tuple(others), cfg)
    if view.cache is not None and key in view.cache:
        return view.cache[key]  # type: ignore[return-value]
    x0, y0, x1, y1 = view.px(box.bbox, cfg.ring_pt)
    k = px_per_pt(view.dpi)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    bx0, by0, bx1, by1 = (v * k for v in box.bbox)
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    hw, hh = (bx1 - bx0) / 2, (by1 - by0) / 2
    gap = cfg.ring_gap_pt * k
    outside = (np.abs(xx - cx) > hw + gap) | (np.abs(yy - cy) > hh + gap)
    usable = outside & (view.allowance[y0:y1, x0:x1] < 0.5)  # under printed text nothing can be seen
    for ob in others:
        ox0, oy0, ox1, oy1 = (v * k for v in ob)
        usable &= ~((xx > ox0 - 1) & (xx < ox1 + 1) & (yy > oy0 - 1) & (yy < oy1 + 1))
    # angle in box-normalised coordinates, so a long bracket's ring is cut evenly
    ang = np.arctan2((yy - cy) / max(hh, 1.0), (xx - cx) / max(hw, 1.0))
    n = cfg.ring_sectors
    sector = (((ang + math.pi) / (2 * math.pi) * n).astype(np.int32) % n).ravel()
    total = np.bincount(sector[outside.ravel()], minlength=n)
    avail = np.bincount(sector, weights=usable.ravel().astype(np.float32), minlength=n)
    ok = avail >= 0.3 * np.maximum(total, 1)
    geo = ((x0, y0, x1, y1), sector, usable.ravel().astype(np.float32), ok)
    if view.cache is not None:
        view.cache[key] = geo
    return geo


def _ring(view: InkView, box: BoxLayout, others: list[BBox], shift: tuple[int, int], cfg: MarkDefaults) -> tuple[float, int]:
    """(share of available sectors inked, sectors available) in the band around the box."""
    (x0, y0, x1, y1), sector, usable, ok = _ring_geometry(view, box, others, cfg)
    if ok.sum() == 0:
        return 0.0, 0
    extra = extra_ink(view, x0, y0, x1, y1, shift[0], shift[1], cfg.noise_floor, wide=True)
    ink = np.bincount(sector, weights=extra.ravel() * np.asarray(usable, np.float32), minlength=cfg.ring_sectors)
    return float((ink[ok] >= cfg.sector_ink).sum() / ok.sum()), int(ok.sum())


def _edge(view: InkView, box: BoxLayout, others: list[BBox], shift: tuple[int, int], cfg: MarkDefaults) -> tuple[float, int, float]:
    """(mean extra ink over the band from the inner measure's edge to edge_pt outside the box, sides inked, reach).

    A mark that strays over the edge leaves most of its ink here rather than inside; pixels
    in other boxes and under the blank's printed text are not counted. The band is cut into
    its four sides (top, right, bottom, left): a stroke crossing a side inks it. A ○ drawn
    tight around the box inks all four; a neighbour's ○ passing by or a stray stroke one or two.
    Reach is the share of that ink 2 px or more outside the box: a frame printed bolder than
    the blank's only thickens the line itself (reach 0); a stroke crossing the frame goes on.
    """
    x0, y0, x1, y1 = view.px(box.bbox, cfg.edge_pt)
    # the blank's ink ±1 px only (a tick drawn over the frame is 1-2 px beside it), and a high
    # floor: the halo of a blurred frame is grey, a pen stroke is dark
    extra = extra_ink(view, x0, y0, x1, y1, shift[0], shift[1], cfg.edge_floor)
    usable, side, far = _edge_geometry(view, box, others, cfg, (x0, y0, x1, y1))
    n = int(usable.sum())
    if not n:
        return 0.0, 0, 1.0  # nothing to be seen: not evidence that the ink stays at the line
    ink = extra * usable
    total = float(ink.sum())
    per_side = np.bincount(side.ravel(), weights=ink.ravel(), minlength=4)
    reach = float(ink[far].sum()) / total if total > 0 else 0.0
    return total / n, int((per_side >= cfg.sector_ink).sum()), reach


def _edge_geometry(
    view: InkView, box: BoxLayout, others: list[BBox], cfg: MarkDefaults, rect: tuple[int, int, int, int]
) -> tuple[NDArray[np.bool_], NDArray[np.int32], NDArray[np.bool_]]:
    """The edge band's usable pixels (off the blank's ink, the inside and other boxes), each pixel's side 0..3, and which lie 2 px or more outside the box."""
    key = ("edge", box, tuple(others), cfg)
    if view.cache is not None and key in view.cache:
        return view.cache[key]  # type: ignore[return-value]
    x0, y0, x1, y1 = rect
    k = px_per_pt(view.dpi)
    usable = view.blank_max[y0:y1, x0:x1] < 0.5
    ix0, iy0, ix1, iy1 = (int(round(v * k)) for v in _inner_box(box, cfg))
    usable[max(0, iy0 - y0) : max(0, iy1 - y0), max(0, ix0 - x0) : max(0, ix1 - x0)] = False
    for ob in others:
        ox0, oy0, ox1, oy1 = (int(round(v * k)) for v in ob)
        usable[max(0, oy0 - 1 - y0) : max(0, oy1 + 1 - y0), max(0, ox0 - 1 - x0) : max(0, ox1 + 1 - x0)] = False
    # the side of each pixel: by the diagonals of the box (box-normalised, as for the ring)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    bx0, by0, bx1, by1 = (v * k for v in box.bbox)
    u = (xx - (bx0 + bx1) / 2) / max((bx1 - bx0) / 2, 1.0)
    v = (yy - (by0 + by1) / 2) / max((by1 - by0) / 2, 1.0)
    side = np.where(np.abs(v) >= np.abs(u), np.where(v < 0, 0, 2), np.where(u > 0, 1, 3)).astype(np.int32)
    far = np.maximum(np.maximum(bx0 - xx, xx - bx1), np.maximum(by0 - yy, yy - by1)) >= 2.0
    geo = (usable, side, far)
    if view.cache is not None:
        view.cache[key] = geo
    return geo


def _struck(view: InkView, box: BoxLayout, shift: tuple[int, int], cfg: MarkDefaults) -> bool:
    """A line through the box that runs on past both sides (二重線 over a mark)."""
    bx0, by0, bx1, by1 = box.bbox
    reach = cfg.strike_reach_pt + 2.0
    x0, y0, x1, y1 = view.px((bx0 - reach, by0 + 1.0, bx1 + reach, by1 - 1.0))
    extra = extra_ink(view, x0, y0, x1, y1, shift[0], shift[1], cfg.noise_floor)
    inked = cv2.dilate(extra, np.ones((3, 1), np.uint8)) > 0.25  # a hand line wanders ±1 px
    hidden = view.blank_max[y0:y1, x0:x1] >= 0.5  # printed text: a line over it cannot be seen
    k = px_per_pt(view.dpi)
    left = slice(0, max(1, int(round(cfg.strike_reach_pt * k))))
    right = slice(inked.shape[1] - max(1, int(round(cfg.strike_reach_pt * k))), inked.shape[1])
    mid = slice(int(round(reach * k)), inked.shape[1] - int(round(reach * k)))

    def covered(cols: slice) -> NDArray[np.bool_]:
        seen = ~hidden[:, cols]
        n_seen = seen.sum(axis=1)
        frac = (inked[:, cols] & seen).sum(axis=1) / np.maximum(n_seen, 1)
        return (frac >= cfg.strike_cover) & (n_seen >= 0.4 * seen.shape[1])

    return bool((covered(left) & covered(right) & covered(mid)).any())


def measure_box(view: InkView, box: BoxLayout, others: list[BBox], cfg: MarkDefaults = MARKS) -> BoxMeasure:
    """Inner ink, ring coverage and strike-through of one box (see the module docstring)."""
    shift = refine(view, box.bbox, cfg)
    x0, y0, x1, y1 = view.px(_inner_box(box, cfg))
    extra = extra_ink(view, x0, y0, x1, y1, shift[0], shift[1], cfg.noise_floor, wide=True)
    inner = float(extra.mean())
    # the middle of the inside: a mark crosses it; a frame printed bolder than the blank's (a
    # bw scan of a □ glyph) only bleeds into the outer pixels
    c = max(1, min(extra.shape) // 5)
    middle = extra[c:-c, c:-c] if min(extra.shape) > 2 * c else extra
    core = float(middle.mean())
    total = float(extra.sum())
    centre = float(middle.sum()) / total if total > 0 else 0.0
    ring, n = _ring(view, box, others, shift, cfg)
    edge, sides, reach = _edge(view, box, others, shift, cfg)
    struck = inner >= cfg.inner_empty and _struck(view, box, shift, cfg)
    faint = extra_ink(view, x0, y0, x1, y1, shift[0], shift[1], cfg.speck_floor, wide=True)
    specks = float(faint.sum())
    return BoxMeasure(inner, edge, ring, n, struck, shift, core, sides, float(extra.max(initial=0.0)), _rim_run(extra), reach, centre, specks)


def _rim_run(extra: NDArray[np.float32]) -> float:
    """How a frame printed bolder than the blank's shows inside the box: ink in the outermost pixels only, along whole sides.

    0 when any ink lies further in, or when none is inside; else, of the sides of the inside's
    outermost pixel ring that hold ink, the least share of the side's length inked. A bolder
    frame inks a side along its length (a blurred line is straight and as long as the side); a
    stroke just inside the frame clips one or two pixels of a side, or a corner.
    """
    if min(extra.shape) < 3 or not extra.any() or extra[1:-1, 1:-1].any():
        return 0.0
    inked = extra > 0
    sides = (inked[0, 1:-1], inked[-1, 1:-1], inked[1:-1, 0], inked[1:-1, -1])
    # a corner pixel belongs to both its sides: alone, it is a stroke clipping the corner
    corners = ((0, 0, 0, 2), (0, -1, 0, 3), (-1, 0, 1, 2), (-1, -1, 1, 3))
    if any(inked[r, c] and not (sides[a].any() or sides[b].any()) for r, c, a, b in corners):
        return 0.0
    return min(float(s.mean()) for s in sides if s.any())


def decide(m: BoxMeasure, cfg: MarkDefaults = MARKS) -> tuple[MarkState, float, str | None]:
    """(state, strength score, note) from a box's measures."""
    ring_score = m.ring / cfg.ring_checked if m.ring_sectors >= cfg.ring_sectors // 2 else 0.0
    score = round(max(m.inner / cfg.inner_checked, ring_score), 3)
    if m.struck:
        return "uncertain", score, "二重線で消された印の可能性（取り消し？）"
    if m.inner <= cfg.inner_empty and m.edge_sides >= cfg.circle_sides and m.edge >= cfg.edge_uncertain:
        return "checked", score, "枠に沿って○"
    if m.inner >= cfg.inner_checked and m.core >= cfg.inner_empty:
        return "checked", score, None
    if m.inner >= cfg.inner_checked and m.edge >= cfg.stray_edge:
        return "checked", score, "枠からはみ出した印"
    if m.inner > cfg.inner_empty and m.core >= cfg.inner_checked and m.centre >= cfg.faint_centre:
        return "checked", score, f"中央に薄い印（インク {m.inner:.3f}）"
    if _bold_frame(m, cfg):
        return "empty", score, "枠線が太く写ったもの（記入なし）"
    if m.inner >= cfg.inner_checked:
        return "uncertain", score, f"枠の内側の縁だけにインク（枠線が太く写った？ インク {m.inner:.3f}）"
    if ring_score >= 1.0:
        return "checked", score, "枠の周りに○"
    if m.inner >= cfg.stray_inner and m.edge >= cfg.stray_edge:
        return "checked", score, "枠からはみ出した印"
    if m.ring >= cfg.tight_ring and m.edge >= cfg.tight_edge:
        return "checked", score, "枠に沿って○"
    if m.inner <= cfg.inner_empty and m.ring <= cfg.ring_empty:
        if m.edge >= cfg.edge_uncertain or (m.edge >= cfg.reach_edge and m.edge_reach >= cfg.reach_share):
            return "uncertain", score, f"枠の縁に記入（はみ出した印？ インク {m.edge:.3f}）"
        if m.ring >= cfg.ring_unsure:
            return "uncertain", score, f"枠の周りに記入（{m.ring:.0%} の範囲：大きな○？）"
        if m.specks >= cfg.speck_uncertain or m.specks >= max(cfg.speck_faint, cfg.speck_spread * m.peak):
            return "uncertain", round(max(score, m.specks / cfg.speck_uncertain * 0.1), 3), f"枠内に薄い点（鉛筆の印？ {m.specks:.2f}）"
        return "empty", score, None
    if m.inner > cfg.inner_empty:
        return "uncertain", score, f"枠内に薄い記入（インク {m.inner:.3f}）"
    return "uncertain", score, f"枠の周りに記入（{m.ring:.0%} の範囲）"


def read_marks(view: InkView, layout: PageLayout, ref: PageRef, cfg: MarkDefaults = MARKS) -> list[tuple[MarkReading, BoxMeasure]]:
    """Read every box of a registered form page; each MarkReading with the measures behind it.

    A box whose only ink is at its edge, next to a box read as circled, is empty: the ink is
    the neighbour's ○ passing by (boxes and brackets sit 4-6 pt apart). So is one next to
    any checked box with a little edge ink reaching out (below edge_uncertain), or with edge
    ink that all lies 2 px or more outside it (edge_reach ≥ away_reach: it never touches
    this box's frame, as a mark of this box's own does).
    A box alone on the page (no other box or field within alone_pt) whose only ink is a
    stroke across two sides of its edge band, on through the ring, is checked: nothing else
    can have put it there (a stray ✓ across a corner of the box).
    """
    boxes = [b.bbox for b in layout.boxes]
    fields = [f.bbox for f in layout.fields]
    measures = [measure_box(view, box, boxes[:i] + boxes[i + 1 :], cfg) for i, box in enumerate(layout.boxes)]
    decided = [decide(m, cfg) for m in measures]
    circled = [i for i, (state, _, _) in enumerate(decided) if state == "checked" and _ringed(measures[i], cfg)]
    checked_owners = {layout.boxes[i].owner for i, (state, _, _) in enumerate(decided) if state == "checked"}
    out = []
    for i, (box, m) in enumerate(zip(layout.boxes, measures)):
        state, score, note = decided[i]
        if m.struck and box.owner in checked_owners:
            state, note = "empty", "二重線で取り消された印（同じ項目の別の枠に記入あり）"
        # a box read checked next to one circled by its ring may hold only that ○ (_hugged, _arc_through)
        rings = [j for j in circled if j != i and measures[j].ring >= cfg.tight_ring and _gap_pt(box.bbox, boxes[j]) <= cfg.ring_pt] if state == "checked" else []
        if rings and _hugged(m, cfg):  # then, with little ring ink, the neighbour rule below makes it empty
            state, note = "uncertain", f"枠の縁のインクは隣（{layout.boxes[rings[0]].option}）の○かもしれません（インク {m.edge:.3f}）"
        crosser = next((j for j in rings if _arc_through(view, box, layout.boxes[j], m.shift_px, cfg)), None) if state == "checked" and m.inner < cfg.arc_inner_max else None
        if crosser is not None:
            state, note = "uncertain", f"枠内のインクは隣（{layout.boxes[crosser].option}）を囲む○の線かもしれません"
        if state == "uncertain" and not m.struck and m.inner <= cfg.inner_empty and m.ring <= cfg.ring_empty:
            near = [j for j in circled if j != i and _gap_pt(box.bbox, boxes[j]) <= cfg.ring_pt]
            # a little edge ink reaching out (below edge_uncertain) next to any mark is that mark's
            marked = [j for j, d in enumerate(decided) if j != i and d[0] == "checked" and _gap_pt(box.bbox, boxes[j]) <= cfg.ring_pt]
            if near:
                b = layout.boxes[near[0]]
                state, note = "empty", f"枠の縁のインクは隣（{b.option}）の○"
            elif m.edge < cfg.edge_uncertain and marked:
                state, note = "empty", None  # as before reach_edge: too little ink to flag beside a mark
            elif m.edge_reach >= cfg.away_reach and marked:
                b = layout.boxes[marked[0]]
                state, note = "empty", f"枠の外のインクは隣（{b.option}）の印（この枠には届いていない）"
            elif _corner_stray(m, cfg) and not any(_gap_pt(box.bbox, b) <= cfg.alone_pt for j, b in enumerate(boxes + fields) if j != i):
                state, note = "checked", f"枠の角を横切った印（枠内にインクなし、インク {m.edge:.3f}）"
        out.append((MarkReading(box.owner, box.option, state, score, ref, box.bbox, "scan", note), m))
    return out


def _hugged(m: BoxMeasure, cfg: MarkDefaults) -> bool:
    """A box read hugged by a ○ only through three sides of its edge band, with little edge ink: beside a box circled by its ring, that ○ may be all it holds."""
    return m.inner <= cfg.inner_empty and m.ring < cfg.tight_ring and m.edge_sides >= cfg.circle_sides and m.edge < cfg.neighbour_hug_edge


def _arc_through(view: InkView, box: BoxLayout, other: BoxLayout, shift: tuple[int, int], cfg: MarkDefaults) -> bool:
    """Whether every stroke inside `box` goes on, across its frame, into the band round `other` (circled by its ring), for at least arc_reach_pt there.

    Boxes sit 4-6 pt apart and a ○ is drawn 3-8 pt outside its box: a wide one crosses the
    neighbour, whose inside then holds a piece of arc, read as a tick (seed 87700-10
    upstream_provider; tests/test_marks_neighbour.py).

    At work dpi a pen ○ is a broken line a pixel wide and the frame it crosses is masked as the
    blank's: strokes are joined over 1 px gaps and over the frame's own pixels.
    """
    rp = cfg.ring_pt
    area = (min(box.bbox[0], other.bbox[0]) - rp, min(box.bbox[1], other.bbox[1]) - rp, max(box.bbox[2], other.bbox[2]) + rp, max(box.bbox[3], other.bbox[3]) + rp)
    x0, y0, x1, y1 = view.px(area)

    def local(b: BBox, grow: float = 0.0) -> tuple[slice, slice]:
        bx0, by0, bx1, by1 = view.px(b, grow)
        return slice(max(0, by0 - y0), max(0, by1 - y0)), slice(max(0, bx0 - x0), max(0, bx1 - x0))

    ink = extra_ink(view, x0, y0, x1, y1, shift[0], shift[1], cfg.noise_floor, wide=True) > 0
    inner = np.zeros_like(ink)
    inner[local(_inner_box(box, cfg))] = True
    near = np.zeros_like(ink)
    near[local(box.bbox, 1.0)] = True
    frame = near & ~inner & (view.allowance[y0:y1, x0:x1] > 0.5)
    joined = cv2.dilate((ink | frame).astype(np.uint8), np.ones((3, 3), np.uint8))
    labels = np.asarray(cv2.connectedComponents(joined, connectivity=8)[1], np.int32)
    band = ~near
    band[local(other.bbox)] = False
    mine = set(np.unique(labels[ink & inner]).tolist())
    reach = cfg.arc_reach_pt * px_per_pt(view.dpi)
    return bool(mine) and all(int((ink & band & (labels == c)).sum()) >= reach for c in mine)


def _bold_frame(m: BoxMeasure, cfg: MarkDefaults) -> bool:
    """The only ink is the printed frame come out bolder than the blank's: a grey halo hugging the line.

    Inside, ink only in the outermost pixels, along whole sides and never dark; outside, edge
    ink that goes no further than the line's own neighbourhood and stays below what a stray
    leaves; no ring. (Thresholds and what they were measured on: settings.py.)
    """
    if m.struck or m.ring > cfg.bleed_ring or m.edge_reach > 0.0 or m.core >= cfg.inner_empty:
        return False
    if m.inner > cfg.inner_empty:  # the halo inside the box
        return m.rim_run >= cfg.bleed_run and m.peak < cfg.bleed_peak and m.edge < cfg.edge_uncertain
    return cfg.edge_uncertain <= m.edge < cfg.frame_edge_max and m.edge_sides <= 2  # the halo outside only


def _corner_stray(m: BoxMeasure, cfg: MarkDefaults) -> bool:
    """Nothing inside, but a stroke's worth of edge ink on two sides that touches the frame and goes on into the ring.

    A frame printed bolder or misregistered stays within 2 px of its line (no ring sector:
    the ring allows for the blank's ink ±2 px); a ○ inks three or four sides.
    """
    sectors = round(m.ring * m.ring_sectors)
    return (
        not m.struck
        and m.inner <= cfg.inner_empty
        and m.edge >= cfg.edge_uncertain
        and m.edge_sides == 2
        and cfg.corner_sectors <= sectors
        and m.ring <= cfg.ring_empty
        and 0.0 < m.edge_reach <= cfg.corner_reach_max
    )


def _ringed(m: BoxMeasure, cfg: MarkDefaults) -> bool:
    """A box whose mark is a ○ around it (which may pass by its neighbours' edges)."""
    return m.ring >= cfg.tight_ring or (m.inner <= cfg.inner_empty and m.edge_sides >= cfg.circle_sides)


def _gap_pt(a: BBox, b: BBox) -> float:
    """Distance between two boxes (points); 0 when they touch or overlap."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return math.hypot(dx, dy)


def unlocated_readings(layout: PageLayout, ref: PageRef) -> tuple[list[MarkReading], list[FieldReading]]:
    """What the printing's layout could not place (calibrate), as read on this page: never a silent empty.

    A box is `uncertain` with the region where it was expected (the item's lines, or the whole
    page) so that the reviewer looks at the page; a field is `not_located` with that region.
    """
    marks: list[MarkReading] = []
    fields: list[FieldReading] = []
    for entry in layout.unlocated:
        if isinstance(entry, BoxLayout):
            note = f"この印刷では枠の位置を特定できませんでした（{entry.option}）。頁 {ref.page} の該当箇所を目視で確認してください"
            marks.append(MarkReading(entry.owner, entry.option, "uncertain", None, ref, entry.bbox, "scan", note))
        elif isinstance(entry, FieldLayout):
            fields.append(FieldReading(entry.name, entry.owner, entry.kind, None, "not_located", None, ref, entry.bbox))
    return marks, fields
