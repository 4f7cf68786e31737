"""Read a blank PDF's text layer and drawings: glyphs grouped into lines, boxes and brackets, underlines, anchors.

Boxes are □/☐ glyphs (their ink box, from pdfium) or small stroked squares; choice brackets are
「[ ]」「（ ）」 with nothing inside. Each mark gets the line it sits on and the text beside it.
Coordinates are PDF points with the origin at the page's top left.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.model.records import BBox

BOX_GLYPHS = "□☐"
BOX_MIN_PT, BOX_MAX_PT = 7.0, 18.0  # a drawn square of this side is a box
_CODE = re.compile(r"ISPMARK[-|][A-Za-z0-9_]+[-|]P\d+")

MarkShape = Literal["box", "bracket"]


@dataclass
class Glyph:
    """One character of the text layer: its extent, size and baseline (points, top-left origin)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    base: float


@dataclass
class Line:
    """Glyphs on one baseline, left to right; `norm` is their NFKC text without spaces."""

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
    """A place to mark (□ box or [ ] bracket), with the line it sits on once bound."""

    page: int
    bbox: BBox
    shape: MarkShape
    line: Line | None = None
    text: str = ""  # the text beside it (to its right, with continuation lines)

    def key(self) -> tuple[int, float]:
        base = self.line.base if self.line else self.bbox[3]
        return (self.page, base)


@dataclass
class PageScan:
    """What one page of the blank shows: its lines, marks, underlines, corner anchors and page code."""

    number: int
    width: float
    height: float
    lines: list[Line]
    marks: list[Mark]
    rules: list[BBox]  # horizontal strokes: underlines, a table's row borders
    anchors: list[BBox]
    code: str | None
    columns: list[BBox] = field(default_factory=list)  # vertical strokes: a table's cell borders


def scan_pdf(path: Path) -> list[PageScan]:
    """Every page of the PDF at `path`, read with pdfplumber (text, drawings) and pdfium (tight glyph boxes)."""
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
    columns = [
        (float(seg["x0"]), float(seg["top"]), float(seg["x1"]), float(seg["bottom"]))
        for seg in page.lines
        if abs(float(seg["x0"]) - float(seg["x1"])) < 1.0 and float(seg["bottom"]) - float(seg["top"]) > 5.0
    ]
    columns += [
        (float(r["x0"]), float(r["top"]), float(r["x1"]), float(r["bottom"]))
        for r in page.rects
        if float(r["width"]) < 2.0 and float(r["height"]) > 5.0 and r.get("fill")
    ]
    lines = _group_lines(number, [g for g in glyphs if g.text.strip()], columns)
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
    return PageScan(number, float(page.width), height, lines, marks, rules, list(anchors), code, columns)


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


def _group_lines(page: int, glyphs: list[Glyph], columns: list[BBox]) -> list[Line]:
    """Glyphs on one baseline make a line; a table's cell border between two of them splits it (each cell its own line)."""
    glyphs.sort(key=lambda g: (g.base, g.x0))
    groups: list[list[Glyph]] = []
    for g in glyphs:
        if groups and abs(groups[-1][-1].base - g.base) <= 0.6:
            groups[-1].append(g)
        else:
            groups.append([g])
    out: list[Line] = []
    for grp in groups:
        grp.sort(key=lambda g: g.x0)
        part = [grp[0]]
        for a, b in zip(grp, grp[1:]):
            if any(a.x1 - 0.5 <= c[0] <= b.x0 + 0.5 and c[1] <= b.base <= c[3] for c in columns):
                out.append(Line(page, round(sum(g.base for g in part) / len(part), 3), part))
                part = []
            part.append(b)
        out.append(Line(page, round(sum(g.base for g in part) / len(part), 3), part))
    return out


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
                # aligned with the text (a hanging indent), or for a □ that starts its line, wrapped back under it
                left = min(x_text, m.bbox[0]) if m.shape == "box" and m.line.x0 >= m.bbox[0] - 0.5 else x_text
                if not (left - 1.2 * size <= nxt.x0 <= x_text + 1.5 * size):
                    break
                text += nxt.norm
                prev = nxt
        m.text = text
