"""Can this scanned page be one of the form's pages at all? A test of a few milliseconds before registration.

Registration (register.py: ORB matching and affine fits against the likely blank pages, then
the search for moved content in reflow_scan.py) costs 0.2-0.4 s a page that is not the form's,
and a submission is half attachments. The test here looks only for what the printing puts on
every page, from the form's layout (forms/<name>/layout.yaml):

- corner marks (`anchors`, our printing): solid squares of the marks' size, at least two of them
  as far apart as two of the layout's marks are (the page's width, height or diagonal, within
  the registration's scale range). The distances do not change when the page is turned, shifted
  or scanned at another resolution, so a turned, skewed or shrunk scan passes as the upright one.

A form whose pages print no marks (another printing, calibrated from its blank PDF) has nothing
to look for here: every page passes and registration decides, as before. The test only ever
lets a page go to the attachments when the marks every page of the form prints are not there.

Coordinates: pixels of the grey page at the registration's work_dpi (after fitting a wrongly
tagged page to the form's size), origin top left.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import FormDef
from pipeline.reading.register import levels
from pipeline.reading.settings import REGISTER, RegisterDefaults


@dataclass(frozen=True, slots=True)
class GateDefaults:
    """Thresholds of the page test (measured on the project's scans, see each)."""

    # A mark is ink darker than this share of the way from paper to ink (solid print; grey text
    # antialiasing and light handwriting stay out). Marks on the 28 pages of bench_submission's
    # own-scan (seed 83100) and the project_hand_scan pages of the independent set seeds
    # 89000-89001 measured 0.0-0.2 of the way from ink.
    mark_darkness: float = 0.5
    # A mark's box on the scan, as a share of the layout's mark size: the scale range of
    # registration, widened by the few pixels that skew and blur add at 100 dpi.
    mark_size: tuple[float, float] = (0.7, 1.45)
    # Share of a mark's bounding box that is ink (a solid square: 0.85-1.0 as scanned; a skewed
    # one loses its corners).
    mark_fill: float = 0.75
    # A tick box on the scan, as a share of the layout's box size; its ring's ink share of its
    # bounding box at most box_ring_fill, and each side at least box_side_ink inked.
    box_size: tuple[float, float] = (0.75, 1.35)
    box_ring_fill: float = 0.6
    box_side_ink: float = 0.7
    # Most candidate squares looked at (the largest first): a page of solid boxes (■) has dozens.
    max_candidates: int = 60


GATE = GateDefaults()


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a page can be a form page, and why (for the log and the bench)."""

    passed: bool
    why: str


def _expected(form: FormDef) -> tuple[float, tuple[float, ...]] | None:
    """(mark side, distances between the marks' centres) in points, when every page prints the same marks; else None."""
    sides: set[float] = set()
    distances: set[float] = set()
    for page in form.pages:
        if len(page.anchors) < 2:
            return None
        centres = [((a[0] + a[2]) / 2, (a[1] + a[3]) / 2) for a in page.anchors]
        sides |= {round(((a[2] - a[0]) + (a[3] - a[1])) / 2, 1) for a in page.anchors}
        distances |= {round(float(np.hypot(p[0] - q[0], p[1] - q[1])), 1) for p, q in itertools.combinations(centres, 2)}
    return (sum(sides) / len(sides), tuple(sorted(distances))) if sides else None


def mark_centres(gray: NDArray[np.uint8], side_px: float, cfg: GateDefaults = GATE) -> NDArray[np.float64]:
    """Centres (N, 2: x, y px) of solid squares of about side_px on the page, the largest first."""
    paper, ink = levels(gray)
    threshold = ink + cfg.mark_darkness * (paper - ink)
    solid = (gray < threshold).astype(np.uint8)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if n <= 1:
        return np.zeros((0, 2), np.float64)
    w, h, area = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_AREA]
    lo, hi = side_px * cfg.mark_size[0], side_px * cfg.mark_size[1]
    keep = (w >= lo) & (w <= hi) & (h >= lo) & (h <= hi) & (area >= cfg.mark_fill * w * h)
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(-area[idx], kind="stable")][: cfg.max_candidates]
    return np.asarray(centroids[1:][idx], np.float64)


def hollow_squares(gray: NDArray[np.uint8], side_px: float, cfg: GateDefaults = GATE) -> int:
    """How many printed squares of about side_px (a form's tick boxes, empty or ticked) the page holds.

    A square: a connected ring of ink whose box is side_px (the scale range), with a hole of paper
    inside it covering most of its middle (a tick inside stays another component).
    """
    paper, ink = levels(gray)
    solid = (gray < ink + cfg.mark_darkness * (paper - ink)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if n <= 1:
        return 0
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    lo, hi = side_px * cfg.box_size[0], side_px * cfg.box_size[1]
    ring = (w >= lo) & (w <= hi) & (h >= lo) & (h <= hi) & (area <= cfg.box_ring_fill * w * h)
    count = 0
    for i in np.flatnonzero(ring)[: cfg.max_candidates * 4]:
        x, y = stats[i + 1, cv2.CC_STAT_LEFT], stats[i + 1, cv2.CC_STAT_TOP]
        bw, bh = w[i], h[i]
        own = labels[y : y + bh, x : x + bw] == i + 1
        # a square's ink lies along its four sides: each side's outer row/column is mostly ink
        sides = (own[0].mean(), own[-1].mean(), own[:, 0].mean(), own[:, -1].mean())
        inner = own[bh // 4 : bh - bh // 4, bw // 4 : bw - bw // 4]
        if min(sides) >= cfg.box_side_ink and float(inner.mean()) <= 0.05:
            count += 1
    return count


def could_be_form_page(
    gray: NDArray[np.uint8], form: FormDef, register_cfg: RegisterDefaults = REGISTER, cfg: GateDefaults = GATE
) -> Verdict:
    """Whether the scanned page (grey at register_cfg.work_dpi) can be one of the form's pages.

    Passes when the form's pages print no corner marks (nothing to test), or when two solid
    squares of the marks' size lie as far apart as two of the layout's marks do.
    """
    expected = _expected(form)
    if expected is None:
        return Verdict(True, "no marks in the layout")
    side_pt, distances_pt = expected
    k = px_per_pt(register_cfg.work_dpi)
    centres = mark_centres(gray, side_pt * k, cfg)
    if len(centres) < 2:
        return Verdict(False, f"{len(centres)} corner mark(s) found")
    d = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    lo, hi = register_cfg.scale_range
    for want in distances_pt:
        px = want * k
        if bool(((d >= px * lo) & (d <= px * hi)).any()):
            return Verdict(True, "corner marks")
    return Verdict(False, f"{len(centres)} mark-sized squares, none as far apart as the form's corner marks")
