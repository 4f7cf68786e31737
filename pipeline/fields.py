"""A registered scan + its layout page → FieldReading per signature place, seal place and written field.

- Signature places: ink beyond what the blank prints → handwritten / empty / uncertain; the
  crop is kept for the dossier whatever the state.
- Seals (印): on colour scans, the share of red in the place; on grey and black-and-white
  scans (and as a second witness on colour), ink beyond the blank's printed (印) that spans a
  seal's size in both directions.
- Text, URL and date fields: measured for ink first; an empty field costs nothing. A field
  with ink is cut from the scan at the OCR resolution, straightened through the page
  transform, the blank's own ink (underline, labels) whitened out — except for dates, whose
  printed 年 月 日 belong to the value — and read as one line: jpn for text and dates, eng
  with a URL whitelist for URLs. A confident read is `read`; writing Tesseract cannot read
  with confidence is `handwritten` with its crop (never garbage text); in between `uncertain`.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.detect_defaults import FIELDS, MARKS, FieldDefaults, MarkDefaults
from pipeline.marks import InkView, _extra
from pipeline.model import FieldLayout, FieldReading, PageLayout, PageRef

log = logging.getLogger(__name__)

URL_WHITELIST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%"
_CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]"
_SPACE_IN_CJK = re.compile(rf"(?<={_CJK})\s+|\s+(?={_CJK})")

# hires(field) → the field cut from the scan at the OCR resolution, straightened, grey uint8
HiresCrop = Callable[[FieldLayout, float], NDArray[np.uint8]]


@dataclass(frozen=True, slots=True)
class FieldMeasure:
    ink: float  # share of the place's pixels inked beyond the blank
    red: float | None  # share of red pixels (seal places on colour scans)
    extent_pt: tuple[float, float] | None  # inked width, height (seal places)
    ocr: tuple[float, float, float] | None = None  # line confidence, mean and least character confidence


def ink_share(view: InkView, box: tuple[float, float, float, float], cfg: FieldDefaults, grow_pt: float = 0.0, floor: float = MARKS.noise_floor) -> tuple[float, NDArray[np.float32]]:
    """Share of the place's pixels darker than the blank by more than cfg.field_ink, and the extra-ink map."""
    x0, y0, x1, y1 = view.px(box, grow_pt)
    extra = _extra(view, x0, y0, x1, y1, 0, 0, floor)
    return float((extra > cfg.field_ink).mean()) if extra.size else 0.0, extra


def red_share(rgb: NDArray[np.uint8] | None, view: InkView, box: tuple[float, float, float, float], cfg: FieldDefaults, grow_pt: float) -> float | None:
    """Share of red (seal ink) pixels in the place on an aligned colour scan, None for grey scans."""
    if rgb is None:
        return None
    x0, y0, x1, y1 = view.px(box, grow_pt)
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    hue = hsv[:, :, 0].astype(np.int16) * 2  # OpenCV keeps hue / 2
    near_red = (hue <= cfg.red_hue_deg) | (hue >= 360 - cfg.red_hue_deg)
    red = near_red & (hsv[:, :, 1] >= cfg.red_min_sat * 255) & (hsv[:, :, 2] >= 60)
    return float(red.mean()) if red.size else 0.0


def _extent_pt(extra: NDArray[np.float32], dpi: float, level: float) -> tuple[float, float]:
    """Width and height (points) spanned by the ink, ignoring the outer 2 % on each side (specks)."""
    ys, xs = np.nonzero(extra > level)
    if len(xs) < 4:
        return 0.0, 0.0
    k = 72.0 / dpi
    return (float(np.percentile(xs, 98) - np.percentile(xs, 2)) * k, float(np.percentile(ys, 98) - np.percentile(ys, 2)) * k)


def _presence(value: float, present: float, empty: float) -> str:
    return "handwritten" if value >= present else "empty" if value <= empty else "uncertain"


def read_signature(view: InkView, fld: FieldLayout, ref: PageRef, cfg: FieldDefaults = FIELDS) -> tuple[FieldReading, FieldMeasure]:
    # 1 pt inside the frame: the printed box outline never counts, and neither does a seal
    # stamped just across its right side (a seal ring is ~1 mm of ink).
    inner = (fld.bbox[0] + 1.5, fld.bbox[1] + 1.5, fld.bbox[2] - 1.5, fld.bbox[3] - 1.5)
    share, _ = ink_share(view, inner, cfg)
    status = _presence(share, cfg.signature_present, cfg.signature_empty)
    return FieldReading(fld.name, fld.owner, fld.kind, None, status, round(share, 4), ref, fld.bbox), FieldMeasure(share, None, None)  # type: ignore[arg-type]


def read_seal(view: InkView, rgb: NDArray[np.uint8] | None, fld: FieldLayout, ref: PageRef, cfg: FieldDefaults = FIELDS) -> tuple[FieldReading, FieldMeasure]:
    share, extra = ink_share(view, fld.bbox, cfg)
    red = red_share(rgb, view, fld.bbox, cfg, 0.0)
    ext = _extent_pt(extra, view.dpi, cfg.field_ink)
    big = min(ext) >= cfg.seal_min_extent_pt
    if red is not None and red >= cfg.red_present:
        status, conf = "handwritten", red
    elif share >= cfg.seal_present and big:
        status, conf = "handwritten", share
    elif share <= cfg.seal_empty and (red is None or red <= cfg.red_empty):
        status, conf = "empty", share
    else:
        status, conf = "uncertain", share
    return FieldReading(fld.name, fld.owner, fld.kind, None, status, round(conf, 4), ref, fld.bbox), FieldMeasure(share, red, ext)  # type: ignore[arg-type]


def clean_text(text: str) -> str:
    """NFKC, one line, no spaces between Japanese characters."""
    t = unicodedata.normalize("NFKC", text).replace("\n", " ").strip()
    t = _SPACE_IN_CJK.sub("", t)
    return re.sub(r"\s+", " ", t)


def prepare_line(crop: NDArray[np.uint8], blank: NDArray[np.float32] | None) -> NDArray[np.uint8] | None:
    """A field crop ready for Tesseract: contrast stretched, the blank's ink whitened, cut to the written line, padded.

    `blank` is the blank's darkness (0..1) over the same area, same size, or None to keep it.
    Rows that are dark across most of the field are the printed underline (a few px off after
    registration) and are whitened; specks are dropped; then only the band of rows holding
    most of the ink, and the run of columns holding most of it, are kept — fragments of the
    printed line above that reach into the field would otherwise be read as characters.
    """
    g = crop.astype(np.float32)
    paper = float(np.percentile(g, 90))
    ink = float(min(np.percentile(g, 1), paper - 60))
    norm = np.clip((g - ink) / max(paper - ink, 1.0), 0.0, 1.0)
    if blank is not None:
        norm[blank > 0.35] = 1.0
    h, w = norm.shape
    line_rows = (norm < 0.7).mean(axis=1) >= 0.6
    norm[line_rows] = 1.0
    dark = (norm < 0.55).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    small = np.nonzero(stats[:, cv2.CC_STAT_AREA] < 5)[0]
    if len(small) > 1:
        dark[np.isin(lab, small[small > 0])] = 0
    band = _main_run(dark.sum(axis=1) >= 2, gap=max(3, h // 12))
    if band is None:
        return None
    y0, y1 = band
    span = _main_run(dark[y0:y1].sum(axis=0) >= 1, gap=max(8, int(2.5 * (y1 - y0))))
    if span is None:
        return None
    x0, x1 = span
    pad = 10
    y0, y1 = max(0, y0 - 2), min(h, y1 + 2)
    x0, x1 = max(0, x0 - 3), min(w, x1 + 3)
    out = (norm[y0:y1, x0:x1] * 255).astype(np.uint8)
    return cv2.copyMakeBorder(out, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


def _main_run(inked: NDArray[np.bool_], gap: int) -> tuple[int, int] | None:
    """The run of inked positions (gaps up to `gap` bridged) holding the most inked positions: (start, end)."""
    idx = np.nonzero(inked)[0]
    if len(idx) == 0:
        return None
    runs: list[list[int]] = [[int(idx[0]), int(idx[0]) + 1, 1]]
    for y in idx[1:]:
        if y - runs[-1][1] <= gap:
            runs[-1][1] = int(y) + 1
            runs[-1][2] += 1
        else:
            runs.append([int(y), int(y) + 1, 1])
    best = max(runs, key=lambda r: r[2])
    return best[0], best[1]


def _conf_parts(read: object) -> tuple[float, float, float]:
    syms = [float(s.confidence) for s in getattr(read, "symbols", ()) if s.text.strip()]
    line = float(getattr(read, "confidence", 0.0))
    return (line, float(np.mean(syms)) if syms else line, min(syms) if syms else line)


def ocr_confidence(read: object) -> float:
    """Confidence of a line read (0..1): the mean of its characters' confidences when the engine gives them.

    Tesseract's word confidences for jpn lines are often 0 for lines it read correctly (a word
    is a whole run of kana and kanji); its per-character confidences are stable (measured:
    typed 0.93-0.99 a character, handwriting-like 0.6-0.9).
    """
    return _conf_parts(read)[1]


DATE_WHITELIST = "0123456789年月日令和平成元"


def _scaled(line: NDArray[np.uint8], text_px: int) -> NDArray[np.uint8]:
    """The prepared line (10 px white border) scaled so that its ink is text_px tall."""
    f = text_px / max(line.shape[0] - 20, 1)
    return cv2.resize(line, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)


def _ocr_line(engine: object, line: NDArray[np.uint8], fld: FieldLayout, cfg: FieldDefaults) -> object:
    """Read one prepared line the way its kind reads best (measured on generated scans, both printings):

    URLs with eng and a URL whitelist (0.2 % CER); dates with jpn limited to digits and the
    era/年月日 glyphs, at 32 px text height; other text with jpn, psm 7 — re-read at 24 px when
    psm 7 finds no line (it misses some short lines of large kanji), and re-read with eng
    when what it found is mostly ASCII (e-mail addresses, telephone numbers: jpn drops dots).
    """
    read = engine.read_line  # type: ignore[attr-defined]
    if fld.kind == "url":
        r = read(line, lang="eng", whitelist=URL_WHITELIST, psm=cfg.ocr_psm, region=fld.name)
        return r if clean_text(r.text) else read(_scaled(line, 24), lang="eng", whitelist=URL_WHITELIST, psm=cfg.ocr_psm, region=fld.name)
    if fld.kind == "date":
        return read(_scaled(line, 32), lang="jpn", whitelist=DATE_WHITELIST, psm=cfg.ocr_psm, region=fld.name)
    r = read(line, lang="jpn", whitelist=None, psm=cfg.ocr_psm, region=fld.name)
    if not clean_text(r.text):
        r = read(_scaled(line, 24), lang="jpn", whitelist=None, psm=cfg.ocr_psm, region=fld.name)
    text = clean_text(r.text)
    if text and sum(c.isascii() for c in text) >= 0.7 * len(text):
        r2 = read(line, lang="eng", whitelist=None, psm=cfg.ocr_psm, region=fld.name)
        if clean_text(r2.text):
            return r2
    return r


def read_text(
    view: InkView, fld: FieldLayout, ref: PageRef, hires: HiresCrop | None, engine: object | None, cfg: FieldDefaults = FIELDS,
    blank_hires: Callable[[FieldLayout, float], NDArray[np.float32]] | None = None, deadline: float | None = None,
) -> tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]:
    """One text / URL / date field: ink, then (only if inked) OCR of the straightened crop."""
    share, _ = ink_share(view, fld.bbox, cfg)
    m = FieldMeasure(share, None, None)
    if share <= cfg.text_empty:
        return FieldReading(fld.name, fld.owner, fld.kind, None, "empty", None, ref, fld.bbox), m, None
    if hires is None or engine is None or (deadline is not None and time.monotonic() > deadline):
        return FieldReading(fld.name, fld.owner, fld.kind, None, "uncertain", None, ref, fld.bbox), m, None
    from pipeline.ocr import OcrError

    dpi = cfg.ocr_dpi
    crop = hires(fld, dpi)
    blank = blank_hires(fld, dpi) if (blank_hires is not None and fld.kind != "date") else None
    line = prepare_line(crop, blank)
    if line is None:
        status = "empty" if share < cfg.text_present else "uncertain"
        return FieldReading(fld.name, fld.owner, fld.kind, None, status, None, ref, fld.bbox), m, crop  # type: ignore[arg-type]
    try:
        read = _ocr_line(engine, line, fld, cfg)
    except OcrError as exc:
        log.warning("%s p%s %s: OCR failed (%s)", ref.file, ref.page, fld.name, exc)
        return FieldReading(fld.name, fld.owner, fld.kind, None, "uncertain", None, ref, fld.bbox), m, crop
    text = clean_text(read.text)
    conf, m = ocr_confidence(read), FieldMeasure(share, None, None, _conf_parts(read))
    if not text:
        status, value = ("uncertain", None) if share >= cfg.text_present else ("empty", None)
    elif conf >= cfg.ocr_read:
        status, value = "read", text
    elif conf < cfg.ocr_handwritten:
        status, value = "handwritten", None
    else:
        status, value = "uncertain", text
    reading = FieldReading(fld.name, fld.owner, fld.kind, value, status, round(conf, 3), ref, fld.bbox)  # type: ignore[arg-type]
    return reading, m, (crop if status != "read" else None)


def read_fields(
    view: InkView,
    layout: PageLayout,
    ref: PageRef,
    *,
    rgb: NDArray[np.uint8] | None,
    hires: HiresCrop | None,
    blank_hires: Callable[[FieldLayout, float], NDArray[np.float32]] | None,
    engine: object | None,
    crop_of: Callable[[FieldLayout], NDArray[np.uint8]],
    cfg: FieldDefaults = FIELDS,
    deadline: float | None = None,
) -> tuple[list[FieldReading], dict[str, NDArray[np.uint8]], dict[str, FieldMeasure]]:
    """Read every field of a registered page: readings, crops for the dossier, and the measures."""
    readings: list[FieldReading] = []
    crops: dict[str, NDArray[np.uint8]] = {}
    measures: dict[str, FieldMeasure] = {}
    for fld in layout.fields:
        if fld.kind == "signature":
            r, m = read_signature(view, fld, ref, cfg)
            crops[fld.name] = crop_of(fld)
        elif fld.kind == "seal":
            r, m = read_seal(view, rgb, fld, ref, cfg)
            crops[fld.name] = crop_of(fld)
        else:
            r, m, picture = read_text(view, fld, ref, hires, engine, cfg, blank_hires, deadline)
            if picture is not None:
                crops[fld.name] = picture
        readings.append(r)
        measures[fld.name] = m
    return readings, crops, measures


__all__ = ["FieldMeasure", "read_fields", "read_signature", "read_seal", "read_text", "clean_text", "prepare_line", "MarkDefaults"]
