"""A scanned form page whose content moved (a Word filling that reflowed) → where each box and field of the form actually is on it.

The page is first put in a frame: the registration's transform (even one that fits only part
of the page), else the page search's guess; the frame is corrected in x from the lines found.
Its text lines are aligned, order kept, to the blank's flow of lines (every page one after
the other: the tail of one blank page and the head of the next may share a scanned page);
see reflow_lines.py. A box or field is then looked for where its line went: the blank's
picture of its surroundings is matched on the scan a few pixels around that place. Placed,
it is read there, with the blank's own ink carried along (what marks and fields subtract);
in the page's span but not found, it is `uncertain` where it was expected; outside the span
(on another page) it is not this page's. Signature and seal places in a Word table row, and
places reaching into another line, are checked in reflow_place.py.

The result (reflow_moved.py) is a Registration whose reference is the blank moved to the
scan (layout, ink and printed characters where this page has them), so marks and fields
read it unchanged.
Pixels at work dpi in the frame (the blank page's size), origin top left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BoxLayout, FieldLayout
from pipeline.reading.affine import aligned_view, compose, turn_points
from pipeline.reading.references import Reference, as_f32
from pipeline.reading.reflow_lines import Alignment, Flow, Lines, Warp, align_page, form_flow, pair_dy
from pipeline.reading.reflow_place import moved_bbox, own_line, settled_place
from pipeline.reading.reflow_settings import REFLOW, ReflowDefaults
from pipeline.reading.register import darkness, levels

Element = BoxLayout | FieldLayout


@dataclass(frozen=True, slots=True)
class Placement:
    """One box or field of blank page `page` (index into the references) on this scan: offset px, or None when not found."""

    element: Element
    page: int
    offset: tuple[int, int] | None
    guess: tuple[int, int]  # where its line says it is (px), for the crop of one not found
    corr: float
    grow: int = 0  # px its table row grew under it (a signature or seal place, Word): the place reaches down that far


@dataclass(frozen=True, slots=True)
class Located:
    """A scanned page read against the blank's flow: the frame, the alignment and where each element is."""

    frame: NDArray[np.float64]  # blank px → scan px
    lines: Lines
    alignment: Alignment
    flow_pages: tuple[int, ...]  # reference indices of the pages the alignment runs through
    placements: tuple[Placement, ...]
    heads: tuple[int, ...] = ()  # reference indices of the pages whose first lines are on this scan

    @property
    def matched(self) -> int:
        return len(self.alignment.pairs)


def is_form_content(lines: Lines, al: Alignment, flow: Flow, cfg: ReflowDefaults = REFLOW) -> bool:
    """Whether the alignment shows a page of the form: enough of its lines, alike enough.

    A page of a few lines (what reflow pushed past a page's end) is the form's only when
    two of them align closely, nowhere else in the flow nearly as well, and nearly all its
    text lines are the form's: aligned, or written over (a signature and seal on their line)
    where the blank's next or previous line goes, with the bands touching them.
    """
    n = len(al.pairs)
    if n < 2 or not al.sims:
        return False
    if n < cfg.min_lines:
        strong = sum(1 for v in al.sims if v >= cfg.few_lines_sim)
        close = strong >= 2 and al.score - al.runner_up >= cfg.few_lines_margin
        text = [i for i in range(len(lines)) if lines.y1[i] - lines.y0[i] >= cfg.few_lines_min_height_px]
        known = {i for i, _ in al.pairs} | {i for i in range(len(lines)) if _written_over(lines, i, al, flow) or _written_between(lines, i, al, flow, cfg)}
        for i in range(1, len(lines)):  # a seal or signature cut into bands: the pieces touching one known
            if i - 1 in known and lines.y0[i] - lines.y1[i - 1] <= 2:
                known.add(i)
        for i in range(len(lines) - 2, -1, -1):
            if i + 1 in known and lines.y0[i + 1] - lines.y1[i] <= 2:
                known.add(i)
        explained = sum(1 for i in text if i in known)
        return close and explained >= cfg.few_lines_share * len(text)
    return (n >= cfg.min_share * len(lines) or n >= cfg.many_lines) and float(np.mean(al.sims)) >= cfg.mean_sim


def _written_over(lines: Lines, i: int, al: Alignment, flow: Flow) -> bool:
    """Whether unpaired scan line i overlaps, at the nearest pair's offset, the blank's line just before or after the aligned run."""
    (i0, j0), (i1, j1) = al.pairs[0], al.pairs[-1]
    if i < i0:
        i_ref, j_ref, j = i0, j0, j0 - 1
    elif i > i1:
        i_ref, j_ref, j = i1, j1, j1 + 1
    else:
        return False
    if j < 0 or j >= len(flow.page) or flow.page[j] != flow.page[j_ref]:
        return False
    dy = pair_dy(lines, i_ref, flow.lines, j_ref)
    return bool(min(lines.y1[i] - dy, flow.lines.y1[j]) > max(lines.y0[i] - dy, flow.lines.y0[j]))


def _written_between(lines: Lines, i: int, al: Alignment, flow: Flow, cfg: ReflowDefaults = REFLOW) -> bool:
    """Whether unpaired scan line i, between two pairs at most max_skip blank lines apart, overlaps an unpaired blank line between them.

    The blank line is put where the pair on its own blank page puts it: across a blank page's
    end the two pairs' offsets differ by the page. Seed 87150-05 p3 (word_scan): 1-2-1 pushed
    whole onto the next sheet, its 活動内容 line typed into and its signed line (signature and
    seal) unpaired between blank p2's last aligned line and p3's first: 5 of 8 lines explained
    and the form page went to the attachments.
    """
    if i in {a for a, _ in al.pairs}:
        return False
    before = [(a, b) for a, b in al.pairs if a < i]
    after = [(a, b) for a, b in al.pairs if a > i]
    if not before or not after:
        return False
    (ia, ja), (ib, jb) = before[-1], after[0]
    if not 1 < jb - ja <= cfg.max_skip + 1:
        return False
    for j in range(ja + 1, jb):
        ref = (ia, ja) if flow.page[j] == flow.page[ja] else (ib, jb) if flow.page[j] == flow.page[jb] else None
        if ref is None:
            continue
        dy = pair_dy(lines, ref[0], flow.lines, ref[1])
        if min(lines.y1[i] - dy, flow.lines.y1[j]) > max(lines.y0[i] - dy, flow.lines.y0[j]):
            return True
    return False


def _line_offset(flow: Flow, lines: Lines, al: Alignment, j: int) -> tuple[int, ...]:
    """Where flow line j may be on the scan (dy px, likeliest first): its pair's, else its neighbours' (one when they agree); () outside the span.

    The blank's line just before or after the aligned run is in the span when a scan line
    written over sits where it goes (_written_over).

    An unpaired line between neighbours that moved apart (the reflow went between them, or
    writing over it merged it with the next) is where either of them puts it.
    """
    js = [p[1] for p in al.pairs]
    if not js:
        return ()
    if j in (js[0] - 1, js[-1] + 1):  # just outside the run: there when a line written over is there
        i_ref, j_ref = al.pairs[0] if j < js[0] else al.pairs[-1]
        beyond = range(i_ref) if j < js[0] else range(i_ref + 1, len(lines))
        if any(_written_over(lines, i, al, flow) for i in beyond):
            return (round(pair_dy(lines, i_ref, flow.lines, j_ref)),)
    if j < js[0] or j > js[-1]:
        return ()
    dys = [pair_dy(lines, i, flow.lines, jj) if flow.page[jj] == flow.page[j] else math.nan for i, jj in al.pairs]
    if j in js:
        k = js.index(j)
        return () if math.isnan(dys[k]) else (round(dys[k]),)
    k = int(np.searchsorted(js, j))
    around = [round(d) for d in (dys[k - 1], dys[k]) if not math.isnan(d)]
    if len(around) == 2 and abs(around[0] - around[1]) <= 4:
        return (around[0],)
    return tuple(around)


def _template(ref: Reference, line: tuple[int, int], el: Element, cfg: ReflowDefaults) -> tuple[int, int, NDArray[np.float32]]:
    """(x0, y0, picture) of the blank around an element: its line's rows (and the box's) ± pad; a box's columns ± pad, a field's whole line.

    A field is a blank place: its own columns hold little print (an underline, 「印」), and
    what is written there is not the blank's; the line's label finds it.
    """
    k = px_per_pt(ref.dpi)
    h, w = ref.dark.shape
    ex0, ey0, ex1, ey1 = (int(round(v * k)) for v in el.bbox)
    ty0 = max(0, min(line[0], ey0 if isinstance(el, BoxLayout) else line[0]) - cfg.pad_y_px)
    ty1 = min(h, max(line[1], ey1 if isinstance(el, BoxLayout) else line[1]) + cfg.pad_y_px)
    tx0, tx1 = max(0, ex0 - cfg.pad_x_px), min(w, ex1 + cfg.pad_x_px)
    if isinstance(el, FieldLayout) or float((ref.dark[ty0:ty1, tx0:tx1] > cfg.ink).mean()) < 0.02:
        tx0, tx1 = 0, w
    return tx0, ty0, ref.dark[ty0:ty1, tx0:tx1]


def _search(
    dark: NDArray[np.float32],
    tx0: int,
    ty0: int,
    tmpl: NDArray[np.float32],
    guess: tuple[int, int],
    cfg: ReflowDefaults,
    skip: tuple[tuple[int, int], ...] = (),
) -> tuple[int, int, float, bool]:
    """(dx, dy, match, on the search's edge) of the template's best place within ±search of guess; match -1 when the area is off the page.

    Where the picture of print alone does not match (a mark or writing over the line), only
    the blank's print ±1 px is compared (a masked correlation). A field's own place (what
    is typed or written there touches its underline), and any other field's on its line, is
    left out of both comparisons (`skip`: the columns of the fields on its line).
    """
    dx, dy = guess
    sx, sy = cfg.search_x_px, cfg.search_y_px
    th, tw = tmpl.shape
    ax0, ay0, ax1, ay1 = tx0 + dx - sx, ty0 + dy - sy, tx0 + tw + dx + sx, ty0 + th + dy + sy
    hs, ws = dark.shape
    if ay0 < 0 or ay1 > hs or ax0 < -sx or ax1 > ws + sx:
        return dx, dy, -1.0, False
    area = np.pad(dark[ay0:ay1, max(0, ax0) : min(ws, ax1)], ((0, 0), (max(0, -ax0), max(0, ax1 - ws))))
    if skip:  # blank both where the places may be, whatever the shift
        tmpl, area = tmpl.copy(), area.copy()
        for c0, c1 in skip:
            tmpl[:, max(0, c0 - 2 * sx) : max(0, c1 + 2 * sx)] = 0.0
            area[:, max(0, c0) : max(0, c1 + 2 * sx)] = 0.0
        if float(tmpl.std()) < 0.02:
            return dx, dy, 0.0, False
    res = cv2.matchTemplate(area, tmpl, cv2.TM_CCOEFF_NORMED)
    _, peak, _, (bx, by) = cv2.minMaxLoc(res)
    if peak < cfg.place_min_corr:
        mask = as_f32(cv2.dilate((tmpl > cfg.ink).astype(np.uint8), np.ones((3, 3), np.uint8)))
        if float(mask.sum()) < cfg.place_min_mask_px:
            return dx, dy, min(peak, 0.0), False
        res = cv2.matchTemplate(area, tmpl, cv2.TM_CCORR_NORMED, mask=mask)
        _, masked, _, (bx, by) = cv2.minMaxLoc(np.nan_to_num(res, nan=0.0, posinf=0.0, neginf=0.0))  # flat areas give inf
        peak = masked if masked >= cfg.place_min_masked else min(peak, 0.0)
    edge = bx in (0, 2 * sx) or by in (0, 2 * sy)
    return dx - sx + bx, dy - sy + by, float(peak), edge


def place_one(
    dark: NDArray[np.float32], ref: Reference, line: tuple[int, int], el: Element, guess: tuple[int, int], cfg: ReflowDefaults
) -> tuple[tuple[int, int] | None, float]:
    """The element's offset (px) where the blank's surroundings match the scan best near `guess` (None: nowhere), and the match.

    A best place on the search's edge is searched again around it, once (a line's own
    offset is a few px off when writing on it pulls its top or bottom).
    """
    tx0, ty0, tmpl = _template(ref, line, el, cfg)
    if float(tmpl.std()) < 0.02:
        return None, 0.0
    tmpl = as_f32(tmpl)
    skip: tuple[tuple[int, int], ...] = ()
    if isinstance(el, FieldLayout):
        k = px_per_pt(ref.dpi)
        on_line = [f.bbox for f in ref.layout.fields if min(f.bbox[3], el.bbox[3]) > max(f.bbox[1], el.bbox[1])]
        skip = tuple((int(b[0] * k) - tx0 - 2, int(b[2] * k) - tx0 + 2) for b in on_line)
    dx, dy, peak, edge = _search(dark, tx0, ty0, tmpl, guess, cfg, skip)
    if edge and peak > 0:
        dx, dy, peak, edge = _search(dark, tx0, ty0, tmpl, (dx, dy), cfg, skip)
    if peak <= 0 or edge:
        return None, max(peak, 0.0)
    return (dx, dy), peak


def _beyond_span(flow: Flow, lines: Lines, al: Alignment, j: int, loose: list[int], cfg: ReflowDefaults) -> int | None:
    """The offset (dy px) at which flow line j, just outside the aligned run on its page, may still be on this scan; None when it is not.

    Text lines of the scan left unaligned past the run's end (a table written over, a line
    that matched nothing) may be the blank's next lines: a line of the run's last page whose
    place (at the last pair's offset, which only grows down the page) is not below the lowest
    of them by more than a line may be there. Above the run's start, the blank's lines as
    many as the unaligned text lines above it (and two more) may be there. Such an element
    is not read: it is `uncertain` where it may be, never silently absent.
    """
    (i0, j0), (i1, j1) = al.pairs[0], al.pairs[-1]
    text = loose  # the scan's text lines outside the run that nothing explains (_unexplained)
    if j > j1 and flow.page[j] == flow.page[j1]:
        below = [i for i in text if i > i1]
        dy = pair_dy(lines, i1, flow.lines, j1)
        if below and flow.lines.y0[j] + dy <= lines.y1[below[-1]] + cfg.beyond_margin_px:
            return round(dy)
    if j < j0 and flow.page[j] == flow.page[j0]:
        above = [i for i in text if i < i0]
        if above and j0 - j <= len(above) + 2:
            return round(pair_dy(lines, i0, flow.lines, j0))
    return None


def _fits_before(flow: Flow, lines: Lines, al: Alignment, j: int, dy: int, cfg: ReflowDefaults) -> bool:
    """Whether the blank's lines from j to the aligned run's first (on its page) are on the scan at the run's offset dy: a text line over each, none between or beside them.

    The run may start a line late: the line just before it merged on the scan with it (seed
    86500-01 p11: 「e-mail: info@…」 touched the next printed line; FAX and e-mail, unaligned,
    were not_located at the right offset). Nothing pushed them apart from the run when every
    text line of the scan from there down to the run's first is one of them.
    """
    i0, j0 = al.pairs[0]
    if not j < j0 or flow.page[j] != flow.page[j0]:
        return False
    rows = [(float(flow.lines.y0[jj]) + dy, float(flow.lines.y1[jj]) + dy) for jj in range(j, j0)]
    text = [i for i in range(i0) if lines.y1[i] - lines.y0[i] >= cfg.few_lines_min_height_px and lines.y0[i] >= rows[0][0] - cfg.search_y_px]

    def over(i: int, a: float, b: float) -> bool:
        return bool(min(float(lines.y1[i]), b) > max(float(lines.y0[i]), a))

    return all(any(over(i, a, b) for a, b in rows) for i in text) and all(any(over(i, a, b) for i in [*text, i0]) for a, b in rows)


def _unexplained(lines: Lines, al: Alignment, flow: Flow, cfg: ReflowDefaults) -> list[int]:
    """The scan's text lines outside the aligned run that nothing explains: not written over the blank's line next to the run, nor touching one that is."""
    over = {i for i in range(len(lines)) if _written_over(lines, i, al, flow)}
    for _ in range(2):  # a seal or signature cut into bands: the pieces touching one written over
        over |= {i for i in range(len(lines)) if any(abs(int(lines.y0[i]) - int(lines.y1[o])) <= 2 or abs(int(lines.y0[o]) - int(lines.y1[i])) <= 2 for o in over)}
    i0, i1 = al.pairs[0][0], al.pairs[-1][0]
    tall = [i for i in range(len(lines)) if lines.y1[i] - lines.y0[i] >= cfg.few_lines_min_height_px]
    return [i for i in tall if (i < i0 or i > i1) and i not in over]


def _overlapping(placements: list[Placement], k: float) -> set[int]:
    """The indices of placed boxes that landed on another placed box (two of the blank's boxes cannot be one on the scan)."""
    boxes = [(n, pl) for n, pl in enumerate(placements) if pl.offset is not None and isinstance(pl.element, BoxLayout)]
    out: set[int] = set()
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (na, pa), (nb, pb) = boxes[a], boxes[b]
            ba = moved_bbox(pa.element.bbox, pa.offset or (0, 0), k * 72.0)
            bb = moved_bbox(pb.element.bbox, pb.offset or (0, 0), k * 72.0)
            if min(ba[2], bb[2]) - max(ba[0], bb[0]) > 0 and min(ba[3], bb[3]) - max(ba[1], bb[1]) > 0:
                out |= {na, nb}
    return out


def place_elements(
    dark: NDArray[np.float32], lines: Lines, al: Alignment, refs: tuple[Reference, ...], cfg: ReflowDefaults = REFLOW
) -> tuple[Placement, ...]:
    """Every box and field of the pages the alignment runs through, placed on the scan or not (see the module docstring).

    Two tries for one element (its line's neighbours put it at two offsets) that both match
    at different places, or two boxes placed on one spot, are not placed: `uncertain`.
    """
    flow = form_flow(refs, cfg)
    if not al.pairs:
        return ()
    pages = sorted({int(flow.page[j]) for _, j in al.pairs})
    first = {p: int(np.flatnonzero(flow.page == p)[0]) for p in pages}
    k = px_per_pt(refs[0].dpi)
    out: list[Placement] = []
    loose = _unexplained(lines, al, flow, cfg)
    for p in pages:
        ref, own = refs[p], flow.per_page[p]
        elements: list[Element] = [*ref.layout.boxes, *ref.layout.fields]
        for el in elements:
            li = own_line(own, ref, el, cfg)
            if li is None:
                continue
            found = _line_offset(flow, lines, al, first[p] + li)
            if not found:
                maybe = _beyond_span(flow, lines, al, first[p] + li, loose, cfg)
                if maybe is not None:
                    near = place_one(dark, ref, (int(own.y0[li]), int(own.y1[li])), el, (0, maybe), cfg) if _fits_before(flow, lines, al, first[p] + li, maybe, cfg) else (None, 0.0)
                    el_at, offset, grow = settled_place(dark, ref, el, (flow, lines, al, first[p] + li), (maybe,), near[0], cfg)  # a grown row pushed past the run
                    out.append(Placement(el_at, p, offset, (0, maybe), near[1], grow))
                continue  # not on this page
            tries = [((0, dy), *place_one(dark, ref, (int(own.y0[li]), int(own.y1[li])), el, (0, dy), cfg)) for dy in found]
            placed = [t for t in tries if t[1] is not None]
            guess, offset, corr = max(placed, key=lambda t: t[2]) if placed else tries[0]
            if len({t[1] for t in placed}) > 1 and min(t[2] for t in placed) >= corr - cfg.placement_margin:
                offset = None  # two places fit nearly as well: which one is its own is not known
            el, offset, grow = settled_place(dark, ref, el, (flow, lines, al, first[p] + li), found, offset, cfg)
            out.append(Placement(el, p, offset, guess, corr, grow))
    clash = _overlapping(out, k)
    return tuple(replace(pl, offset=None) if n in clash else pl for n, pl in enumerate(out))


def warper(gray: NDArray[np.uint8], size: tuple[int, int]) -> Warp:
    """The scan's darkness in a frame, `size` (w, h) px."""
    paper, ink = levels(gray)

    def warp(m: NDArray[np.float64]) -> NDArray[np.float32]:
        return darkness(aligned_view(gray, m, size), paper, ink)

    return warp


def centred(frame: NDArray[np.float64], blank_size: tuple[int, int], scan_size: tuple[int, int]) -> NDArray[np.float64]:
    """The frame's rotation and scale about the page centres, without its shift (w, h px): a page placed as scanners place it."""
    a = frame[:, :2]
    c_blank = np.array(blank_size, float) / 2
    c_scan = np.array(scan_size, float) / 2
    return np.hstack([a, (c_scan - a @ c_blank)[:, None]])


def skew_angle(gray: NDArray[np.uint8], cfg: ReflowDefaults = REFLOW) -> float:
    """The angle (radians) of the page's text lines: the slope whose row projection of the ink is sharpest, within ±skew_max_deg."""
    paper, ink = levels(gray)
    ys, xs = np.nonzero(darkness(gray, paper, ink) > cfg.ink)
    if len(xs) < 100:
        return 0.0
    step = max(1, len(xs) // 60000)
    xs, ys = xs[::step].astype(np.float64), ys[::step].astype(np.float64)
    best, arg = -1.0, 0.0
    for deg in np.arange(-cfg.skew_max_deg, cfg.skew_max_deg + 1e-9, cfg.skew_step_deg):
        t = math.tan(math.radians(deg))
        hist = np.bincount(np.clip(np.rint(ys - xs * t), 0, None).astype(np.int64))
        sharp = float((hist.astype(np.float64) ** 2).sum())
        if sharp > best:
            best, arg = sharp, math.radians(deg)
    return arg


def plain_frame(gray: NDArray[np.uint8], blank_size: tuple[int, int], cfg: ReflowDefaults = REFLOW) -> NDArray[np.float64]:
    """The page as a scanner places it: its text lines' own slope, the scan's size, centred (x scale and shift corrected later)."""
    a = skew_angle(gray, cfg)
    rot = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
    return centred(rot, blank_size, (gray.shape[1], gray.shape[0]))


def _far(frame: NDArray[np.float64], plain: NDArray[np.float64], cfg: ReflowDefaults) -> bool:
    """Whether a fitted frame turns or scales the page unlike the plain one (a fit to a part, or to the wrong page)."""
    s_f, s_p = math.hypot(frame[0, 0], frame[1, 0]), math.hypot(plain[0, 0], plain[1, 0])
    a_f, a_p = math.atan2(frame[1, 0], frame[0, 0]), math.atan2(plain[1, 0], plain[0, 0])
    return abs(s_f / s_p - 1.0) > cfg.frame_scale_range / 2 or abs(math.degrees(a_f - a_p)) > cfg.skew_step_deg * 2


def locate(
    gray: NDArray[np.uint8], frame: NDArray[np.float64], refs: tuple[Reference, ...], cfg: ReflowDefaults = REFLOW, registered: bool = False
) -> Located | None:
    """The page read against the blank's flow (see the module docstring); None when it is not the form's content.

    A fit that found only part of the page (or the wrong page: a page of few lines gives
    corners to little) may be shifted far up or down: what it puts above or below the
    blank's page is lost. When its rows sit further than frame_keep_px from the page's
    centred rows (more than a scanner shifts a page), the frame with the centred rows (the
    whole scanned page in view) is tried too, and the better alignment kept. The centred
    frame (columns too) is tried when neither shows the form's lines, and a page of a few
    lines the other way up. A fit that turns or scales the page unlike its own text lines
    (a fit to the wrong page: seed 84151 p5-p6 at scale 1.01-1.08, turned 1.8°, were
    rejected and read as attachments) is tried against the plain frame (plain_frame) too,
    and so is a page of few lines that nothing else showed (seed 84500-01 p13, 8 lines: the
    fit turned 0.17° more than its rows, its label lines no longer matched). A page of
    let_go_lines lines or more none of which aligns in the first frame is let go at once (not
    when that frame is a fit to the wrong page, _far: seed 86400-02 p8, 32 lines, fitted to
    blank p6 at scale 1.11, none aligned, in its own frame 25; nor when it is shifted from the
    page's own by more than frame_keep_px: seed 86400-02 p14, a fit 17 px off in x), and a
    page of let_go_few_pairs_lines or more of which one line aligns at most, in the first frame
    and in its own (plain_frame), after those two.
    A `registered` frame (the registration's, right where the content did not move) is
    tried first as it is, uncorrected in x: the line ends of a page of typed answers put
    the correction at a wrong scale (seed 84102 p3: 0.9675, 5 lines aligned, the page read
    at the registration's places, two boxes wrong; as it is, 30 of 35 lines).
    """
    blank_size = (refs[0].dark.shape[1], refs[0].dark.shape[0])
    warp = warper(gray, blank_size)
    flow = form_flow(refs, cfg)
    whole = centred(frame, blank_size, (gray.shape[1], gray.shape[0]))
    done: dict[tuple[bytes, bool], tuple[NDArray[np.float64], NDArray[np.float32], Lines, Alignment]] = {}

    def aligned_in(f: NDArray[np.float64], correct_x: bool = True) -> tuple[NDArray[np.float64], NDArray[np.float32], Lines, Alignment]:
        key = (np.asarray(f, np.float64).tobytes(), correct_x)  # a frame tried twice (the plain one) is aligned once
        if key not in done:
            done[key] = align_page(warp, f, refs, cfg, correct_x)
        return done[key]

    first = aligned_in(frame, not registered)
    plain = plain_frame(gray, blank_size, cfg)
    cut: list[tuple[NDArray[np.float64], NDArray[np.float32], Lines, Alignment]] = []

    def split_plain() -> tuple[NDArray[np.float64], NDArray[np.float32], Lines, Alignment]:
        """The page in its own frame with its bands of two lines cut (page_lines' split): a page of a few lines whose brackets joined two."""
        if not cut:
            cut.append(align_page(warp, plain, refs, cfg, True, split=True))
        return cut[0]

    far = _far(frame, plain, cfg)
    shifted = float(np.abs(frame[:, 2] - plain[:, 2]).max()) > cfg.frame_keep_px
    if not registered and not far and not shifted and not first[3].pairs and len(first[2]) >= cfg.let_go_lines:
        return None  # a page of many lines none of which is the form's: another document's
    if not registered and len(first[3].pairs) < 2 and len(first[2]) >= cfg.let_go_few_pairs_lines and len(aligned_in(plain)[3].pairs) < 2:
        if len(aligned_in(plain)[2]) >= cfg.let_go_few_pairs_lines or len(split_plain()[3].pairs) < 2:
            return None  # a line paired at most, in its frame and in its own: another document's page
    tries = [(frame, True)] if registered else []
    if abs(frame[1, 2] - whole[1, 2]) > cfg.frame_keep_px:
        tries.append((np.vstack([frame[0], whole[1]]), True))
    if far:
        cx, cy = blank_size[0] / 2, blank_size[1] / 2
        tries += [(compose(plain, np.array([[s, 0.0, (1 - s) * cx], [0.0, s, (1 - s) * cy]])), True) for s in cfg.plain_scales]
    aligned = [first, *(aligned_in(f, c) for f, c in tries)]
    found = [t for t in aligned if is_form_content(t[2], t[3], flow, cfg)]
    if not found:
        found = [t for t in [aligned_in(whole)] if is_form_content(t[2], t[3], flow, cfg)]
    # a few lines: a fit turned a little wrong loses them; more: a fit shifted (seed 86400-02 p14)
    if not found and not far and (len(aligned[0][2]) < cfg.many_lines or shifted):
        found = [t for t in [aligned_in(plain)] if is_form_content(t[2], t[3], flow, cfg)]
    if not found:
        # a page of a few lines tells the page search little of which way up it is
        t = aligned_in(compose(whole, turn_points(2, *blank_size)))
        found = [t] if 0 < len(t[2]) < cfg.min_lines and is_form_content(t[2], t[3], flow, cfg) else []
    if not found and 0 < len(aligned_in(plain)[2]) < cfg.let_go_few_pairs_lines:
        found = [t for t in [split_plain()] if is_form_content(t[2], t[3], flow, cfg)]
    if not found:
        return None
    frame, dark, lines, al = max(found, key=lambda t: t[3].score)
    pages = tuple(sorted({int(flow.page[j]) for _, j in al.pairs}))
    return Located(frame, lines, al, pages, place_elements(dark, lines, al, refs, cfg), heads(flow, al, cfg))


def heads(flow: Flow, al: Alignment, cfg: ReflowDefaults = REFLOW) -> tuple[int, ...]:
    """The blank pages whose first line is within the aligned run (or at most max_skip lines before it: unaligned at the scan's top)."""
    if not al.pairs:
        return ()
    j0, j1 = al.pairs[0][1], al.pairs[-1][1]
    pages = sorted({int(flow.page[j]) for _, j in al.pairs})
    return tuple(p for p in pages if j0 - cfg.max_skip <= int(np.flatnonzero(flow.page == p)[0]) <= j1)
