"""Image files (TIFF, PNG, JPEG; GIF, WebP and BMP by content) as pages: one per TIFF frame.

EXIF orientation is applied; a resolution tag that is missing or implausible (phones write
72 dpi) gives limits.default_image_dpi. A JPEG is decoded at reduced size when a smaller image
is asked for; a truncated JPEG or PNG is caught when the file is opened.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from pipeline.model.errors import LimitExceededError, PipelineError, UnreadableFileError
from pipeline.model.geometry import POINTS_PER_INCH
from pipeline.model.records import BBox, PageRef, SourceFile
from pipeline.sources.limits import Limits
from pipeline.sources.page import LastImage, OpenedSource, Page, fit_or_none, too_large
from pipeline.sources.resample import sized_array
from pipeline.sources.textlayer import Char, Word

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
    """One frame of an image file as a page."""

    index: int
    size_pt: tuple[float, float]  # displayed
    orientation: int  # EXIF orientation 1-8
    width_px: int = 0  # displayed
    gray: bool = False  # stored as grey or bilevel
    bilevel: bool = False  # stored with one bit a pixel


class _ImageBackend:
    """The PageBackend of one image file: no text layer; pixels decoded from the file when asked."""

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
        return frame.width_px / max(frame.size_pt[0], 1e-3) * POINTS_PER_INCH if frame.width_px else None

    def source_gray(self, index: int) -> bool:
        return self.frames[index].gray

    def source_bilevel(self, index: int) -> bool:
        return self.frames[index].bilevel

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
                        im.draft("L" if gray else "RGB", (max(1, want[0] - 2), max(1, want[1] - 2)))  # slack: see pull.pull_jpeg
                    im.load()
                    out = _to_mode(im, gray)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
            raise UnreadableFileError(f"{where}: damaged image ({exc})") from exc
        if transpose is not None:
            out = out.transpose(transpose)
        return sized_array(np.array(out, dtype=np.uint8), width_px, height_px)


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
    """The (x, y) dpi of the tags, or limits.default_image_dpi when they are missing or implausible."""
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


def open_image(path: Path, rel: str, sha256: str, limits: Limits, notes: list[str]) -> OpenedSource:
    """Open an image file read-only: its frames as pages (sizes in points from the dpi tags).

    Raises:
        UnreadableFileError: a damaged or truncated image.
        LimitExceededError: too many frames, or a frame too large to decode safely.
    """
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
                    frames.append(_Frame(i, (w / xd * POINTS_PER_INCH, h / yd * POINTS_PER_INCH), orientation, w, gray, im.mode == "1"))
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
    backend = LastImage(_ImageBackend(path, rel, frames, limits))
    pages = tuple(
        Page(backend, f.index, PageRef(rel, f.index + 1), f.size_pt, _EXIF_ROTATION.get(f.orientation, 0), False, True, limits, {})
        for f in frames
    )
    for page in pages:
        if fit_or_none(page) is None:
            page.error = too_large(page, limits)
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
