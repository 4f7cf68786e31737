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

CELL_PAD_PT = 1.5  # a framed cell's field reaches this far over its top and bottom borders
MIN_ROOM_EM = 3.0  # a seal spot leaving a field fewer characters than this is not the field's end
BLANK_BAND_EM = 2.2  # an empty band this many line sizes tall under a sentence is space to write in (two empty lines of Word's 1.1 spacing: 2.4; seed 87500)
LineKey = tuple[int, float]  # (page, baseline): reading order across pages
END: LineKey = (10**6, 0.0)  # after the last page


class Blank:
    """The scanned pages of a blank, in reading order, with the searches the finders share."""

    def __init__(self, scans: list[PageScan]) -> None:
        self.scans = scans
        self.lines = [line for s in scans for line in s.lines]
        self.marks = sorted((m for s in scans for m in s.marks), key=lambda m: (m.key(), m.bbox[0]))
        self.right_edge = max((g.x1 for line in self.lines for g in line.glyphs), default=0.0)
        self.left_edge = min((line.x0 for line in self.lines), default=0.0)
        ends = sorted(line.glyphs[-1].x1 for line in self.lines)
        # the text's right margin: where several lines end (one line overrunning it is not the margin)
        self.right_margin = next(
            (v for i, v in enumerate(reversed(ends)) if sum(1 for e in ends[-i - 4 :] if v - 3.0 <= e <= v) >= 3), self.right_edge
        )

    def lines_in(self, start: LineKey, end: LineKey) -> list[Line]:
        """Lines from `start` (inclusive) to `end` (exclusive), in reading order."""
        return [line for line in self.lines if start <= line.key() and line.key() < end]

    def label_field(self, lines: list[Line], label: str, after: LineKey | None = None) -> tuple[Line, BBox, bool] | None:
        """The first line that is `label` (then a colon, a prefix like 〒, and room to write), and where its value goes.

        The label may wrap onto the next line (a long label in a narrow cell). Returns the line
        the value is written on, the writing area (field_box of writing_span, or the framed
        cell to the label's right) and whether it is a framed cell (then its edges are the
        cell's borders, not to be shrunk). A label whose own cell has room after it
        (MIN_ROOM_EM characters) gets that room too: a hand filling writes right after
        「会社名：」 as often as in the next cell (seed 86700-00: 33 values written there read
        empty, silently); the border between is print, which the readers leave out.
        """
        target = norm(label).rstrip(":")
        for i, line in enumerate(lines):
            if after is not None and line.key() <= after:
                continue
            if not line.norm.startswith(target):
                nxt = continuation(lines, i)
                if nxt is None or len(line.norm) >= len(target) or not (line.norm + nxt.norm).startswith(target):
                    continue
                target_on_line = target[len(line.norm) :]
                line = nxt
            else:
                target_on_line = target
            i_end = len(target_on_line)
            while i_end < len(line.norm) and line.norm[i_end] in ":〒":
                i_end += 1
            last = line.glyphs[line.index[i_end - 1]]
            rest = [g for g in line.glyphs[line.index[i_end - 1] + 1 :] if g.text.strip()]
            cell = self.cell_after(line, last.x1)
            if cell is not None and not rest:
                room = self.cell_room(line.page, cell)
                own_room = cell[0] - last.x1 >= MIN_ROOM_EM * last.size
                if own_room and room[0] == cell[0]:  # room after the label in its own cell, and no 〒 to write after: people write there too
                    room = (last.x1 + FIELD_GAP_PT, room[1], room[2], room[3])
                return line, room, True
            run = list(takewhile(lambda g: g.text in _UNDERSCORES, rest))
            if run:  # 「氏名＿＿＿＿」: typed over the underscores, or right after the label
                return line, field_box(line, last.x1, run[-1].x1, last.size), False
            if rest and rest[0].x0 - last.x1 < 1.5 * last.size:
                continue  # the label is the start of a sentence, not a blank
            x0, x1 = self.writing_span(line, last, rest)
            return line, field_box(line, x0, x1, last.size), False
        return None

    def cell_after(self, line: Line, x: float) -> BBox | None:
        """The framed cell right of `x` on `line` (a table's next column), or None when the line is not in a table.

        The cell runs between the first two cell borders right of `x` that cross the line, and
        between the row borders above and below the line.
        """
        scan = self.scans[line.page - 1]
        cy = line.base - 0.35 * line.size  # the middle of the line's characters
        xs = sorted(c[0] for c in scan.columns if c[1] <= cy <= c[3] and c[0] >= x - 0.5)
        if len(xs) < 2:
            return None
        left = xs[0]
        right = next((v for v in xs[1:] if v > left + 2 * line.size), None)
        if right is None:
            return None
        above = [r[1] for r in scan.rules if r[1] <= cy and r[0] <= left + 1.0 and r[2] >= right - 1.0]
        below = [r[1] for r in scan.rules if r[1] >= cy and r[0] <= left + 1.0 and r[2] >= right - 1.0]
        if not above or not below:
            return None
        # typed characters' boxes (the font's ascent) reach a little over a tight cell's border
        return (left, max(above) - CELL_PAD_PT, right, min(below) + CELL_PAD_PT)

    def cell_room(self, page: int, cell: BBox) -> BBox:
        """A framed cell's writing area: the cell, after a printed prefix (〒) at its start and before a 印 at its end.

        A 印 at the cell's start (「　印」 alone in a name's cell, MIN_ROOM_EM characters or less
        before it) leaves the whole cell: the name is typed before it, pushing it right, or
        written beside it (bench_calibrate seeds 87837, 87839, 87846, 87848: the field was the
        1.5 characters before the 印, and a name written beside it would have read empty).
        """
        x0, top, x1, bottom = cell
        inside = sorted(
            (
                g
                for ln in self.scans[page - 1].lines
                for g in ln.glyphs
                if x0 <= g.x0 and g.x1 <= x1 and top <= g.top and g.bottom <= bottom
            ),
            key=lambda g: g.x0,
        )
        if inside and inside[0].text == "〒":
            x0 = inside[0].x1
        if inside and inside[-1].text == "印" and inside[-1].x0 - x0 >= MIN_ROOM_EM * inside[-1].size:
            x1 = inside[-1].x0
        return (x0, top, x1, bottom)

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
                # typed on the first line: its characters' boxes start right under the sentence's baseline
                return last.page, (min(left, min(r[0] for r in rules)), last.base, max(r[2] for r in rules), max(r[3] for r in rules) + 2.0)
            if next_top - last.base >= BLANK_BAND_EM * last.size:
                return last.page, (left, last.base, right, next_top - 1.0)
            if not below and last.page < len(self.scans) and self.scans[last.page].lines:
                text_top = min(min(g.top for g in s.lines[0].glyphs) for s in self.scans if s.lines)
                first = self.scans[last.page].lines[0]
                first_top = min(g.top for g in first.glyphs)
                if first_top - text_top >= BLANK_BAND_EM * last.size:
                    return last.page + 1, (left, text_top, right, first_top - 1.0)
        return None

    def writing_span(self, line: Line, last: Glyph, rest: list[Glyph]) -> tuple[float, float]:
        """From the label's end: where the value is typed or written on the line.

        With an underline: from the label's end (Word types right after the label, before the
        underline's start) to the underline's end, or to the margin when nothing follows it on
        the line (typing on lengthens the underline). Without one: from the label's end up to
        the next text, or the margin.
        """
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
            if not any(g.x0 >= x1 - 1.0 for g in rest):
                x1 = max(x1, self.open_until(line, x1, last.size, start=min(x0, last.x1)))
            return min(x0, last.x1), x1
        end = (rest[0].x0 - FIELD_GAP_PT) if rest else self.open_until(line, last.x1, last.size)
        return last.x1, end

    def open_until(self, line: Line, x: float, size: float, start: float | None = None) -> float:
        """How far right of `x` the line is free of print and seal spots: the margin, or before them.

        Only print on the line itself stops it (a glyph whose middle lies within the line's own
        characters): a Word-made form sets its lines so close that the next line's text reaches
        into the handwriting band above it, and that must not close a line that is empty. Nor
        does the seal spot of a 印 on another line: a Word printing's lines are closer than a
        spot is tall, and the line above or below a 「氏名　印」 or a 「署名押印　印」 is typed
        on under the spot all the same (TEL, an activity; 20 values of bench_calibrate seeds
        87800-87819 ran past such an end; seed 87826's 印 in a framed 署名押印 row, its own cell). A
        spot on the line itself, or of a 印 set alone between two lines (our cover's, between
        会社名 and 代表者名: nothing else on its baseline), ends it before the spot, unless that
        leaves the field (from `start`, else `x`) under MIN_ROOM_EM characters.
        """
        scan = self.scans[line.page - 1]
        stops = [
            g.x0
            for ln in scan.lines
            if ln is not line
            for g in ln.glyphs
            if g.text.strip() and g.x0 >= x and line.base - size <= (g.top + g.bottom) / 2 <= line.base + 0.3 * size
        ]
        end = min([self.right_margin] + [v - FIELD_GAP_PT for v in stops])
        top, bottom = line.base - FIELD_ABOVE * size, line.base + FIELD_BELOW * size
        for ln, g in seal_glyphs(scan.lines):  # a seal spot reaches SEAL_HALF_PT around its 印
            spot = seal_box(g)
            room = spot[0] - (x if start is None else start)
            own = abs(ln.base - line.base) <= 0.5 * size
            row = "".join(o.norm for o in scan.lines if abs(o.base - ln.base) <= 0.5 * size)  # its line, across a table's cells
            alone = row == "印" and spot[3] > top + 1.0 and spot[1] < bottom - 1.0
            if (own or alone) and spot[0] >= x - 1.0 and room >= MIN_ROOM_EM * size:
                end = min(end, max(spot[0] - FIELD_GAP_PT, x))
        return end

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
DATE_TYPED_EM = 11.0  # 「令和10年12月28日」, typed right-aligned over a lone 「年 月 日」, is 11 characters wide
_ERAS = ("令和", "平成")


def date_groups(line: Line, after_x: float = 0.0, margin: float = 0.0) -> list[BBox]:
    """「　年　月　日」 groups (令和 or not) with room between the characters, starting right of `after_x`.

    The group takes in its era name (令和, 平成) and the room before its year: as wide as the
    gap between 年 and 月 (at least two characters), never reaching back over the text before
    it. A date alone on its line (the council's 「年 月 日」 at the top right) is typed over in
    Word, right-aligned, and a typed 「令和8年12月28日」 is wider than the printed group: such a
    group reaches DATE_TYPED_EM characters left of its 日 when the line is empty there (never
    past `margin`, the text's left edge).
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
        first = i
        if i >= 2 and gl[i - 2].text + gl[i - 1].text in _ERAS and gl[i - 2].x0 >= after_x:
            first = i - 2
        before = gl[first - 1].x1 if first > 0 else -1e9
        x0 = gl[first].x0 if first < i else y.x0 - max(gap, 2.0 * y.size)
        if x0 - before > 2.0 * y.size:  # empty before the group: room for a typed date
            x0 = min(x0, d.x1 - DATE_TYPED_EM * y.size)
        x0 = max(x0, before + (0.5 * y.size if first > 0 else 0.0), after_x, margin)
        out.append((x0, line.base - FIELD_ABOVE * y.size, d.x1, line.base + FIELD_BELOW * y.size))
    return out


def continuation(lines: list[Line], i: int) -> Line | None:
    """The line that continues lines[i] (a wrapped label): the next line below it on its page, starting within a character of it."""
    line = lines[i]
    for nxt in lines[i + 1 : i + 4]:
        if nxt.page != line.page or nxt.base - line.base > 2.2 * line.size:
            return None
        if nxt.base > line.base + 0.5 and abs(nxt.x0 - line.x0) <= 1.2 * line.size:
            return nxt
    return None


def labelled_date(blank: Blank, lines: list[Line], label: str) -> tuple[Line, BBox, bool] | None:
    """The date written after `label`: its 年 月 日 group on the label's line, in the framed cell beside it, or on one of the next two lines.

    The label is found anywhere on a line (a number may come first), or split across two lines
    as Word wraps a long label. On the label's line the date's place starts at the label's end
    (Word types right after the label; an underline may come before the group) and runs on to
    the open line (at most a typed date's width) when nothing follows the group: a date typed in
    front of the printed 「年　月　日」 pushes it right (bench_calibrate seed 87812). Returns the
    line, the place and whether it is a framed cell.
    """
    target = norm(label)
    for i, line in enumerate(lines):
        nxt = continuation(lines, i)
        if target in line.norm:
            end = line.glyphs[line.index[line.norm.index(target) + len(target) - 1]]
        elif nxt is not None and 0 <= (pos := (line.norm + nxt.norm).find(target)) < len(line.norm) < pos + len(target):
            cut = pos + len(target) - len(line.norm)  # characters of the label on the next line
            line, end = nxt, nxt.glyphs[nxt.index[cut - 1]]
        else:
            continue
        k = line.glyphs.index(end) + 1
        while k < len(line.glyphs) and norm(line.glyphs[k].text) in (":", "〒"):
            end, k = line.glyphs[k], k + 1
        groups = date_groups(line, end.x1, blank.left_edge)
        if groups:
            g = groups[0]
            x1 = g[2] if any(h.x0 >= g[2] for h in line.glyphs) else max(g[2], blank.open_until(line, g[2], end.size))
            x1 = min(x1, g[2] + DATE_TYPED_EM * end.size)
            return line, (min(g[0], end.x1), g[1], x1, g[3]), False
        cell = blank.cell_after(lines[i], end.x1) or blank.cell_after(line, end.x1)
        if cell is not None:
            return line, cell, True
        scan = blank.scans[line.page - 1]
        if any(line.base - 1.0 <= (r[1] + r[3]) / 2 <= line.base + 6.0 and r[0] >= end.x1 - 1.0 for r in scan.rules):
            x0, x1 = blank.writing_span(line, end, [])  # an underline after the label, its 年 月 日 wrapped to the next line
            return line, field_box(line, x0, x1, end.size), False
        j = lines.index(line)
        for below in lines[j + 1 : j + 3]:
            groups = date_groups(below, margin=blank.left_edge)
            if below.page == line.page and groups:
                return below, groups[0], False
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
