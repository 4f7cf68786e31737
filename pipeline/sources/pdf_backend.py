"""A PDF's pages for Page: the text layer through textlayer, pixels pulled from a JPEG or rendered.

pdfium is not thread-safe: use processes, not threads, for parallelism. JavaScript is never run
(pdfium is built without it).
"""

from __future__ import annotations

import logging
import math
import time
import zlib

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from numpy.typing import NDArray
from PIL import Image

from pipeline.model.errors import LimitExceededError, PipelineError, UnreadableFileError
from pipeline.model.geometry import area_in2
from pipeline.model.records import BBox
from pipeline.sources.display import page_space_box
from pipeline.sources.limits import Limits
from pipeline.sources.pdf_inspect import SCAN_COVER, PdfPageInfo
from pipeline.sources.pull import LastDecode, pull_jpeg
from pipeline.sources.textlayer import Char, Word, page_text, textpage_chars, textpage_words

logger = logging.getLogger(__name__)


class PdfBackend:
    """The PageBackend of one opened PDF: pdfium for text and pixels, pikepdf kept open for the structure."""

    def __init__(self, rel: str, doc: pdfium.PdfDocument, pike: pikepdf.Pdf, limits: Limits) -> None:
        self.rel = rel
        self.doc: pdfium.PdfDocument | None = doc
        self.pike: pikepdf.Pdf | None = pike
        self.limits = limits
        self.infos: list[PdfPageInfo] = []
        self.last_decode = LastDecode()  # a page's JPEG asked for twice (reading, then its label) is decoded once

    def _doc(self) -> pdfium.PdfDocument:
        if self.doc is None:
            raise PipelineError(f"{self.rel}: the file was already closed")
        return self.doc

    def close(self) -> None:
        if self.doc is not None:
            self.doc.close()
            self.doc = None
        if self.pike is not None:
            self.pike.close()
            self.pike = None

    # words -------------------------------------------------------------------------------

    def words(self, index: int) -> list[Word]:
        page = self._doc()[index]
        try:
            textpage = page.get_textpage()
            try:
                return textpage_words(textpage, self.infos[index].affine)
            finally:
                textpage.close()
        finally:
            page.close()

    def text(self, index: int) -> str:
        page = self._doc()[index]
        try:
            textpage = page.get_textpage()
            try:
                return page_text(textpage)
            finally:
                textpage.close()
        finally:
            page.close()

    def text_in(self, index: int, bbox: BBox) -> str:
        region = page_space_box(self.infos[index].affine, bbox)
        if region is None:
            return ""
        left, bottom, right, top = region
        page = self._doc()[index]
        try:
            textpage = page.get_textpage()
            try:
                return str(textpage.get_text_bounded(left=left, bottom=bottom, right=right, top=top))
            finally:
                textpage.close()
        finally:
            page.close()

    def chars(self, index: int) -> list[Char]:
        page = self._doc()[index]
        try:
            textpage = page.get_textpage()
            try:
                return textpage_chars(textpage, self.infos[index].affine)
            finally:
                textpage.close()
        finally:
            page.close()

    # images ------------------------------------------------------------------------------

    def source_dpi(self, index: int) -> float | None:
        """By area: the sole image's pixels over the share of the page it covers (JPEG, CCITT, JBIG2, Flate alike)."""
        info = self.infos[index]
        if not info.sole_pixels or info.image_cover < SCAN_COVER:
            return None
        covered_in2 = area_in2(info.image_cover * info.size_pt[0], info.size_pt[1])
        return math.sqrt(info.sole_pixels / max(covered_in2, 1e-6))

    def source_gray(self, index: int) -> bool:
        info = self.infos[index]
        return info.sole_gray and info.image_cover >= SCAN_COVER

    def source_bilevel(self, index: int) -> bool:
        info = self.infos[index]
        return info.sole_bits == 1 and info.image_cover >= SCAN_COVER

    def image(self, index: int, width_px: int, height_px: int, gray: bool) -> NDArray[np.uint8]:
        where = f"{self.rel} p{index + 1}"
        plan = self.infos[index].pull
        page = self._doc()[index]
        try:
            if plan is not None:
                try:
                    pulled = pull_jpeg(page, plan, width_px, height_px, gray, self.limits, (self.last_decode, index))
                except (OSError, ValueError, zlib.error, Image.DecompressionBombError) as exc:
                    logger.debug("%s: embedded JPEG not usable (%s); rendering", where, exc)
                    pulled = None
                if pulled is not None:
                    return pulled
            return render(page, width_px, height_px, gray, self.limits, where)
        finally:
            page.close()


def render(page: pdfium.PdfPage, width_px: int, height_px: int, gray: bool, limits: Limits, where: str) -> NDArray[np.uint8]:
    """Render with pdfium's progressive renderer so that limits.page_seconds can stop it."""
    fmt = pdfium_c.FPDFBitmap_Gray if gray else pdfium_c.FPDFBitmap_BGR
    bitmap = pdfium.PdfBitmap.new_native(width_px, height_px, fmt, rev_byteorder=not gray)
    try:
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, width_px, height_px)
        flags = pdfium_c.FPDF_ANNOT | (pdfium_c.FPDF_GRAYSCALE if gray else pdfium_c.FPDF_REVERSE_BYTE_ORDER)
        deadline = time.monotonic() + limits.page_seconds
        pause = pdfium_c.IFSDK_PAUSE(version=1)
        callback = type(pause.NeedToPauseNow)(lambda _self: time.monotonic() > deadline)
        pause.NeedToPauseNow = callback
        status = pdfium_c.FPDF_RenderPageBitmap_Start(bitmap, page, 0, 0, width_px, height_px, 0, flags, pause)
        try:
            while status == pdfium_c.FPDF_RENDER_TOBECONTINUED:
                if time.monotonic() > deadline:
                    raise LimitExceededError(f"{where}: rendering took longer than {limits.page_seconds:.0f} s")
                status = pdfium_c.FPDF_RenderPage_Continue(page, pause)
        finally:
            pdfium_c.FPDF_RenderPage_Close(page)
        if status == pdfium_c.FPDF_RENDER_FAILED:
            raise UnreadableFileError(f"{where}: the page could not be rendered")
        if page.formenv is not None:
            pdfium_c.FPDF_FFLDraw(page.formenv, bitmap, page, 0, 0, width_px, height_px, 0, flags)
        array = bitmap.to_numpy()
        return np.array(array.reshape(height_px, width_px) if gray else array[:, :, :3], dtype=np.uint8)
    finally:
        bitmap.close()
