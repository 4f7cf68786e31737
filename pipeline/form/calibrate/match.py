"""Fuzzy matching of printed text against the form's texts (NFKC, spaces dropped, difflib ratios)."""

from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher

from pipeline.form.calibrate.scan import Line

OPTION_MIN_SIMILARITY = 0.6  # text beside a box vs the option's text (difflib ratio)
TITLE_MIN_SIMILARITY = 0.85


def norm(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text or "") if not ch.isspace())


def similarity(a: str, b: str) -> float:
    a, b = norm(a), norm(b)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def starts_like(line: Line, text: str, threshold: float = TITLE_MIN_SIMILARITY) -> bool:
    """The line's text begins with `text` (brackets stripped, fuzzy)."""
    target = norm(text).strip("()【】[]")
    head = line.norm.lstrip("(【[")[: len(target)]
    return bool(target) and SequenceMatcher(None, head, target, autojunk=False).ratio() >= threshold
