"""A registered scan + its layout page → FieldReading per signature place, seal place and written field.

- Signature and seal places: sign_seal.py.
- Text, URL and date fields: measured for ink first; an empty field costs nothing. A field
  with ink is cut from the scan at the OCR resolution, straightened through the page
  transform, the blank's own ink (underline, labels) whitened out, and read as one line:
  jpn for text (eng again when the line is mostly ASCII), eng with a URL whitelist for URLs;
  a date's written digit groups are read alone (eng, digits) and joined with the 年 月 日 the
  blank prints. A line read with sure character confidences is `read`; an unsure one is read
  again at another size and taken only if both reads agree; otherwise writing that wanders
  like handwriting is `handwritten` (no text, crop kept) and the rest `uncertain` (the guess
  kept for the reviewer, with its crop). The OCR runs on up to two loaded engines.

Signature and seal places and written fields are each refined locally (±3 px) against the
blank's print around them before anything is measured.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.errors import PipelineError
from pipeline.model.geometry import pt_per_px
from pipeline.model.records import FieldLayout, FieldReading, PageLayout, PageRef
from pipeline.model.words import FAINT_FIELD_NOTE, STRAY_FIELD_NOTE
from pipeline.reading.field_ink import faint_writing, ink_share, stray_band, stray_writing
from pipeline.reading.field_text import Pending, crossing, fit_pattern, pattern_text, second_read, tidy_line
from pipeline.reading.marks import InkView, refine
from pipeline.reading.settings import FIELDS, MARKS, SECOND_READ, FieldDefaults, SecondReadDefaults
from pipeline.reading.sign_seal import FieldMeasure, around, read_seal, read_signature

if TYPE_CHECKING:
    from pipeline.reading.engines import Engines
    from pipeline.tools.tesseract import OcrEngine

log = logging.getLogger(__name__)

URL_WHITELIST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%"

# hires(field) → the field cut from the scan at the OCR resolution, straightened, grey uint8
HiresCrop = Callable[[FieldLayout, float], NDArray[np.uint8]]


def _levels(crop: NDArray[np.uint8]) -> tuple[float, float]:
    """(paper, ink) grey levels of a field crop: its 90th and 1st percentiles, ink at least 60 below paper."""
    hist = np.asarray(cv2.calcHist([crop], [0], None, [256], [0, 256]), np.float64).ravel()
    cdf = np.cumsum(hist) / max(float(hist.sum()), 1.0)
    paper = float(np.searchsorted(cdf, 0.9))
    return paper, min(float(np.searchsorted(cdf, 0.01)), paper - 60.0)


def prepare_line(crop: NDArray[np.uint8], blank: NDArray[np.float32] | None, whole: bool = False, crossings: bool = False) -> NDArray[np.uint8] | None:
    """A field crop ready for Tesseract: contrast stretched, the blank's ink whitened, cut to the written line, padded.

    `whole` keeps every inked column of the line's band (a date's digit groups, apart where the
    printed 年 月 日 were whitened), not only the run holding most of the ink.
    """
    return prepare_line_cut(crop, blank, whole, crossings)[0]


# The share of a field's written ink that the cut to one run of columns may leave out before the
# line read is no longer the whole value (a word written with a wide gap after it). A dot or the
# tail of a stray stroke is a few %. Not yet measured on a set: a guard, chosen above that.
DROPPED_INK = 0.08


def prepare_line_cut(
    crop: NDArray[np.uint8], blank: NDArray[np.float32] | None, whole: bool = False, crossings: bool = False
) -> tuple[NDArray[np.uint8] | None, float]:
    """prepare_line, and the share of the written line's ink its cut left out (beside the run of columns kept).

    `blank` is the blank's darkness (0..1) over the same area, same size, or None to keep it.
    Rows that are dark across most of the field are the printed underline (a few px off after
    registration) and are whitened; specks are dropped; then only the band of rows holding
    most of the ink, and the run of columns holding most of it, are kept — fragments of the
    printed line above that reach into the field would otherwise be read as characters.
    `crossings` keeps the strokes that cross a printed line (field_text.crossing): the second reader's line.
    """
    paper, ink = _levels(crop)
    norm = np.clip((crop.astype(np.float32) - ink) / max(paper - ink, 1.0), 0.0, 1.0)
    if blank is not None:
        printed = blank > 0.35
        norm[printed & ~crossing(norm, printed) if crossings else printed] = 1.0
    h, w = norm.shape
    line_rows = np.broadcast_to(((norm < 0.7).mean(axis=1) >= 0.6)[:, None], norm.shape)
    norm[line_rows & ~crossing(norm, line_rows) if crossings else line_rows] = 1.0
    dark = (norm < 0.55).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    small = np.nonzero(stats[:, cv2.CC_STAT_AREA] < 5)[0]
    if len(small) > 1:
        dark[np.isin(lab, small[small > 0])] = 0
    band = _main_run(dark.sum(axis=1) >= 2, gap=max(3, h // 12))
    if band is None:
        return None, 0.0
    y0, y1 = band
    cols = dark[y0:y1].sum(axis=0)
    span = _main_run(cols >= 1, gap=w if whole else max(8, int(2.5 * (y1 - y0))))
    if span is None:
        return None, 0.0
    x0, x1 = span
    dropped = 1.0 - float(cols[x0:x1].sum()) / max(float(cols.sum()), 1.0)
    pad = 10
    y0, y1 = max(0, y0 - 2), min(h, y1 + 2)
    x0, x1 = max(0, x0 - 3), min(w, x1 + 3)
    out = (norm[y0:y1, x0:x1] * 255).astype(np.uint8)
    return cv2.copyMakeBorder(out, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255), dropped


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
ERA_GLYPHS = set("令和平成昭")
ERA_BEFORE_PT = 30.0  # how far left of a date field a printed era name is still its date's


def _scaled(line: NDArray[np.uint8], text_px: int) -> NDArray[np.uint8]:
    """The prepared line (10 px white border) scaled so that its ink is text_px tall."""
    f = text_px / max(line.shape[0] - 20, 1)
    return np.asarray(cv2.resize(line, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC), np.uint8)


def _ocr_line(engine: Any, line: NDArray[np.uint8], fld: FieldLayout, cfg: FieldDefaults) -> tuple[Any, str, str | None, int | None]:
    """Read one prepared line the way its kind reads best; returns (line read, lang, whitelist, text px or None).

    Measured on generated scans of both printings: URLs with eng and a URL whitelist (0.2 %
    CER); dates with jpn limited to digits and the era/年月日 glyphs, at 32 px text height;
    other text with jpn, psm 7 — re-read at 24 px when psm 7 finds no line (it misses some
    short lines of large kanji), and re-read with eng when what it found is mostly ASCII
    (e-mail addresses, telephone numbers: jpn drops dots and reads 0 as O).
    """
    read = partial(engine.read_line, alternatives=False)  # fields use no runner-up choices
    psm = cfg.ocr_psm
    if fld.kind == "url":
        r = read(line, lang="eng", whitelist=URL_WHITELIST, psm=psm, region=fld.name)
        if tidy_line(r.text):
            return r, "eng", URL_WHITELIST, None
        return read(_scaled(line, 24), lang="eng", whitelist=URL_WHITELIST, psm=psm, region=fld.name), "eng", URL_WHITELIST, 24
    if fld.kind == "date":
        return read(_scaled(line, 32), lang="jpn", whitelist=DATE_WHITELIST, psm=psm, region=fld.name), "jpn", DATE_WHITELIST, 32
    if fld.script == "latin":  # TEL, e-mail: what the jpn read below would end in, without it
        r = read(line, lang="eng", whitelist=None, psm=psm, region=fld.name)
        if tidy_line(r.text):
            return r, "eng", None, None
    r, px = read(line, lang="jpn", whitelist=None, psm=psm, region=fld.name), None
    if not tidy_line(r.text):
        r, px = read(_scaled(line, 24), lang="jpn", whitelist=None, psm=psm, region=fld.name), 24
    text = tidy_line(r.text)
    if text and sum(c.isascii() for c in text) >= 0.7 * len(text):
        r2 = read(line, lang="eng", whitelist=None, psm=psm, region=fld.name)
        if tidy_line(r2.text):
            return r2, "eng", None, None
    return r, "jpn", None, px


def printed_mask(blank: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Where the blank prints (its darkness over 0.25), grown by 2 px: the printed 年 月 日 and era a date is written into."""
    return np.asarray(cv2.dilate((blank > 0.25).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)


def read_date_line(
    engine: object, crop: NDArray[np.uint8], blank: NDArray[np.float32], printed: list[tuple[str, tuple[float, float, float, float]]],
    origin_pt: tuple[float, float], dpi: float, cfg: FieldDefaults, region: str,
) -> tuple[str, float] | None:
    """A date written into printed 年 月 日: each group of written digits read alone, joined with the printed glyphs.

    Tesseract reads a sparse line of digits between kanji poorly (it drops or merges digits);
    digits alone with eng and a digit whitelist read reliably. `printed` are the blank's
    characters inside the field (text layer), `origin_pt` the crop's top-left in points.
    Returns (text, least group confidence), or None when the crop holds no written digits.
    """
    paper, ink = _levels(crop)
    norm = np.clip((crop.astype(np.float32) - ink) / max(paper - ink, 1.0), 0.0, 1.0)
    norm[printed_mask(blank)] = 1.0
    norm[(norm < 0.7).mean(axis=1) >= 0.6] = 1.0
    dark = (norm < 0.55).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    small = np.nonzero(stats[:, cv2.CC_STAT_AREA] < 6)[0]
    if len(small) > 1:
        dark[np.isin(lab, small[small > 0])] = 0
    band = _main_run(dark.sum(axis=1) >= 1, gap=3)
    if band is None:
        return None
    y0, y1 = band
    cols = dark[y0:y1].sum(axis=0) >= 1
    gap = max(4, int(0.6 * (y1 - y0)))
    groups: list[tuple[int, int]] = []
    for x in np.flatnonzero(cols):
        if groups and x - groups[-1][1] <= gap:
            groups[-1] = (groups[-1][0], int(x) + 1)
        else:
            groups.append((int(x), int(x) + 1))
    tokens: list[tuple[float, str]] = [((b[0] + b[2]) / 2, ch) for ch, b in printed]
    least = 1.0
    k = pt_per_px(dpi)
    for a, b in groups:
        piece = (norm[max(0, y0 - 2) : y1 + 2, max(0, a - 2) : b + 2] * 255).astype(np.uint8)
        piece = cv2.copyMakeBorder(piece, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255)
        r = engine.read_line(_scaled(piece, 32), lang="eng", whitelist="0123456789", psm=cfg.ocr_psm, region=region, alternatives=False)  # type: ignore[attr-defined]
        digits = "".join(ch for ch in r.text if ch.isdigit())
        least = min(least, _conf_parts(r)[1] if digits else 0.0)
        if digits and b - a > (len(digits) + 1) * DATE_DIGIT_WIDTH * (y1 - y0):
            digits = "?"  # wider than its digits: something else is written there too (令和, 平成, a word)
        tokens.append((origin_pt[0] + (a + b) / 2 * k, digits or "?"))
    if not groups:
        return None
    tokens.sort()
    printed_glyphs = {ch for ch, _ in printed}
    written = [t not in printed_glyphs for _, t in tokens]
    if any(a and b for a, b in zip(written, written[1:])):
        least = 0.0  # two written groups with no printed 年/月/日 between them: not a date the form's way
    return "".join(t for _, t in tokens), least


# A written digit is at most this share of the line's ink height wide (handwriting fonts and pens:
# 0.45-0.7); a group of n digits wider than (n + 1) of these holds something besides digits — a
# handwritten era name 令和 before the year is 2 kanji, about 2 heights wide, and would otherwise
# be dropped by the digit-only read (seed 81300: "令和6年" read as "6年").
DATE_DIGIT_WIDTH = 0.8


def _same_text(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def handwriting_like(line: NDArray[np.uint8]) -> bool:
    """Whether a prepared line's characters wander like handwriting: tops off a straight line, heights uneven.

    Characters are column runs of ink; over the full-height ones, the median distance of their
    tops from a fitted line plus the median spread of their heights, both relative to the
    median height. Measured on generated lines: typed text 0.06 (median), 0.33 (p95);
    handwriting-like text 0.2 (median). It only chooses between `handwritten` (no text) and
    `uncertain` (the guess kept) for a line that could not be read with confidence.
    """
    dark = line < 140
    cols = dark.any(axis=0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], cols.astype(np.int8), [0]])))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
    blobs: list[tuple[int, int]] = []
    for a, b in runs:
        if blobs and a - blobs[-1][1] <= 2:
            blobs[-1] = (blobs[-1][0], b)
        else:
            blobs.append((a, b))
    tops, heights, xs = [], [], []
    for a, b in blobs:
        rows = np.flatnonzero(dark[:, a:b].any(axis=1))
        tops.append(rows[0])
        heights.append(rows[-1] + 1 - rows[0])
        xs.append((a + b) / 2)
    if len(heights) < 3:
        return False
    h = np.array(heights, float)
    med = float(np.median(h))
    big = h >= 0.7 * med
    if big.sum() < 3:
        return False
    x, top, hb = np.array(xs)[big], np.array(tops, float)[big], h[big]
    fit = np.polyfit(x, top, 1)
    wander = float(np.median(np.abs(top - np.polyval(fit, x)))) / med
    spread = float(np.median(np.abs(hb - np.median(hb)))) / med
    return wander + spread >= HANDWRITING_WANDER


HANDWRITING_WANDER = 0.2
FAINT_CROP_LEFT_PT = 60.0  # a faint field's crop reaches this far left: over the label, where writing may start


def read_text(
    view: InkView, fld: FieldLayout, ref: PageRef, hires: HiresCrop | None, engine: object | None, cfg: FieldDefaults = FIELDS,
    blank_hires: Callable[[FieldLayout, float], NDArray[np.float32]] | None = None, deadline: float | None = None,
    printed: tuple[tuple[str, tuple[float, float, float, float]], ...] = (),
    measured: tuple[tuple[int, int], float] | None = None,
) -> tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]:
    """One text / URL / date field: ink, then (only if inked) OCR of the straightened crop.

    Returns the reading, its measures, and the crop to keep (None for an empty or confidently
    read field). `printed` is the blank page's text layer (for the 年 月 日 of date fields);
    `measured` the field's (shift, ink share) when the caller has them already (_measure).
    """
    from pipeline.tools.tesseract import OcrError

    shift, share = measured or _measure(view, fld, cfg)
    m = FieldMeasure(share, None, None)

    def result(status: str, value: str | None, conf: float | None, keep: NDArray[np.uint8] | None) -> tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]:
        return FieldReading(fld.name, fld.owner, fld.kind, value, status, conf, ref, fld.bbox), m, keep  # type: ignore[arg-type]

    if share <= cfg.text_empty:
        if not faint_writing(view, fld, cfg, shift):
            return result("empty", None, None, None)
        wider = replace(fld, bbox=(max(0.0, fld.bbox[0] - FAINT_CROP_LEFT_PT), *fld.bbox[1:]))  # writing started after the label
        keep = cut(view, wider, hires, shift, cfg.ocr_dpi) if hires is not None else None
        reading, m, _ = result("uncertain", None, None, keep)
        return replace(reading, note=FAINT_FIELD_NOTE), m, keep
    if hires is None or engine is None or (deadline is not None and time.monotonic() > deadline):
        return result("uncertain", None, None, None)
    dpi = cfg.ocr_dpi
    crop = cut(view, fld, hires, shift, dpi)
    def nothing() -> str:  # ink, OCR found no line: empty only when little and no stroke a character tall (86700-04: a wide row's value is 0.003)
        return "empty" if share < cfg.text_present and not faint_writing(view, fld, cfg, shift) else "uncertain"
    blank = same_size(blank_hires(fld, dpi), crop.shape) if blank_hires is not None else None
    inside = [(ch, b) for ch, b in printed if b[0] >= fld.bbox[0] - 1 and b[2] <= fld.bbox[2] + 1 and b[1] >= fld.bbox[1] - 1 and b[3] <= fld.bbox[3] + 1]
    if fld.kind == "date" and inside:  # an era name printed just before the field belongs to its date (令和　年　月　日)
        inside += [(ch, b) for ch, b in printed if ch in ERA_GLYPHS and fld.bbox[0] - ERA_BEFORE_PT <= b[0] < fld.bbox[0] - 1 and b[1] < fld.bbox[3] and b[3] > fld.bbox[1]]
    try:
        if fld.kind == "date" and inside and blank is not None:
            got = read_date_line(engine, crop, blank, inside, (fld.bbox[0] - 2.0, fld.bbox[1] - 2.0), dpi, cfg, fld.name)
            if got is None:
                return result(nothing(), None, None, crop)
            text, least = got
            ok = "?" not in text and least >= cfg.ocr_agree_mean
            second = prepare_line(crop, printed_mask(blank).astype(np.float32), whole=True, crossings=True) if ok else None  # the written digits alone
            m = FieldMeasure(share, None, None, (least, least, least), second)
            return _kept(result("read" if ok else "uncertain", text, round(least, 3), None if ok else crop), fld, crop, crosses_edge(view, fld, cfg, shift))
        line, dropped = prepare_line_cut(crop, blank if fld.kind != "date" else None)
        if line is None or line.shape[0] - 20 < cfg.min_text_px:  # a dot, a speck, the end of a stray stroke
            return result(nothing(), None, None, crop)
        read, lang, whitelist, px = _ocr_line(engine, line, fld, cfg)
        text = tidy_line(read.text)
        _, mean, least = _conf_parts(read)
        m = FieldMeasure(share, None, None, _conf_parts(read))
        sure = mean >= cfg.ocr_sure_mean and least >= cfg.ocr_sure_least
        hand = bool(text) and not sure and fld.kind != "url" and handwriting_like(line)
        agree = False
        if text and not sure and not hand and mean >= cfg.ocr_agree_mean and dropped <= DROPPED_INK:
            # Not sure: read it again at another size. Typed text reads the same; what
            # Tesseract guesses at (handwriting, smudges) comes out different. Only where the
            # re-read can decide: handwriting that is not sure is `handwritten`, a line under
            # ocr_agree_mean or cut short (DROPPED_INK) `uncertain`, whatever a re-read says.
            other = 34 if (px or line.shape[0] - 20) < 27 else 22
            again = engine.read_line(_scaled(line, other), lang=lang, whitelist=whitelist, psm=cfg.ocr_psm, region=fld.name, alternatives=False)  # type: ignore[attr-defined]
            agree = _same_text(tidy_line(again.text), text)
    except OcrError as exc:
        log.warning("%s p%s %s: OCR failed (%s)", ref.file, ref.page, fld.name, exc)
        return result("uncertain", None, None, crop)
    conf = round(mean, 3)
    if not text:
        return result(nothing(), None, None, crop)
    if dropped > DROPPED_INK and not hand:  # the line read is only part of what is written there
        return result("uncertain", text, conf, crop)
    if sure or (agree and mean >= cfg.ocr_agree_mean and not hand):
        m = replace(m, line=prepare_line(crop, blank if fld.kind != "date" else None, crossings=True))  # only a read line is read again
        return _kept(result("read", text, conf, None), fld, crop, crosses_edge(view, fld, cfg, shift))
    if fld.kind != "url" and (mean < cfg.ocr_handwritten or hand):
        return result("handwritten", None, conf, crop)  # kept as a crop: no guessed text
    return result("uncertain", text, conf, crop)


def same_size(blank: NDArray[np.float32], shape: tuple[int, ...]) -> NDArray[np.float32]:
    """The blank's darkness at the crop's size: a moved field's crop may round to a pixel more or less (seed 84500-03 p12)."""
    if blank.shape == shape[:2]:
        return blank
    return np.asarray(cv2.resize(blank, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR), np.float32)


def cut(view: InkView, fld: FieldLayout, hires: HiresCrop, shift: tuple[int, int], dpi: float) -> NDArray[np.uint8]:
    """The field cut from the scan at `dpi`, moved by `shift` (px at the view's dpi: where the scan's underline sits)."""
    k = pt_per_px(view.dpi)
    return hires(replace(fld, bbox=(fld.bbox[0] + shift[0] * k, fld.bbox[1] + shift[1] * k, fld.bbox[2] + shift[0] * k, fld.bbox[3] + shift[1] * k)), dpi)


def _kept(
    res: tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None], fld: FieldLayout, crop: NDArray[np.uint8], crossed: bool = False
) -> tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]:
    """A read result checked: writing that crosses the field's edge, or a value off its pattern, is uncertain and keeps its crop."""
    reading, measure, keep = res
    if crossed and reading.status == "read":
        return replace(reading, status="uncertain", note=CROSSED_NOTE), measure, crop if keep is None else keep
    fitted = fit_pattern(reading, fld)
    return (fitted, measure, keep) if fitted is reading else (fitted, measure, crop if keep is None else keep)


# Writing just outside a field's left or right edge: the share of a strip EDGE_STRIP_PT wide beside
# the edge (the middle of the field's height, so the underline is left out) inked beyond the
# blank. Seed 81300: a hand filling began at the label's colon, 16 pt left of the field, and was
# read as 'トワーク株式会社' for 東都ネットワーク株式会社; on a scanned Word filling the typed values
# begin left of the calibrated fields and the strips held 7-38 % ink, so every such field is
# uncertain. Strips beside fields written inside their box were not measured separately yet.
EDGE_STRIP_PT = 8.0
EDGE_INK = 0.01
CROSSED_NOTE = "記入が欄の外まで続いています。欄の外の文字は読んでいません"


def crosses_edge(view: InkView, fld: FieldLayout, cfg: FieldDefaults, shift: tuple[int, int]) -> bool:
    """Whether the writing goes on past the field's left or right edge (so the line read in the field is only part of it)."""
    x0, y0, x1, y1 = fld.bbox
    h = y1 - y0
    top, bottom = y0 + 0.2 * h, y1 - 0.25 * h
    strips = ((x0 - EDGE_STRIP_PT, top, x0 - 0.5, bottom), (x1 + 0.5, top, x1 + EDGE_STRIP_PT, bottom))
    return any(ink_share(view, strip, cfg, shift=shift)[0] >= EDGE_INK for strip in strips)


Result = tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]


class SecondCheck:
    """The second reading of one page's `read` fields (field_text.second_read), on the process's PP-OCR.

    Called once with the whole page's fields (their lines read in one batch), or field by field
    on the field-OCR threads as each field is read, so that PP-OCR on one thread overlaps
    Tesseract on the other (PP-OCR reads a line the same alone or in a batch). When PP-OCR
    cannot load or fails, that is logged once for the page and the page's readings stay as the
    first reader left them.
    """

    def __init__(self, engines: Engines, crop: Callable[[FieldLayout], NDArray[np.uint8]], where: str) -> None:
        self._engines, self._crop, self._where = engines, crop, where
        self._lock = threading.Lock()
        self._off = False

    def __call__(self, results: dict[str, Result], fields: list[FieldLayout]) -> dict[str, Result]:
        """The `read` fields among `fields` whose second reading differs: now uncertain, with their crop."""
        pending = [Pending(f, r, m.line) for f in fields for r, m, _ in [results[f.name]] if r.status == "read" and m.line is not None]
        if not pending or self._off:
            return {}
        try:
            checked = second_read(pending, self._engines.ppocr())
        except (PipelineError, ImportError) as exc:
            with self._lock:
                first, self._off = not self._off, True
            if first:
                log.warning("%s: second reader unavailable (%s); fields read by Tesseract alone", self._where, exc)
            return {}
        return {p.fld.name: (r, results[p.fld.name][1], self._crop(p.fld)) for p, r in zip(pending, checked) if r is not p.reading}


def _measure(view: InkView, fld: FieldLayout, cfg: FieldDefaults) -> tuple[tuple[int, int], float]:
    """(shift of the scan's underline against the blank's, ±3 px; share of the field inked)."""
    shift = refine(view, fld.bbox, MARKS)
    return shift, ink_share(view, fld.bbox, cfg, shift=shift)[0]


def _beside(
    view: InkView, fld: FieldLayout, res: tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None], cfg: FieldDefaults,
    crop_of: Callable[[FieldLayout], NDArray[np.uint8]], layout: PageLayout, shift: tuple[int, int],
) -> tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]:
    """An empty text field with writing just left of it (over its label's end) or above its line: uncertain, cropped with that band."""
    reading, m, keep = res
    if reading.status != "empty":
        return res
    spill = cfg.stray_seal_spill_pt  # a stamp is larger than its place
    others = [(f.bbox[0] - spill, f.bbox[1] - spill, f.bbox[2] + spill, f.bbox[3] + spill) if f.kind == "seal" else f.bbox for f in layout.fields if f is not fld]
    others += [b.bbox for b in layout.boxes]
    if not stray_writing(view, fld, cfg, shift, others, left_pt=cfg.stray_left_pt):
        return res
    return replace(reading, status="uncertain", note=STRAY_FIELD_NOTE), m, crop_of(replace(fld, bbox=stray_band(fld, cfg, False, cfg.stray_left_pt)))


def read_fields(
    view: InkView,
    layout: PageLayout,
    ref: PageRef,
    *,
    rgb: NDArray[np.uint8] | None,
    rgb_dpi: float = 0.0,
    hires: HiresCrop | None,
    blank_hires: Callable[[FieldLayout, float], NDArray[np.float32]] | None,
    engine: OcrEngine | None,
    crop_of: Callable[[FieldLayout], NDArray[np.uint8]],
    cfg: FieldDefaults = FIELDS,
    deadline: float | None = None,
    printed: tuple[tuple[str, tuple[float, float, float, float]], ...] = (),
    engines: Engines | None = None, second: SecondReadDefaults = SECOND_READ, beside: bool = True,
) -> tuple[list[FieldReading], dict[str, NDArray[np.uint8]], dict[str, FieldMeasure]]:
    """Read every field of a registered page: readings, crops for the dossier, and the measures.

    Written fields are read on up to cfg.ocr_threads threads (held to `engines`' cap), each with
    its own engine of `engine`'s kind from `engines`; without `engines`, on one thread with `engine`.
    The lines that would be `read` are read again by `engines`' PP-OCR (SecondCheck): each as
    soon as it is read when the fields are read on several threads, else the page's in one batch.
    `beside` (_beside) is off on a page read where its content moved: its print is where the blank has none.
    """
    results: dict[str, tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]] = {}
    texts: list[FieldLayout] = []
    for fld in layout.fields:
        others = [f.bbox for f in layout.fields if f is not fld] + [b.bbox for b in layout.boxes]
        if fld.kind == "signature":
            r, m = read_signature(view, fld, ref, cfg, others)
            results[fld.name] = (r, m, crop_of(around(fld, r, cfg)))
        elif fld.kind == "seal":
            r, m = read_seal(view, rgb, fld, ref, cfg, rgb_dpi, others)
            results[fld.name] = (r, m, crop_of(around(fld, r, cfg)))
        else:
            texts.append(fld)
    # Only inked fields cost anything: measure each once, then hand out the OCR work.
    measured = {f.name: _measure(view, f, cfg) for f in texts}
    inked = [f for f in texts if measured[f.name][1] > cfg.text_empty]
    for fld in (f for f in texts if f not in inked):
        res = read_text(view, fld, ref, hires, engine, cfg, blank_hires, deadline, printed, measured[fld.name])
        results[fld.name] = _beside(view, fld, res, cfg, crop_of, layout, measured[fld.name][0]) if beside else res
    check = None
    if engines is not None and second.enabled and hires is not None:
        cut_at = {f.name: measured[f.name][0] for f in inked}
        check = SecondCheck(engines, lambda f: cut(view, f, hires, cut_at[f.name], cfg.ocr_dpi), f"{ref.file} p{ref.page}")
    if engines is None:
        workers: list[OcrEngine | None] = [engine]
    else:
        workers = engines.field_engines(engine, min(engines.field_threads(cfg.ocr_threads), len(inked)))
    if engines is not None and len(workers) > 1:
        free: queue.SimpleQueue[OcrEngine | None] = queue.SimpleQueue()
        for e in workers:
            free.put(e)

        def job(fld: FieldLayout) -> tuple[FieldReading, FieldMeasure, NDArray[np.uint8] | None]:
            e = free.get()
            try:
                res = read_text(view, fld, ref, hires, e, cfg, blank_hires, deadline, printed, measured[fld.name])
            finally:
                free.put(e)
            return res if check is None else check({fld.name: res}, [fld]).get(fld.name, res)  # read again while the other thread reads on

        longest_first = sorted(inked, key=lambda f: -(f.bbox[2] - f.bbox[0]) * measured[f.name][1])
        for fld, res in zip(longest_first, engines.field_pool(len(workers)).map(job, longest_first)):
            results[fld.name] = res
    else:
        for fld in inked:
            results[fld.name] = read_text(view, fld, ref, hires, engine, cfg, blank_hires, deadline, printed, measured[fld.name])
        if check is not None:
            results.update(check(results, inked))
    readings, crops, measures = [], {}, {}
    for fld in layout.fields:
        r, m, picture = results[fld.name]
        readings.append(r)
        measures[fld.name] = m
        if picture is not None:
            crops[fld.name] = picture
    return readings, crops, measures


__all__ = ["FieldMeasure", "fit_pattern", "pattern_text", "read_fields", "read_signature", "read_seal", "read_text", "tidy_line", "prepare_line", "ocr_confidence"]
