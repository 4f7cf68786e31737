"""fillable.pdf: our printing with an AcroForm widget on every box and every typed field.

Checkboxes are named `<owner>.<option>` (export value /Yes), text fields `<owner>.<name>` as in
layout.yaml. Signature and seal places get no widget: they need ink on paper. The names are
real PDF field hierarchies (a parent per owner, a kid per option), so the fully-qualified
names are exactly the layout's names. Widget rectangles are the layout's bboxes.
"""

from __future__ import annotations

import io
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.printing.blank import render
from pipeline.form.printing.sheet import Sheet
from pipeline.form.printing.style import PrintStyle
from pipeline.model.records import FormDef

TEXT_KINDS = ("text", "url", "date")
# A CJK font every PDF viewer knows by name (Adobe-Japan1), so typed Japanese displays when the
# viewer builds the field's appearance (NeedAppearances). Not embedded: it is only a default.
FIELD_FONT = "HeiseiKakuGo-W5"
FIELD_DA = "/HeiGo 0 Tf 0 g"
_CLEAR = Color(1, 1, 1, alpha=0)


def widget_hook(canvas: Canvas, sheet: Sheet) -> None:
    """Place the widgets of one drawn page (reportlab's origin is the bottom left)."""
    form = canvas.acroForm
    h = sheet.height
    for box in sheet.record.boxes:
        x0, y0, x1, y1 = box.bbox
        form.checkbox(
            name=f"{box.owner}.{box.option}",
            x=x0,
            y=h - y1,
            size=min(x1 - x0, y1 - y0),
            buttonStyle="check",
            borderWidth=0,
            borderColor=_CLEAR,
            fillColor=_CLEAR,
            textColor=Color(0, 0, 0),
            fieldFlags="",
            annotationFlags="print",
            tooltip=f"{box.owner} {box.option}",
        )
    for f in sheet.record.fields:
        if f.kind not in TEXT_KINDS:
            continue
        x0, y0, x1, y1 = f.bbox
        form.textfield(
            name=f.name,
            x=x0,
            y=h - y1,
            width=x1 - x0,
            height=y1 - y0,
            borderWidth=0,
            borderColor=_CLEAR,
            fillColor=_CLEAR,
            textColor=Color(0, 0, 0),
            fontSize=10,
            maxlen=0,
            fieldFlags="",
            annotationFlags="print",
            tooltip=f.name,
        )


def make_fillable(form: FormDef, style: PrintStyle) -> bytes:
    """Draw the printing with widgets, then give the fields their hierarchy and Japanese font."""
    printed = render(form, style, page_hook=widget_hook)
    rects = {}
    for page in printed.pages:
        for box in page.boxes:
            rects[f"{box.owner}.{box.option}"] = (page.size[1], box.bbox)
        for f in page.fields:
            rects[f.name] = (page.size[1], f.bbox)
    with pikepdf.open(io.BytesIO(printed.pdf)) as pdf:
        acro = pdf.Root.AcroForm
        _nest_fields(pdf, acro, rects)
        font = _cjk_font(pdf)
        dr = acro.get("/DR") or Dictionary()
        fonts = dr.get("/Font") or Dictionary()
        fonts["/HeiGo"] = font
        dr["/Font"] = fonts
        acro["/DR"] = dr
        acro["/DA"] = String(FIELD_DA)
        acro["/NeedAppearances"] = True
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()


def _nest_fields(pdf: pikepdf.Pdf, acro: Any, rects: dict[str, tuple[float, tuple[float, float, float, float]]]) -> None:
    parents: dict[str, Any] = {}
    order: list[Any] = []
    for field in list(acro.Fields):
        full = str(field.T)
        owner, _, leaf = full.partition(".")
        if owner not in parents:
            parents[owner] = pdf.make_indirect(Dictionary(T=String(owner), Kids=Array()))
            order.append(parents[owner])
        parent = parents[owner]
        field.T = String(leaf)
        field.Parent = parent
        parent.Kids.append(field)
        if full in rects:
            height, (x0, y0, x1, y1) = rects[full]
            field.Rect = Array([x0, height - y1, x1, height - y0])
        if field.get("/FT") == Name.Tx:
            field.DA = String(FIELD_DA.replace(" 0 Tf", " 10 Tf"))
            for key in ("/MaxLen", "/AP"):  # an empty field needs no appearance (NeedAppearances)
                if key in field:
                    del field[key]
    acro.Fields = Array(order)


def _cjk_font(pdf: pikepdf.Pdf) -> Any:
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name("/" + FIELD_FONT),
        Flags=4,
        FontBBox=Array([-92, -250, 1010, 922]),
        ItalicAngle=0,
        Ascent=752,
        Descent=-221,
        CapHeight=737,
        StemV=114,
    )
    cid = Dictionary(
        Type=Name.Font,
        Subtype=Name.CIDFontType0,
        BaseFont=Name("/" + FIELD_FONT),
        CIDSystemInfo=Dictionary(Registry=String("Adobe"), Ordering=String("Japan1"), Supplement=2),
        FontDescriptor=pdf.make_indirect(descriptor),
        DW=1000,
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/" + FIELD_FONT),
            Encoding=Name("/UniJIS-UCS2-H"),
            DescendantFonts=Array([pdf.make_indirect(cid)]),
        )
    )
