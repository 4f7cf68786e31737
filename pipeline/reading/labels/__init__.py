"""Non-form pages → top-right label (右肩) → normalised item ids; pages grouped into Attachments.

A label is read from the text layer of a born-digital page (text.py), or from a scan by finding the
ink in the top-right region, stripping any frame, straightening it and reading the one line with
Tesseract restricted to what labels contain (ink.py, scanned.py); handwritten digits that Tesseract
misses are read by the digit classifier (glyphs.py, reading/digits.py) and the readers fused or
voted (fuse.py), the verdict checked by PP-OCR, a reader that errs apart (ppocr_check.py). Whatever was read goes through ``normalise_label`` (parse.py), which checks it
against the form's item ids and never guesses: a read that could be two ids is ``uncertain`` with
its candidates. Pages are then grouped into attachments (group.py). Thresholds live in one
``LabelSettings`` (settings.py). Coordinates leave this package as PDF points, origin top left.
"""

from __future__ import annotations

from pipeline.reading.labels.group import group_attachments
from pipeline.reading.labels.ink import ink_fraction, is_blank_image
from pipeline.reading.labels.parse import CONFUSABLE, DASHES, MISSING, LabelParse, could_hold_label, normalise_label, unify_dashes
from pipeline.reading.labels.records import LabelledPage, LabelRead
from pipeline.reading.labels.scanned import read_scanned_label
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings, label_region_pt
from pipeline.reading.labels.text import OCR_WHITELIST, Word, is_blank_text, read_text_label, words_from_pdfium

__all__ = [
    "CONFUSABLE",
    "DASHES",
    "LABEL_SETTINGS",
    "MISSING",
    "OCR_WHITELIST",
    "LabelParse",
    "LabelRead",
    "LabelSettings",
    "LabelledPage",
    "Word",
    "unify_dashes",
    "could_hold_label",
    "group_attachments",
    "ink_fraction",
    "is_blank_image",
    "is_blank_text",
    "label_region_pt",
    "normalise_label",
    "read_scanned_label",
    "read_text_label",
    "words_from_pdfium",
]
