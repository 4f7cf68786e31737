"""Inbox entry → one SourceFile per input file, plus lazy, streamed pages (text, image, form fields).

Public API:

    scan_entry(entry, limits) -> list[Path]
        The files of an inbox entry: the file itself, or every file under the folder (recursive,
        natural sort by relative path; hidden and system files such as .DS_Store are skipped).
    relative_name(entry, path) -> str
        A file's name relative to its entry ("scan 1.pdf", "添付/3-1-6.pdf"), as SourceFile.file.
    open_source(path, rel, limits) -> OpenedSource
        Never raises for a bad file: a file that cannot be read gives `source.status == "error"`,
        a plain `source.error`, no pages and an `unreadable_file` flag. Use it as a context
        manager (or call close()) to release the PDF handles and any temporary repaired copy.
    iter_sources(entry, limits) -> Iterator[OpenedSource]
        open_source over scan_entry; each source is closed when the iteration moves on.

OpenedSource: `.source` (SourceFile), `.pages` (tuple of Page), `.notes` (things worth telling
the operator: repaired, owner-password encryption, JavaScript ignored, …), `.flags`
(unreadable_file flags for the file or single pages), `.acroform_fields()` (field name → value:
checkbox True/False, radio export name, text) and `.acroform_details()` (AcroField records with
widget pages, bboxes and oddities such as a checkbox without appearance).

Page (lazy: nothing is rendered or decoded until asked; nothing is cached, so a caller that
walks the pages holds one page image at a time):
    ref (PageRef), width_pt / height_pt (as displayed: after /Rotate, CropBox, EXIF orientation),
    rotation (/Rotate in degrees, or the EXIF turn), has_text (a text layer with real characters;
    False for a garbled layer), scanned (the page is a raster image with no visible text),
    error (why this one page cannot be rasterised, else None),
    words() -> list[Word]: (text, bbox) from the text layer, bbox in PDF points, top-left origin,
    chars() -> list[textlayer.Char]: each character with its tight glyph box, same coordinates,
    image(dpi, gray) -> NDArray[np.uint8] at fit_dpi(dpi) (HxW grey or HxWx3 RGB),
    fit_dpi(dpi) -> the dpi image() will use (lower than asked if the pixel limit requires),
    acroform_fields() / acroform_details() -> the fields with a widget on this page.

All coordinates are of the page as displayed: origin at the top left of the crop box after
/Rotate, y down, in PDF points (1/72 in); for an image, 72 / its dpi per pixel.

How pages are read: PDFs are opened read-only with pikepdf (structure, repair, form fields) and
pypdfium2 (page geometry, text, rendering). A page that holds nothing but one JPEG covering it
(plus, at most, an invisible OCR text layer) is decoded straight from the embedded JPEG at
reduced size, 3-5x faster than rendering (measured.md); CCITT, JBIG2 and JPX pages render as
fast as they decode, so they are rendered. JavaScript is never run (pdfium is built without it)
and XFA data is ignored. pdfium is not thread-safe: use processes, not threads, for parallelism.
Originals are never written; a repaired copy, when needed, lives in a temporary folder.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

import cv2
import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from numpy.typing import NDArray
from PIL import Image

from pipeline.model.errors import LimitExceededError, PipelineError, UnreadableFileError
from pipeline.model.records import BBox, Flag, PageRef, SourceFile, SourceKind
from pipeline.sources.limits import Limits
from pipeline.sources.resample import exact_factor, shrink
from pipeline.sources.textlayer import Char

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".png", ".jpg", ".jpeg"})
ACCEPTED_SUFFIXES = IMAGE_SUFFIXES | {".pdf"}
_SKIPPED_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})

# A text layer counts as real when at most this share of its characters has no Unicode mapping
# (pdfium's HasUnicodeMapError, U+FFFD, private use). The garbled MHLW health-check form in the
# corpus has 49 %; clean Japanese forms 0 %; the Arabic test file 18 % (presentation forms).
_MAX_UNMAPPED_SHARE = 0.25
# A page is a scan when images cover at least this share of it and no text is visible…
_SCAN_COVER = 0.5
# …or when one image covers nearly all of it and the visible text is a stamp (a date, a footer).
_SCAN_COVER_WITH_STAMP = 0.85
_STAMP_CHARS = 40
# Objects walked per page while classifying; a page with more is simply not a scan.
_MAX_OBJECTS_WALKED = 100_000
_OBJ_TEXT, _OBJ_IMAGE, _OBJ_FORM = 1, 3, 5
_INVISIBLE_TEXT_MODES = (3, 7)  # invisible; clip only


class Word(NamedTuple):
    """A run of text-layer characters without white space, bbox in PDF points (top-left origin)."""

    text: str
    bbox: BBox


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


# --- the inbox entry ---------------------------------------------------------------------


def _natural_key(rel: str) -> tuple[tuple[tuple[int, int, str], ...], str]:
    """Sort "p2" before "p10" (also with full-width digits); the raw string breaks ties."""
    parts = []
    for segment in unicodedata.normalize("NFKC", rel).casefold().split("/"):
        for piece in re.split(r"(\d+)", segment):
            if piece.isdigit():
                parts.append((0, int(piece), ""))
            elif piece:
                parts.append((1, 0, piece))
        parts.append((-1, 0, ""))  # folder boundary sorts before any name piece
    return tuple(parts), rel


def relative_name(entry: Path, path: Path) -> str:
    """The name a file is reported under: relative to a folder entry, or the file's own name."""
    if entry.is_dir():
        return path.relative_to(entry).as_posix()
    return path.name


def scan_entry(entry: Path, limits: Limits) -> list[Path]:
    """List the input files of one inbox entry, sorted by relative name (natural order).

    Every regular file counts, whatever its suffix, so a stray .docx in a folder is reported
    as unreadable rather than silently dropped; hidden files, Office lock files (~$…) and
    Thumbs.db/.DS_Store/desktop.ini are skipped, as are symlinks that leave the entry.

    Raises:
        LimitExceededError: the folder holds more than limits.max_files_per_entry files.
        UnreadableFileError: the entry is neither a file nor a folder.
    """
    if entry.is_file():
        return [entry]
    if not entry.is_dir():
        raise UnreadableFileError(f"{entry.name}: not a file or folder")
    root = entry.resolve()
    found: list[Path] = []
    for folder, dirs, files in os.walk(entry, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith((".", "~$")) or name.casefold() in _SKIPPED_NAMES:
                continue
            path = Path(folder, name)
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    logger.warning("%s: skipped symlink %s (points outside the entry)", entry.name, name)
                    continue
            elif not path.is_file():
                continue
            found.append(path)
            if len(found) > limits.max_files_per_entry:
                raise LimitExceededError(f"{entry.name}: too many files (more than {limits.max_files_per_entry})")
    return sorted(found, key=lambda p: _natural_key(p.relative_to(entry).as_posix()))


# --- pages and opened sources ------------------------------------------------------------


Affine = tuple[float, float, float, float, float, float]  # (a, b, c, d, e, f), see _display_affine
_T = TypeVar("_T")


class _Backend(Protocol):
    def words(self, index: int) -> list[Word]: ...

    def text(self, index: int) -> str: ...

    def text_in(self, index: int, bbox: BBox) -> str: ...

    def chars(self, index: int) -> list[Char]: ...

    def image(self, index: int, width_px: int, height_px: int, gray: bool) -> NDArray[np.uint8]: ...

    def source_dpi(self, index: int) -> float | None: ...

    def source_gray(self, index: int) -> bool: ...

    def close(self) -> None: ...


class Page:
    """One page of one input file, read lazily; see the module docstring."""

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
        backend: _Backend,
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
        area_in2 = max(self.width_pt, 1e-3) * max(self.height_pt, 1e-3) / 72.0**2
        cap = math.sqrt(self._limits.max_page_pixels / area_in2)
        if dpi <= cap:
            return float(dpi)
        if cap < min(dpi, self._limits.min_dpi):
            raise LimitExceededError(f"{self.where}: {_too_large(self, self._limits)}")
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
        width_px = max(1, round(self.width_pt * eff / 72.0))
        height_px = max(1, round(self.height_pt * eff / 72.0))
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


def _too_large(page: Page, limits: Limits) -> str:
    mpx = page.width_pt * page.height_pt * (limits.min_dpi / 72.0) ** 2 / 1e6
    return (
        f"page {page.ref.page} is {page.width_pt:.0f} x {page.height_pt:.0f} pt, too large to "
        f"rasterise safely ({mpx:.0f} Mpx at {limits.min_dpi:.0f} dpi > "
        f"{limits.max_page_pixels / 1e6:.0f} Mpx limit)"
    )


class OpenedSource:
    """One input file after opening: its SourceFile record, its lazy pages and what was noticed."""

    def __init__(
        self,
        source: SourceFile,
        pages: tuple[Page, ...] = (),
        notes: tuple[str, ...] = (),
        fields: dict[str, AcroField] | None = None,
        backend: _Backend | None = None,
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


def iter_sources(entry: Path, limits: Limits) -> Iterator[OpenedSource]:
    """open_source for every file of an entry; each is closed when the iteration moves on."""
    for path in scan_entry(entry, limits):
        with open_source(path, relative_name(entry, path), limits) as opened:
            yield opened


# --- opening: sniff, hash, dispatch ------------------------------------------------------

_HEAD_BYTES = 64 * 1024


def _hash_and_head(path: Path) -> tuple[str, bytes, int]:
    digest = hashlib.sha256()
    head = b""
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            if not head:
                head = chunk[:_HEAD_BYTES]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), head, size


def _describe_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            mimetype = ""
            if "mimetype" in names:
                with zf.open("mimetype") as fh:
                    mimetype = fh.read(200).decode("ascii", "replace")
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return "a ZIP archive"
    if any(n.startswith("word/") for n in names):
        return "a Word .docx file"
    if any(n.startswith("xl/") for n in names):
        return "an Excel .xlsx file"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint .pptx file"
    if "opendocument" in mimetype:
        return "an OpenDocument file (.odt/.ods)"
    return "a ZIP archive"


def _sniff(path: Path, head: bytes) -> tuple[str, str | None]:
    """(kind, detail): kind is pdf, image or other; detail is the garbage length or a description."""
    pdf_at = head.find(b"%PDF-")
    if pdf_at == 0:
        return "pdf", None
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"II+\x00")):
        return "image", None
    if head.startswith((b"GIF87a", b"GIF89a")) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image", None
    if head[:2] == b"BM" and head[6:10] == b"\0\0\0\0":  # BMP: its reserved bytes are zero
        return "image", None
    if pdf_at > 0:
        return "pdf", f"{pdf_at} bytes of junk before the %PDF header (skipped)"
    if head.startswith(b"PK\x03\x04"):
        return "other", _describe_zip(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "other", "an old Microsoft Office file (.doc/.xls)"
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "other", "an HTML page"
    if lowered.startswith(b"{\\rtf"):
        return "other", "an RTF document"
    sample = head[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the sample is fine
        text = sample[: exc.start].decode("utf-8") if exc.start >= len(sample) - 3 else ""
    if text and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text):
        return "other", "a plain-text file"
    return "other", "unrecognised content"


def open_source(path: Path, rel: str, limits: Limits) -> OpenedSource:
    """Open one input file read-only; see the module docstring. Never raises for a bad file.

    Args:
        path: the file in the inbox (never written, moved or copied over).
        rel: its name relative to the inbox entry, as SourceFile.file and PageRef.file.
        limits: size, page, pixel and time limits.
    """
    try:
        sha256, head, size = _hash_and_head(path)
    except OSError as exc:
        return _failed(rel, "", f"cannot be read: {exc.strerror or exc}")
    if size == 0:
        return _failed(rel, sha256, "empty file (0 bytes)")
    if size > limits.max_file_bytes:
        return _failed(
            rel,
            sha256,
            f"file too large ({size / 2**20:.0f} MB > {limits.max_file_bytes / 2**20:.0f} MB limit)",
        )
    kind, detail = _sniff(path, head)
    suffix = path.suffix.lower()
    notes: list[str] = []
    if kind == "other":
        if suffix == ".pdf":
            return _failed(rel, sha256, f"not a PDF (it is {detail} named .pdf)")
        if suffix in IMAGE_SUFFIXES:
            return _failed(rel, sha256, f"not an image (it is {detail} named {suffix})")
        return _failed(rel, sha256, f"not a PDF or image (it is {detail})")
    if kind == "pdf" and suffix != ".pdf":
        notes.append(f"the file is a PDF although it is named {path.suffix or 'without a suffix'}")
    if kind == "image" and suffix not in IMAGE_SUFFIXES:
        notes.append(f"the file is an image although it is named {path.suffix or 'without a suffix'}")
    if detail:
        notes.append(detail)
    try:
        if kind == "pdf":
            return _open_pdf(path, rel, sha256, limits, notes)
        return _open_image(path, rel, sha256, limits, notes)
    except PipelineError as exc:
        return _failed(rel, sha256, exc.message, notes)
    except Exception as exc:  # a library failing in a way we did not foresee stays this file's problem
        logger.exception("%s: unexpected error while opening", rel)
        return _failed(rel, sha256, f"could not be read ({type(exc).__name__}: {exc})", notes)


def _failed(rel: str, sha256: str, message: str, notes: list[str] | None = None) -> OpenedSource:
    logger.info("%s: %s", rel, message)
    source = SourceFile(rel, sha256, 0, "unreadable", "error", message)
    return OpenedSource(source, notes=tuple(notes or ()))


# --- PDF ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PullPlan:
    """How to take a page's image straight from its embedded JPEG instead of rendering."""

    obj_index: int
    transpose: Image.Transpose | None  # image pixels → displayed page
    flate_layers: int  # FlateDecode filters wrapped around the DCT data


@dataclass(frozen=True, slots=True)
class _PdfPageInfo:
    size_pt: tuple[float, float]
    rotation: int
    affine: Affine  # page space → displayed, top-left
    good_chars: int
    bad_chars: int
    visible_text_objects: int
    image_cover: float
    pull: _PullPlan | None
    error: str | None
    sole_pixels: int = 0  # pixel count of the page's only image (0: none, or several)
    sole_gray: bool = False  # the only image is grey or bilevel (no colour to look for)

    @property
    def has_text(self) -> bool:
        return self.good_chars > 0 and self.bad_chars <= _MAX_UNMAPPED_SHARE * (self.good_chars + self.bad_chars)

    @property
    def scanned(self) -> bool:
        if self.image_cover < _SCAN_COVER:
            return False
        if self.visible_text_objects == 0:
            return True
        return self.image_cover >= _SCAN_COVER_WITH_STAMP and self.good_chars <= _STAMP_CHARS


def _display_affine(bbox: tuple[float, float, float, float], rotation: int) -> Affine:
    """(a, b, c, d, e, f) with X = a·x + c·y + e, Y = b·x + d·y + f: page space → displayed page.

    The displayed page is the crop box turned clockwise by /Rotate, origin top left, y down.
    """
    x0, y0, x1, y1 = bbox
    if rotation == 90:
        return (0.0, 1.0, 1.0, 0.0, -y0, -x0)
    if rotation == 180:
        return (-1.0, 0.0, 0.0, 1.0, x1, -y0)
    if rotation == 270:
        return (0.0, -1.0, -1.0, 0.0, y1, x1)
    return (1.0, 0.0, 0.0, -1.0, -x0, y1)


def _apply(m: Affine, x0: float, y0: float, x1: float, y1: float) -> BBox:
    a, b, c, d, e, f = m
    xs = (a * x0 + c * y0 + e, a * x1 + c * y1 + e)
    ys = (b * x0 + d * y0 + f, b * x1 + d * y1 + f)
    return (min(xs), min(ys), max(xs), max(ys))


class _PdfBackend:
    def __init__(self, rel: str, doc: pdfium.PdfDocument, pike: pikepdf.Pdf, limits: Limits) -> None:
        self.rel = rel
        self.doc: pdfium.PdfDocument | None = doc
        self.pike: pikepdf.Pdf | None = pike
        self.limits = limits
        self.infos: list[_PdfPageInfo] = []

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
                return _words(textpage, self.infos[index].affine)
            finally:
                textpage.close()
        finally:
            page.close()

    def text(self, index: int) -> str:
        page = self._doc()[index]
        try:
            textpage = page.get_textpage()
            try:
                return _page_text(textpage)
            finally:
                textpage.close()
        finally:
            page.close()

    def text_in(self, index: int, bbox: BBox) -> str:
        a, b, c, d, e, f = self.infos[index].affine
        det = a * d - b * c
        if abs(det) < 1e-12:
            return ""
        # invert the page → display affine to find the region in PDF user space
        ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
        corners = [(x - e, y - f) for x in (bbox[0], bbox[2]) for y in (bbox[1], bbox[3])]
        xs = [ia * x + ic * y for x, y in corners]
        ys = [ib * x + id_ * y for x, y in corners]
        page = self._doc()[index]
        try:
            textpage = page.get_textpage()
            try:
                return str(textpage.get_text_bounded(left=min(xs), bottom=min(ys), right=max(xs), top=max(ys)))
            finally:
                textpage.close()
        finally:
            page.close()

    def chars(self, index: int) -> list[Char]:
        page = self._doc()[index]
        try:
            textpage = page.get_textpage()
            try:
                return [Char(ch, box) for ch, box in _char_boxes(textpage, self.infos[index].affine, loose=False) if box is not None]
            finally:
                textpage.close()
        finally:
            page.close()

    # images ------------------------------------------------------------------------------

    def source_dpi(self, index: int) -> float | None:
        """By area: the sole image's pixels over the share of the page it covers (JPEG, CCITT, JBIG2, Flate alike)."""
        info = self.infos[index]
        if not info.sole_pixels or info.image_cover < _SCAN_COVER:
            return None
        area_in2 = info.image_cover * info.size_pt[0] * info.size_pt[1] / 72.0**2
        return math.sqrt(info.sole_pixels / max(area_in2, 1e-6))

    def source_gray(self, index: int) -> bool:
        info = self.infos[index]
        return info.sole_gray and info.image_cover >= _SCAN_COVER

    def image(self, index: int, width_px: int, height_px: int, gray: bool) -> NDArray[np.uint8]:
        where = f"{self.rel} p{index + 1}"
        plan = self.infos[index].pull
        page = self._doc()[index]
        try:
            if plan is not None:
                try:
                    pulled = _pull_jpeg(page, plan, width_px, height_px, gray, self.limits)
                except (OSError, ValueError, zlib.error, Image.DecompressionBombError) as exc:
                    logger.debug("%s: embedded JPEG not usable (%s); rendering", where, exc)
                    pulled = None
                if pulled is not None:
                    return pulled
            return _render(page, width_px, height_px, gray, self.limits, where)
        finally:
            page.close()


def _char_boxes(textpage: pdfium.PdfTextPage, affine: Affine, loose: bool) -> list[tuple[str, BBox | None]]:
    """Every character index of a text page with its displayed box (None for white space/no box)."""
    text = _page_text(textpage)
    raw = textpage.raw
    a, b, c, d, e, f = affine
    out: list[tuple[str, BBox | None]] = []
    append = out.append
    if loose:
        rect = pdfium_c.FS_RECTF()
        get_loose = pdfium_c.FPDFText_GetLooseCharBox
        for i, ch in enumerate(text):
            if ch <= " " or ch.isspace() or not get_loose(raw, i, rect):
                append((ch, None))
                continue
            x0, y0, x1, y1 = rect.left, rect.top, rect.right, rect.bottom
            X0, X1 = a * x0 + c * y0 + e, a * x1 + c * y1 + e
            Y0, Y1 = b * x0 + d * y0 + f, b * x1 + d * y1 + f
            append((ch, (min(X0, X1), min(Y0, Y1), max(X0, X1), max(Y0, Y1))))
        return out
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    get_tight = pdfium_c.FPDFText_GetCharBox
    for i, ch in enumerate(text):
        if ch <= " " or ch.isspace() or not get_tight(raw, i, left, right, bottom, top):
            append((ch, None))
            continue
        append((ch, _apply(affine, left.value, top.value, right.value, bottom.value)))
    return out


def _words(textpage: pdfium.PdfTextPage, affine: Affine) -> list[Word]:
    words: list[Word] = []
    chars: list[str] = []
    box = [0.0, 0.0, 0.0, 0.0]
    prev: BBox = (0.0, 0.0, 0.0, 0.0)

    def flush() -> None:
        if chars:
            words.append(Word("".join(chars), (box[0], box[1], box[2], box[3])))
            chars.clear()

    for ch, cb in _char_boxes(textpage, affine, loose=True):
        if cb is None:
            flush()
            continue
        if chars:
            # a jump of more than a character's size starts a new word (table cells, columns)
            tol = max(prev[2] - prev[0], prev[3] - prev[1], cb[2] - cb[0], cb[3] - cb[1], 1.0)
            gap_x = max(0.0, cb[0] - prev[2], prev[0] - cb[2])
            gap_y = max(0.0, cb[1] - prev[3], prev[1] - cb[3])
            if gap_x > tol or gap_y > tol:
                flush()
        if chars:
            box[0], box[1] = min(box[0], cb[0]), min(box[1], cb[1])
            box[2], box[3] = max(box[2], cb[2]), max(box[3], cb[3])
        else:
            box[:] = cb
        chars.append(ch)
        prev = cb
    flush()
    return words


def _pull_jpeg(
    page: pdfium.PdfPage, plan: _PullPlan, width_px: int, height_px: int, gray: bool, limits: Limits
) -> NDArray[np.uint8] | None:
    """Decode the page's only image, a JPEG, at reduced size; None when that is not safe."""
    obj = pdfium_c.FPDFPage_GetObject(page, plan.obj_index)
    if not obj or pdfium_c.FPDFPageObj_GetType(obj) != _OBJ_IMAGE:
        return None
    size = pdfium_c.FPDFImageObj_GetImageDataRaw(obj, None, 0)
    if size <= 0 or size > limits.max_file_bytes:
        return None
    buf = ctypes.create_string_buffer(size)
    pdfium_c.FPDFImageObj_GetImageDataRaw(obj, buf, size)
    data = buf.raw[:size]
    for _ in range(plan.flate_layers):
        inflater = zlib.decompressobj()
        data = inflater.decompress(data, limits.max_file_bytes)
        if inflater.unconsumed_tail:
            return None
    swap = plan.transpose in (
        Image.Transpose.TRANSPOSE,
        Image.Transpose.TRANSVERSE,
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_270,
    )
    want = (height_px, width_px) if swap else (width_px, height_px)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as im:  # the header only: what it is and how big
            if im.format != "JPEG" or im.mode not in ("L", "RGB"):
                return None  # CMYK and friends: let pdfium apply the PDF's colour rules
            if im.width * im.height > limits.max_source_pixels:
                return None
            size = im.size
    # OpenCV decodes straight into an array at 1/2, 1/4, 1/8 (libjpeg's DCT scaling, the same
    # pixels as Pillow's draft) without Pillow's two copies: 20 ms instead of 70 for a 300 dpi
    # colour page. Two pixels of slack: a 2480 px scan asked for 1241 still decodes at 1/2.
    scale = min(size[0] // max(1, want[0] - 2), size[1] // max(1, want[1] - 2))
    scale = next(k for k in (8, 4, 2, 1) if scale >= k or k == 1)
    flags = _CV_DECODE[(gray, scale)] | cv2.IMREAD_IGNORE_ORIENTATION  # a PDF shows the pixels as stored
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if decoded is None:
        raise ValueError("OpenCV could not decode the JPEG")
    out = np.asarray(decoded if gray else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), np.uint8)
    if plan.transpose is not None:
        out = _np_transpose(out, plan.transpose)
    return _sized_array(out, width_px, height_px)


_CV_DECODE = {
    (True, 1): cv2.IMREAD_GRAYSCALE,
    (True, 2): cv2.IMREAD_REDUCED_GRAYSCALE_2,
    (True, 4): cv2.IMREAD_REDUCED_GRAYSCALE_4,
    (True, 8): cv2.IMREAD_REDUCED_GRAYSCALE_8,
    (False, 1): cv2.IMREAD_COLOR,
    (False, 2): cv2.IMREAD_REDUCED_COLOR_2,
    (False, 4): cv2.IMREAD_REDUCED_COLOR_4,
    (False, 8): cv2.IMREAD_REDUCED_COLOR_8,
}


def _np_transpose(a: NDArray[np.uint8], how: Image.Transpose) -> NDArray[np.uint8]:
    """Pillow's Image.transpose(how) on an array (a view)."""
    if how == Image.Transpose.FLIP_LEFT_RIGHT:
        return a[:, ::-1]
    if how == Image.Transpose.FLIP_TOP_BOTTOM:
        return a[::-1]
    if how == Image.Transpose.ROTATE_90:
        return np.rot90(a, 1)
    if how == Image.Transpose.ROTATE_180:
        return a[::-1, ::-1]
    if how == Image.Transpose.ROTATE_270:
        return np.rot90(a, -1)
    if how == Image.Transpose.TRANSPOSE:
        return a.swapaxes(0, 1)
    return a[::-1, ::-1].swapaxes(0, 1)  # TRANSVERSE


def _sized_array(arr: NDArray[np.uint8], width_px: int, height_px: int) -> NDArray[np.uint8]:
    """The decoded picture at exactly width_px × height_px, contiguous.

    A JPEG decoded at a reduced scale rounds its size up (1241 px for 1240 asked): a pixel or
    two is cut or repeated at the edge, not paid for with a resize of the whole page (7-40 ms).
    """
    h, w = arr.shape[:2]
    if (w, h) == (width_px, height_px):
        return np.ascontiguousarray(arr)
    if abs(w - width_px) <= 2 and abs(h - height_px) <= 2:
        arr = arr[:height_px, :width_px]
        pad = ((0, height_px - arr.shape[0]), (0, width_px - arr.shape[1])) + (((0, 0),) if arr.ndim == 3 else ())
        return np.pad(arr, pad, mode="edge") if any(p[1] for p in pad) else np.ascontiguousarray(arr)
    f = exact_factor(width_px / w, w, within_px=1.0)  # 1/2, 2/3, ...: a fast exact shrink, then evened
    if f is not None and f < 1 and abs(h * f - height_px) <= 1:
        return _sized_array(shrink(np.ascontiguousarray(arr), float(f)), width_px, height_px)
    return np.asarray(cv2.resize(np.ascontiguousarray(arr), (width_px, height_px), interpolation=cv2.INTER_LINEAR), np.uint8)


def _render(page: pdfium.PdfPage, width_px: int, height_px: int, gray: bool, limits: Limits, where: str) -> NDArray[np.uint8]:
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


# --- opening and classifying a PDF --------------------------------------------------------


def _qpdf_repair(path: Path, tmpdir: Path, limits: Limits) -> Path | None:
    """Let the qpdf program rewrite a damaged PDF into tmpdir; None if it cannot."""
    exe = shutil.which("qpdf")
    if exe is None:
        return None
    out = tmpdir / "repaired.pdf"
    try:
        proc = subprocess.run(
            [exe, "--", str(path.resolve()), str(out)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.repair_seconds,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        logger.debug("%s: qpdf repair failed: %s", path.name, exc)
        return None
    if proc.returncode not in (0, 3) or not out.is_file():
        logger.debug("%s: qpdf repair failed: %s", path.name, proc.stderr.decode(errors="replace")[-300:])
        return None
    return out


def _first_line(exc: BaseException | str, path: Path) -> str:
    """The first line of a library message, without the file's path (the caller names the file)."""
    text = str(exc).strip()
    text = text.splitlines()[0] if text else ""
    text = text.replace(str(path.resolve()), "").replace(str(path), "").replace(path.name, "")
    return text.lstrip(":, ").strip() or (type(exc).__name__ if isinstance(exc, BaseException) else "")


def _open_pike(path: Path, tmpdir_holder: list[Path], limits: Limits, notes: list[str]) -> tuple[pikepdf.Pdf, Path]:
    """Open with pikepdf (which reconstructs most damage), else via a qpdf-repaired copy."""
    try:
        pdf = pikepdf.open(path, password="")
    except pikepdf.PasswordError as exc:
        raise UnreadableFileError("encrypted PDF (a password is needed to open it)") from exc
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        reason = _first_line(exc, path)
        tmpdir = Path(tempfile.mkdtemp(prefix="ingest-"))
        tmpdir_holder.append(tmpdir)
        repaired = _qpdf_repair(path, tmpdir, limits)
        if repaired is not None:
            try:
                fixed = pikepdf.open(repaired)
            except (pikepdf.PdfError, RuntimeError, ValueError):
                fixed = None
            if fixed is not None:
                notes.append(f"damaged PDF repaired by qpdf ({reason})")
                return fixed, repaired
        with open(path, "rb") as fh:
            has_objects = re.search(rb"\d+\s+\d+\s+obj\b", fh.read(limits.max_file_bytes)) is not None
        if not has_objects:
            raise UnreadableFileError("not a PDF (it starts like a PDF but holds no PDF objects)") from exc
        raise UnreadableFileError(f"damaged PDF: {reason}") from exc
    warnings_seen = [w for w in pdf.get_warnings() if w]
    if warnings_seen:
        notes.append(f"damaged PDF, repaired on opening ({_first_line(warnings_seen[0], path)})")
    return pdf, path


def _open_pdf(path: Path, rel: str, sha256: str, limits: Limits, notes: list[str]) -> OpenedSource:
    deadline = time.monotonic() + limits.file_seconds
    tmpdirs: list[Path] = []
    backend: _PdfBackend | None = None
    try:
        pike, readable = _open_pike(path, tmpdirs, limits, notes)
        try:
            doc = pdfium.PdfDocument(str(readable))
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                pike.close()
                raise UnreadableFileError("encrypted PDF (a password is needed to open it)") from exc
            # pdfium refuses what qpdf reconstructed: hand it qpdf's rewritten copy
            if not tmpdirs:
                tmpdirs.append(Path(tempfile.mkdtemp(prefix="ingest-")))
            copy = tmpdirs[0] / "rewritten.pdf"
            try:
                pike.save(copy)
                doc = pdfium.PdfDocument(str(copy))
            except (pdfium.PdfiumError, pikepdf.PdfError, RuntimeError, ValueError) as exc2:
                pike.close()
                raise UnreadableFileError(f"damaged PDF: {_first_line(exc2, path)}") from exc2
            notes.append("damaged PDF, rewritten by qpdf before reading")
        backend = _PdfBackend(rel, doc, pike, limits)
        opened = _classify_pdf(backend, path, rel, sha256, limits, notes, deadline)
        opened._tmpdir = tmpdirs[0] if tmpdirs else None
        return opened
    except BaseException:
        if backend is not None:
            backend.close()
        for d in tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
        raise


def _document_notes(pike: pikepdf.Pdf, n_pages: int, notes: list[str]) -> None:
    root = pike.Root
    if pike.is_encrypted:
        notes.append("encrypted with an owner password only: opened without a password")
    try:
        claimed = int(root.Pages.get("/Count", n_pages))
    except (TypeError, ValueError, AttributeError):
        claimed = n_pages
    if claimed != n_pages:
        notes.append(f"the page tree claims {claimed} pages; {n_pages} found")
    names = root.get("/Names")
    open_action = root.get("/OpenAction")
    has_js = (
        (isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names)
        or (isinstance(open_action, pikepdf.Dictionary) and open_action.get("/S") == "/JavaScript")
        or "/AA" in root
    )
    if has_js:
        notes.append("contains JavaScript (ignored, never run)")


def _classify_pdf(
    backend: _PdfBackend,
    path: Path,
    rel: str,
    sha256: str,
    limits: Limits,
    notes: list[str],
    deadline: float,
) -> OpenedSource:
    pike, doc = backend.pike, backend.doc
    assert pike is not None and doc is not None
    n_pike = len(pike.pages)
    n_pdfium = len(doc)
    n_pages = min(n_pike, n_pdfium)
    if n_pike != n_pdfium:
        notes.append(f"page count differs between readers ({n_pike} vs {n_pdfium}); using {n_pages}")
    if n_pages > limits.max_pages:
        raise LimitExceededError(f"too many pages ({n_pages} > {limits.max_pages} limit)")
    if n_pages == 0:
        raise UnreadableFileError("damaged PDF: it has no pages")
    _document_notes(pike, n_pages, notes)

    acroform = pike.Root.get("/AcroForm")
    xfa = isinstance(acroform, pikepdf.Dictionary) and "/XFA" in acroform
    has_fields = isinstance(acroform, pikepdf.Dictionary) and bool(acroform.get("/Fields"))
    if xfa and (bool(pike.Root.get("/NeedsRendering", False)) or not has_fields):
        raise UnreadableFileError(
            "dynamic XFA form not supported: XFA form without usable pages (its only page is a "
            "'requires Adobe Reader' placeholder); please print it to an ordinary PDF"
        )
    if has_fields and not xfa:
        doc.init_forms()  # before any page is loaded, so that field values are drawn

    infos: list[_PdfPageInfo] = []
    for i in range(n_pages):
        if time.monotonic() > deadline:
            raise LimitExceededError(f"gave up after {limits.file_seconds:.0f} s reading the page structure (page {i + 1} of {n_pages})")
        infos.append(_inspect_page(doc, pike, i, limits))
    backend.infos = infos

    fields: dict[str, AcroField] = {}
    if isinstance(acroform, pikepdf.Dictionary):
        try:
            fields = _read_fields(pike, rel, infos, limits, notes)
        except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, AttributeError) as exc:
            notes.append(f"AcroForm fields could not be read ({exc})")
    if xfa:
        notes.append("XFA form: read through its AcroForm fields and page content (XFA data ignored)")

    pages = tuple(
        Page(
            backend,
            i,
            PageRef(rel, i + 1),
            info.size_pt,
            info.rotation,
            info.has_text,
            info.scanned,
            limits,
            fields,
        )
        for i, info in enumerate(infos)
    )
    for page, info in zip(pages, infos, strict=True):
        page.error = _too_large(page, limits) if _fit_or_none(page) is None else info.error
    errors = [p.error for p in pages if p.error is not None]
    kind: SourceKind
    if fields:
        kind = "acroform"
    else:
        scans = sum(info.scanned for info in infos)
        kind = "scanned" if scans == n_pages else "mixed" if scans else "born_digital"
    if len(errors) == n_pages:
        source = SourceFile(rel, sha256, n_pages, "unreadable", "error", errors[0])
    else:
        source = SourceFile(rel, sha256, n_pages, kind, "ok", None)
    for note in notes:
        logger.info("%s: %s", rel, note)
    return OpenedSource(source, pages, tuple(notes), fields, backend)


def _fit_or_none(page: Page) -> float | None:
    try:
        return page.fit_dpi(page._limits.min_dpi)
    except LimitExceededError:
        return None


def _inspect_page(doc: pdfium.PdfDocument, pike: pikepdf.Pdf, index: int, limits: Limits) -> _PdfPageInfo:
    page = doc[index]
    try:
        width, height = page.get_size()
        rotation = page.get_rotation() % 360
        bbox = tuple(page.get_bbox())
        affine = _display_affine(bbox, rotation)  # type: ignore[arg-type]
        walk = _walk_objects(page, bbox, limits)  # type: ignore[arg-type]
        textpage = page.get_textpage()
        try:
            good, bad = _char_quality(textpage)
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
            pull = _pull_plan(page, pike, index, walk.sole_image, affine, (width, height))
        sole_pixels = walk.sole_pixels if error is None else 0
        sole_gray = sole_pixels > 0 and _image_is_gray(page, pdfium_c.FPDFPage_GetObject(page, walk.sole_image))
        return _PdfPageInfo(
            (width, height), rotation, affine, good, bad, walk.visible_text, walk.image_cover, pull, error, sole_pixels, sole_gray
        )
    finally:
        page.close()


_GRAY_SPACES = frozenset({pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_CALGRAY})


def _image_is_gray(page: pdfium.PdfPage, obj: object) -> bool:
    """An image object with one grey channel: DeviceGray/CalGray, or a one-channel ICC profile.

    Stencil masks, Separation and Indexed images are painted in some colour: not grey.
    """
    meta = pdfium_c.FPDF_IMAGEOBJ_METADATA()
    if not obj or not pdfium_c.FPDFImageObj_GetImageMetadata(obj, page, meta):
        return False
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


def _page_text(textpage: pdfium.PdfTextPage) -> str:
    """All characters of a text page, one per pdfium character index."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    if count <= 0:
        return ""
    buf = (ctypes.c_ushort * (count + 1))()
    pdfium_c.FPDFText_GetText(raw, 0, count, buf)
    text = bytes(buf)[: 2 * count].decode("utf-16-le", errors="replace")
    if len(text) != count:  # characters outside the BMP take two UTF-16 units: go one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw, i) or 0xFFFD) for i in range(count))
    return text


_QUALITY_SAMPLE = 256  # characters checked for a missing Unicode mapping per page


_BLANK_CHARS = re.compile(r"[\s\x00-\x1f]")
_BAD_CHARS = re.compile("[\ufffd\ue000-\uf8ff]")


def _char_quality(textpage: pdfium.PdfTextPage) -> tuple[int, int]:
    """(real characters, characters without a trustworthy Unicode value) of a text page.

    U+FFFD and private-use characters count as bad outright; pdfium's per-character mapping
    check runs on an even sample (a full pass cost 15 ms on a 5000-character page).
    """
    text = _page_text(textpage)
    visible = len(_BLANK_CHARS.sub("", text))
    if visible == 0:
        return 0, 0
    bad_now = len(_BAD_CHARS.findall(text))
    step = max(1, len(text) // _QUALITY_SAMPLE)
    sample = [i for i in range(0, len(text), step) if not (text[i].isspace() or text[i] < " " or _BAD_CHARS.match(text[i]))]
    raw = textpage.raw
    unmapped = sum(pdfium_c.FPDFText_HasUnicodeMapError(raw, i) == 1 for i in sample)
    rest = visible - bad_now
    bad = bad_now + (round(unmapped * rest / len(sample)) if sample else 0)
    return visible - bad, bad


_TRANSPOSES: dict[tuple[str, str], Image.Transpose | None] = {
    # (where image columns run, where image rows run) on the displayed page
    ("+x", "+y"): None,
    ("-x", "+y"): Image.Transpose.FLIP_LEFT_RIGHT,
    ("+x", "-y"): Image.Transpose.FLIP_TOP_BOTTOM,
    ("-x", "-y"): Image.Transpose.ROTATE_180,
    ("+y", "+x"): Image.Transpose.TRANSPOSE,
    ("-y", "+x"): Image.Transpose.ROTATE_90,
    ("+y", "-x"): Image.Transpose.ROTATE_270,
    ("-y", "-x"): Image.Transpose.TRANSVERSE,
}


def _axis(vx: float, vy: float) -> str | None:
    """Which display axis a vector runs along, or None if it is tilted."""
    if abs(vy) <= 0.01 * abs(vx):
        return "+x" if vx > 0 else "-x"
    if abs(vx) <= 0.01 * abs(vy):
        return "+y" if vy > 0 else "-y"
    return None


def _pull_plan(
    page: pdfium.PdfPage,
    pike: pikepdf.Pdf,
    index: int,
    obj_index: int,
    affine: Affine,
    size_pt: tuple[float, float],
) -> _PullPlan | None:
    """A plan to decode the page's sole image directly, when it is a plain JPEG filling the page."""
    obj = pdfium_c.FPDFPage_GetObject(page, obj_index)
    n_filters = pdfium_c.FPDFImageObj_GetImageFilterCount(obj)
    filters = []
    for k in range(n_filters):
        size = pdfium_c.FPDFImageObj_GetImageFilter(obj, k, None, 0)
        buf = ctypes.create_string_buffer(size)
        pdfium_c.FPDFImageObj_GetImageFilter(obj, k, buf, size)
        filters.append(buf.value.decode("ascii", "replace"))
    if not filters or filters[-1] != "DCTDecode" or any(f != "FlateDecode" for f in filters[:-1]):
        return None
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return None
    a, b, c, d, e, f = affine
    # image unit square → page: (u, v) ↦ (m.a·u + m.c·v + m.e, m.b·u + m.d·v + m.f); rows run down (−v)
    col = (a * m.a + c * m.b, b * m.a + d * m.b)
    row = (-(a * m.c + c * m.d), -(b * m.c + d * m.d))
    col_axis, row_axis = _axis(*col), _axis(*row)
    if col_axis is None or row_axis is None or col_axis[1] == row_axis[1]:
        return None
    corners = [(m.e + m.a * u + m.c * v, m.f + m.b * u + m.d * v) for u in (0, 1) for v in (0, 1)]
    xs = [a * x + c * y + e for x, y in corners]
    ys = [b * x + d * y + f for x, y in corners]
    width, height = size_pt
    tol_x, tol_y = max(2.0, 0.01 * width), max(2.0, 0.01 * height)
    if not (abs(min(xs)) <= tol_x and abs(max(xs) - width) <= tol_x and abs(min(ys)) <= tol_y and abs(max(ys) - height) <= tol_y):
        return None
    if not _plain_image_dict(pike, index, obj):
        return None
    return _PullPlan(obj_index, _TRANSPOSES[(col_axis, row_axis)], len(filters) - 1)


def _plain_image_dict(pike: pikepdf.Pdf, index: int, obj: object) -> bool:
    """True if the page's one image XObject has no mask, decode array or unusual colour space."""
    w_px, h_px = ctypes.c_uint(), ctypes.c_uint()
    if not pdfium_c.FPDFImageObj_GetImagePixelSize(obj, w_px, h_px):
        return False
    try:
        resources = pike.pages[index].obj.get("/Resources")
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        if not isinstance(xobjects, pikepdf.Dictionary):
            return False
        images = [x for x in xobjects.values() if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == "/Image"]
        if len(images) != 1:
            return False
        img = images[0]
        if int(img.get("/Width", -1)) != w_px.value or int(img.get("/Height", -1)) != h_px.value:
            return False
        if any(k in img for k in ("/SMask", "/Mask", "/Decode", "/SMaskInData")) or img.get("/ImageMask"):
            return False
        parms = img.get("/DecodeParms")
        if isinstance(parms, pikepdf.Array) and any(isinstance(p, pikepdf.Dictionary) and len(p) for p in parms):
            return False
        cs = img.get("/ColorSpace")
        if isinstance(cs, pikepdf.Name):
            return cs in ("/DeviceGray", "/DeviceRGB")
        if isinstance(cs, pikepdf.Array) and len(cs) >= 2:
            if cs[0] in ("/CalGray", "/CalRGB"):
                return True
            if cs[0] == "/ICCBased" and isinstance(cs[1], pikepdf.Stream):
                return int(cs[1].get("/N", 0)) in (1, 3)
        return False
    except (pikepdf.PdfError, TypeError, ValueError, AttributeError, IndexError):
        return False


# --- AcroForm ----------------------------------------------------------------------------

_FF_RADIO = 1 << 15
_FF_PUSHBUTTON = 1 << 16


def _pdf_text(obj: object) -> str | None:
    if isinstance(obj, pikepdf.String):
        return str(obj)
    if isinstance(obj, pikepdf.Name):
        return str(obj)[1:]
    if isinstance(obj, pikepdf.Array):
        parts = [t for t in (_pdf_text(x) for x in obj) if t]
        return "\n".join(parts) if parts else None
    if isinstance(obj, pikepdf.Stream):
        return obj.read_bytes().decode("utf-8", "replace")
    return None


def _read_fields(pike: pikepdf.Pdf, rel: str, infos: list[_PdfPageInfo], limits: Limits, notes: list[str]) -> dict[str, AcroField]:
    """Walk /AcroForm /Fields (tolerant of cycles, missing appearances and odd values)."""
    acroform = pike.Root.AcroForm
    roots = acroform.get("/Fields")
    if not isinstance(roots, pikepdf.Array):
        return {}
    page_of: dict[tuple[int, int], int] = {}
    page_objs: dict[tuple[int, int], int] = {}
    for i, page in enumerate(pike.pages[: len(infos)]):
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
        return 0 if len(infos) == 1 else None

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
        field = _make_field(name or f"(unnamed {len(fields) + 1})", inh, widgets, rel, infos, widget_page)
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
    infos: list[_PdfPageInfo],
    widget_page: Callable[[pikepdf.Dictionary], int | None],
) -> AcroField:
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
                bbox = _apply(infos[idx].affine, x0, y0, x1, y1)
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
        value = _pdf_text(raw_v) or None
    return AcroField(name, kind, value, tuple(widgets), note)


# --- images: TIFF, PNG, JPEG ----------------------------------------------------------------

_EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ROTATION = {3: 180, 6: 90, 8: 270}
_SWAPS = (5, 6, 7, 8)


@dataclass(frozen=True, slots=True)
class _Frame:
    index: int
    size_pt: tuple[float, float]  # displayed
    orientation: int  # EXIF orientation 1-8
    width_px: int = 0  # displayed
    gray: bool = False  # stored as grey or bilevel


class _ImageBackend:
    def __init__(self, path: Path, rel: str, frames: list[_Frame], limits: Limits) -> None:
        self.path = path
        self.rel = rel
        self.frames = frames
        self.limits = limits

    def close(self) -> None:
        pass

    def words(self, index: int) -> list[Word]:
        return []

    def text(self, index: int) -> str:
        return ""

    def text_in(self, index: int, bbox: BBox) -> str:
        return ""

    def chars(self, index: int) -> list[Char]:
        return []

    def source_dpi(self, index: int) -> float | None:
        frame = self.frames[index]
        return frame.width_px / max(frame.size_pt[0], 1e-3) * 72.0 if frame.width_px else None

    def source_gray(self, index: int) -> bool:
        return self.frames[index].gray

    def image(self, index: int, width_px: int, height_px: int, gray: bool) -> NDArray[np.uint8]:
        where = f"{self.rel} p{index + 1}"
        frame = self.frames[index]
        transpose = _EXIF_TRANSPOSE.get(frame.orientation)
        swap = frame.orientation in _SWAPS
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(self.path) as im:
                    im.seek(frame.index)
                    if im.format == "JPEG":
                        want = (height_px, width_px) if swap else (width_px, height_px)
                        im.draft("L" if gray else "RGB", (max(1, want[0] - 2), max(1, want[1] - 2)))  # slack: see _pull_jpeg
                    im.load()
                    out = _to_mode(im, gray)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
            raise UnreadableFileError(f"{where}: damaged image ({exc})") from exc
        if transpose is not None:
            out = out.transpose(transpose)
        return _sized_array(np.array(out, dtype=np.uint8), width_px, height_px)


def _to_mode(im: Image.Image, gray: bool) -> Image.Image:
    """Any Pillow mode → L or RGB; 16-bit scaled down, transparency flattened onto white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        im = Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    return im.convert("L" if gray else "RGB")


def _plausible_dpi(info: Mapping[Any, Any], size: tuple[int, int], limits: Limits) -> tuple[float, float]:
    dpi = info.get("dpi")
    try:
        xd, yd = (float(v) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return limits.default_image_dpi, limits.default_image_dpi
    lo, hi = limits.min_image_dpi, limits.max_image_dpi
    if not (lo <= xd <= hi and lo <= yd <= hi):
        return limits.default_image_dpi, limits.default_image_dpi
    if max(size[0] / xd, size[1] / yd) > limits.max_image_page_inches:
        return limits.default_image_dpi, limits.default_image_dpi
    return xd, yd


def _open_image(path: Path, rel: str, sha256: str, limits: Limits, notes: list[str]) -> OpenedSource:
    frames: list[_Frame] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                fmt = im.format or "image"
                # only TIFF pages are pages: an MPO phone photo's second frame is a preview
                for i in range(limits.max_pages + 1 if fmt == "TIFF" else 1):
                    try:
                        im.seek(i)
                    except EOFError:
                        break
                    if i == limits.max_pages:
                        raise LimitExceededError(f"too many pages (more than {limits.max_pages} frames)")
                    w, h = im.size
                    if w * h > limits.max_source_pixels:
                        raise LimitExceededError(
                            f"image is {w} x {h} px ({w * h / 1e6:.0f} Mpx), too large to decode"
                            f" safely (limit {limits.max_source_pixels / 1e6:.0f} Mpx)"
                        )
                    orientation = int(im.getexif().get(0x0112, 1) or 1)
                    if orientation not in _EXIF_TRANSPOSE:
                        orientation = 1
                    xd, yd = _plausible_dpi(im.info, (w, h), limits)
                    if orientation in _SWAPS:
                        w, h, xd, yd = h, w, yd, xd
                    gray = im.mode in ("1", "L", "I;16", "I;16B", "I;16L", "I", "F")
                    frames.append(_Frame(i, (w / xd * 72.0, h / yd * 72.0), orientation, w, gray))
                if fmt == "JPEG":
                    _check_jpeg(im)
    except PipelineError:
        raise
    except Image.DecompressionBombError as exc:
        raise LimitExceededError(f"image too large to decode safely ({exc})") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableFileError(f"damaged image: {exc}") from exc
    if fmt == "PNG":
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 4096))
            if b"IEND" not in fh.read():
                raise UnreadableFileError("damaged image: truncated PNG (the file ends before the image data does)")
    if not frames:
        raise UnreadableFileError("damaged image: no image frames")
    if any(f.orientation != 1 for f in frames):
        notes.append("EXIF orientation applied")
    backend = _ImageBackend(path, rel, frames, limits)
    pages = tuple(
        Page(backend, f.index, PageRef(rel, f.index + 1), f.size_pt, _EXIF_ROTATION.get(f.orientation, 0), False, True, limits, {})
        for f in frames
    )
    for page in pages:
        if _fit_or_none(page) is None:
            page.error = _too_large(page, limits)
    errors = [p.error for p in pages if p.error is not None]
    if len(errors) == len(pages):
        source = SourceFile(rel, sha256, len(pages), "unreadable", "error", errors[0])
    else:
        source = SourceFile(rel, sha256, len(pages), "image", "ok", None)
    return OpenedSource(source, pages, tuple(notes), {}, backend)


def _check_jpeg(im: Image.Image) -> None:
    """Decode at 1/8 scale (cheap) so that a truncated JPEG is caught when the file is opened."""
    im.seek(0)
    im.draft("L", (max(1, im.width // 8), max(1, im.height // 8)))
    try:
        im.load()
    except OSError as exc:
        if "truncated" in str(exc):
            raise UnreadableFileError("damaged image: truncated JPEG (the file ends before the image data does)") from exc
        raise
