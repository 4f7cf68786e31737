"""The blank form pages prepared once per process and form for registration and ink comparison.

Each form page of the blank PDF is rendered at work_dpi (grey), turned into darkness maps (as
printed, and grown by 1 and 2 px for a scan's registration error and blur), thumbnails for the
page search and the quality measure; their ORB features when a scan is first matched to the
page (`Reference.points`: a short run matches its scans to a page or two of the 15). The page
code's QR box and the text layer are read from the blank PDF when a page first asks for them (`Reference.qr_bbox`,
`Reference.printed`): most scans never do (the code is read only when the layout alone is not
clear, the printed characters only for a date field with ink), and reading them for every page
was most of the preparation (own-scan's 15 pages: text layer 0.47 s, QR boxes 0.17 s of 1.16 s
CPU, profiled). The renderings and thumbnails are kept on disk in the cache folder (`stored`) and
read back by later processes, and so is each page's ORB features once a scan first asks for them
(`stored_features`); the darkness maps are made from the rendering in each process.
Pixels at the reference's dpi, origin top left; boxes in points.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.geometry import pt_per_px, px_per_pt
from pipeline.model.records import BBox, FormDef, PageLayout
from pipeline.reading.page_code import find_qr_box
from pipeline.reading.settings import REGISTER, RegisterDefaults
from pipeline.sources.textlayer import page_chars

T = TypeVar("T")
log = logging.getLogger(__name__)


class BlankPage:
    """A page of the blank PDF, opened again when something of it is first wanted (pdfium under a lock: it is not thread-safe)."""

    def __init__(self, path: str, index: int, lock: threading.Lock) -> None:
        self.path, self.index, self.lock = path, index, lock

    def read(self, what: Callable[[Any], T]) -> T:
        """what(the pypdfium2 page)."""
        import pypdfium2 as pdfium

        with self.lock:
            doc = pdfium.PdfDocument(self.path)
            try:
                page = doc[self.index]
                try:
                    return what(page)
                finally:
                    page.close()
            finally:
                doc.close()


@dataclass(frozen=True, slots=True)
class Reference:
    """One blank form page, prepared for registration and for comparing ink."""

    layout: PageLayout
    dpi: float
    gray: NDArray[np.uint8]  # the blank rendered at dpi
    dark: NDArray[np.float32]  # its darkness 0..1
    dark_max: NDArray[np.float32]  # 3x3 max of dark: the blank's ink allowing ±1 px
    dark_wide: NDArray[np.float32]  # 5x5 max of dark: allowing ±2 px (blurred, bolder print on a scan)
    thumb: NDArray[np.float32]  # darkness at thumb_dpi, blurred
    qual: NDArray[np.float32]  # darkness at quality_dpi, blurred
    # the blank PDF's page, for what is read from it on first use (qr_bbox, printed); None: all of it is in `cache` already
    blank: BlankPage | None = field(default=None, compare=False, hash=False, repr=False)
    # per-page geometry (marks.py), search data (register.py), the QR box and text layer: it lives and dies with the page
    cache: dict[object, object] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # the settings the ORB features are found with (on first use: `points`, `desc`)
    cfg: RegisterDefaults = field(default=REGISTER, compare=False, hash=False, repr=False)
    # where the features are kept on disk once found (stored_features); None: found in each process
    orb_file: Path | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def points(self) -> NDArray[np.float32]:
        """ORB keypoints (N, 2), px at dpi, strongest first: found on the blank when a scan is first matched to this page."""
        return self._features()[0]

    @property
    def desc(self) -> NDArray[np.uint8]:
        """ORB descriptors (N, 32), in the order of `points`."""
        return self._features()[1]

    def _features(self) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
        # Found on first use, not when the blank pages are prepared: 15 pages' features are 0.28 s of
        # the preparation's 0.5 s CPU, and a run of a page or two matches a scan to one or two of them.
        # The same features either way (ORB on the same rendering). A pool's parent finds them all
        # before forking (prepare_features), so that its workers share them.
        if "orb" not in self.cache:  # two threads asking at once find them twice, alike
            self.cache["orb"] = features(self.gray, self.cfg) if self.orb_file is None else stored_features(self.orb_file, self.gray, self.cfg)
        return self.cache["orb"]  # type: ignore[return-value]

    def _from_blank(self, key: str, what: Callable[[Any], T], default: T) -> T:
        if key not in self.cache:  # two threads asking at once read it twice, alike
            self.cache[key] = self.blank.read(what) if self.blank is not None else default
        return self.cache[key]  # type: ignore[return-value]

    @property
    def qr_bbox(self) -> BBox | None:
        """Where the page code's QR code is printed (points), if any: where our printing puts it first, else anywhere on the page."""
        code = self.layout.code
        if not code:
            return None
        return self._from_blank("qr_bbox", lambda page: find_qr_box(page, self.layout) or _find_qr(page, code), None)

    @property
    def printed(self) -> tuple[tuple[str, BBox], ...]:
        """The blank's text layer: each character and its box (points); () if it has none."""
        return self._from_blank("printed", _printed, ())


_CACHE: dict[tuple[str, str, float], tuple[Reference, ...]] = {}  # by blank PDF, form fingerprint and dpi
_CACHE_LOCK = threading.Lock()


def _orb(cfg: RegisterDefaults) -> Any:
    # One pyramid level pair only: scans come at a known dpi and fit-to-page scale (0.95-1).
    return cv2.ORB_create(  # type: ignore[attr-defined]
        nfeatures=cfg.orb_features, scaleFactor=1.3, nlevels=2, edgeThreshold=15, patchSize=15, fastThreshold=12
    )


def features(gray: NDArray[np.uint8], cfg: RegisterDefaults) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """ORB keypoints (N, 2) and descriptors, strongest first."""
    kps, desc = _orb(cfg).detectAndCompute(gray, None)
    if desc is None or not kps:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    order = np.argsort([-k.response for k in kps], kind="stable")
    return np.array([kps[i].pt for i in order], np.float32), np.asarray(desc[order], np.uint8)


def as_f32(a: object) -> NDArray[np.float32]:
    """An OpenCV result as the float32 array it is (OpenCV's stubs type every result loosely)."""
    return np.asarray(a, dtype=np.float32)


def as_f64(a: object) -> NDArray[np.float64]:
    """An OpenCV result as the float64 array it is."""
    return np.asarray(a, dtype=np.float64)


def _thumb(dark: NDArray[np.float32], factor: float, blur: float) -> NDArray[np.float32]:
    """The darkness map reduced by `factor` (at least 8 px a side), Gaussian-blurred by `blur` px."""
    h, w = dark.shape
    small = cv2.resize(dark, (max(8, round(w * factor)), max(8, round(h * factor))), interpolation=cv2.INTER_AREA)
    return as_f32(cv2.GaussianBlur(small, (0, 0), blur) if blur > 0 else small)


def _find_qr(pdf_page: object, code: str, dpi: float = 200.0) -> BBox | None:
    """The QR code's box on the blank (points), found once by decoding a rendering."""
    gray = np.asarray(pdf_page.render(scale=px_per_pt(dpi), grayscale=True).to_numpy())  # type: ignore[attr-defined]
    gray = gray if gray.ndim == 2 else gray[:, :, 0]
    h, w = gray.shape
    for y0, x0 in ((0, w // 2), (0, 0), (h // 2, 0), (h // 2, w // 2)):
        part = np.ascontiguousarray(gray[y0 : y0 + h // 2, x0 : x0 + w // 2])
        text, pts, _ = cv2.QRCodeDetector().detectAndDecode(part)
        if text == code and pts is not None:
            p = pts.reshape(-1, 2) + (x0, y0)
            k = pt_per_px(dpi)
            return (float(p[:, 0].min() * k), float(p[:, 1].min() * k), float(p[:, 0].max() * k), float(p[:, 1].max() * k))
    return None


def _printed(pdf_page: Any) -> tuple[tuple[str, BBox], ...]:
    """Characters of the blank page's text layer with their boxes (points, top-left origin, as displayed); () if it has none."""
    try:
        return tuple((c.text, c.bbox) for c in page_chars(pdf_page))
    except Exception:  # noqa: BLE001 - a blank without a usable text layer simply has none
        return ()


# What a stored preparation is made by: change it whenever the renderings or the thumbnails are
# made otherwise (the settings and the libraries' versions are in the key already).
KEEP_STORED = 8  # stored blanks kept in the cache folder (~19 MB each for the 15-page renewal form at 100 dpi)
RECIPE = "blank-pages v1: pdfium grayscale at work_dpi; thumb, qual: INTER_AREA then Gaussian"


def references(form: FormDef, cfg: RegisterDefaults = REGISTER) -> tuple[Reference, ...]:
    """Every form page of `form` prepared for registration (cached per process and form, and on disk: `stored`)."""
    key = (form.blank_pdf, form.fingerprint, cfg.work_dpi)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    lock = threading.Lock()  # one per blank PDF: its pages are read one at a time
    by_number = {layout.number: layout for layout in form.pages}
    out = []
    pages, kept_as = _stored(form, cfg)
    for number, gray, thumb, qual in pages:
        dark = (255.0 - gray.astype(np.float32)) / 255.0
        out.append(Reference(
            layout=by_number[number], dpi=cfg.work_dpi, gray=gray, dark=dark, dark_max=as_f32(cv2.dilate(dark, np.ones((3, 3), np.uint8))),
            dark_wide=as_f32(cv2.dilate(dark, np.ones((5, 5), np.uint8))), thumb=thumb, qual=qual,
            blank=BlankPage(form.blank_pdf, number - 1, lock), cfg=cfg, orb_file=None if kept_as is None else features_file(kept_as, number, cfg),
        ))
    refs = tuple(out)
    with _CACHE_LOCK:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = refs
    return refs


Prepared = tuple[int, NDArray[np.uint8], NDArray[np.float32], NDArray[np.float32]]  # page number, grey, thumb, qual


def rendered(form: FormDef, cfg: RegisterDefaults = REGISTER) -> list[Prepared]:
    """Each form page of the blank PDF rendered at work_dpi (grey), with its thumbnails for the page search and quality measure."""
    import pypdfium2 as pdfium

    out = []
    doc = pdfium.PdfDocument(form.blank_pdf)
    try:
        for layout in form.pages:
            if layout.number > len(doc):
                continue
            page = doc[layout.number - 1]
            bmp = page.render(scale=px_per_pt(cfg.work_dpi), grayscale=True).to_numpy()
            page.close()
            gray = np.ascontiguousarray(bmp if bmp.ndim == 2 else bmp[:, :, 0])
            dark = (255.0 - gray.astype(np.float32)) / 255.0
            thumb = _thumb(dark, cfg.thumb_dpi / cfg.work_dpi, cfg.thumb_blur_px)
            out.append((layout.number, gray, thumb, _thumb(dark, cfg.quality_dpi / cfg.work_dpi, 0.7)))
    finally:
        doc.close()
    return out


def stored(form: FormDef, cfg: RegisterDefaults = REGISTER) -> list[Prepared]:
    """The blank pages `rendered`, kept on disk beside the digit model (cache.cache_dir) and read from there by later processes.

    Rendering the 15 pages and their thumbnails was 0.13 s of the preparation's 0.3 s CPU, paid by
    every process before its first page (reading them back: 0.02 s). The file is named by a key
    over everything the arrays depend on (`store_key`), so a changed blank, layout, setting or
    library never meets an old file; it is .npz (arrays only, no pickle), written through a
    temporary name. A file that cannot be read or does not hold what its name says is logged and
    made again; a cache folder that cannot be written only means the next process renders too.
    """
    return _stored(form, cfg)[0]


def _stored(form: FormDef, cfg: RegisterDefaults) -> tuple[list[Prepared], str | None]:
    """`stored`, and the key the pages are kept under (None: the blank PDF could not be read to make one)."""
    from pipeline.reading.cache import cache_dir

    try:
        key = store_key(form, cfg)
    except OSError:  # the blank PDF unreadable: rendering says so
        return rendered(form, cfg), None
    path = cache_dir() / f"blank-pages-{key}.npz"
    pages = _load(path, key, form) if path.is_file() else None
    if pages is not None:
        with contextlib.suppress(OSError):  # the newest used are the ones kept (_prune)
            os.utime(path)
        return pages, key
    pages = rendered(form, cfg)
    if _save(path, key, pages):
        _prune(path.parent, KEEP_STORED)
    return pages, key


def store_key(form: FormDef, cfg: RegisterDefaults = REGISTER) -> str:
    """What the stored blank pages depend on: the blank PDF's bytes, the form's files (layout.yaml), the recipe, settings, libraries."""
    import pypdfium2 as pdfium

    digest = hashlib.sha256()
    digest.update(Path(form.blank_pdf).read_bytes())
    versions = (np.__version__, cv2.__version__, str(pdfium.PYPDFIUM_INFO), str(pdfium.PDFIUM_INFO))
    pages = ",".join(str(p.number) for p in form.pages)
    dpis = (cfg.work_dpi, cfg.thumb_dpi, cfg.thumb_blur_px, cfg.quality_dpi)
    digest.update("|".join([RECIPE, form.fingerprint, pages, *map(repr, dpis), *versions]).encode())
    return digest.hexdigest()[:24]


def _load(path: Path, key: str, form: FormDef) -> list[Prepared] | None:
    """The pages stored at `path`; None (logged) when it cannot be read or is not what its key says."""
    numbers = {p.number for p in form.pages}
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                raise ValueError(f"it holds key {z['key']}")
            pages = [(int(n), z[f"gray{n}"], z[f"thumb{n}"], z[f"qual{n}"]) for n in z["numbers"]]
        for n, gray, thumb, qual in pages:
            if n not in numbers or gray.dtype != np.uint8 or gray.ndim != 2 or thumb.dtype != np.float32 or qual.dtype != np.float32:
                raise ValueError(f"page {n}: not a stored blank page")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("blank pages cache %s unreadable (%s); rendering them again", path, exc)
        return None
    return pages


def _save(path: Path, key: str, pages: list[Prepared]) -> bool:
    """Write the pages at `path` through a temporary name; False (logged) when the folder cannot take it."""
    arrays: dict[str, Any] = {"key": np.array(key), "numbers": np.array([p[0] for p in pages], np.int32)}
    for n, gray, thumb, qual in pages:
        arrays.update({f"gray{n}": gray, f"thumb{n}": thumb, f"qual{n}": qual})
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        tmp.replace(path)
    except OSError as exc:
        log.warning("could not keep the blank pages at %s: %s", path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()
        return False
    return True


def _prune(folder: Path, keep: int) -> None:
    """Remove all but the `keep` most recently used stored blanks (each printing calibrated leaves one of ~19 MB)."""
    def used(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    ranked = sorted(folder.glob("blank-pages-*.npz"), key=used, reverse=True)
    for old in ranked[keep:]:
        with contextlib.suppress(OSError):  # another process removed it first, or it is in use: it goes next time
            old.unlink()
    kept = {p.name[len("blank-pages-") : -len(".npz")] for p in ranked[:keep]}
    for orb in folder.glob("blank-orb-*.npz"):  # a page's features go with their blank's pages
        if orb.name.split("-")[2] not in kept:
            with contextlib.suppress(OSError):
                orb.unlink()


# What the stored ORB features are found by (features, _orb): change it whenever they are found
# otherwise (the rendering's key, cfg.orb_features and OpenCV's version are in the file's name already).
ORB_RECIPE = "blank-orb v1: ORB nlevels=2 scaleFactor=1.3 edgeThreshold=15 patchSize=15 fastThreshold=12; strongest first"


def features_file(key: str, number: int, cfg: RegisterDefaults = REGISTER) -> Path:
    """Where page `number`'s ORB features are kept, beside the stored pages of key `key` (cache folder)."""
    from pipeline.reading.cache import cache_dir

    recipe = hashlib.sha256(f"{ORB_RECIPE}|{cfg.orb_features}|{cv2.__version__}".encode()).hexdigest()[:12]
    return cache_dir() / f"blank-orb-{key}-{recipe}-p{number}.npz"


def stored_features(path: Path, gray: NDArray[np.uint8], cfg: RegisterDefaults = REGISTER) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """`features` of a blank page, kept at `path` by the first process that finds them and read back by later ones.

    ORB on the same rendering with the same settings finds the same features (15 pages: 0.1 s CPU
    found, ~5 ms read back). A file that cannot be read or is not a page's features is logged and
    found again; a folder that cannot be written only means the next process finds them too.
    """
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                points, desc = z["points"], z["desc"]
            if points.dtype != np.float32 or desc.dtype != np.uint8 or points.ndim != 2 or points.shape[1:] != (2,) or desc.shape != (len(points), 32):
                raise ValueError(f"not a page's features: {points.dtype} {points.shape}, {desc.dtype} {desc.shape}")
            return points, desc
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("blank page features %s unreadable (%s); finding them again", path, exc)
    points, desc = features(gray, cfg)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            np.savez(fh, allow_pickle=False, points=points, desc=desc)
        tmp.replace(path)
    except OSError as exc:
        log.debug("could not keep the blank page features at %s: %s", path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()
    return points, desc


def prepare_features(refs: tuple[Reference, ...]) -> None:
    """Find every blank page's ORB features now (a pool's parent, before its workers are forked: they share them)."""
    for ref in refs:
        _ = ref.points  # found and kept in the page's cache
