"""The pictures the dossier shows, saved under outbox/<name>/crops/: field and mark crops, an unlabelled document's corner."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from pipeline.model.errors import PipelineError
from pipeline.model.geometry import pt_to_px
from pipeline.model.records import Attachment, FieldReading
from pipeline.reading import labels
from pipeline.sources import ingest
from pipeline.sources.limits import Limits

log = logging.getLogger(__name__)

# The unlabelled document's corner, shown to the reviewer in the dossier.
CROP_DPI = 100


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
