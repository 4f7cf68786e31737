"""calibrate's entry points: learn a blank's layout (as data, with a report) and write layout.yaml.

The learning reads as its stages: scan the PDF, anchor each owner's region, bind the boxes,
find the cover, the items' and declarations' fields and the contact blocks. What was placed is
written; what was not is listed in the report and written with `located: false` and the region
where it was expected, so a reading shows that box as uncertain and that field as not_located.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.form.calibrate.anchors import find_anchors
from pipeline.form.calibrate.boxes import bind_boxes
from pipeline.form.calibrate.fields import find_declaration_dates, find_item_fields
from pipeline.form.calibrate.found import Found
from pipeline.form.calibrate.people import find_contacts, find_cover
from pipeline.form.calibrate.places import Blank
from pipeline.form.calibrate.scan import scan_pdf
from pipeline.form.printing.layoutio import dump_layout, write_atomic
from pipeline.model.errors import PipelineError
from pipeline.model.records import FormDef

log = logging.getLogger(__name__)


class CalibrationError(PipelineError):
    """A blank PDF could not be calibrated completely; `report` says what is missing."""

    def __init__(self, message: str, report: CalibrationReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """What calibrate found: counts, and every option or field it could not place."""

    blank_pdf: str
    out_dir: str
    pages: int
    boxes: int
    fields: int
    unplaced: tuple[str, ...]  # "3-1-7/over_100km" (option) or "1-1-3.signature" (field)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.unplaced

    def __str__(self) -> str:
        where = f" → {self.out_dir}/layout.yaml" if self.out_dir else ""
        head = f"{Path(self.blank_pdf).name}: {self.pages} pages, {self.boxes} boxes, {self.fields} fields{where}"
        lines = [head] + [f"  not placed: {u}" for u in self.unplaced] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def learn_layout(blank_pdf: Path, form: FormDef, form_name: str) -> tuple[dict[str, Any], CalibrationReport]:
    """Calibrate without writing: the layout as data and the report.

    Args:
        blank_pdf: any printing of the questionnaire, blank.
        form: the loaded form whose items, declarations, cover fields and contacts to look for.
        form_name: the layout's `form`.

    Raises:
        CalibrationError: the PDF cannot be read, or has no text layer (a scan).
    """
    try:
        scans = scan_pdf(blank_pdf)
    except Exception as exc:  # pdfminer and pdfium raise many kinds; the operator needs one message
        raise CalibrationError(f"{blank_pdf.name}: cannot read the PDF: {exc}", CalibrationReport(str(blank_pdf), "", 0, 0, 0, ())) from exc
    if not any(s.lines for s in scans):
        report = CalibrationReport(str(blank_pdf), "", len(scans), 0, 0, ("(everything)",), ("no text layer",))
        raise CalibrationError(f"{blank_pdf.name}: no text layer; calibrate needs the born-digital blank, not a scan", report)
    blank = Blank(scans)
    found = Found(blank)
    anchors = find_anchors(blank, form)
    bind_boxes(blank, form, anchors, found)
    find_cover(blank, form, found)
    find_item_fields(blank, form, anchors, found)
    find_declaration_dates(blank, form, anchors, found)
    find_contacts(blank, form, anchors, found)
    order = [it.id for it in form.items] + [d.id for d in form.declarations]
    layout = found.layout(form_name, blank_pdf.name, anchors, order)
    report = CalibrationReport(
        blank_pdf=str(blank_pdf),
        out_dir="",
        pages=len(scans),
        boxes=sum(1 for p in layout["pages"] for b in p["boxes"] if b.get("located", True)),
        fields=sum(1 for p in layout["pages"] for f in p["fields"] if f.get("located", True)),
        unplaced=tuple(found.unplaced),
        notes=tuple(found.notes),
    )
    return layout, report


def calibrate(blank_pdf: Path, out_dir: Path, form: FormDef) -> CalibrationReport:
    """Learn the layout of `blank_pdf` and write out_dir/layout.yaml and out_dir/blank.pdf.

    Args:
        blank_pdf: any printing of the questionnaire, blank.
        out_dir: the form folder to write (its name becomes the layout's `form`).
        form: the loaded form whose items, declarations, cover fields and contacts to look for.

    Options and fields it could not place are written with `located: false` (see learn_layout)
    and listed in the report's `unplaced`; the caller tells the operator.

    Raises:
        CalibrationError: the PDF cannot be read or has no text layer; nothing is written.
    """
    blank_pdf, out_dir = Path(blank_pdf), Path(out_dir)
    layout, report = learn_layout(blank_pdf, form, out_dir.resolve().name)
    report = CalibrationReport(report.blank_pdf, str(out_dir), report.pages, report.boxes, report.fields, report.unplaced, report.notes)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "blank.pdf"
    if not target.exists() or target.resolve() != blank_pdf.resolve():
        shutil.copyfile(blank_pdf, target)
    header = (
        f"# Generated by `python -m pipeline calibrate {blank_pdf.name} --out {out_dir.as_posix()}/` from the PDF's\n"
        "# text layer and vector graphics. PDF points, origin at the page's top-left corner.\n"
    )
    write_atomic(out_dir / "layout.yaml", dump_layout(layout, header))
    _form_yaml_if_absent(out_dir, form)
    for note in report.notes:
        log.info("%s: %s", blank_pdf.name, note)
    if report.unplaced:
        log.warning("%s: %d option(s)/field(s) not placed: %s", blank_pdf.name, len(report.unplaced), ", ".join(report.unplaced))
    return report


def _form_yaml_if_absent(out_dir: Path, source: FormDef) -> None:
    """A calibrated folder needs a form.yaml to load; write one pointing at the source's items.

    Only when absent (form.yaml is edited by hand), and only when the source keeps its own
    items.yaml; otherwise the operator is told to write it.
    """
    target = out_dir / "form.yaml"
    items = Path(source.folder) / "items.yaml"
    if target.exists():
        return
    if not source.folder or not items.exists():
        log.warning("%s: no form.yaml; write one (id, title, kind, items, rule) before using this form", out_dir)
        return
    rel = Path(os.path.relpath(items.resolve(), out_dir.resolve())).as_posix()
    rule = source.rule
    text = (
        f"# Written by calibrate (from {source.name}'s definition) because the folder had none; edit by hand.\n"
        f"id: {out_dir.resolve().name}\n"
        f"title: {source.title}\n"
        f"kind: {source.kind}\n"
        f"items: {rel}\n"
        "rule:\n"
        f"  required_total: {rule.required_total}\n"
        f"  points_max: {rule.points_max}\n"
        f"  threshold: {rule.threshold}\n"
        f"  fail_at_zero: [{', '.join(repr(i) for i in rule.fail_at_zero)}]\n"
    )
    write_atomic(target, text)
