"""Readings → the council's rules: answers, overrides, evidence, points, flags and the decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from pipeline.model.records import Attachment, Evidence, FieldReading, Flag, FormDef, ItemAnswer, MarkReading, PageRef, SourceFile
from pipeline.model.results import SEVERITY_ORDER, Result
from pipeline.rules import answers as answers_mod
from pipeline.rules.evidence import MISSING_CODE, Documents, item_evidence, wanting_documents
from pipeline.rules.overrides import AppliedLog, Attribution, apply_answers, apply_evidence, apply_fields, apply_labels, points_overrides
from pipeline.rules.review_check import Corrections
from pipeline.rules.score import decide, score_item, zero_point_flags
from pipeline.rules.signoff import unconfirmed_fields_reason

NO_CORRECTIONS = Corrections()  # the first run: nothing from a reviewer yet


def uncertain_flags(form: FormDef, items: Mapping[str, ItemAnswer], declarations: Mapping[str, ItemAnswer]) -> list[Flag]:
    flags: list[Flag] = []
    for owner, answer in list(items.items()) + list(declarations.items()):
        unsure = [m for m in answer.marks if m.state == "uncertain"]
        if unsure and not answer.overridden:
            where = ", ".join(sorted({m.option for m in unsure}))
            notes = "; ".join(sorted({m.note for m in unsure if m.note}))
            pages = tuple(dict.fromkeys(m.page for m in unsure if m.page))
            message = f"{owner}: 読み取りを確定できない枠があります（{where}）" + (f" — {notes}" if notes else "")  # a box read empty on a bw scan is no illegible mark
            flags.append(Flag("uncertain_mark", "warning", owner, message, pages))
    return flags


def unseen_flags(form: FormDef, answers: Mapping[str, ItemAnswer], found_pages: set[int]) -> list[Flag]:
    """An item or declaration with boxes not read although their page was found: the reviewer looks (a missing page has its own flag)."""
    boxes: dict[str, list[tuple[str, int]]] = {}
    for p in form.pages:
        for b in p.boxes:
            boxes.setdefault(b.owner, []).append((b.option, p.number))
    flags: list[Flag] = []
    for owner, answer in answers.items():
        read = {m.option for m in answer.marks}
        unseen = [(option, page) for option, page in boxes.get(owner, []) if option not in read and page in found_pages]
        if unseen and not answer.overridden:
            where = "、".join(f"{option}（p{page}）" for option, page in unseen)
            flags.append(Flag("uncertain_mark", "warning", owner, f"{owner}: 様式の頁は見つかりましたが、枠 {where} を見つけられませんでした。頁を目視で確認してください"))
    return flags


def declaration_flags(form: FormDef, declarations: Mapping[str, ItemAnswer]) -> list[Flag]:
    flags: list[Flag] = []
    for decl in form.declarations:
        answer = declarations[decl.id]
        if answer.answer == "conflict":
            flags.append(Flag("conflicting_answer", "error", decl.id, f"{decl.title}: 複数の選択肢に印があります"))
        elif answer.answer == "blank":
            flags.append(Flag("missing_choice", "error", decl.id, f"{decl.title}: いずれにも印がありません"))
        elif answer.choice in decl.requires_document:
            option = next(o for o in decl.options if o.key == answer.choice)
            flags.append(
                Flag(
                    "declaration_requires_document",
                    "warning",
                    decl.id,
                    f"{decl.title}: 「{option.text[:40]}…」が選ばれています。関係書類の提出を確認してください",
                )
            )
    return flags


def attachment_flags(attachments: Sequence[Attachment], document_items: set[str]) -> list[Flag]:
    flags: list[Flag] = []
    for att in attachments:
        first = att.pages[:1]
        if att.label_status == "missing":
            flags.append(Flag("unlabeled_attachment", "warning", None, f"{att.id}: 右肩にラベルが読み取れません（{_where(att)}）", first))
        elif att.label_status == "uncertain":
            options = " / ".join(att.candidates) or (att.label_text or "?")
            flags.append(
                Flag("unlabeled_attachment", "warning", None, f"{att.id}: 右肩ラベルが不確か（{options}）（{_where(att)}）", first)
            )
        for label in att.unknown_labels:
            flags.append(
                Flag(
                    "unknown_label",
                    "warning",
                    None,
                    f"{att.id}: 右肩ラベル「{label}」は書類を求める項目ではありません（{_where(att)}）",
                    first,
                )
            )
        for label in att.labels:
            if label not in document_items:
                flags.append(
                    Flag("unknown_label", "warning", label, f"{att.id}: 「{label}」は書類を求めない項目です（{_where(att)}）", first)
                )
    return flags


def evidence_for_no_answer_flags(form: FormDef, items: Mapping[str, ItemAnswer], docs: Documents) -> list[Flag]:
    """`evidence_for_no_answer`: a document filed under an item answered いいえ (the answer or the label is wrong)."""
    flags: list[Flag] = []
    for item in form.items:
        filed = docs.by_item.get(item.id, ())
        if filed and items[item.id].answer == "no":
            message = (
                f"{item.id}: 「いいえ」と回答されていますが、右肩「{item.id}」の添付書類（{'、'.join(filed)}）があります。"
                "回答か右肩ラベルのどちらかが誤っていないか確認してください"
            )
            flags.append(Flag("evidence_for_no_answer", "warning", item.id, message))
    return flags


def merge_flags(flags: Sequence[Flag]) -> tuple[Flag, ...]:
    """One flag per (code, item): messages joined, pages gathered, the worst severity kept."""
    merged: dict[tuple[str, str | None], Flag] = {}
    for flag in flags:
        key = (flag.code, flag.item)
        if key not in merged:
            merged[key] = flag
            continue
        old = merged[key]
        severity = min(old.severity, flag.severity, key=SEVERITY_ORDER.__getitem__)
        message = old.message if flag.message in old.message else f"{old.message}; {flag.message}"
        pages = old.pages + tuple(p for p in flag.pages if p not in old.pages)
        merged[key] = Flag(flag.code, severity, flag.item, message, pages)
    return tuple(merged.values())


def _where(att: Attachment) -> str:
    if not att.pages:
        return "頁なし"
    first = att.pages[0]
    return f"{first.file} p{first.page}" + (f"–{att.pages[-1].page}" if len(att.pages) > 1 and att.pages[-1].file == first.file else "")


def apply_rules(
    form: FormDef,
    *,
    submission: str,
    sources: tuple[SourceFile, ...],
    marks: Sequence[MarkReading],
    fields: Sequence[FieldReading],
    attachments: Sequence[Attachment],
    dropped_pages: tuple[PageRef, ...],
    reading_flags: Sequence[Flag],
    form_pages: Mapping[int, PageRef],
    corrections: Corrections = NO_CORRECTIONS,
    attribution: Attribution | None = None,
    version: str,
) -> Result:
    """Every rule of the form applied to what was read, with the reviewer's checked corrections (attributed)."""
    log = AppliedLog(attribution or Attribution.of(corrections))
    items, declarations = answers_mod.answer_all(form, marks)
    items, declarations = apply_answers(form, corrections, items, declarations, log)
    attachments = apply_labels(list(attachments), corrections, log)
    points_override = points_overrides(corrections)

    docs = Documents.from_attachments(attachments, {i.id for i in form.items}, wanting_documents(form.items, items), {p for f in reading_flags if f.code == "missing_form_page" for p in f.pages})
    field_by_name = answers_mod.index_fields(fields)
    found_pages = set(form_pages)
    missing_page_items = {i for p in form.pages if p.number not in found_pages for i in p.item_ids}
    flags: list[Flag] = list(reading_flags)
    evidence, scores = {}, {}
    item_flags: dict[str, list[str]] = {}
    for item in form.items:
        page_missing = item.id in missing_page_items
        ev, ev_flags = item_evidence(item, items[item.id], field_by_name, docs, page_missing)
        ev = apply_evidence(item.id, ev, corrections, log)
        if item.id in corrections.items and corrections.items[item.id].evidence:
            ev_flags = [f for f in ev_flags if f.code not in _settled_codes(ev)]
        scoring = {"page_missing": page_missing, "could_be_unlabeled": bool(docs.unlabeled or docs.uncertain_by_item)}
        s, s_flags = score_item(item, items[item.id], ev, **scoring, override_points=points_override.get(item.id))
        if item.id in points_override:  # the machine's reading, for the record: its score without the reviewer's
            machine = score_item(item, items[item.id], ev, **scoring, override_points=None)[0]
            log.add(f"items.{item.id}.points", points_override[item.id], machine.points)
        evidence[item.id], scores[item.id] = ev, s
        flags += ev_flags + s_flags
    flags += zero_point_flags(form, scores)
    flags += uncertain_flags(form, items, declarations)
    flags += unseen_flags(form, {**items, **declarations}, set(form_pages))
    flags += declaration_flags(form, declarations)
    flags += attachment_flags(attachments, {it.id for it in form.items if it.needs_document})
    flags += evidence_for_no_answer_flags(form, items, docs)
    merged = merge_flags(flags)
    for f in merged:
        if f.item in scores:
            item_flags.setdefault(f.item, []).append(f.code)
    score = decide(form, scores, merged)
    applicant = {f.key: _field_or_missing(field_by_name, f"applicant.{f.key}") for f in form.cover_fields}
    # Everything that is neither an item's blank nor a cover field: the closing contact blocks,
    # the cover's seal and date (their names come from the layout, not from here).
    cover_names = {f"applicant.{f.key}" for f in form.cover_fields}
    others = {f.name: f for f in field_by_name.values() if f.owner not in scores and f.name not in cover_names}
    applicant, others = apply_fields(form, corrections, applicant, others, log)
    if score.decision == "pass" and (why := unconfirmed_fields_reason(form, applicant, corrections)):
        score = replace(score, reasons=(*score.reasons, why))  # a pass, but its certificate waits for the reviewer
    return Result(
        submission=submission,
        form=form,
        sources=sources,
        applicant=applicant,
        other_fields=others,
        declarations=declarations,
        answers=items,
        evidence=evidence,
        item_scores=scores,
        item_flags={k: tuple(v) for k, v in item_flags.items()},
        attachments=tuple(attachments),
        dropped_pages=dropped_pages,
        flags=merged,
        score=score,
        overrides=tuple(log.entries),
        form_pages=dict(form_pages),
        pipeline_version=version,
    )


def _settled_codes(evidence: Sequence[Evidence]) -> set[str]:
    return {MISSING_CODE[ev.kind] for ev in evidence if ev.status in ("present", "not_required")}


def _field_or_missing(fields: Mapping[str, FieldReading], name: str) -> FieldReading:
    return fields.get(name) or FieldReading(name, "applicant", "text", None, "missing", None, None, None)
