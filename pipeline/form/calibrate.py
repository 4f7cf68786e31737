"""Learn layout.yaml for any printing of the questionnaire from its blank PDF (text layer + vector graphics).

Boxes are □/☐ glyphs (their ink box, from pdfium) or small stroked squares; choice brackets are
「[ ]」「（ ）」 with nothing inside. Each mark is bound to its owner by position (the item whose id
starts the line, or the declaration title above it) and to its option by the text beside it.
Fields are found from their labels (items.yaml's blank labels, 署名（肉筆）押印, トップページ /
該当 URL, the cover and closing labels) and measured by the conventions in printing/style.py,
so that calibrating our own blank.pdf gives back the layout print-form wrote.

Nothing is written unless every option and every expected field was placed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from pipeline.form.definition import load_items_raw
from pipeline.form.printing.layoutio import dump_layout, write_atomic
from pipeline.form.printing.style import FIELD_ABOVE, FIELD_BELOW, FIELD_GAP_PT, SEAL_HALF_PT, SIGN_GAP_PT
from pipeline.model.errors import PipelineError
from pipeline.model.records import BBox, FormDef

log = logging.getLogger(__name__)

BOX_GLYPHS = "□☐"
BOX_MIN_PT, BOX_MAX_PT = 7.0, 18.0  # a drawn square of this side is a box
OPTION_MIN_SIMILARITY = 0.6  # text beside a box vs the option's text (difflib ratio)
TITLE_MIN_SIMILARITY = 0.85
_ITEM_ID = re.compile(r"^[\-・*＊]*(\d+-\d+-\d+)")
_CODE = re.compile(r"ISPMARK[-|][A-Za-z0-9_]+[-|]P\d+")


class CalibrationError(PipelineError):
    """A blank PDF could not be calibrated completely; `report` says what is missing."""

    def __init__(self, message: str, report: CalibrationReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """What calibrate found: counts, and every option or field it could not place."""

    blank_pdf: str
    out_dir: str
    pages: int
    boxes: int
    fields: int
    unplaced: tuple[str, ...]  # "3-1-7/over_100km" (option) or "1-1-3.signature" (field)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.unplaced

    def __str__(self) -> str:
        where = f" → {self.out_dir}/layout.yaml" if self.out_dir else ""
        head = f"{Path(self.blank_pdf).name}: {self.pages} pages, {self.boxes} boxes, {self.fields} fields{where}"
        lines = [head] + [f"  not placed: {u}" for u in self.unplaced] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


# --- what a page shows ------------------------------------------------------------------


@dataclass
class Glyph:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    base: float


@dataclass
class Line:
    page: int
    base: float
    glyphs: list[Glyph]
    norm: str = ""
    index: list[int] = field(default_factory=list)  # norm position → glyph index

    def __post_init__(self) -> None:
        self.glyphs.sort(key=lambda g: g.x0)
        for i, g in enumerate(self.glyphs):
            for ch in unicodedata.normalize("NFKC", g.text):
                if not ch.isspace():
                    self.norm += ch
                    self.index.append(i)

    @property
    def x0(self) -> float:
        return self.glyphs[0].x0

    @property
    def size(self) -> float:
        return self.glyphs[0].size

    def key(self) -> tuple[int, float]:
        return (self.page, self.base)

    def text_between(self, x0: float, x1: float = 1e9) -> str:
        return "".join(unicodedata.normalize("NFKC", g.text) for g in self.glyphs if g.x0 >= x0 - 0.5 and g.x1 <= x1 + 0.5).replace(" ", "")


@dataclass
class Mark:
    page: int
    bbox: BBox
    shape: str
    line: Line | None = None
    text: str = ""  # the text beside it (to its right, with continuation lines)

    def key(self) -> tuple[int, float]:
        base = self.line.base if self.line else self.bbox[3]
        return (self.page, base)


@dataclass
class PageScan:
    number: int
    width: float
    height: float
    lines: list[Line]
    marks: list[Mark]
    rules: list[BBox]  # horizontal strokes: underlines
    anchors: list[BBox]
    code: str | None


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


# --- reading the PDF --------------------------------------------------------------------


def scan_pdf(path: Path) -> list[PageScan]:
    import pdfplumber
    import pypdfium2 as pdfium

    scans: list[PageScan] = []
    doc = pdfium.PdfDocument(str(path))
    try:
        with pdfplumber.open(str(path)) as pdf:
            for n, page in enumerate(pdf.pages, start=1):
                scans.append(_scan_page(n, page, doc[n - 1]))
    finally:
        doc.close()
    return scans


def _scan_page(number: int, page: Any, pdfium_page: Any) -> PageScan:
    height = float(page.height)
    mb_top = float(page.mediabox[3])
    glyphs: list[Glyph] = []
    box_glyphs: list[Glyph] = []
    for ch in page.chars:
        if not ch.get("upright", True):
            continue
        base = mb_top - float(ch["matrix"][5])
        g = Glyph(ch["text"], float(ch["x0"]), float(ch["x1"]), float(ch["top"]), float(ch["bottom"]), float(ch["size"]), base)
        (box_glyphs if ch["text"] in BOX_GLYPHS else glyphs).append(g)
    lines = _group_lines(number, [g for g in glyphs if g.text.strip()])
    marks = [Mark(number, b, "box") for b in _glyph_boxes(pdfium_page, height, box_glyphs)]
    for r in page.rects:
        w, h = float(r["width"]), float(r["height"])
        filled_dark = r.get("fill") and _dark(r.get("non_stroking_color"))
        if r.get("stroke") and not filled_dark and BOX_MIN_PT <= w <= BOX_MAX_PT and abs(w - h) <= 1.5:
            bbox = (float(r["x0"]), float(r["top"]), float(r["x1"]), float(r["bottom"]))
            if not any(_overlap(bbox, m.bbox) > 0.5 for m in marks):
                marks.append(Mark(number, bbox, "box"))
    for line in lines:
        marks.extend(_brackets(number, line))
    rules = [
        (float(seg["x0"]), float(seg["top"]), float(seg["x1"]), float(seg["bottom"]))
        for seg in page.lines
        if abs(float(seg["top"]) - float(seg["bottom"])) < 1.0
    ]
    rules += [
        (float(r["x0"]), float(r["top"]), float(r["x1"]), float(r["bottom"]))
        for r in page.rects
        if float(r["height"]) < 2.0 and float(r["width"]) > 10 and r.get("fill")
    ]
    anchors = sorted(
        (round(float(r["x0"]), 2), round(float(r["top"]), 2), round(float(r["x1"]), 2), round(float(r["bottom"]), 2))
        for r in page.rects
        if r.get("fill")
        and _dark(r.get("non_stroking_color"))
        and 10 <= float(r["width"]) <= 22
        and abs(float(r["width"]) - float(r["height"])) < 1
        and _near_corner(float(r["x0"]), float(r["top"]), float(r["x1"]), float(r["bottom"]), float(page.width), height)
    )
    code = next((m.group(0) for line in lines for m in [_CODE.search(line.norm)] if m), None)
    _bind_marks(marks, lines)
    return PageScan(number, float(page.width), height, lines, marks, rules, list(anchors), code)


def _dark(color: Any) -> bool:
    if color is None:
        return True
    values = list(color) if isinstance(color, (list, tuple)) else [color]
    if len(values) == 4:  # CMYK
        return values[3] > 0.8 or sum(values[:3]) > 2.4
    return all(float(v) < 0.2 for v in values)


def _near_corner(x0: float, y0: float, x1: float, y1: float, w: float, h: float) -> bool:
    return (x0 < 60 or x1 > w - 60) and (y0 < 60 or y1 > h - 60)


def _overlap(a: BBox, b: BBox) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / area if area > 0 else 0.0


def _group_lines(page: int, glyphs: list[Glyph]) -> list[Line]:
    glyphs.sort(key=lambda g: (g.base, g.x0))
    groups: list[list[Glyph]] = []
    for g in glyphs:
        if groups and abs(groups[-1][-1].base - g.base) <= 0.6:
            groups[-1].append(g)
        else:
            groups.append([g])
    return [Line(page, round(sum(g.base for g in grp) / len(grp), 3), grp) for grp in groups]


def _glyph_boxes(pdfium_page: Any, height: float, glyphs: list[Glyph]) -> list[BBox]:
    """Ink boxes of the □ glyphs: pdfium's tight char boxes, matched to pdfplumber's chars."""
    if not glyphs:
        return []
    textpage = pdfium_page.get_textpage()
    tight: list[BBox] = []
    for i in range(textpage.count_chars()):
        if textpage.get_text_range(i, 1) in BOX_GLYPHS:
            left, bottom, right, top = textpage.get_charbox(i, loose=False)
            tight.append((left, height - top, right, height - bottom))
    out: list[BBox] = []
    for g in glyphs:
        best = min(
            tight, key=lambda t: abs((t[0] + t[2]) / 2 - (g.x0 + g.x1) / 2) + abs((t[1] + t[3]) / 2 - (g.top + g.bottom) / 2), default=None
        )
        if best is not None and best[0] >= g.x0 - 1 and best[2] <= g.x1 + 1:
            out.append(tuple(round(v, 2) for v in best))  # type: ignore[arg-type]
    return out


def _brackets(page: int, line: Line) -> list[Mark]:
    """「[    ]」 or 「（    ）」 with nothing inside: a place to draw ○."""
    out: list[Mark] = []
    gl = line.glyphs
    for i, g in enumerate(gl):
        pair = {"[": "]", "［": "］", "（": "）", "(": ")"}.get(g.text)
        if pair is None or i + 1 >= len(gl) or gl[i + 1].text != pair:
            continue
        close = gl[i + 1]
        inner = close.x0 - g.x1
        need = 0.8 if g.text in "[［" else 1.5
        if inner >= need * g.size:
            out.append(Mark(page, (g.x0, min(g.top, close.top), close.x1, max(g.bottom, close.bottom)), "bracket"))
    return out


def _bind_marks(marks: list[Mark], lines: list[Line]) -> None:
    """Give each mark its line and the text beside it (with the lines that continue it)."""
    for m in marks:
        cy = (m.bbox[1] + m.bbox[3]) / 2
        best = None
        for line in lines:
            centre = (line.glyphs[0].top + line.glyphs[0].bottom) / 2
            if abs(centre - cy) <= 0.8 * line.size and (best is None or abs(centre - cy) < abs(best[0] - cy)):
                best = (centre, line)
        if best is None:
            continue
        m.line = best[1]
    for m in marks:
        if m.line is None:
            continue
        following = [o.bbox[0] for o in marks if o.line is m.line and o.bbox[0] > m.bbox[2]]
        text = m.line.text_between(m.bbox[2], min(following, default=1e9))
        first = [g for g in m.line.glyphs if g.x0 >= m.bbox[2] - 0.5]
        if first:
            x_text, size, prev = first[0].x0, first[0].size, m.line
            marked = {id(o.line) for o in marks if o.line is not None}
            start = lines.index(m.line) + 1
            for nxt in lines[start : start + 5]:
                if id(nxt) in marked or abs(nxt.size - size) > 0.5 or nxt.base - prev.base > 2.2 * size:
                    break
                if not (x_text - 1.2 * size <= nxt.x0 <= x_text + 1.5 * size):
                    break
                text += nxt.norm
                prev = nxt
        m.text = text


# --- binding ----------------------------------------------------------------------------


@dataclass
class Anchor:
    owner: str
    key: tuple[int, float]
    kind: str  # item | declaration | closing | contact


class Finder:
    """Walks the scanned pages and builds the layout for one form definition."""

    def __init__(self, scans: list[PageScan], form: FormDef, raw: dict[str, Any]) -> None:
        self.scans = scans
        self.form = form
        self.raw = raw
        self.lines = [line for s in scans for line in s.lines]
        self.marks = sorted((m for s in scans for m in s.marks), key=lambda m: (m.key(), m.bbox[0]))
        self.boxes: dict[int, list[dict[str, Any]]] = {s.number: [] for s in scans}
        self.fields: dict[int, list[dict[str, Any]]] = {s.number: [] for s in scans}
        self.items: dict[int, list[str]] = {s.number: [] for s in scans}
        self.unplaced: list[str] = []
        self.notes: list[str] = []
        self.right_edge = max((g.x1 for line in self.lines for g in line.glyphs), default=0.0)
        self.cover_page: int | None = None

    # anchors: where each owner's region begins
    def anchors(self) -> list[Anchor]:
        out: list[Anchor] = []
        ids = set(self.form.item_ids)
        for m in self.marks:
            if m.line is None:
                continue
            before = m.line.text_between(0, m.bbox[0])
            found = _ITEM_ID.match(before) or (None if before else _ITEM_ID.match(m.text))  # 「1-1-1 □」 or 「□ 1-1-1」
            if found and found.group(1) in ids and not any(a.owner == found.group(1) for a in out):
                first_on_line = not any(o.line is m.line and o.bbox[0] < m.bbox[0] for o in self.marks)
                if first_on_line:
                    out.append(Anchor(found.group(1), m.key(), "item"))
        marked = {id(m.line) for m in self.marks if m.line is not None}
        for d in self.form.declarations:
            for line in self.lines:
                if id(line) not in marked and starts_like(line, d.title):
                    out.append(Anchor(d.id, line.key(), "declaration"))
                    break
        closing = str(self.raw.get("closing_text") or "")
        if closing:
            for line in self.lines:
                if starts_like(line, closing, 0.9):
                    out.append(Anchor("closing", line.key(), "closing"))
                    break
        return sorted(out, key=lambda a: a.key)

    def run(self) -> None:
        anchors = self.anchors()
        self.anchor_list = anchors
        self.bind_boxes(anchors)
        self.find_cover()
        self.find_item_fields(anchors)
        self.find_declaration_dates(anchors)
        self.find_contacts(anchors)

    def region(self, anchors: list[Anchor], owner: str) -> tuple[tuple[int, float], tuple[int, float]] | None:
        for i, a in enumerate(anchors):
            if a.owner == owner:
                end = anchors[i + 1].key if i + 1 < len(anchors) else (10**6, 0.0)
                return a.key, end
        return None

    def owner_of(self, anchors: list[Anchor], key: tuple[int, float]) -> Anchor | None:
        current = None
        for a in anchors:
            if a.key <= (key[0], key[1] + 0.01):
                current = a
        return current

    def bind_boxes(self, anchors: list[Anchor]) -> None:
        options: dict[str, dict[str, str]] = {}
        for item in self.form.items:
            options[item.id] = {o.key: o.text for o in item.options if o.key != "yes"}
        for d in self.form.declarations:
            options[d.id] = {o.key: o.text for o in d.options}
        placed: set[tuple[str, str]] = set()
        pending: dict[str, list[Mark]] = {}
        for m in self.marks:
            a = self.owner_of(anchors, m.key())
            if a is None or a.kind in ("closing", "contact"):
                self.notes.append(f"page {m.page}: {m.shape} at {_fmt(m.bbox)} belongs to no item (ignored)")
                continue
            if a.kind == "item" and a.key == m.key() and (a.owner, "yes") not in placed:
                self._place(m, a.owner, "yes")
                placed.add((a.owner, "yes"))
                self.items[m.page].append(a.owner)
                continue
            pending.setdefault(a.owner, []).append(m)
        for owner, marks in pending.items():
            scores = sorted(
                ((similarity(m.text, text), i, key) for i, m in enumerate(marks) for key, text in options.get(owner, {}).items()),
                reverse=True,
            )
            used: set[int] = set()
            for score, i, key in scores:
                if score < OPTION_MIN_SIMILARITY or i in used or (owner, key) in placed:
                    continue
                self._place(marks[i], owner, key)
                placed.add((owner, key))
                used.add(i)
            for i, m in enumerate(marks):
                if i not in used:
                    self.notes.append(f"page {m.page}: {m.shape} at {_fmt(m.bbox)} in {owner}'s region matches none of its options")
        for item in self.form.items:
            for o in item.options:
                if (item.id, o.key) not in placed:
                    self.unplaced.append(f"{item.id}/{o.key}")
        for d in self.form.declarations:
            for o in d.options:
                if (d.id, o.key) not in placed:
                    self.unplaced.append(f"{d.id}/{o.key}")

    def _place(self, m: Mark, owner: str, option: str) -> None:
        self.boxes[m.page].append({"owner": owner, "option": option, "bbox": _r(m.bbox), "shape": m.shape})

    # --- fields ------------------------------------------------------------------------
    def add_field(self, page: int, name: str, owner: str, kind: str, bbox: BBox) -> None:
        self.fields[page].append({"name": name, "owner": owner, "kind": kind, "bbox": _r(self.clear_of_text(page, bbox))})

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

    def lines_in(self, start: tuple[int, float], end: tuple[int, float]) -> list[Line]:
        """Lines from `start` (inclusive) to `end` (exclusive), in reading order."""
        return [line for line in self.lines if start <= line.key() and line.key() < end]

    def label_field(self, lines: list[Line], label: str, after: tuple[int, float] | None = None) -> tuple[Line, float, float] | None:
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

    def field_box(self, line: Line, x0: float, x1: float, size: float) -> BBox:
        return (x0, line.base - FIELD_ABOVE * size, x1, line.base + FIELD_BELOW * size)

    def date_groups(self, line: Line) -> list[BBox]:
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

    def seal_glyphs(self, lines: list[Line]) -> list[tuple[Line, Glyph]]:
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

    def seal_box(self, g: Glyph) -> BBox:
        cx, cy = (g.x0 + g.x1) / 2, (g.top + g.bottom) / 2
        return (cx - SEAL_HALF_PT, cy - SEAL_HALF_PT, cx + SEAL_HALF_PT, cy + SEAL_HALF_PT)

    def find_item_fields(self, anchors: list[Anchor]) -> None:
        for item in self.form.items:
            reg = self.region(anchors, item.id)
            raw: dict[str, Any] = next((r for r in self.raw.get("items", []) if str(r.get("id")) == item.id), {})
            expected = [f"{item.id}.{b.name}" for b in item.blanks]
            if "sign" in item.evidence:
                expected += [f"{item.id}.signature", f"{item.id}.seal"]
            if raw.get("url_path"):
                expected += [f"{item.id}.url_top", f"{item.id}.url_target"]
            if reg is None:
                self.unplaced += expected
                continue
            lines = self.lines_in(*reg)
            found: set[str] = set()
            for blank in item.blanks:
                hit = self.label_field(lines, blank.label)
                if hit:
                    line, x0, x1 = hit
                    self.add_field(line.page, f"{item.id}.{blank.name}", item.id, "text", self.field_box(line, x0, x1, line.glyphs[0].size))
                    found.add(f"{item.id}.{blank.name}")
            if "sign" in item.evidence:
                found |= self.find_signature(item.id, lines)
            if raw.get("url_path"):
                for label, name in (("トップページ", "url_top"), ("該当URL", "url_target")):
                    for line in lines:
                        if line.norm.startswith(label) and "http://" in line.norm:
                            pos = line.norm.index("http://") + len("http://") - 1
                            last = line.glyphs[line.index[pos]]
                            rest = [g for g in line.glyphs if g.x0 > last.x1 + 0.1]
                            x0, x1 = self.writing_span(line, last, rest)
                            self.add_field(line.page, f"{item.id}.{name}", item.id, "url", self.field_box(line, x0, x1, last.size))
                            found.add(f"{item.id}.{name}")
                            break
            self.unplaced += [n for n in expected if n not in found]

    def find_signature(self, owner: str, lines: list[Line]) -> set[str]:
        label = norm("署名（肉筆）押印")
        for line in lines:
            if label not in line.norm:
                continue
            pos = line.norm.index(label) + len(label)
            while pos < len(line.norm) and line.norm[pos] == ":":
                pos += 1
            last = line.glyphs[line.index[pos - 1]]
            seals = [(ln, g) for ln, g in self.seal_glyphs(lines) if ln.key() >= line.key()]
            if not seals:
                return set()
            seal = self.seal_box(seals[0][1])
            self.add_field(line.page, f"{owner}.seal", owner, "seal", seal)
            x0 = last.x1 + FIELD_GAP_PT
            if seal[0] - SIGN_GAP_PT - x0 >= 30:
                sign = (x0, seal[1], seal[0] - SIGN_GAP_PT, seal[3])
            else:  # 印 below the label (as Word forms often have it): the line itself
                sign = self.field_box(line, x0, self.right_edge, last.size)
            self.add_field(line.page, f"{owner}.signature", owner, "signature", sign)
            return {f"{owner}.seal", f"{owner}.signature"}
        return set()

    def find_declaration_dates(self, anchors: list[Anchor]) -> None:
        for d in self.form.declarations:
            if not any(o.role == "sub" and "年月日" in norm(o.text) for o in d.options):
                continue
            reg = self.region(anchors, d.id)
            hit = None
            if reg is not None:
                hit = next(((line, b) for line in self.lines_in(*reg) for b in self.date_groups(line)), None)
            if hit is None:
                self.unplaced.append(f"{d.id}.reported_date")
                continue
            self.add_field(hit[0].page, f"{d.id}.reported_date", d.id, "date", hit[1])

    def find_cover(self) -> None:
        labels = [norm(f.label) for f in self.form.cover_fields]
        best, score = None, 0
        for s in self.scans:
            if self.items[s.number]:
                continue
            n = sum(1 for lab in labels if any(line.norm.startswith(lab) for line in s.lines))
            if n > score:
                best, score = s, n
        if best is None or score < max(1, len(labels) // 2):
            if self.form.cover_fields:
                self.notes.append("no cover page found: the printing has only the answer sheet")
            return
        self.cover_page = best.number
        lines = best.lines
        used: set[int] = set()
        for f in self.form.cover_fields:
            name = f"applicant.{f.key}"
            if f.label.endswith("年月日"):
                hit = next(((ln, b) for ln in lines if ln.norm.startswith(norm(f.label)) for b in self.date_groups(ln)), None)
                if hit:
                    used.add(id(hit[0]))
                    self.add_field(best.number, name, "applicant", "date", hit[1])
                else:
                    self.unplaced.append(name)
                continue
            found = self.label_field(lines, f.label)
            if found is None:
                self.unplaced.append(name)
                continue
            line, x0, x1 = found
            used.add(id(line))
            kind = "url" if f.key == "url" else "text"
            self.add_field(best.number, name, "applicant", kind, self.field_box(line, x0, x1, line.glyphs[0].size))
        dates = [(ln, b) for ln in lines if id(ln) not in used for b in self.date_groups(ln)]
        if dates:
            self.add_field(best.number, "applicant.date", "applicant", "date", dates[0][1])
        else:
            self.unplaced.append("applicant.date")
        seals = self.seal_glyphs(lines)
        if seals:
            self.add_field(best.number, "applicant.seal", "applicant", "seal", self.seal_box(seals[0][1]))
        else:
            self.unplaced.append("applicant.seal")

    def find_contacts(self, anchors: list[Anchor]) -> None:
        contacts = list(self.raw.get("contacts", []))
        if not contacts:
            return
        closing = next((a for a in anchors if a.kind == "closing"), None)
        start = closing.key if closing else None
        if start is None:
            self.unplaced += [f"{c['id']}.{f['key']}" for c in contacts for f in c.get("fields", [])]
            return
        tail = [line for line in self.lines if line.key() >= start]
        # each block starts at its title line (【回答者】) or its intro sentence
        starts: list[tuple[int, float]] = []
        for i, c in enumerate(contacts):
            title = str(c.get("title") or "")
            intro = str(c.get("intro") or "")
            block = next(
                (
                    ln
                    for ln in tail
                    if (not starts or ln.key() > starts[-1])
                    and ((title and ln.norm.strip("()【】[]") == norm(title)) or (intro and starts_like(ln, intro[:24])))
                ),
                None,
            )
            starts.append(block.key() if block else (start if i == 0 else starts[-1]))
        first_date = next(((ln, b) for ln in tail for b in self.date_groups(ln)), None)
        if first_date:
            self.add_field(first_date[0].page, f"{contacts[0]['id']}.date", str(contacts[0]["id"]), "date", first_date[1])
        elif contacts[0].get("date_line"):
            self.unplaced.append(f"{contacts[0]['id']}.date")
        for i, c in enumerate(contacts):
            owner = str(c["id"])
            end = starts[i + 1] if i + 1 < len(contacts) else (10**6, 0.0)
            lines = [ln for ln in tail if starts[i] <= ln.key() < end]
            after: tuple[int, float] | None = None
            for f in c.get("fields", []):
                name = f"{owner}.{f['key']}"
                hit = self.label_field(lines, str(f["label"]), after)
                if hit is None:
                    self.unplaced.append(name)
                    continue
                line, x0, x1 = hit
                after = line.key()
                self.add_field(line.page, name, owner, "text", self.field_box(line, x0, x1, line.glyphs[0].size))
                if f.get("sealed"):
                    seals = [g for ln, g in self.seal_glyphs([line])]
                    near = [ln for ln in lines if abs(ln.base - line.base) < 2 * SEAL_HALF_PT]
                    seals = seals or [g for ln, g in self.seal_glyphs(near)]
                    if seals:
                        self.add_field(line.page, f"{owner}.seal", owner, "seal", self.seal_box(seals[0]))
                    else:
                        self.unplaced.append(f"{owner}.seal")

    # --- result ------------------------------------------------------------------------
    def layout(self, form_name: str, source: str) -> dict[str, Any]:
        pages = []
        for s in self.scans:
            pages.append(
                {
                    "number": s.number,
                    "role": "cover" if s.number == self.cover_page else "answer",
                    "size": [round(s.width, 2), round(s.height, 2)],
                    "code": s.code,
                    "anchors": [list(a) for a in s.anchors],
                    "items": self.items[s.number],
                    "boxes": [
                        {**b, "bbox": list(b["bbox"])} for b in sorted(self.boxes[s.number], key=lambda b: (b["bbox"][1], b["bbox"][0]))
                    ],
                    "fields": [
                        {**f, "bbox": list(f["bbox"])} for f in sorted(self.fields[s.number], key=lambda f: (f["bbox"][1], f["bbox"][0]))
                    ],
                }
            )
        return {"form": form_name, "printing": "calibrated", "source": source, "pages": pages}


def _r(b: BBox) -> BBox:
    return (round(b[0], 2), round(b[1], 2), round(b[2], 2), round(b[3], 2))


def _fmt(b: BBox) -> str:
    return "[" + ", ".join(f"{v:.1f}" for v in b) + "]"


def learn_layout(blank_pdf: Path, form: FormDef, raw: dict[str, Any], form_name: str) -> tuple[dict[str, Any], CalibrationReport]:
    """Calibrate without writing: the layout as data and the report.

    Raises:
        CalibrationError: the PDF cannot be read, or has no text layer (a scan).
    """
    try:
        scans = scan_pdf(blank_pdf)
    except Exception as exc:  # pdfminer and pdfium raise many kinds; the operator needs one message
        raise CalibrationError(f"{blank_pdf.name}: cannot read the PDF: {exc}", CalibrationReport(str(blank_pdf), "", 0, 0, 0, ())) from exc
    if not any(s.lines for s in scans):
        report = CalibrationReport(str(blank_pdf), "", len(scans), 0, 0, ("(everything)",), ("no text layer",))
        raise CalibrationError(f"{blank_pdf.name}: no text layer; calibrate needs the born-digital blank, not a scan", report)
    finder = Finder(scans, form, raw)
    finder.run()
    layout = finder.layout(form_name, blank_pdf.name)
    report = CalibrationReport(
        blank_pdf=str(blank_pdf),
        out_dir="",
        pages=len(scans),
        boxes=sum(len(p["boxes"]) for p in layout["pages"]),
        fields=sum(len(p["fields"]) for p in layout["pages"]),
        unplaced=tuple(finder.unplaced),
        notes=tuple(finder.notes),
    )
    return layout, report


def calibrate(blank_pdf: Path, out_dir: Path, items_source: FormDef, raw_items: dict[str, Any] | None = None) -> CalibrationReport:
    """Learn the layout of `blank_pdf` and write out_dir/layout.yaml and out_dir/blank.pdf.

    Args:
        blank_pdf: any printing of the questionnaire, blank.
        out_dir: the form folder to write (its name becomes the layout's `form`).
        items_source: the loaded form whose items, declarations and cover fields to look for.
        raw_items: items.yaml as data (its closing and contact texts); read from the form's folder if omitted.

    Raises:
        CalibrationError: an option or an expected field could not be placed; nothing is written.
    """
    blank_pdf, out_dir = Path(blank_pdf), Path(out_dir)
    raw = raw_items if raw_items is not None else load_items_raw(Path(items_source.folder))
    layout, report = learn_layout(blank_pdf, items_source, raw, out_dir.resolve().name)
    report = CalibrationReport(report.blank_pdf, str(out_dir), report.pages, report.boxes, report.fields, report.unplaced, report.notes)
    if report.unplaced:
        shown = ", ".join(report.unplaced[:20]) + (" …" if len(report.unplaced) > 20 else "")
        raise CalibrationError(
            f"{blank_pdf.name}: could not place {len(report.unplaced)} option(s)/field(s): {shown}; nothing written", report
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "blank.pdf"
    if not target.exists() or target.resolve() != blank_pdf.resolve():
        shutil.copyfile(blank_pdf, target)
    header = (
        f"# Generated by `python -m pipeline calibrate {blank_pdf.name} --out {out_dir.as_posix()}/` from the PDF's\n"
        "# text layer and vector graphics. PDF points, origin at the page's top-left corner.\n"
    )
    write_atomic(out_dir / "layout.yaml", dump_layout(layout, header))
    _form_yaml_if_absent(out_dir, items_source)
    for note in report.notes:
        log.info("%s: %s", blank_pdf.name, note)
    return report


def _form_yaml_if_absent(out_dir: Path, source: FormDef) -> None:
    """A calibrated folder needs a form.yaml to load; write one pointing at the source's items.

    Only when absent (form.yaml is edited by hand), and only when the source keeps its own
    items.yaml; otherwise the operator is told to write it.
    """
    target = out_dir / "form.yaml"
    items = Path(source.folder) / "items.yaml"
    if target.exists():
        return
    if not source.folder or not items.exists():
        log.warning("%s: no form.yaml; write one (id, title, kind, items, rule) before using this form", out_dir)
        return
    rel = Path(os.path.relpath(items.resolve(), out_dir.resolve())).as_posix()
    rule = source.rule
    text = (
        f"# Written by calibrate (from {source.name}'s definition) because the folder had none; edit by hand.\n"
        f"id: {out_dir.resolve().name}\n"
        f"title: {source.title}\n"
        f"kind: {source.kind}\n"
        f"items: {rel}\n"
        "rule:\n"
        f"  required_total: {rule.required_total}\n"
        f"  points_max: {rule.points_max}\n"
        f"  threshold: {rule.threshold}\n"
        f"  fail_at_zero: [{', '.join(repr(i) for i in rule.fail_at_zero)}]\n"
    )
    write_atomic(target, text)
