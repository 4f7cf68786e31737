"""One submission end to end: ingest → identify and read form pages → labels → rules → outbox files."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import __version__
from pipeline.form.definition import load_form
from pipeline.model.errors import PipelineError
from pipeline.model.records import Attachment, FieldReading, Flag, FormDef, MarkReading, PageLayout, PageRef, SourceFile
from pipeline.output.result import to_json, write_json_atomic
from pipeline.rules.overrides import read_review, write_blank_review

log = logging.getLogger(__name__)

# Scanned attachment pages are decoded at this resolution to find and read their label.
LABEL_DPI = 200


@dataclass(slots=True)
class Collected:
    """What the pages of a submission gave, gathered as they stream past."""

    sources: list[SourceFile] = field(default_factory=list)
    marks: list[MarkReading] = field(default_factory=list)
    fields: list[FieldReading] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    form_pages: dict[int, PageRef] = field(default_factory=dict)
    other_pages: list[Any] = field(default_factory=list)  # labels.LabelledPage, in submission order
    crops: dict[str, NDArray[np.uint8]] = field(default_factory=dict)


def process_submission(entry: Path, form_dir: Path, out_dir: Path, *, debug: bool = False) -> dict[str, Any]:
    """Read one inbox entry and write outbox/<name>/result.json (and review.yaml once); returns the JSON dict."""
    from pipeline.rules.apply import apply_rules
    from pipeline.run.batch import submission_name

    form = _load_form_cached(str(Path(form_dir).resolve()), _form_stamp(Path(form_dir)))
    out_dir.mkdir(parents=True, exist_ok=True)
    collected = read_submission(entry, form)
    attachments, dropped = _group(collected.other_pages)
    attachments = _attachment_crops(entry, attachments, out_dir)
    missing = _missing_page_flags(form, collected.form_pages)
    review_path = out_dir / "review.yaml"
    review = read_review(review_path)
    result = apply_rules(
        form,
        submission=submission_name(entry),
        sources=tuple(collected.sources),
        marks=collected.marks,
        fields=_with_crops(collected, out_dir),
        attachments=attachments,
        dropped_pages=dropped,
        reading_flags=collected.flags + missing,
        form_pages=collected.form_pages,
        review=review,
        version=__version__,
    )
    data = to_json(result)
    _attach_mark_crops(data, collected, out_dir)
    write_json_atomic(out_dir / "result.json", data)
    write_blank_review(review_path, result.submission, [f"{f.code}: {f.message}" for f in result.flags][:60])
    return data


def _form_stamp(folder: Path) -> tuple[tuple[str, int], ...]:
    return tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml")))


@lru_cache(maxsize=4)
def _load_form_cached(folder: str, stamp: tuple[tuple[str, int], ...]) -> FormDef:
    """One load per worker process for the whole batch; a changed form file is loaded again."""
    return load_form(folder)


def read_submission(entry: Path, form: FormDef) -> Collected:
    """Stream every page of every file of the entry once: form pages are read, the rest kept for labels."""
    from pipeline.sources import ingest
    from pipeline.sources.limits import Limits

    limits = Limits()
    collected = Collected()
    for path in ingest.scan_entry(entry, limits):
        rel = path.name if entry.is_file() else str(path.relative_to(entry))
        with ingest.open_source(path, rel, limits) as opened:
            collected.sources.append(opened.source)
            if opened.source.status == "error":
                collected.flags.append(
                    Flag("unreadable_file", "error", None, f"{rel}: {opened.source.error}", (PageRef(rel, 1),) if opened.source.pages else ())
                )
                continue
            acro = _acroform_values(opened, form, rel, collected.flags)
            for page in opened.pages:
                try:
                    _read_page(page, form, acro, collected)
                except PipelineError as exc:  # one bad page stays that page's problem
                    log.warning("%s p%d: %s", rel, page.ref.page, exc)
                    collected.flags.append(Flag("unreadable_file", "error", None, f"{rel} p{page.ref.page}: {exc}", (page.ref,)))
    return collected


def _acroform_values(opened: Any, form: FormDef, rel: str, flags: list[Flag]) -> dict[str, Any] | None:
    """AcroForm values by field name, when the file is a filled copy of our fillable form.

    A file whose fields match none of ours is another form: its pages go on to attachments.
    Values set on fields no box knows are reported, not dropped.
    """
    if opened.source.kind != "acroform":
        return None
    values = opened.acroform_fields()
    known = {f"{b.owner}.{b.option}" for p in form.pages for b in p.boxes} | {f.name for p in form.pages for f in p.fields}
    ours = {k: v for k, v in values.items() if k in known}
    if not ours:
        return None
    strays = {k: v for k, v in values.items() if k not in known and v not in (None, "", "/Off", "Off", False)}
    for name, value in sorted(strays.items()):
        flags.append(Flag("uncertain_mark", "warning", None, f"{rel}: AcroForm field '{name}' = '{value}' matches no box or field of the form"))
    return ours


def _read_page(page: Any, form: FormDef, acro: dict[str, Any] | None, collected: Collected) -> None:
    found = _read_if_form_page(page, form, acro)
    if found is not None:
        layout, reading = found
        if layout.number in collected.form_pages:
            collected.flags.append(
                Flag("missing_form_page", "info", None, f"{page.ref.file} p{page.ref.page}: form page {layout.number} appears again; the first copy was read", (page.ref,))
            )
            return
        collected.form_pages[layout.number] = page.ref
        collected.marks += reading.marks
        collected.fields += reading.fields
        for name, picture in reading.crops.items():
            collected.crops[f"p{layout.number}_{name}"] = picture
        return
    collected.other_pages.append(_label_page(page, form))


def _label_page(page: Any, form: FormDef) -> Any:
    """A non-form page with its top-right label read (text layer, else the scan's corner)."""
    from pipeline.reading import labels

    documents = {it.id for it in form.items if it.needs_document}
    if page.has_text and not page.scanned:
        # Boxes for every word of a long manual cost ~0.1 s a page: look at the top band's
        # plain text first, and take the words only when something there could be a label.
        band = page.text_in((0.0, 0.0, page.width_pt, page.height_pt * labels.LABEL_SETTINGS.region_top))
        if not labels.could_hold_label(band):
            return labels.LabelledPage(page.ref, labels.LabelRead(labels.MISSING, None, None, "none"), blank=False)
        read = labels.read_text_label(page.words(), page.width_pt, page.height_pt, form.item_ids, documents)
        return labels.LabelledPage(page.ref, read, blank=False)
    dpi = page.fit_dpi(LABEL_DPI)
    gray = page.image(dpi)
    if labels.is_blank_image(gray, dpi):
        return labels.LabelledPage(page.ref, None, blank=True)
    return labels.LabelledPage(page.ref, labels.read_scanned_label(gray, dpi, form.item_ids, documents), blank=False)


def _read_if_form_page(page: Any, form: FormDef, acro: dict[str, Any] | None) -> tuple[PageLayout, Any] | None:
    """(layout page, reading) when the page is a page of the form, else None (an attachment page)."""
    # A scan with a hidden OCR layer is still a scan: its ink is read, not its guessed text.
    if page.has_text and not page.scanned:
        from pipeline.reading.digital_page import read_digital_page
        from pipeline.reading.identify import identify_text_page

        match = identify_text_page(page.text(), form)
        if match is None:
            return None
        return match.layout, read_digital_page(page, match.layout, acro, Path(form.blank_pdf))
    try:
        from pipeline.reading.scan import read_scan
    except ImportError:  # the scan reader arrives with its own module
        return None
    return read_scan(page, form)


def _group(other_pages: list[Any]) -> tuple[list[Attachment], tuple[PageRef, ...]]:
    from pipeline.reading import labels

    attachments, dropped = labels.group_attachments(other_pages)
    return list(attachments), tuple(dropped)


# The unlabelled document's corner, shown to the reviewer in the dossier.
CROP_DPI = 100


def _attachment_crops(entry: Path, attachments: list[Attachment], out_dir: Path) -> list[Attachment]:
    """Save the top-right corner of the first page of every document whose label was not read.

    Done after grouping, so only first pages are decoded again (a handful per submission).
    """
    from dataclasses import replace

    from pipeline.reading import labels
    from pipeline.sources import ingest
    from pipeline.sources.limits import Limits

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
                x0, y0, x1, y1 = (v * dpi / 72.0 for v in labels.label_region_pt(page.width_pt, page.height_pt))
                corner = image[int(y0) : int(y1), int(x0) : int(x1)]
                crops[att.id] = _save_png(corner, out_dir / "crops" / f"{att.id}_label.png")
    return [replace(a, crop=crops.get(a.id, a.crop)) for a in attachments]


def _missing_page_flags(form: FormDef, found: dict[int, PageRef]) -> list[Flag]:
    missing = [p for p in form.pages if p.number not in found]
    if not missing or len(missing) == len(form.pages):
        if missing:
            return [Flag("missing_form_page", "error", None, f"申請書・回答書のページが見つかりません（全 {len(form.pages)} ページ）。別の様式か、読み取れないスキャンです")]
        return []
    parts = []
    for p in missing:
        items = f"（{p.item_ids[0]}–{p.item_ids[-1]}）" if p.item_ids else "（表紙）" if p.role == "cover" else ""
        parts.append(f"p{p.number}{items}")
    return [Flag("missing_form_page", "error", None, f"様式のページがありません: {', '.join(parts)}")]


def _save_png(picture: NDArray[np.uint8], path: Path) -> str:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    cv2.imwrite(str(tmp), picture, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    os.replace(tmp, path)
    return str(path.relative_to(path.parent.parent))


def _with_crops(collected: Collected, out_dir: Path) -> list[FieldReading]:
    """Field readings with their crops saved under out_dir/crops/ for the dossier."""
    from dataclasses import replace

    by_field = {}
    for key, picture in collected.crops.items():
        by_field[key.split("_", 1)[1]] = _save_png(picture, out_dir / "crops" / f"{_safe(key)}.png")
    return [replace(f, crop=by_field.get(f.name, f.crop)) for f in collected.fields]


def _attach_mark_crops(data: dict[str, Any], collected: Collected, out_dir: Path) -> None:
    for key in collected.crops:
        name = key.split("_", 1)[1]
        owner, _, option = name.rpartition(".")
        target = data["items"].get(owner) or data["declarations"].get(owner)
        if not target:
            continue
        for mark in target["marks"]:
            if mark["option"] == option:
                mark["crop"] = f"crops/{_safe(key)}.png"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
