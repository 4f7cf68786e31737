"""Filled-in versions of a printing, made by program: for tests, fixtures and the demo.

fill_acroform: fillable.pdf with values set (what a user saving from a PDF viewer sends).
print_filled: a born-digital "filled in Word" printing: the blank page with ■ glyphs or drawn
✓ strokes on the marked boxes and the typed texts in the fields, all at layout.yaml's places.
Both are deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Literal

import pikepdf
from pypdf import PdfReader, PdfWriter
from pypdf.generic import BooleanObject, NameObject, TextStringObject
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.definition import load_form
from pipeline.form.printing.style import FIELD_ABOVE, FIELD_BELOW, IPAEX_GOTHIC, glyph_units, register_font, string_width
from pipeline.model.records import BBox, FieldLayout, PageLayout

FillStyle = Literal["glyph", "drawn"]
MARK_GLYPH = "■"  # IPA fonts have no ☑; ■ is what Word users type over □
TYPE_FONT = IPAEX_GOTHIC


def qualified_name(widget: object) -> str:
    """A pypdf widget's fully qualified field name (its /T and its parents', joined by dots)."""
    parts: list[str] = []
    node = widget
    while node is not None:
        obj = node.get_object()  # type: ignore[attr-defined]
        if "/T" in obj:
            parts.append(str(obj["/T"]))
        node = obj.get("/Parent")
    return ".".join(reversed(parts))


def field_type(widget: object) -> str | None:
    """A pypdf widget's field type (/Btn, /Tx, …), inherited from its parents; None if none says."""
    node = widget
    while node is not None:
        obj = node.get_object()  # type: ignore[attr-defined]
        if "/FT" in obj:
            return str(obj["/FT"])
        node = obj.get("/Parent")
    return None


def fill_acroform(fillable: Path, values: dict[str, str | bool]) -> bytes:
    """Set checkboxes (/Yes or /Off) and text fields of `fillable` by fully-qualified name.

    Each filled text field also gets an appearance stream drawn with an embedded IPAexGothic
    subset, so the Japanese value displays in every viewer; NeedAppearances is then cleared,
    because viewers that rebuild appearances (poppler, pdfium) drew the Japanese values as
    empty boxes or dropped the kanji from the non-embedded HeiseiKakuGo default.

    Raises:
        KeyError: a name in `values` is not a field of the PDF.
    """
    writer = PdfWriter(clone_from=PdfReader(str(fillable)))
    seen: set[str] = set()
    for page in writer.pages:
        for ref in page.get("/Annots") or []:
            widget = ref.get_object()
            if widget.get("/Subtype") != "/Widget":
                continue
            name = qualified_name(widget)
            if name not in values:
                continue
            seen.add(name)
            value = values[name]
            if field_type(widget) == "/Btn":
                state = NameObject("/Yes" if value is True or value in ("Yes", "/Yes", "on") else "/Off")
                widget[NameObject("/V")] = state
                widget[NameObject("/AS")] = state
            else:
                widget[NameObject("/V")] = TextStringObject(str(value))
    unknown = sorted(set(values) - seen)
    if unknown:
        raise KeyError(f"{fillable.name}: no such field(s): {', '.join(unknown[:10])}")
    acro = writer._root_object["/AcroForm"].get_object()
    acro[NameObject("/NeedAppearances")] = BooleanObject(True)  # type: ignore[index]
    out = io.BytesIO()
    writer.write(out)
    texts = {k: str(v) for k, v in values.items() if not isinstance(v, bool)}
    return _with_appearances(out.getvalue(), texts)


def _with_appearances(pdf_bytes: bytes, texts: dict[str, str]) -> bytes:
    """Give each filled text field an appearance drawn with an embedded Japanese font."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        widgets = []
        for page in pdf.pages:
            for annot in page.obj.get("/Annots") or []:
                if annot.get("/Subtype") == pikepdf.Name.Widget and annot.get("/FT") == pikepdf.Name.Tx:
                    name = _qualified_name_pikepdf(annot)
                    if texts.get(name):
                        widgets.append((annot, texts[name]))
        if widgets:
            font = register_font(TYPE_FONT)
            buf = io.BytesIO()
            canvas = Canvas(buf, invariant=1, initialFontName=font)
            for annot, text in widgets:
                x0, y0, x1, y1 = (float(v) for v in annot.Rect)
                w, h = x1 - x0, y1 - y0
                canvas.setPageSize((w, h))
                size = min(10.0, h * 0.5)
                while size > 5 and string_width(text, font, size) > w - 4:
                    size -= 0.5
                canvas.setFont(font, size)
                canvas.drawString(2, h * 0.3, text)
                canvas.showPage()
            canvas.save()
            with pikepdf.open(io.BytesIO(buf.getvalue())) as drawn:
                for (annot, _), page in zip(widgets, drawn.pages, strict=True):
                    annot.AP = pikepdf.Dictionary(N=pdf.copy_foreign(page.as_form_xobject()))
            pdf.Root.AcroForm.NeedAppearances = False
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()


def _qualified_name_pikepdf(annot: pikepdf.Object) -> str:
    parts: list[str] = []
    node: pikepdf.Object | None = annot
    while node is not None:
        if "/T" in node:
            parts.append(str(node.T))
        node = node.get("/Parent")
    return ".".join(reversed(parts))


def print_filled(
    folder: Path | str,
    marks: set[tuple[str, str]],
    fields: dict[str, str],
    style: FillStyle,
    out: Path | str,
) -> None:
    """Write a born-digital filled printing of the form in `folder` to `out`.

    Args:
        marks: (owner, option) pairs to mark, e.g. ("1-1-1", "yes"), ("3-1-7", "over_100km").
        fields: layout field name → text; signature places get the text as a typed name,
            seal places a red stamp with the text in it.
        style: "glyph" puts ■ (a text glyph, in the text layer) on each marked box and ○ in a
            marked bracket; "drawn" strokes a ✓ (or a circle) as vector lines, no text.
    """
    folder = Path(folder)
    form = load_form(folder)
    known = {(b.owner, b.option) for p in form.pages for b in p.boxes}
    names = {f.name for p in form.pages for f in p.fields}
    unknown = sorted(f"{o}/{k}" for o, k in marks - known) + sorted(set(fields) - names)
    if unknown:
        raise KeyError(f"{folder}: not in layout.yaml: {', '.join(unknown[:10])}")
    overlay = _overlay(form.pages, marks, fields, style)
    with pikepdf.open(folder / "blank.pdf") as pdf, pikepdf.open(io.BytesIO(overlay)) as over:
        for page, extra in zip(pdf.pages, over.pages, strict=False):
            # pikepdf's add_overlay names the XObject at random; a fixed name keeps the bytes stable
            xobj = pdf.copy_foreign(extra.as_form_xobject())
            page.add_resource(xobj, pikepdf.Name.XObject, pikepdf.Name("/FilledIn"), replace_existing=True)
            page.contents_add(pikepdf.Stream(pdf, b"q"), prepend=True)
            page.contents_add(pikepdf.Stream(pdf, b"Q q /FilledIn Do Q"), prepend=False)
        buf = io.BytesIO()
        pdf.save(buf, deterministic_id=True)
    Path(out).write_bytes(buf.getvalue())


def _overlay(pages: tuple[PageLayout, ...], marks: set[tuple[str, str]], fields: dict[str, str], style: FillStyle) -> bytes:
    font = register_font(TYPE_FONT)
    buf = io.BytesIO()
    canvas = Canvas(buf, invariant=1, initialFontName=font)
    for page in pages:
        canvas.setPageSize((page.width_pt, page.height_pt))
        h = page.height_pt
        for box in page.boxes:
            if (box.owner, box.option) not in marks:
                continue
            if box.shape == "bracket":
                _circle_mark(canvas, box.bbox, h, style, font)
            elif style == "glyph":
                _glyph_over(canvas, box.bbox, h, font)
            else:
                _tick(canvas, box.bbox, h)
        for f in page.fields:
            if f.name in fields and fields[f.name]:
                _type(canvas, f, fields[f.name], h, font)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _glyph_over(canvas: Canvas, bbox: BBox, h: float, font: str) -> None:
    """■ sized and placed so its ink covers the box exactly."""
    x_min, y_min, x_max, y_max, upem = glyph_units(TYPE_FONT, MARK_GLYPH)
    size = (bbox[2] - bbox[0]) * upem / (x_max - x_min)
    k = size / upem
    x = bbox[0] - x_min * k
    baseline = bbox[3] + y_min * k  # top-down: the glyph's bottom sits on the box's bottom
    canvas.setFont(font, size)
    canvas.drawString(x, h - baseline, MARK_GLYPH)


def _tick(canvas: Canvas, bbox: BBox, h: float) -> None:
    x0, y0, x1, y1 = bbox
    w, hh = x1 - x0, y1 - y0
    canvas.setLineWidth(max(1.0, w * 0.13))
    canvas.setLineCap(1)
    canvas.setLineJoin(1)
    path = canvas.beginPath()
    path.moveTo(x0 + 0.18 * w, h - (y0 + 0.55 * hh))
    path.lineTo(x0 + 0.42 * w, h - (y0 + 0.82 * hh))
    path.lineTo(x0 + 0.86 * w, h - (y0 + 0.16 * hh))
    canvas.drawPath(path, stroke=1, fill=0)


def _circle_mark(canvas: Canvas, bbox: BBox, h: float, style: FillStyle, font: str) -> None:
    x0, y0, x1, y1 = bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if style == "glyph":
        size = (y1 - y0) * 0.95
        canvas.setFont(font, size)
        canvas.drawString(cx - string_width("○", font, size) / 2, h - (cy + 0.38 * size), "○")
    else:
        canvas.setLineWidth(1.1)
        r = (y1 - y0) * 0.42
        canvas.ellipse(cx - r * 1.3, h - (cy + r), cx + r * 1.3, h - (cy - r), stroke=1, fill=0)


def _type(canvas: Canvas, f: FieldLayout, text: str, h: float, font: str) -> None:
    x0, y0, x1, y1 = f.bbox
    height = y1 - y0
    if f.kind == "seal":
        _stamp(canvas, f.bbox, text, h, font)
        return
    size = min(10.0, height * 0.5)
    if f.kind == "date":
        _type_date(canvas, f.bbox, text, h, font)
        return
    while size > 5 and string_width(text, font, size) > (x1 - x0) - 4:
        size -= 0.5
    baseline = y1 - height * 0.3 if f.kind != "signature" else (y0 + y1) / 2 + 0.38 * size
    canvas.setFillColorRGB(0.05, 0.1, 0.35) if f.kind == "signature" else canvas.setFillGray(0)
    canvas.setFont(font, size)
    canvas.drawString(x0 + 3, h - baseline, text)
    canvas.setFillGray(0)


def _type_date(canvas: Canvas, bbox: BBox, text: str, h: float, font: str) -> None:
    """Numbers into the gaps before 年, 月 and 日 (a date field spans 「　年　月　日」)."""
    x0, y0, x1, y1 = bbox
    numbers = re.findall(r"\d+", text)
    em = (y1 - y0) / (FIELD_ABOVE + FIELD_BELOW)  # a field is that many label sizes tall
    gap = ((x1 - x0) - 3 * em) / 3
    size = min(10.0, em)
    baseline = y1 - 0.45 * em
    canvas.setFont(font, size)
    for i, number in enumerate(numbers[:3]):
        centre = x0 + i * (gap + em) + gap / 2
        canvas.drawString(centre - string_width(number, font, size) / 2, h - baseline, number)


def _stamp(canvas: Canvas, bbox: BBox, text: str, h: float, font: str) -> None:
    x0, y0, x1, y1 = bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    r = (x1 - x0) * 0.3
    canvas.setStrokeColorRGB(0.8, 0.1, 0.1)
    canvas.setFillColorRGB(0.8, 0.1, 0.1)
    canvas.setLineWidth(1.2)
    canvas.circle(cx, h - cy, r, stroke=1, fill=0)
    chars = list(text[:2]) or ["印"]
    size = r * 2 * 0.8 / len(chars)
    canvas.setFont(font, size)
    for i, ch in enumerate(chars):
        base = cy - r * 0.8 + (i + 1) * size - 0.12 * size
        canvas.drawString(cx - string_width(ch, font, size) / 2, h - base, ch)
    canvas.setStrokeGray(0)
    canvas.setFillGray(0)
