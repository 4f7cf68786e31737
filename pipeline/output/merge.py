"""Assemble the dossier PDF: review pages + attachment pages (each introduced by a header band) + the answer-sheet appendix, outline, footer.

Everything here is pikepdf (merging, outline, placing pages) and reportlab (separator pages,
placeholders, the footer overlay, image pages never leave PIL/pikepdf). Page numbers in this
module's public API are 1-based dossier pages unless the name says ``index``.

Every attachment page is placed, scaled to fit, on an A4 page of the same orientation, leaving a
band at the bottom for the footer, so the footer never covers the applicant's content and the
whole dossier prints on A4. Source files are opened read-only and never saved.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Name, Rectangle

from pipeline.output.drawn import (
    A4_PT,
    BAND_PT,
    FOOTER_BAND_PT,
    GOTHIC,
    AnswerSheetPage,
    SeparatorPage,
    Shape,
    ShapeStyle,
    font_file,
    footer_pdf,
    inserts_pdf,
)

log = logging.getLogger(__name__)

__all__ = [
    "A4_PT",
    "GOTHIC",
    "AnswerSheetPage",
    "SeparatorPage",
    "Shape",
    "ShapeStyle",
    "font_file",
    "merge_dossier",
    "plan_pages",
    "read_outline",
]

IMAGE_MARGIN_PT = 28.0  # ~10 mm around image pages (PNG/JPEG/TIFF attachments)
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
    separator_pages: int  # attachments without a page of their own keep a separator page
    attachment_pages: int
    appendix_pages: int = 0
    placeholders: list[str] = field(default_factory=list)  # pages that could not be read, and why
    outline: list[str] = field(default_factory=list)  # every outline title, depth-first


def plan_pages(review_pages: int, attachments: Sequence[tuple[str, int]]) -> dict[str, PagePlan]:
    """Dossier pages of each attachment (key, page count), given the review pages before them.

    An attachment's first page carries its header band (``separator`` is that page); only an
    attachment with no page at all gets a separator page of its own.
    """
    plans: dict[str, PagePlan] = {}
    page = review_pages
    for key, n in attachments:
        first = page + 1
        plans[key] = PagePlan(first, first if n else None, first + n - 1 if n else None)
        page = first + max(n, 1) - 1
    return plans


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


def _place_image(out: pikepdf.Pdf, frame: tuple[int, int, bytes, str, int], band: bool = False) -> None:
    w_px, h_px, data, cs, bits = frame
    w, h = A4_PT if h_px >= w_px else A4_PT[::-1]
    image = pikepdf.Stream(out, data)
    image.Type, image.Subtype = Name.XObject, Name.Image
    image.Width, image.Height = w_px, h_px
    image.ColorSpace, image.BitsPerComponent = Name(cs), bits
    image.Filter = Name.FlateDecode
    # PIL mode "1" packs 1 = white, as DeviceGray reads it: no /Decode needed.
    x0, y0, x1, y1 = _content_box(w, h, band)
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


def _content_box(w: float, h: float, band: bool = False) -> tuple[float, float, float, float]:
    """Where an attachment page's content goes: above the footer, and below the header band on a first page."""
    return (0.0, FOOTER_BAND_PT + 4.0, w, h - (BAND_PT if band else 0.0))


def _place_pdf_page(out: pikepdf.Pdf, src: pikepdf.Page, band: bool = False) -> None:
    box = src.obj.get("/CropBox", src.mediabox)
    bw = abs(float(box[2]) - float(box[0]))
    bh = abs(float(box[3]) - float(box[1]))
    if int(src.obj.get("/Rotate", 0)) % 180:
        bw, bh = bh, bw
    w, h = A4_PT if bh >= bw else A4_PT[::-1]
    out.add_blank_page(page_size=(w, h))
    out.pages[-1].add_overlay(src, Rectangle(*_content_box(w, h, band)))


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
    appendix: Sequence[AnswerSheetPage] = (),
    appendix_title: str = "付録　回答書の読取結果",
) -> MergeReport:
    """Write the dossier PDF to `out` (via a temporary name and a rename).

    The review pages come first, as LibreOffice produced them (their headings become the first
    bookmarks), then each attachment, its first page under a header band, then the answer-sheet
    pages with what was read drawn over them, then the footer on every page.
    """
    sources = _Sources()
    try:
        with pikepdf.open(review_pdf) as pdf:
            review_outline = read_outline(pdf)
            review_pages = len(pdf.pages)
            report = MergeReport(0, review_pages, 0, 0)
            _append_attachments(pdf, attachments, sources, report, appendix)
            report.appendix_pages = len(appendix)
            report.total_pages = len(pdf.pages)
            report.separator_pages = sum(1 for a in attachments if not a.pages)
            report.attachment_pages = report.total_pages - review_pages - report.separator_pages - report.appendix_pages
            _stamp_footers(pdf, footer_name)
            _write_outline(pdf, review_outline, attachments, groups, title=title, attachments_title=attachments_title, report=report)
            if appendix:
                _outline_appendix(pdf, appendix, appendix_title, report)
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


def _page_size(page: pikepdf.Page) -> tuple[float, float]:
    mb = page.mediabox
    return abs(float(mb[2]) - float(mb[0])), abs(float(mb[3]) - float(mb[1]))


def _append_attachments(
    pdf: pikepdf.Pdf,
    attachments: Sequence[FiledAttachment],
    sources: _Sources,
    report: MergeReport,
    appendix: Sequence[AnswerSheetPage] = (),
) -> None:
    """Each attachment's pages (a placeholder for a page that cannot be read), the first under its band; then the appendix."""
    inserts_spec: list[tuple[str, object]] = []
    layout: list[tuple[str, object, SeparatorPage | None]] = []  # ("insert", n) | ("pdf", Page) | ("image", frame), band
    for att in attachments:
        if not att.pages:
            layout.append(("insert", len(inserts_spec), None))
            inserts_spec.append(("separator", att.separator))
        for i, sp in enumerate(att.pages):
            band = att.separator if i == 0 else None
            try:
                if sp.path.suffix.lower() in IMAGE_SUFFIXES:
                    layout.append(("image", sources.image_frame(sp.path, sp.page), band))
                else:
                    layout.append(("pdf", sources.pdf_page(sp.path, sp.page), band))
            except ValueError as exc:
                text = f"{sp.label}: {exc}"
                report.placeholders.append(text)
                layout.append(("insert", len(inserts_spec), band))
                inserts_spec.append(("placeholder", text))
    for sheet in appendix:
        layout.append(("insert", len(inserts_spec), None))
        inserts_spec.append(("sheet", sheet))
    inserts = inserts_pdf(inserts_spec) if inserts_spec else None
    bands: list[tuple[pikepdf.Page, SeparatorPage]] = []
    for kind, payload, band in layout:
        if kind == "insert":
            assert inserts is not None and isinstance(payload, int)
            pdf.pages.append(inserts.pages[payload])
        elif kind == "image":
            _place_image(pdf, payload, band is not None)  # type: ignore[arg-type]
        else:
            assert isinstance(payload, pikepdf.Page)
            _place_pdf_page(pdf, payload, band is not None)
        if band is not None:
            bands.append((pdf.pages[-1], band))
    if bands:
        drawn = inserts_pdf([("band", (sep, _page_size(page))) for page, sep in bands])
        for (page, _), overlay in zip(bands, drawn.pages, strict=True):
            mb = page.mediabox
            page.add_overlay(overlay, Rectangle(float(mb[0]), float(mb[1]), float(mb[2]), float(mb[3])))


def _outline_appendix(pdf: pikepdf.Pdf, appendix: Sequence[AnswerSheetPage], title: str, report: MergeReport) -> None:
    first = report.total_pages - len(appendix)
    with pdf.open_outline() as outline:
        top = pikepdf.OutlineItem(title, first)
        report.outline.append(title)
        for i, sheet in enumerate(appendix):
            top.children.append(pikepdf.OutlineItem(sheet.title, first + i))
            report.outline.append(sheet.title)
        outline.root.append(top)


def _stamp_footers(pdf: pikepdf.Pdf, footer_name: str) -> None:
    """The footer on every page."""
    sizes = []
    for page in pdf.pages:
        mb = page.mediabox
        sizes.append((abs(float(mb[2]) - float(mb[0])), abs(float(mb[3]) - float(mb[1]))))
    footer = footer_pdf(sizes, footer_name)
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
