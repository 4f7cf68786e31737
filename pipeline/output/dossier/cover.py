"""The dossier's cover section: the decision and score, the applicant, the declarations, flag counts, the files."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from pipeline.model.results import SEVERITY_ORDER
from pipeline.model.words import FLAG
from pipeline.output.certificate import CouncilConfig, format_date
from pipeline.output.dossier.crops import CROP_FIELD_MM, crop_at
from pipeline.output.dossier.facts import DossierFacts
from pipeline.output.dossier.text import id_key, short
from pipeline.output.dossier.wording import ANSWER, DECISION_SHADE, FIELD_STATUS, SEVERITY, SOURCE_KIND


def cover_context(facts: DossierFacts, *, council: CouncilConfig, today: dt.date, license_number: str | None) -> dict[str, Any]:
    """The cover's part of the dossier context (the template's keys doc … sources)."""
    result = facts.result
    return {
        "doc": {
            "council_name": council.name,
            "generated": format_date(today, council.date_style),
            "submission": str(result.get("submission_name") or result.get("submission") or ""),
            "form": str(result.get("form") or ""),
            "kind_label": facts.words.form_kind(str(result.get("form"))),
        },
        "company": facts.value("company_name") or "（会社名不明）",
        "service": facts.value("service_name") or "（サービス名不明）",
        "decision": decision_box(facts, license_number),
        "reasons": [str(r) for r in facts.score.get("reasons") or []],
        "score": score_box(facts),
        "outlook": outlook_lines(facts),
        "signoff": signoff_rows(facts),
        "flags": flag_totals(facts),
        "flag_counts": flag_count_rows(facts),
        "applicant": applicant_rows(facts),
        "declarations": declaration_rows(facts),
        "sources": source_rows(facts),
    }


def decision_box(facts: DossierFacts, license_number: str | None) -> dict[str, Any]:
    decision = str(facts.score.get("decision") or "needs_review")
    return {
        "key": decision,
        "is_pass": decision == "pass",
        "is_fail": decision == "fail",
        "is_review": decision not in ("pass", "fail"),
        "license_number": license_number or "",
        "shade": DECISION_SHADE.get(decision, DECISION_SHADE["needs_review"]),
    }


def score_box(facts: DossierFacts) -> dict[str, Any]:
    """必須 met, the points (a range while items are unresolved) and the pass mark."""
    score, items = facts.score, facts.items
    null_items = [i for i in facts.order if items[i].get("points") is None and int(items[i].get("points_max") or 0) > 0]
    points = int(score.get("points") or 0)
    low, high = points, points + sum(int(items[i].get("points_max") or 0) for i in null_items)
    if isinstance(score.get("points_range"), list | tuple) and len(score["points_range"]) == 2:
        low, high = int(score["points_range"][0]), int(score["points_range"][1])
    threshold = int(score.get("threshold") or 0)
    return {
        "required_met": score.get("required_met"),
        "required_total": score.get("required_total"),
        "required_ok": score.get("required_met") == score.get("required_total"),
        "points_text": f"{low}" if low == high else f"{low}〜{high}",
        "points_max": score.get("points_max"),
        "threshold": threshold,
        "points_ok": high >= threshold,
        "unresolved": ", ".join(null_items),
    }


def _points_range(facts: DossierFacts) -> tuple[int, int]:
    score = facts.score
    if isinstance(score.get("points_range"), list | tuple) and len(score["points_range"]) == 2:
        return int(score["points_range"][0]), int(score["points_range"][1])
    points = int(score.get("points") or 0)
    pending = sum(int(facts.items[i].get("points_max") or 0) for i in facts.order if facts.items[i].get("points") is None)
    return points, points + pending


def outlook_lines(facts: DossierFacts) -> list[str]:
    """Whether the decision can still change, from the points range and the 必須 items still open."""
    score = facts.score
    decision = str(score.get("decision") or "needs_review")
    low, high = _points_range(facts)
    threshold = int(score.get("threshold") or 0)
    open_required = [i for i in facts.order if facts.items[i].get("required") and facts.items[i].get("answer") in ("uncertain", "conflict")]
    lines = []
    if decision == "fail" and score.get("required_met") != score.get("required_total") and not open_required:
        lines.append("必須項目が満たされていないため、採点にかかわらず不合格です。")
    if low == high:
        lines.append(f"得点は {low} 点で確定しています（合格基準 {threshold} 点）。")
    elif low >= threshold:
        lines.append(f"最低でも {low} 点で、合格基準 {threshold} 点に達しています。未確定の項目の採点で合否は変わりません。")
    elif high < threshold:
        lines.append(f"最高でも {high} 点で、合格基準 {threshold} 点に届きません。未確定の項目の採点で合否は変わりません。")
    else:
        lines.append(f"審査者の採点次第で合否が変わります（{low}〜{high} 点、合格基準 {threshold} 点）。")
    if open_required:
        lines.append(f"必須項目 {', '.join(open_required)} の回答が未確定です。確認の結果次第で合否が変わります。")
    return lines


def signoff_rows(facts: DossierFacts) -> list[dict[str, str]]:
    """一次審査・二次審査: the name and date from result.json's `review`, blank to sign by hand when absent."""
    signed = review_rounds(facts.result.get("review"))
    return [
        {"round": name, "reviewer": signed.get(name, {}).get("reviewer", ""), "date": signed.get(name, {}).get("date", "")}
        for name in ROUNDS
    ]


ROUNDS = ("一次審査", "二次審査")
_ROUND_ALIASES = {"first": "一次審査", "second": "二次審査", "一次": "一次審査", "二次": "二次審査"}


def review_rounds(review: Any) -> dict[str, dict[str, str]]:
    """The signed rounds of result.json's `review` block by round name (一次審査, 二次審査).

    Accepts the list shape ``reviews: [{round, reviewer, date}]`` and the mapping shape
    ``signoff: {first: {name, date}, second: …}``; what is not a name or a date is ignored.
    """
    if not isinstance(review, dict):
        return {}
    out: dict[str, dict[str, str]] = {}
    listed = review.get("reviews") or review.get("rounds") or []
    entries: list[tuple[Any, Any]] = []
    if isinstance(listed, list):
        entries += [(r.get("round"), r) for r in listed if isinstance(r, dict)]
    for source in (review.get("signoff"), listed if isinstance(listed, dict) else None):
        if isinstance(source, dict):
            entries += list(source.items())
    for name, entry in entries:
        key = _ROUND_ALIASES.get(str(name), str(name))
        if key in ROUNDS and isinstance(entry, dict):
            who = entry.get("reviewer") or entry.get("name") or ""
            out[key] = {"reviewer": str(who or ""), "date": str(entry.get("date") or "")}
    return out


def flag_totals(facts: DossierFacts) -> dict[str, int]:
    sev_count = Counter(str(f.get("severity")) for f in facts.flags)
    return {
        "error": sev_count.get("error", 0),
        "warning": sev_count.get("warning", 0),
        "info": sev_count.get("info", 0),
        "total": len(facts.flags),
    }


REVIEWED = "審査者確認"  # the status word of a cover field the reviewer confirmed or corrected


def applicant_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    """The cover fields in result.json's (the form's) order, with a crop where the reading is unsure."""
    rows = []
    for key, fld in facts.applicant.items():
        if fld is None:
            continue
        status = str(fld.get("status") or "")
        show_crop = status not in ("missing",)  # every field beside its reading, so a wrong 読取済 shows
        confirmed = bool(fld.get("overridden"))  # the reviewer's value (review.yaml fields:), the machine's in 審査者による訂正
        rows.append(
            {
                "label": facts.words.field_label(key),
                "value": str(fld.get("value") if fld.get("value") is not None else "（空欄）" if status == "empty" else ""),
                "status": REVIEWED if confirmed else FIELD_STATUS.get(status, status),
                "bad": not confirmed and status in ("uncertain", "handwritten", "empty", "missing"),
                "where": facts.where([fld["page"]]) if fld.get("page") else "",
                "image": crop_at(facts.out_dir, fld.get("crop"), CROP_FIELD_MM) if show_crop else "",
            }
        )
    return rows


def declaration_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    """The declarations in result.json's (the form's) order: the answer, checked follow-ups and flags."""
    words = facts.words
    rows = []
    for key, d in facts.declarations.items():
        if d is None:
            continue
        ans = str(d.get("answer") or "blank")
        subs = [
            words.option(m["option"])
            for m in d.get("marks") or []
            if m.get("state") == "checked" and m.get("option") in words.noted_options
        ]
        notes = [FLAG.get(f["code"], f["code"]) + "：" + str(f.get("message") or "") for f in facts.flags_by_item.get(key, [])]
        rows.append(
            {
                "title": words.declaration(key),
                "answer": words.option(str(d.get("choice"))) if ans == "yes" and d.get("choice") else ANSWER.get(ans, ans),
                "bad": ans != "yes",
                "note": " ／ ".join(subs + notes),
            }
        )
    return rows


def flag_count_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    """One row per flag code and severity, most severe first: how many, and for which items.

    A code raised at two severities (an error on one item, a warning on another) gives two
    rows, so the rows of each severity add up to the totals above them.
    """
    by_code: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for fl in facts.flags:
        by_code.setdefault((str(fl.get("code")), str(fl.get("severity"))), []).append(fl)
    rows = []
    for (code, sev), group in sorted(by_code.items(), key=lambda kv: (SEVERITY_ORDER.get(kv[0][1], 3), kv[0][0])):
        ids = sorted({str(f["item"]) for f in group if f.get("item")}, key=id_key)
        ids = [facts.words.declaration(i) if i in facts.declarations else i for i in ids]  # a declaration by its Japanese title
        rows.append(
            {
                "label": FLAG.get(code, code),
                "severity": SEVERITY.get(sev, sev),
                "is_error": sev == "error",
                "count": len(group),
                "item_ids": short(", ".join(ids), 60) if ids else "（全体）",
            }
        )
    return rows


def source_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    return [
        {
            "file": str(s.get("file")),
            "pages": s.get("pages"),
            "kind": SOURCE_KIND.get(str(s.get("kind")), str(s.get("kind"))),
            "status": "正常" if s.get("status") == "ok" else f"読込不可：{s.get('error') or ''}",
            "bad": s.get("status") != "ok",
        }
        for s in facts.result.get("sources") or []
    ]
