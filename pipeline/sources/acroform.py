"""AcroForm fields of a PDF: each terminal field's kind, value as stored and where its widgets sit.

Tolerant of what real files do: cycles in the field tree, checkboxes without appearances, a /V
that disagrees with the drawn /AS, actions and JavaScript (noted, never run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import pikepdf

from pipeline.model.records import BBox, PageRef
from pipeline.sources.display import Affine, apply_affine
from pipeline.sources.limits import Limits
from pipeline.sources.pdf_guard import bounded_bytes


@dataclass(frozen=True, slots=True)
class AcroWidget:
    """Where one field is drawn: page, bbox (PDF points, top-left origin), its on-state name."""

    page: PageRef | None
    bbox: BBox | None
    on_state: str | None  # checkbox/radio export name ("Yes", "1", …); None for other kinds
    shown_on: bool | None  # what its appearance state /AS shows, None when /AS is absent


@dataclass(frozen=True, slots=True)
class AcroField:
    """One terminal AcroForm field and its value as stored in the file.

    value: text and choice fields → str (multi-select joined with newlines), None when empty;
    checkbox → True/False; radio → the chosen export name or None; signature → True if signed;
    push button → None.
    """

    name: str  # fully qualified, parent names joined with "."
    kind: Literal["text", "checkbox", "radio", "choice", "button", "signature", "unknown"]
    value: str | bool | None
    widgets: tuple[AcroWidget, ...]
    note: str | None = None  # an oddity worth a reviewer's glance (no appearance, /V vs /AS)

    @property
    def page(self) -> PageRef | None:
        return next((w.page for w in self.widgets if w.page is not None), None)

    @property
    def bbox(self) -> BBox | None:
        return next((w.bbox for w in self.widgets if w.bbox is not None), None)


_FF_RADIO = 1 << 15
_FF_PUSHBUTTON = 1 << 16


def _pdf_text(obj: object, cap_bytes: int = 1 << 20) -> str | None:
    """A PDF string, name, array of strings or stream as text; None for anything else.

    A stream is decoded only up to `cap_bytes` (LimitExceededError past it): a value is read
    after pdf_guard.check_field_values, this keeps the bound where the bytes are read.
    """
    if isinstance(obj, pikepdf.String):
        return str(obj)
    if isinstance(obj, pikepdf.Name):
        return str(obj)[1:]
    if isinstance(obj, pikepdf.Array):
        parts = [t for t in (_pdf_text(x, cap_bytes) for x in list(obj)[:10_000]) if t]
        return "\n".join(parts) if parts else None
    if isinstance(obj, pikepdf.Stream):
        return bounded_bytes(obj, cap_bytes, "フォーム欄の値").decode("utf-8", "replace")
    return None


def read_fields(pike: pikepdf.Pdf, rel: str, affines: Sequence[Affine], limits: Limits, notes: list[str]) -> dict[str, AcroField]:
    """Walk /AcroForm /Fields (tolerant of cycles, missing appearances and odd values).

    `affines` are the displayed-page transforms of the pages read (widget bboxes are given on
    the displayed page); oddities worth telling the operator are appended to `notes`.
    """
    acroform = pike.Root.AcroForm
    roots = acroform.get("/Fields")
    if not isinstance(roots, pikepdf.Array):
        return {}
    page_of: dict[tuple[int, int], int] = {}
    page_objs: dict[tuple[int, int], int] = {}
    for i, page in enumerate(pike.pages[: len(affines)]):
        page_objs[page.obj.objgen] = i
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            for annot in annots:
                if isinstance(annot, pikepdf.Dictionary) and annot.is_indirect:
                    page_of.setdefault(annot.objgen, i)

    def widget_page(widget: pikepdf.Dictionary) -> int | None:
        if widget.is_indirect and widget.objgen in page_of:
            return page_of[widget.objgen]
        p = widget.get("/P")
        if isinstance(p, pikepdf.Dictionary) and p.is_indirect and p.objgen in page_objs:
            return page_objs[p.objgen]
        return 0 if len(affines) == 1 else None

    fields: dict[str, AcroField] = {}
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[object, str, dict[str, object], int]] = [(f, "", {}, 0) for f in reversed(list(roots))]
    js_in_fields = False
    while stack:
        node, parent, inherited, depth = stack.pop()
        if not isinstance(node, pikepdf.Dictionary) or depth > 32:
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        if len(seen) > limits.max_form_fields:
            notes.append(f"more than {limits.max_form_fields} form fields: the rest were not read")
            break
        js_in_fields = js_in_fields or "/AA" in node or "/A" in node
        partial = _pdf_text(node.get("/T")) or ""
        name = f"{parent}.{partial}" if parent and partial else partial or parent
        inh = dict(inherited)
        for key in ("/FT", "/Ff", "/V"):
            if key in node:
                inh[key] = node.get(key)
        kids = node.get("/Kids")
        kid_list = list(kids) if isinstance(kids, pikepdf.Array) else []
        child_fields = [k for k in kid_list if isinstance(k, pikepdf.Dictionary) and "/T" in k]
        if child_fields:
            stack.extend((k, name, inh, depth + 1) for k in reversed(child_fields))
            continue
        widgets = [k for k in kid_list if isinstance(k, pikepdf.Dictionary)] or [node]
        field = _make_field(name or f"(unnamed {len(fields) + 1})", inh, widgets, rel, affines, widget_page, limits.max_field_value_bytes)
        key, n = field.name, 2
        while key in fields:
            key, n = f"{field.name}#{n}", n + 1
        fields[key] = field
    if js_in_fields:
        notes.append("form fields carry actions/JavaScript (ignored, never run)")
    odd = [f"{name}: {f.note}" for name, f in fields.items() if f.note]
    if odd:
        more = f" (and {len(odd) - 3} more)" if len(odd) > 3 else ""
        notes.append("form field oddities: " + "; ".join(odd[:3]) + more)
    return fields


def _make_field(
    name: str,
    inh: dict[str, object],
    widget_dicts: list[pikepdf.Dictionary],
    rel: str,
    affines: Sequence[Affine],
    widget_page: Callable[[pikepdf.Dictionary], int | None],
    cap_bytes: int,
) -> AcroField:
    """One terminal field from its inherited /FT, /Ff, /V and its widget dictionaries."""
    ft = inh.get("/FT")
    try:
        flags = int(inh.get("/Ff", 0))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        flags = 0
    kind: Literal["text", "checkbox", "radio", "choice", "button", "signature", "unknown"]
    if ft == "/Btn":
        kind = "button" if flags & _FF_PUSHBUTTON else "radio" if flags & _FF_RADIO else "checkbox"
    else:
        kind = {"/Tx": "text", "/Ch": "choice", "/Sig": "signature"}.get(str(ft), "unknown")  # type: ignore[assignment]
    raw_v = inh.get("/V")
    widgets: list[AcroWidget] = []
    no_appearance = False
    for wd in widget_dicts:
        idx = widget_page(wd)
        ref = PageRef(rel, idx + 1) if idx is not None else None
        bbox = None
        rect = wd.get("/Rect")
        if idx is not None and isinstance(rect, pikepdf.Array) and len(rect) == 4:
            try:
                x0, y0, x1, y1 = (float(v) for v in rect)
                bbox = apply_affine(affines[idx], x0, y0, x1, y1)
            except (TypeError, ValueError):
                bbox = None
        on_state = None
        shown_on = None
        if kind in ("checkbox", "radio"):
            ap = wd.get("/AP")
            normal = ap.get("/N") if isinstance(ap, pikepdf.Dictionary) else None
            states = [str(k)[1:] for k in normal.keys() if k != "/Off"] if isinstance(normal, pikepdf.Dictionary) else []
            if not states:
                no_appearance = True
            as_ = wd.get("/AS")
            if isinstance(as_, pikepdf.Name):
                shown_on = as_ != "/Off"
                if shown_on and not states:
                    states = [str(as_)[1:]]
            on_state = states[0] if states else None
        widgets.append(AcroWidget(ref, bbox, on_state, shown_on))
    value: str | bool | None
    note = None
    if kind == "checkbox":
        shown = any(w.shown_on for w in widgets)
        if isinstance(raw_v, pikepdf.Name):
            value = raw_v != "/Off"
            if any(w.shown_on is not None for w in widgets) and shown != value:
                note = f"value /V says {'on' if value else 'off'} but the box is drawn {'on' if shown else 'off'}"
        else:
            value = shown
        if no_appearance:
            note = "checkbox has no appearance stream; its value is taken from /V" + (f"; {note}" if note else "")
    elif kind == "radio":
        chosen = _pdf_text(raw_v) if isinstance(raw_v, pikepdf.Name) else None
        if chosen == "Off":
            chosen = None
        if chosen is None:
            chosen = next((w.on_state for w in widgets if w.shown_on), None)
        value = chosen
    elif kind == "signature":
        value = raw_v is not None
    elif kind == "button":
        value = None
    else:
        value = _pdf_text(raw_v, cap_bytes) or None
    return AcroField(name, kind, value, tuple(widgets), note)
