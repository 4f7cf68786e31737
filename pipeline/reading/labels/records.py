"""The records a label passes on: a page's label as read, a page with its label, one reader's opinion of a line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.model.records import BBox, PageRef
from pipeline.reading.labels.parse import LabelParse


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


@dataclass(frozen=True, slots=True)
class LineReading:
    """One reader's opinion of a candidate line: parsed as plain text, with what judges it."""

    source: Literal["ocr", "digits", "ppocr"]
    text: str
    confidence: float
    alternates: tuple[str, ...]
    parse: LabelParse
    per_digit: tuple[tuple[float, ...], ...] = ()  # per digit read, in order: how likely each of 0–9 is
    slots: tuple[tuple[float, ...] | None, ...] = ()  # OCR: per dash-separated group, its digit's likelihoods, None: no digit seen
    shapes: tuple[str | None, ...] = ()  # classifier: per digit, "1" or "7" when the top stroke's shape tells them apart
    framed: tuple[bool, ...] = ()  # classifier: per digit, whether its top touches a frame line that was erased
    # PP-OCR: each character read (NFKC), with how likely each digit 0-9 was where it was read (() when not known)
    spelled: tuple[tuple[str, tuple[float, ...]], ...] = ()
