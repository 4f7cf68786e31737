"""Labels read from text: a born-digital page's words, and one OCR line turned into a reader's opinion."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from pipeline.model.records import BBox
from pipeline.reading.labels.parse import DASHES, MISSING, normalise_label, unify_dashes
from pipeline.reading.labels.records import LabelRead, LineReading
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings
from pipeline.sources.textlayer import page_words

if TYPE_CHECKING:
    from pipeline.tools.ppocr import LineRead
    from pipeline.tools.tesseract import OcrLine

# What Tesseract may answer: label characters, plus decoys so that a date or a header in the corner
# (令和6年4月1日, 第2版) comes back as itself instead of as digits and dashes.
OCR_WHITELIST = "0123456789" + DASHES[:12] + "「」『』【】()（）[]項目番号No.・/、," + "年月日令和平成第版頁号"
Word = tuple[str, BBox]  # text and bbox in PDF points, origin top left


def words_from_pdfium(page: Any) -> list[Word]:
    """Words of a pypdfium2 ``PdfPage`` as (text, bbox in points, origin top left), read as Page.words() reads them."""
    return list(page_words(page))


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
    words: Sequence[Word],
    width_pt: float,
    height_pt: float,
    item_ids: Collection[str],
    document_items: Collection[str],
    *,
    settings: LabelSettings = LABEL_SETTINGS,
) -> LabelRead:
    """Read the label of a born-digital page from its words (bbox in points, origin top left).

    Looks at the top-right region first, line by line from the top, then at the first two lines
    of the page wherever they are. The first line that holds something label-like wins.
    """
    x_min, y_max = width_pt * (1 - settings.region_right), height_pt * settings.region_top
    top = [w for w in words if w[1][1] < y_max]
    corner = [w for w in top if w[1][2] > x_min and (w[1][0] + w[1][2]) / 2 >= x_min]
    tries = _lines(corner) + _lines(top)[:2]
    for text, bb in tries:
        parse = normalise_label(text, item_ids, document_items, settings=settings)
        if parse.status != "missing":
            return LabelRead(parse, text, None, "text_layer", bb)
    return LabelRead(MISSING, None, None, "none")


def is_blank_text(words: Sequence[Word]) -> bool:
    """A born-digital page with no text at all (check the image too when the page may carry pictures)."""
    return not any(w[0].strip() for w in words)


def ocr_reading(
    line: OcrLine, item_ids: Collection[str], document_items: Collection[str], settings: LabelSettings = LABEL_SETTINGS
) -> LineReading:
    """Tesseract's reading of a candidate line as one reader's opinion: its parse, runner-ups and per-digit likelihoods."""
    syms = [s.text for s in line.symbols]
    alts: list[str] = []
    for k, s in enumerate(line.symbols):
        if s.text.isdigit():
            alts += [
                "".join([*syms[:k], ch, *syms[k + 1 :]]) for ch, c in s.alternatives if ch.isdigit() and c >= settings.alt_symbol_confidence
            ]
    # the confidence that matters is that of the digits and dashes, not of brackets or 項目
    confs = [s.confidence for s in line.symbols if s.text.isdigit() or s.text in DASHES]
    conf = min(confs) if confs else line.confidence
    digits = [(unicodedata.normalize("NFKC", s.text), s.confidence) for s in line.symbols if s.text.isdigit()]
    if not line.symbols:  # an engine without per-symbol output: every digit at the line's confidence
        digits = [(ch, line.confidence) for ch in unify_dashes(line.text) if ch.isdigit()]
    per_digit = [_likelihoods(ch, c, settings) for ch, c in digits]
    slots = _slots(line, settings) if line.symbols else ()
    parse = normalise_label(line.text, item_ids, document_items, settings=settings)
    return LineReading("ocr", line.text, conf, tuple(alts), parse, tuple(per_digit), slots)


def ppocr_reading(
    read: LineRead, item_ids: Collection[str], document_items: Collection[str], settings: LabelSettings = LABEL_SETTINGS
) -> LineReading:
    """PP-OCR's reading of a candidate line as one reader's opinion: its parse at the confidence of its digits and dashes.

    PP-OCR gives one probability per character and no runner-ups; its confidence is the least of its
    digits' and dashes' (else of the line), its parse is judged at that confidence like Tesseract's.
    """
    text = read.text
    confs = read.char_confidences if len(read.char_confidences) == len(text) else (read.confidence,) * len(text)
    chars = [(unicodedata.normalize("NFKC", ch), c) for ch, c in zip(text, confs)]
    label_confs = [c for ch, c in chars if ch.isdigit() or (ch and ch in DASHES) or ch == "-"]
    conf = min(label_confs) if label_confs else read.confidence
    per_digit = [_likelihoods(ch, c, settings) for ch, c in chars if len(ch) == 1 and ch.isdigit()]
    parse = normalise_label(text, item_ids, document_items, confidence=conf, settings=settings)
    probs = read.digit_probabilities if len(read.digit_probabilities) == len(text) else ((),) * len(text)
    spelled = tuple((ch, p) for (ch, _), p in zip(chars, probs))
    return LineReading("ppocr", text, conf, (), parse, tuple(per_digit), spelled=spelled)


def _likelihoods(ch: str, confidence: float, settings: LabelSettings = LABEL_SETTINGS) -> tuple[float, ...]:
    """An OCR digit as evidence: ``confidence`` (clipped to 0.5..ocr_digit_trust) for it, the rest shared by the others."""
    c = min(max(confidence, 0.5), settings.ocr_digit_trust)
    return tuple(c if str(d) == ch else (1.0 - c) / 9.0 for d in range(10))


def _slots(line: OcrLine, settings: LabelSettings = LABEL_SETTINGS) -> tuple[tuple[float, ...] | None, ...]:
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
        out.append(_likelihoods(*digits[0], settings) if digits else None)
    return tuple(out)
