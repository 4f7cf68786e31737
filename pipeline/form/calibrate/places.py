"""Where writing goes on the blank: a label's writing span, 年 月 日 groups, 印 spots, fields kept clear of text.

Measured by the conventions the printing shares (printing/style.py): a field spans from a
label's end (or its underline) and from FIELD_ABOVE × size above the baseline to FIELD_BELOW ×
size below it; a seal spot is the 印's centre ± SEAL_HALF_PT.
"""

from __future__ import annotations

from pipeline.form.calibrate.match import norm
from pipeline.form.calibrate.scan import Glyph, Line, PageScan
from pipeline.form.printing.style import FIELD_ABOVE, FIELD_BELOW, FIELD_GAP_PT, SEAL_HALF_PT
from pipeline.model.records import BBox

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
            if rest and rest[0].x0 - last.x1 < 1.5 * last.size:
                continue  # the label is the start of a sentence, not a blank
            x0, x1 = self.writing_span(line, last, rest)
            return line, x0, x1
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


def date_groups(line: Line) -> list[BBox]:
    """「　年　月　日」 groups with room between the characters."""
    out: list[BBox] = []
    gl = [g for g in line.glyphs if g.text.strip()]
    for i in range(len(gl) - 2):
        y, mo, d = gl[i], gl[i + 1], gl[i + 2]
        if (y.text, mo.text, d.text) != ("年", "月", "日"):
            continue
        gap = mo.x0 - y.x1
        if gap < 0.8 * y.size or d.x0 - mo.x1 < 0.8 * y.size:
            continue
        out.append((y.x0 - gap, line.base - FIELD_ABOVE * y.size, d.x1, line.base + FIELD_BELOW * y.size))
    return out


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
