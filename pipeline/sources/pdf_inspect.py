"""Classifying one PDF page before anything is drawn: size, /Rotate, text-layer quality, images.

Whether the page has a real text layer, whether it is a scan (a picture covering it, no visible
text), the stored resolution and colour of its one picture, a plan to pull its JPEG directly,
and why it cannot be read (an embedded image too large to decode safely).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.sources.display import Affine, display_affine
from pipeline.sources.limits import Limits
from pipeline.sources.pull import PullPlan, pull_plan
from pipeline.sources.textlayer import char_quality

# A text layer counts as real when at most this share of its characters has no Unicode mapping
# (pdfium's HasUnicodeMapError, U+FFFD, private use). The garbled MHLW health-check form in the
# corpus has 49 %; clean Japanese forms 0 %; the Arabic test file 18 % (presentation forms).
_MAX_UNMAPPED_SHARE = 0.25
# A page is a scan when images cover at least this share of it and no text is visible…
SCAN_COVER = 0.5
# …or when one image covers nearly all of it and the visible text is a stamp (a date, a footer).
_SCAN_COVER_WITH_STAMP = 0.85
_STAMP_CHARS = 40
# Objects walked per page while classifying; a page with more is simply not a scan.
_MAX_OBJECTS_WALKED = 100_000
_OBJ_TEXT, _OBJ_IMAGE, _OBJ_FORM = pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_FORM  # 1, 3, 5
_INVISIBLE_TEXT_MODES = (3, 7)  # invisible; clip only


@dataclass(frozen=True, slots=True)
class PdfPageInfo:
    """What inspect_page found on one page (sizes in PDF points, as displayed)."""

    size_pt: tuple[float, float]
    rotation: int
    affine: Affine  # page space → displayed, top-left
    good_chars: int
    bad_chars: int
    visible_text_objects: int
    image_cover: float
    pull: PullPlan | None
    error: str | None
    sole_pixels: int = 0  # pixel count of the page's only image (0: none, or several)
    sole_gray: bool = False  # the only image is grey or bilevel (no colour to look for)
    sole_bits: int = 0  # bits per pixel of the only image (1: black and white, as the scanner stored it; 0: unknown)

    @property
    def has_text(self) -> bool:
        return self.good_chars > 0 and self.bad_chars <= _MAX_UNMAPPED_SHARE * (self.good_chars + self.bad_chars)

    @property
    def scanned(self) -> bool:
        if self.image_cover < SCAN_COVER:
            return False
        if self.visible_text_objects == 0:
            return True
        return self.image_cover >= _SCAN_COVER_WITH_STAMP and self.good_chars <= _STAMP_CHARS


def inspect_page(doc: pdfium.PdfDocument, pike: pikepdf.Pdf, index: int, limits: Limits) -> PdfPageInfo:
    """Classify page `index` (0-based) of an opened PDF; see PdfPageInfo."""
    page = doc[index]
    try:
        width, height = page.get_size()
        rotation = page.get_rotation() % 360
        bbox = tuple(page.get_bbox())
        affine = display_affine(bbox, rotation)  # type: ignore[arg-type]
        walk = _walk_objects(page, bbox, limits)  # type: ignore[arg-type]
        textpage = page.get_textpage()
        try:
            good, bad = char_quality(textpage)
        finally:
            textpage.close()
        error = None
        if walk.big_image is not None:
            w_px, h_px = walk.big_image
            error = (
                f"page {index + 1} holds a {w_px} x {h_px} px image ({w_px * h_px / 1e6:.0f} Mpx),"
                f" too large to decode safely (limit {limits.max_source_pixels / 1e6:.0f} Mpx)"
            )
        pull = None
        if walk.sole_image is not None and error is None:
            pull = pull_plan(page, pike, index, walk.sole_image, affine, (width, height))
        sole_pixels = walk.sole_pixels if error is None else 0
        meta = _image_meta(page, pdfium_c.FPDFPage_GetObject(page, walk.sole_image)) if sole_pixels > 0 else None
        return PdfPageInfo(
            (width, height), rotation, affine, good, bad, walk.visible_text, walk.image_cover, pull, error, sole_pixels,
            meta is not None and _image_is_gray(meta), meta.bits_per_pixel if meta is not None else 0,
        )
    finally:
        page.close()


_GRAY_SPACES = frozenset({pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_CALGRAY})


def _image_meta(page: pdfium.PdfPage, obj: object) -> Any | None:
    """pdfium's metadata of an image object (colour space, bits per pixel), or None when it has none."""
    meta = pdfium_c.FPDF_IMAGEOBJ_METADATA()
    if not obj or not pdfium_c.FPDFImageObj_GetImageMetadata(obj, page, meta):
        return None
    return meta


def _image_is_gray(meta: Any) -> bool:
    """An image with one grey channel: DeviceGray/CalGray, or a one-channel ICC profile.

    Stencil masks, Separation and Indexed images are painted in some colour: not grey.
    """
    if meta.colorspace in _GRAY_SPACES:
        return meta.bits_per_pixel in (1, 2, 4, 8, 16)
    return meta.colorspace == pdfium_c.FPDF_COLORSPACE_ICCBASED and meta.bits_per_pixel in (8, 16)


@dataclass(slots=True)
class _Walk:
    visible_text: int = 0
    image_cover: float = 0.0
    sole_image: int | None = None
    sole_pixels: int = 0  # of the sole image
    big_image: tuple[int, int] | None = None


def _walk_objects(page: pdfium.PdfPage, bbox: tuple[float, float, float, float], limits: Limits) -> _Walk:
    """Count visible text objects and the share of the page covered by images (forms included)."""
    walk = _Walk()
    px0, py0, px1, py1 = bbox
    area = max((px1 - px0) * (py1 - py0), 1e-6)
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    w_px, h_px = ctypes.c_uint(), ctypes.c_uint()
    visited = 0
    images: list[int] = []
    others = 0

    def image_size(obj: object) -> int:
        """The image's pixel count (0 if unknown); a too-large one is noted in walk.big_image."""
        if not pdfium_c.FPDFImageObj_GetImagePixelSize(obj, w_px, h_px):
            return 0
        if w_px.value * h_px.value > limits.max_source_pixels:
            walk.big_image = (w_px.value, h_px.value)
        return int(w_px.value) * int(h_px.value)

    def cover(obj: object) -> float:
        if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            return 0.0
        w = max(0.0, min(right.value, px1) - max(left.value, px0))
        h = max(0.0, min(top.value, py1) - max(bottom.value, py0))
        return w * h / area

    def inside_form(form: object, depth: int) -> bool:
        """Walk a form XObject; True if it draws an image."""
        nonlocal visited
        has_image = False
        for j in range(pdfium_c.FPDFFormObj_CountObjects(form)):
            visited += 1
            if visited > _MAX_OBJECTS_WALKED:
                return has_image
            child = pdfium_c.FPDFFormObj_GetObject(form, j)
            kind = pdfium_c.FPDFPageObj_GetType(child)
            if kind == _OBJ_TEXT:
                if pdfium_c.FPDFTextObj_GetTextRenderMode(child) not in _INVISIBLE_TEXT_MODES:
                    walk.visible_text += 1
            elif kind == _OBJ_IMAGE:
                has_image = True
                image_size(child)
            elif kind == _OBJ_FORM and depth < 4:
                has_image = inside_form(child, depth + 1) or has_image
        return has_image

    for i in range(pdfium_c.FPDFPage_CountObjects(page)):
        visited += 1
        if visited > _MAX_OBJECTS_WALKED:
            walk.image_cover = 0.0
            return walk
        obj = pdfium_c.FPDFPage_GetObject(page, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == _OBJ_TEXT:
            if pdfium_c.FPDFTextObj_GetTextRenderMode(obj) not in _INVISIBLE_TEXT_MODES:
                walk.visible_text += 1
                others += 1
        elif kind == _OBJ_IMAGE:
            images.append(i)
            walk.sole_pixels = image_size(obj)  # kept only if it stays the sole image
            walk.image_cover += cover(obj)
        elif kind == _OBJ_FORM:
            others += 1
            if inside_form(obj, 1):
                walk.image_cover += cover(obj)
        else:
            others += 1
    walk.image_cover = min(walk.image_cover, 1.0)
    if len(images) == 1 and others == 0:
        walk.sole_image = images[0]
    else:
        walk.sole_pixels = 0
    return walk
