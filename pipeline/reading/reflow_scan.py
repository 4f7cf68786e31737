"""Between registration and reading: a registered page whose content moved, or a rejected page that is the form's content moved, read where its content is.

`settle` takes what register() said and returns the registration to read the page with: the
registration itself when every box and field of its page sits where it put them (the usual
case, and the only cost is finding the page's text lines), else one onto the blank moved to
the scan (reflow.py). `unplaced` turns the boxes and fields that belong on the page but could
not be found into `uncertain` / `not_located` readings at the place their line suggests, so
nothing is read at a stale position and nothing is silently absent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import BoxLayout, FieldLayout, FieldReading, FormDef, MarkReading, PageRef
from pipeline.model.words import UNFOLLOWED_NOTE
from pipeline.reading.affine import aligned_view
from pipeline.reading.references import Reference, references
from pipeline.reading.reflow import Located, centred, locate, place_one
from pipeline.reading.reflow_lines import Alignment, Lines, align, element_line, form_flow, page_lines, pair_dy, similarity
from pipeline.reading.reflow_moved import moved_registration
from pipeline.reading.reflow_place import moved_bbox
from pipeline.reading.reflow_settings import REFLOW, ReflowDefaults
from pipeline.reading.register import Registration, Rejection, darkness, levels
from pipeline.reading.settings import REGISTER, RegisterDefaults

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Settled:
    """The registration to read with (or the rejection), and the reflow reading when content moved."""

    outcome: Registration | Rejection
    located: Located | None = None
    # A registered page whose content moved from here down (points, the blank's frame) and whose
    # flow could not be followed: read at the registration's places, so nothing below is sure.
    moved_from_pt: float | None = None
    # The scan resampled into the blank's frame by `outcome`'s matrix (grey, white outside) and its
    # darkness, when `outcome` is the registration settle was given: measured here for the page's
    # lines, the page is read from them (scan.py) instead of resampling it again.
    aligned: tuple[NDArray[np.uint8], NDArray[np.float32]] | None = None


def _moved_runs(dys: list[float], cfg: ReflowDefaults) -> list[tuple[int, int]]:
    """The runs (start, end) of at least moved_lines consecutive aligned pairs displaced alike by moved_px or more.

    On an unmoved page a pair is off by a few px at most, and alone (a line paired with a
    look-alike, or written over): bench seeds 11-13, 21, 5010, 84100-84101 gave runs of one.
    """
    runs: list[list[int]] = []
    for k, d in enumerate(dys):
        if abs(d) < cfg.moved_px:
            continue
        if runs and runs[-1][-1] == k - 1 and abs(d - dys[k - 1]) <= cfg.moved_agree_px:
            runs[-1].append(k)
        else:
            runs.append([k])
    return [(r[0], r[-1] + 1) for r in runs if len(r) >= cfg.moved_lines]


def _own_lines(
    gray: NDArray[np.uint8], reg: Registration, refs: tuple[Reference, ...], cfg: ReflowDefaults
) -> tuple[NDArray[np.uint8], NDArray[np.float32], Lines, Lines, Alignment] | None:
    """The registered scan in the blank's frame (grey, darkness), its lines, the blank page's own lines and their alignment (order kept); None when the reference is not one of the form's."""
    ref = reg.reference
    index = next((i for i, r in enumerate(refs) if r is ref), None)
    if index is None:
        return None
    paper, ink = levels(gray)
    grey = aligned_view(gray, reg.matrix, (ref.dark.shape[1], ref.dark.shape[0]))
    dark = darkness(grey, paper, ink)
    lines = page_lines(dark, cfg)
    own = form_flow(refs, cfg).per_page[index]
    return grey, dark, lines, own, align(similarity(lines, own), lines.yc, own.yc, cfg, cfg.detail_floor)


def _moved(dark: NDArray[np.float32], ref: Reference, lines: Lines, own: Lines, al: Alignment, cfg: ReflowDefaults) -> float | None:
    """Whether the registered page's content moved: some of its lines, and a box or field on them, sit away from where the registration puts them.

    The scan's lines (in the blank's frame) are aligned to the page's own. The page moved
    when a run of consecutive aligned lines is displaced alike (_moved_runs) and a box or
    field on the blank's lines of that run is found there, displaced; a run of more than
    moved_lines lines holding no box or field that can be found is taken as it is. A line
    not found among the page's, or one line paired off, is no sign of movement: marks and
    writing change the lines they sit on. Returns where the moved content starts (points, the
    blank's frame: the top of the run's first line), None when nothing moved.
    """
    dys = [pair_dy(lines, i, own, j) for i, j in al.pairs]
    k = px_per_pt(ref.dpi)
    elements: list[BoxLayout | FieldLayout] = [*ref.layout.boxes, *ref.layout.fields]
    for start, end in _moved_runs(dys, cfg):
        first, last = al.pairs[start][1], al.pairs[end - 1][1]
        dy = round(float(np.median(dys[start:end])))
        for el in elements:
            j = element_line(own, el, k)
            if j is None or not first <= j <= last:
                continue
            offset, _ = place_one(dark, ref, (int(own.y0[j]), int(own.y1[j])), el, (0, dy), cfg)
            if offset is not None and abs(offset[1]) >= cfg.moved_px:
                log.debug("page %d: %s is %s px from where the registration puts it", ref.layout.number, getattr(el, "name", el.owner), offset)
                return float(own.y0[first]) / k
        if end - start > cfg.moved_lines:
            return float(own.y0[first]) / k
    return _tail_moved(dark, ref, own, al, elements, cfg)


def _tail_moved(dark: NDArray[np.float32], ref: Reference, own: Lines, al: Alignment, elements: list[BoxLayout | FieldLayout], cfg: ReflowDefaults) -> float | None:
    """Where the page's content below its last aligned line moved from (points), when a box or field there is found displaced; else None.

    The alignment may stop short of the page's end where a pasted picture grew a row: the
    lines below it moved by the growth and matched nothing. Seed 88502-02 p2: 1-1-3's row
    grew, the last 11 lines sat 20 px lower and unaligned, and 1-1-4's signature and seal
    were read present over the moved print, silently.
    """
    if not al.pairs:
        return None
    k = px_per_pt(ref.dpi)
    j1 = al.pairs[-1][1]
    for el in elements:
        j = element_line(own, el, k)
        if j is None or j <= j1:
            continue
        for down in range(0, TAIL_REACH_PX + 1, 2 * cfg.search_y_px):  # what grew above pushed it down, by any amount
            offset, _ = place_one(dark, ref, (int(own.y0[j]), int(own.y1[j])), el, (0, down), cfg)
            if offset is None:
                continue
            if abs(offset[1]) >= cfg.moved_px:
                log.debug("page %d: %s, below the aligned lines, is %s px from where the registration puts it", ref.layout.number, getattr(el, "name", el.owner), offset)
                return float(own.y0[j1 + 1]) / k if j1 + 1 < len(own) else None
            break
    return None


TAIL_REACH_PX = 60  # how far below its place an element under the aligned lines is looked for (a pasted picture grows a row 15-40 px)


def _pushed_off(lines: Lines, own: Lines, al: Alignment, cfg: ReflowDefaults) -> int | None:
    """The top (px) of the first of the blank page's lines that the scan holds nothing at or below (past search_y_px): Word pushed the page's end onto the next page; None when there is none.

    Read where the blank has it, a signature place there is empty: seed 88002-00 p2 ended
    with 「氏名」 typed, 1-1-3's signed row went to p3, and p2 read it empty (silently).
    """
    if not al.pairs:
        return None
    i1, j1 = al.pairs[-1]
    dy = pair_dy(lines, i1, own, j1)
    lowest = max([float(lines.y1[i]) for i in range(i1, len(lines)) if lines.y1[i] - lines.y0[i] >= cfg.few_lines_min_height_px] or [float(lines.y1[i1])])
    after = [j for j in range(j1 + 1, len(own)) if own.y0[j] + dy > lowest + cfg.search_y_px]
    return int(own.y0[after[0]]) if after else None


def settle(
    gray: NDArray[np.uint8],
    outcome: Registration | Rejection,
    form: FormDef,
    register_cfg: RegisterDefaults = REGISTER,
    cfg: ReflowDefaults = REFLOW,
) -> Settled:
    """The registration to read the page with (see the module docstring); `gray` at register_cfg.work_dpi."""
    refs = references(form, register_cfg)
    if not refs:
        return Settled(outcome)
    moved_from = None
    kept: tuple[NDArray[np.uint8], NDArray[np.float32]] | None = None  # the registered scan in the blank's frame, should it stand
    if isinstance(outcome, Registration):
        seen = _own_lines(gray, outcome, refs, cfg)
        if seen is None:
            return Settled(outcome)
        grey, dark, lines, own, al = seen
        kept = (grey, dark)
        moved_from = _moved(dark, outcome.reference, lines, own, al, cfg)
        if moved_from is None:
            off = _pushed_off(lines, own, al, cfg)  # read as registered, what reaches where the page's end went uncertain (unsure_below's slop cancelled: the cut is exact)
            return Settled(outcome, None, None if off is None else off / px_per_pt(outcome.reference.dpi) + UNSURE_MARGIN_PT, kept)
        frame, quality = outcome.matrix, outcome.quality
    elif outcome.fit is not None:
        frame, quality = outcome.fit.matrix, outcome.fit.quality
    elif outcome.coarse is not None:
        frame, quality = outcome.coarse[0], 0.0
    elif outcome.reason == "blank":  # a page of a line or two (reflow pushed them there) looks blank
        frame, quality = centred(np.eye(2, 3), (refs[0].dark.shape[1], refs[0].dark.shape[0]), (gray.shape[1], gray.shape[0])), 0.0
    else:
        return Settled(outcome)
    loc = locate(gray, frame, refs, cfg, registered=isinstance(outcome, Registration))
    if loc is None:  # registered: read as registered, but below where it moved nothing is sure; rejected: not the form's
        return Settled(outcome, None, moved_from, kept)
    reg = moved_registration(loc, refs, register_cfg.work_dpi, quality, cfg)
    return Settled(reg, loc)


def unplaced(loc: Located, page: PageRef, dpi: float) -> tuple[list[MarkReading], list[FieldReading]]:
    """The boxes and fields in the page's span that could not be found: uncertain / not_located where their line suggests."""
    marks: list[MarkReading] = []
    fields: list[FieldReading] = []
    for pl in loc.placements:
        if pl.offset is not None:
            continue
        bbox = moved_bbox(pl.element.bbox, pl.guess, dpi)
        if isinstance(pl.element, BoxLayout):
            note = f"記入で位置がずれた枠を見つけられませんでした（{pl.element.option}）。頁 {page.page} の該当箇所を目視で確認してください"
            marks.append(MarkReading(pl.element.owner, pl.element.option, "uncertain", None, page, bbox, "scan", note))
        else:
            fields.append(FieldReading(pl.element.name, pl.element.owner, pl.element.kind, None, "not_located", None, page, bbox))
    return marks, fields


# Places within this of where moved content starts (points, above it) are uncertain too: a
# registration's slop (unsure_below).
UNSURE_MARGIN_PT = 6.0



def unsure_below(
    marks: tuple[MarkReading, ...], fields: tuple[FieldReading, ...], moved_from_pt: float, margin_pt: float = UNSURE_MARGIN_PT
) -> tuple[tuple[MarkReading, ...], tuple[FieldReading, ...]]:
    """The readings of a page whose moved content could not be followed: every box and field from where it moved down is uncertain.

    Read at the registration's places, a box there may be its neighbour's (seed 84102 p3 before
    the registration's own frame was tried: two boxes silently wrong).
    """
    top = moved_from_pt - margin_pt
    out_marks = tuple(
        replace(m, state="uncertain", note=UNFOLLOWED_NOTE) if m.bbox is not None and m.bbox[3] >= top and m.state != "uncertain" else m for m in marks
    )
    out_fields = tuple(
        replace(f, status="uncertain", note=UNFOLLOWED_NOTE) if f.bbox is not None and f.bbox[3] >= top and f.status in ("read", "empty", "handwritten") else f
        for f in fields
    )
    return out_marks, out_fields
