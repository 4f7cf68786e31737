"""The dossier's item table: one row per item with its answer, evidence, crops, points and flags."""

from __future__ import annotations

from typing import Any

from pipeline.model.results import SEVERITY_ORDER
from pipeline.model.words import FLAG
from pipeline.output.dossier.crops import CROP_TABLE_MM, Crop, CropStrip, crop_at
from pipeline.output.dossier.facts import DossierFacts
from pipeline.output.dossier.text import dossier_range, item_title, short
from pipeline.output.dossier.wording import ANSWER, EVIDENCE, EVIDENCE_PRESENCE, SHADE

STRIP_MAX_W_MM = 52.0  # the evidence column's width


def item_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    """Rows in the form's order; a row opening a section carries the section's header."""
    rows = []
    last_section = None
    for item_id in facts.order:
        it = facts.items[item_id]
        section = it.get("section") or item_id.split("-")[0]
        header = ""
        if section != last_section and it.get("section_title"):
            header = f"{section}　{it['section_title']}"
        last_section = section
        rows.append(item_row(facts, item_id, it, header))
    return rows


def item_row(facts: DossierFacts, item_id: str, it: dict[str, Any], header: str) -> dict[str, Any]:
    mine = facts.flags_by_item.get(item_id, [])
    codes = {f.get("code") for f in mine}
    ans = str(it.get("answer") or "blank")
    required = bool(it.get("required"))
    pmax = int(it.get("points_max") or 0)
    ev_rows, images = evidence_cells(facts, it)
    pts, pts_bad = points_cell(it, ans, codes)
    answer_bad = ans in ("conflict", "uncertain") or (required and ans != "yes") or "required_not_met" in codes
    sevs = {str(f.get("severity")) for f in mine}
    if "error" in sevs or answer_bad:
        state = "error"
    elif "warning" in sevs or (it.get("points") is None and pmax > 0):
        state = "warning"
    else:
        state = "ok"
    return {
        "id": item_id,
        "title": item_title(it, 10_000),  # wrapped in its cell, never cut
        "section_header": header,
        "kind": "必須" if required else f"{pmax}点",
        "answer": ANSWER.get(ans, ans),
        "answer_bad": answer_bad,
        "choice": facts.words.option(str(it.get("choice"))) if it.get("choice") else "",
        "evidence": ev_rows,
        "images": [CropStrip(tuple(c for c in images if isinstance(c, Crop)), STRIP_MAX_W_MM, CROP_TABLE_MM[1])] if any(images) else [],
        "points": pts,
        "points_bad": pts_bad,
        "flags": [
            {
                "text": f"{FLAG.get(str(f.get('code')), f.get('code'))}：{short(f.get('message'), 90)}",
                "is_error": f.get("severity") == "error",
                "is_warning": f.get("severity") == "warning",
            }
            for f in sorted(mine, key=lambda f: SEVERITY_ORDER.get(str(f.get("severity")), 3))
        ],
        "state": state,
        "shade": SHADE[state],
    }


def evidence_cells(facts: DossierFacts, it: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Crop | str]]:
    """(one line per evidence the item needs, the crops of its signatures, seals and blanks)."""
    ev_rows: list[dict[str, Any]] = []
    images: list[Crop | str] = []
    for m in it.get("marks") or []:  # a mark the machine was not sure of, beside the answer it gave
        if m.get("state") == "uncertain" or it.get("answer") in ("conflict", "uncertain"):
            images.append(crop_at(facts.out_dir, m.get("crop"), CROP_TABLE_MM))
    shown: set[tuple[str, str]] = set()
    for ev in it.get("evidence") or []:
        kind, status = str(ev.get("kind")), str(ev.get("status"))
        if status == "not_required":
            continue
        # Two blanks of one item read as the same text (部署・役職 and 氏名 both holding the
        # whole line) are one line in the dossier, not the same 記入 twice.
        if kind == "text" and (kind, str(ev.get("text"))) in shown and ev.get("text"):
            continue
        shown.add((kind, str(ev.get("text"))))
        if kind == "document":
            ids = [a for a in ev.get("attachments") or []]
            text = "、".join(f"{a}（本調書 {dossier_range(facts.plans.get(a))}）" if a in facts.plans else a for a in ids) or (
                "提出なし" if status == "missing" else ""
            )
        elif kind == "url_path":
            text = str(ev.get("text") or ("記入なし" if status == "missing" else ""))
        elif kind in ("signature", "seal"):
            text = EVIDENCE_PRESENCE.get(status, status)
            if ev.get("page") and ev.get("file"):
                text += f"（{ev['file']} p.{ev['page']}）"
        else:
            text = short(ev.get("text"), 80) or ("記入なし" if status == "missing" else "")
        ev_rows.append(
            {
                "label": EVIDENCE.get(kind, kind),
                "text": text,
                "bad": status == "missing",
                "unsure": status == "uncertain",
            }
        )
        if kind != "document" and ev.get("crop"):
            images.append(crop_at(facts.out_dir, ev.get("crop"), CROP_TABLE_MM))
    return ev_rows, images


def points_cell(it: dict[str, Any], ans: str, codes: set[Any]) -> tuple[str, bool]:
    """(the points column's text, whether it is shown as a problem): ○/✕/？ for 必須, n/max otherwise."""
    pmax = int(it.get("points_max") or 0)
    if bool(it.get("required")):
        met = "required_not_met" not in codes and ans == "yes"
        return ("○" if met else "✕" if ans in ("no", "blank") or "required_not_met" in codes else "？"), not met
    if it.get("points") is None:
        return f"未採点/{pmax}", False
    low, high = (it.get("points_range") or [it["points"], it["points"]])[:2]
    if low != high:  # not settled yet (an answer or its evidence in doubt): never a plain 0 that reads as final
        return f"{low}〜{high}/{pmax}", False
    return f"{it['points']}/{pmax}", "zero_point_item" in codes
