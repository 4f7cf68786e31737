"""One page being drawn in top-left coordinates; every box and field is recorded where it is drawn.

The same calls measure (no canvas: nothing is drawn, positions are still computed) and draw,
so the layout written to layout.yaml is the drawing itself, not a second description of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pipeline.form.printing.style import (
    FIELD_ABOVE,
    FIELD_BELOW,
    FIELD_GAP_PT,
    SEAL_HALF_PT,
    SIGN_GAP_PT,
    UNDERLINE_DROP_PT,
    PrintStyle,
    descent_ratio,
    em_box,
    glyph_box,
    string_width,
)
from pipeline.model.records import BBox, BoxLayout, FieldKind, FieldLayout

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

# Characters that may not start a line (行頭禁則) or end one (行末禁則).
_NO_START = set("、。，．,.）)」』】〕］]・ー！？!?：:；;％%々ゃゅょっぁぃぅぇぉャュョッァィゥェォ")
_NO_END = set("（(「『【〔［[")
_TOKEN = re.compile(r"[A-Za-z0-9.,:;/_%@?=&#~+\-]+|\s|.", re.S)


def wrap(text: str, font: str, size: float, width: float, first_width: float | None = None) -> list[str]:
    """Break `text` into lines no wider than `width` (the first line `first_width`).

    Japanese breaks between any two characters; runs of ASCII letters and digits stay whole;
    the usual kinsoku characters are kept off the start (or end) of a line.
    """
    lines: list[str] = []
    current = ""
    limit = first_width if first_width is not None else width
    for token in _TOKEN.findall(text):
        if token == "\n":
            lines.append(current.rstrip())
            current, limit = "", width
            continue
        if not current and token.isspace():
            continue
        candidate = current + token
        if string_width(candidate, font, size) <= limit or not current.strip():
            current = candidate
            continue
        if token in _NO_START:
            current = candidate  # hang the punctuation a little past the margin
            continue
        carry = ""
        while current and current[-1] in _NO_END:
            carry = current[-1] + carry
            current = current[:-1]
        lines.append(current.rstrip())
        current, limit = (carry + token).lstrip(), width
    if current.strip():
        lines.append(current.rstrip())
    return lines


@dataclass
class PageRecord:
    """What was drawn on one page, in layout.yaml's terms."""

    number: int
    role: Literal["cover", "answer"]
    size: tuple[float, float]
    code: str | None = None
    anchors: list[BBox] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    boxes: list[BoxLayout] = field(default_factory=list)
    fields: list[FieldLayout] = field(default_factory=list)


def _r(bbox: BBox) -> BBox:
    return (round(bbox[0], 2), round(bbox[1], 2), round(bbox[2], 2), round(bbox[3], 2))


class Sheet:
    """Drawing primitives over a reportlab canvas (or none, to measure), recording form elements.

    y grows downwards from the page top. A text line of size s in a line pitch L starting at y
    has its em box centred on y + L/2.
    """

    def __init__(self, style: PrintStyle, canvas: Canvas | None = None, record: PageRecord | None = None) -> None:
        self.style = style
        self.c = canvas
        self.width, self.height = style.page_size
        self.left, self.top, right_margin, bottom_margin = style.margins
        self.right = self.width - right_margin
        self.bottom = self.height - bottom_margin
        self.record = record if record is not None else PageRecord(0, "answer", style.page_size)

    # --- basic drawing ---------------------------------------------------------------
    @property
    def body(self) -> str:
        return self.style.body

    @property
    def heading(self) -> str:
        return self.style.heading

    def w(self, text: str, font: str | None = None, size: float | None = None) -> float:
        return string_width(text, font or self.body, size or self.style.body_size)

    def baseline(self, y: float, size: float, pitch: float, font: str | None = None) -> float:
        """The baseline that centres a line of `size` in the pitch starting at y."""
        d = descent_ratio(font or self.body)
        return y + pitch / 2 + (0.5 + d) * size

    def text(self, x: float, baseline: float, text: str, font: str | None = None, size: float | None = None, gray: float = 0.0) -> float:
        font = font or self.body
        size = size or self.style.body_size
        if self.c is not None and text:
            self.c.setFillGray(gray)
            self.c.setFont(font, size)
            self.c.drawString(x, self.height - baseline, text)
            self.c.setFillGray(0)
        return x + string_width(text, font, size)

    def hline(self, x0: float, x1: float, y: float, width: float = 0.5, gray: float = 0.0) -> None:
        if self.c is not None:
            self.c.setLineWidth(width)
            self.c.setStrokeGray(gray)
            self.c.line(x0, self.height - y, x1, self.height - y)
            self.c.setStrokeGray(0)

    def rect(self, bbox: BBox, width: float = 0.6, gray: float = 0.0, fill: float | None = None, stroke: bool = True) -> None:
        if self.c is not None:
            x0, y0, x1, y1 = bbox
            self.c.setLineWidth(width)
            self.c.setStrokeGray(gray)
            if fill is not None:
                self.c.setFillGray(fill)
            self.c.rect(x0, self.height - y1, x1 - x0, y1 - y0, stroke=int(stroke), fill=int(fill is not None))
            self.c.setStrokeGray(0)
            self.c.setFillGray(0)

    def circle(self, cx: float, cy: float, r: float, width: float = 0.6, gray: float = 0.0) -> None:
        if self.c is not None:
            self.c.setLineWidth(width)
            self.c.setStrokeGray(gray)
            self.c.circle(cx, self.height - cy, r, stroke=1, fill=0)
            self.c.setStrokeGray(0)

    def paragraph(
        self,
        x: float,
        y: float,
        text: str,
        font: str | None = None,
        size: float | None = None,
        right: float | None = None,
        hang: float = 0.0,
        pitch: float | None = None,
    ) -> float:
        """Wrapped text from top y; continuation lines indented by `hang`. Returns the y below it."""
        font = font or self.body
        size = size or self.style.body_size
        pitch = pitch or size * self.style.leading
        right = right if right is not None else self.right
        lines = wrap(text, font, size, right - x - hang, first_width=right - x)
        for i, line in enumerate(lines):
            self.text(x + (hang if i else 0.0), self.baseline(y, size, pitch, font), line, font, size)
            y += pitch
        return y

    # --- form elements ---------------------------------------------------------------
    def box_advance(self, size: float | None = None) -> float:
        """Horizontal room a box takes before the text that follows it."""
        size = size or self.style.body_size
        if self.style.box_style == "glyph":
            return self.w("□", self.body, size) + 0.3 * size
        return self.style.box_pt + 0.55 * size

    def box(self, x: float, y: float, pitch: float, owner: str | None, option: str | None, size: float | None = None) -> BBox:
        """A □ box on the line at y (vector square or glyph); recorded when it has an owner."""
        size = size or self.style.body_size
        if self.style.box_style == "glyph":
            base = self.baseline(y, size, pitch)
            self.text(x, base, "□", self.body, size)
            bbox = glyph_box(self.style.body_font, "□", size, x, base)
        else:
            centre = y + pitch / 2
            half = self.style.box_pt / 2
            bbox = (x, centre - half, x + self.style.box_pt, centre + half)
            self.rect(bbox, width=0.7)
        if owner is not None and option is not None:
            self.record.boxes.append(BoxLayout(owner=owner, option=option, bbox=_r(bbox), shape="box"))
        return bbox

    def bracket(self, x: float, y: float, pitch: float, owner: str, option: str, inner_em: float = 3.0) -> float:
        """A choice bracket 「[      ]」 (○ goes inside); records the bracket's extent. Returns x after it."""
        size = self.style.body_size
        base = self.baseline(y, size, pitch)
        close_x = x + self.w("[") + inner_em * size
        self.text(x, base, "[")
        end = self.text(close_x, base, "]")
        top = em_box(self.body, size, x, base, "[")
        self.record.boxes.append(BoxLayout(owner=owner, option=option, bbox=_r((x, top[1], end, top[3])), shape="bracket"))
        return end

    def field_bbox(self, x0: float, x1: float, baseline: float, size: float) -> BBox:
        return (x0, baseline - FIELD_ABOVE * size, x1, baseline + FIELD_BELOW * size)

    def add_field(self, name: str, owner: str | None, kind: FieldKind, bbox: BBox) -> None:
        self.record.fields.append(FieldLayout(name=name, owner=owner, kind=kind, bbox=_r(bbox)))

    def labelled_line(
        self,
        x: float,
        y: float,
        pitch: float,
        label: str,
        name: str,
        owner: str,
        kind: FieldKind = "text",
        x_end: float | None = None,
        column: float | None = None,
        size: float | None = None,
    ) -> float:
        """`label：______` on one line; the field runs from the label's end to the underline's. Returns y below it.

        column: where the underline starts (to align a block of labels); default right after the label.
        People write right after the label's colon, before an underline that starts further on
        (independent set seed 86200: 「氏名：渡辺 誠」 written in the gap, read empty), so the
        field starts at the label whatever the column.
        """
        size = size or self.style.body_size
        base = self.baseline(y, size, pitch)
        end = self.text(x, base, label, self.body, size)
        x0 = max(end + FIELD_GAP_PT, column or 0.0)
        x1 = x_end if x_end is not None else self.right
        self.hline(x0, x1, base + UNDERLINE_DROP_PT, width=0.5)
        self.add_field(name, owner, kind, self.field_bbox(end + FIELD_GAP_PT, x1, base, size))
        return y + pitch

    def date_group(self, x: float, base: float, name: str, owner: str | None, size: float | None = None, gap_em: float = 2.4) -> float:
        """`　　年　　月　　日` from x (the first digit gap starts at x). Returns x after 日."""
        size = size or self.style.body_size
        gap = gap_em * size
        x_year = x + gap
        self.text(x_year, base, "年", self.body, size)
        x_month = x_year + self.w("年", self.body, size) + gap
        self.text(x_month, base, "月", self.body, size)
        x_day = x_month + self.w("月", self.body, size) + gap
        end = self.text(x_day, base, "日", self.body, size)
        self.add_field(name, owner, "date", self.field_bbox(x, end, base, size))
        return end

    def date_width(self, size: float | None = None, gap_em: float = 2.4) -> float:
        size = size or self.style.body_size
        return 3 * gap_em * size + self.w("年月日", self.body, size)

    def seal(self, cx: float, cy: float, name: str, owner: str | None) -> BBox:
        """印 in a small circle centred at (cx, cy); the seal spot is the square around it."""
        size = self.style.body_size
        d = descent_ratio(self.body)
        base = cy + (0.5 + d) * size
        self.text(cx - self.w("印") / 2, base, "印")
        self.circle(cx, cy, 0.85 * size, width=0.5, gray=0.35)
        bbox = (cx - SEAL_HALF_PT, cy - SEAL_HALF_PT, cx + SEAL_HALF_PT, cy + SEAL_HALF_PT)
        self.add_field(name, owner, "seal", bbox)
        return bbox

    def signature_row(self, x: float, y: float, label: str, owner: str) -> float:
        """`担当者署名（肉筆）押印：[ light box ] (印)`; returns y below the row."""
        size = self.style.body_size
        cy = y + SEAL_HALF_PT + 2.0
        base = cy + (0.5 + descent_ratio(self.body)) * size
        end = self.text(x, base, label)
        cx = self.right - SEAL_HALF_PT
        seal = self.seal(cx, cy, f"{owner}.seal", owner)
        sign = (end + FIELD_GAP_PT, seal[1], seal[0] - SIGN_GAP_PT, seal[3])
        self.rect(sign, width=0.4, gray=0.6)
        self.add_field(f"{owner}.signature", owner, "signature", sign)
        return y + 2 * SEAL_HALF_PT + 4.0
