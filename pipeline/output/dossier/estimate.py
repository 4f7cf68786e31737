"""A guess of the review section's page count, so that one LibreOffice pass usually suffices.

The page references to the attachments need the review section's page count before it is laid
out. Millimetres; calibrated against LibreOffice 7.4 with the committed templates
(bench/bench_render.py prints estimate vs actual).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from pipeline.output.dossier.crops import shown_mm

_BODY_MM = 297 - 15 - 20  # A4 minus the template's top and bottom margins
_PT_MM = 0.3528
_LINE = 2.85  # an 8 pt table line, IPAex fonts, single spacing
_LATIN_EM = 0.5  # IPAex's proportional Latin letters: 「署名：あり（answer_sheet.pdf p.10）」 fits 51 mm at 8 pt
_LINE_SMALL = 2.62  # a 7.5 pt line (item titles, flags): 7.4 pt apart in the PDF
_ROW_PAD = 0.9  # cell margins top and bottom plus the rule
_HEAD_ROW = 3.6  # a table's header row
_H2_GAP = 9.5  # from the end of a table to the next table under a Heading 2


def _width_em(ch: str) -> float:
    return 1.0 if ord(ch) > 0x2E7F else _LATIN_EM


# Where a line may break: after a space, after a hyphen before a letter, and around every
# full-width character (as LibreOffice breaks Japanese) but never before 、。）, a small kana or ー,
# nor after （; a run of Latin letters, digits and
# punctuation (a URL) moves to the next line whole, and is cut by the character only when it
# is wider than the column.
_BREAK = re.compile(
    r"[^\s\-\u2e80-\uffff]*(?:-(?=[A-Za-z])|\s+)?|[（「『【〔]?[\u2e80-\uffff][、。，．）」』】〕ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー]*|-"
)


def _text_lines(text: Any, width_mm: float, pt: float) -> int:
    """Lines a text needs in a column, wrapped word by word (full-width characters 1 em, others `_LATIN_EM`)."""
    em = pt * _PT_MM
    room = max(width_mm / em, 1.0)  # ems on a line
    lines = 0
    for para in str(text or "").split("\n"):
        count, used = 1, 0.0
        for token in (t for t in _BREAK.findall(para) if t):
            w = sum(_width_em(c) for c in token.rstrip())
            if used and used + w > room + 0.05:  # the token goes to the next line
                count, used = count + 1, 0.0
            while w > room + 0.05:  # wider than the column: cut by the character
                count, w = count + 1, w - room
            used += w + (len(token) - len(token.rstrip())) * _LATIN_EM
        lines += count
    return lines


def _image_lines_mm(crops: Sequence[Any], width_mm: float) -> float:
    """Height of inline images flowed into lines of a column (greedy, like the word processor)."""
    height = line_w = line_h = 0.0
    for crop in crops:
        w, h = shown_mm(crop)
        if line_w and line_w + w > width_mm:
            height, line_w, line_h = height + line_h, 0.0, 0.0
        line_w, line_h = line_w + w + 1.2, max(line_h, h)
    return height + line_h


def _pack(rows: Sequence[float], start_mm: float, header_mm: float) -> tuple[int, float]:
    """Pages used and the height used on the last page, for unsplittable table rows."""
    pages, used = 1, start_mm + header_mm
    for h in rows:
        if used + h > _BODY_MM and used > header_mm + 0.1:
            pages, used = pages + 1, header_mm
        used += h
    return pages, used


def estimate_review_pages(ctx: dict[str, Any]) -> int:
    """Estimated page count of the review section (cover, needs-your-eyes, items, index)."""
    return sum(estimate_sections(ctx))


def estimate_sections(ctx: dict[str, Any]) -> tuple[int, int, int]:
    """Estimated pages of the cover, of 要確認事項, and of the item table with the index after it."""
    cover_pages = math.ceil(_cover_mm(ctx) / _BODY_MM)
    rows = []
    for e in ctx["attention"]:
        todo = 2 + _text_lines(e.get("todo"), 59, 8) if e.get("todo") else 0
        lines = max(
            _text_lines(e["message"], 59, 8) + todo,
            _text_lines(e["where"], 27, 8),
            _text_lines(e["kind"], 16, 8),
            _text_lines(e["item"], 12, 8),
        )
        rows.append(max(lines * _LINE, shown_mm(e["image"])[1]) + _ROW_PAD)
    for c in ctx.get("corrections") or []:
        lines = max(_text_lines(c["before"], 23, 8), _text_lines(c["after"] + c["reason"], 23, 8) + 1, _text_lines(c["who"], 24, 8))
        rows.append(max(lines * _LINE, shown_mm(c["image"])[1]) + _ROW_PAD)
    if ctx.get("corrections"):
        rows.append(14.0 + _HEAD_ROW)  # its heading, note and header row
    # With nothing to list, the item table follows on the same page (no page break).
    eyes_pages = _pack(rows, 23.0, _HEAD_ROW)[0] if rows else 0
    items_start = 22.6 if rows else 23.0 + 14.0 + 22.6

    rows = []
    for it in ctx["items"]:
        if it["section_header"]:
            rows.append(4.0)
        rows.append(item_row_mm(it))
    item_pages, used = _pack(rows, items_start, _HEAD_ROW)
    index = [3.6 * max(_text_lines(x["source"], 59, 8), _text_lines(x["labels"], 21, 8)) for x in ctx["attachments"]]
    extra_pages, _ = _pack([*index, 8.0], used + 25.5, _HEAD_ROW)
    return cover_pages, eyes_pages, item_pages + extra_pages - 1


def item_row_mm(it: dict[str, Any]) -> float:
    """Height of one item-table row: its tallest cell (the template's column widths less the cell margins)."""
    ev = sum(_text_lines(f"{e['label']}：{e['text']}", 51, 8) for e in it["evidence"])
    ev_h = max(1, ev) * _LINE + _image_lines_mm(it["images"], 51)
    flags_h = sum(_text_lines(f["text"], 27, 7.5) for f in it["flags"]) * _LINE_SMALL
    title_h = _text_lines(it["title"], 37.5, 7.5) * _LINE_SMALL
    # the answer, then the choice's paragraph, which the cell keeps (one small line) even when empty
    answer_h = _text_lines(it["answer"], 11, 8) * _LINE + max(1, _text_lines(it["choice"], 11, 7.5)) * _LINE_SMALL
    return max(ev_h, flags_h, title_h, answer_h) + _ROW_PAD


def _cover_mm(ctx: dict[str, Any]) -> float:
    cover = 40.0 + 41.0 + 3.6 * max(1, len(ctx["reasons"])) + 3.6 * sum(_text_lines(o, 140, 8.5) for o in ctx.get("outlook") or [])
    cover += _H2_GAP + _HEAD_ROW + 9.5 * len(ctx.get("signoff") or [])
    cover += _H2_GAP + _HEAD_ROW + sum(max(3.6, shown_mm(a["image"])[1] + 1.0) for a in ctx["applicant"])
    cover += _H2_GAP + _HEAD_ROW + sum(3.6 * _text_lines(d["note"], 57, 8) for d in ctx["declarations"])
    cover += _H2_GAP + _HEAD_ROW + 3.6 * max(1, len(ctx["flag_counts"]))
    cover += _H2_GAP + _HEAD_ROW + sum(3.6 * _text_lines(s["status"], 53, 8) for s in ctx["sources"])
    return cover
