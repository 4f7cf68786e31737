"""The reviewer's checked corrections applied to what was read, each recorded with the machine's reading, who and when.

review.yaml is read and checked once, by `review_check.check_review`; a file with any problem
never reaches here (the run keeps the previous result instead). So every correction here is
valid for the form, and each one applied gets an `overrides` entry in result.json::

    {"target": "items.2-1-2.answer", "value": "no", "before": "yes", "applied": true,
     "reviewer": "山田 太郎", "date": "2026-12-07", "applied_on": "2026-12-05"}

`date` is the date of the latest sign-off round when review.yaml has one, else `applied_on`:
the date a run first applied this very correction, carried from the previous result.json so a
re-run does not move it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.model.records import Attachment, Evidence, FieldReading, FormDef, ItemAnswer
from pipeline.rules.review_check import Corrections
from pipeline.rules.review_fields import confirmable_fields


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who signs the corrections of this run, and the first-applied dates of the previous run's."""

    reviewer: str | None = None
    signed_on: dt.date | None = None  # the latest sign-off round's date
    today: dt.date = field(default_factory=dt.date.today)
    first_applied: Mapping[str, str] = field(default_factory=dict)  # applied_key(target, value) -> ISO date

    @classmethod
    def of(
        cls, corrections: Corrections, previous_overrides: Iterable[Mapping[str, Any]] = (), today: dt.date | None = None
    ) -> Attribution:
        """The attribution for `corrections`, carrying first-applied dates from the previous result.json's overrides."""
        latest = corrections.latest_signoff
        carried: dict[str, str] = {}
        for entry in previous_overrides:
            if isinstance(entry, Mapping) and entry.get("applied") and isinstance(entry.get("target"), str):
                first = entry.get("applied_on") or entry.get("date")
                if isinstance(first, str):
                    carried.setdefault(applied_key(entry["target"], entry.get("value")), first)
        return cls(corrections.reviewer, latest.date if latest else None, today or dt.date.today(), carried)


def applied_key(target: str, value: Any) -> str:
    """The identity of one correction across runs: where and what (the same value again keeps its date)."""
    return f"{target}={json.dumps(_plain(value), ensure_ascii=False, sort_keys=True)}"


@dataclass(slots=True)
class AppliedLog:
    """What was applied, for result.json's `overrides`."""

    attribution: Attribution = field(default_factory=Attribution)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, target: str, value: Any, before: Any, applied: bool = True, reason: str | None = None, read: Mapping[str, Any] | None = None
    ) -> None:
        """One correction; `read` adds what else the machine read there (a field's status and confidence: `before_status`, …)."""
        who = self.attribution
        applied_on = who.first_applied.get(applied_key(target, value), who.today.isoformat())
        entry: dict[str, Any] = {"target": target, "value": _plain(value), "before": _plain(before), "applied": applied}
        entry.update({f"before_{k}": _plain(v) for k, v in (read or {}).items()})
        if reason:
            entry["reason"] = reason
        entry["reviewer"] = who.reviewer
        entry["date"] = who.signed_on.isoformat() if who.signed_on else applied_on
        entry["applied_on"] = applied_on
        self.entries.append(entry)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def apply_answers(
    form: FormDef, corrections: Corrections, items: dict[str, ItemAnswer], declarations: dict[str, ItemAnswer], log: AppliedLog
) -> tuple[dict[str, ItemAnswer], dict[str, ItemAnswer]]:
    """Answers and choices corrected by the reviewer; the marks stay as read, for the record."""
    new_items = dict(items)
    for item_id, patch in corrections.items.items():
        current = new_items[item_id]
        if patch.answer is not None:
            log.add(f"items.{item_id}.answer", patch.answer, current.answer)
            current = replace(current, answer=patch.answer, overridden=True)
        if patch.choice is not None:
            log.add(f"items.{item_id}.choice", patch.choice, current.choice)
            current = replace(current, choice=patch.choice, overridden=True)
        new_items[item_id] = current
    new_decls = dict(declarations)
    for decl_id, choice in corrections.declarations.items():
        log.add(f"declarations.{decl_id}.choice", choice, new_decls[decl_id].choice)
        new_decls[decl_id] = replace(new_decls[decl_id], answer="yes", choice=choice, overridden=True)
    return new_items, new_decls


def apply_evidence(item_id: str, evidence: tuple[Evidence, ...], corrections: Corrections, log: AppliedLog) -> tuple[Evidence, ...]:
    """Evidence statuses the reviewer settled (e.g. a signature the scan missed)."""
    patch = corrections.items.get(item_id)
    if patch is None or not patch.evidence:
        return evidence
    result = list(evidence)
    for kind, status in patch.evidence.items():
        hits = [i for i, ev in enumerate(result) if ev.kind == kind]
        if not hits:
            log.add(
                f"items.{item_id}.evidence.{kind}",
                status,
                None,
                False,
                f"{item_id} はこの回答では{kind}を求めていないため、使いませんでした",
            )
            continue
        log.add(f"items.{item_id}.evidence.{kind}", status, result[hits[0]].status)
        for i in hits:
            result[i] = replace(result[i], status=status)
    return tuple(result)


def points_overrides(corrections: Corrections) -> dict[str, int]:
    """The reviewer's points by item (already checked to be 0..the item's points)."""
    return {item_id: patch.points for item_id, patch in corrections.items.items() if patch.points is not None}


def apply_labels(attachments: list[Attachment], corrections: Corrections, log: AppliedLog) -> list[Attachment]:
    """Attachment labels as the reviewer gives them."""
    by_id = {a.id: a for a in attachments}
    for att_id, labels in corrections.attachments.items():
        if att_id not in by_id:  # the check knew this submission's attachments; kept for safety
            log.add(f"attachments.{att_id}.labels", list(labels), None, False, f"{att_id} という添付書類はこの申請にありません")
            continue
        log.add(f"attachments.{att_id}.labels", list(labels), list(by_id[att_id].labels))
        by_id[att_id] = replace(by_id[att_id], labels=labels, label_status="read", unknown_labels=(), candidates=())
    return [by_id[a.id] for a in attachments]


def apply_fields(
    form: FormDef, corrections: Corrections, applicant: Mapping[str, FieldReading], others: Mapping[str, FieldReading], log: AppliedLog
) -> tuple[dict[str, FieldReading], dict[str, FieldReading]]:
    """Cover fields as the reviewer confirmed them: (applicant by key, other fields by name).

    A confirmed field reads `read` with the reviewer's value ("" confirmed: `empty`), keeping its
    page, box and crop (the machine's evidence); what the machine read is logged as the
    correction's `before`, `before_status`, `before_confidence` and `before_note`.
    """
    new_applicant, new_others = dict(applicant), dict(others)
    known = confirmable_fields(form)
    for name, value in corrections.fields.items():
        key = name.split(".", 1)[1]
        cover = known[name].cover if name in known else key in new_applicant
        old = (new_applicant.get(key) if cover else new_others.get(name)) or FieldReading(
            name, "applicant", "text", None, "missing", None, None, None
        )
        read = {"status": old.status, "confidence": old.confidence, "note": old.note}
        log.add(f"{name}.value", value, old.value, read={k: v for k, v in read.items() if v is not None})
        confirmed = replace(old, value=value or None, status="read" if value else "empty", confidence=None, note=None)
        if cover:
            new_applicant[key] = confirmed
        else:
            new_others[name] = confirmed
    return new_applicant, new_others
