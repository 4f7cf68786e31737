"""Text lines of a page and their order-preserving alignment to the blank form's flow of lines.

A form filled in Word reflows: what is typed into a blank pushes everything below it down,
a line or more, and sometimes onto the next page; printed lines keep their order and, within
a line, their places. So a scanned page is read as a run of the blank's lines (possibly the
tail of one blank page and the head of the next) with lines inserted (typed text, pasted
signatures) and an offset that grows down the page.

A line is a band of rows holding ink (printed rules left out, which would join a table's
rows into one band); its descriptor is its ink per column (bins of bin_px), so a line is
compared with another at the same place across the page. Pixels at work dpi in the page's
(blank) frame, origin top left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.records import BoxLayout, FieldLayout
from pipeline.reading.affine import compose
from pipeline.reading.references import Reference
from pipeline.reading.reflow_settings import REFLOW, ReflowDefaults

# The scan's darkness in a frame (blank px → scan px), at the blank page's size.
Warp = Callable[[NDArray[np.float64]], NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class Lines:
    """The text lines of one page: rows y0..y1 (px), their ink centre row, extent in x, and descriptors."""

    y0: NDArray[np.int32]
    y1: NDArray[np.int32]
    yc: NDArray[np.float32]  # ink-weighted centre row
    x0: NDArray[np.int32]
    x1: NDArray[np.int32]
    desc: NDArray[np.float32]  # (n, bins): each line's own pattern of characters, rows of unit length (zero for empty lines)
    rough: NDArray[np.float32]  # (n, bins): where along the line its ink is, rows of unit length

    def __len__(self) -> int:
        return len(self.y0)


def ink_mask(dark: NDArray[np.float32], cfg: ReflowDefaults = REFLOW) -> NDArray[np.uint8]:
    """Ink pixels (1) of a darkness map, printed rules (straight runs of rule_px or more) removed."""
    ink = (dark > cfg.ink).astype(np.uint8)
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((cfg.rule_px, 1), np.uint8))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, cfg.rule_px), np.uint8))
    rules = np.asarray(vert, np.uint8) | np.asarray(horiz, np.uint8)
    return np.asarray(ink & (1 - rules), np.uint8)


def _bands(rows: NDArray[np.int64], cfg: ReflowDefaults, split: bool = False) -> list[tuple[int, int]]:
    """Runs of rows with ink (gaps up to gap_px closed), too-tall runs cut at their emptiest rows (`split`: two lines' worth at a near-empty row too)."""
    on = rows >= cfg.row_min_ink
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
    merged: list[tuple[int, int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= cfg.gap_px:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    out: list[tuple[int, int]] = []
    stack = list(reversed(merged))
    while stack:
        a, b = stack.pop()
        if b - a < cfg.min_height_px:
            continue
        if b - a > cfg.max_height_px:
            lo, hi = a + cfg.min_height_px, b - cfg.min_height_px
            cut = lo + int(np.argmin(rows[lo:hi]))
            stack += [(cut, b), (a, cut)]
            continue
        if split and b - a >= cfg.split_height_px:  # two lines joined by a glyph's tail (a bracket), or a speck between them
            lo, hi = a + cfg.split_min_px, b - cfg.split_min_px
            cut = lo + int(np.argmin(rows[lo:hi]))
            if rows[cut] <= cfg.valley_share * float(np.median(rows[a:b])):
                stack += [(cut, b), (a, cut)]
                continue
        out.append((a, b))
    return out


def _unit(v: NDArray[np.floating]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(v))
    return np.asarray(v / norm if norm > 0 else v, np.float32)


def _descriptors(cols: NDArray[np.float32], nb: int, cfg: ReflowDefaults) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """A line's ink per column → (its characters' pattern, where its ink is): binned, sqrt, smoothed; the first with most of its local mean taken away."""
    binned = np.sqrt(cols[: nb * cfg.bin_px].reshape(nb, cfg.bin_px).sum(axis=1))
    smooth = np.convolve(binned, np.array([1.0, 2.0, 1.0], np.float32) / 4, mode="same")
    w = cfg.detail_bins
    local = np.convolve(smooth, np.ones(w, np.float32) / w, mode="same")
    return _unit(smooth - local * (1.0 - cfg.keep_plateau)), _unit(smooth)


def page_lines(dark: NDArray[np.float32], cfg: ReflowDefaults = REFLOW, split: bool = False) -> Lines:
    """The text lines of a page's darkness map (see the module docstring); `split`: bands of two lines joined at a near-empty row cut there."""
    mask = ink_mask(dark, cfg)
    rows = mask.sum(axis=1, dtype=np.int64)
    bands = _bands(rows, cfg, split)
    h, w = mask.shape
    nb = w // cfg.bin_px
    desc = np.zeros((len(bands), nb), np.float32)
    rough = np.zeros((len(bands), nb), np.float32)
    n = len(bands)
    y0, y1, x0, x1 = (np.zeros(n, np.int32) for _ in range(4))
    yc = np.zeros(n, np.float32)
    for i, (a, b) in enumerate(bands):
        band = mask[a:b]
        cols = band.sum(axis=0, dtype=np.float32)
        xs = np.flatnonzero(cols)
        r = rows[a:b].astype(np.float32)
        y0[i], y1[i], yc[i] = a, b, float((r * np.arange(a, b)).sum() / max(r.sum(), 1.0))
        x0[i], x1[i] = (int(xs[0]), int(xs[-1]) + 1) if len(xs) else (0, 0)
        desc[i], rough[i] = _descriptors(cols, nb, cfg)
    return Lines(y0, y1, yc, x0, x1, desc, rough)


def similarity(a: Lines, b: Lines, *, rough: bool = False, shift_bins: int = 1) -> NDArray[np.float32]:
    """(len(a), len(b)) cosine similarity of the lines' descriptors (`rough`: where the ink is), the best over ±shift_bins of sideways shift."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    da, db = (a.rough, b.rough) if rough else (a.desc, b.desc)
    best = da @ db.T
    for s in range(1, shift_bins + 1):
        best = np.maximum(best, np.roll(da, s, axis=1) @ db.T)
        best = np.maximum(best, np.roll(da, -s, axis=1) @ db.T)
    return np.asarray(best, np.float32)


@dataclass(frozen=True, slots=True)
class Alignment:
    """Pairs (scan line i, flow line j) in order, each pair's similarity, and the alignment's score."""

    pairs: tuple[tuple[int, int], ...]
    sims: tuple[float, ...]
    score: float
    runner_up: float = 0.0  # the best score of an alignment ending away from this one's flow lines


def align(
    sim: NDArray[np.float32],
    ys: NDArray[np.float32],
    fy: NDArray[np.float32],
    cfg: ReflowDefaults = REFLOW,
    floor: float | None = None,
    pages: NDArray[np.int32] | None = None,
) -> Alignment:
    """The best order-preserving local alignment of scan lines (rows of `sim`, centres ys) to flow lines (columns, flow rows fy).

    A pair scores its similarity minus the floor (match_floor unless given); skipping up to
    max_skip scan lines (inserted content) or flow lines costs skip_scan / skip_blank each;
    the change of offset (scan row minus flow row) between consecutive pairs costs drift_cost
    per px down, shrink_cost per px up, except across a blank page's end (`pages`: each flow
    line's page): what follows a page's tail there is the next page's body at whatever
    distance the push left (its running head, if any, stays at the sheet's top). Only pairs within 0.1 of the floor are considered (a
    few per line), so the search is over them alone.
    """
    m, n = sim.shape
    floor = cfg.match_floor if floor is None else floor
    cells = [np.flatnonzero(sim[i] >= floor - 0.1) for i in range(m)]
    score: dict[tuple[int, int], float] = {}
    back: dict[tuple[int, int], tuple[int, int] | None] = {}
    k = cfg.max_skip
    for i in range(m):
        for j in cells[i].tolist():
            best, arg = 0.0, None
            for pi in range(max(0, i - 1 - k), i):
                row = cells[pi]
                lo, hi = np.searchsorted(row, [j - 1 - k, j])
                for pj in row[lo:hi].tolist():
                    prev = score[(pi, pj)]
                    d = 0.0 if pages is not None and pages[j] != pages[pj] else float((ys[i] - ys[pi]) - (fy[j] - fy[pj]))
                    cand = (
                        prev
                        - (i - 1 - pi) * cfg.skip_scan
                        - (j - 1 - pj) * cfg.skip_blank
                        - (d * cfg.drift_cost if d > 0 else -d * cfg.shrink_cost)
                    )
                    if cand > best:
                        best, arg = cand, (pi, pj)
            score[(i, j)] = float(sim[i, j]) - floor + best
            back[(i, j)] = arg
    if not score:
        return Alignment((), (), 0.0)
    end = max(score, key=lambda c: score[c])
    total = score[end]
    if total <= 0:
        return Alignment((), (), 0.0)
    pairs: list[tuple[int, int]] = []
    at: tuple[int, int] | None = end
    while at is not None:
        pairs.append(at)
        at = back[at]
    pairs.reverse()
    lo_j, hi_j = pairs[0][1] - 2, pairs[-1][1] + 2
    runner_up = max([v for (_, j), v in score.items() if j < lo_j or j > hi_j] + [0.0])
    return Alignment(tuple(pairs), tuple(float(sim[p]) for p in pairs), total, runner_up)


@dataclass(frozen=True, slots=True)
class Flow:
    """The blank's text lines, page after page, as one sequence (flow rows: each page's lines follow the last page's)."""

    lines: Lines
    page: NDArray[np.int32]  # index into the references of each line
    index: NDArray[np.int32]  # the line's index among its page's lines
    fy: NDArray[np.float32]
    per_page: tuple[Lines, ...]


def form_flow(refs: tuple[Reference, ...], cfg: ReflowDefaults = REFLOW) -> Flow:
    """Every blank page's lines in one flow (cached with the references)."""
    key = ("flow", cfg)
    if key in refs[0].cache:
        return refs[0].cache[key]  # type: ignore[return-value]
    per = tuple(page_lines(r.dark, cfg) for r in refs)
    fy: list[NDArray[np.float32]] = []
    off = 0.0
    for lines in per:
        if len(lines):
            fy.append(lines.yc - lines.yc[0] + off)
            off += float(lines.yc[-1] - lines.yc[0]) + 2.0 * float(np.median(lines.y1 - lines.y0))
    lines = Lines(
        np.concatenate([p.y0 for p in per]),
        np.concatenate([p.y1 for p in per]),
        np.concatenate([p.yc for p in per]),
        np.concatenate([p.x0 for p in per]),
        np.concatenate([p.x1 for p in per]),
        np.concatenate([p.desc for p in per]),
        np.concatenate([p.rough for p in per]),
    )
    flow = Flow(
        lines,
        np.concatenate([np.full(len(p), k, np.int32) for k, p in enumerate(per)]),
        np.concatenate([np.arange(len(p), dtype=np.int32) for p in per]),
        np.concatenate(fy).astype(np.float32) if fy else np.zeros(0, np.float32),
        per,
    )
    refs[0].cache[key] = flow
    return flow


def _x_correction(lines: Lines, flow: Flow, cfg: ReflowDefaults) -> NDArray[np.float64] | None:
    """The correction (frame px → frame px: one scale about the origin, a shift in x) that puts the page's line ends on the blank's.

    Text lines start at the margin or an indent and full ones end at the right margin: the
    scale and shift that land most of the page's line ends on ends of the blank's lines
    (their histogram, ±1.5 px) win. None when the frame is already right or nothing fits.
    """
    keep = (lines.x1 - lines.x0) > 30
    if keep.sum() < 3:
        return None
    xs = np.concatenate([lines.x0[keep], lines.x1[keep]]).astype(np.float64)
    w = int(max(flow.lines.x1.max(initial=0), xs.max()) + 2)
    hist = np.bincount(np.concatenate([flow.lines.x0, flow.lines.x1]).clip(0, w - 1), minlength=w).astype(np.float64)
    hist = np.convolve(np.minimum(hist, np.percentile(hist[hist > 0], 90) if (hist > 0).any() else 1.0), [0.5, 1.0, 0.5], mode="same")
    hist /= max(hist.max(), 1e-9)
    lags = np.arange(-cfg.frame_search_px, cfg.frame_search_px + 1)
    scales = np.arange(1.0 - cfg.frame_scale_range, 1.0 + cfg.frame_scale_range + 1e-9, 0.0025)
    # every scale at once (the sums run over the line ends in the same order as one scale at a time)
    at = np.rint((xs[:, None] - lags[None, :])[None, :, :] / scales[:, None, None]).astype(np.int64)
    fits = hist[at.clip(0, w - 1)].sum(axis=1) - 0.002 * np.abs(lags)[None, :] - 2.0 * np.abs(scales - 1.0)[:, None]
    best = (0.0, 1.0, 0.0)
    for scale, fit in zip(scales, fits):
        t = int(np.argmax(fit))
        if fit[t] > best[0]:
            best = (float(fit[t]), float(scale), float(lags[t]))
    score, scale, shift = best
    if score < cfg.frame_min_share * len(xs) or (abs(scale - 1.0) < 0.002 and abs(shift) < 1.5):
        return None
    return np.array([[scale, 0.0, shift], [0.0, scale, 0.0]], float)


def align_page(
    warp: Warp,
    frame: NDArray[np.float64],
    refs: tuple[Reference, ...],
    cfg: ReflowDefaults = REFLOW,
    correct_x: bool = True,
    split: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float32], Lines, Alignment]:
    """(frame, darkness in it, lines, alignment) of a page against the blank's flow.

    The frame is first corrected in x by the line ends (_x_correction; not when `correct_x`
    is False: a registration's frame is already right); the lines are then aligned by the
    characters' own pattern, which tells the form's lines from another document's (whose
    lines are as long and as dense). On a page of fewer than many_lines lines the ends say
    little: the frame as it is is aligned too, and kept when more of its pairs are strong
    (seed 84500-01 p13, 8 lines: corrected, 2 aligned at 0.92-0.95; as it is, 8 at 0.99).
    On a longer page whose corrected alignment paired a line or a few (under min_lines) the
    frame as it is is aligned too and kept when it pairs min_lines or more: typed values end
    the lines anywhere, and their ends can outvote the margins (seed 86400-02 p14, the closing
    contacts page: corrected by 0.965 and -13 px, 1 of 19 lines; as it is, 12). A page none of
    whose lines pairs (another document's) is not aligned twice. `split`: the page's bands of
    two lines cut at their valley (page_lines); the blank's flow is never cut.
    """
    flow = form_flow(refs, cfg)
    dark = warp(frame)
    lines = page_lines(dark, cfg, split)
    corr = _x_correction(lines, flow, cfg) if correct_x else None
    if corr is None:
        return frame, dark, lines, _aligned(lines, flow, cfg)
    fixed = compose(frame, corr)
    fixed_dark = warp(fixed)
    fixed_lines = page_lines(fixed_dark, cfg, split)
    al = _aligned(fixed_lines, flow, cfg)
    if len(lines) < cfg.many_lines and _strong(as_is := _aligned(lines, flow, cfg), cfg) > _strong(al, cfg):
        return frame, dark, lines, as_is
    if len(lines) >= cfg.many_lines and 0 < len(al.pairs) < cfg.min_lines and len((as_is := _aligned(lines, flow, cfg)).pairs) >= cfg.min_lines:
        return frame, dark, lines, as_is
    return fixed, fixed_dark, fixed_lines, al


def _strong(al: Alignment, cfg: ReflowDefaults) -> int:
    """How many of the alignment's pairs are alike at few_lines_sim or more."""
    return sum(1 for v in al.sims if v >= cfg.few_lines_sim)


def _aligned(lines: Lines, flow: Flow, cfg: ReflowDefaults) -> Alignment:
    """The page's lines aligned to the flow, carried past the run's ends (extend, labelled); a page of a few label lines by label_block."""
    sim = similarity(lines, flow.lines)
    al = labelled(extend(align(sim, lines.yc, flow.fy, cfg, cfg.detail_floor, flow.page), sim, lines, flow, cfg), lines, flow, cfg)
    if al.pairs or not cfg.label_block_lines <= len(lines) < cfg.let_go_few_pairs_lines:
        return al
    return label_block(lines, flow, cfg) or al


def _block_at(lines: Lines, flow: Flow, i: int, j: int, cfg: ReflowDefaults) -> list[tuple[int, int, float]]:
    """Scan lines from i and flow lines from j, one to one on j's blank page, as label lines at one offset (_label_block's tests)."""
    page, d0, found = flow.page[j], _dy(lines, i, flow.lines, j), []
    while i < len(lines) and j < len(flow.page) and flow.page[j] == page:
        if abs(int(lines.x0[i]) - int(flow.lines.x0[j])) > cfg.label_x_px or lines.x1[i] < flow.lines.x1[j] - cfg.label_x_px:
            break
        if abs(_dy(lines, i, flow.lines, j) - d0) > cfg.label_drift_px:
            break
        v = label_similarity(lines, i, flow.lines, j, cfg)
        if v < cfg.label_block_least:
            break
        found.append((i, j, v))
        i, j = i + 1, j + 1
    return found


def label_block(lines: Lines, flow: Flow, cfg: ReflowDefaults = REFLOW) -> Alignment | None:
    """A page of a few lines none of which aligned, as one block of the blank's label lines with values typed after them: the end of a blank page Word pushed onto a sheet of its own; None unless one block alone fits.

    Every text line of the page must be in the block (label_block_lines or more, one to one with
    one blank page's lines down to that page's last, at one offset, each starting where the
    blank's does and reaching its end, alike over its columns at label_block_least, their median
    at label_sim_same), and no other place in the flow may hold such a block (the contact block's
    所属・役職／氏名／TEL／FAX matched the same 4 lines at 0.89-0.96, but does not end its page).
    Seed 87160-04 p10 (word_scan): the contacts page's last 4 lines (所属・役職／氏名／TEL／
    e-mail, values typed) pushed onto a sheet of their own aligned nowhere and the sheet went to
    the attachments (security_contact not located).
    """
    text = [i for i in range(len(lines)) if lines.y1[i] - lines.y0[i] >= cfg.few_lines_min_height_px]
    if len(text) < cfg.label_block_lines:
        return None
    blocks = []
    for j in range(len(flow.page)):
        found = _block_at(lines, flow, text[0], j, cfg)
        if len(found) < len(text) or not {f[0] for f in found} >= set(text):
            continue
        last = found[-1][1]
        if flow.index[last] == len(flow.per_page[flow.page[last]]) - 1 and float(np.median([v for _, _, v in found])) >= cfg.label_sim_same:
            blocks.append(found)
    if len(blocks) != 1:
        return None
    found = blocks[0]
    return Alignment(tuple((i, j) for i, j, _ in found), tuple(v for _, _, v in found), float(sum(v for _, _, v in found)), 0.0)


def median3(a: float, b: float, c: float) -> float:
    """The middle one of three numbers: np.median's value, without its cost (~0.1 ms a call, thousands a page in extend)."""
    return max(min(a, b), min(max(a, b), c))


def _dy(lines: Lines, i: int, other: Lines, j: int) -> float:
    """How far line i sits below line j of `other` (px): the median of its top's, centre's and bottom's moves (reflow.pair_dy)."""
    return median3(float(lines.y0[i] - other.y0[j]), float(lines.yc[i] - other.yc[j]), float(lines.y1[i] - other.y1[j]))


def _next_pair(sim: NDArray[np.float32], lines: Lines, flow: Flow, at: tuple[int, int], step: int, cfg: ReflowDefaults) -> tuple[int, int] | None:
    """The nearest unambiguous strong pair past `at` (step +1: below, -1: above) on the same blank page, its offset within extend_drift_px of at's, growing downwards."""
    i0, j0 = at
    d0 = _dy(lines, i0, flow.lines, j0)
    for di in range(1, cfg.extend_lines + 1):
        i = i0 + step * di
        if not 0 <= i < len(lines):
            return None
        cands = []
        for dj in range(1, cfg.extend_lines + 1):
            j = j0 + step * dj
            if not 0 <= j < len(flow.page) or flow.page[j] != flow.page[j0]:
                break
            drift = (_dy(lines, i, flow.lines, j) - d0) * step
            if sim[i, j] >= cfg.extend_sim - 0.1 and -2.0 <= drift <= cfg.extend_drift_px:
                cands.append((float(sim[i, j]), j))
        cands.sort(reverse=True)
        if cands and cands[0][0] >= cfg.extend_sim:
            if len(cands) > 1 and cands[1][0] > cands[0][0] - 0.05:
                return None  # two of the blank's lines fit: which one is not known
            return i, cands[0][1]
    return None


def extend(al: Alignment, sim: NDArray[np.float32], lines: Lines, flow: Flow, cfg: ReflowDefaults = REFLOW) -> Alignment:
    """The alignment carried past its ends by strong, unambiguous pairs on the same blank page.

    The local alignment stops where a table written over (a signature and seal across its
    rows) makes more lines to skip than it pays for: the printed line after it (seed 84004
    p6: 「□ 責任者は定めていない」 at 0.96, five lines past the run) is the blank's next
    lines' all the same when its offset is not far from the run's.
    """
    if not al.pairs:
        return al
    pairs = list(al.pairs)
    while (nxt := _next_pair(sim, lines, flow, pairs[-1], 1, cfg)) is not None:
        pairs.append(nxt)
    while (prev := _next_pair(sim, lines, flow, pairs[0], -1, cfg)) is not None:
        pairs.insert(0, prev)
    if len(pairs) == len(al.pairs):
        return al
    return replace(al, pairs=tuple(pairs), sims=tuple(float(sim[p]) for p in pairs))


def label_similarity(lines: Lines, i: int, other: Lines, j: int, cfg: ReflowDefaults = REFLOW) -> float:
    """How alike scan line i is to `other`'s line j over j's own columns only (its end's few px left out), the best over ±1 bin: a label with a value typed after it."""
    b0, b1 = max(0, int(other.x0[j]) // cfg.bin_px - 1), (int(other.x1[j]) - cfg.label_end_px) // cfg.bin_px
    if b1 - b0 < 3:
        return 0.0
    v = other.desc[j][b0:b1]
    best = 0.0
    for s in (-1, 0, 1):
        u = np.roll(lines.desc[i], s)[b0:b1]
        norm = float(np.linalg.norm(u) * np.linalg.norm(v))
        best = max(best, float(u @ v) / norm if norm > 0 else 0.0)
    return best


def _label_pair(lines: Lines, flow: Flow, at: tuple[int, int], step: int, d0: float, cfg: ReflowDefaults) -> tuple[int, int, float] | None:
    """The next scan line and flow line past `at` as one label line (the blank's text at its start, a value typed after it), and their similarity; None when they are not.

    On the same blank page its offset is the run's (d0, ±label_drift_px); across a page's end
    (the next page's head pushed onto this scan) any offset will do.
    """
    i, j = at[0] + step, at[1] + step
    if not (0 <= i < len(lines) and 0 <= j < len(flow.page)):
        return None
    same = flow.page[j] == flow.page[at[1]]
    if abs(int(lines.x0[i]) - int(flow.lines.x0[j])) > cfg.label_x_px or lines.x1[i] < flow.lines.x1[j] - cfg.label_x_px:
        return None
    if same and abs(_dy(lines, i, flow.lines, j) - d0) > cfg.label_drift_px:
        return None
    v = label_similarity(lines, i, flow.lines, j, cfg)
    return (i, j, v) if v >= (cfg.label_sim_same if same else cfg.label_sim) else None


def _label_block(lines: Lines, flow: Flow, at: tuple[int, int], step: int, cfg: ReflowDefaults) -> list[tuple[int, int, float]]:
    """The label lines past `at` across a blank page's end, as a block: each starts where the blank's does, all at one offset, alike over the blank's columns.

    Across a page's end one line must be alike at label_sim (its offset is free); a block of
    label_block_lines or more lines, one to one with the other page's and at one offset, is
    told apart by that alone (seed 86900-05 p14: the contacts page's last 8 lines pushed onto a
    sheet of their own, alike 0.81-0.98, offsets within 2 px; the page was taken for an
    attachment). Empty when there is no such block.
    """
    i, j = at[0] + step, at[1] + step
    if not (0 <= i < len(lines) and 0 <= j < len(flow.page)) or flow.page[j] == flow.page[at[1]]:
        return []
    page, d0, found = flow.page[j], _dy(lines, i, flow.lines, j), []
    while 0 <= i < len(lines) and 0 <= j < len(flow.page) and flow.page[j] == page:
        if abs(int(lines.x0[i]) - int(flow.lines.x0[j])) > cfg.label_x_px or abs(_dy(lines, i, flow.lines, j) - d0) > cfg.label_drift_px:
            break
        v = label_similarity(lines, i, flow.lines, j, cfg)
        if v < cfg.label_block_least:
            break
        found.append((i, j, v))
        i, j = i + step, j + step
    if len(found) < cfg.label_block_lines or float(np.median([v for _, _, v in found])) < cfg.label_sim_same:
        return []
    return found


def _label_gaps(pairs: list[tuple[int, int]], sims: list[float], lines: Lines, flow: Flow, cfg: ReflowDefaults) -> None:
    """Fill, in place, the lines between two pairs of one blank page as many apart on both sides and at one offset with the label lines they are (_label_pair)."""
    k = 0
    while k + 1 < len(pairs):
        (i0, j0), (i1, j1) = pairs[k], pairs[k + 1]
        if i1 - i0 == j1 - j0 > 1 and flow.page[j0] == flow.page[j1]:
            d0 = _dy(lines, i0, flow.lines, j0)
            if abs(_dy(lines, i1, flow.lines, j1) - d0) <= cfg.label_drift_px:
                found = [_label_pair(lines, flow, (i0, j0), step, d0, cfg) for step in range(1, i1 - i0)]
                if all(f is not None for f in found):
                    pairs[k + 1 : k + 1] = [(f[0], f[1]) for f in found if f is not None]
                    sims[k + 1 : k + 1] = [f[2] for f in found if f is not None]
        k += 1


def labelled(al: Alignment, lines: Lines, flow: Flow, cfg: ReflowDefaults = REFLOW) -> Alignment:
    """The alignment carried past its ends, line for line, by label lines (_label_pair): what a Word filling types after 「ＦＡＸ：」 makes the line unlike the blank's.

    Seed 84500-01 p13 (the contacts page's pushed end): 2 lines aligned, the 6 label lines
    around them (values typed in) did not, and the page was taken for an attachment. The
    lines between two pairs of one blank page, as many on the scan as on the blank and at one
    offset, are paired the same way (_label_gaps: seed 86400-02 p14, the 5 label lines between
    a heading and the next).
    """
    if not al.pairs:
        return al
    pairs, sims = list(al.pairs), list(al.sims)
    _label_gaps(pairs, sims, lines, flow, cfg)
    for step in (1, -1):
        end = (lambda: pairs[-1]) if step > 0 else (lambda: pairs[0])
        d0 = _dy(lines, end()[0], flow.lines, end()[1])
        while True:
            nxt = _label_pair(lines, flow, end(), step, d0, cfg)
            found = [nxt] if nxt is not None else _label_block(lines, flow, end(), step, cfg)
            if not found:
                break
            for i, j, v in found:
                at = len(pairs) if step > 0 else 0
                pairs.insert(at, (i, j))
                sims.insert(at, v)
            d0 = _dy(lines, end()[0], flow.lines, end()[1])  # across a page's end: the next page's own offset from here on
    if len(pairs) == len(al.pairs):
        return al
    return replace(al, pairs=tuple(pairs), sims=tuple(sims))


def pair_dy(lines: Lines, i: int, other: Lines, j: int) -> float:
    """How far line i of `lines` sits below line j of `other` (px): the median of its top's, centre's and bottom's moves.

    A mark or handwriting on a line pulls its top or its bottom (and its centre), rarely both.
    """
    return median3(float(lines.y0[i] - other.y0[j]), float(lines.yc[i] - other.yc[j]), float(lines.y1[i] - other.y1[j]))


def line_of(lines: Lines, y0: float, y1: float) -> int | None:
    """The line of a page holding rows y0..y1 (the one overlapping most, then the one nearest their middle), else the nearest within 12 px."""
    if len(lines) == 0:
        return None
    over = np.minimum(lines.y1, y1) - np.maximum(lines.y0, y0)
    mid = np.abs(lines.yc - (y0 + y1) / 2)
    if over.max() > 0:
        return int(np.argmax(over - 0.01 * mid))
    k = int(np.argmin(mid))
    return k if mid[k] <= 12 else None


def element_line(lines: Lines, el: BoxLayout | FieldLayout, k: float) -> int | None:
    """The blank's line an element goes with (`k` px per pt): a box's own; a field's label line.

    A place for handwriting reaches up from its label's line (a signature: the label's
    bottom is the place's bottom) or is centred on it (a seal spot on 「印」): the line whose
    bottom is the place's bottom, else the one overlapping it most (nearest its middle).
    """
    y0, y1 = el.bbox[1] * k, el.bbox[3] * k
    if isinstance(el, FieldLayout) and len(lines):
        d = np.abs(lines.y1 - y1)
        j = int(np.argmin(d))
        if d[j] <= 3 and lines.y0[j] >= y0 - 3:
            return j
    return line_of(lines, y0, y1)
