"""Assemble the dossier PDF: review pages + separator pages + attachment pages, outline, footer.

Everything here is pikepdf (merging, outline, placing pages) and reportlab (separator pages,
placeholders, the footer overlay, image pages never leave PIL/pikepdf). Page numbers in this
module's public API are 1-based dossier pages unless the name says ``index``.

Every attachment page is placed, scaled to fit, on an A4 page of the same orientation, leaving a
band at the bottom for the footer, so the footer never covers the applicant's content and the
whole dossier prints on A4. Source files are opened read-only and never saved.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Name, Rectangle

from pipeline.model.geometry import px_to_pt

log = logging.getLogger(__name__)

A4_PT = (595.28, 841.89)  # portrait width, height in PDF points
FOOTER_BAND_PT = 18.0  # kept free at the bottom of attachment pages for the footer
FOOTER_BASELINE_PT = 16.0  # footer text baseline above the page's bottom edge
FOOTER_SIZE_PT = 8.0
IMAGE_MARGIN_PT = 28.0  # ~10 mm around image pages (PNG/JPEG/TIFF attachments)
GOTHIC = "IPAexGothic"  # the footer and separator fonts (fonts-ipaexfont), embedded as subsets
MINCHO = "IPAexMincho"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
LABEL_CROP_DPI = 150  # a label crop on a separator page is drawn at the size it has at this resolution (at most 70 mm wide)


# --- what render.py hands over --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourcePage:
    """One page of an original file: absolute path, 1-based page (frame for images)."""

    path: Path
    page: int
    label: str  # how staff see it: "scan.pdf p.5"


@dataclass(frozen=True, slots=True)
class SeparatorPage:
    """The small page filed before an attachment: what it is and where it came from."""

    heading: str  # 添付資料 A-03
    subheading: str  # 審査項目 1-1-1 セキュリティポリシー
    rows: tuple[tuple[str, str], ...]  # (label, value) lines of the table
    note: str = ""
    crop: Path | None = None  # the attachment's label crop, shown if it exists


@dataclass(frozen=True, slots=True)
class FiledAttachment:
    key: str  # attachment id, e.g. "att-03"
    outline_title: str
    separator: SeparatorPage
    pages: tuple[SourcePage, ...]


@dataclass(frozen=True, slots=True)
class OutlineGroup:
    """One bookmark under 添付資料 (an item, or the unlabelled documents) and its attachments."""

    title: str
    attachment_keys: tuple[str, ...]
    child_titles: tuple[str, ...] = ()  # per attachment; the attachment's own title when empty


@dataclass(frozen=True, slots=True)
class PagePlan:
    """Where an attachment lands in the dossier (1-based pages)."""

    separator: int
    first: int | None  # first attachment page, None when it has none
    last: int | None


@dataclass(slots=True)
class MergeReport:
    total_pages: int
    review_pages: int
    separator_pages: int
    attachment_pages: int
    placeholders: list[str] = field(default_factory=list)  # pages that could not be read, and why
    outline: list[str] = field(default_factory=list)  # every outline title, depth-first


def plan_pages(review_pages: int, attachments: Sequence[tuple[str, int]]) -> dict[str, PagePlan]:
    """Dossier pages of each attachment (key, page count), given the review pages before them."""
    plans: dict[str, PagePlan] = {}
    page = review_pages
    for key, n in attachments:
        sep = page + 1
        plans[key] = PagePlan(sep, sep + 1 if n else None, sep + n if n else None)
        page = sep + n
    return plans


# --- fonts ------------------------------------------------------------------------------------


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
def _register(family: str) -> str:
    """Register a TrueType font with reportlab once per process (parsing IPAex takes ~0.1 s)."""
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    rl_config.useA85 = 0  # binary streams: ASCII85 only makes our pages bigger and slower to write
    pdfmetrics.registerFont(TTFont(family, font_file(family)))
    return family


# --- pages drawn with reportlab -----------------------------------------------------------------


def _draw_separator(c: object, sep: SeparatorPage, width: float, height: float) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    gothic, mincho = _register(GOTHIC), _register(MINCHO)
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
    c.drawString(left, height - 54 * mm, _fit(sep.subheading, gothic, 13, right - left, stringWidth))
    y = height - 78 * mm
    c.setFillColor(HexColor("#000000"))
    for label, value in sep.rows:
        c.setFont(gothic, 10.5)
        c.drawString(left, y, label)
        c.setFont(mincho, 10.5)
        for line in _wrap(value, mincho, 10.5, right - left - 38 * mm, stringWidth)[:4]:
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
        for line in _wrap(sep.note, gothic, 10, right - left, stringWidth)[:6]:
            y -= 6 * mm
            c.drawString(left, y, line)


def _draw_placeholder(c: object, text: str, width: float, height: float) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(c, Canvas)
    gothic = _register(GOTHIC)
    c.setStrokeColor(HexColor("#C00000"))
    c.setLineWidth(2)
    c.rect(30 * mm, height / 2 - 30 * mm, width - 60 * mm, 60 * mm)
    c.setFillColor(HexColor("#C00000"))
    c.setFont(gothic, 16)
    c.drawCentredString(width / 2, height / 2 + 15 * mm, "✕ このページを読み込めませんでした")
    c.setFillColor(HexColor("#000000"))
    c.setFont(gothic, 10)
    y = height / 2
    for line in _wrap(text, gothic, 10, width - 80 * mm, stringWidth)[:5]:
        c.drawCentredString(width / 2, y, line)
        y -= 6 * mm


def _fit(text: str, font: str, size: float, width: float, sw: object) -> str:
    lines = _wrap(text, font, size, width, sw)
    return lines[0] + ("…" if len(lines) > 1 else "") if lines else ""


def _wrap(text: str, font: str, size: float, width: float, sw: object) -> list[str]:
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


def _inserts_pdf(items: Sequence[tuple[str, object]]) -> pikepdf.Pdf:
    """Draw separator and placeholder pages (A4 portrait) into one PDF, in order."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    # initialFontName: otherwise reportlab references a (non-embedded) Helvetica on every page.
    c = Canvas(buf, pagesize=A4_PT, pageCompression=1, initialFontName=_register(GOTHIC))
    for kind, payload in items:
        if kind == "separator":
            assert isinstance(payload, SeparatorPage)
            _draw_separator(c, payload, *A4_PT)
        else:
            _draw_placeholder(c, str(payload), *A4_PT)
        c.showPage()
    c.save()
    return pikepdf.open(io.BytesIO(buf.getvalue()))


def _footer_pdf(sizes: Sequence[tuple[float, float]], name: str) -> pikepdf.Pdf:
    """One overlay page per dossier page: 'name — page x / y' centred at the bottom."""
    from reportlab.lib.colors import HexColor
    from reportlab.pdfgen.canvas import Canvas

    gothic = _register(GOTHIC)
    buf = io.BytesIO()
    c = Canvas(buf, pageCompression=1, initialFontName=gothic)
    total = len(sizes)
    for i, (w, h) in enumerate(sizes, start=1):
        c.setPageSize((w, h))
        c.setFont(gothic, FOOTER_SIZE_PT)
        c.setFillColor(HexColor("#404040"))
        c.drawCentredString(w / 2, FOOTER_BASELINE_PT, f"{name} — {i} / {total}")
        c.showPage()
    c.save()
    return pikepdf.open(io.BytesIO(buf.getvalue()))


# --- attachment pages ---------------------------------------------------------------------------


class _Sources:
    """Opens each original once, read-only; images become pikepdf image XObjects."""

    def __init__(self) -> None:
        self._pdfs: dict[Path, pikepdf.Pdf | Exception] = {}
        self._frames: dict[Path, list[tuple[int, int, bytes, str, int]] | Exception] = {}

    def close(self) -> None:
        for pdf in self._pdfs.values():
            if isinstance(pdf, pikepdf.Pdf):
                pdf.close()

    def pdf_page(self, path: Path, page: int) -> pikepdf.Page:
        if path not in self._pdfs:
            try:
                self._pdfs[path] = pikepdf.open(path)  # read-only: never saved
            except Exception as exc:  # noqa: BLE001 - any failure is that file's problem
                self._pdfs[path] = exc
        pdf = self._pdfs[path]
        if isinstance(pdf, Exception):
            raise ValueError(_reason(pdf)) from pdf
        if not 1 <= page <= len(pdf.pages):
            raise ValueError(f"the file has {len(pdf.pages)} page(s), page {page} does not exist")
        return pdf.pages[page - 1]

    def image_frame(self, path: Path, page: int) -> tuple[int, int, bytes, str, int]:
        """(width px, height px, zlib data, colour space, bits) of frame `page` (1-based)."""
        if path not in self._frames:
            try:
                self._frames[path] = _decode_frames(path)
            except Exception as exc:  # noqa: BLE001
                self._frames[path] = exc
        frames = self._frames[path]
        if isinstance(frames, Exception):
            raise ValueError(_reason(frames)) from frames
        if not 1 <= page <= len(frames):
            raise ValueError(f"the image has {len(frames)} frame(s), page {page} does not exist")
        return frames[page - 1]


def _reason(exc: Exception) -> str:
    if isinstance(exc, pikepdf.PasswordError):
        return "encrypted PDF (password required)"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    return f"{type(exc).__name__}: {exc}"[:300]


def _decode_frames(path: Path) -> list[tuple[int, int, bytes, str, int]]:
    from PIL import Image, ImageOps, ImageSequence

    frames = []
    with Image.open(path) as im:
        for frame in ImageSequence.Iterator(im):
            f = ImageOps.exif_transpose(frame.copy())
            if f.mode == "1":
                data, cs, bits = f.tobytes(), "/DeviceGray", 1
            elif f.mode in ("L", "LA", "I;16", "I", "F"):
                f = f.convert("L")
                data, cs, bits = f.tobytes(), "/DeviceGray", 8
            else:
                if f.mode in ("RGBA", "LA", "P", "PA"):
                    f = f.convert("RGBA")
                    bg = Image.new("RGB", f.size, "white")
                    bg.paste(f, mask=f.getchannel("A"))
                    f = bg
                f = f.convert("RGB")
                data, cs, bits = f.tobytes(), "/DeviceRGB", 8
            frames.append((f.width, f.height, zlib.compress(data, 6), cs, bits))
    return frames


def _place_image(out: pikepdf.Pdf, frame: tuple[int, int, bytes, str, int]) -> None:
    w_px, h_px, data, cs, bits = frame
    w, h = A4_PT if h_px >= w_px else A4_PT[::-1]
    image = pikepdf.Stream(out, data)
    image.Type, image.Subtype = Name.XObject, Name.Image
    image.Width, image.Height = w_px, h_px
    image.ColorSpace, image.BitsPerComponent = Name(cs), bits
    image.Filter = Name.FlateDecode
    # PIL mode "1" packs 1 = white, as DeviceGray reads it: no /Decode needed.
    x0, y0, x1, y1 = _content_box(w, h)
    # Photos and screenshots have no white margin of their own: keep them off the paper's edge.
    x0, y0, x1, y1 = x0 + IMAGE_MARGIN_PT, y0 + IMAGE_MARGIN_PT / 2, x1 - IMAGE_MARGIN_PT, y1 - IMAGE_MARGIN_PT
    scale = min((x1 - x0) / w_px, (y1 - y0) / h_px)
    dw, dh = w_px * scale, h_px * scale
    dx, dy = x0 + (x1 - x0 - dw) / 2, y0 + (y1 - y0 - dh) / 2
    content = f"q {dw:.3f} 0 0 {dh:.3f} {dx:.3f} {dy:.3f} cm /Im0 Do Q".encode()
    page = pikepdf.Dictionary(
        Type=Name.Page,
        MediaBox=[0, 0, w, h],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        Contents=pikepdf.Stream(out, content),
    )
    out.pages.append(pikepdf.Page(page))


def _content_box(w: float, h: float) -> tuple[float, float, float, float]:
    return (0.0, FOOTER_BAND_PT + 4.0, w, h)


def _place_pdf_page(out: pikepdf.Pdf, src: pikepdf.Page) -> None:
    box = src.obj.get("/CropBox", src.mediabox)
    bw = abs(float(box[2]) - float(box[0]))
    bh = abs(float(box[3]) - float(box[1]))
    if int(src.obj.get("/Rotate", 0)) % 180:
        bw, bh = bh, bw
    w, h = A4_PT if bh >= bw else A4_PT[::-1]
    out.add_blank_page(page_size=(w, h))
    out.pages[-1].add_overlay(src, Rectangle(*_content_box(w, h)))


# --- the merge ------------------------------------------------------------------------------------


def read_outline(pdf: pikepdf.Pdf) -> list[tuple[str, int, int]]:
    """The outline of a PDF as (title, 0-based page index, depth) tuples, depth-first."""
    index = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
    found: list[tuple[str, int, int]] = []

    def walk(items: Sequence[pikepdf.OutlineItem], depth: int) -> None:
        for item in items:
            dest: Any = item.destination
            if dest is None and item.action is not None and item.action.get("/S") == "/GoTo":
                dest = item.action.get("/D")
            page = None
            if isinstance(dest, pikepdf.Array) and len(dest) and isinstance(dest[0], pikepdf.Dictionary):
                page = index.get(dest[0].objgen)
            elif isinstance(dest, pikepdf.Array) and len(dest) and isinstance(dest[0], int):
                page = int(dest[0])
            if page is not None:
                found.append((str(item.title), page, depth))
            walk(item.children, depth + 1)

    with pdf.open_outline() as outline:
        walk(outline.root, 0)
    return found


def merge_dossier(
    review_pdf: Path,
    attachments: Sequence[FiledAttachment],
    groups: Sequence[OutlineGroup],
    *,
    footer_name: str,
    title: str,
    out: Path,
    attachments_title: str = "添付資料",
    info: dict[str, str] | None = None,
) -> MergeReport:
    """Write the dossier PDF to `out` (via a temporary name and a rename).

    The review pages come first, as LibreOffice produced them (their headings become the first
    bookmarks), then each attachment behind its separator page, then the footer on every page.
    """
    sources = _Sources()
    try:
        with pikepdf.open(review_pdf) as pdf:
            review_outline = read_outline(pdf)
            review_pages = len(pdf.pages)
            report = MergeReport(0, review_pages, 0, 0)
            _append_attachments(pdf, attachments, sources, report)
            report.total_pages = len(pdf.pages)
            report.separator_pages = len(attachments)
            report.attachment_pages = report.total_pages - review_pages - len(attachments)
            _stamp_footers(pdf, footer_name)
            _write_outline(pdf, review_outline, attachments, groups, title=title, attachments_title=attachments_title, report=report)
            pdf.Root.PageMode = Name.UseOutlines
            pdf.docinfo[Name.Title] = title
            for key, value in (info or {}).items():
                pdf.docinfo[Name("/" + key)] = value
            tmp = out.with_name(f".{out.name}.tmp")
            pdf.save(tmp)
            os.replace(tmp, out)
            return report
    finally:
        sources.close()


def _append_attachments(pdf: pikepdf.Pdf, attachments: Sequence[FiledAttachment], sources: _Sources, report: MergeReport) -> None:
    """Each attachment's separator page, then its pages (a placeholder for a page that cannot be read)."""
    inserts_spec: list[tuple[str, object]] = []
    layout: list[tuple[str, object]] = []  # ("insert", n) | ("pdf", Page) | ("image", frame)
    for att in attachments:
        layout.append(("insert", len(inserts_spec)))
        inserts_spec.append(("separator", att.separator))
        for sp in att.pages:
            try:
                if sp.path.suffix.lower() in IMAGE_SUFFIXES:
                    layout.append(("image", sources.image_frame(sp.path, sp.page)))
                else:
                    layout.append(("pdf", sources.pdf_page(sp.path, sp.page)))
            except ValueError as exc:
                text = f"{sp.label}: {exc}"
                report.placeholders.append(text)
                layout.append(("insert", len(inserts_spec)))
                inserts_spec.append(("placeholder", text))
    inserts = _inserts_pdf(inserts_spec) if inserts_spec else None
    for kind, payload in layout:
        if kind == "insert":
            assert inserts is not None and isinstance(payload, int)
            pdf.pages.append(inserts.pages[payload])
        elif kind == "image":
            _place_image(pdf, payload)  # type: ignore[arg-type]
        else:
            assert isinstance(payload, pikepdf.Page)
            _place_pdf_page(pdf, payload)


def _stamp_footers(pdf: pikepdf.Pdf, footer_name: str) -> None:
    """The footer on every page."""
    sizes = []
    for page in pdf.pages:
        mb = page.mediabox
        sizes.append((abs(float(mb[2]) - float(mb[0])), abs(float(mb[3]) - float(mb[1]))))
    footer = _footer_pdf(sizes, footer_name)
    for page, overlay in zip(pdf.pages, footer.pages, strict=True):
        mb = page.mediabox
        page.add_overlay(overlay, Rectangle(float(mb[0]), float(mb[1]), float(mb[2]), float(mb[3])))


def _write_outline(
    pdf: pikepdf.Pdf,
    review_outline: Sequence[tuple[str, int, int]],
    attachments: Sequence[FiledAttachment],
    groups: Sequence[OutlineGroup],
    *,
    title: str,
    attachments_title: str,
    report: MergeReport,
) -> None:
    """The outline: the review headings, then 添付資料 → item → attachment."""
    review_pages = report.review_pages
    plans = plan_pages(review_pages, [(a.key, len(a.pages)) for a in attachments])
    by_key = {a.key: a for a in attachments}
    with pdf.open_outline() as outline:
        outline.root.clear()
        levels: list[list[pikepdf.OutlineItem]] = [outline.root]
        for text, page_index, depth in review_outline:
            entry = pikepdf.OutlineItem(text, page_index)
            depth = min(depth, len(levels) - 1)
            levels[depth].append(entry)
            del levels[depth + 1 :]
            levels.append(entry.children)
            report.outline.append(text)
        if not review_outline:
            outline.root.append(pikepdf.OutlineItem(title, 0))
            report.outline.append(title)
        if attachments:
            top = pikepdf.OutlineItem(attachments_title, plans[attachments[0].key].separator - 1)
            report.outline.append(attachments_title)
            for group in groups:
                keys = [k for k in group.attachment_keys if k in by_key]
                if not keys:
                    continue
                g = pikepdf.OutlineItem(group.title, plans[keys[0]].separator - 1)
                report.outline.append(group.title)
                child_titles = group.child_titles or tuple(by_key[k].outline_title for k in keys)
                for key, child_title in zip(keys, child_titles, strict=False):
                    g.children.append(pikepdf.OutlineItem(child_title, plans[key].separator - 1))
                    report.outline.append(child_title)
                top.children.append(g)
            outline.root.append(top)
