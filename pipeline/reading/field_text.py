"""A written field's value as text: its normalisation, its pattern, and the second reader's check of a `read` line.

The second reader: Tesseract reads some handwriting confidently and wrongly, in a shape that
still fits the field's pattern (A-11-5349 for A-11-5340, 03-1911-2650 for 03-1011-2650); a
second reader trained on other data (PP-OCRv6) rarely makes the same mistake on the same line.
Every line that would be `read` is read again, and the two readings are compared after the
field's own normalisation (NFKC, white space; for a date only its digits, since the date
reader joins in the printed 年 月 日, which the second reader does not see). When they differ
the field becomes `uncertain`, with a note naming both readings, and keeps as its value the
reading that fits the field's pattern (None when neither does). The second reader's line keeps
the strokes that cross a printed line (crossing), so that a descender the first reader's line
lost is seen by one of the two.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from pipeline.model.records import FieldLayout, FieldReading

if TYPE_CHECKING:
    from pipeline.tools.ppocr import LineRead, PPOcrRecognizer

_CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]"
_SPACE_IN_CJK = re.compile(rf"(?<={_CJK})\s+|\s+(?={_CJK})")
DISAGREE_NOTE = "二つの読み取りが一致しません：{}／{}"
NOTHING = "（読めず）"  # how an empty second reading is shown in the note


def tidy_line(text: str) -> str:
    """NFKC, one line, no spaces between Japanese characters."""
    t = unicodedata.normalize("NFKC", text).replace("\n", " ").strip()
    t = _SPACE_IN_CJK.sub("", t)
    return re.sub(r"\s+", " ", t)


def pattern_text(value: str) -> str:
    """A value as its pattern sees it: NFKC (全角 digits, dashes and letters made plain), white space collapsed to one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def fits(value: str, fld: FieldLayout) -> bool:
    """Whether `value` has the shape of the field's pattern (False for a field without one)."""
    return fld.pattern is not None and bool(value) and re.fullmatch(fld.pattern.regex, pattern_text(value)) is not None


# Characters no Japanese word or value begins with: small kana, the long-vowel mark, the comma and
# full stop. A value read starting with one holds a speck or a label's colon read as text (seed
# 87700-06, hand_scan: contact.dept_title read 「ュネットワーク運用課主任」, both readers alike).
CANNOT_START = frozenset("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー、。")


def fit_pattern(reading: FieldReading, fld: FieldLayout) -> FieldReading:
    """A `read` value that does not fit its field's pattern (items.yaml field_patterns), or that begins with a character no value begins with, becomes `uncertain`, with a note.

    Other readings are returned as they are. The caller keeps the field's crop for an uncertain
    reading.
    """
    if reading.status != "read" or reading.value is None:
        return reading
    if pattern_text(reading.value)[:1] in CANNOT_START:
        return replace(reading, status="uncertain", note=f"語の頭に来ない文字で始まっています（読み取り: {reading.value}）")
    if fld.pattern is None or fits(reading.value, fld):
        return reading
    return replace(reading, status="uncertain", note=f"{fld.pattern.label}の形に合いません（読み取り: {reading.value}）")


def crossing(norm: NDArray[np.float32], printed: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The pixels of `printed` (a printed line or glyph to whiten) that belong to a written stroke crossing it.

    A typed value sits on its field's underline, which runs through its descenders (j, p, g, y):
    whitening the whole underline (the blank's, grown to 6-7 px by registration) cut them off,
    and both readers read example.jp as example.ip (seeds 85000, 85100, 85500, word_scan). A
    pixel is kept when it is dark, its column's run of dark pixels is longer than the printed
    line is thick (their median run + 2 px) and that run reaches dark pixels off the printed
    mark (a printed glyph's own strokes stay inside it). `norm` is 0 (ink) .. 1 (paper).
    """
    dark = norm < 0.55
    h = dark.shape[0]
    up, down = np.zeros(dark.shape, np.int32), np.zeros(dark.shape, np.int32)
    out_up, out_down = np.zeros(dark.shape, bool), np.zeros(dark.shape, bool)  # the run reaches ink off the printed mark
    up[0], down[h - 1] = dark[0], dark[h - 1]
    for y in range(1, h):
        up[y] = (up[y - 1] + 1) * dark[y]
        out_up[y] = dark[y] & (out_up[y - 1] | (dark[y - 1] & ~printed[y - 1]))
        z = h - 1 - y
        down[z] = (down[z + 1] + 1) * dark[z]
        out_down[z] = dark[z] & (out_down[z + 1] | (dark[z + 1] & ~printed[z + 1]))
    on_print = printed & dark
    if not on_print.any():
        return on_print
    run = up + down - 1
    thick = int(np.median(run[on_print]))
    return on_print & (run > thick + 2) & (out_up | out_down)


@dataclass(frozen=True, slots=True)
class Pending:
    """A field that would be `read`, with the prepared line (grey, ink dark) its first reader read."""

    fld: FieldLayout
    reading: FieldReading
    line: NDArray[np.uint8]


# What a date's first reading may hold besides its written digits: the printed era and 年 月 日
# the date reader joins in (the second reader sees them whitened).
_DATE_PRINT = re.compile(r"[\s年月日令和平成昭元]")


# The one tolerance of Japanese text: a small kana and its full size agree (PP-OCR read
# さくらィンターネット where Tesseract read the typed イ right). Measured on the scanned lines of
# seeds 85000, 85100 and 85500 (226 Japanese lines with known truth, 39 read differently by the
# two readers, Tesseract wrong on 34): it lets through 1, Tesseract's right one. One edit of
# tolerance would have let through 31 of the 34 (ロ/カ, と/ど, チ/子, 財/署, a character more or
# less), and a tolerance for characters PP-OCR is unsure of (< 0.75) 2 (!/1 0.60, ペ/ベ), so
# there is neither.
_SMALL_KANA = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ", "あいうえおつやゆよわかけアイウエオツヤユヨワカケ")


def agreement_key(text: str, fld: FieldLayout) -> str:
    """What two readings of `fld` must share to agree: NFKC text without white space; in Japanese text a small kana as its full size.

    For a date, its groups of digits in order ("7 3 18" for 令和7年3月18日): the second reader
    sees the written digits alone, the printed 年 月 日 whitened, so a space stands where they
    were. Anything else read (a ?, a stroke read as a letter) is kept in the key, so that it
    cannot agree with a date of digits alone.
    """
    t = pattern_text(tidy_line(text))
    if fld.kind == "date":
        other = _DATE_PRINT.sub("", re.sub(r"\d", "", t))
        return " ".join(re.findall(r"\d+", t)) + (f" [{other}]" if other else "")
    key = "".join(t.split())
    return key if fld.script == "latin" or fld.kind == "url" else key.translate(_SMALL_KANA)


def choose_value(first: str, second: str, fld: FieldLayout) -> str | None:
    """The value kept for a field whose two readings differ: the one that fits its pattern (the second's when both do).

    None when the field has a pattern and neither fits. Without a pattern, the second
    reading (the first when the second is empty): where the two differed on a field without a
    pattern, the second was right 35 times and the first 11 (of 51 with known truth; scanned
    independent fillings, seeds 85000, 85100, 85500, 85700). The field is uncertain either way.
    """
    if fld.pattern is None:
        return second or first or None
    if fits(second, fld):
        return second
    return first if fits(first, fld) else None


def merged_groups(first: str, second: str) -> bool:
    """Whether a date key `second` is `first`'s groups of digits with neighbours run together ("2008824" for "2008 8 24").

    PP-OCR leaves out the space where a printed 年 or 月 was whitened when the digits stand
    close to it (seed 85700: 2 of the 11 dates read, and one whose truth the set lacks). The first reader's groups come from where
    the printed 年 月 日 are, not from reading, so a second reading that only joins them is the
    same date; one that splits them otherwise ("11 1 1" for "1 11 1") is not.
    """
    if "[" in first or "[" in second:
        return False
    mine, theirs, i = first.split(), second.split(), 0
    for group in theirs:
        joined = ""
        while i < len(mine) and len(joined) < len(group):
            joined, i = joined + mine[i], i + 1
        if joined != group:
            return False
    return bool(theirs) and i == len(mine)


def cross_check(reading: FieldReading, second: LineRead, fld: FieldLayout) -> FieldReading:
    """A `read` reading checked against the second reader's line: kept when they agree, else uncertain with a note."""
    first, other = reading.value or "", tidy_line(second.text)
    mine, theirs = agreement_key(first, fld), agreement_key(other, fld)
    if mine == theirs or (fld.kind == "date" and merged_groups(mine, theirs)):
        return reading
    return replace(reading, status="uncertain", value=choose_value(first, other, fld), note=DISAGREE_NOTE.format(first, other or NOTHING))


def second_read(pending: list[Pending], reader: PPOcrRecognizer) -> list[FieldReading]:
    """Every pending field's reading checked by `reader`, its lines read in one batch; in `pending`'s order."""
    if not pending:
        return []
    reads = reader.read_many([p.line for p in pending])
    return [cross_check(p.reading, r, p.fld) for p, r in zip(pending, reads)]


__all__ = [
    "DISAGREE_NOTE",
    "Pending",
    "agreement_key",
    "choose_value",
    "cross_check",
    "crossing",
    "fit_pattern",
    "fits",
    "merged_groups",
    "pattern_text",
    "second_read",
    "tidy_line",
]
