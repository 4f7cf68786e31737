"""What calibrate has placed so far, page by page, and what it could not place; the layout as data."""

from __future__ import annotations

from typing import Any

from pipeline.form.calibrate.places import Blank
from pipeline.form.calibrate.scan import Mark
from pipeline.form.printing.layoutio import box_entry, field_entry
from pipeline.model.records import BBox, BoxLayout, FieldKind, FieldLayout


def rounded(b: BBox) -> BBox:
    """A bbox to 0.01 pt, as layout.yaml keeps it."""
    return (round(b[0], 2), round(b[1], 2), round(b[2], 2), round(b[3], 2))


def shown(b: BBox) -> str:
    """A bbox to 0.1 pt, for notes."""
    return "[" + ", ".join(f"{v:.1f}" for v in b) + "]"


class Found:
    """The boxes, fields and item ids placed on each page of `blank`, the misses and the notes.

    The finders add to it in turn (boxes first: the cover is the page without items).
    """

    def __init__(self, blank: Blank) -> None:
        self.blank = blank
        pages = [s.number for s in blank.scans]
        self.boxes: dict[int, list[BoxLayout]] = {n: [] for n in pages}
        self.fields: dict[int, list[FieldLayout]] = {n: [] for n in pages}
        self.items: dict[int, list[str]] = {n: [] for n in pages}
        self.unplaced: list[str] = []  # "3-1-7/over_100km" (option) or "1-1-3.signature" (field)
        self.notes: list[str] = []
        self.cover_page: int | None = None

    def place(self, m: Mark, owner: str, option: str) -> None:
        """Record mark `m` as the box of `owner`'s `option`."""
        self.boxes[m.page].append(BoxLayout(owner=owner, option=option, bbox=rounded(m.bbox), shape=m.shape))

    def add_field(self, page: int, name: str, owner: str, kind: FieldKind, bbox: BBox) -> None:
        """Record a field, shrunk clear of the printed text around it."""
        self.fields[page].append(FieldLayout(name=name, owner=owner, kind=kind, bbox=rounded(self.blank.clear_of_text(page, bbox))))

    def layout(self, form_name: str, source: str) -> dict[str, Any]:
        """layout.yaml's content: per page its size, code, anchors, items, boxes and fields (top to bottom)."""
        pages = []
        for s in self.blank.scans:
            boxes = sorted(self.boxes[s.number], key=lambda b: (b.bbox[1], b.bbox[0]))
            fields = sorted(self.fields[s.number], key=lambda f: (f.bbox[1], f.bbox[0]))
            pages.append(
                {
                    "number": s.number,
                    "role": "cover" if s.number == self.cover_page else "answer",
                    "size": [round(s.width, 2), round(s.height, 2)],
                    "code": s.code,
                    "anchors": [list(a) for a in s.anchors],
                    "items": self.items[s.number],
                    "boxes": [box_entry(b) for b in boxes],
                    "fields": [field_entry(f) for f in fields],
                }
            )
        return {"form": form_name, "printing": "calibrated", "source": source, "pages": pages}
