"""A scanned page image → which form page it is, its orientation, and the transform onto the blank's coordinates.

How (all at work_dpi ≈ 100 dpi unless said):
1. Cheap rejections: a blank page (almost no ink) or a photo (mostly mid-tones) → None.
2. Orientation and identity: a 12-dpi darkness thumbnail of the scan, turned 0/180° (or
   90/270° for a landscape image), is correlated with every blank page's thumbnail over
   ±2 cm of shift. The best pages (within a margin) are candidates.
3. Alignment: ORB corners of the scan are matched to the candidate blank page's corners,
   but only to those the coarse transform puts within 60 px, then within 5 px of the first
   fit; `estimateAffinePartial2D` (rotation, one scale, shift) with RANSAC fits each pass.
   No homography: on the repeated □ grid it locks onto wrong matches (notes/measured.md).
4. Quality: the scan warped into the blank's frame is correlated with the blank at 25 dpi.
   The candidate with the best quality wins; below `min_quality` the page is not this form's.
5. For our printing, the page code's QR code (located once on the blank) is decoded from
   the aligned scan and must agree with the page found; a disagreement re-registers
   against the page the code names.

The blank pages' renderings, thumbnails and ORB features are prepared once per process and
form (references.py); the affine arithmetic is affine.py. Coordinates: pixels at work_dpi,
origin top left; `matrix` maps blank pixels to scan pixels (the scan as delivered, before any
turning).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import FormDef, PageLayout
from pipeline.reading.affine import compose, scaling, turn_points
from pipeline.reading.references import Reference, as_f32, as_f64, features, references
from pipeline.reading.settings import REGISTER, RegisterDefaults

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Registration:
    """Where a scan sits on a blank page."""

    reference: Reference
    matrix: NDArray[np.float64]  # 2x3: blank px → scan px (both at dpi)
    dpi: float
    orientation: int  # 0/90/180/270: how far the page content is turned clockwise in the scan
    skew_deg: float  # residual rotation after the turn
    scale: float
    inliers: int
    quality: float  # correlation of the aligned scan with the blank, 0..1
    identified_by: Literal["layout", "code"]

    @property
    def layout(self) -> PageLayout:
        return self.reference.layout


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a page is not a form page (for the log and the attachment path)."""

    reason: Literal["blank", "photo", "no_match", "low_quality"]
    detail: str
    # The best fit that was found (below min_quality), else the best page-search guess
    # (blank px → scan px, its blank page): a frame for reading a page whose content moved.
    fit: Registration | None = None
    coarse: tuple[NDArray[np.float64], Reference] | None = None


# --- the scan ------------------------------------------------------------------------------------


def levels(gray: NDArray[np.uint8]) -> tuple[float, float]:
    """(paper, ink) grey levels of a scan: the 75th and 0.5th percentiles, ink at least 80 below paper."""
    hist = cv2.calcHist([gray[::2, ::2]], [0], None, [256], [0, 256]).ravel()
    cdf = np.cumsum(hist) / max(hist.sum(), 1.0)
    paper = float(np.searchsorted(cdf, 0.75))
    ink = float(np.searchsorted(cdf, 0.005))
    return paper, min(ink, paper - 80.0)


def darkness(gray: NDArray[np.uint8], paper: float, ink: float) -> NDArray[np.float32]:
    """Grey levels → darkness 0 (paper) .. 1 (ink), float32.

    A grey page (uint8) goes through a table of its 256 levels, worked out with the same float32
    arithmetic as the whole image was (so bit for bit the same values): 0.4 ms instead of 0.7 at
    100 dpi, called several times a page.
    """
    scale = 1.0 / max(paper - ink, 1.0)
    if gray.dtype == np.uint8 and gray.ndim == 2:
        table = (np.float32(paper) - np.arange(256, dtype=np.float32)) * np.float32(scale)
        np.clip(table, 0.0, 1.0, out=table)
        return as_f32(cv2.LUT(gray, table))
    d = (np.float32(paper) - gray.astype(np.float32)) * np.float32(scale)
    return np.clip(d, 0.0, 1.0, out=d)


def blank_or_photo(dark: NDArray[np.float32], cfg: RegisterDefaults = REGISTER) -> Rejection | None:
    """The cheap rejections, from the scan's darkness: a blank page (almost no ink) or a photo (mostly mid-tones)."""
    inked = float((dark > 0.5).mean())
    if inked < cfg.blank_ink_share:
        return Rejection("blank", f"ink on {inked:.2%} of the page")
    mid = float(((dark > 0.2) & (dark < 0.8)).mean())
    if mid > cfg.photo_midtone_share:
        return Rejection("photo", f"mid-tones on {mid:.0%} of the page")
    return None


def _ncc_all(img: NDArray[np.float32], refs: tuple[Reference, ...]) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
    """Normalised correlation (as TM_CCOEFF_NORMED) of every blank thumbnail at every placement in img.

    One FFT of the image and one product per page instead of a matchTemplate per page
    (0.1 ms instead of 1.3 ms a page at 12 dpi). Returns the best score per page and its x, y.
    """
    th, tw = refs[0].thumb.shape
    h, w = img.shape
    fh, fw, ft, tnorm = _thumbs_fft(refs, h, w)
    corr = np.fft.irfft2(np.fft.rfft2(img.astype(np.float64), s=(fh, fw))[None] * ft, s=(fh, fw))[:, : h - th + 1, : w - tw + 1]
    ii, ii2 = cv2.integral2(img.astype(np.float64))
    n = th * tw
    s1 = ii[th:, tw:] - ii[:-th, tw:] - ii[th:, :-tw] + ii[:-th, :-tw]
    s2 = ii2[th:, tw:] - ii2[:-th, tw:] - ii2[th:, :-tw] + ii2[:-th, :-tw]
    spread = np.sqrt(np.maximum(s2 - s1 * s1 / n, 1e-9))
    ncc = corr / (tnorm[:, None, None] * spread[None] + 1e-9)
    flat = ncc.reshape(len(refs), -1)
    best = flat.argmax(axis=1)
    ys, xs = np.unravel_index(best, ncc.shape[1:])
    return flat[np.arange(len(refs)), best], xs, ys


def _thumbs_fft(refs: tuple[Reference, ...], h: int, w: int) -> tuple[int, int, NDArray[np.complex128], NDArray[np.float64]]:
    """(FFT height, width, conjugate spectra, norms) of the group's thumbnails for an h x w image.

    Kept in the group's first Reference (it lives exactly as long as the blank pages it was
    computed from; a cache keyed by id() could hand a freed group's spectra to a new one).
    """
    store: dict[tuple[int, int], tuple[int, int, NDArray[np.complex128], NDArray[np.float64]]]
    store = refs[0].cache.setdefault(("thumbs_fft", len(refs)), {})  # type: ignore[assignment]
    if (h, w) not in store:
        stack = np.stack([r.thumb for r in refs]).astype(np.float64)
        stack -= stack.mean(axis=(1, 2), keepdims=True)
        if len(store) > 64:
            store.clear()
        fh, fw = cv2.getOptimalDFTSize(h), cv2.getOptimalDFTSize(w)  # 2·3·5-smooth: 119 px would be slow
        store[(h, w)] = (fh, fw, np.conj(np.fft.rfft2(stack, s=(fh, fw))), np.sqrt((stack * stack).sum(axis=(1, 2))))
    return store[(h, w)]


def _small(dark: NDArray[np.float32], cfg: RegisterDefaults) -> NDArray[np.float32]:
    """The darkness map at skew_dpi (= quality_dpi): for skew, thumbnails and the quality measure."""
    fs = cfg.skew_dpi / cfg.work_dpi
    return as_f32(cv2.resize(dark, None, fx=fs, fy=fs, interpolation=cv2.INTER_AREA))


def estimate_skew(dark: NDArray[np.float32], max_deg: float, step_deg: float = 0.5) -> float:
    """Angle (degrees, as cv2.getRotationMatrix2D takes it) that makes text lines horizontal.

    Projection profiles at ~25 dpi: the angle whose row sums are sharpest (largest sum of
    squared differences between neighbouring rows), refined by a parabola through the peak.
    """
    h, w = dark.shape
    angles = np.arange(-max_deg, max_deg + 1e-9, step_deg)
    scores = []
    for a in angles:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(a), 1.0)
        rows = cv2.warpAffine(dark, m, (w, h), flags=cv2.INTER_LINEAR).sum(axis=1)
        scores.append(float((np.diff(rows) ** 2).sum()))
    i = int(np.argmax(scores))
    if 0 < i < len(angles) - 1:
        y0, y1, y2 = scores[i - 1], scores[i], scores[i + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            return float(angles[i] + 0.5 * step_deg * (y0 - y2) / den)
    return float(angles[i])


def _mean_thumb(group: tuple[Reference, ...]) -> NDArray[np.float32]:
    """The group's average thumbnail, kept in its first Reference (see _thumbs_fft)."""
    key = ("mean_thumb", len(group))
    if key not in group[0].cache:
        group[0].cache[key] = np.mean([r.thumb for r in group], axis=0).astype(np.float32)
    return group[0].cache[key]  # type: ignore[return-value]


def _candidates(
    dark: NDArray[np.float32], refs: tuple[Reference, ...], cfg: RegisterDefaults, other_ways: bool = False, small: NDArray[np.float32] | None = None
) -> list[tuple[float, int, Reference, NDArray[np.float64]]]:
    """(thumbnail score, turn k, reference, coarse blank→scan matrix), best first.

    The scan is turned upright (k·90° counter-clockwise), deskewed by its text lines, and its
    thumbnail correlated with each blank page's; the coarse matrix undoes all three. Only the
    ways up whose thumbnail looks most like a page of the form (within turn_margin) are
    scored, unless `other_ways` asks for the rest (the fallback when none of those aligned).
    """
    h, w = dark.shape
    ks = [0, 2] if h >= w else [1, 3]
    if 0.9 < h / max(w, 1) < 1.1:
        ks = [0, 1, 2, 3]
    small = _small(dark, cfg) if small is None else small
    fs = cfg.skew_dpi / cfg.work_dpi
    f = cfg.thumb_dpi / cfg.work_dpi
    pad = cfg.thumb_pad_px
    groups: dict[tuple[int, ...], list[Reference]] = {}
    for ref in refs:  # pages of one size share one FFT
        groups.setdefault(ref.thumb.shape, []).append(ref)
    angles: dict[int, float] = {}
    views = []
    for k in ks:
        up = np.ascontiguousarray(np.rot90(small, k))  # turning the scan by k·90° ccw makes it upright
        if k % 2 not in angles:
            angles[k % 2] = estimate_skew(up, cfg.skew_search_deg, cfg.skew_step_deg)
        angle = angles[k % 2]
        sh, sw = up.shape
        th, tw = round(sh * f / fs), round(sw * f / fs)
        straight = cv2.warpAffine(up, cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, 1.0), (sw, sh))
        thumb = cv2.GaussianBlur(cv2.resize(straight, (tw, th), interpolation=cv2.INTER_AREA), (0, 0), cfg.thumb_blur_px)
        padded = as_f32(cv2.copyMakeBorder(thumb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0.0))
        # How upright this view is: correlation with the average blank page (margins, headers).
        upright = max((float(cv2.matchTemplate(padded, _mean_thumb(tuple(g)), cv2.TM_CCOEFF_NORMED).max())
                       for shape, g in groups.items() if shape[0] <= padded.shape[0] and shape[1] <= padded.shape[1]), default=-1.0)
        views.append((upright, k, angle, padded))
    views.sort(key=lambda v: -v[0])
    best_up = views[0][0]
    found = []
    for upright, k, angle, padded in views:
        likely = upright >= best_up - cfg.turn_margin
        if likely != (not other_ways):
            continue  # first call: the likely ways up; the fallback call: the others
        uw, uh = (w, h) if k % 2 == 0 else (h, w)
        deskew = cv2.getRotationMatrix2D((uw / 2, uh / 2), angle, 1.0)  # upright → straight, work px
        back = compose(turn_points(k, w, h), as_f64(cv2.invertAffineTransform(deskew)))  # straight px → scan px
        for shape, group in groups.items():
            if shape[0] > padded.shape[0] or shape[1] > padded.shape[1]:
                continue
            scores, xs, ys = _ncc_all(padded, tuple(group))
            for ref, score, lx, ly in zip(group, scores, xs, ys):
                # blank px → straight px: the thumbnail offset, and the usual fit-to-page
                # shrink about the page centre (the correlation peak centres the page)
                s0 = cfg.prior_scale
                cx, cy = ref.gray.shape[1] / 2, ref.gray.shape[0] / 2
                shift = np.array([[s0, 0, (1 - s0) * cx + (lx - pad) / f], [0, s0, (1 - s0) * cy + (ly - pad) / f]], float)
                found.append((float(score), k, ref, compose(back, shift)))
    found.sort(key=lambda c: -c[0])
    return found


def _near_pairs(a: NDArray[np.float32], b: NDArray[np.float32], radius: float) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Index pairs (i, j) with |a[i] - b[j]| < radius, by bucketing b on a grid of radius-sized cells."""
    off = 1 << 16
    bc = np.floor(b / radius).astype(np.int64) + off
    keys = bc[:, 0] * (1 << 20) + bc[:, 1]
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    ac = np.floor(a / radius).astype(np.int64) + off
    dx = np.array([-1, -1, -1, 0, 0, 0, 1, 1, 1])
    dy = np.array([-1, 0, 1, -1, 0, 1, -1, 0, 1])
    want = (ac[:, 0, None] + dx) * (1 << 20) + (ac[:, 1, None] + dy)
    lo = np.searchsorted(sk, want, "left").ravel()
    counts = np.searchsorted(sk, want, "right").ravel() - lo
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    ai = np.repeat(np.repeat(np.arange(len(a)), 9), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    bj = order[np.repeat(lo, counts) + within]
    d = a[ai] - b[bj]
    keep = (d * d).sum(axis=1) < radius * radius
    return ai[keep], bj[keep]


def _match(
    spts: NDArray[np.float32], sdesc: NDArray[np.uint8], ref: Reference, guess: NDArray[np.float64], radius: float, cfg: RegisterDefaults
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Pairs (blank points, scan points) of descriptors that agree, among those `guess` puts within `radius`."""
    if len(spts) == 0 or len(ref.points) == 0:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    pred = ref.points @ guess[:, :2].T.astype(np.float32) + guess[:, 2].astype(np.float32)
    si, bi = _near_pairs(spts, pred, radius)
    if len(si) == 0:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    ham = np.bitwise_count(np.bitwise_xor(sdesc.view(np.uint64)[si], ref.desc.view(np.uint64)[bi])).sum(axis=1, dtype=np.int32)
    keep = ham <= cfg.max_hamming
    si, bi, ham = si[keep], bi[keep], ham[keep]
    order = np.lexsort((ham, si))
    si, bi = si[order], bi[order]
    _, first = np.unique(si, return_index=True)
    return ref.points[bi[first]], spts[si[first]]


def _similarity(src: NDArray[np.float32], dst: NDArray[np.float32], thr: float) -> tuple[NDArray[np.float64] | None, int]:
    if len(src) < 6:
        return None, 0
    m, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=thr, maxIters=2000, confidence=0.995, refineIters=10)
    if m is None or inl is None:
        return None, 0
    return m.astype(np.float64), int(inl.sum())


def _quality(small: NDArray[np.float32], ref: Reference, matrix: NDArray[np.float64], cfg: RegisterDefaults) -> float:
    """Correlation of the scan (darkness at quality_dpi), aligned by `matrix`, with the blank."""
    f = cfg.quality_dpi / cfg.work_dpi
    h, w = ref.qual.shape
    m = compose(scaling(f), compose(matrix, scaling(1 / f)))
    warped = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0.0)
    warped = cv2.GaussianBlur(warped, (0, 0), 0.7)
    a = warped - warped.mean()
    b = ref.qual - ref.qual.mean()
    den = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def _fit(
    spts: NDArray[np.float32], sdesc: NDArray[np.uint8], small: NDArray[np.float32], ref: Reference, k: int, coarse: NDArray[np.float64], cfg: RegisterDefaults,
    dark: NDArray[np.float32] | None = None,
) -> Registration | None:
    """Fit the page with the coarse gate; if that aligns poorly, once more with the gate doubled,
    and then corrected patch by patch (refine_locally).

    A gate narrower than the coarse error lets RANSAC lock onto the text one line pitch away
    (repeated URL blocks); a wider one costs 4x the candidate pairs, so it is the fallback.
    On a page of repeated blocks (the closing contacts page) RANSAC can settle 1 % off in
    scale; the patches of print found on the aligned scan pull it back.
    """
    reg = _fit_gate(spts, sdesc, small, ref, k, coarse, cfg, cfg.gate_coarse_px)
    if reg is None or reg.quality < cfg.min_quality + cfg.code_check_margin:
        wide = _fit_gate(spts, sdesc, small, ref, k, coarse, cfg, 2 * cfg.gate_coarse_px)
        if wide is not None and (reg is None or wide.quality > reg.quality):
            reg = wide
    if reg is not None and dark is not None and reg.quality < cfg.refine_below_quality:
        size = (ref.dark.shape[1], ref.dark.shape[0])
        warped = as_f32(cv2.warpAffine(dark, reg.matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0.0))
        fixed = refine_locally(warped, reg, cfg)
        if fixed is not reg:
            q = _quality(small, ref, fixed.matrix, cfg)
            if q > reg.quality:
                reg = _with_matrix(reg, fixed.matrix, q)
    return reg


def _fit_gate(
    spts: NDArray[np.float32], sdesc: NDArray[np.uint8], small: NDArray[np.float32], ref: Reference, k: int, coarse: NDArray[np.float64],
    cfg: RegisterDefaults, gate: float,
) -> Registration | None:
    top = cfg.coarse_features
    src, dst = _match(spts[:top], sdesc[:top], ref, coarse, gate, cfg)
    m1, n1 = _similarity(src, dst, cfg.ransac_px)
    if m1 is None or n1 < cfg.min_coarse_inliers:
        return None
    src, dst = _match(spts, sdesc, ref, m1, cfg.gate_fine_px, cfg)
    m2, n2 = _similarity(src, dst, cfg.ransac_px * 0.6)
    if m2 is None or n2 < cfg.min_inliers:
        return None
    scale = math.hypot(m2[0, 0], m2[1, 0])
    angle = math.degrees(math.atan2(m2[1, 0], m2[0, 0]))  # blank → scan rotation, y down
    turn = int(round(angle / 90.0)) % 4 * 90
    skew = (angle - turn + 180.0) % 360.0 - 180.0
    if not (cfg.scale_range[0] <= scale <= cfg.scale_range[1]) or abs(skew) > cfg.max_skew_deg:
        log.debug("page %s: transform out of range (scale %.3f, skew %.1f°)", ref.layout.number, scale, skew)
        return None
    q = _quality(small, ref, m2, cfg)
    return Registration(ref, m2, cfg.work_dpi, turn, skew, scale, n2, q, "layout")


def _read_code(gray: NDArray[np.uint8], reg: Registration) -> str | None:
    """Decode the page code's QR code where the blank prints it, from the aligned scan (upsampled 2x)."""
    box = reg.reference.qr_bbox
    if box is None:
        return None
    k = px_per_pt(reg.dpi)
    pad = 8.0
    x0, y0 = (box[0] - pad) * k, (box[1] - pad) * k
    w, h = int((box[2] - box[0] + 2 * pad) * k * 2), int((box[3] - box[1] + 2 * pad) * k * 2)
    m = compose(reg.matrix, np.array([[0.5, 0, x0], [0, 0.5, y0]], float))
    crop = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderValue=255)
    try:
        text, _, _ = cv2.QRCodeDetector().detectAndDecode(crop)
    except cv2.error:
        return None
    return text or None


def _try(
    cands: list[tuple[float, int, Reference, NDArray[np.float64]]], spts: NDArray[np.float32], sdesc: NDArray[np.uint8],
    small: NDArray[np.float32], cfg: RegisterDefaults, dark: NDArray[np.float32] | None = None,
) -> list[Registration]:
    """Fit the candidates best first until one aligns confidently (see RegisterDefaults)."""
    tried: list[Registration] = []
    seen: set[int] = set()
    for score, k, ref, coarse in cands:
        if len(tried) >= cfg.thumb_max_candidates or score < cands[0][0] - cfg.thumb_candidates_margin:
            break
        if ref.layout.number in seen:
            continue
        seen.add(ref.layout.number)
        reg = _fit(spts, sdesc, small, ref, k, coarse, cfg, dark)
        if reg is not None:
            tried.append(reg)
            if reg.quality >= cfg.confident_quality:
                break  # only the right page aligns this well: no need to try the others
    return tried


def _patches(ref: Reference, cfg: RegisterDefaults) -> NDArray[np.int32]:
    """Squares of the blank (x0, y0, x1, y1 px) with print in both directions, for local refinement (cached)."""
    key = ("patches", cfg.patch_px)
    if key in ref.cache:
        return ref.cache[key]  # type: ignore[return-value]
    n = cfg.patch_px
    h, w = ref.dark.shape
    gx = np.abs(np.diff(ref.dark, axis=1))
    gy = np.abs(np.diff(ref.dark, axis=0))
    out = []
    for y0 in range(n, h - 2 * n, n):
        for x0 in range(n, w - 2 * n, n):
            ex, ey = float(gx[y0 : y0 + n, x0 : x0 + n].mean()), float(gy[y0 : y0 + n, x0 : x0 + n].mean())
            if min(ex, ey) >= cfg.patch_min_edges:
                out.append((x0, y0, x0 + n, y0 + n))
    arr = np.array(out, np.int32).reshape(-1, 4)
    ref.cache[key] = arr
    return arr


def refine_locally(scan_dark: NDArray[np.float32], reg: Registration, cfg: RegisterDefaults = REGISTER) -> Registration:
    """Correct the page transform from where the blank's print is found on the aligned scan, patch by patch.

    `scan_dark` is the scan's darkness resampled into the blank's frame by reg.matrix. Each
    patch of the blank with print in both directions is looked for within ±refine_search_px;
    an affine correction (which also takes the slightly different x and y scales of sheet-fed
    scanners) is fitted to the shifts with RANSAC. The global ORB fit can be 1 % off in scale
    on a page whose lower half is all written-in fields (6 px at the page foot); this brings
    it to about a pixel. Returns `reg` unchanged when too few patches agree.
    """
    ref = reg.reference
    r = cfg.refine_search_px
    h, w = scan_dark.shape
    src, dst = [], []
    for x0, y0, x1, y1 in _patches(ref, cfg):
        if x0 - r < 0 or y0 - r < 0 or x1 + r > w or y1 + r > h:
            continue
        res = cv2.matchTemplate(scan_dark[y0 - r : y1 + r, x0 - r : x1 + r], ref.dark[y0:y1, x0:x1], cv2.TM_CCOEFF_NORMED)
        _, peak, _, (bx, by) = cv2.minMaxLoc(res)
        if peak < cfg.patch_min_corr or bx in (0, 2 * r) or by in (0, 2 * r):
            continue
        src.append(((x0 + x1) / 2, (y0 + y1) / 2))
        dst.append(((x0 + x1) / 2 + bx - r, (y0 + y1) / 2 + by - r))
    if len(src) < cfg.patch_min_count:
        return reg
    corr, inl = cv2.estimateAffine2D(np.array(src, np.float32), np.array(dst, np.float32), method=cv2.RANSAC, ransacReprojThreshold=1.0, refineIters=10)
    if corr is None or inl is None or int(inl.sum()) < cfg.patch_min_count:
        return reg
    a = as_f64(corr)
    if np.abs(a[:, :2] - np.eye(2)).max() > 0.03 or np.abs(a[:, 2]).max() > 3 * r:
        return reg  # not a small correction: keep the fit
    return _with_matrix(reg, compose(reg.matrix, a))


def _with_matrix(reg: Registration, m: NDArray[np.float64], quality: float | None = None) -> Registration:
    """reg with another matrix (its scale and skew taken from it) and, if given, another quality."""
    angle = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    skew = (angle - reg.orientation + 180.0) % 360.0 - 180.0
    q = reg.quality if quality is None else quality
    return Registration(reg.reference, m, reg.dpi, reg.orientation, skew, math.hypot(m[0, 0], m[1, 0]), reg.inliers, q, reg.identified_by)


def register(
    gray: NDArray[np.uint8], form: FormDef, cfg: RegisterDefaults = REGISTER, dark: NDArray[np.float32] | None = None
) -> Registration | Rejection:
    """Find the form page a scan shows (grey image at cfg.work_dpi) and its transform, or why not.

    Args:
        gray: the scan as delivered, grey, at cfg.work_dpi (pixel size 72/work_dpi points).
        form: the form whose blank pages are candidates.
        dark: darkness(gray, *levels(gray)) when the caller has it already, else worked out here.
    Returns:
        A Registration (its `quality` ≥ cfg.min_quality), or a Rejection with the reason.
    """
    refs = references(form, cfg)
    dark = darkness(gray, *levels(gray)) if dark is None else dark
    early = blank_or_photo(dark, cfg)
    if early is not None:
        return early
    small = _small(dark, cfg)
    cands = _candidates(dark, refs, cfg, small=small)
    if not cands or cands[0][0] < cfg.thumb_min_score:
        top_score = cands[0][0] if cands else 0.0
        return Rejection("no_match", f"no form page looks like it (best thumbnail score {top_score:.2f})", coarse=_coarse(cands))
    spts, sdesc = features(gray, cfg)
    tried = _try(cands, spts, sdesc, small, cfg, dark)
    if not any(r.quality >= cfg.min_quality for r in tried):
        tried += _try(_candidates(dark, refs, cfg, other_ways=True, small=small), spts, sdesc, small, cfg, dark)
    if not tried:
        return Rejection("no_match", f"no form page aligned (best thumbnail score {cands[0][0]:.2f}, page {cands[0][2].layout.number})", coarse=_coarse(cands))
    tried.sort(key=lambda r: -r.quality)
    best = tried[0]
    close = len(tried) > 1 and tried[1].quality > best.quality - cfg.code_check_margin
    if (close or best.quality < cfg.min_quality + cfg.code_check_margin) and best.reference.qr_bbox is not None:
        # Our printing says which page it is: ask the QR code when the layout alone is not clear.
        code = _read_code(gray, best)
        if code and code != best.layout.code:
            named = next((r for r in refs if r.layout.code == code), None)
            again = _fit(spts, sdesc, small, named, best.orientation // 90, best.matrix, cfg, dark) if named is not None else None
            if again is not None:
                best = again
        if code and code == best.layout.code:
            best = replace(best, identified_by="code")
    if best.quality < cfg.min_quality:
        return Rejection("low_quality", f"best match page {best.layout.number} aligns poorly (quality {best.quality:.2f})", fit=best)
    return best


def page_search_only(
    gray: NDArray[np.uint8], form: FormDef, why: str, cfg: RegisterDefaults = REGISTER, dark: NDArray[np.float32] | None = None
) -> Rejection:
    """A page not matched to the form (`why`), with the page search's best guess as the frame to look for moved content in.

    For a page the cheap test (page_gate.py) lets go: no feature matching, only the thumbnail
    search (a few ms), so that a page holding what a Word filling pushed off a form page can still
    be found by its text lines (reflow_scan.settle). `dark` as register's.
    """
    dark = darkness(gray, *levels(gray)) if dark is None else dark
    cands = _candidates(dark, references(form, cfg), cfg)
    return Rejection("no_match", why, coarse=_coarse(cands))


def _coarse(cands: list[tuple[float, int, Reference, NDArray[np.float64]]]) -> tuple[NDArray[np.float64], Reference] | None:
    """The best page-search guess (its transform and blank page), if any."""
    return (cands[0][3], cands[0][2]) if cands else None
