"""Pages and bands the dossier draws itself (reportlab): header bands of attachments, answer-sheet pages with what was read, placeholders, the footer.

Coordinates handed in are PDF points with the origin at the top left (as result.json); reportlab's
origin is the bottom left, so each drawing turns them over itself.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pikepdf

from pipeline.model.geometry import px_to_pt

log = logging.getLogger(__name__)

A4_PT = (595.28, 841.89)  # portrait width, height in PDF points
FOOTER_BAND_PT = 18.0  # kept free at the bottom of attachment pages for the footer
FOOTER_BASELINE_PT = 16.0  # footer text baseline above the page's bottom edge
FOOTER_SIZE_PT = 8.0
GOTHIC = "IPAexGothic"  # the footer and separator fonts (fonts-ipaexfont), embedded as subsets
MINCHO = "IPAexMincho"
LABEL_CROP_DPI = 150  # a label crop on a separator page is drawn at the size it has at this resolution (at most 70 mm wide)
BAND_PT = 80.0  # ~28 mm at the top of an attachment's first page: what it is and where it came from
NAVY = "#1F3864"


@dataclass(frozen=True, slots=True)
class SeparatorPage:
    """The small page filed before an attachment: what it is and where it came from."""

    heading: str  # 添付資料 A-03
    subheading: str  # 審査項目 1-1-1 セキュリティポリシー
    rows: tuple[tuple[str, str], ...]  # (label, value) lines of the table
    note: str = ""
    crop: Path | None = None  # the attachment's label crop, shown if it exists


@dataclass(frozen=True, slots=True)
class Shape:
    """One thing drawn over an answer-sheet page: a frame in a style, with a short tag beside it."""

    bbox: tuple[float, float, float, float]  # PDF points, origin top left (as result.json)
    style: str  # a key of SHAPE_STYLES
    tag: str = ""


@dataclass(frozen=True, slots=True)
class ShapeStyle:
    """How a frame is drawn: readable in black-and-white print by its line and its tag, not only its colour."""

    colour: str  # #RRGGBB
    width_pt: float
    dash: tuple[float, ...]  # () solid
    legend: str  # what the appendix's legend says


SHAPE_STYLES = {
    "checked": ShapeStyle("#1565C0", 1.6, (), "有＝印あり（太い実線）"),
    "empty": ShapeStyle("#757575", 0.6, (1.0, 1.5), "無＝印なし（細い点線）"),
    "uncertain": ShapeStyle("#E65100", 1.6, (3.0, 1.5), "？＝判定できない（太い破線）"),
    "field": ShapeStyle("#2E7D32", 0.7, (), "記入欄（細い実線）"),
    "sign": ShapeStyle("#2E7D32", 1.2, (4.0, 1.0, 1.0, 1.0), "署名・押印の箇所（一点鎖線）"),
    "corrected": ShapeStyle("#AD1457", 2.0, (), "訂＝審査者が訂正（二重枠）"),
}


@dataclass(frozen=True, slots=True)
class AnswerSheetPage:
    """A page of the answer sheet for the appendix: its picture and what was read, drawn over it."""

    image: Path  # grey PNG of the page in the blank's frame
    width_pt: float
    height_pt: float
    title: str  # 回答書 p.3（scan.pdf p.3）
    shapes: tuple[Shape, ...]


@cache
def font_file(family: str) -> str:
    """Path of an installed font by family name, via fontconfig (raises if it is missing)."""
    try:
        out = subprocess.run(["fc-match", "-f", "%{family}|%{file}", family], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"fontconfig (fc-match) failed looking for {family}: {exc}") from exc
    families, _, path = out.partition("|")
    if family.lower() not in families.lower() or not os.path.isfile(path):
        raise RuntimeError(f"font {family} is not installed (fonts-ipaexfont); fc-match gave {out!r}")
    return path


@cache
def register_font(family: str) -> str:
    """Register a TrueType font with reportlab once per process (parsing IPAex takes ~0.1 s)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(family, font_file(family)))
    return family


@contextmanager
def binary_streams() -> Iterator[None]:
    """Write reportlab's streams in binary while saving: ASCII85 only makes our pages bigger and slower.

    reportlab reads this from its process-wide rl_config, which the printing of forms also uses:
    the setting is restored afterwards, so drawing a dossier never changes how a form prints.
    """
    from reportlab import rl_config

    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


# --- pages drawn with reportlab -----------------------------------------------------------------


def draw_separator(c: object, sep: SeparatorPage, width: float, height: float) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    gothic, mincho = register_font(GOTHIC), register_font(MINCHO)
    left, right = 25 * mm, width - 25 * mm
    c.setStrokeColor(HexColor("#1F3864"))
    c.setLineWidth(1.2)
    c.rect(18 * mm, 25 * mm, width - 36 * mm, height - 50 * mm)
    c.setFillColor(HexColor("#1F3864"))
    c.rect(18 * mm, height - 60 * mm, width - 36 * mm, 35 * mm, stroke=0, fill=1)
    c.setFillColor(HexColor("#FFFFFF"))
    c.setFont(gothic, 26)
    c.drawString(left, height - 44 * mm, sep.heading)
    c.setFont(gothic, 13)
    c.drawString(left, height - 54 * mm, fit_line(sep.subheading, gothic, 13, right - left, stringWidth))
    y = height - 78 * mm
    c.setFillColor(HexColor("#000000"))
    for label, value in sep.rows:
        c.setFont(gothic, 10.5)
        c.drawString(left, y, label)
        c.setFont(mincho, 10.5)
        for line in wrap(value, mincho, 10.5, right - left - 38 * mm, stringWidth)[:4]:
            c.drawString(left + 38 * mm, y, line)
            y -= 6.5 * mm
        c.setStrokeColor(HexColor("#BFBFBF"))
        c.setLineWidth(0.4)
        c.line(left, y + 4 * mm, right, y + 4 * mm)
        y -= 2.5 * mm
    if sep.crop is not None and sep.crop.is_file():
        try:
            from reportlab.lib.utils import ImageReader

            img = ImageReader(str(sep.crop))
            iw, ih = img.getSize()
            w = min(70 * mm, px_to_pt(iw, LABEL_CROP_DPI))
            h = w * ih / iw
            if h > 35 * mm:
                h, w = 35 * mm, 35 * mm * iw / ih
            c.setFont(gothic, 9)
            c.drawString(left, y - 2 * mm, "右肩表示の読取箇所")
            c.drawImage(img, left, y - 6 * mm - h, w, h)
            c.setStrokeColor(HexColor("#808080"))
            c.rect(left, y - 6 * mm - h, w, h)
            y -= 12 * mm + h
        except Exception as exc:  # a broken crop must not cost the dossier
            log.warning("label crop %s could not be drawn: %s", sep.crop, exc)
    if sep.note:
        c.setFont(gothic, 10)
        c.setFillColor(HexColor("#404040"))
        for line in wrap(sep.note, gothic, 10, right - left, stringWidth)[:6]:
            y -= 6 * mm
            c.drawString(left, y, line)


def draw_placeholder(c: object, text: str, width: float, height: float) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    gothic = register_font(GOTHIC)
    c.setStrokeColor(HexColor("#C00000"))
    c.setLineWidth(2)
    c.rect(30 * mm, height / 2 - 30 * mm, width - 60 * mm, 60 * mm)
    c.setFillColor(HexColor("#C00000"))
    c.setFont(gothic, 16)
    c.drawCentredString(width / 2, height / 2 + 15 * mm, "✕ このページを読み込めませんでした")
    c.setFillColor(HexColor("#000000"))
    c.setFont(gothic, 10)
    y = height / 2
    for line in wrap(text, gothic, 10, width - 80 * mm, stringWidth)[:5]:
        c.drawCentredString(width / 2, y, line)
        y -= 6 * mm


def fit_line(text: str, font: str, size: float, width: float, sw: object) -> str:
    lines = wrap(text, font, size, width, sw)
    return lines[0] + ("…" if len(lines) > 1 else "") if lines else ""


def wrap(text: str, font: str, size: float, width: float, sw: object) -> list[str]:
    """Break text into lines no wider than width (character-wise: Japanese has no spaces)."""
    assert callable(sw)
    lines: list[str] = []
    widths: dict[str, float] = {}
    for para in str(text).splitlines() or [""]:
        line, used = "", 0.0
        for ch in para:
            w = widths.get(ch)
            if w is None:
                w = widths[ch] = sw(ch, font, size)
            if used + w > width and line:
                lines.append(line)
                line, used = ch, w
            else:
                line, used = line + ch, used + w
        lines.append(line)
    return lines


def inserts_pdf(items: Sequence[tuple[str, object]]) -> pikepdf.Pdf:
    """Draw the dossier's own pages into one PDF, in order.

    Kinds: ``separator`` (A4, an attachment without pages), ``placeholder`` (A4, a page that could
    not be read), ``band`` ((SeparatorPage, (w, h)): a transparent page of that size with the
    header band at its top, laid over an attachment's first page) and ``sheet`` (AnswerSheetPage).
    """
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    # initialFontName: otherwise reportlab references a (non-embedded) Helvetica on every page.
    c = Canvas(buf, pagesize=A4_PT, pageCompression=1, initialFontName=register_font(GOTHIC))
    for kind, payload in items:
        c.setPageSize(A4_PT)
        if kind == "separator":
            assert isinstance(payload, SeparatorPage)
            draw_separator(c, payload, *A4_PT)
        elif kind == "band":
            assert isinstance(payload, tuple)
            band: SeparatorPage = payload[0]
            size: tuple[float, float] = payload[1]
            c.setPageSize(size)
            draw_band(c, band, *size)
        elif kind == "sheet":
            assert isinstance(payload, AnswerSheetPage)
            draw_answer_sheet(c, payload, *A4_PT)
        else:
            draw_placeholder(c, str(payload), *A4_PT)
        c.showPage()
    with binary_streams():
        c.save()
    return pikepdf.open(io.BytesIO(buf.getvalue()))


def draw_band(c: object, sep: SeparatorPage, width: float, height: float) -> None:
    """The header band introducing an attachment on its first page: title, where it came from, the label read."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    gothic = register_font(GOTHIC)
    left, top = 12 * mm, height - 5 * mm
    right = width - 12 * mm
    crop_w = _band_crop_width(sep)
    text_right = right - (crop_w + 3 * mm if crop_w else 0)
    title = wrap(f"{sep.heading}　{sep.subheading}", gothic, 10.5, text_right - left - 4 * mm, stringWidth)[:2]
    info = "　／　".join(f"{k}：{v}" for k, v in sep.rows)
    lines = wrap(info, gothic, 7.5, text_right - left - 4 * mm, stringWidth)[:3]
    notes = wrap(sep.note, gothic, 7.5, text_right - left - 4 * mm, stringWidth)[:2] if sep.note else []
    title_h = 4 * mm + 4.6 * mm * len(title)
    body_h = 2.5 * mm + 3.5 * mm * (len(lines) + len(notes))
    c.setFillColor(HexColor(NAVY))
    c.rect(left, top - title_h, right - left, title_h, stroke=0, fill=1)
    c.setFillColor(HexColor("#EEF2F8"))
    c.rect(left, top - title_h - body_h, right - left, body_h, stroke=0, fill=1)
    c.setStrokeColor(HexColor(NAVY))
    c.setLineWidth(0.8)
    c.rect(left, top - title_h - body_h, right - left, title_h + body_h, stroke=1, fill=0)
    c.setFillColor(HexColor("#FFFFFF"))
    c.setFont(gothic, 10.5)
    y = top - 5.5 * mm
    for line in title:
        c.drawString(left + 2 * mm, y, line)
        y -= 4.6 * mm
    c.setFillColor(HexColor("#000000"))
    c.setFont(gothic, 7.5)
    y = top - title_h - 3.6 * mm
    for line in lines:
        c.drawString(left + 2 * mm, y, line)
        y -= 3.5 * mm
    c.setFillColor(HexColor("#8A3B00"))
    for line in notes:
        c.drawString(left + 2 * mm, y, line)
        y -= 3.5 * mm
    if crop_w and sep.crop is not None:
        _draw_band_crop(c, sep.crop, right - crop_w - 1 * mm, top - title_h - body_h + 1 * mm, crop_w, title_h + body_h - 2 * mm)


def _band_crop_width(sep: SeparatorPage) -> float:
    return 40 * 2.8346 if sep.crop is not None and sep.crop.is_file() else 0.0


def _draw_band_crop(c: object, path: Path, x: float, y: float, w: float, h: float) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    try:
        img = ImageReader(str(path))
        iw, ih = img.getSize()
        scale = min(w / iw, h / ih)
        c.setFillColor(HexColor("#FFFFFF"))
        c.rect(x, y, w, h, stroke=0, fill=1)
        c.drawImage(img, x + (w - iw * scale) / 2, y + (h - ih * scale) / 2, iw * scale, ih * scale)
        c.setStrokeColor(HexColor("#808080"))
        c.setLineWidth(0.4)
        c.rect(x, y, w, h)
    except Exception as exc:  # a broken crop must not cost the dossier
        log.warning("label crop %s could not be drawn: %s", path, exc)


def draw_answer_sheet(c: object, sheet: AnswerSheetPage, width: float, height: float) -> None:
    """An answer-sheet page of the appendix: its picture, every frame over it, a legend below."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    gothic = register_font(GOTHIC)
    c.setFillColor(HexColor(NAVY))
    c.setFont(gothic, 10)
    c.drawString(12 * mm, height - 10 * mm, sheet.title)
    box_top, box_bottom = height - 13 * mm, FOOTER_BAND_PT + 17 * mm
    scale = min((width - 24 * mm) / sheet.width_pt, (box_top - box_bottom) / sheet.height_pt)
    w, h = sheet.width_pt * scale, sheet.height_pt * scale
    x0, y_top = (width - w) / 2, box_top
    try:
        c.drawImage(ImageReader(str(sheet.image)), x0, y_top - h, w, h)
    except Exception as exc:  # a missing picture leaves the frames on white
        log.warning("page image %s could not be drawn: %s", sheet.image, exc)
    c.setStrokeColor(HexColor("#BFBFBF"))
    c.setLineWidth(0.4)
    c.rect(x0, y_top - h, w, h)
    for shape in sheet.shapes:
        _draw_shape(c, shape, x0, y_top, scale)
    _draw_legend(c, 12 * mm, box_bottom - 5 * mm, width - 24 * mm)


def _draw_shape(c: object, shape: Shape, x0: float, y_top: float, scale: float) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    st = SHAPE_STYLES.get(shape.style, SHAPE_STYLES["field"])
    bx0, by0, bx1, by1 = shape.bbox
    x, y = x0 + bx0 * scale, y_top - by1 * scale
    w, h = (bx1 - bx0) * scale, (by1 - by0) * scale
    c.setStrokeColor(HexColor(st.colour))
    c.setLineWidth(st.width_pt)
    c.setDash(list(st.dash) if st.dash else [])
    c.rect(x, y, w, h, stroke=1, fill=0)
    if shape.style == "corrected":
        c.rect(x - 2.2, y - 2.2, w + 4.4, h + 4.4, stroke=1, fill=0)
    c.setDash([])
    if shape.tag:
        size = 6.5
        gothic = register_font(GOTHIC)
        from reportlab.pdfbase.pdfmetrics import stringWidth

        tw = stringWidth(shape.tag, gothic, size)
        # Above the frame's top-left corner: beside it would cover the item number or the statement.
        tx, ty = x, y + h + 1.2
        if shape.style == "corrected":  # beside its frame, clear of the mark's own tag above it
            tx = x + w + 3.0
        c.setFillColor(HexColor("#FFFFFF"))
        c.rect(tx - 0.6, ty - 1.2, tw + 1.2, size + 1.4, stroke=0, fill=1)
        c.setFillColor(HexColor(st.colour))
        c.setFont(gothic, size)
        c.drawString(tx, ty, shape.tag)


def _draw_legend(c: object, x: float, y: float, width: float) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    gothic = register_font(GOTHIC)
    c.setFont(gothic, 7)
    cx, cy = x, y
    for key, st in SHAPE_STYLES.items():
        item_w = 14 + stringWidth(st.legend, gothic, 7) + 10
        if cx + item_w > x + width:
            cx, cy = x, cy - 11
        c.setStrokeColor(HexColor(st.colour))
        c.setLineWidth(st.width_pt)
        c.setDash(list(st.dash) if st.dash else [])
        c.rect(cx, cy - 1, 10, 7, stroke=1, fill=0)
        if key == "corrected":
            c.rect(cx - 1.5, cy - 2.5, 13, 10, stroke=1, fill=0)
        c.setDash([])
        c.setFillColor(HexColor("#000000"))
        c.drawString(cx + 14, cy, st.legend)
        cx += item_w


def footer_pdf(sizes: Sequence[tuple[float, float]], name: str) -> pikepdf.Pdf:
    """One overlay page per dossier page: 'name — page x / y' centred at the bottom."""
    from reportlab.lib.colors import HexColor
    from reportlab.pdfgen.canvas import Canvas

    gothic = register_font(GOTHIC)
    buf = io.BytesIO()
    c = Canvas(buf, pageCompression=1, initialFontName=gothic)
    total = len(sizes)
    for i, (w, h) in enumerate(sizes, start=1):
        c.setPageSize((w, h))
        c.setFont(gothic, FOOTER_SIZE_PT)
        c.setFillColor(HexColor("#404040"))
        c.drawCentredString(w / 2, FOOTER_BASELINE_PT, f"{name} — {i} / {total}")
        c.showPage()
    with binary_streams():
        c.save()
    return pikepdf.open(io.BytesIO(buf.getvalue()))
