"""review.yaml: write the blank once, read the reviewer's corrections, apply them, record that they were."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.model.errors import OverridesError
from pipeline.model.records import Attachment, Evidence, FormDef, ItemAnswer
from pipeline.model.review_file import load_review_mapping, review_section

ANSWERS = {"yes", "no", "blank", "conflict", "uncertain"}
EVIDENCE_KINDS = {"document", "signature", "seal", "url_path", "text"}
EVIDENCE_STATUS = {"present", "missing", "not_required", "uncertain"}

BLANK_TEMPLATE = """\
# 審査者による訂正 (review.yaml) — {name}
# この審査の結果を訂正するときは、下の例にならって書き込み、`make run` をもう一度実行してください。
# このファイルはパイプラインが一度だけ作成し、以後は書き換えません。
#
# items:
#   7-1-1: {{points: 4}}                 # 審査者の採点 (7-1-1..7-1-3 は 0-5 点)
#   1-1-3: {{answer: "yes"}}             # 読み取り誤りの訂正: yes / no / blank
#   3-1-7: {{choice: other_building}}    # 選択肢の訂正
#   2-1-2: {{evidence: {{signature: present, seal: present}}}}
# declarations:
#   upstream_provider: {{choice: independent}}
# attachments:
#   att-03: {{labels: ["3-1-6"]}}        # 右肩ラベルの訂正
# certificate: {{license_number: "...", issued: 2026-12-01}}
#
# 確認が必要な点 (result.json の flags より):
{todo}
items: {{}}
declarations: {{}}
attachments: {{}}
certificate: {{}}
"""


@dataclass(frozen=True, slots=True)
class Review:
    """The reviewer's corrections as read from review.yaml."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    declarations: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificate: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # what could not be read, in words


@dataclass(slots=True)
class AppliedLog:
    """What was applied and what was refused, for result.json's `overrides`."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, target: str, value: Any, applied: bool, reason: str | None = None) -> None:
        entry: dict[str, Any] = {"target": target, "value": _plain(value), "applied": applied}
        if reason:
            entry["reason"] = reason
        self.entries.append(entry)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def read_review(path: Path) -> Review:
    """Read review.yaml; a broken file is reported, not fatal (the run goes on without it)."""
    try:
        data = load_review_mapping(path)
    except OverridesError as exc:
        return Review(problems=(f"{exc}; no correction applied",))

    def section(name: str) -> dict[str, Any]:
        value = data.get(name) or {}
        return {str(k): (v or {}) for k, v in value.items()} if isinstance(value, dict) else {}

    return Review(
        items=section("items"),
        declarations=section("declarations"),
        attachments=section("attachments"),
        certificate=review_section(data, "certificate"),
    )


def write_blank_review(path: Path, submission: str, todo: list[str]) -> bool:
    """Create review.yaml if absent (never overwrite the reviewer's file). True if written."""
    if path.exists():
        return False
    lines = "\n".join(f"#   - {t}" for t in todo) or "#   (なし)"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(BLANK_TEMPLATE.format(name=submission, todo=lines), encoding="utf-8")
    tmp.replace(path)
    return True


def apply_answers(
    form: FormDef, review: Review, items: dict[str, ItemAnswer], declarations: dict[str, ItemAnswer], log: AppliedLog
) -> tuple[dict[str, ItemAnswer], dict[str, ItemAnswer]]:
    """Answers and choices corrected by the reviewer; the marks stay as read, for the record."""
    owners = {it.id: {c.key for c in it.choices} for it in form.items}
    decl_keys = {d.id: {o.key for o in d.options if o.role == "main"} for d in form.declarations}
    new_items = dict(items)
    for item_id, patch in review.items.items():
        if item_id not in owners:
            log.add(f"items.{item_id}", patch, False, "no such item in the form")
            continue
        current = new_items[item_id]
        if "answer" in patch:
            value = str(patch["answer"]).lower() if not isinstance(patch["answer"], bool) else ("yes" if patch["answer"] else "no")
            if value in ANSWERS:
                current = replace(current, answer=value, overridden=True)  # type: ignore[arg-type]
                log.add(f"items.{item_id}.answer", value, True)
            else:
                log.add(f"items.{item_id}.answer", patch["answer"], False, f"answer must be one of {sorted(ANSWERS)}")
        if "choice" in patch:
            if patch["choice"] in owners[item_id]:
                current = replace(current, choice=str(patch["choice"]), overridden=True)
                log.add(f"items.{item_id}.choice", patch["choice"], True)
            else:
                log.add(f"items.{item_id}.choice", patch["choice"], False, f"choice must be one of {sorted(owners[item_id]) or 'none (no choices)'}")
        new_items[item_id] = current
    new_decls = dict(declarations)
    for decl_id, patch in review.declarations.items():
        if decl_id not in decl_keys:
            log.add(f"declarations.{decl_id}", patch, False, "no such declaration")
        elif patch.get("choice") in decl_keys[decl_id]:
            new_decls[decl_id] = replace(new_decls[decl_id], answer="yes", choice=str(patch["choice"]), overridden=True)
            log.add(f"declarations.{decl_id}.choice", patch["choice"], True)
        else:
            log.add(f"declarations.{decl_id}", patch, False, f"choice must be one of {sorted(decl_keys[decl_id])}")
    return new_items, new_decls


def apply_evidence(item_id: str, evidence: tuple[Evidence, ...], review: Review, log: AppliedLog) -> tuple[Evidence, ...]:
    """Evidence statuses the reviewer settled (e.g. a signature the scan missed)."""
    patch = (review.items.get(item_id) or {}).get("evidence")
    if not patch:
        return evidence
    if not isinstance(patch, dict):
        log.add(f"items.{item_id}.evidence", patch, False, "evidence must map a kind to a status")
        return evidence
    result = list(evidence)
    for kind, status in patch.items():
        if kind not in EVIDENCE_KINDS or status not in EVIDENCE_STATUS:
            log.add(f"items.{item_id}.evidence.{kind}", status, False, f"kinds {sorted(EVIDENCE_KINDS)}, statuses {sorted(EVIDENCE_STATUS)}")
            continue
        hits = [i for i, ev in enumerate(result) if ev.kind == kind]
        if not hits:
            log.add(f"items.{item_id}.evidence.{kind}", status, False, "the item needs no such evidence")
            continue
        for i in hits:
            result[i] = replace(result[i], status=status)
        log.add(f"items.{item_id}.evidence.{kind}", status, True)
    return tuple(result)


def override_points(form: FormDef, review: Review, log: AppliedLog) -> dict[str, int]:
    points: dict[str, int] = {}
    for item_id, patch in review.items.items():
        if "points" not in patch or item_id not in form.item_ids:
            continue
        top = form.item(item_id).points_max
        value = patch["points"]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= top:
            points[item_id] = value
            log.add(f"items.{item_id}.points", value, True)
        else:
            log.add(f"items.{item_id}.points", value, False, f"points must be a whole number from 0 to {top}")
    return points


def apply_labels(attachments: list[Attachment], review: Review, item_ids: set[str], log: AppliedLog) -> list[Attachment]:
    by_id = {a.id: a for a in attachments}
    for att_id, patch in review.attachments.items():
        labels = patch.get("labels") if isinstance(patch, dict) else None
        if att_id not in by_id:
            log.add(f"attachments.{att_id}", patch, False, "no such attachment")
        elif not isinstance(labels, list) or not all(str(x) in item_ids for x in labels):
            log.add(f"attachments.{att_id}.labels", labels, False, "labels must be a list of the form's item ids")
        else:
            by_id[att_id] = replace(
                by_id[att_id], labels=tuple(str(x) for x in labels), label_status="read", unknown_labels=(), candidates=()
            )
            log.add(f"attachments.{att_id}.labels", labels, True)
    return [by_id[a.id] for a in attachments]
