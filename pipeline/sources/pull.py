"""A scan page's embedded JPEG decoded straight into an array at reduced size, instead of rendering.

A page that holds nothing but one JPEG covering it (plus, at most, an invisible OCR text layer)
is decoded from the embedded JPEG at 1/2-1/8 size, 3-5x faster than rendering (measured.md);
CCITT, JBIG2 and JPX pages render as fast as they decode, so they are rendered. The plan is made
when the page is inspected; the pull happens when its image is asked for.
"""

from __future__ import annotations

import ctypes
import io
import threading
import warnings
import zlib
from dataclasses import dataclass

import cv2
import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from numpy.typing import NDArray
from PIL import Image

from pipeline.sources.display import Affine
from pipeline.sources.limits import Limits
from pipeline.sources.resample import sized_array


@dataclass(frozen=True, slots=True)
class PullPlan:
    """How to take a page's image straight from its embedded JPEG instead of rendering."""

    obj_index: int
    transpose: Image.Transpose | None  # image pixels → displayed page
    flate_layers: int  # FlateDecode filters wrapped around the DCT data


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


def pull_plan(
    page: pdfium.PdfPage,
    pike: pikepdf.Pdf,
    index: int,
    obj_index: int,
    affine: Affine,
    size_pt: tuple[float, float],
) -> PullPlan | None:
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
    return PullPlan(obj_index, _TRANSPOSES[(col_axis, row_axis)], len(filters) - 1)


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


class LastDecode:
    """The JPEG a document decoded last, kept for the next ask of the same page decoded the same way (thread-safe).

    A scanned page is decoded for reading at its own resolution, and a page that is not the
    form's again for its label at 200 dpi. LastImage (page.py) serves the second ask when both
    are the same size (a 200 dpi scan); from a 300 dpi scan they are not, and both decode the
    whole JPEG (libjpeg scales by 1/2 at the least: 15-20 ms a page). Here the second ask resizes
    the first's pixels, the same pixels it would have decoded. One page is kept, read-only and not
    copied: what the backend returns reaches the readers only through LastImage, which hands each
    its own copy.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._pixels: NDArray[np.uint8] | None = None

    def decode(self, key: object, data: bytes, flags: int) -> NDArray[np.uint8] | None:
        """cv2.imdecode(data, flags) (read-only), or what it gave for `key` last time."""
        with self._lock:
            if self._pixels is not None and self._key == key:
                return self._pixels
        got = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
        if got is None:
            return None
        decoded = np.asarray(got, np.uint8)
        decoded.flags.writeable = False
        with self._lock:
            self._key, self._pixels = key, decoded
        return decoded


def pull_jpeg(
    page: pdfium.PdfPage, plan: PullPlan, width_px: int, height_px: int, gray: bool, limits: Limits, last: tuple[LastDecode, object] | None = None
) -> NDArray[np.uint8] | None:
    """Decode the page's only image, a JPEG, at reduced size; None when that is not safe.

    `last`: the document's LastDecode and this page's key in it (its index), to decode a page asked for twice once.
    """
    obj = pdfium_c.FPDFPage_GetObject(page, plan.obj_index)
    if not obj or pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_IMAGE:
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
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags) if last is None else last[0].decode((last[1], plan.obj_index, flags), data, flags)
    if decoded is None:
        raise ValueError("OpenCV could not decode the JPEG")
    out = np.asarray(decoded if gray else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), np.uint8)
    if plan.transpose is not None:
        out = np_transpose(out, plan.transpose)
    return sized_array(out, width_px, height_px)


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


def np_transpose(a: NDArray[np.uint8], how: Image.Transpose) -> NDArray[np.uint8]:
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
