"""The dossier's 審査者による訂正: each correction of review.yaml — what the machine read (with its crop) → the reviewer's value, who, when."""

from __future__ import annotations

from typing import Any

from pipeline.output.dossier.cover import review_rounds
from pipeline.output.dossier.crops import CROP_TABLE_MM, Crop, CropStrip, crop_at
from pipeline.output.dossier.facts import DossierFacts
from pipeline.output.dossier.wording import ANSWER, EVIDENCE, EVIDENCE_PRESENCE

FIELD_WORD = {"answer": "回答", "choice": "選択", "points": "点数", "evidence": "証跡", "labels": "右肩表示", "value": "記入内容"}
READ_STATUS = {
    "read": "読取済",
    "uncertain": "要確認",
    "handwritten": "手書き",
    "empty": "空欄",
    "missing": "該当頁なし",
    "not_located": "位置不明",
}
STRIP_MAX_W_MM = 44.0
# Where the other part records the machine's reading before the correction (the first found wins).
PREVIOUS_KEYS = ("before", "previous", "machine")


def correction_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    """One row per correction of result.json's `overrides`, applied ones first, in the file's order."""
    review = facts.result.get("review") if isinstance(facts.result.get("review"), dict) else {}
    default_who = str((review or {}).get("reviewer") or "")
    rounds = review_rounds(review)
    default_when = next((r["date"] for r in rounds.values() if r.get("date")), "")
    rows = []
    for o in facts.result.get("overrides") or []:
        parts = str(o.get("target") or "").split(".")
        section, owner = (parts + ["", ""])[:2]
        field = parts[2] if len(parts) > 2 else ""
        field_of = _field_of(facts, section, owner) if field == "value" else None
        rows.append(
            {
                "target": _field_label(facts, section, owner) if field == "value" else owner or str(o.get("target") or ""),
                "what": FIELD_WORD.get(field, field or section),
                "before": _shown(field, _previous(facts, o, section, owner, field)),
                "after": _shown(field, o.get("value")),
                "who": str(o.get("reviewer") or default_who),
                "when": str(o.get("date") or default_when),
                "applied": bool(o.get("applied")),
                "reason": "" if o.get("applied") else str(o.get("reason") or "適用されませんでした"),
                "image": crop_at(facts.out_dir, (field_of or {}).get("crop"), CROP_TABLE_MM)
                if field == "value"
                else _crops(facts, section, owner),
            }
        )
    rows.sort(key=lambda r: not r["applied"])
    return rows


def _field_of(facts: DossierFacts, section: str, owner: str) -> dict[str, Any] | None:
    """The cover field a `applicant.<key>.value` correction names (result.json `applicant`, else `contacts`)."""
    found = facts.applicant.get(owner) if section == "applicant" else None
    found = found or (facts.result.get("contacts") or {}).get(f"{section}.{owner}")
    return found if isinstance(found, dict) else None


def _field_label(facts: DossierFacts, section: str, owner: str) -> str:
    return f"表紙 {facts.words.field_label(owner)}" if section == "applicant" else f"{section}.{owner}"


def _previous(facts: DossierFacts, o: dict[str, Any], section: str, owner: str, field: str) -> Any:
    if field == "value":  # a cover field: what the machine read, and how sure it was
        status = READ_STATUS.get(str(o.get("before_status")), "")
        value = o.get("before")
        shown = f"「{value}」" if value not in (None, "") else "（読めず）" if o.get("before_status") != "empty" else "（空欄）"
        return f"{shown}（{status}）" if status else shown
    for key in PREVIOUS_KEYS:
        if o.get(key) is not None:
            return o[key]
    if section == "items" and field == "points" and (facts.items.get(owner) or {}).get("scoring") == "reviewer":
        return "未採点"
    if section == "items" and field == "answer":
        # Without the other part's record, the marks still say what the machine saw.
        marks = (facts.items.get(owner) or {}).get("marks") or []
        seen = [str(m.get("option")) for m in marks if m.get("state") == "checked"]
        return "・".join(ANSWER.get(s, s) for s in seen) or "印なし"
    return None


def _shown(field: str, value: Any) -> str:
    if field == "value":
        return f"「{value}」" if value else "（空欄と確認）"
    if value is None:
        return "（記録なし）"
    if isinstance(value, dict):
        return "、".join(f"{EVIDENCE.get(str(k), str(k))}：{EVIDENCE_PRESENCE.get(str(v), str(v))}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or "（なし）"
    if field == "points" and isinstance(value, int | float):
        return f"{value} 点"
    return ANSWER.get(str(value), str(value))


def _crops(facts: DossierFacts, section: str, owner: str) -> Any:
    """The crops of what the machine read for the corrected owner: its marks, else its signatures and seals."""
    if section == "attachments":
        att = facts.atts.get(owner) or {}
        return crop_at(facts.out_dir, att.get("crop"), CROP_TABLE_MM)
    o = (facts.items if section == "items" else facts.declarations).get(owner) or {}
    crops = [crop_at(facts.out_dir, m.get("crop"), CROP_TABLE_MM) for m in o.get("marks") or []]
    crops += [
        crop_at(facts.out_dir, e.get("crop"), CROP_TABLE_MM) for e in o.get("evidence") or [] if e.get("kind") in ("signature", "seal")
    ]
    found = tuple(c for c in crops if isinstance(c, Crop))
    return CropStrip(found[:3], STRIP_MAX_W_MM, CROP_TABLE_MM[1] * 1.5) if found else ""
