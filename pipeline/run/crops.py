"""The pictures the dossier shows: the form pages under outbox/<name>/pages/, field and mark crops and an unlabelled document's corner under crops/."""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.errors import PipelineError
from pipeline.model.geometry import pt_to_px
from pipeline.model.records import Attachment, FieldReading, PageRef
from pipeline.reading import labels
from pipeline.sources import ingest
from pipeline.sources.limits import Limits

log = logging.getLogger(__name__)

# The unlabelled document's corner, shown to the reviewer in the dossier.
CROP_DPI = 100
# The form pages are kept at this resolution (grey PNG): enough to see a tick and read a
# printed line in the dossier's appendix and on the review page; a page is ~100-300 kB.
PAGE_IMAGE_DPI = 100.0
# Margins around what a crop cut from a page image shows, in points: a box with its
# neighbours and the start of its statement; a field with its frame.
MARK_PAD_PT = 30.0
FIELD_PAD_PT = 3.0
EVIDENCE_CROP_KINDS = ("text", "url_path", "signature", "seal")
INK_LEVEL = 160  # grey below this is writing or print when a field's crop is trimmed


@dataclass(frozen=True, slots=True)
class FormPageImage:
    """A form page as the reader saw it: grey pixels in the blank's frame at `dpi`."""

    number: int  # the page of the form
    ref: PageRef  # where it came from
    image: NDArray[np.uint8]
    dpi: float
    width_pt: float
    height_pt: float


def save_page_images(pages: dict[int, FormPageImage], out_dir: Path, pool: Executor | None = None) -> list[dict[str, Any]]:
    """Save each form page once as pages/<n>.png (grey, at most PAGE_IMAGE_DPI); result.json's `page_images`.

    The pixels are the reader's own (never rasterised again). A page image of an earlier run
    that this run did not find is removed, so pages/ holds exactly what result.json lists.
    `pool`: threads to encode the pages on (OpenCV's PNG encoder lets go of the GIL: 15 pages,
    ~10 ms each); None encodes them here, one after another.
    """
    folder = out_dir / "pages"
    entries = []
    kept = set()
    numbers = sorted(pages)
    saved = (pool.map if pool is not None else map)(partial(_page_png, folder=folder), [(n, pages[n]) for n in numbers])
    for number, (rel, dpi) in zip(numbers, saved):
        page = pages[number]
        kept.add(f"{number}.png")
        entries.append(
            {
                "form_page": number,
                "page": {"file": page.ref.file, "page": page.ref.page},
                "image": rel,
                "dpi": round(dpi, 2),
                "width_pt": round(page.width_pt, 2),
                "height_pt": round(page.height_pt, 2),
            }
        )
    if folder.is_dir():
        for old in folder.glob("*.png"):
            if old.name not in kept:
                old.unlink(missing_ok=True)
    return entries


def _page_png(numbered: tuple[int, FormPageImage], folder: Path) -> tuple[str, float]:
    """Form page n saved as folder/<n>.png, at most PAGE_IMAGE_DPI: (its path in the outbox, its dpi)."""
    number, page = numbered
    image, dpi = page.image, page.dpi
    if dpi > PAGE_IMAGE_DPI * 1.05:
        scale = PAGE_IMAGE_DPI / dpi
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image, dpi = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8), PAGE_IMAGE_DPI
    return _save_png(image, folder / f"{number}.png"), dpi


def cut_missing_crops(data: dict[str, Any], pages: dict[int, FormPageImage], out_dir: Path) -> None:
    """Give result.json a crop, cut from its form page, for whatever the reviewer must see and has none.

    That is every mark that is not certain (uncertain, or of an answer read as conflict or
    uncertain, or of an owner a review.yaml correction names), every field of the cover and
    every text, URL, signature and seal place of an item.
    """
    at = {(p.ref.file, p.ref.page): p for p in pages.values()}
    corrected = {str(o.get("target", "")).split(".")[1] for o in data.get("overrides") or [] if str(o.get("target", "")).count(".") >= 1}
    for section in ("items", "declarations"):
        for owner, o in (data.get(section) or {}).items():
            unsure = o.get("answer") in ("conflict", "uncertain") or owner in corrected
            for mark in o.get("marks") or []:
                if mark.get("crop") or not (unsure or mark.get("state") == "uncertain"):
                    continue
                ref = mark.get("page") or {}
                name = f"{owner}.{mark.get('option')}"
                mark["crop"] = _cut(at, str(ref.get("file")), int(ref.get("page") or 0), mark.get("bbox"), MARK_PAD_PT, name, out_dir)
            for ev in o.get("evidence") or []:
                if ev.get("crop") or ev.get("kind") not in EVIDENCE_CROP_KINDS:
                    continue
                name = f"{owner}.{ev.get('kind')}{_bbox_tag(ev.get('bbox'))}"
                ev["crop"] = _cut(at, str(ev.get("file")), int(ev.get("page") or 0), ev.get("bbox"), FIELD_PAD_PT, name, out_dir)
    for section in ("applicant", "contacts"):
        fields = data.get(section)
        if not isinstance(fields, dict):
            continue
        for key, fld in fields.items():
            if not isinstance(fld, dict) or fld.get("crop"):
                continue
            ref = fld.get("page") or {}
            fld["crop"] = _cut(
                at, str(ref.get("file")), int(ref.get("page") or 0), fld.get("bbox"), FIELD_PAD_PT, f"{section}.{key}", out_dir
            )
    _drop_nulls(data)


def _bbox_tag(bbox: Any) -> str:
    """Two places of one kind on an item (two text blanks) get two files: their top edge tells them apart."""
    return f"@{int(bbox[1])}" if isinstance(bbox, list | tuple) and len(bbox) == 4 else ""


def _cut(
    at: dict[tuple[str, int], FormPageImage], file: str, page_no: int, bbox: Any, pad_pt: float, name: str, out_dir: Path
) -> str | None:
    page = at.get((file, page_no))
    if page is None or not (isinstance(bbox, list | tuple) and len(bbox) == 4):
        return None
    h, w = page.image.shape[:2]
    x0, y0 = (max(0, int(pt_to_px(v - pad_pt, page.dpi))) for v in bbox[:2])
    x1, y1 = (int(round(pt_to_px(v + pad_pt, page.dpi))) for v in bbox[2:])
    x1, y1 = min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    picture = page.image[y0:y1, x0:x1]
    if pad_pt == FIELD_PAD_PT:
        picture = _trim_right(picture, int(pt_to_px(6 * FIELD_PAD_PT, page.dpi)))
    return _save_png(picture, out_dir / "crops" / f"{_safe(f'p{page.number}_{name}')}.png")


def _trim_right(picture: NDArray[np.uint8], keep_px: int) -> NDArray[np.uint8]:
    """A field's crop without the empty right part of its line, so the writing is shown large enough to read.

    Ruled lines (rows dark over half their width) are not writing and do not count.
    """
    dark = picture < INK_LEVEL
    writing = dark[dark.mean(axis=1) < 0.5]
    cols = np.flatnonzero(writing.any(axis=0)) if writing.size else np.array([], int)
    if cols.size == 0:
        return picture
    right = min(picture.shape[1], int(cols[-1]) + keep_px)
    return picture[:, : max(right, min(picture.shape[1], picture.shape[0] * 3))]


def _drop_nulls(data: dict[str, Any]) -> None:
    """A crop that could not be cut is left out (result.json never says `crop: null` for it)."""
    for section in ("items", "declarations"):
        for o in (data.get(section) or {}).values():
            for rec in [*(o.get("marks") or []), *(o.get("evidence") or [])]:
                if "crop" in rec and rec["crop"] is None:
                    del rec["crop"]
    for section in ("applicant", "contacts"):
        for fld in (data.get(section) or {}).values() if isinstance(data.get(section), dict) else []:
            if isinstance(fld, dict) and "crop" in fld and fld["crop"] is None:
                del fld["crop"]


def save_label_crops(entry: Path, attachments: list[Attachment], out_dir: Path) -> list[Attachment]:
    """Save the top-right corner of the first page of every document whose label was not read.

    Done after grouping, so only first pages are decoded again (a handful per submission).
    """
    wanted = {a.pages[0]: a for a in attachments if a.label_status != "read" and a.pages}
    if not wanted:
        return attachments
    crops: dict[str, str] = {}
    for file in sorted({ref.file for ref in wanted}):
        path = entry if entry.is_file() else entry / file
        with ingest.open_source(path, file, Limits()) as opened:
            for page in opened.pages:
                att = wanted.get(page.ref)
                if att is None:
                    continue
                try:
                    dpi = page.fit_dpi(CROP_DPI)
                    image = page.image(dpi)
                except PipelineError as exc:
                    log.warning("%s p%d: no crop for %s: %s", file, page.ref.page, att.id, exc)
                    continue
                x0, y0, x1, y1 = (pt_to_px(v, dpi) for v in labels.label_region_pt(page.width_pt, page.height_pt))
                corner = image[int(y0) : int(y1), int(x0) : int(x1)]
                crops[att.id] = _save_png(corner, out_dir / "crops" / f"{att.id}_label.png")
    return [replace(a, crop=crops.get(a.id, a.crop)) for a in attachments]


def save_field_crops(crops: dict[str, NDArray[np.uint8]], fields: list[FieldReading], out_dir: Path) -> list[FieldReading]:
    """Every crop (keyed `p<page>_<owner>.<name>`) saved, and the field readings with the paths of theirs."""
    by_field = {}
    for key, picture in crops.items():
        by_field[key.split("_", 1)[1]] = _save_png(picture, out_dir / "crops" / f"{_safe(key)}.png")
    return [replace(f, crop=by_field.get(f.name, f.crop)) for f in fields]


def link_mark_crops(data: dict[str, Any], crops: dict[str, NDArray[np.uint8]]) -> None:
    """Point each mark of result.json at its crop saved by save_field_crops."""
    for key in crops:
        name = key.split("_", 1)[1]
        owner, _, option = name.rpartition(".")
        target = data["items"].get(owner) or data["declarations"].get(owner)
        if not target:
            continue
        for mark in target["marks"]:
            if mark["option"] == option:
                mark["crop"] = f"crops/{_safe(key)}.png"


def _save_png(picture: NDArray[np.uint8], path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    cv2.imwrite(str(tmp), picture, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    os.replace(tmp, path)
    return str(path.relative_to(path.parent.parent))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
