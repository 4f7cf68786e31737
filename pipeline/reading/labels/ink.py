"""The ink of a scanned label corner: blank pages, binarising, frames found and stripped, components chained into lines, a line's image for OCR."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings


def ink_fraction(gray: NDArray[np.uint8], dpi: float) -> float:
    """Share of clearly dark pixels among a ~50-dpi grid of samples inside a 4 % margin (0.2 ms at 300 dpi).

    Sampling, not averaging: a grid point hits one of a few specks rarely, while three lines of
    text put hundreds of points on ink.
    """
    step = max(1, round(dpi / 50.0))
    h, w = gray.shape[:2]
    core = gray[int(h * 0.04) : int(h * 0.96) : step, int(w * 0.04) : int(w * 0.96) : step]
    if not core.size:
        return 0.0
    paper = float(np.percentile(core, 90))
    return float(np.count_nonzero(core < paper - 60)) / core.size


def is_blank_image(gray: NDArray[np.uint8], dpi: float, settings: LabelSettings = LABEL_SETTINGS) -> bool:
    """A scanned page with (almost) no ink: a separator sheet or an empty back side."""
    return ink_fraction(gray, dpi) < settings.blank_ink_fraction


@dataclass(frozen=True, slots=True)
class Group:
    """Components of the corner chained into one candidate line."""

    comps: list[int]
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in crop pixels (x1, y1 exclusive)
    height: int  # height of its tallest glyph


def binarise(crop: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Ink (1) and paper (0) of a grayscale crop, ink dark.

    Paler ink touching the darker (hysteresis to 0.85 of the paper) was tried for a faint pen's strokes (a 4's stem lost:
    validation rows seed 88206 #41) and dropped: seed 88210, 4 labels gained, 8 lost to thicker, joined glyphs.
    """
    # 0.75 of the paper level keeps 1-px dashes of 7-pt labels at 150 dpi; JPEG noise (σ ≤ 7) stays above it
    paper = float(np.percentile(crop[::4, ::4], 95)) if crop.size else 255.0
    return (crop < paper * 0.75).astype(np.uint8)


def _strip_frames(binary: NDArray[np.uint8], stats: NDArray[np.int32], lab: NDArray[np.int32], idx: list[int], pt_px: float) -> bool:
    """Erase the lines of any rectangular frame (boxed labels) from ``binary``, keeping digits that touch it.

    Where a stroke runs into the line (a 7's bar drawn against the frame's top), the line is thicker
    than along the rest of its side; there the ink past the line's width is left standing
    (_frame_line), so the digit keeps its bar. glyphs.py looks for digits whose top still touches
    what was erased (touches_frame_top).
    """
    import cv2

    erased = False
    for i in idx:
        x, y, w, h, area = (int(v) for v in stats[i])
        if not (w >= 8 * pt_px and h >= 5 * pt_px and w >= 1.2 * h and area < 0.3 * w * h):
            continue
        local = (lab[y : y + h, x : x + w] == i).astype(np.uint8)
        corners = cv2.boxPoints(cv2.minAreaRect(cv2.findNonZero(local)))
        box = corners.astype(np.int32)
        line_px = min(max(1.0, area / (2.0 * (w + h))), 2.5 * pt_px)
        ring = np.zeros_like(local)
        cv2.drawContours(ring, [box], 0, 1, thickness=int(2 * line_px + 4))
        on_ring = (ring & local) > 0
        if _outlined(on_ring, box, line_px, int(on_ring.sum()) / area) and _holds(stats, idx, i, on_ring, area):
            binary[y : y + h, x : x + w][on_ring & _frame_line(local, on_ring, np.asarray(corners, np.float64))] = 0
            erased = True
    return erased


def _holds(stats: NDArray[np.int32], idx: list[int], i: int, on_ring: NDArray[np.bool_], area: int) -> bool:
    """Whether the frame-shaped component ``i`` holds a label: another kept component centred inside its box, or its
    own ink off the ring (digits written into the frame join it) at least half its ink.

    A handwritten 4, wide, thin and open, runs round its own small box within the ring's width (2 line widths + 4 px):
    it measured as a frame and was erased, and 4-1-3 7-1-1 and 4-3-1 lost their 4 (validation rows seed 88203 #47 and
    #68, 0.35 of the 4's ink off the ring; the line then unread: 2 of 300 pages, every erasure of that seed). A frame
    holds the label it was drawn round.
    """
    x, y, w, h = (int(v) for v in stats[i, :4])
    for j in idx:
        if j != i:
            cx, cy = stats[j, 0] + stats[j, 2] / 2.0, stats[j, 1] + stats[j, 3] / 2.0
            if x < cx < x + w and y < cy < y + h:
                return True
    return area - int(on_ring.sum()) >= 0.5 * area


def _outlined(on_ring: NDArray[np.bool_], box: NDArray[np.int32], line_px: float, ring_share: float = 0.0) -> bool:
    """Whether ink runs round the rectangle ``box``: a frame, however much ink touches it.

    Round means ≥ 97 % of its outline, or ≥ 90 % with ``ring_share`` ≥ 0.85 of the component's ink on
    the ring (a frame broken by a faint scan: seed 909, 92 % and 0.93).

    Bench seeds 404 and 808: every drawn frame covered ≥ 99 % of its box; the other components shaped
    like one (a thin, sparse glyph at least 8 pt wide, as a handwritten 5 with its dash written into
    it) covered ≤ 95 %, and with 60 % or more of their ink near the box, the test before, they were
    erased (808: 7-5-2 lost its 5 and was left uncertain); none covering ≥ 90 % had over 80 % of its
    ink near the box. Digits that all reach a frame (a thin line, a thick pen) join it into one
    component whose ink lies mostly off the ring: it is a frame still.
    """
    import cv2

    outline = np.zeros(on_ring.shape, np.uint8)
    cv2.drawContours(outline, [box], 0, 1, thickness=1)
    size = int(2 * line_px + 4) + 1  # the ring's width: the line may lie that far inside a box widened by a digit
    near = np.asarray(cv2.dilate(on_ring.astype(np.uint8), np.ones((size, size), np.uint8)), dtype=np.uint8)
    covered = int((outline & near).sum()) / max(int(outline.sum()), 1)
    return covered >= 0.97 or (covered >= 0.9 and ring_share >= 0.85)


def _frame_line(local: NDArray[np.uint8], on_ring: NDArray[np.bool_], corners: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Of a frame component's pixels, those that are its line alone: not where a stroke runs into it.

    Each pixel belongs to its nearest side of the frame's rectangle (``corners``, its minimum-area
    box). Along a side, in 1-px steps, the ink that starts at the rectangle's outer edge is as thick
    as the line (the median over the side, measured on ``on_ring``); a step where the ink from the
    outer edge reaches 2 px further or more holds a stroke too (bench seed 404: the bar of a 7
    drawn into the top line was erased with it, and 7-6-2 read 1-6-2). In those steps, and one either
    side, the ink deeper than the line is kept (the line itself would make the digit taller, and a
    stub of it is a flag to the shape test); steps near a corner are not judged.
    """
    ys, xs = np.nonzero(local)
    pts = np.column_stack([xs, ys]).astype(np.float64)
    centre = corners.mean(axis=0)
    d_all, s_all = [], []
    for k in range(4):
        a, b = corners[k], corners[(k + 1) % 4]
        u = (b - a) / max(float(np.hypot(*(b - a))), 1e-6)
        n = np.array([-u[1], u[0]])
        if float((centre - a) @ n) < 0:
            n = -n
        d_all.append((pts - a) @ n)
        s_all.append((pts - a) @ u)
    d = np.array(d_all)
    side = np.argmin(d, axis=0)
    ring = on_ring[ys, xs]
    line = np.ones(len(pts), bool)
    for k in range(4):
        sel = np.flatnonzero(side == k)
        if sel.size == 0:
            continue
        dk, sk = d[k, sel], np.floor(s_all[k][sel]).astype(np.int64)
        s0 = int(sk.min())
        bins = sk - s0
        nb = int(bins.max()) + 1
        dmin = np.full(nb, np.inf)
        np.minimum.at(dmin, bins, dk)
        thick_ring = np.bincount(bins[ring[sel]], minlength=nb)
        filled = thick_ring > 0
        if filled.sum() < 8:
            continue
        t = float(np.median(thick_ring[filled]))
        near_edge = dk <= dmin[bins] + t + 3.0
        thick = np.bincount(bins[near_edge], minlength=nb)
        stroke = thick >= t + 2.0
        margin = int(math.ceil(t)) + 2
        stroke[:margin] = False
        stroke[max(0, nb - margin) :] = False
        if stroke.sum() > 0.3 * nb:  # a side this uneven is not a line of one width: erase it as before
            continue
        stroke = stroke | np.r_[stroke[1:], False] | np.r_[False, stroke[:-1]]
        line[sel[stroke[bins] & (dk > dmin[bins] + t - 0.5)]] = False
    out = np.zeros(local.shape, bool)
    out[ys, xs] = line
    return out


def _label_stats(binary: NDArray[np.uint8]) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """cv2.connectedComponentsWithStats, computed from the ink pixels only.

    OpenCV 5's own statistics pass cost ~10 ms on a 300-dpi corner; labelling alone ~1 ms, and the
    few thousand ink pixels give x, y, w, h and area in well under 1 ms.
    """
    import cv2

    n, lab_any = cv2.connectedComponents(binary, connectivity=8, ltype=cv2.CV_32S)
    lab: NDArray[np.int32] = np.asarray(lab_any, dtype=np.int32)
    stats = np.zeros((n, 5), np.int32)
    pts = cv2.findNonZero(binary)
    if pts is None or n <= 1:
        return lab, stats
    pts = pts.reshape(-1, 2)
    xs, ys = pts[:, 0], pts[:, 1]
    ls = lab[ys, xs]
    order = np.argsort(ls, kind="stable")
    ls, xs, ys = ls[order], xs[order], ys[order]
    starts = np.flatnonzero(np.r_[True, ls[1:] != ls[:-1]])
    ids = ls[starts]
    x0, x1 = np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts)
    y0, y1 = np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)
    stats[ids] = np.column_stack([x0, y0, x1 - x0 + 1, y1 - y0 + 1, np.diff(np.r_[starts, len(ls)])])
    return lab, stats


def components(binary: NDArray[np.uint8], pt_px: float, frames: bool = True) -> tuple[NDArray[np.int32], NDArray[np.int32], list[int]]:
    """Labelled components and the indices worth keeping (specks, page edges, rules and frames dropped)."""

    lab, stats = _label_stats(binary)
    cw = binary.shape[1]
    x, y, w, h = (stats[:, k] for k in range(4))
    keep = (np.maximum(w, h) >= 1.8 * pt_px) | ((w >= 2.5 * h) & (w >= 1.4 * pt_px))
    keep &= (x + w < cw - 1) & (y > 0) & (h < 45 * pt_px) & (w < 0.9 * cw)
    keep[0] = False
    idx = [int(i) for i in np.nonzero(keep)[0]]
    if frames and _strip_frames(binary, stats, lab, idx, pt_px):
        return components(binary, pt_px, frames=False)
    return lab, stats, idx


CornerInk = tuple[NDArray[np.int32], NDArray[np.int32], list[int], NDArray[np.uint8] | None]
"""A crop's ink: component labels, their stats (x, y, w, h, area), the components kept, the frame lines erased (None: no frame)."""


def corner_ink(crop: NDArray[np.uint8], pt_px: float) -> CornerInk:
    """The ink of a crop of the corner split into components, with any frame's lines erased (``pt_px``: pixels per point)."""
    binary = binarise(crop)
    before = binary.copy()
    lab, stats, idx = components(binary, pt_px)  # erases frame lines from `binary`
    erased = (before & (1 - binary)) if not np.array_equal(before, binary) else None
    return lab, stats, idx, erased


def chain_lines(stats: NDArray[np.int32], idx: list[int], gap: float) -> list[Group]:
    """Components chained into lines: overlapping vertically, gaps under ``gap`` glyph heights."""
    if not idx:
        return []
    s = stats[idx].astype(np.float64)
    x0, y0, x1, y1 = s[:, 0], s[:, 1], s[:, 0] + s[:, 2], s[:, 1] + s[:, 3]
    h = s[:, 3]
    ov = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    dx = np.maximum(x0[:, None], x0[None, :]) - np.minimum(x1[:, None], x1[None, :])
    join = (ov >= 0.3 * np.minimum(h[:, None], h[None, :])) & (dx <= gap * np.maximum(h[:, None], h[None, :]))
    parent = list(range(len(idx)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(*np.nonzero(np.triu(join, 1))):
        parent[find(int(a))] = find(int(b))
    members: dict[int, list[int]] = {}
    for k in range(len(idx)):
        members.setdefault(find(k), []).append(k)
    _absorb_inside(members, x0, y0, x1, y1, h)
    return [
        Group([idx[k] for k in ks], (int(x0[ks].min()), int(y0[ks].min()), int(x1[ks].max()), int(y1[ks].max())), int(h[ks].max()))
        for ks in members.values()
    ]


def _absorb_inside(members: dict[int, list[int]], x0: Any, y0: Any, x1: Any, y1: Any, h: Any) -> None:
    """Lone components lying inside a line of three or more joined into it, in place (``members``: root → indices).

    A piece of a digit the scan broke off below the line's overlap with its neighbours is chained to nothing: the lower
    half of a 5 (validation rows seed 88206 #211: 5-2-1 lost its 5's foot, the rest read as a dash, the line unread).
    A piece within the line's columns, 0.3 to 1 times its tallest glyph's height across, may stick out of its rows by up
    to a quarter of that height: the foot of a 3 written low, 1 px under the line's box (seed 88700 #105: 7-1-3's 3 lost
    its lower arc and was read 2 by the classifier, Tesseract and PP-OCR alike, silently); a speck above a 1 does not
    (88703 #125: 1-1-2's 1 with it was a 7 to the classifier).
    """
    lines = [ks for ks in members.values() if len(ks) >= 3]
    for root, ks in list(members.items()):
        if len(ks) != 1:
            continue
        k = ks[0]
        for line in lines:
            top, bottom, tall = y0[line].min(), y1[line].max(), h[line].max()
            size = max(x1[k] - x0[k], y1[k] - y0[k])
            out = 0.25 * tall if 0.3 * tall <= size <= tall else 0.0
            rows = top - out <= y0[k] and y1[k] <= bottom + out and y0[k] < bottom and y1[k] > top
            if x0[line].min() <= x0[k] and x1[k] <= x1[line].max() and rows:
                line.append(k)
                del members[root]
                break


def label_like(g: Group, pt_px: float) -> bool:
    """Whether a line could be a label: three glyphs or more, of a label's height and length (``pt_px``: pixels per point)."""
    w = g.box[2] - g.box[0]
    return len(g.comps) >= 3 and 2.5 * pt_px <= g.height <= 40 * pt_px and 1.6 * g.height <= w <= 16 * g.height and g.box[0] > 2


def line_image(
    crop: NDArray[np.uint8],
    lab: NDArray[np.int32],
    stats: NDArray[np.int32],
    g: Group,
    others: list[int],
    erased: NDArray[np.uint8] | None,
    settings: LabelSettings = LABEL_SETTINGS,
) -> NDArray[np.uint8]:
    """The line's box on white, with other lines' ink and frame lines whitened, straightened and scaled for OCR.

    Ink too faint to binarise (the 1-px dash of a 7-pt label at 150 dpi) is kept: only what is known
    to belong elsewhere is removed.
    """
    import cv2

    x0, y0, x1, y1 = g.box
    pad = max(2, int(0.35 * g.height))
    X0, Y0, X1, Y1 = max(0, x0 - pad), max(0, y0 - pad), min(crop.shape[1], x1 + pad), min(crop.shape[0], y1 + pad)
    sub = crop[Y0:Y1, X0:X1]
    drop = np.isin(lab[Y0:Y1, X0:X1], others).astype(np.uint8)
    if erased is not None:
        drop |= erased[Y0:Y1, X0:X1]
    drop = np.asarray(cv2.dilate(drop, np.ones((3, 3), np.uint8)), dtype=np.uint8) if drop.any() else drop
    own = np.isin(lab[Y0:Y1, X0:X1], g.comps)
    ink = float(np.percentile(sub[own], 5)) if own.any() else 0.0
    paper = float(np.percentile(sub, 90))
    img: NDArray[Any] = np.where(drop > 0, 255, sub).astype(np.float32)
    img = np.clip((img - ink) * 255.0 / max(paper - ink, 1.0), 0, 255).astype(np.uint8)
    tall = [c for c in g.comps if stats[c, 3] >= 0.6 * g.height]
    if len(tall) >= 3:
        cx = stats[tall, 0] + stats[tall, 2] / 2.0
        by = (stats[tall, 1] + stats[tall, 3]).astype(np.float64)
        angle = math.degrees(math.atan(float(np.polyfit(cx, by, 1)[0])))
        if 0.7 <= abs(angle) <= 10:
            h, w = img.shape
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    scale = min(4.0, max(0.4, settings.ocr_target_height_px / max(g.height, 1)))
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    # Tesseract on the grey line read 64 % of typed labels, on the Otsu-binarised line 91 % (eng, bench)
    img = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    return np.asarray(cv2.copyMakeBorder(img, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255), dtype=np.uint8)


def touches_frame_top(lab: NDArray[np.int32], m: Sequence[int], erased: NDArray[np.uint8] | None, line_h: float) -> bool:
    """Whether the glyph ``m`` (x, y, w, h, then its components) meets an erased frame line that could hide a 7's bar.

    A 7's bar drawn into a frame's top line, no thicker than the line and within it, is erased with it and the 7 is a 1 to
    every reader (bench seed 404: 7-6-2 read 1-6-2, the bar only partly in the line); a 1 whose top touches the line
    looks just the same. True when the glyph has ink next to erased pixels in its top 0.3 line heights, unless its pen
    is at least 2 px wider than the line there: a bar of that pen would stand out of the line, and _frame_line keeps
    what stands out.
    """
    if erased is None:
        return False
    import cv2

    x, y, w, h = m[:4]
    Y0, X0 = max(0, y - 2), max(0, x - 2)
    near = erased[Y0 : y + h + 2, X0 : x + w + 2]
    if not near.any():
        return False
    own = np.isin(lab[Y0 : y + h + 2, X0 : x + w + 2], m[4:]).astype(np.uint8)
    grown = np.asarray(cv2.dilate(own, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    rows = np.flatnonzero((grown & near).any(axis=1)) + Y0
    if not rows.size or int(rows.min()) >= y + 0.3 * line_h:
        return False
    # the line's thickness above the glyph (erased pixels per column), the pen's across the glyph's lower half
    above = erased[max(0, y - round(0.5 * line_h)) : y + round(0.3 * line_h), x : x + w].sum(axis=0)
    pen = _pen_width(own[own.shape[0] // 2 :])
    if not (above > 0).any() or pen is None:
        return True
    return pen < float(np.median(above[above > 0])) + 2.0


def _pen_width(mask: NDArray[np.uint8]) -> float | None:
    """The pen's width across the strokes of ``mask`` (0/1): twice the median distance to the background along the strokes' ridges, less 1.

    Measured across the stroke whatever its slant. The run of ink along a row, used before, is the pen over cos θ for a
    stroke θ from the vertical: a 7's slanting stem gave 7 px for a 4-5 px pen, which made a bar erased with a 3 px
    frame line seem to stand out of it (test_a_seven_whose_bar_runs_into_the_frame_is_never_read_as_a_one).
    """
    import cv2

    dist = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 5)
    ridge = dist[(dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)) - 1e-6) & (dist > 0)]
    return 2.0 * float(np.median(ridge)) - 1.0 if ridge.size else None
