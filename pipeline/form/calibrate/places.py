"""Where writing goes on the blank: a label's writing span, 年 月 日 groups, 印 spots, fields kept clear of text.

Measured by the conventions the printing shares (printing/style.py): a field spans from a
label's end (or its underline) and from FIELD_ABOVE × size above the baseline to FIELD_BELOW ×
size below it; a seal spot is the 印's centre ± SEAL_HALF_PT.
"""

from __future__ import annotations

from itertools import takewhile

from pipeline.form.calibrate.match import norm
from pipeline.form.calibrate.scan import Glyph, Line, PageScan
from pipeline.form.printing.style import FIELD_ABOVE, FIELD_BELOW, FIELD_GAP_PT, SEAL_HALF_PT
from pipeline.model.records import BBox

BLANK_BAND_EM = 2.5  # an empty band this many line sizes tall under a sentence is space to write in
LineKey = tuple[int, float]  # (page, baseline): reading order across pages
END: LineKey = (10**6, 0.0)  # after the last page


class Blank:
    """The scanned pages of a blank, in reading order, with the searches the finders share."""

    def __init__(self, scans: list[PageScan]) -> None:
        self.scans = scans
        self.lines = [line for s in scans for line in s.lines]
        self.marks = sorted((m for s in scans for m in s.marks), key=lambda m: (m.key(), m.bbox[0]))
        self.right_edge = max((g.x1 for line in self.lines for g in line.glyphs), default=0.0)

    def lines_in(self, start: LineKey, end: LineKey) -> list[Line]:
        """Lines from `start` (inclusive) to `end` (exclusive), in reading order."""
        return [line for line in self.lines if start <= line.key() and line.key() < end]

    def label_field(self, lines: list[Line], label: str, after: LineKey | None = None) -> tuple[Line, float, float] | None:
        """The first line that is `label` (then a colon, a prefix like 〒, and room to write).

        Returns the line, the x where writing starts and where it ends.
        """
        target = norm(label).rstrip(":")
        for line in lines:
            if after is not None and line.key() <= after:
                continue
            if not line.norm.startswith(target):
                continue
            i = len(target)
            while i < len(line.norm) and line.norm[i] in ":〒":
                i += 1
            last = line.glyphs[line.index[i - 1]]
            rest = [g for g in line.glyphs[line.index[i - 1] + 1 :] if g.text.strip()]
            run = list(takewhile(lambda g: g.text in _UNDERSCORES, rest))
            if run:  # 「氏名＿＿＿＿」: the typed underline is the writing span
                return line, run[0].x0, run[-1].x1
            if rest and rest[0].x0 - last.x1 < 1.5 * last.size:
                continue  # the label is the start of a sentence, not a blank
            x0, x1 = self.writing_span(line, last, rest)
            return line, x0, x1
        return None

    def space_below(self, lines: list[Line], label: str) -> tuple[int, BBox] | None:
        """The answer space under the sentence that holds `label` (「書面による申込方法は以下のとおりです。」).

        The sentence may start anywhere on its line and run on over a few lines (an example in
        brackets); the space is the underlines drawn below it, else the empty band down to the
        next printed line of the page (at least BLANK_BAND_EM lines of its size). When the sentence
        ends its page with no room below, the space is at the top of the next page, from where
        the pages' text starts down to that page's first line. Returns the page and the space.
        """
        target = norm(label)
        for i, line in enumerate(lines):
            if target not in line.norm:
                continue
            last = line
            for nxt in lines[i + 1 : i + 4]:  # the sentence running on
                if nxt.page != last.page or nxt.base - last.base > 1.9 * last.size:
                    break
                last = nxt
            scan = self.scans[last.page - 1]
            below = [ln for ln in scan.lines if ln.base > last.base + 0.5]
            text_bottom = max(g.bottom for ln in self.lines for g in ln.glyphs)
            next_top = min((min(g.top for g in ln.glyphs) for ln in below), default=text_bottom + last.size)
            left, right = min(ln.x0 for ln in lines[i : lines.index(last) + 1]), self.right_edge
            rules = [r for r in scan.rules if last.base + 1.0 < (r[1] + r[3]) / 2 < next_top and r[2] - r[0] > 40]
            if rules:
                top = min(last.base + 2.0, min(r[1] for r in rules) - 1.2 * last.size)
                return last.page, (min(r[0] for r in rules), max(top, last.base + 1.0), max(r[2] for r in rules), max(r[3] for r in rules) + 2.0)
            if next_top - last.base >= BLANK_BAND_EM * last.size:
                return last.page, (left, last.base + 2.0, right, next_top - 1.0)
            if not below and last.page < len(self.scans) and self.scans[last.page].lines:
                text_top = min(min(g.top for g in s.lines[0].glyphs) for s in self.scans if s.lines)
                first = self.scans[last.page].lines[0]
                first_top = min(g.top for g in first.glyphs)
                if first_top - text_top >= BLANK_BAND_EM * last.size:
                    return last.page + 1, (left, text_top, right, first_top - 1.0)
        return None

    def writing_span(self, line: Line, last: Glyph, rest: list[Glyph]) -> tuple[float, float]:
        """From the label's end: the underline's extent, else up to the next text or the margin."""
        scan = self.scans[line.page - 1]
        limit = rest[0].x0 if rest else 1e9
        segs = sorted(
            r
            for r in scan.rules
            if line.base - 1.0 <= (r[1] + r[3]) / 2 <= line.base + 6.0 and last.x1 - 1.0 <= r[0] < min(limit, last.x1 + 260)
        )
        if segs:
            x0, x1 = segs[0][0], segs[0][2]
            for r in segs[1:]:
                if r[0] <= x1 + 2.0:
                    x1 = max(x1, r[2])
            return x0, x1
        end = (rest[0].x0 - FIELD_GAP_PT) if rest else self.right_edge
        return last.x1 + FIELD_GAP_PT, end

    def clear_of_text(self, page: int, bbox: BBox) -> BBox:
        """Shrink a field vertically so that no printed text above or below falls inside it.

        A Word-made form sets its lines closer than our printing does: a seal spot or a
        signature area of the conventional height would take in the sentence above, and
        printed text inside a field reads as the applicant's ink.
        """
        x0, top, x1, bottom = bbox
        cy = (top + bottom) / 2
        for line in self.scans[page - 1].lines:
            for g in line.glyphs:
                if g.x1 <= x0 + 1 or g.x0 >= x1 - 1 or g.top <= cy <= g.bottom:
                    continue
                if g.bottom <= cy:
                    top = max(top, g.bottom + 0.5)
                else:
                    bottom = min(bottom, g.top - 0.5)
        for r in self.scans[page - 1].rules:  # another blank's underline above this one
            ry = (r[1] + r[3]) / 2
            if r[2] > x0 + 1 and r[0] < x1 - 1 and ry < cy:
                top = max(top, ry + 0.5)
        if bottom - top < 8.0:
            top, bottom = cy - 4.0, cy + 4.0
        return (x0, top, x1, bottom)


def field_box(line: Line, x0: float, x1: float, size: float) -> BBox:
    """The writing area from x0 to x1 on `line`, for handwriting of a label of `size` points."""
    return (x0, line.base - FIELD_ABOVE * size, x1, line.base + FIELD_BELOW * size)


_UNDERSCORES = "_＿"
DATE_GAP_EM = 0.3  # 年 月 日 this far apart (in the glyph's size) leave room to write; 「年月日」 in a label has none


def date_groups(line: Line, after_x: float = 0.0) -> list[BBox]:
    """「　年　月　日」 groups (令和 or not) with room between the characters, starting right of `after_x`.

    The year's room is as wide as the gap between 年 and 月 (at least two characters), never
    reaching back over the text before it.
    """
    out: list[BBox] = []
    gl = [g for g in line.glyphs if g.text.strip()]
    for i in range(len(gl) - 2):
        y, mo, d = gl[i], gl[i + 1], gl[i + 2]
        if (y.text, mo.text, d.text) != ("年", "月", "日") or y.x0 < after_x:
            continue
        gap = mo.x0 - y.x1
        if gap < DATE_GAP_EM * y.size or d.x0 - mo.x1 < DATE_GAP_EM * y.size:
            continue
        before = gl[i - 1].x1 if i > 0 else -1e9
        x0 = max(y.x0 - max(gap, 2.0 * y.size), before, after_x)
        out.append((x0, line.base - FIELD_ABOVE * y.size, d.x1, line.base + FIELD_BELOW * y.size))
    return out


def labelled_date(lines: list[Line], label: str) -> tuple[Line, BBox] | None:
    """The 年 月 日 group that follows `label`: on its line, or on one of the next two when the label stands alone or wraps.

    The label is found anywhere on a line (a number or a frame's text may come first), or split
    across two lines as Word wraps a long label.
    """
    target = norm(label)
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if target in line.norm:
            end = line.glyphs[line.index[line.norm.index(target) + len(target) - 1]].x1
        elif nxt is not None and 0 <= (pos := (line.norm + nxt.norm).find(target)) < len(line.norm) < pos + len(target):
            cut = pos + len(target) - len(line.norm)  # characters of the label on the next line
            line, end = nxt, nxt.glyphs[nxt.index[cut - 1]].x1
        else:
            continue
        groups = date_groups(line, end)
        if groups:
            return line, groups[0]
        j = lines.index(line)
        for below in lines[j + 1 : j + 3]:
            if below.page == line.page and date_groups(below):
                return below, date_groups(below)[0]
    return None


def seal_glyphs(lines: list[Line]) -> list[tuple[Line, Glyph]]:
    """Standalone 印 (not the 印 of 押印): the seal spots."""
    out = []
    for line in lines:
        gl = [g for g in line.glyphs if g.text.strip()]
        for i, g in enumerate(gl):
            if g.text != "印":
                continue
            prev_close = i > 0 and g.x0 - gl[i - 1].x1 < 0.5 * g.size
            next_close = i + 1 < len(gl) and gl[i + 1].x0 - g.x1 < 0.5 * g.size
            if not prev_close and not next_close:
                out.append((line, g))
    return out


def seal_box(g: Glyph) -> BBox:
    """The seal spot around a standalone 印."""
    cx, cy = (g.x0 + g.x1) / 2, (g.top + g.bottom) / 2
    return (cx - SEAL_HALF_PT, cy - SEAL_HALF_PT, cx + SEAL_HALF_PT, cy + SEAL_HALF_PT)
