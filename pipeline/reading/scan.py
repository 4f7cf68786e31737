"""A scanned page → (form page layout, PageReading), or None when it is not a page of the form.

The entry point for scans (the run calls `read_scan(page, form, engines)`). One page costs a
12-dpi colour probe and one decode at the OCR resolution (200 dpi; the embedded JPEG pulled
by ingest), reduced to work_dpi (~100 dpi) for registration and the box and field ink
measures. A page without the marks every page of the form prints (page_gate.py, a few ms) goes
to the attachments before any feature matching. Only written fields that hold ink are then cut
from the decode, straightened and read (pipeline.tools.tesseract, on up to two loaded engines
from the run's `Engines`).

Bad input never raises out of here: a page too large to rasterise, a blank page, a photo, a
page of another form or a page that takes longer than the budget is logged and returns None,
so that it goes on to the attachments (and a form page that never matched is reported by
the run as missing_form_page).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.errors import PipelineError
from pipeline.model.geometry import pt_to_px, px_per_pt
from pipeline.model.records import BBox, FieldLayout, FieldReading, FormDef, MarkReading, PageLayout
from pipeline.model.words import MOVED_URL_NOTE
from pipeline.reading.affine import aligned_view, compose, scaling
from pipeline.reading.engines import Engines
from pipeline.reading.fields import FieldMeasure, HiresCrop, read_fields
from pipeline.reading.marks import BoxMeasure, InkView, read_marks
from pipeline.reading.page_gate import could_be_form_page
from pipeline.reading.read_digital import PageReading
from pipeline.reading.reflow import Located
from pipeline.reading.reflow_scan import Settled, settle, unplaced, unsure_below
from pipeline.reading.register import Registration, Rejection, blank_or_photo, darkness, levels, page_search_only, register
from pipeline.reading.settings import FIELDS, MARKS, REGISTER, FieldDefaults, MarkDefaults, RegisterDefaults
from pipeline.sources.resample import exact_factor, shrink

if TYPE_CHECKING:
    from pipeline.sources.page import Page
    from pipeline.tools.tesseract import OcrEngine

log = logging.getLogger(__name__)

# A page whose displayed size differs from the form's by more than this (same shape) was
# scanned with a wrong resolution tag (phones, some fax gateways): it is fitted to the form.
FIT_TOLERANCE = 0.08
# Colour scans: mean |R-G| + |G-B| over the page above this (grey levels) means colour.
COLOUR_SPREAD = 6.0
# Whether a page is in colour is judged at 12.5 dpi (the colour view / 8); red seals are measured
# on the colour page reduced to 100 dpi (at 50 dpi a pale vermilion stamp washed out to pink).
COLOUR_PROBE_DPI = 12.5  # COLOUR_DPI / 8: a fast exact shrink
COLOUR_DPI = 100.0
# Crops kept for the dossier (signatures, seals, unread writing), upright, at this resolution.
CROP_DPI = 150.0


@dataclass(slots=True)
class ScanDetail:
    """Everything read from one scanned page, with the measures and timings behind it (bench, debug)."""

    layout: PageLayout | None
    reading: PageReading | None
    registration: Registration | None = None
    rejection: Rejection | None = None
    box_measures: dict[str, BoxMeasure] = field(default_factory=dict)
    field_measures: dict[str, FieldMeasure] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    colour: bool = False
    located: Located | None = None  # where the content is, when it moved (reflow)


# A page is black-and-white when under this share of its ink pixels (< 200) are mid-grey (90-199).
# Measured on page 2 of 8 scans at their own resolution: 200 dpi bw 0.000 (2 grey levels); grey
# and colour scans 0.54-0.89. A 300 dpi bw page decoded at 150 dpi measured 0.33: told apart by its 1-bit storage
# (Page.source_bilevel) instead.
BILEVEL_MID_SHARE = 0.05


def looks_bilevel(gray: NDArray[np.uint8]) -> bool:
    """Whether a page decoded at its own resolution is black and white only (binarised by the scanner)."""
    ink = int((gray < 200).sum())
    if ink < 1000:
        return False  # a near-blank page says nothing
    mid = int(((gray >= 90) & (gray < 200)).sum())
    return mid < BILEVEL_MID_SHARE * ink


def _unfollowed(
    settled: Settled, where: str, marks: tuple[MarkReading, ...], fields: tuple[FieldReading, ...]
) -> tuple[tuple[MarkReading, ...], tuple[FieldReading, ...]]:
    """The readings, uncertain from where the content moved down when its flow could not be followed (reflow_scan.unsure_below)."""
    if settled.moved_from_pt is None:
        return marks, fields
    log.info("%s: content moved from %.0f pt down and could not be followed: read there as uncertain", where, settled.moved_from_pt)
    return unsure_below(marks, fields, settled.moved_from_pt)


def _moved_urls(fields: tuple[FieldReading, ...]) -> tuple[FieldReading, ...]:
    """A moved page's URL places read uncertain, with no text and no reason: said to be unreadable ink, not a path written by hand.

    Word typed the page, so a path would have been read as text; the ink may be the next blank
    page's first line, unaligned, under a place at its page's end (seed 87500-01 p6 and p8:
    4-3-2's and 6-2-2's empty url_target read uncertain, counted as a path filled in, silently).
    """
    return tuple(replace(f, note=MOVED_URL_NOTE) if f.kind == "url" and f.status == "uncertain" and not f.note and not f.value else f for f in fields)


def read_scan(page: Page, form: FormDef, engines: Engines) -> tuple[PageLayout, PageReading] | None:
    """Read one scanned page as a page of `form`; None when it is not one of its pages."""
    detail = read_scan_detail(page, form, engines)
    if detail.layout is None or detail.reading is None:
        return None
    return detail.layout, detail.reading


def _is_colour(rgb: NDArray[np.uint8]) -> bool:
    """A colour page: tinted paper on average, or a few clearly coloured pixels (a red seal on white)."""
    s = rgb.astype(np.int16)
    spread = np.abs(s[:, :, 0] - s[:, :, 1]) + np.abs(s[:, :, 1] - s[:, :, 2])
    return float(spread.mean()) > COLOUR_SPREAD or float((spread > 60).mean()) > 0.0005


def _colour_view(rgb: NDArray[np.uint8], factor: float) -> NDArray[np.uint8]:
    """The colour page reduced for colour measures: by area when that is fast (1/2), else bilinear.

    Only shares of red pixels are measured on it; bilinear keeps a stamp's red as well as area
    averaging does, for 5 ms instead of 20 on a 150 dpi page.
    """
    h, w = rgb.shape[:2]
    exact = exact_factor(factor, max(h, w))
    if exact is not None and exact.numerator == 1:
        return shrink(rgb, factor)
    return np.asarray(cv2.resize(rgb, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_LINEAR), np.uint8)


def _fit_factor(shape: tuple[int, ...], form: FormDef, dpi: float) -> float:
    """1.0, or the factor that brings a page of the form's shape but the wrong size to the form's size."""
    h, w = shape[:2]
    page = form.pages[0]
    fw, fh = pt_to_px(page.width_pt, dpi), pt_to_px(page.height_pt, dpi)
    if (h >= w) != (fh >= fw):
        fw, fh = fh, fw
    rx, ry = fw / max(w, 1), fh / max(h, 1)
    if abs(rx / ry - 1.0) > 0.06:  # another shape of paper: leave it, registration copes with ±12 %
        return 1.0
    r = (rx + ry) / 2
    return r if abs(r - 1.0) > FIT_TOLERANCE else 1.0


def decode_dpi(source_dpi: float | None, cfg: FieldDefaults = FIELDS) -> float:
    """The resolution to decode a scanned page at: the cheapest exact JPEG decode that keeps enough detail.

    A JPEG decodes at 1/2, 1/4, 1/8 of its size for a fraction of the full cost, and anything
    else costs a full decode plus a resize (on a 300 dpi page, 40 ms of resizing alone). So a
    300 dpi scan is decoded at 150, a 200 dpi one at 200, a 150 dpi one at 150 — never blown
    up. A page that is drawn, not a stored picture, is rendered at cfg.ocr_dpi.
    """
    if not source_dpi or source_dpi <= 0:
        return cfg.ocr_dpi
    dpi = source_dpi
    while dpi / 2 >= cfg.min_decode_dpi:
        dpi /= 2
    return dpi


def _warp_region(image: NDArray[np.uint8], to_image: NDArray[np.float64], box: BBox, out_dpi: float, work_dpi: float, pad_pt: float, border: int = 255) -> NDArray[np.uint8]:
    """The region `box` (points, grown by pad_pt) of the blank, read from `image` through `to_image`.

    `to_image` maps blank px at work_dpi to `image` px; the result is upright at out_dpi.
    """
    x0, y0 = box[0] - pad_pt, box[1] - pad_pt
    w = int(round(pt_to_px(box[2] - box[0] + 2 * pad_pt, out_dpi)))
    h = int(round(pt_to_px(box[3] - box[1] + 2 * pad_pt, out_dpi)))
    wk = px_per_pt(work_dpi)
    a = np.array([[work_dpi / out_dpi, 0, x0 * wk], [0, work_dpi / out_dpi, y0 * wk]], float)
    bv = (border,) * (image.shape[2] if image.ndim == 3 else 1)
    return np.asarray(cv2.warpAffine(image, compose(to_image, a), (max(w, 1), max(h, 1)), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=bv), np.uint8)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A scanned page decoded once: grey at the OCR resolution and at the work resolution, and its colour view."""

    hd_dpi: float  # the decode's resolution
    hi_gray: NDArray[np.uint8]  # grey at hd_dpi
    gray: NDArray[np.uint8]  # grey at work_dpi, after fitting
    fit: float  # the factor that brought a wrongly tagged page to the form's size (1.0: none)
    small_rgb: NDArray[np.uint8] | None  # the page at COLOUR_DPI when it is in colour, else None


def decode_page(page: Page, form: FormDef, work_dpi: float, cfg: FieldDefaults, where: str) -> Decoded:
    """One decode, at the OCR resolution; raises PipelineError when the page cannot be rasterised.

    Even a 1/8 JPEG decode pays the whole entropy decoding (10 ms at 300 dpi), so colour is
    judged on the decoded page, and a page stored grey or black-and-white is decoded grey
    without asking.
    """
    hd = page.fit_dpi(decode_dpi(page.source_dpi(), cfg))
    big = page.image(hd, gray=page.source_gray())
    small_rgb = None
    if big.ndim == 3:
        small_rgb = _colour_view(big, COLOUR_DPI / hd)
        if not _is_colour(shrink(small_rgb, COLOUR_PROBE_DPI / COLOUR_DPI)):
            small_rgb = None
    hi_gray = np.asarray(cv2.cvtColor(big, cv2.COLOR_RGB2GRAY), np.uint8) if big.ndim == 3 else big
    fit = _fit_factor(hi_gray.shape, form, hd)
    if fit != 1.0:
        log.info("%s: page size %.0fx%.0f pt does not match the form; fitted by %.3f", where, page.width_pt, page.height_pt, fit)
    gray = shrink(hi_gray, work_dpi * fit / hd)  # work px (after fitting)
    return Decoded(hd, hi_gray, gray, fit, small_rgb)


def ink_view(gray: NDArray[np.uint8], reg: Registration, aligned: NDArray[np.uint8] | None = None, dark: NDArray[np.float32] | None = None) -> InkView:
    """The scan's darkness in the blank's frame beside the blank's own (both at the registration's dpi).

    `aligned`: the scan already resampled into the blank's frame (aligned_page), else done here;
    `dark`: its darkness (darkness(aligned, *levels(gray))) when measured already.
    """
    ref = reg.reference
    if dark is None:
        aligned = aligned_page(gray, reg) if aligned is None else aligned
        dark = darkness(aligned, *levels(gray))
    return InkView(reg.dpi, dark, ref.dark, ref.dark_max, ref.cache, ref.dark_wide)


def aligned_page(gray: NDArray[np.uint8], reg: Registration) -> NDArray[np.uint8]:
    """The scan resampled into the blank's frame at the registration's dpi (grey, white outside)."""
    ref = reg.reference
    return aligned_view(gray, reg.matrix, (ref.gray.shape[1], ref.gray.shape[0]))


def colour_aligned(page: Decoded, reg: Registration) -> NDArray[np.uint8] | None:
    """The colour image aligned to the blank at its own (lower) resolution, COLOUR_DPI; None for a grey page."""
    if page.small_rgb is None:
        return None
    work = reg.dpi
    size = (reg.reference.gray.shape[1], reg.reference.gray.shape[0])
    a, c = COLOUR_DPI / work, COLOUR_DPI / (work * page.fit)  # blank px → its colour-dpi px; grey px → colour px
    to_small = compose(scaling(c), compose(reg.matrix, scaling(1 / a)))
    return aligned_view(page.small_rgb, to_small, (round(size[0] * a), round(size[1] * a)))


@dataclass(frozen=True, slots=True)
class FieldCuts:
    """How field reading cuts a field out of the page: for OCR, the blank under it, and the dossier's crop."""

    hires: HiresCrop
    blank_hires: Callable[[FieldLayout, float], NDArray[np.float32]]
    crop_of: Callable[[FieldLayout], NDArray[np.uint8]]


def field_cuts(page: Decoded, reg: Registration) -> FieldCuts:
    """Field cuts from the decode at the OCR resolution, straightened through the page transform."""
    work = reg.dpi
    s_hi = page.hd_dpi / (work * page.fit)  # work px (after fitting) → hires px
    to_hi = compose(scaling(s_hi), reg.matrix)
    dark_max = reg.reference.dark_max

    def hires(fld: FieldLayout, dpi: float) -> NDArray[np.uint8]:
        return _warp_region(page.hi_gray, to_hi, fld.bbox, dpi, work, 2.0)

    def blank_hires(fld: FieldLayout, dpi: float) -> NDArray[np.float32]:
        k = px_per_pt(work)
        x0, y0 = int(round((fld.bbox[0] - 2.0) * k)), int(round((fld.bbox[1] - 2.0) * k))
        x1, y1 = int(round((fld.bbox[2] + 2.0) * k)), int(round((fld.bbox[3] + 2.0) * k))
        w = int(round(pt_to_px(fld.bbox[2] - fld.bbox[0] + 4.0, dpi)))
        h = int(round(pt_to_px(fld.bbox[3] - fld.bbox[1] + 4.0, dpi)))
        part = dark_max[max(0, y0) : y1, max(0, x0) : x1]
        return np.asarray(cv2.resize(part, (max(w, 1), max(h, 1)), interpolation=cv2.INTER_LINEAR), np.float32)

    def crop_of(fld: FieldLayout) -> NDArray[np.uint8]:
        return _warp_region(page.hi_gray, to_hi, fld.bbox, CROP_DPI, work, 4.0)

    return FieldCuts(hires, blank_hires, crop_of)


def ocr_engine(engines: Engines, layout: PageLayout, where: str) -> OcrEngine | None:
    """The OCR engine when the page has written fields to read; None when it has none or no engine can run."""
    if not any(f.kind not in ("signature", "seal") for f in layout.fields):
        return None
    try:
        return engines.ocr()
    except (PipelineError, ImportError) as exc:
        log.warning("%s: no OCR engine (%s); written fields stay uncertain", where, exc)
        return None


def uncertain_mark_crops(gray: NDArray[np.uint8], reg: Registration, marks: Iterable[MarkReading]) -> dict[str, NDArray[np.uint8]]:
    """The uncertain boxes and their surroundings, upright at the work resolution, for the reviewer."""
    return {
        f"{m.owner}.{m.option}": _warp_region(gray, reg.matrix, m.bbox, reg.dpi, reg.dpi, 30.0)
        for m in marks
        if m.state == "uncertain" and m.bbox is not None
    }


def _settled(gray: NDArray[np.uint8], form: FormDef, register_cfg: RegisterDefaults) -> Settled:
    """The page registered and settled (reflow_scan.settle), or why it is not a form page; `gray` at work_dpi."""
    page_dark = darkness(gray, *levels(gray))  # measured once, for the rejections, the page search and registration
    early = blank_or_photo(page_dark, register_cfg)
    verdict = could_be_form_page(gray, form, register_cfg) if early is None else None
    if verdict is not None and not verdict.passed:
        # Not the form's by its marks (page_gate.py): no feature matching, unless the page search's
        # guess finds a form page's moved content on it (a page Word pushed it onto) — then it is
        # registered as any page, for the precise frame its places are read in.
        settled = settle(gray, page_search_only(gray, form, verdict.why, register_cfg, page_dark), form, register_cfg)
        if settled.located is None:
            return settled
    return settle(gray, register(gray, form, register_cfg, page_dark), form, register_cfg)


def read_scan_detail(
    page: Page,
    form: FormDef,
    engines: Engines,
    *,
    register_cfg: RegisterDefaults = REGISTER,
    mark_cfg: MarkDefaults = MARKS,
    field_cfg: FieldDefaults = FIELDS,
) -> ScanDetail:
    """read_scan with the measures, the registration and the time each step took.

    Args:
        page: a page of a source (sources.page.Page), decoded here at the resolution it was stored at.
        form: the form whose pages are looked for.
        engines: the process's readers; its OCR engine is loaded only when a page has written fields.
    """
    t0 = time.monotonic()
    deadline = t0 + register_cfg.page_seconds
    where = f"{page.ref.file} p{page.ref.page}"
    detail = ScanDetail(None, None)
    try:
        decoded = decode_page(page, form, register_cfg.work_dpi, field_cfg, where)
    except PipelineError as exc:
        log.warning("%s: not read as a form page: %s", where, exc)
        return detail
    detail.colour = decoded.small_rgb is not None
    t1 = time.monotonic()
    detail.seconds["decode"] = t1 - t0
    settled = _settled(decoded.gray, form, register_cfg)
    reg = settled.outcome
    t2 = time.monotonic()
    detail.seconds["register"] = t2 - t1
    if isinstance(reg, Rejection):
        log.info("%s: not a page of %s (%s: %s)", where, form.name, reg.reason, reg.detail)
        detail.rejection = reg
        return detail
    detail.registration = reg
    layout = reg.layout
    # the registered page in the blank's frame, as settle measured it when the registration stood
    aligned, dark = settled.aligned if settled.aligned is not None else (aligned_page(decoded.gray, reg), None)
    view = ink_view(decoded.gray, reg, aligned, dark)
    rgb = colour_aligned(decoded, reg)
    marks = read_marks(view, layout, page.ref, mark_cfg)
    detail.box_measures = {f"{m.owner}.{m.option}": bm for m, bm in marks}
    t3 = time.monotonic()
    detail.seconds["marks"] = t3 - t2
    cuts = field_cuts(decoded, reg)
    engine = ocr_engine(engines, layout, where)
    # the blank's text layer serves the printed 年 月 日 of date fields only: read from the blank PDF
    # for a page that has one (own-scan's 15 pages: 0.26 s of profiled CPU when every page read it)
    printed = reg.reference.printed if any(f.kind == "date" for f in layout.fields) else ()
    try:
        fields, field_crops, measures = read_fields(
            view, layout, page.ref, rgb=rgb, rgb_dpi=COLOUR_DPI, hires=cuts.hires, blank_hires=cuts.blank_hires, engine=engine, crop_of=cuts.crop_of,
            cfg=field_cfg, deadline=deadline, printed=printed, engines=engines, beside=settled.located is None,
        )
    except PipelineError as exc:
        log.warning("%s: fields not read: %s", where, exc)
        return detail
    detail.field_measures = measures
    extra_marks, extra_fields = unplaced(settled.located, page.ref, reg.dpi) if settled.located else ([], [])
    read_marks_all, all_fields = _unfollowed(settled, where, tuple(m for m, _ in marks) + tuple(extra_marks), tuple(fields) + tuple(extra_fields))
    all_fields = _moved_urls(all_fields) if settled.located is not None else all_fields
    crops: dict[str, NDArray[np.uint8]] = {**field_crops, **uncertain_mark_crops(decoded.gray, reg, read_marks_all)}
    # a place not found on a page whose content moved keeps the crop of where its line suggests
    crops |= {f.name: _warp_region(decoded.gray, reg.matrix, f.bbox, reg.dpi, reg.dpi, 30.0) for f in extra_fields if f.bbox is not None}
    detail.seconds["fields"] = time.monotonic() - t3
    detail.layout = layout
    detail.located = settled.located
    bilevel = page.source_bilevel() or (abs(decoded.hd_dpi - (page.source_dpi() or 0.0)) < 1.0 and looks_bilevel(decoded.hi_gray))  # 8 bits: at its own dpi
    detail.reading = PageReading(read_marks_all, all_fields, crops, page_image=aligned, page_dpi=reg.dpi, bilevel=bilevel)
    if time.monotonic() > deadline:
        log.warning("%s: reading took longer than %.0f s", where, register_cfg.page_seconds)
    return detail
