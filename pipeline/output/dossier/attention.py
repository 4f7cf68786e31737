"""The dossier's 要確認事項: everything a reviewer must look at, with the crop and the pages to look at."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pipeline.model.results import SEVERITY_ORDER
from pipeline.model.words import FLAG
from pipeline.output.dossier.crops import CROP_LIST_MM, crop_at
from pipeline.output.dossier.facts import DossierFacts
from pipeline.output.dossier.text import dossier_range, id_key
from pipeline.output.dossier.wording import EYES_CODES, FIELD_STATUS

# Which marks of a flag's owner show the problem, by flag code (the rest: any mark with a crop).
MARK_CODES = ("uncertain_mark", "conflicting_answer", "missing_choice", "required_not_met")
MARK_STATES = {"uncertain_mark": ("uncertain",), "conflicting_answer": ("checked", "uncertain")}
# The evidence kind whose crop shows a missing-evidence flag.
EVIDENCE_CODES = {
    "missing_signature": "signature",
    "missing_seal": "seal",
    "missing_text": "text",
    "missing_url_path": "url_path",
    "missing_document_unless_url": "url_path",  # the URL place in doubt is what to look at
}


def attention_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    """Flags (but info ones nobody needs to see), unsure marks not flagged, unsure applicant fields,
    items only a reviewer scores; numbered, each with the line to write in review.yaml."""
    attention = flag_entries(facts) + loose_mark_entries(facts) + applicant_entries(facts) + scoring_entries(facts)
    for e in attention:
        e.setdefault("todo_section", "")
        e.setdefault("todo", "")
    attention.sort(key=lambda e: e["sort"])
    for n, e in enumerate(attention, start=1):
        e["no"] = n
        del e["sort"]
    return attention


def flag_entries(facts: DossierFacts) -> list[dict[str, Any]]:
    entries = []
    for fl in facts.flags:
        if fl.get("severity") == "info" and fl.get("code") not in EYES_CODES:
            continue
        image, refs = flag_crop(facts, fl)
        refs = list(fl.get("pages") or []) or refs
        if fl.get("code") == "unreadable_file" and not refs:
            where_text = "、".join(str(s["file"]) for s in facts.result.get("sources") or [] if s.get("status") != "ok")
        else:
            where_text = facts.where(refs)
        entries.append(
            {
                "sort": (
                    id_key(fl["item"]) if fl.get("item") and fl["item"] in facts.items else (),
                    SEVERITY_ORDER.get(str(fl.get("severity")), 3),
                ),
                "kind": FLAG.get(str(fl.get("code")), str(fl.get("code"))),
                "item": facts.words.declaration(fl["item"]) if fl.get("item") in facts.declarations else str(fl.get("item") or "全体"),
                "message": str(fl.get("message") or ""),
                "where": where_text,
                "image": image,
                "is_error": fl.get("severity") == "error",
                "is_warning": fl.get("severity") == "warning",
                **review_line(facts, fl),
            }
        )
    return entries


def scoring_entries(facts: DossierFacts) -> list[dict[str, Any]]:
    """Items the form leaves to the reviewer's score (items.yaml: scoring reviewer) and not scored yet."""
    entries = []
    for item_id in facts.order:
        it = facts.items[item_id]
        if it.get("scoring") != "reviewer" or it.get("points") is not None:
            continue
        top = int(it.get("points_max") or 0)
        docs = [a for ev in it.get("evidence") or [] if ev.get("kind") == "document" for a in ev.get("attachments") or []]
        where = "、".join(f"{a}（本調書 {dossier_range(facts.plans[a])}）" for a in docs if a in facts.plans)
        entries.append(
            {
                "sort": (id_key(item_id), 1),
                "kind": "審査者の採点",
                "item": item_id,
                "message": f"書類の内容を読み、0〜{top} 点で採点してください。" + ("" if docs else "（書類の提出がありません）"),
                "where": where,
                "image": "",
                "is_error": False,
                "is_warning": True,
                "todo_section": "items:",
                "todo": f"{item_id}: {{points: {top}}}  # {top} の所に 0〜{top} の点数",
            }
        )
    return entries


ANSWER_CODES = ("uncertain_mark", "conflicting_answer", "required_not_met", "missing_document_if_yes")  # the last: settle the answer first


def review_line(facts: DossierFacts, fl: dict[str, Any]) -> dict[str, str]:
    """The line a reviewer writes in review.yaml to settle a flag (its section and the line), or nothing when no line settles it."""
    code, owner = str(fl.get("code")), fl.get("item")
    section = "declarations:" if owner in facts.declarations else "items:"
    o = _owner(facts, owner)
    if code in ("unlabeled_attachment", "unknown_label"):
        a = _attachment_at(facts, fl.get("pages") or [])
        if a is not None:
            return {"todo_section": "attachments:", "todo": f'{a["id"]}: {{labels: ["項目番号"]}}'}
        return {}
    if not owner or not o:
        return {}
    options = [str(m.get("option")) for m in o.get("marks") or [] if m.get("option") not in ("yes", "no")]
    if code == "missing_choice" or (code in ANSWER_CODES and options and o.get("choice") is None and o.get("answer") == "yes"):
        first = facts.words.option(options[0]) if options else "選択肢"
        return {"todo_section": section, "todo": f"{owner}: {{choice: {first}}}"}
    if code in ANSWER_CODES:
        return {"todo_section": section, "todo": f"{owner}: {{answer: はい}}  # または いいえ"}
    if code in EVIDENCE_CODES:
        return {"todo_section": section, "todo": f"{owner}: {{evidence: {{{EVIDENCE_CODES[code]}: あり}}}}  # 原本にあれば"}
    if code == "missing_document":
        loose = [str(a["id"]) for a in facts.atts.values() if not a.get("labels")]
        if loose:
            return {"todo_section": "attachments:", "todo": f'{loose[0]}: {{labels: ["{owner}"]}}  # 該当する資料なら'}
    return {}


def loose_mark_entries(facts: DossierFacts) -> list[dict[str, Any]]:
    """Uncertain marks of owners that no uncertain_mark / conflicting_answer flag names."""
    flagged_marks = {f.get("item") for f in facts.flags if f.get("code") in ("uncertain_mark", "conflicting_answer")}
    entries = []
    for owner_id, o in [*facts.items.items(), *facts.declarations.items()]:
        if owner_id in flagged_marks:
            continue
        for m in o.get("marks") or []:
            if m.get("state") == "uncertain":
                entries.append(
                    {
                        "sort": (id_key(owner_id) if owner_id in facts.items else (), 1),
                        "kind": FLAG["uncertain_mark"],
                        "item": owner_id,
                        "message": f"選択肢「{facts.words.option(str(m.get('option')))}」の印を判定できません"
                        + (f"（濃度 {m['score']:.2f}）" if isinstance(m.get("score"), int | float) else ""),
                        "where": facts.where([m["page"]]) if isinstance(m.get("page"), dict) else "",
                        "image": crop_at(facts.out_dir, m.get("crop"), CROP_LIST_MM),
                        "is_error": False,
                        "is_warning": True,
                        "todo_section": "declarations:" if owner_id in facts.declarations else "items:",
                        "todo": f"{owner_id}: {{answer: はい}}  # または いいえ",
                    }
                )
    return entries


def applicant_entries(facts: DossierFacts) -> list[dict[str, Any]]:
    """Cover fields read uncertain or handwritten and not yet confirmed: to compare with the original, and the line that confirms them."""
    entries = []
    for key, fld in facts.applicant.items():
        if fld and fld.get("status") in ("uncertain", "handwritten") and not fld.get("overridden"):
            label = facts.words.field_label(key)
            entries.append(
                {
                    "sort": ((), 2),
                    "kind": "申請者欄：" + FIELD_STATUS.get(str(fld.get("status")), ""),
                    "item": label,
                    "message": f"読取値「{fld.get('value') or ''}」を原本と照合してください"
                    if fld.get("value")
                    else str(fld.get("note") or "機械読取できません。画像で確認してください"),  # the reader's why, when it said one
                    "where": facts.where([fld["page"]]) if isinstance(fld.get("page"), dict) else "",
                    "image": crop_at(facts.out_dir, fld.get("crop"), CROP_LIST_MM),
                    "is_error": False,
                    "is_warning": True,
                    "todo_section": "fields:",
                    "todo": f"{label}: {yaml_value(str(fld.get('value') or '…'))}  # 原本どおりの値に直して",
                }
            )
    return entries


def yaml_value(text: str) -> str:
    """A value as one YAML scalar: quoted when YAML would read it otherwise (`:`, `#`, brackets, quotes)."""
    if re.search(r"[:#{}\[\],&*!|>'\"%@`]", text) or text != text.strip():
        return json.dumps(text, ensure_ascii=False)
    return text


def _owner(facts: DossierFacts, item_id: str | None) -> dict[str, Any]:
    if item_id is None:
        return {}
    return facts.items.get(item_id) or facts.declarations.get(item_id) or {}


def _attachment_at(facts: DossierFacts, refs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    wanted = {(str(r.get("file")), int(r.get("page") or 0)) for r in refs or []}
    for a in facts.atts.values():
        if wanted & {(str(p["file"]), int(p["page"])) for p in a.get("pages") or []}:
            return a
    return None


def flag_crop(facts: DossierFacts, fl: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """(the crop that shows a flag's problem or "", the page it is on) from the flag's owner."""
    code, o = fl.get("code"), _owner(facts, fl.get("item"))
    marks = o.get("marks") or []
    evs = o.get("evidence") or []
    pick: dict[str, Any] | None = None
    if code in MARK_CODES:
        wanted = MARK_STATES.get(str(code), ("uncertain", "checked", "empty"))
        pick = next((m for m in marks if m.get("state") in wanted and m.get("crop")), None)
        pick = pick or next((m for m in marks if m.get("crop")), None)
    elif code in EVIDENCE_CODES:
        kind = EVIDENCE_CODES[str(code)]
        pick = next((e for e in evs if e.get("kind") == kind and e.get("crop")), None)
        if pick is not None:
            ref = [{"file": pick["file"], "page": pick["page"]}] if pick.get("file") and pick.get("page") else []
            return crop_at(facts.out_dir, pick.get("crop"), CROP_LIST_MM), ref
    elif code in ("unlabeled_attachment", "unknown_label"):
        a = _attachment_at(facts, fl.get("pages") or [])
        if a is not None:
            return crop_at(facts.out_dir, a.get("crop"), CROP_LIST_MM), list(a.get("pages") or [])[:1]
    if pick is None:
        return "", []
    page = pick.get("page")
    return crop_at(facts.out_dir, pick.get("crop"), CROP_LIST_MM), [page] if isinstance(page, dict) else []
