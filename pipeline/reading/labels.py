"""Non-form pages → top-right label (右肩) → normalised item ids; pages grouped into Attachments.

A label is read from the text layer of a born-digital page, or from a scan by finding the ink
in the top-right region, stripping any frame, straightening it and reading the one line with
Tesseract restricted to what labels contain; handwritten digits that Tesseract misses are read
by the digit classifier (digits.py). Whatever was read goes through ``normalise_label``, which
checks it against the form's item ids and never guesses: a read that could be two ids is
``uncertain`` with its candidates. Coordinates leave this module as PDF points, origin top left.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray

from pipeline.model.records import Attachment, BBox, LabelStatus, PageRef

if TYPE_CHECKING:
    from pipeline.reading.digits import DigitClassifier, DigitGuess
    from pipeline.tools.tesseract import OcrEngine, OcrLine

log = logging.getLogger(__name__)

# --- detection defaults (measured with bench/bench_labels.py on generated stacks, 150–300 dpi) ---
REGION_RIGHT = 0.45  # the label region: the right 45 % of the page width …
REGION_TOP = 0.15  # … by the top 15 % of its height (labels sat 18–60 pt from the top edge)
MIN_CONFIDENCE = 0.55  # OCR: the weakest word below this → uncertain
SURE_CONFIDENCE = 0.80  # OCR: below this, a 1↔7 swap that gives another document id → uncertain
ALT_SYMBOL_CONFIDENCE = 0.15  # OCR: a runner-up digit at least this likely is a real alternative
DIGIT_MIN_PROBABILITY = 0.60  # classifier: a digit less likely than this is not a reading to count
DIGIT_SURE_PROBABILITY = 0.90  # classifier alone, against Tesseract: every digit at least this likely
OCR_DIGIT_TRUST = 0.85  # an OCR digit counts at most this much in the fusion (Tesseract is sure of wrong handwriting)
FUSED_ACCEPT = 0.60  # fused probability of a label's spelling needed for a read, with OCR agreeing (bench: 0.6–0.8 no silent)
FUSED_RIVAL = 0.10  # another document id at least this likely makes the read uncertain
FUSED_SKIP = 0.97  # fused this sure after eng: jpn is not asked
DIGIT_UNSEEN_PROBABILITY = 0.80  # classifier: digits no OCR reader saw, when OCR saw the rest of the label
DIGIT_ALT_PROBABILITY = 0.12  # classifier: a runner-up at least this likely is a real alternative
# 1 or 7 by the top stroke's sideways reach (digits.top_stroke_share, share of the glyph height): a 45° flag ≈ 0.1, a bar
# ≈ 0.5. Generated digits: 97 % of 1s ≤ 0.20, 98 % of 7s ≥ 0.32, none across. load_digits upsampled from 8×8: 16 % of
# its 7s ≤ 0.20 (bars sloping, coarse), so the shape never makes a read alone: against the classifier it vetoes one
# (→ uncertain); agreeing with the classifier it sets aside the OCR's 1↔7 (_shape_overrules), the classifier still deciding.
ONE_FLAG_MAX = 0.20  # at most this: shaped like a 1
SEVEN_BAR_MIN = 0.32  # at least this: shaped like a 7; in between the shape says nothing
BLANK_INK_FRACTION = 6e-4  # dark share of ~50-dpi samples: blank scans with specks ≤ 1.8e-4, pages of 8+ lines ≥ 1.4e-2, one line ≈ 1.5e-3
MAX_CANDIDATES = 3  # ink groups in the region tried by OCR, top first
OCR_LANGS = ("eng", "jpn")  # eng reads Mincho digits better; jpn reads 項目, 番号, 「」 and ・ (bench)
LINE_GAP = 1.5  # glyph heights between two runs of one line (「3-1-1」 「4-1-3」, 項目番号：2-3-1 need 1.4)
OCR_TARGET_HEIGHT_PX = 34  # digit height the line is scaled to before OCR
WORK_DPI = 200  # scans above this are reduced to it before the corner is analysed

DASHES = "-‐‑‒–—―−ー一－ｰ~〜～"
# What Tesseract may answer: label characters, plus decoys so that a date or a header in the corner
# (令和6年4月1日, 第2版) comes back as itself instead of as digits and dashes.
OCR_WHITELIST = "0123456789" + DASHES[:12] + "「」『』【】()（）[]項目番号No.・/、," + "年月日令和平成第版頁号"
CONFUSABLE = {"1": "7", "7": "1"}  # digit pairs Tesseract swaps on typed labels (bench)
_DASH_BETWEEN = re.compile(rf"(?<=\d)\s*[{re.escape(DASHES)}]+\s*(?=\d)")
_RUN = re.compile(r"\d+(?:-\d+)+")
_STRIP = re.compile(r"項目番号|項目|番号|No\.?|[「」『』【】()\[\]{}:・/、,\s]")

Word = tuple[str, BBox]  # text and bbox in PDF points, origin top left


@dataclass(frozen=True, slots=True)
class LabelParse:
    """What a label's text means against the form: ids that take a document, and the rest."""

    ids: tuple[str, ...]  # known item ids that take a document
    unknown: tuple[str, ...]  # read, but not an item id, or an item that takes no document
    status: LabelStatus  # read / uncertain / missing
    candidates: tuple[str, ...] = ()  # for an uncertain read: the document ids it could be
    note: str | None = None  # why it is uncertain, in words


@dataclass(frozen=True, slots=True)
class LabelRead:
    """A page's label as read, with its evidence: raw text, confidence, how and where it was found."""

    parse: LabelParse
    text: str | None  # raw text before normalisation
    confidence: float | None  # 0..1; None for the text layer
    source: Literal["text_layer", "ocr", "digits", "ocr+digits", "none"]
    bbox: BBox | None = None  # where the label was found, PDF points, origin top left


@dataclass(frozen=True, slots=True)
class LabelledPage:
    """A non-form page in submission order, with its label read (None: not read) and whether it is blank."""

    ref: PageRef
    label: LabelRead | None
    blank: bool = False


MISSING = LabelParse((), (), "missing")


# --- normalisation ------------------------------------------------------------------------------


def _shape(item_ids: Collection[str]) -> tuple[int, int]:
    """(groups per id, most digits per group) of the form's ids, e.g. (3, 1) for 1-1-1."""
    if not item_ids:
        return 3, 1
    groups = Counter(len(i.split("-")) for i in item_ids).most_common(1)[0][0]
    return groups, max(len(g) for i in item_ids for g in i.split("-"))


def _split_run(run: str, n: int, width: int) -> list[str] | None:
    """'1-1-1' → ['1-1-1']; '3-3-17-5-2' (two ids whose space was lost) → ['3-3-1', '7-5-2']; None if malformed."""
    groups = run.split("-")
    ids: list[list[str]] = []
    cur: list[str] = []
    for k, g in enumerate(groups):
        if len(cur) == n - 1 and len(g) == 2 * width and k + 1 < len(groups):
            ids.append([*cur, g[:width]])
            cur = [g[width:]]
            continue
        if len(g) > width:
            return None
        cur.append(g)
        if len(cur) == n:
            ids.append(cur)
            cur = []
    return None if cur else ["-".join(c) for c in ids]


def _repairs(run: str, n: int, width: int, document_items: Collection[str]) -> set[str]:
    """Document ids reachable by deleting one digit of a malformed run (「→1, |→1 misreads)."""
    out: set[str] = set()
    for k, ch in enumerate(run):
        if ch.isdigit():
            ids = _split_run(run[:k] + run[k + 1 :], n, width)
            if ids and all(i in document_items for i in ids):
                out.update(ids)
    return out


def _swaps(item: str) -> set[str]:
    """Ids one confusable digit away (1↔7)."""
    return {item[:k] + CONFUSABLE[ch] + item[k + 1 :] for k, ch in enumerate(item) if ch in CONFUSABLE}


def clean_text(raw: str) -> str:
    """NFKC, then every dash-like character between digits → '-', with spaces around it dropped."""
    s = unicodedata.normalize("NFKC", raw)
    return _DASH_BETWEEN.sub("-", s)


def normalise_label(
    raw: str | None,
    item_ids: Collection[str],
    document_items: Collection[str],
    *,
    confidence: float | None = None,
    alternates: Iterable[str] = (),
) -> LabelParse:
    """Parse what was written at the top right into item ids, without ever guessing.

    Handles full-width digits, every dash, brackets, prefixes (項目, No., 番号), spaces and several
    labels on one line (「1-1-1」「7-2-2」, 1-1-1・1-1-2, 1-1-1/1-1-2). ``confidence`` (0..1) is the
    OCR's; None means the text is exact (a text layer). ``alternates`` are other plausible readings
    of the same ink (runner-up digits); if one names other document ids the read is uncertain.

    Returns ``missing`` when nothing label-like is there, ``uncertain`` (with ``candidates``) when
    the read is malformed, unconfident or could name another id, else ``read``. Ids that are not
    items, or items that take no document, are ``unknown`` of a ``read``.
    """
    if not raw or not raw.strip():
        return MISSING
    n, width = _shape(item_ids)
    s = clean_text(raw)
    # runs of dash-joined numbers; one with a long number (a year: 2024-04-01, SEC-2024-01) is text, not a label
    runs = [r for r in _RUN.findall(s) if all(len(g) <= 2 * width for g in r.split("-"))]
    ids: list[str] = []
    candidates: set[str] = set()
    notes: list[str] = []
    for run in runs:
        split = _split_run(run, n, width)
        if split is None:
            notes.append(f"'{run}' is not shaped like an item id")
            candidates |= _repairs(run, n, width, document_items)
        else:
            ids.extend(i for i in split if i not in ids)
    if not runs:
        bare = _STRIP.sub("", s)
        if confidence is None or not (bare.isdigit() and len(bare) == n * width):
            return MISSING
        guess = "-".join(bare[k : k + width] for k in range(0, len(bare), width))
        cands = (guess,) if guess in document_items else ()
        return LabelParse((), (), "uncertain", cands, f"'{raw.strip()}' has no dashes")
    known = tuple(i for i in ids if i in document_items)
    unknown = tuple(i for i in ids if i not in document_items)
    if confidence is not None:
        if confidence < MIN_CONFIDENCE:
            notes.append(f"OCR confidence {confidence:.2f}")
        if confidence < SURE_CONFIDENCE:
            for i in ids:
                for alt in sorted(_swaps(i)):
                    if alt in document_items and alt not in ids:
                        candidates.add(alt)
                        notes.append(f"{i} could be {alt} (confidence {confidence:.2f})")
    for alt_raw in alternates:
        other = normalise_label(alt_raw, item_ids, document_items)
        if other.status == "read" and set(other.ids) - set(known):  # the runner-up names another document
            candidates |= set(other.ids)
            notes.append(f"could also read '{alt_raw}'")
    if notes:
        candidates |= set(known)
        return LabelParse((), (), "uncertain", tuple(sorted(candidates)), "; ".join(dict.fromkeys(notes)))
    return LabelParse(known, unknown, "read")


# --- born-digital pages: the text layer ------------------------------------------------------


def words_from_pdfium(textpage: Any, height_pt: float) -> list[Word]:
    """Text runs of a pypdfium2 ``PdfTextPage`` as (text, bbox in points, origin top left)."""
    words: list[Word] = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top).strip()
        if text:
            words.append((text, (left, height_pt - top, right, height_pt - bottom)))
    return words


def _lines(words: Sequence[Word]) -> list[tuple[str, BBox]]:
    """Words grouped into lines (top to bottom), each joined left to right with spaces."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w[1][1] + w[1][3]) / 2):
        cy = (w[1][1] + w[1][3]) / 2
        if rows:
            last = rows[-1][-1][1]
            if abs(cy - (last[1] + last[3]) / 2) <= 0.5 * max(last[3] - last[1], w[1][3] - w[1][1]):
                rows[-1].append(w)
                continue
        rows.append([w])
    out = []
    for row in rows:
        row.sort(key=lambda w: w[1][0])
        bb = (min(w[1][0] for w in row), min(w[1][1] for w in row), max(w[1][2] for w in row), max(w[1][3] for w in row))
        out.append((" ".join(w[0] for w in row), bb))
    return out


def read_text_label(
    words: Sequence[Word], width_pt: float, height_pt: float, item_ids: Collection[str], document_items: Collection[str]
) -> LabelRead:
    """Read the label of a born-digital page from its words (bbox in points, origin top left).

    Looks at the top-right region first, line by line from the top, then at the first two lines
    of the page wherever they are. The first line that holds something label-like wins.
    """
    x_min, y_max = width_pt * (1 - REGION_RIGHT), height_pt * REGION_TOP
    top = [w for w in words if w[1][1] < y_max]
    corner = [w for w in top if w[1][2] > x_min and (w[1][0] + w[1][2]) / 2 >= x_min]
    tries = _lines(corner) + _lines(top)[:2]
    for text, bb in tries:
        parse = normalise_label(text, item_ids, document_items)
        if parse.status != "missing":
            return LabelRead(parse, text, None, "text_layer", bb)
    return LabelRead(MISSING, None, None, "none")


def is_blank_text(words: Sequence[Word]) -> bool:
    """A born-digital page with no text at all (check the image too when the page may carry pictures)."""
    return not any(w[0].strip() for w in words)


# --- scanned pages -----------------------------------------------------------------------------


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


def is_blank_image(gray: NDArray[np.uint8], dpi: float) -> bool:
    """A scanned page with (almost) no ink: a separator sheet or an empty back side."""
    return ink_fraction(gray, dpi) < BLANK_INK_FRACTION


@dataclass
class _Group:
    comps: list[int]
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in crop pixels (x1, y1 exclusive)
    height: int  # height of its tallest glyph


@dataclass(frozen=True, slots=True)
class _Reading:
    """One reader's opinion of a candidate line: parsed as plain text, with what judges it."""

    source: Literal["ocr", "digits"]
    text: str
    confidence: float
    alternates: tuple[str, ...]
    parse: LabelParse
    per_digit: tuple[tuple[float, ...], ...] = ()  # per digit read, in order: how likely each of 0–9 is
    slots: tuple[tuple[float, ...] | None, ...] = ()  # OCR: per dash-separated group, its digit's likelihoods, None: no digit seen
    shapes: tuple[str | None, ...] = ()  # classifier: per digit, "1" or "7" when the top stroke's shape tells them apart
    framed: tuple[bool, ...] = ()  # classifier: per digit, whether its top touches a frame line that was erased


def _binarise(crop: NDArray[np.uint8]) -> NDArray[np.uint8]:
    # 0.75 of the paper level keeps 1-px dashes of 7-pt labels at 150 dpi; JPEG noise (σ ≤ 7) stays above it
    paper = float(np.percentile(crop[::4, ::4], 95)) if crop.size else 255.0
    return (crop < paper * 0.75).astype(np.uint8)


def _strip_frames(binary: NDArray[np.uint8], stats: NDArray[np.int32], lab: NDArray[np.int32], idx: list[int], pt_px: float) -> bool:
    """Erase the lines of any rectangular frame (boxed labels) from ``binary``, keeping digits that touch it.

    Where a stroke runs into the line (a 7's bar drawn against the frame's top), the line is thicker
    than along the rest of its side; there the ink past the line's width is left standing
    (_frame_line), so the digit keeps its bar. _glyphs looks for digits whose top still touches
    what was erased.
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
        if _outlined(on_ring, box, line_px, int(on_ring.sum()) / area):
            binary[y : y + h, x : x + w][on_ring & _frame_line(local, on_ring, np.asarray(corners, np.float64))] = 0
            erased = True
    return erased


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


def _components(binary: NDArray[np.uint8], pt_px: float, frames: bool = True) -> tuple[NDArray[np.int32], NDArray[np.int32], list[int]]:
    """Labelled components and the indices worth keeping (specks, page edges, rules and frames dropped)."""

    lab, stats = _label_stats(binary)
    cw = binary.shape[1]
    x, y, w, h = (stats[:, k] for k in range(4))
    keep = (np.maximum(w, h) >= 1.8 * pt_px) | ((w >= 2.5 * h) & (w >= 1.4 * pt_px))
    keep &= (x + w < cw - 1) & (y > 0) & (h < 45 * pt_px) & (w < 0.9 * cw)
    keep[0] = False
    idx = [int(i) for i in np.nonzero(keep)[0]]
    if frames and _strip_frames(binary, stats, lab, idx, pt_px):
        return _components(binary, pt_px, frames=False)
    return lab, stats, idx


def _groups(stats: NDArray[np.int32], idx: list[int], gap: float) -> list[_Group]:
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
    return [
        _Group([idx[k] for k in ks], (int(x0[ks].min()), int(y0[ks].min()), int(x1[ks].max()), int(y1[ks].max())), int(h[ks].max()))
        for ks in members.values()
    ]


def _label_like(g: _Group, pt_px: float) -> bool:
    w = g.box[2] - g.box[0]
    return len(g.comps) >= 3 and 2.5 * pt_px <= g.height <= 40 * pt_px and 1.6 * g.height <= w <= 16 * g.height and g.box[0] > 2


def _line_image(
    crop: NDArray[np.uint8],
    lab: NDArray[np.int32],
    stats: NDArray[np.int32],
    g: _Group,
    others: list[int],
    erased: NDArray[np.uint8] | None,
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
    scale = min(4.0, max(0.4, OCR_TARGET_HEIGHT_PX / max(g.height, 1)))
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    # Tesseract on the grey line read 64 % of typed labels, on the Otsu-binarised line 91 % (eng, bench)
    img = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    return np.asarray(cv2.copyMakeBorder(img, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255), dtype=np.uint8)


def _split_dash(mask: NDArray[np.uint8], line_h: float, top: float) -> tuple[str, NDArray[np.uint8]] | None:
    """A glyph with a dash written into it (4- or -3 in one stroke): ('D-' or '-D', the digit's mask), else None.

    The dash is a run of columns at either end, at least 0.3 line heights long, whose ink is one thin band
    (≤ 0.3 line heights) about mid-line; ``top`` is the digits' top in the glyph's own rows.
    """
    h, w = mask.shape
    cols = mask.any(axis=0)
    first = np.where(cols, mask.argmax(axis=0), h)
    last = np.where(cols, h - 1 - mask[::-1].argmax(axis=0), -1)
    mid = (first + last) / 2.0 - top
    thin = cols & (last - first + 1 <= 0.3 * line_h) & (mid >= 0.25 * line_h) & (mid <= 0.8 * line_h)
    need = max(2, math.ceil(0.3 * line_h))
    for side in ("right", "left"):
        run = thin[::-1] if side == "right" else thin
        n = int(np.argmin(run)) if not run.all() else w
        if need <= n < w:
            digit = mask[:, : w - n] if side == "right" else mask[:, n:]
            return ("D-" if side == "right" else "-D"), digit
    return None


def _glyphs(
    lab: NDArray[np.int32], stats: NDArray[np.int32], g: _Group, split: bool = False, erased: NDArray[np.uint8] | None = None
) -> tuple[str, list[tuple[NDArray[np.uint8], bool]]] | None:
    """The line as a pattern of 'D' (digit), '-' (dash), 'X' (anything else) and ' ' (gap), with each digit's mask.

    With ``split``, a digit-sized or odd glyph that carries a dash written into it is read as the two.
    Each mask comes with whether the digit's top touches the ``erased`` frame lines (_touches_frame_top).
    """
    # specks would merge with the glyph they sit over (a dot above a dash is no longer flat)
    keep = [c for c in g.comps if max(stats[c, 2], stats[c, 3]) >= 0.12 * g.height]
    boxes = sorted(([int(v) for v in stats[c, :4]] + [c] for c in keep), key=lambda b: b[0])
    merged: list[list[int]] = []  # x, y, w, h, then component ids
    for x, y, w, h, c in boxes:
        if merged:
            m = merged[-1]
            # strokes of one glyph; not a speck apart from a dash, above or below it (bench seed 808: a speck
            # under a dash made it too tall for one, and 4-1-4 was no label to the classifier)
            bw, bh = (m[2], m[3]) if max(m[2], m[3]) >= max(w, h) else (w, h)
            apart = (
                max(m[1], y) - min(m[1] + m[3], y + h) > 0
                and min(max(m[2], m[3]), max(w, h)) < 0.2 * g.height
                and bh <= 0.3 * g.height
                and bw >= max(1.1 * bh, 0.3 * g.height)  # a dash; not the dots of a colon (項目番号：)
            )
            if min(m[0] + m[2], x + w) - max(m[0], x) > 0.5 * min(m[2], w) and not apart:
                nx0, ny0 = min(m[0], x), min(m[1], y)
                m[2], m[3] = max(m[0] + m[2], x + w) - nx0, max(m[1] + m[3], y + h) - ny0
                m[0], m[1] = nx0, ny0
                m.append(c)
                continue
        merged.append([x, y, w, h, c])
    # the digits' own line: glyphs beside a flat dash, else the tall ones (項目 and brackets stand taller)
    flat = [k for k, m in enumerate(merged) if m[3] <= 0.3 * g.height and m[2] >= 1.1 * m[3]]
    refs = [merged[k] for f in flat for k in (f - 1, f + 1) if 0 <= k < len(merged) and k not in flat]
    tall = refs or [m for m in merged if m[3] >= 0.55 * g.height]
    if not tall:
        return None
    line_h = float(np.median([m[3] for m in tall]))
    top = float(np.median([m[1] for m in tall]))
    beside = {k for f in flat for k in (f - 1, f + 1)} - set(flat)  # a dash's neighbours: digits by their place
    pattern, masks, last_x1 = "", [], None
    for k, m in enumerate(merged):
        x, y, w, h = m[:4]
        if last_x1 is not None and x - last_x1 > 0.9 * line_h:
            pattern += " "
        cy = (y + h / 2.0 - top) / line_h
        cut = _split_dash(np.isin(lab[y : y + h, x : x + w], m[4:]).astype(np.uint8), line_h, top - y) if split else None
        if cut is not None and 0.55 * line_h <= h <= 1.25 * line_h and abs(cy - 0.5) <= 0.3:
            pattern += cut[0]
            masks.append((cut[1], _touches_frame_top(lab, m, erased, line_h)))
        elif h <= 0.45 * line_h and w >= 1.1 * h and w >= 0.2 * line_h and 0.15 <= cy <= 0.9:
            pattern += "-"
        elif len(m) > 5 and _stacked(stats, m[4:], 0.2 * line_h):
            pattern += "X"  # parts one above the other with a gap: a colon (項目番号：), not a digit
        elif max(w, h) < 0.3 * line_h and not (0.15 <= cy <= 0.9):
            pattern += " "  # a speck above or below the digits (scan noise over a 1: 3-˙1-1 was no label to the classifier)
        elif (
            h > 1.25 * line_h
            # kanji: taller and wider than the digits, and never next to a dash (a handwritten 5 with a long bar
            # after one was, 2-1-5 → D-D-X: OCR alone then read 2-7-5, silently)
            or (h > 1.1 * line_h and w > 0.8 * line_h and k not in beside)
            or y < top - 0.3 * line_h
            or y + h > top + 1.3 * line_h
            or abs(cy - 0.5) > 0.3
        ):
            pattern += "X"  # brackets, kanji: taller than the digits or off their line
        elif h >= 0.55 * line_h and w <= 1.3 * line_h:
            pattern += "D"
            masks.append((np.isin(lab[y : y + h, x : x + w], m[4:]).astype(np.uint8), _touches_frame_top(lab, m, erased, line_h)))
        elif max(w, h) < 0.3 * line_h:  # a speck, or a ・ between two labels
            pattern += " "
        else:
            pattern += "X"
        last_x1 = x + w
    return pattern, masks


def _touches_frame_top(lab: NDArray[np.int32], m: Sequence[int], erased: NDArray[np.uint8] | None, line_h: float) -> bool:
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
    low = np.diff(np.pad(own[own.shape[0] // 2 :].astype(np.int8), ((0, 0), (1, 1))), axis=1)
    runs = np.nonzero(low == -1)[1] - np.nonzero(low == 1)[1]
    if not (above > 0).any() or not runs.size:
        return True
    return float(np.median(runs)) < float(np.median(above[above > 0])) + 2.0


def _stacked(stats: NDArray[np.int32], comps: Sequence[int], gap: float) -> bool:
    """Whether components sit one above another with a vertical gap of more than ``gap`` pixels."""
    spans = sorted((int(stats[c, 1]), int(stats[c, 1] + stats[c, 3])) for c in comps)
    bottom = spans[0][1]
    for top, end in spans[1:]:
        if top - bottom > gap:
            return True
        bottom = max(bottom, end)
    return False


def _digit_reading(
    lab: NDArray[np.int32],
    stats: NDArray[np.int32],
    g: _Group,
    classifier: DigitClassifier,
    item_ids: Collection[str],
    document_items: Collection[str],
    erased: NDArray[np.uint8] | None = None,
) -> _Reading | None:
    """The classifier's reading of a line shaped N-N-N (several allowed), or None for any other shape."""
    one = "-".join(["D"] * _shape(item_ids)[0])
    for split in (False, True):  # a dash written into a digit (4-3-1 with 4- in one stroke): split it off, as a fallback
        found = _glyphs(lab, stats, g, split, erased)
        if found is None:
            return None
        pattern, masks = found
        pattern = re.sub(r" *- *", "-", pattern)
        # whole N-N-N runs only, apart from brackets, prefixes and separators (「」, 項目, ・, /), which may
        # also be missing altogether between two labels ('7-1-2 5-2-1' set close: D-D-DD-D-D); a / or a
        # bracket pair as tall as digits is taken out as a fallback
        for fix in (None, _separators_out, _brackets_out, _prefix_out):
            if fix is not None:
                pattern, masks = fix(pattern, masks, one)
            compact = re.sub(r"[X ]+", "", pattern)
            if _whole_runs(compact, one):
                break
        else:
            continue
        break
    else:
        return None
    cuts = {len(re.sub(r"[X ]+", "", pattern[: m.start()])) for m in re.finditer(r"[X ]+", pattern)}
    if any(c % len(one) for c in cuts):  # something odd inside a run (D-DXD-D): not ours to read
        return None
    runs = [compact[k : k + len(one)] for k in range(0, len(compact), len(one))]
    framed = tuple(t for _, t in masks)
    guesses = classifier.classify([m for m, _ in masks])
    shapes = tuple(_one_or_seven(m, gs) for (m, _), gs in zip(masks, guesses))
    digits = iter(guesses)
    text = " ".join("".join(next(digits).digit if ch == "D" else ch for ch in r) for r in runs)
    pos = [k for k, ch in enumerate(text) if ch.isdigit()]
    alts = tuple(
        text[:p] + gs.runner_up + text[p + 1 :] for gs, p in zip(guesses, pos) if gs.runner_up_probability >= DIGIT_ALT_PROBABILITY
    )
    conf = min(gs.probability for gs in guesses)
    parse = normalise_label(text, item_ids, document_items)
    if parse.status == "read" and conf < DIGIT_MIN_PROBABILITY:  # too weak to count as a vote
        parse = LabelParse((), (), "uncertain", parse.ids, f"digit read with probability {conf:.2f}")
    return _Reading("digits", text, conf, alts, parse, tuple(gs.probabilities for gs in guesses), shapes=shapes, framed=framed)


def _one_or_seven(mask: NDArray[np.uint8], guess: DigitGuess) -> str | None:
    """Whether the glyph is a 1 or a 7 by the shape of the glyph's top stroke (digits.top_stroke_share), when the classifier weighs the two."""
    from pipeline.reading.digits import top_stroke_share

    p = guess.probabilities
    if len(p) < 10 or p[1] + p[7] < 0.2:
        return None
    share = top_stroke_share(mask)
    if share is None:
        return None
    return "1" if share <= ONE_FLAG_MAX else ("7" if share >= SEVEN_BAR_MIN else None)


def _whole_runs(compact: str, one: str) -> bool:
    return bool(compact) and not len(compact) % len(one) and compact == one * (len(compact) // len(one))


_M = TypeVar("_M")  # a digit's mask, or the mask with what else is known of the glyph


def _brackets_out(pattern: str, masks: list[_M], one: str) -> tuple[str, list[_M]]:
    """A digit-sized glyph at each end of whole runs, as 'X' with their masks dropped: a bracket pair.

    『7-5-2』 at 150 dpi comes out DD-D-DD — 『 and 』 are as tall as digits. Only a pair is taken
    (one glyph more at both ends); anything else is left as it was, and stays unread.
    """
    core = pattern.strip("X ")
    if len(core) < 3 or not (core.startswith("D") and core.endswith("D")):
        return pattern, masks
    inner = core[1:-1].strip("X ")
    if inner.startswith("-") or inner.endswith("-") or not _whole_runs(re.sub(r"[X ]+", "", inner), one):
        return pattern, masks
    start = pattern.index(core)
    end = start + len(core) - 1
    out = pattern[:start] + "X" + pattern[start + 1 : end] + "X" + pattern[end + 1 :]
    return out, masks[1:-1]


def _prefix_out(pattern: str, masks: list[_M], one: str) -> tuple[str, list[_M]]:
    """Digit-sized glyphs before a prefix (項目番号：), as 'X' with their masks dropped, when whole runs follow the prefix.

    A 7-pt 項 at 150 dpi can come out as tall and narrow as a digit: 『項目番号：4-2-3』 was DXXXXXD-D-D and no
    label to the classifier. Only glyphs before the first 'X' that touch no dash are taken.
    """
    m = re.match(r"^([D ]+)(X[X ]*)(.*)$", pattern)
    if m is None or "-" in m.group(1) or m.group(3).startswith("-") or not _whole_runs(re.sub(r"[X ]+", "", m.group(3)), one):
        return pattern, masks
    lead = m.group(1).count("D")
    return m.group(1).replace("D", "X") + m.group(2) + m.group(3), masks[lead:]


def _separators_out(pattern: str, masks: list[_M], one: str) -> tuple[str, list[_M]]:
    """A digit-shaped glyph standing between two whole runs, touching no dash, as 'X' with its mask dropped.

    The / of 1-1-1/1-1-2 is as tall and thin as a 1 (D-D-DDD-D-D); a digit there would leave the line
    malformed anyway, so nothing that could be read otherwise is lost.
    """
    out, drop, k_digit = list(pattern), set(), -1
    for k, ch in enumerate(pattern):
        if ch != "D":
            continue
        k_digit += 1
        before = re.sub(r"[X ]+", "", "".join(out[:k]))
        after = pattern[k + 1 :]
        if _whole_runs(before, one) and not after.startswith("-") and after.lstrip("X ").startswith("D") and not before.endswith("-"):
            out[k] = "X"
            drop.add(k_digit)
    return "".join(out), [m for i, m in enumerate(masks) if i not in drop]


def _ocr_reading(line: OcrLine, item_ids: Collection[str], document_items: Collection[str]) -> _Reading:
    syms = [s.text for s in line.symbols]
    alts: list[str] = []
    for k, s in enumerate(line.symbols):
        if s.text.isdigit():
            alts += ["".join([*syms[:k], ch, *syms[k + 1 :]]) for ch, c in s.alternatives if ch.isdigit() and c >= ALT_SYMBOL_CONFIDENCE]
    # the confidence that matters is that of the digits and dashes, not of brackets or 項目
    confs = [s.confidence for s in line.symbols if s.text.isdigit() or s.text in DASHES]
    conf = min(confs) if confs else line.confidence
    digits = [(unicodedata.normalize("NFKC", s.text), s.confidence) for s in line.symbols if s.text.isdigit()]
    if not line.symbols:  # an engine without per-symbol output: every digit at the line's confidence
        digits = [(ch, line.confidence) for ch in clean_text(line.text) if ch.isdigit()]
    per_digit = [_likelihoods(ch, c) for ch, c in digits]
    slots = _slots(line) if line.symbols else ()
    return _Reading("ocr", line.text, conf, tuple(alts), normalise_label(line.text, item_ids, document_items), tuple(per_digit), slots)


def _likelihoods(ch: str, confidence: float) -> tuple[float, ...]:
    """An OCR digit as evidence: ``confidence`` (clipped to 0.5..OCR_DIGIT_TRUST) for it, the rest shared by the others."""
    c = min(max(confidence, 0.5), OCR_DIGIT_TRUST)
    return tuple(c if str(d) == ch else (1.0 - c) / 9.0 for d in range(10))


def _slots(line: OcrLine) -> tuple[tuple[float, ...] | None, ...]:
    """The line's dash-separated groups, each as its one digit's likelihoods or None (no digit: '/', ']', nothing).

    Tesseract reads a handwritten 1 as '/', '[', ']' or ')' (bench: 50 of 52 such slots were a 1): 3-/-1 still
    witnesses the 3 and the 1. A group holding two digits, or two characters and no digit, aligns with nothing: ().
    """
    groups: list[list[tuple[str, float]]] = [[]]
    for sym in line.symbols:
        ch = unicodedata.normalize("NFKC", sym.text)
        if ch and all(c in DASHES for c in ch):
            groups.append([])
        else:
            groups[-1] += [(c, sym.confidence) for c in ch if not c.isspace()]
    out: list[tuple[float, ...] | None] = []
    for g in groups:
        digits = [(c, conf) for c, conf in g if c.isdigit()]
        if len(digits) > 1 or (not digits and len(g) > 1):
            return ()
        out.append(_likelihoods(*digits[0]) if digits else None)
    return tuple(out)


def _runs_digits(text: str) -> list[str]:
    return ["".join(ch for ch in run if ch.isdigit()) for run in _RUN.findall(clean_text(text))]


def _aligned(
    dig: _Reading, ocrs: Sequence[_Reading], partial: bool
) -> tuple[list[_Reading], list[tuple[NDArray[np.float64], NDArray[np.bool_]]]]:
    """The OCR readings that witness the classifier's digits, each as (likelihoods per digit, whether it saw a digit there).

    A reading with exactly the classifier's digits witnesses all of them; with ``partial`` (one run of
    one-digit groups), one with as many dash-separated groups, some without a digit (3-/-1), witnesses
    the digits it saw and is silent (flat likelihoods) on the rest.
    """
    k = len(dig.per_digit)
    used: list[_Reading] = []
    witness: list[tuple[NDArray[np.float64], NDArray[np.bool_]]] = []
    for r in ocrs:
        if len(r.per_digit) == k and sum(map(len, _runs_digits(r.text))) == k:
            used.append(r)
            witness.append((np.array(r.per_digit, dtype=np.float64), np.ones(k, bool)))
        elif partial and len(r.slots) == k and any(sl is not None for sl in r.slots):
            used.append(r)
            flat = (0.1,) * 10
            witness.append((np.array([sl or flat for sl in r.slots], dtype=np.float64), np.array([sl is not None for sl in r.slots])))
    return used, witness


def _shape_overrules(dig: _Reading, witness: Sequence[tuple[NDArray[np.float64], NDArray[np.bool_]]]) -> NDArray[np.bool_]:
    """Per digit: whether the OCR's 1-or-7 is set aside, because the classifier and the top stroke's shape agree on the other.

    Tesseract reads a handwritten 1 with a flag as 7 (bench seeds 7 and 202: 48 of 597 handwritten 1s, while the v3
    classifier read 592 of them 1 and their top strokes all measured ≤ 0.29 of the height, every 7's ≥ 0.32). Counted at its own
    confidence, that 7 outweighed the classifier's 1 and the read ended uncertain. Only where the two shape-aware
    judges agree (the shape clearly 1 or clearly 7, the classifier's best the same) does the OCR's word on that pair
    go; the digit then rests on the classifier alone, like a digit no OCR reader saw.
    """
    out = np.zeros(len(dig.per_digit), bool)
    for k, (probs, shape) in enumerate(zip(dig.per_digit, dig.shapes)):
        if shape not in CONFUSABLE or int(np.argmax(probs)) != int(shape):
            continue
        other = int(CONFUSABLE[shape])
        out[k] = any(saw[k] and int(np.argmax(w[k])) == other for w, saw in witness)
    return out


def _fuse(
    dig: _Reading, ocrs: Sequence[_Reading], item_ids: Collection[str], document_items: Collection[str]
) -> tuple[LabelParse, float, bool]:
    """Combine the classifier's per-digit probabilities with every OCR reading of the same digits.

    Readers are taken as independent witnesses of each digit (an OCR digit read with confidence c
    counts c for that digit and (1-c)/9 for each other), so one sure reader outweighs a doubtful one
    and two agreeing readers outweigh a third. A run becomes an id only if its most likely spelling
    has probability ≥ FUSED_ACCEPT and no other document id reaches FUSED_RIVAL; otherwise the run
    is uncertain with those ids as candidates. Returns (parse, lowest run probability, OCR used).
    """
    n, width = _shape(item_ids)
    runs = _runs_digits(dig.text)
    post = np.maximum(np.array(dig.per_digit, dtype=np.float64), 1e-3)
    used, witness = _aligned(dig, ocrs, len(runs) == 1 and width == 1)
    seen = np.zeros(len(dig.per_digit), bool)
    overruled = _shape_overrules(dig, witness)
    if used:  # eng and jpn err together on handwriting (a flagged 1 is 7 to both): one witness, not two
        for w, _ in witness:  # … and where the shape and the classifier agree against them, they say only "1 or 7"
            w[overruled, 1] = w[overruled, 7] = np.maximum(w[overruled, 1], w[overruled, 7])
        post *= np.mean([w for w, _ in witness], axis=0)
        seen = np.any([s for _, s in witness], axis=0) & ~overruled
    post /= post.sum(axis=1, keepdims=True)
    accept = FUSED_ACCEPT if used else DIGIT_SURE_PROBABILITY
    own = _runs_digits(dig.text)
    shaped = [i for i in document_items if len(i.split("-")) == n and all(len(g) == 1 for g in i.split("-"))]
    ids: list[str] = []
    unknown: list[str] = []
    cands: set[str] = set()
    notes: list[str] = []
    lowest = 1.0
    for j in range(len(runs)):
        p = post[j * n : (j + 1) * n]
        best = "-".join(str(int(np.argmax(p[q]))) for q in range(n))
        p_best = float(np.prod(p.max(axis=1)))
        lowest = min(lowest, p_best)
        rivals = {i for i in shaped if i != best and float(np.prod([p[q][int(i[2 * q])] for q in range(n)])) >= FUSED_RIVAL}
        if best not in document_items and width == 1:  # 7-1-1 or 1-1-1? a doubtful 1/7 keeps both ids in play
            # … and so does any 1/7 of a spelling that is no item at all: a handwritten 1 with a long flag is a 7
            # to every reader (3-3-1 read 3-3-7, both sure), and a label naming no item is rarer than that slip
            for q, d in enumerate(best.split("-")):
                if d in CONFUSABLE and (best not in item_ids or dig.per_digit[j * n + q][int(d)] < DIGIT_SURE_PROBABILITY):
                    swapped = best.split("-")
                    swapped[q] = CONFUSABLE[d]
                    if "-".join(swapped) in document_items:
                        rivals.add("-".join(swapped))
        # an id that takes no document needs the classifier's own reading too: OCR alone turning a 1 into 7
        # (2-1-1 → 2-7-1) must not pass as a wrong label
        lone_unknown = best not in document_items and best.replace("-", "") != own[j]
        # digits no OCR reader saw (3-/-1) rest on the classifier alone
        unseen = [j * n + q for q in range(n) if used and not seen[j * n + q]]
        alone = float(np.prod([max(dig.per_digit[k]) for k in unseen])) if unseen else 1.0
        # a digit read 1 or 7 against the shape of its top stroke (a flagged 1 is a 7 to every reader): not a read
        shapes = dig.shapes[j * n : (j + 1) * n]
        against = [q for q, d in enumerate(best.split("-")) if d in CONFUSABLE and q < len(shapes) and shapes[q] not in (None, d)]
        for q in against:
            swapped = best.split("-")
            swapped[q] = CONFUSABLE[swapped[q]]
            rivals |= {"-".join(swapped)} & set(document_items)
        if against:
            notes.append(f"{best}: digit {against[0] + 1} is shaped like {CONFUSABLE[best.split('-')[against[0]]]}")
        # a 1/7 the OCR was overruled on rests on the classifier: its other reading must be unlikely, whatever id it makes
        shaky = [
            q
            for q, d in enumerate(best.split("-"))
            if overruled[j * n + q] and d in CONFUSABLE and dig.per_digit[j * n + q][int(CONFUSABLE[d])] >= FUSED_RIVAL
        ]
        for q in shaky:
            swapped = best.split("-")
            swapped[q] = CONFUSABLE[swapped[q]]
            rivals |= {"-".join(swapped)} & set(document_items)
            notes.append(f"{best}: digit {q + 1} could be {swapped[q]}")
        # a 1 whose top touches an erased frame line may be a 7 whose bar went with the line: never a read; a 7 there
        # only with its bar seen (shaped like a 7)
        framed = dig.framed[j * n : (j + 1) * n]
        hidden = [
            q
            for q, d in enumerate(best.split("-"))
            if q < len(framed) and framed[q] and d in CONFUSABLE and (d == "1" or q >= len(shapes) or shapes[q] != "7")
        ]
        for q in hidden:
            swapped = best.split("-")
            swapped[q] = CONFUSABLE[swapped[q]]
            rivals |= {"-".join(swapped)} & set(document_items)
            notes.append(f"{best}: digit {q + 1} touches the frame, could be {swapped[q]}")
        if (
            width == 1
            and p_best >= accept
            and alone >= DIGIT_UNSEEN_PROBABILITY
            and not rivals
            and not lone_unknown
            and not against
            and not shaky
            and not hidden
        ):
            (ids if best in document_items else unknown).append(best)
        else:
            near = {i for i in shaped if i.replace("-", "") == own[j]} | {a for a in _swaps(best) if a in document_items}
            cands |= rivals | near | ({best} & set(document_items))
            notes.append(f"{best} at probability {p_best:.2f}" + (f", or {', '.join(sorted(rivals))}" if rivals else ""))
    for r in ocrs:  # a reader that could not be aligned digit by digit may still name another document
        if r not in used and r.parse.status == "read" and set(r.parse.ids) - set(ids):
            cands |= set(r.parse.ids) | set(ids)
            notes.append(f"OCR read '{r.text}'")
    if notes or not runs:
        return LabelParse((), (), "uncertain", tuple(sorted(cands)), "; ".join(notes) or "no digits"), lowest, bool(used)
    return LabelParse(tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(unknown)), "read"), lowest, bool(used)


def _sure(r: _Reading, item_ids: Collection[str], document_items: Collection[str]) -> LabelParse:
    """A lone reader's parse judged on its own confidence and runner-ups (uncertain unless it is sure)."""
    if r.source == "digits":
        parse = normalise_label(r.text, item_ids, document_items, alternates=r.alternates)
        if parse.status == "read" and r.confidence < DIGIT_SURE_PROBABILITY:
            return LabelParse((), (), "uncertain", parse.ids, f"handwritten digit read with probability {r.confidence:.2f}")
        return parse
    return normalise_label(r.text, item_ids, document_items, confidence=r.confidence, alternates=r.alternates)


def _vote(readings: Sequence[_Reading], item_ids: Collection[str], document_items: Collection[str]) -> tuple[LabelParse, _Reading | None]:
    """Decide a line from its readers (Tesseract eng, jpn, the digit classifier), never by a guess.

    Two readers agreeing make a read, unless another reader names a different document id. A lone
    reader naming a document id makes a read only if it is sure of itself and the others name none
    (Tesseract turns a handwritten 1 into 7 or 4: 3-1-4 against the classifier's sure 3-1-1).
    Readers naming different document ids, or split without a sure reader, leave it uncertain.
    """
    reads = [r for r in readings if r.parse.status == "read"]
    pool = {i for r in readings for i in (*r.parse.ids, *r.parse.candidates)}
    support: dict[tuple[tuple[str, ...], tuple[str, ...]], list[_Reading]] = {}
    for r in reads:
        support.setdefault((r.parse.ids, r.parse.unknown), []).append(r)

    def unsure(note: str, parse: LabelParse | None = None) -> tuple[LabelParse, _Reading | None]:
        cands = pool | set(parse.candidates if parse else ())
        first = reads[0] if reads else (readings[0] if readings else None)
        return LabelParse((), (), "uncertain", tuple(sorted(cands)), note), first

    if not support:
        unclear = [r for r in readings if r.parse.status == "uncertain"]
        return unsure("; ".join(r.parse.note or "" for r in unclear)) if unclear else (MISSING, None)
    disagree = "readers disagree: " + " / ".join(dict.fromkeys(r.text for r in reads))
    doc_keys = [k for k in support if k[0]]
    if len(doc_keys) > 1:
        return unsure(disagree)
    best = max(support, key=lambda k: (len(support[k]), bool(k[0])))
    votes, chosen = len(support[best]), support[best][0]
    rivals = [k for k in support if k != best]
    if votes >= 2:
        if any(len(support[k]) >= 2 or k[0] for k in rivals):
            return unsure(disagree)
        surest = max(r.confidence for r in support[best])
        swaps = {a for i in (*best[0], *best[1]) for a in _swaps(i) if a in document_items} - set(best[0])
        if swaps and surest < SURE_CONFIDENCE:  # two unsure readers can share a 1↔7 slip; other agreement stands
            return unsure(
                f"'{chosen.text}' agreed, but at confidence {surest:.2f}", LabelParse((), (), "uncertain", tuple(swaps | set(best[0])))
            )
        if best[1] and any(r.source == "digits" for r in reads):
            # agreeing on an id that takes no document, when a runner-up digit or a 1↔7 swap would name one
            # that does, is the classic handwriting slip (6-2-1 read 6-2-7): not a verdict
            near = {a for r in readings for alt in r.alternates for a in normalise_label(alt, item_ids, document_items).ids}
            near |= {a for i in best[1] for a in _swaps(i) if a in document_items}
            if near - set(best[0]):
                return unsure(f"'{chosen.text}' names no document item, but could be {', '.join(sorted(near))}")
        return chosen.parse, chosen
    if rivals and not best[0]:
        return unsure(disagree)
    parse = _sure(chosen, item_ids, document_items)
    if parse.status != "read":
        return unsure(parse.note or disagree, parse)
    return parse, chosen


def _read_group(
    crop: NDArray[np.uint8],
    parts: tuple[NDArray[np.int32], NDArray[np.int32], list[int], NDArray[np.uint8] | None],
    g: _Group,
    engine: OcrEngine,
    classifier: DigitClassifier | None,
    item_ids: Collection[str],
    document_items: Collection[str],
) -> tuple[LabelParse, _Reading | None, str]:
    """Read one candidate line every way and vote; returns (parse, the reading chosen, its source)."""
    lab, stats, idx, erased = parts
    own = set(g.comps)
    dig = _digit_reading(lab, stats, g, classifier, item_ids, document_items, erased) if classifier is not None else None
    img = _line_image(crop, lab, stats, g, [c for c in idx if c not in own], erased)
    readings: list[_Reading] = []
    fused: tuple[LabelParse, float, bool] | None = None
    for lang in OCR_LANGS:
        line = engine.read_line(img, lang=lang, whitelist=OCR_WHITELIST, psm=7, region="label")
        readings.append(_ocr_reading(line, item_ids, document_items))
        if dig is not None:
            fused = _fuse(dig, readings, item_ids, document_items)
            if fused[0].status == "read" and fused[1] >= FUSED_SKIP:
                break  # sure already; the second language costs more than it could change
    if dig is not None and fused is not None:
        parse, p, ocr_used = fused
        agree = next(
            (r for r in readings if r.parse.status == "read" and (r.parse.ids, r.parse.unknown) == (parse.ids, parse.unknown)), None
        )
        fused_reading = _Reading(dig.source, agree.text if agree else dig.text, p, dig.alternates, parse)
        return parse, fused_reading, ("ocr+digits" if ocr_used else "digits")
    voted, chosen = _vote(readings, item_ids, document_items)
    if voted.status == "read" and any(ch in CONFUSABLE for i in (*voted.ids, *voted.unknown) for ch in i):
        # OCR alone, with ink touching an erased frame line at the line's top: a 1 there may be a 7 that lost its bar
        if _touches_frame_top(lab, [*g.box[:2], g.box[2] - g.box[0], g.box[3] - g.box[1], *g.comps], erased, g.height):
            near = {a for i in (*voted.ids, *voted.unknown) for a in _swaps(i) if a in document_items}
            note = "a digit touches the frame: a 1 there could be a 7"
            voted = LabelParse((), (), "uncertain", tuple(sorted(near | set(voted.ids))), note)
    return voted, chosen, (chosen.source if chosen else "none")


def _merge(parses: Sequence[LabelParse]) -> LabelParse:
    """Labels read from several runs of one line (「1-1-1」 「7-2-2」) as one parse."""
    if len(parses) == 1:
        return parses[0]
    ids = tuple(dict.fromkeys(i for p in parses for i in p.ids))
    unknown = tuple(dict.fromkeys(i for p in parses for i in p.unknown))
    if any(p.status == "uncertain" for p in parses):
        cands = tuple(sorted({i for p in parses for i in (*p.ids, *p.candidates)}))
        return LabelParse((), (), "uncertain", cands, "; ".join(p.note for p in parses if p.note))
    return LabelParse(ids, unknown, "read")


def read_scanned_label(
    gray: NDArray[np.uint8],
    dpi: float,
    item_ids: Collection[str],
    document_items: Collection[str],
    *,
    engine: OcrEngine | None = None,
    classifier: DigitClassifier | None = None,
    use_digits: bool = True,
) -> LabelRead:
    """Read the label of a scanned page (grayscale, ink dark) at ``dpi``: the corner only, no full-page OCR.

    In the top-right region the ink is split into components; the lines of a frame around a boxed
    label are erased; components are chained into runs, and the topmost label-like runs are
    straightened, binarised and read by Tesseract ``eng`` and ``jpn`` (label characters only) and,
    when shaped N-N-N, by the digit classifier. Two readers agreeing make a read; a single reader
    must be sure of itself; readers naming different document ids make it uncertain. Other runs on
    the same line (a second label) are read too. If the corner holds nothing label-like, the first
    run of the page's top band is tried, and only a clean read is taken from there.
    """
    import cv2

    if engine is None:
        from pipeline.tools.tesseract import get_engine

        engine = get_engine()
    if classifier is None and use_digits:
        from pipeline.reading.digits import get_classifier

        classifier = get_classifier()
    h, w = gray.shape[:2]
    band = gray[: int(h * REGION_TOP)]
    if dpi > WORK_DPI:  # labels read as well at 200 dpi; the corner costs half as much to analyse
        f = WORK_DPI / dpi
        size = (max(1, round(w * f)), max(1, round(band.shape[0] * f)))
        band = np.asarray(cv2.resize(band, size, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)  # INTER_AREA: 5 ms, this 0.6
        dpi, w = WORK_DPI, band.shape[1]
    pt_px = dpi / 72.0
    x_off = int(w * (1 - REGION_RIGHT))
    best: LabelRead | None = None
    for x_start, limit in ((x_off, MAX_CANDIDATES), (0, 1)):
        crop = band[:, x_start:]
        binary = _binarise(crop)
        before = binary.copy()
        lab, stats, idx = _components(binary, pt_px)  # erases frame lines from `binary`
        erased = (before & (1 - binary)) if not np.array_equal(before, binary) else None
        parts = (lab, stats, idx, erased)
        groups = sorted((g for g in _groups(stats, idx, LINE_GAP) if _label_like(g, pt_px)), key=lambda g: g.box[1])
        if x_start == 0:  # the top band: only what lies left of the corner already searched
            groups = [g for g in groups if g.box[0] < x_off]
        for g in groups[:limit]:
            parse, chosen, source = _read_group(crop, parts, g, engine, classifier, item_ids, document_items)
            if parse.status == "missing" or chosen is None:
                continue
            line = [g]
            parses, texts = [parse], [chosen.text]
            for o in groups:  # further runs on the same line, left to right
                ov = min(o.box[3], g.box[3]) - max(o.box[1], g.box[1])
                if o is not g and ov >= 0.5 * min(o.height, g.height):
                    p2, c2, _ = _read_group(crop, parts, o, engine, classifier, item_ids, document_items)
                    if p2.status != "missing" and c2 is not None:
                        line.append(o)
                        parses.append(p2)
                        texts.append(c2.text)
            order = sorted(range(len(line)), key=lambda k: line[k].box[0])
            parse = _merge([parses[k] for k in order])
            x0, y0 = min(o.box[0] for o in line), min(o.box[1] for o in line)
            x1, y1 = max(o.box[2] for o in line), max(o.box[3] for o in line)
            bbox = ((x0 + x_start) / pt_px, y0 / pt_px, (x1 + x_start) / pt_px, y1 / pt_px)
            src = source if len(line) == 1 else "ocr"
            read = LabelRead(parse, " ".join(texts[k] for k in order), chosen.confidence, src, bbox)  # type: ignore[arg-type]
            if parse.status == "read":
                return read
            if x_start == x_off:  # from the top band only a clean read counts: body text there is not a label
                best = best or read
        if best is not None:
            return best
    return LabelRead(MISSING, None, None, "none")


def label_region_pt(width_pt: float, height_pt: float) -> BBox:
    """The region searched for a label, in points (origin top left): the dossier's crop of an unlabelled page."""
    return (width_pt * (1 - REGION_RIGHT), 0.0, width_pt, height_pt * REGION_TOP)


# --- grouping ------------------------------------------------------------------------------------


def group_attachments(pages: Sequence[LabelledPage], *, blank_separates: bool = True) -> tuple[list[Attachment], list[PageRef]]:
    """Group non-form pages (in submission order) into attachments; returns (attachments, blank pages).

    A page with a label (read or uncertain) starts a document; an unlabelled page continues the
    document before it, as long as it directly follows it in the same file. A new file, a form
    page in between (a gap in page numbers) or, with ``blank_separates``, a blank separator starts
    a new, unlabelled document. A labelled page repeating the current document's label continues
    it (labels written on every page). Blank pages belong to no attachment and are returned apart.
    Attachment ids run att-01, att-02, … in order.
    """
    docs: list[tuple[LabelRead | None, list[PageRef]]] = []
    blanks: list[PageRef] = []
    prev: PageRef | None = None
    broken = True
    for p in pages:
        follows = prev is not None and p.ref.file == prev.file and p.ref.page == prev.page + 1
        prev = p.ref
        if p.blank:
            blanks.append(p.ref)
            broken = broken or blank_separates or not follows
            continue
        parse = p.label.parse if p.label else MISSING
        cont = docs and follows and not broken
        if parse.status == "missing" and cont:
            docs[-1][1].append(p.ref)
        elif cont and parse.status == "read" and docs[-1][0] is not None and _same(docs[-1][0].parse, parse):
            docs[-1][1].append(p.ref)
        else:
            docs.append((p.label if parse.status != "missing" else None, [p.ref]))
        broken = False
    out = []
    for k, (read, refs) in enumerate(docs, start=1):
        parse = read.parse if read else MISSING
        out.append(
            Attachment(
                id=f"att-{k:02d}",
                labels=parse.ids,
                label_status=parse.status,
                label_text=read.text if read else None,
                pages=tuple(refs),
                unknown_labels=parse.unknown,
                candidates=parse.candidates,
            )
        )
    return out, blanks


def _same(a: LabelParse, b: LabelParse) -> bool:
    return a.status == "read" and b.status == "read" and (a.ids, a.unknown) == (b.ids, b.unknown) and bool(a.ids or a.unknown)
