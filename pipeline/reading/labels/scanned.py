"""The label of a scanned page: the corner's candidate lines, each read every way, the first label-like line kept."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from pipeline.model.errors import OcrError
from pipeline.model.geometry import bbox_to_pt, px_per_pt
from pipeline.reading.labels.fuse import fuse_readings, vote_readings
from pipeline.reading.labels.glyphs import digit_reading
from pipeline.reading.labels.ink import CornerInk, Group, chain_lines, corner_ink, label_like, line_image, touches_frame_top
from pipeline.reading.labels.parse import CONFUSABLE, DASHES, MISSING, LabelParse, id_shape, normalise_label, swaps
from pipeline.reading.labels.ppocr_check import (
    agreed_with_ppocr,
    overruled_alone,
    overrules_classifier,
    tie_unsettled,
    unknown_doubted,
    weak_digit_unseen,
    with_ppocr,
)
from pipeline.reading.labels.records import LabelRead, LineReading
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings
from pipeline.reading.labels.text import OCR_WHITELIST, ocr_reading, ppocr_reading

if TYPE_CHECKING:
    from pipeline.reading.digits import DigitClassifier
    from pipeline.tools.ppocr import PPOcrRecognizer
    from pipeline.tools.tesseract import OcrEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Readers:
    """Who reads a candidate line (Tesseract, the digit classifier and PP-OCR if any), against which ids, with which settings."""

    engine: OcrEngine
    classifier: DigitClassifier | None
    item_ids: Collection[str]
    document_items: Collection[str]
    settings: LabelSettings
    ppocr: Callable[[], PPOcrRecognizer] | None = None  # gives the loaded recognizer; called only for a line in doubt


def _ppocr_reading(img: NDArray[np.uint8], readers: _Readers) -> LineReading | None:
    """PP-OCR's reading of the straightened line, or None when there is no PP-OCR or it fails (the line is then judged without it)."""
    if readers.ppocr is None:
        return None
    try:
        read = readers.ppocr().read(img)
    except OcrError as exc:
        log.warning("PP-OCR could not read a label line: %s", exc)
        return None
    return ppocr_reading(read, readers.item_ids, readers.document_items, readers.settings)


def _marks(text: str) -> bool:
    """Whether a reader's text holds a digit or a dash (what is left of a label Tesseract could not read)."""
    return any(ch.isdigit() or ch in DASHES for ch in unicodedata.normalize("NFKC", text))


def _checked(
    verdict: tuple[LabelParse, LineReading | None, str],
    img: NDArray[np.uint8],
    dig: LineReading | None,
    readings: Sequence[LineReading],
    readers: _Readers,
    beside: bool = False,
) -> tuple[LabelParse, LineReading | None, str]:
    """The verdict checked by PP-OCR (_checked_by_ppocr), then a read naming an id that takes no document checked by
    ppocr_check.unknown_doubted: handwriting misread by a digit names no document more often than an applicant does.

    ``beside``: the run stands beside a label on its line. Left unread there while PP-OCR sees digits and dashes in it,
    it is a second label the readers could not make out, uncertain, not nothing: 2-3-1 7-5-1 with a faint 7 ('-5-1' to
    PP-OCR, 'o' to Tesseract) was read 2-3-1 alone (validation rows seed 88709 #147, the page's 7-5-1 then missing, silent).
    """
    parse, chosen, source = verdict
    if parse.status == "missing" and dig is None and not any(_marks(r.text) for r in readings):
        return verdict
    pp = _ppocr_reading(img, readers)
    parse, chosen, source = _checked_by_ppocr(verdict, pp, dig, readings, readers) if pp is not None else verdict
    doubted = unknown_doubted(parse, pp, readings, readers.item_ids, readers.document_items, readers.settings)
    if beside and doubted.status == "missing" and pp is not None and _digits_and_dashes(pp.text):
        return LabelParse((), (), "uncertain", (), f"a second label beside it, unread (PP-OCR '{pp.text}')"), pp, "ppocr"
    return doubted, chosen, source


def _digits_and_dashes(text: str) -> bool:
    """Whether a reader's text holds both a digit and a dash (what is left of a label it could not read)."""
    norm = unicodedata.normalize("NFKC", text)
    return any(ch.isdigit() for ch in norm) and any(ch in DASHES for ch in norm)


def _checked_by_ppocr(
    verdict: tuple[LabelParse, LineReading | None, str],
    pp: LineReading,
    dig: LineReading | None,
    readings: Sequence[LineReading],
    readers: _Readers,
) -> tuple[LabelParse, LineReading | None, str]:
    """The verdict checked by PP-OCR's reading ``pp`` of the line (someone saw a label there: a digit, a dash or N-N-N).

    A read, however sure, is asked too: Tesseract and the classifier err together on a digit the scan broke
    (a 2 read 4 by both at 0.98), PP-OCR apart from them; spelling other digits, it makes the read uncertain.
    A line Tesseract saw only a dash or a digit in ('-.' for a handwritten 2-1-1 whose last 1 the scan broke) is
    asked too: PP-OCR spelling a document id there makes it uncertain (shown with its crop), never a read.
    """
    parse, chosen, source = verdict
    if parse.status == "read" and dig is not None and tie_unsettled(parse, dig, readings, readers.settings):
        return _tied(parse, dig, readers), chosen, source
    if parse.status == "read":
        if dig is not None and overruled_alone(parse, dig, pp, readings, readers.item_ids, readers.document_items, readers.settings):
            own = set(normalise_label(dig.text, readers.item_ids, readers.document_items).ids)
            cands = tuple(sorted((set(parse.ids) | own) & set(readers.document_items)))
            note = f"{' '.join((*parse.ids, *parse.unknown))} overrules the digit classifier's '{dig.text}'"
            return LabelParse((), (), "uncertain", cands, note), chosen, source
        if dig is not None and weak_digit_unseen(parse, dig, pp, readers.settings):
            note = f"{' '.join((*parse.ids, *parse.unknown))}: a digit the classifier doubts, not read surely by PP-OCR ('{pp.text}')"
            return LabelParse((), (), "uncertain", tuple(sorted(set(parse.ids))), note), chosen, source
        vetted, chosen2 = with_ppocr(parse, chosen, pp, dig, readings, readers.item_ids, readers.document_items, readers.settings)
        return vetted, chosen2, source
    if dig is not None and parse.status != "read" and pp.confidence >= readers.settings.ppocr_min_confidence:
        # PP-OCR sure of its digits as a third witness of the classifier's digits: a read only if the fusion makes one
        # and PP-OCR itself spells it. Such a read may overrule the classifier's likeliest digit. Refusing that when the
        # classifier gave the read's digit < 0.3 was tried and dropped: validation rows seeds 87703 / 87707, right 91.3 ->
        # 89.7 % and 90.3 -> 87.3 %, silent 2 -> 1 and 1 -> 1. All 4 silent reads of seeds 87700-87709 are one
        # closed-looped MNIST 5 (validation position 343, a 6 to the eye): read 6 here by Tesseract and PP-OCR against
        # the classifier's 5 at 0.88 (87703 #30), and at another size a 6 to every reader, the classifier too (87707
        # #291), which no rule between the readers can catch
        third, p3, _ = fuse_readings(dig, readings, readers.item_ids, readers.document_items, readers.settings, apart=[pp])
        if third.status == "read" and (pp.parse.ids, pp.parse.unknown) == (third.ids, third.unknown) and not overrules_classifier(third, dig, readers.settings):
            if tie_unsettled(third, dig, readings, readers.settings):
                return _tied(third, dig, readers), chosen, source
            return third, LineReading("digits", pp.text, min(p3, pp.confidence), dig.alternates, third), "ocr+digits"
    agreed = agreed_with_ppocr(dig, pp, readings, readers.item_ids, readers.document_items, readers.settings) if dig else None
    if agreed is not None and dig is not None:
        if tie_unsettled(agreed, dig, readings, readers.settings):
            return _tied(agreed, dig, readers), chosen, source
        return agreed, LineReading("digits", pp.text, min(dig.confidence, pp.confidence), dig.alternates, agreed), "digits"
    parse2, chosen2 = with_ppocr(parse, chosen, pp, dig, readings, readers.item_ids, readers.document_items, readers.settings)
    if chosen2 is not None and chosen2.source == "ppocr" and chosen2 is not chosen:
        return parse2, chosen2, "ocr"
    return parse2, chosen2, source


def _tied(parse: LabelParse, dig: LineReading, readers: _Readers) -> LabelParse:
    """A read made uncertain because the classifier holds one of its digits two ways (ppocr_check.tie_unsettled); its
    candidates are the read's ids and those the classifier's other reading of such a digit makes."""
    digits = [ch for i in (*parse.ids, *parse.unknown) for ch in i if ch.isdigit()]
    n, width = id_shape(readers.item_ids)
    cands = set(parse.ids)
    for k, p in enumerate(dig.per_digit):
        if width != 1 or sorted(p)[-2] < readers.settings.tie_probability:
            continue
        other = str(int(np.argsort(p)[-2])) if digits[k] == str(int(np.argmax(p))) else str(int(np.argmax(p)))
        text = "".join([*digits[:k], other, *digits[k + 1 :]])
        spelled = " ".join("-".join(text[j : j + n]) for j in range(0, len(text), n))
        cands |= set(normalise_label(spelled, readers.item_ids, readers.document_items).ids)
    note = f"{' '.join((*parse.ids, *parse.unknown))}: a digit the classifier reads two ways ('{dig.text}'), not read so by Tesseract"
    return LabelParse((), (), "uncertain", tuple(sorted(cands)), note)


def _read_group(
    crop: NDArray[np.uint8], parts: CornerInk, g: Group, readers: _Readers, beside: bool = False
) -> tuple[LabelParse, LineReading | None, str]:
    """Read one candidate line every way and vote; returns (parse, the reading chosen, its source). ``beside``: as _checked."""
    item_ids, document_items, settings = readers.item_ids, readers.document_items, readers.settings
    lab, stats, idx, erased = parts
    own = set(g.comps)
    classifier = readers.classifier
    dig = digit_reading(lab, stats, g, classifier, item_ids, document_items, erased, settings) if classifier is not None else None
    img = line_image(crop, lab, stats, g, [c for c in idx if c not in own], erased, settings)
    readings: list[LineReading] = []
    fused: tuple[LabelParse, float, bool] | None = None
    for lang in settings.ocr_langs:
        line = readers.engine.read_line(img, lang=lang, whitelist=OCR_WHITELIST, psm=7, region="label")
        readings.append(ocr_reading(line, item_ids, document_items, settings))
        if dig is not None:
            fused = fuse_readings(dig, readings, item_ids, document_items, settings)
            if fused[0].status == "read" and fused[1] >= settings.fused_skip:
                break  # sure already; the second language costs more than it could change
    if dig is None and not any(r.text.strip() for r in readings) and (tail := after_widest_gap(img)) is not None:
        # Tesseract 5.5 reads nothing at all on some clean typed lines with a prefix (「添付資料 7-1-1」
        # 40-60 px tall: seeds 86200-05 p22, 86400-04, the page then taken for the previous
        # document's): the id after the widest gap, read alone, is read every time
        readings = [
            ocr_reading(readers.engine.read_line(tail, lang=lang, whitelist=OCR_WHITELIST, psm=7, region="label"), item_ids, document_items, settings)
            for lang in settings.ocr_langs
        ]
    if dig is not None and fused is not None:
        parse, p, ocr_used = fused
        agree = next(
            (r for r in readings if r.parse.status == "read" and (r.parse.ids, r.parse.unknown) == (parse.ids, parse.unknown)), None
        )
        fused_reading = LineReading(dig.source, agree.text if agree else dig.text, p, dig.alternates, parse)
        return _checked((parse, fused_reading, ("ocr+digits" if ocr_used else "digits")), img, dig, readings, readers, beside)
    voted, chosen = vote_readings(readings, item_ids, document_items, settings)
    if voted.status == "read" and any(ch in CONFUSABLE for i in (*voted.ids, *voted.unknown) for ch in i):
        # OCR alone, with ink touching an erased frame line at the line's top: a 1 there may be a 7 that lost its bar
        if touches_frame_top(lab, [*g.box[:2], g.box[2] - g.box[0], g.box[3] - g.box[1], *g.comps], erased, g.height):
            near = {a for i in (*voted.ids, *voted.unknown) for a in swaps(i) if a in document_items}
            note = "a digit touches the frame: a 1 there could be a 7"
            voted = LabelParse((), (), "uncertain", tuple(sorted(near | set(voted.ids))), note)
    return _checked((voted, chosen, (chosen.source if chosen else "none")), img, None, readings, readers, beside)


def after_widest_gap(img: NDArray[np.uint8], pad: int = 20) -> NDArray[np.uint8] | None:
    """The line image from its widest gap between inked columns on (a label's id after its prefix), with a margin; None without a gap."""
    xs = np.flatnonzero((img < 128).any(axis=0))
    if xs.size < 2:
        return None
    gaps = np.diff(xs)
    k = int(np.argmax(gaps))
    if gaps[k] < 2:
        return None
    cut = int(xs[k] + gaps[k] // 2)
    return np.ascontiguousarray(np.pad(img[:, cut:], ((0, 0), (pad, 0)), constant_values=255))


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


def _read_line(
    crop: NDArray[np.uint8], parts: CornerInk, g: Group, groups: Sequence[Group], x_start: int, dpi: float, readers: _Readers
) -> LabelRead | None:
    """The label on the line of candidate ``g``: it and the other runs beside it (a second label), read and merged.

    ``crop`` starts ``x_start`` pixels into the band, at ``dpi``; the bbox is in points of the page, origin top left.
    None when ``g`` holds nothing label-like.
    """
    parse, chosen, source = _read_group(crop, parts, g, readers)
    if parse.status == "missing" or chosen is None:
        return None
    line = [g]
    parses, texts = [parse], [chosen.text]
    for o in groups:  # further runs on the same line, left to right
        ov = min(o.box[3], g.box[3]) - max(o.box[1], g.box[1])
        if o is not g and ov >= 0.5 * min(o.height, g.height):
            p2, c2, _ = _read_group(crop, parts, o, readers, beside=True)
            if p2.status != "missing" and c2 is not None:
                line.append(o)
                parses.append(p2)
                texts.append(c2.text)
    order = sorted(range(len(line)), key=lambda k: line[k].box[0])
    parse = _merge([parses[k] for k in order])
    x0, y0 = min(o.box[0] for o in line), min(o.box[1] for o in line)
    x1, y1 = max(o.box[2] for o in line), max(o.box[3] for o in line)
    bbox = bbox_to_pt((x0 + x_start, y0, x1 + x_start, y1), dpi)
    src = source if len(line) == 1 else "ocr"
    return LabelRead(parse, " ".join(texts[k] for k in order), chosen.confidence, src, bbox)  # type: ignore[arg-type]


def _top_band(gray: NDArray[np.uint8], dpi: float, settings: LabelSettings) -> tuple[NDArray[np.uint8], float]:
    """The page's top band (settings.region_top of its height), reduced to settings.work_dpi when finer; with its dpi."""
    import cv2

    h, w = gray.shape[:2]
    band = gray[: int(h * settings.region_top)]
    if dpi > settings.work_dpi:  # labels read as well at 200 dpi; the corner costs half as much to analyse
        f = settings.work_dpi / dpi
        size = (max(1, round(w * f)), max(1, round(band.shape[0] * f)))
        band = np.asarray(cv2.resize(band, size, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)  # INTER_AREA: 5 ms, this 0.6
        dpi = settings.work_dpi
    return band, dpi


def read_scanned_label(
    gray: NDArray[np.uint8],
    dpi: float,
    item_ids: Collection[str],
    document_items: Collection[str],
    *,
    engine: OcrEngine | None = None,
    classifier: DigitClassifier | None = None,
    use_digits: bool = True,
    ppocr: Callable[[], PPOcrRecognizer] | None = None,
    settings: LabelSettings = LABEL_SETTINGS,
) -> LabelRead:
    """Read the label of a scanned page (grayscale, ink dark) at ``dpi``: the corner only, no full-page OCR.

    In the top-right region the ink is split into components; the lines of a frame around a boxed
    label are erased; components are chained into runs, and the topmost label-like runs are
    straightened, binarised and read by Tesseract ``eng`` and ``jpn`` (label characters only) and,
    when shaped N-N-N, by the digit classifier. Two readers agreeing make a read; a single reader
    must be sure of itself; readers naming different document ids make it uncertain. Other runs on
    the same line (a second label) are read too. If the corner holds nothing label-like, the first
    run of the page's top band is tried, and only a clean read is taken from there. ``engine`` and
    ``classifier`` default to newly loaded ones; ``use_digits=False`` reads with Tesseract alone.
    ``ppocr`` gives the process's PP-OCR recognizer (``Engines.ppocr``), asked only about a line the
    others are not sure of (ppocr_check.with_ppocr): PP-OCR agreeing makes a read, disagreeing makes it
    uncertain; without it (None, or it fails to load) the line is judged as before.
    """
    # The run passes its process's engine and classifier (reading.engines); a caller without them gets new ones.
    if engine is None:
        from pipeline.tools.tesseract import load_engine

        engine = load_engine()
    if classifier is None and use_digits:
        from pipeline.reading.digits import DigitClassifier

        classifier = DigitClassifier.load()
    readers = _Readers(engine, classifier, item_ids, document_items, settings, ppocr)
    band, dpi = _top_band(gray, dpi, settings)
    pt_px = px_per_pt(dpi)
    x_off = int(band.shape[1] * (1 - settings.region_right))
    best: LabelRead | None = None
    for x_start, limit in ((x_off, settings.max_candidates), (0, 1)):
        crop = band[:, x_start:]
        parts = corner_ink(crop, pt_px)
        _, stats, idx, _ = parts
        groups = sorted((g for g in chain_lines(stats, idx, settings.line_gap) if label_like(g, pt_px)), key=lambda g: g.box[1])
        if x_start == 0:  # the top band: only what lies left of the corner already searched
            groups = [g for g in groups if g.box[0] < x_off]
        for g in groups[:limit]:
            read = _read_line(crop, parts, g, groups, x_start, dpi, readers)
            if read is None:
                continue
            if read.parse.status == "read":
                return read
            if x_start == x_off:  # from the top band only a clean read counts: body text there is not a label
                best = best or read
        if best is not None:
            return best
    return LabelRead(MISSING, None, None, "none")
