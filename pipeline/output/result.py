"""Result ↔ result.json and the summary row; the only place that knows the JSON spelling."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.model.records import BBox, Evidence, FieldReading, Flag, FormDef, ItemAnswer, MarkReading, PageRef, SourceFile
from pipeline.model.results import SEVERITY_ORDER, Result

SCHEMA_ID = "isp-mark-review/1"


def _bbox(b: BBox | None) -> list[float] | None:
    return [round(float(v), 1) for v in b] if b else None


def _page(p: PageRef | None) -> dict[str, Any] | None:
    return {"file": p.file, "page": p.page} if p else None


def _mark(m: MarkReading) -> dict[str, Any]:
    out: dict[str, Any] = {
        "option": m.option,
        "state": m.state,
        "score": None if m.score is None else round(float(m.score), 3),
        "page": _page(m.page),
        "bbox": _bbox(m.bbox),
        "source": m.source,
    }
    if m.note:
        out["note"] = m.note
    return out


def _answer(a: ItemAnswer) -> dict[str, Any]:
    out: dict[str, Any] = {"answer": a.answer, "choice": a.choice, "marks": [_mark(m) for m in a.marks]}
    if a.overridden:
        out["overridden"] = True
    return out


def _field(f: FieldReading) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": f.value,
        "status": f.status,
        "confidence": None if f.confidence is None else round(float(f.confidence), 3),
        "page": _page(f.page),
        "bbox": _bbox(f.bbox),
    }
    if f.crop:
        out["crop"] = f.crop
    return out


def _evidence(ev: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": ev.kind, "status": ev.status}
    if ev.attachments:
        out["attachments"] = list(ev.attachments)
    out["page"] = ev.page
    out["bbox"] = _bbox(ev.bbox)
    out["text"] = ev.text
    if ev.file:
        out["file"] = ev.file
    if ev.crop:
        out["crop"] = ev.crop
    return out


def _flag(f: Flag) -> dict[str, Any]:
    return {"code": f.code, "severity": f.severity, "item": f.item, "message": f.message, "pages": [_page(p) for p in f.pages]}


def to_json(result: Result) -> dict[str, Any]:
    form = result.form
    section_titles = dict(form.sections)
    items: dict[str, Any] = {}
    for item in form.items:
        answer = result.answers[item.id]
        s = result.item_scores[item.id]
        entry = _answer(answer)
        entry.update(
            {
                "required": item.required,
                "points_max": item.points_max,
                "points": s.points,
                "points_range": [s.low, s.high],
                "evidence": [_evidence(ev) for ev in result.evidence[item.id]],
                "title": item.statement,
                "section": item.section,
                "section_title": section_titles.get(item.section, ""),
                "scoring": item.scoring,
                "flags": list(result.item_flags.get(item.id, ())),
            }
        )
        if item.scale_note:
            entry["scale_note"] = item.scale_note
        items[item.id] = entry
    attachments = []
    for att in result.attachments:
        entry = {
            "id": att.id,
            "labels": list(att.labels),
            "label_status": att.label_status,
            "label_text": att.label_text,
            "pages": [_page(p) for p in att.pages],
        }
        if att.unknown_labels:
            entry["unknown_labels"] = list(att.unknown_labels)
        if att.candidates:
            entry["candidates"] = list(att.candidates)
        if att.crop:
            entry["crop"] = att.crop
        attachments.append(entry)
    score = result.score
    return {
        "schema": SCHEMA_ID,
        "submission": result.submission,
        "form": form.name,
        "form_title": form.title,
        "pipeline_version": result.pipeline_version,
        "sources": [_source(s) for s in result.sources],
        "applicant": {k: _field(v) for k, v in result.applicant.items()},
        "contacts": {k: _field(v) for k, v in result.other_fields.items()},
        "declarations": {k: _answer(v) for k, v in result.declarations.items()},
        "items": items,
        "attachments": attachments,
        "dropped_pages": [_page(p) for p in result.dropped_pages],
        "form_pages": {str(k): _page(v) for k, v in sorted(result.form_pages.items())},
        "flags": [_flag(f) for f in sorted(result.flags, key=lambda f: (SEVERITY_ORDER[f.severity], _item_order(form, f.item), f.code))],
        "overrides": list(result.overrides),
        "score": {
            "required_met": score.required_met,
            "required_total": score.required_total,
            "points": score.points,
            "points_max": score.points_max,
            "threshold": score.threshold,
            "decision": score.decision,
            "reasons": list(score.reasons),
            "points_range": [score.points_low, score.points_high],
        },
    }


def _item_order(form: FormDef, item: str | None) -> int:
    ids = form.item_ids
    return ids.index(item) if item in ids else -1


def _source(s: SourceFile) -> dict[str, Any]:
    out: dict[str, Any] = {"file": s.file, "sha256": s.sha256, "pages": s.pages, "kind": s.kind, "status": s.status}
    if s.error:
        out["error"] = s.error
    return out


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a temporary name and rename, so a killed run never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


SUMMARY_COLUMNS = (
    "submission",
    "decision",
    "required_met",
    "required_total",
    "points",
    "points_high",
    "points_max",
    "threshold",
    "errors",
    "warnings",
    "attachments",
    "pages",
    "seconds",
    "reasons",
)


def summary_row(data: Mapping[str, Any], seconds: float | None) -> dict[str, Any]:
    """One summary.csv row from a result.json dict."""
    score = data["score"]
    flags = data["flags"]
    return {
        "submission": data["submission"],
        "decision": score["decision"],
        "required_met": score["required_met"],
        "required_total": score["required_total"],
        "points": score["points"],
        "points_high": (score.get("points_range") or [score["points"], score["points"]])[1],
        "points_max": score["points_max"],
        "threshold": score["threshold"],
        "errors": sum(1 for f in flags if f["severity"] == "error"),
        "warnings": sum(1 for f in flags if f["severity"] == "warning"),
        "attachments": len(data["attachments"]),
        "pages": sum(s["pages"] for s in data["sources"]),
        "seconds": "" if seconds is None else f"{seconds:.2f}",
        "reasons": " / ".join(score.get("reasons", [])),
    }
