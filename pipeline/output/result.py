"""Result ↔ result.json and the summary row; the only place that knows the JSON spelling."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.model.records import BBox, Evidence, FieldReading, Flag, FormDef, ItemAnswer, MarkReading, PageRef, SourceFile
from pipeline.model.results import SEVERITY_ORDER, Result
from pipeline.model.text_safety import csv_cell
from pipeline.model.words import decision_word, flag_word

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
    if f.note:
        out["note"] = f.note  # why the value is uncertain (Japanese)
    return out


def _reviewed(out: dict[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """A field entry with the reviewer's confirmation: `overridden`, and `reviewed` (who, when, what the machine read)."""
    if override is None:
        return out
    out["overridden"] = True
    out["reviewed"] = {
        "reviewer": override.get("reviewer"),
        "date": override.get("date"),
        "read_value": override.get("before"),
        "read_status": override.get("before_status"),
        "read_confidence": override.get("before_confidence"),
    }
    if override.get("before_note"):
        out["reviewed"]["read_note"] = override["before_note"]
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
    # Fields the reviewer confirmed (review.yaml `fields:`): their override, by field name.
    confirmed = {
        str(o["target"]).removesuffix(".value"): o for o in result.overrides if o.get("applied") and str(o.get("target")).endswith(".value")
    }
    return {
        "schema": SCHEMA_ID,
        "submission": result.submission,
        "form": form.name,
        "form_title": form.title,
        "pipeline_version": result.pipeline_version,
        "sources": [_source(s) for s in result.sources],
        "applicant": {k: _reviewed(_field(v), confirmed.get(f"applicant.{k}")) for k, v in result.applicant.items()},
        "contacts": {k: _reviewed(_field(v), confirmed.get(k)) for k, v in result.other_fields.items()},
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
    if s.notes:
        out["notes"] = list(s.notes)  # how the file was read: repaired, rewritten (Japanese)
    return out


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a temporary name and rename, so a killed run never leaves half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# summary.csv: the Japanese columns a manager reads in Excel first; after them, unchanged, the
# machine columns (English names, the contract's codes) that scripts written against earlier
# runs read — their names and values stay as they were, so no such script breaks.
SUMMARY_COLUMNS_JA = (
    "申請",
    "事業者名",
    "サービス名",
    "判定",
    "必須",
    "得点",
    "未確定の項目",
    "判定理由",
    "審査者",
    "登録番号",
    "発行日",
    "調書",
)
MACHINE_COLUMNS = (
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
SUMMARY_COLUMNS = SUMMARY_COLUMNS_JA + MACHINE_COLUMNS
# Flag codes that wait for the reviewer although only warnings (rules/score.BLOCKING_CODES).
BLOCKING_FLAG_CODES = frozenset({"uncertain_mark"})
# Outcomes that replace the decision in a row: the submission crashed, or its review.yaml has
# problems (nothing was re-decided; the previous result.json still stands).
ROW_OUTCOMES = ("error", "review_error")


@dataclass(frozen=True, slots=True)
class RowFacts:
    """What a summary row needs besides result.json: found in the outbox by the batch."""

    seconds: float | None = None
    reviewer: str = ""
    license_number: str = ""
    issued: str = ""  # YYYY-MM-DD
    dossier: str = ""  # the dossier's path relative to summary.csv, "" when there is none


def open_questions(data: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """What waits for the reviewer, by kind: (Japanese kind, item ids) in a stable order.

    The kinds: items only a reviewer scores (審査者の採点), each kind of flag that stands
    between the data and a decision (an error, or an uncertain mark), and items whose range is
    still open for another reason (判定未確定). Empty when nothing waits.
    """
    items: Mapping[str, Any] = data.get("items") or {}
    kinds: dict[str, list[str]] = {}
    scoring = [i for i, it in items.items() if it.get("scoring") == "reviewer" and it.get("points") is None]
    if scoring:
        kinds["審査者の採点"] = scoring
    named: set[str] = set(scoring)
    for flag in data.get("flags") or []:
        if flag.get("severity") == "error" or flag.get("code") in BLOCKING_FLAG_CODES:
            item = flag.get("item") or ""
            kinds.setdefault(flag_word(str(flag.get("code"))), []).append(item)
            named.add(item)
    open_items = [i for i, it in items.items() if i not in named and _open_range(it)]
    if open_items:
        kinds["判定未確定"] = open_items
    return list(kinds.items())


def _open_range(item: Mapping[str, Any]) -> bool:
    low, high = (item.get("points_range") or [0, 0])[:2]
    return bool(low != high)


def open_questions_text(data: Mapping[str, Any]) -> str:
    """審査者の採点 3 件（7-1-1、7-1-2、7-1-3）／書類なし 1 件（2-3-1）: `open_questions` as one line."""
    parts = []
    for kind, ids in open_questions(data):
        named = [i for i in ids if i]
        parts.append(f"{kind} {len(ids)} 件" + (f"（{'、'.join(named)}）" if named else ""))
    return "／".join(parts)


def summary_row(
    name: str, data: Mapping[str, Any] | None, facts: RowFacts = RowFacts(), *, outcome: str = "", message: str = ""
) -> dict[str, str]:
    """One summary.csv row: Japanese columns, then the machine columns; every cell safe for Excel.

    Args:
        name: the submission's folder in the outbox.
        data: its result.json, or None when there is none to read (a crash before it was written).
        facts: what the outbox says besides result.json.
        outcome: "error" or "review_error" when that replaces the decision; "" for the decision itself.
        message: what went wrong, for an error or review_error row.
    """
    row: dict[str, Any] = {"申請": name, "submission": name, "調書": facts.dossier, "審査者": facts.reviewer}
    decision = outcome or (data or {}).get("score", {}).get("decision", "error")
    row.update({"判定": decision_word(decision), "decision": decision})
    if data is not None:
        row.update(_decided_columns(data, facts))
    if outcome:
        row["判定理由"] = row["reasons"] = "／".join(line.strip() for line in message.splitlines() if line.strip())
        if outcome == "error":
            row["未確定の項目"] = ""
    if decision != "pass":
        row["登録番号"] = row["発行日"] = ""  # a number stays only with a pass (and its certificate)
    return {column: csv_cell(row.get(column)) for column in SUMMARY_COLUMNS}


def _decided_columns(data: Mapping[str, Any], facts: RowFacts) -> dict[str, Any]:
    score = data["score"]
    flags = data["flags"]
    low, high = (score.get("points_range") or [score["points"], score["points"]])[:2]
    applicant = data.get("applicant") or {}
    reasons = "／".join(score.get("reasons", []))
    return {
        "事業者名": (applicant.get("company_name") or {}).get("value") or "",
        "サービス名": (applicant.get("service_name") or {}).get("value") or "",
        "必須": f"{score['required_met']}/{score['required_total']} 項目",
        "得点": f"{low}" if low == high else f"{low}〜{high}",
        "未確定の項目": open_questions_text(data) if score["decision"] == "needs_review" else "",
        "判定理由": reasons,
        "登録番号": facts.license_number,
        "発行日": facts.issued,
        "required_met": score["required_met"],
        "required_total": score["required_total"],
        "points": score["points"],
        "points_high": high,
        "points_max": score["points_max"],
        "threshold": score["threshold"],
        "errors": sum(1 for f in flags if f["severity"] == "error"),
        "warnings": sum(1 for f in flags if f["severity"] == "warning"),
        "attachments": len(data["attachments"]),
        "pages": sum(s["pages"] for s in data["sources"]),
        "seconds": "" if facts.seconds is None else f"{facts.seconds:.2f}",
        "reasons": reasons,
    }
