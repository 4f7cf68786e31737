"""Answers + evidence + pass rule → points per item, Score, decision and reasons.

Every item carries a range: the points (and 必須 status) it surely has, and what it could
have once a reviewer settles what is unsure. The decision is `fail` only when even the best
case fails, `pass` only when the worst case passes and nothing stands in the way, and
`needs_review` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.model.records import Evidence, Flag, FormDef, Item, ItemAnswer, Score
from pipeline.model.results import ItemScore
from pipeline.model.words import flag_word
from pipeline.rules.evidence import url_in_doubt

# Flag codes that stand between the data and a decision even when their severity is a warning.
BLOCKING_CODES = {"uncertain_mark"}


def _evidence_state(evidence: Sequence[Evidence], could_be_unlabeled: bool, url_unsure: bool) -> str:
    """present, uncertain or missing for the item's evidence as a whole (`url_unsure`: evidence.url_in_doubt).

    A missing document is not yet missing while an unlabelled attachment could be it, or, where
    a URL path would do instead, while that path's place is in doubt.
    """
    statuses = [ev.status for ev in evidence if ev.status != "not_required"]
    if "missing" in statuses:
        doc_only = all(ev.kind == "document" for ev in evidence if ev.status == "missing")
        return "uncertain" if doc_only and (could_be_unlabeled or url_unsure) else "missing"
    if "uncertain" in statuses:
        return "uncertain"
    return "present"


def _choice_points(item: Item, answer: ItemAnswer) -> tuple[int, int, str | None]:
    """(low, high, problem) for a choice item answered yes (its points count once its evidence is present)."""
    points = {c.key: int(c.points or 0) for c in item.choices}
    states = {m.option: m.state for m in answer.marks}
    checked = [k for k in points if states.get(k) == "checked"]
    unsure = [k for k in points if states.get(k, "uncertain") == "uncertain"]  # a bracket not read at all is unsure too
    if answer.choice is not None:
        return points[answer.choice], points[answer.choice], None
    if len(checked) > 1:
        values = [points[k] for k in checked]
        return min(values), max(values), "conflict"
    if unsure:
        values = [points[k] for k in unsure + checked]
        return 0 if not checked else min(values), max(values), "uncertain"
    return 0, 0, "missing"


def score_item(
    item: Item,
    answer: ItemAnswer,
    evidence: Sequence[Evidence],
    *,
    page_missing: bool,
    could_be_unlabeled: bool,
    override_points: int | None,
) -> tuple[ItemScore, list[Flag]]:
    flags: list[Flag] = []
    top = item.points_max
    unresolved = ItemScore(points=None if item.scoring == "reviewer" else 0, low=0, high=top, met_low=False, met_high=True, pending=False)
    if override_points is not None:
        value = max(0, min(int(override_points), top))
        met = answer.answer == "yes"
        return ItemScore(points=value, low=value, high=value, met_low=met, met_high=met, pending=False), flags

    if answer.answer in ("conflict", "uncertain") or (answer.answer == "blank" and page_missing):
        if answer.answer == "conflict":
            flags.append(Flag("conflicting_answer", "error", item.id, f"{item.id}: 「はい」と「いいえ」の両方に印があります"))
        return unresolved, flags
    if answer.answer in ("no", "blank"):
        none = ItemScore(points=0, low=0, high=0, met_low=False, met_high=False, pending=False)
        said = "「いいえ」" if answer.answer == "no" else "無回答"
        if item.required:
            flags.append(Flag("required_not_met", "error", item.id, f"{item.id}（必須）: {said}のため要件を満たしません"))
        return none, flags

    # The brackets are said whatever the evidence: two ○ read while a signature is in doubt
    # would otherwise go unsaid until the signature is settled (seed 86500-02 3-1-7).
    low, high, problem = _choice_points(item, answer) if item.scoring == "choice" else (top, top, None)
    if problem == "missing":
        flags.append(Flag("missing_choice", "warning", item.id, f"{item.id}: 選択肢（{'・'.join(c.text for c in item.choices)}）のいずれにも○がありません"))
    elif problem == "conflict":
        flags.append(Flag("conflicting_answer", "error", item.id, f"{item.id}: 選択肢に複数の○があります"))
    state = _evidence_state(evidence, could_be_unlabeled, url_in_doubt(item, evidence))
    if state == "missing":
        return ItemScore(points=0, low=0, high=0, met_low=False, met_high=False, pending=False), flags
    if state == "uncertain":
        return unresolved, flags
    if item.scoring == "reviewer":
        return ItemScore(points=None, low=0, high=top, met_low=True, met_high=True, pending=True), flags
    if item.scoring == "choice":
        return ItemScore(points=low, low=low, high=high, met_low=True, met_high=True, pending=False), flags
    return ItemScore(points=top, low=top, high=top, met_low=True, met_high=True, pending=False), flags


def zero_point_flags(form: FormDef, scores: Mapping[str, ItemScore]) -> list[Flag]:
    return [
        Flag("zero_point_item", "error", item_id, f"{item_id}: 0 点のため不合格となります")
        for item_id in form.rule.fail_at_zero
        if scores[item_id].high == 0
    ]


def _span(ids: Sequence[str]) -> str:
    return "、".join(ids) if len(ids) <= 3 else f"{ids[0]}〜{ids[-1]}（{len(ids)} 項目）"


def _points_reason(form: FormDef, low: int, high: int, pending: Sequence[str], unresolved: Sequence[str]) -> str:
    """得点 104〜119 点／119 点満点（合格点 92 点）…: the points, the pass mark, and what may still change them."""
    rule = form.rule
    points_text = f"{low}" if low == high else f"{low}〜{high}"
    text = f"得点 {points_text} 点／{rule.points_max} 点満点（合格点 {rule.threshold} 点）"
    tail = []
    if pending:
        tail.append(f"審査者の採点待ち: {_span(pending)}")
    if unresolved:
        tail.append(f"未確定: {_span(unresolved)}")
    if low != high and low >= rule.threshold:
        tail.append(f"最低でも {low} 点で合格点 {rule.threshold} 点に達しています")
    return text + "".join(f"。{t}" for t in tail)


def _blocking_reason(blocking: Sequence[Flag]) -> str:
    """解決が必要な指摘 12 件（書類なし 12 件）."""
    counts: dict[str, int] = {}
    for f in blocking:
        counts[f.code] = counts.get(f.code, 0) + 1
    kinds = "、".join(f"{flag_word(code)} {n} 件" for code, n in sorted(counts.items()))
    return f"解決が必要な指摘 {len(blocking)} 件（{kinds}）"


def decide(form: FormDef, scores: Mapping[str, ItemScore], flags: Sequence[Flag]) -> Score:
    """The decision and its reasons from the items' ranges and the flags that block a pass."""
    rule = form.rule
    required = [it.id for it in form.items if it.required]
    met_low = sum(scores[i].met_low for i in required)
    met_high = sum(scores[i].met_high for i in required)
    low = sum(s.low for s in scores.values())
    high = sum(s.high for s in scores.values())
    pending = [i for i, s in scores.items() if s.pending]
    unresolved = [i for i, s in scores.items() if (s.low != s.high or s.met_low != s.met_high) and not s.pending]
    zero = [i for i in rule.fail_at_zero if scores[i].high == 0]
    blocking = [f for f in flags if f.severity == "error" or f.code in BLOCKING_CODES]

    reasons: list[str] = []
    not_met = [i for i in required if not scores[i].met_high]
    if not_met:
        reasons.append(f"必須項目を満たしていません: {'、'.join(not_met)}")
    if high < rule.threshold:
        reasons.append(f"得点は最高でも {high} 点（{rule.points_max} 点満点）で、合格点 {rule.threshold} 点に届きません")
    if zero:
        reasons.append(f"{'、'.join(zero)} が 0 点のため、得点にかかわらず不合格です")
    reasons.append(
        f"必須 {met_low}／{rule.required_total} 項目を満たしています" + (f"（{met_high - met_low} 項目は未確定）" if met_high != met_low else "")
    )
    reasons.append(_points_reason(form, low, high, pending, unresolved))

    if not_met or high < rule.threshold or zero:
        decision = "fail"
    elif met_low == rule.required_total and low >= rule.threshold and not pending and not blocking and not unresolved:
        decision = "pass"
    else:
        decision = "needs_review"
        if blocking:
            reasons.append(_blocking_reason(blocking))
    return Score(
        required_met=met_low,
        required_total=rule.required_total,
        points=low,
        points_max=rule.points_max,
        threshold=rule.threshold,
        decision=decision,  # type: ignore[arg-type]
        reasons=tuple(reasons),
        points_low=low,
        points_high=high,
    )
