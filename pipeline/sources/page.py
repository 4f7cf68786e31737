"""The page and opened-file records every other part names: Page (lazy) and OpenedSource.

Page is the one page type of the pipeline: reading, run and output take a `Page` from here.
Nothing is rendered or decoded until asked and nothing is cached, so a caller that walks the
pages holds one page image at a time. All coordinates are of the page as displayed: origin at
the top left of the crop box after /Rotate (or EXIF orientation), y down, in PDF points
(1/72 in); for an image file, 72 / its dpi per pixel. A page reads through a PageBackend: the
PDF one (pdf_backend) or the image-file one (images).
"""

from __future__ import annotations

import logging
import math
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

import numpy as np
import pypdfium2 as pdfium
from numpy.typing import NDArray

from pipeline.model.errors import LimitExceededError, PipelineError, UnreadableFileError
from pipeline.model.geometry import area_in2, pt_to_px, px_per_pt
from pipeline.model.records import BBox, Flag, PageRef, SourceFile
from pipeline.sources.acroform import AcroField
from pipeline.sources.limits import Limits
from pipeline.sources.textlayer import Char, Word

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class PageBackend(Protocol):
    """What a Page reads through: one per opened file (PDF or image), pages by 0-based index."""

    def words(self, index: int) -> list[Word]: ...

    def text(self, index: int) -> str: ...

    def text_in(self, index: int, bbox: BBox) -> str: ...

    def chars(self, index: int) -> list[Char]: ...

    def image(self, index: int, width_px: int, height_px: int, gray: bool) -> NDArray[np.uint8]: ...

    def source_dpi(self, index: int) -> float | None: ...

    def source_gray(self, index: int) -> bool: ...

    def source_bilevel(self, index: int) -> bool: ...

    def close(self) -> None: ...


class LastImage:
    """A page backend that keeps the last picture it decoded, so that two readers of one page asking for the same size decode it once.

    A scanned page that is not the form's is decoded by the scan reader and again, at the same
    size for a 200 dpi scan, by the label reader (~28 ms a page on a loaded machine). One picture
    per opened file is held; each caller gets its own copy, free to change.
    """

    def __init__(self, backend: PageBackend) -> None:
        self._backend = backend
        self._key: tuple[int, int, int, bool] | None = None
        self._image: NDArray[np.uint8] | None = None

    def image(self, index: int, width_px: int, height_px: int, gray: bool) -> NDArray[np.uint8]:
        key = (index, width_px, height_px, gray)
        if key != self._key or self._image is None:
            self._key, self._image = None, None  # a failed decode leaves nothing behind
            self._image, self._key = self._backend.image(index, width_px, height_px, gray), key
        return self._image.copy()

    def words(self, index: int) -> list[Word]:
        return self._backend.words(index)

    def text(self, index: int) -> str:
        return self._backend.text(index)

    def text_in(self, index: int, bbox: BBox) -> str:
        return self._backend.text_in(index, bbox)

    def chars(self, index: int) -> list[Char]:
        return self._backend.chars(index)

    def source_dpi(self, index: int) -> float | None:
        return self._backend.source_dpi(index)

    def source_gray(self, index: int) -> bool:
        return self._backend.source_gray(index)

    def source_bilevel(self, index: int) -> bool:
        return self._backend.source_bilevel(index)

    def close(self) -> None:
        self._key, self._image = None, None
        self._backend.close()


class Page:
    """One page of one input file, read lazily; see the module docstring.

    ref (PageRef), width_pt / height_pt (as displayed: after /Rotate, CropBox, EXIF orientation),
    rotation (/Rotate in degrees, or the EXIF turn), has_text (a text layer with real characters;
    False for a garbled layer), scanned (the page is a raster image with no visible text),
    error (why this one page cannot be rasterised, else None).
    """

    __slots__ = (
        "_backend",
        "_index",
        "_limits",
        "_fields",
        "ref",
        "width_pt",
        "height_pt",
        "rotation",
        "has_text",
        "scanned",
        "error",
    )

    def __init__(
        self,
        backend: PageBackend,
        index: int,
        ref: PageRef,
        size_pt: tuple[float, float],
        rotation: int,
        has_text: bool,
        scanned: bool,
        limits: Limits,
        fields: dict[str, AcroField],
        error: str | None = None,
    ) -> None:
        self._backend = backend
        self._index = index
        self._limits = limits
        self._fields = fields
        self.ref = ref
        self.width_pt, self.height_pt = size_pt
        self.rotation = rotation
        self.has_text = has_text
        self.scanned = scanned
        self.error = error

    def __repr__(self) -> str:
        return (
            f"Page({self.ref.file!r} p{self.ref.page}, {self.width_pt:.0f}x{self.height_pt:.0f} pt,"
            f" rot={self.rotation}, text={self.has_text}, scanned={self.scanned})"
        )

    @property
    def where(self) -> str:
        return f"{self.ref.file} p{self.ref.page}"

    def fit_dpi(self, dpi: float) -> float:
        """The dpi image(dpi) renders at: `dpi`, or less if the page would exceed max_page_pixels.

        Raises:
            LimitExceededError: the page cannot be rasterised within the limits at >= min_dpi.
        """
        if dpi <= 0:
            raise ValueError(f"dpi must be positive, got {dpi}")
        if self.error is not None:
            raise LimitExceededError(f"{self.where}: {self.error}")
        cap = math.sqrt(self._limits.max_page_pixels / area_in2(max(self.width_pt, 1e-3), max(self.height_pt, 1e-3)))
        if dpi <= cap:
            return float(dpi)
        if cap < min(dpi, self._limits.min_dpi):
            raise LimitExceededError(f"{self.where}: {too_large(self, self._limits)}")
        logger.debug("%s: rendering at %.0f dpi instead of %.0f (pixel limit)", self.where, cap, dpi)
        return cap

    def image(self, dpi: float = 200.0, gray: bool = True) -> NDArray[np.uint8]:
        """The page as displayed, rasterised at fit_dpi(dpi): HxW grey or HxWx3 RGB, uint8.

        Pixel (0, 0) is the top-left corner of the displayed page; one pixel is 72/dpi points.

        Raises:
            LimitExceededError: too large, or rendering overran limits.page_seconds.
            UnreadableFileError: the page's data cannot be decoded.
        """
        eff = self.fit_dpi(dpi)
        width_px = max(1, round(pt_to_px(self.width_pt, eff)))
        height_px = max(1, round(pt_to_px(self.height_pt, eff)))
        return self._guard("rasterising", self._backend.image, self._index, width_px, height_px, gray)

    def words(self) -> list[Word]:
        """Text-layer words in reading order, bbox in PDF points with the origin top left.

        Words are split at white space (pdfium inserts spaces and line breaks where the layout
        has gaps) and where a character jumps away from the previous one. Japanese text has no
        spaces, so a "word" there is a run of characters such as "日提出". Empty for images.
        """
        return self._guard("reading the text layer", self._backend.words, self._index)

    def text(self) -> str:
        """The text layer as plain text, without boxes: the cheap look that identifies a page."""
        return self._backend.text(self._index)

    def source_dpi(self) -> float | None:
        """The resolution the page's picture was stored at (a scan's own dpi), or None when it is drawn.

        Known for image files and for PDF pages that are one embedded image: asking image() for
        more only interpolates, and asking for exactly this (or half, a quarter) decodes fastest.
        """
        return self._backend.source_dpi(self._index)

    def source_gray(self) -> bool:
        """True when the page is one stored picture with no colour in it (grey or black-and-white).

        Such a page needs no colour probe and no colour decode; False means "may hold colour".
        """
        return self._backend.source_gray(self._index)

    def source_bilevel(self) -> bool:
        """True when the page is one stored picture of one bit a pixel: black and white, as the scanner binarised it.

        False means grey or colour, drawn, or not known (a picture stored with 8 bits may still hold only black and white).
        """
        return self._backend.source_bilevel(self._index)

    def text_in(self, bbox: BBox) -> str:
        """The text-layer text inside `bbox` (PDF points, displayed page, origin top left), without boxes."""
        return self._backend.text_in(self._index, bbox)

    def chars(self) -> list[Char]:
        """Every text-layer character with its tight glyph box (PDF points, top-left origin,
        displayed page), white space left out; the witnesses read_digital compares. Empty for images.
        """
        return self._guard("reading the text layer", self._backend.chars, self._index)

    def _guard(self, doing: str, fn: Callable[..., _T], *args: Any) -> _T:
        """Run a backend call; a library failure becomes an UnreadableFileError naming the page."""
        try:
            return fn(*args)
        except PipelineError:
            raise
        except (pdfium.PdfiumError, OSError, ValueError, RuntimeError, MemoryError, zlib.error, EOFError) as exc:
            raise UnreadableFileError(f"{self.where}: {doing} failed ({type(exc).__name__}: {exc})") from exc

    def acroform_fields(self) -> dict[str, str | bool | None]:
        """Values of the AcroForm fields with a widget on this page (see AcroField.value)."""
        return {name: f.value for name, f in self.acroform_details().items()}

    def acroform_details(self) -> dict[str, AcroField]:
        """The AcroForm fields with at least one widget on this page, with widgets and notes."""
        return {name: f for name, f in self._fields.items() if any(w.page == self.ref for w in f.widgets)}


def too_large(page: Page, limits: Limits) -> str:
    """Why `page` cannot be rasterised within limits.max_page_pixels at limits.min_dpi, in words."""
    mpx = page.width_pt * page.height_pt * px_per_pt(limits.min_dpi) ** 2 / 1e6
    return (
        f"page {page.ref.page} is {page.width_pt:.0f} x {page.height_pt:.0f} pt, too large to "
        f"rasterise safely ({mpx:.0f} Mpx at {limits.min_dpi:.0f} dpi > "
        f"{limits.max_page_pixels / 1e6:.0f} Mpx limit)"
    )


class OpenedSource:
    """One input file after opening: its SourceFile record, its lazy pages and what was noticed.

    `.source` (SourceFile), `.pages` (tuple of Page), `.notes` (things worth telling the operator:
    repaired, owner-password encryption, JavaScript ignored, …), `.flags` (unreadable_file flags
    for the file or single pages). Use it as a context manager (or call close()) to release the
    PDF handles and any temporary repaired copy.
    """

    def __init__(
        self,
        source: SourceFile,
        pages: tuple[Page, ...] = (),
        notes: tuple[str, ...] = (),
        fields: dict[str, AcroField] | None = None,
        backend: PageBackend | None = None,
        tmpdir: Path | None = None,
    ) -> None:
        self.source = source
        self.pages = pages
        self.notes = notes
        self._fields = fields or {}
        self._backend = backend
        self._tmpdir = tmpdir

    @property
    def flags(self) -> tuple[Flag, ...]:
        """unreadable_file flags: one for a file that failed, one per page that cannot be read."""
        if self.source.status == "error":
            return (Flag("unreadable_file", "error", None, f"{self.source.file}: {self.source.error}"),)
        return tuple(Flag("unreadable_file", "error", None, f"{p.where}: {p.error}", (p.ref,)) for p in self.pages if p.error is not None)

    def acroform_fields(self) -> dict[str, str | bool | None]:
        """Every terminal AcroForm field's value by full name ("parent.child"); empty if none.

        Checkboxes give True/False, radio groups the chosen export name or None, text and
        choice fields their text or None (see AcroField.value).
        """
        return {name: f.value for name, f in self._fields.items()}

    def acroform_details(self) -> dict[str, AcroField]:
        """Every terminal AcroForm field by full name, with widget pages, bboxes and oddities."""
        return dict(self._fields)

    def close(self) -> None:
        """Release the file's handles and remove the temporary repaired copy, if any (idempotent)."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> OpenedSource:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def fit_or_none(page: Page) -> float | None:
    """The dpi page.image() would use at the least dpi allowed, or None when even that is over the pixel limit."""
    try:
        return page.fit_dpi(page._limits.min_dpi)
    except LimitExceededError:
        return None
