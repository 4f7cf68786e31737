"""What calibrate has placed so far, page by page, and what it could not place; the layout as data."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipeline.form.calibrate.anchors import Anchor
from pipeline.form.calibrate.places import Blank
from pipeline.form.calibrate.scan import Mark
from pipeline.form.printing.layoutio import box_entry, field_entry
from pipeline.model.records import BBox, BoxLayout, FieldKind, FieldLayout

MIN_FIELD_PT = 6.0  # a field narrower or lower than this is a finder's miss, not a place to write


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

    def add_field(self, page: int, name: str, owner: str, kind: FieldKind, bbox: BBox, framed: bool = False) -> None:
        """Record a field, shrunk clear of the printed text around it (a framed cell is kept whole: its borders bound it)."""
        box = bbox if framed else self.blank.clear_of_text(page, bbox)
        if box[2] - box[0] < MIN_FIELD_PT or box[3] - box[1] < MIN_FIELD_PT:  # no room found: unplaced, never an empty box
            self.unplaced.append(name)
            self.notes.append(f"{name}: no room to write found on page {page} ({shown(box)})")
            return
        self.fields[page].append(FieldLayout(name=name, owner=owner, kind=kind, bbox=rounded(box)))

    def expected_region(self, owner: str, anchors: list[Anchor], order: list[str]) -> tuple[int, BBox]:
        """Where `owner`'s unplaced box or field should have been: its region's lines on its anchor's page.

        An owner without an anchor is given the page of the nearest owner before it (in the form's
        order) that has one, or of its own placed fields, and the whole page as its region.
        """
        for i, a in enumerate(anchors):
            if a.owner != owner:
                continue
            end = anchors[i + 1].key if i + 1 < len(anchors) else (a.key[0] + 1, 0.0)
            lines = [ln for ln in self.blank.lines_in(a.key, end) if ln.page == a.key[0]]
            scan = self.blank.scans[a.key[0] - 1]
            if not lines:
                return a.key[0], (0.0, 0.0, scan.width, scan.height)
            top = min(g.top for ln in lines for g in ln.glyphs)
            bottom = max(g.bottom for ln in lines for g in ln.glyphs)
            return a.key[0], (min(ln.x0 for ln in lines), top, max(ln.glyphs[-1].x1 for ln in lines), bottom)
        page = next((n for n, fs in self.fields.items() for f in fs if f.owner == owner), None)
        if page is None:
            pages_of = {a.owner: a.key[0] for a in anchors}
            before = order[: order.index(owner)] if owner in order else []
            page = next((pages_of[o] for o in reversed(before) if o in pages_of), None)
        if page is None:
            page = self.cover_page or 1
        scan = self.blank.scans[page - 1]
        return page, (0.0, 0.0, scan.width, scan.height)

    def unplaced_entries(self, anchors: list[Anchor], order: list[str]) -> dict[int, list[dict[str, Any]]]:
        """Every unplaced option and field as a layout entry with `located: false`, by page."""
        out: dict[int, list[dict[str, Any]]] = {}
        for name in self.unplaced:
            if "/" in name:
                owner, option = name.split("/", 1)
                page, bbox = self.expected_region(owner, anchors, order)
                entry = {"owner": owner, "option": option, "bbox": list(rounded(bbox)), "located": False}
            else:
                owner, _, key = name.partition(".")
                page, bbox = self.expected_region(owner, anchors, order)
                entry = {"name": name, "owner": owner, "kind": _kind_of(key), "bbox": list(rounded(bbox)), "located": False}
            out.setdefault(page, []).append(entry)
        return out

    def layout(self, form_name: str, source: str, anchors: list[Anchor] | None = None, order: list[str] | None = None) -> dict[str, Any]:
        """layout.yaml's content: per page its size, code, anchors, items, boxes and fields (top to bottom).

        What could not be placed is written too, marked `located: false` with the region where it
        was expected, so that a reading shows it as uncertain (a box) or not_located (a field).
        """
        pages = []
        missing = self.unplaced_entries(anchors or [], order or [])
        for s in self.blank.scans:
            boxes = sorted(self.boxes[s.number], key=lambda b: (b.bbox[1], b.bbox[0]))
            fields = sorted(below_the_lines_above(self.fields[s.number]), key=lambda f: (f.bbox[1], f.bbox[0]))
            lost = missing.get(s.number, [])
            pages.append(
                {
                    "number": s.number,
                    "role": "cover" if s.number == self.cover_page else "answer",
                    "size": [round(s.width, 2), round(s.height, 2)],
                    "code": s.code,
                    "anchors": [list(a) for a in s.anchors],
                    "items": self.items[s.number],
                    "boxes": [box_entry(b) for b in boxes] + [e for e in lost if "option" in e],
                    "fields": [field_entry(f) for f in fields] + [e for e in lost if "name" in e],
                }
            )
        return {"form": form_name, "printing": "calibrated", "source": source, "pages": pages}


def below_the_lines_above(fields: list[FieldLayout]) -> list[FieldLayout]:
    """The fields with each signature place's top moved down to the bottom of a place for writing it reaches up into.

    A signature place reaches well above its label's line, and a Word-made printing may set a
    blank for the item's text right above it: the text written there read as a signature (seed
    87000-06 2-1-4, truth unsigned, read present, silently). A seal keeps its height: a stamp
    crosses the line above. Kept as it was when too little would be left.
    """
    out = []
    for f in fields:
        top = f.bbox[1]
        if f.kind == "signature":
            for o in fields:
                above = o.kind in ("text", "url", "date") and o.bbox[1] + o.bbox[3] < f.bbox[1] + f.bbox[3] and top < o.bbox[3]  # its middle higher
                if above and o.bbox[0] < f.bbox[2] and o.bbox[2] > f.bbox[0]:
                    top = max(top, o.bbox[3])
        out.append(f if top == f.bbox[1] or f.bbox[3] - top < MIN_FIELD_PT else replace(f, bbox=rounded((f.bbox[0], top, f.bbox[2], f.bbox[3]))))
    return out


def _kind_of(key: str) -> FieldKind:
    """A field's kind from its name's last part (signature, seal, url_top, reported_date, …)."""
    if key in ("signature", "seal"):
        return key  # type: ignore[return-value]
    if key.startswith("url"):
        return "url"
    if key.endswith("date"):
        return "date"
    return "text"
