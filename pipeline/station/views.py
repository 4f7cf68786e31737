"""What the station's pages show, built from outbox/<name>/result.json and review.yaml as they are on disk."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.model.records import FormDef, Item
from pipeline.rules.review_fields import confirmable_fields

DECISIONS_JA = {"pass": "合格", "fail": "不合格", "needs_review": "要確認", "review_error": "訂正ファイルに問題", "error": "処理エラー"}
ANSWERS_JA = {"yes": "はい", "no": "いいえ", "blank": "未回答", "uncertain": "判読不確実", "conflict": "両方に印"}
STATES_JA = {"checked": "印あり", "empty": "印なし", "uncertain": "不確実"}
EVIDENCE_JA = {"signature": "署名", "seal": "印", "text": "記入欄", "url_path": "URL", "document": "添付書類"}
EVIDENCE_STATUS_JA = {"present": "あり", "missing": "なし", "uncertain": "不確実", "not_required": "不要"}
FIELD_STATUS_JA = {
    "read": "読取済",
    "uncertain": "不確実",
    "handwritten": "手書き",
    "empty": "空欄",
    "missing": "なし",
    "not_located": "位置不明",
}
FLAG_JA = {
    "missing_document": "添付書類なし",
    "unlabeled_attachment": "ラベルなしの添付",
    "unknown_label": "不明なラベル",
    "missing_signature": "署名なし",
    "missing_seal": "印なし",
    "missing_url_path": "URLなし",
    "missing_text": "記入なし",
    "missing_choice": "選択なし",
    "required_not_met": "必須未達",
    "uncertain_mark": "不確実な印",
    "conflicting_answer": "両方に印",
}
# The review rounds of the form's office box: review.yaml's signoff key -> the form's word.
ROUNDS = {"first": "一次審査", "second": "二次審査"}


def submission_names(outbox: Path) -> list[str]:
    """The outbox's submissions: real folders (not links) holding a result.json, by name."""
    names = []
    try:
        entries = list(os.scandir(outbox))
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        if os.path.isfile(os.path.join(entry.path, "result.json")):
            names.append(entry.name)
    return sorted(names)


def load_result(out_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class Signoff:
    reviewer: str | None
    rounds: dict[str, tuple[str, str]]  # first/second -> (name, date)

    @property
    def state_ja(self) -> str:
        done = [ROUNDS[r] for r in ROUNDS if r in self.rounds]
        return "・".join(done) + " 済" if done else "未署名"


def read_signoff(text: str) -> Signoff:
    """reviewer and reviews from review.yaml, read leniently for display only (the run checks strictly)."""
    import yaml  # PyYAML's safe loader: display only, never the decision

    try:
        # libyaml's safe loader when present (the batch page reads 300 of these): 10x PyYAML's
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if text.strip() else None
    except yaml.YAMLError:
        return Signoff(None, {})
    if not isinstance(data, dict):
        return Signoff(None, {})
    rounds: dict[str, tuple[str, str]] = {}
    words = {v: k for k, v in ROUNDS.items()}
    for section in ("signoff", "reviews"):
        signed_all = data.get(section)
        for name, signed in signed_all.items() if isinstance(signed_all, dict) else ():
            key = words.get(str(name), str(name))
            who = signed.get("name") or signed.get("reviewer") if isinstance(signed, dict) else None
            if key in ROUNDS and who:
                rounds[key] = (str(who), str(signed.get("date") or ""))
    reviewer = data.get("reviewer")
    return Signoff(str(reviewer) if reviewer else None, rounds)


@dataclass(frozen=True, slots=True)
class BatchRow:
    name: str
    company: str
    decision: str
    decision_ja: str
    required: str
    points: str
    points_low: int
    waiting: int
    waiting_kinds: str
    reviewer: str
    signoff: str
    dossier: bool
    certificate: bool


def batch_row(out_dir: Path, form_items: dict[str, Item], labels: dict[str, str]) -> BatchRow:
    data = load_result(out_dir) or {}
    score = data.get("score") or {}
    decision = str(score.get("decision") or "error")
    queue = list(queue_entries(data, form_items, labels))
    kinds: dict[str, int] = {}
    for entry in queue:
        kinds[entry.kind_ja] = kinds.get(entry.kind_ja, 0) + 1
    low, high = (score.get("points_range") or [score.get("points"), score.get("points")])[:2]
    try:
        review_text = (out_dir / "review.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        review_text = ""
    signoff = read_signoff(review_text)
    company = ((data.get("applicant") or {}).get("company_name") or {}).get("value") or ""
    return BatchRow(
        name=out_dir.name,
        company=str(company),
        decision=decision,
        decision_ja=DECISIONS_JA.get(decision, decision),
        required=f"{score.get('required_met', '?')}/{score.get('required_total', '?')}",
        points=f"{low}" if low == high else f"{low}〜{high}",
        points_low=int(low) if isinstance(low, int) else -1,
        waiting=len(queue),
        waiting_kinds="、".join(f"{k} {n}" for k, n in kinds.items()),
        reviewer=signoff.reviewer or "",
        signoff=signoff.state_ja,
        dossier=(out_dir / "dossier.pdf").is_file(),
        certificate=(out_dir / "certificate.pdf").is_file(),
    )


class BatchIndex:
    """The batch page's rows, each recomputed only when its result.json or review.yaml changed."""

    def __init__(self, outbox: Path, form: FormDef) -> None:
        self.outbox = outbox
        self.items = {it.id: it for it in form.items}
        self.labels = field_labels(form)
        self._rows: dict[str, tuple[tuple[int, ...], BatchRow]] = {}
        self._lock = threading.Lock()

    def warm(self) -> threading.Thread:
        """Read every row once in the background (at start): reading 300 result.json takes seconds, a cached row nothing."""
        thread = threading.Thread(target=self.rows, name="station-warm", daemon=True)
        thread.start()
        return thread

    def rows(self) -> list[BatchRow]:
        out = []
        for name in submission_names(self.outbox):
            out_dir = self.outbox / name
            stamp = _stamp(out_dir / "result.json") + _stamp(out_dir / "review.yaml") + _stamp(out_dir / "certificate.pdf")
            with self._lock:
                cached = self._rows.get(name)
            if cached is None or cached[0] != stamp:
                row = batch_row(out_dir, self.items, self.labels)
                with self._lock:
                    self._rows[name] = (stamp, row)
            else:
                row = cached[1]
            out.append(row)
        return out


def _stamp(path: Path) -> tuple[int, ...]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


# --- the queue: what needs eyes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One thing for the reviewer: what it is, the machine's reading, its crops, and the control to correct it."""

    kind: str  # mark, score, evidence, field, attachment, document
    kind_ja: str
    owner: str
    title: str
    reading: str
    crops: tuple[str, ...] = ()
    control: str | None = None  # the form field name the correction posts, e.g. item:7-1-1:points
    choices: tuple[Choice, ...] = ()
    confirm: str | None = None  # the value that confirms the machine's reading
    note: str = ""
    form_page: int | None = None  # where its box is drawn on the page images


def answer_choices(item: Item | None) -> tuple[Choice, ...]:
    return tuple(Choice(v, ANSWERS_JA[v]) for v in ("yes", "no", "blank")) if item is None or not item.choices else ()


def field_labels(form: FormDef) -> dict[str, str]:
    """The printed label of every cover and contact field, by result.json's key (`applicant.company_name`)."""
    labels = {f"applicant.{f.key}": f"表紙 {f.label}" for f in form.cover_fields}
    for name, place in confirmable_fields(form).items():  # the cover's other places (the date line), in `contacts`
        if not place.cover:
            labels[name] = labels[f"contacts.{name}"] = f"表紙 {place.label}"
    for contact in form.texts.contacts:
        for f in contact.fields:
            labels[f"contacts.{contact.id}.{f.key}"] = f"{contact.title or contact.id} {f.label}"
    return labels


def queue_entries(data: dict[str, Any], items: dict[str, Item], labels: dict[str, str] | None = None) -> Iterator[QueueEntry]:
    """Everything waiting for the reviewer in one result.json, in the order a reviewer works.

    A seal or signature place read as ink (`handwritten`) is what it should be: not queued.
    """
    at = {
        (str((e.get("page") or {}).get("file")), int((e.get("page") or {}).get("page") or 0)): int(e.get("form_page") or 0)
        for e in data.get("page_images") or []
    }
    corrected = corrected_owners(data)
    for item_id, rec in (data.get("items") or {}).items():
        yield from _item_entries(item_id, rec, items.get(item_id), at, item_id in corrected)
    for decl_id, rec in (data.get("declarations") or {}).items():
        marks = rec.get("marks") or []
        if rec.get("answer") in ("uncertain", "conflict") or (
            decl_id not in corrected and any(m.get("state") == "uncertain" for m in marks)
        ):
            yield QueueEntry("mark", "不確実な印", decl_id, "申告", _mark_reading(rec), _crops(marks), f"decl:{decl_id}:choice", note=_why(marks))
    for section in ("applicant", "contacts"):
        for key, fld in (data.get(section) or {}).items():
            place = key.rsplit(".", 1)[-1] in ("seal", "signature")
            if isinstance(fld, dict) and fld.get("status") in ("uncertain", "not_located", *(() if place else ("handwritten",))):
                reading = f"{fld.get('value') or '（読めず）'}（{FIELD_STATUS_JA.get(str(fld.get('status')), fld.get('status'))}）"
                crops = (str(fld["crop"]),) if fld.get("crop") else ()
                title = (labels or {}).get(f"{section}.{key}", key)
                name = cover_name(section, key)
                why = f"{fld['note']} " if fld.get("note") else ""  # the reader's reason first (a bw scan may have erased it)
                if name is None or place:
                    note = why + "この記入欄は review.yaml では訂正できません: 読み取りを目で確かめてください"
                    yield QueueEntry("field", "記入欄の確認", f"{section}.{key}", title, reading, crops, note=note)
                    continue
                control = "field:" + name.replace(".", ":")
                confirm = str(fld.get("value")) if fld.get("value") else None
                note = why + "原本どおりの値を書いてください（空欄なら「空欄」）。保存すると review.yaml の fields に書かれます"
                yield QueueEntry("field", "表紙の欄の確認", name, title, reading, crops, control, confirm=confirm, note=note)
    for flag in data.get("flags") or []:
        code = flag.get("code")
        if code in ("unlabeled_attachment", "unknown_label"):
            att = str(flag.get("message", "")).split(":", 1)[0]
            yield QueueEntry(
                "attachment",
                FLAG_JA[code],
                att,
                "添付書類",
                str(flag.get("message", "")),
                control=f"att:{att}:labels",
                note="下の「添付書類」で右肩ラベルを付け直せます",
            )
        elif code == "missing_document":
            yield QueueEntry(
                "document",
                FLAG_JA[code],
                str(flag.get("item")),
                "添付書類",
                str(flag.get("message", "")),
                note="ラベルのない添付があれば、下の「添付書類」でこの項目に付けてください",
            )


def cover_name(section: str, key: str) -> str | None:
    """The review.yaml `fields:` name of a result.json field (applicant.tel), or None when it is not the cover's."""
    if section == "applicant":
        return f"applicant.{key}"
    return key if section == "contacts" and key.startswith("applicant.") else None


def cover_rows(data: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every cover field of result.json (`applicant`, and the cover's date line): the value, how it was read, who confirmed it."""
    rows = []
    fields = [(f"applicant.{k}", v) for k, v in (data.get("applicant") or {}).items()]
    fields += [(k, v) for k, v in (data.get("contacts") or {}).items() if k.startswith("applicant.")]
    for name, fld in fields:
        if not isinstance(fld, dict) or name.rsplit(".", 1)[-1] in ("seal", "signature"):
            continue
        reviewed = fld.get("reviewed") if isinstance(fld.get("reviewed"), dict) else None
        status = FIELD_STATUS_JA.get(str(fld.get("status")), str(fld.get("status")))
        if reviewed:
            read = reviewed.get("read_value") or "（読めず）"
            status = f"審査者確認（{reviewed.get('reviewer') or '氏名なし'}、{reviewed.get('date') or ''}）— 読取: {read}"
        rows.append(
            {
                "name": name,
                "control": "field:" + name.replace(".", ":"),
                "label": labels.get(name, name).removeprefix("表紙 ") if name in labels else name.split(".", 1)[1],
                "value": str(fld.get("value") or ("（空欄）" if fld.get("status") == "empty" else "")),
                "status": status,
                "unsure": not reviewed and fld.get("status") != "read",
                "crop": fld.get("crop"),
            }
        )
    return rows


def corrected_owners(data: dict[str, Any]) -> set[str]:
    """Items and declarations whose answer or choice a review.yaml correction set (their marks stay as read)."""
    owners = set()
    for o in data.get("overrides") or []:
        parts = str(o.get("target", "")).split(".")
        if o.get("applied") and len(parts) >= 3 and parts[2] in ("answer", "choice"):
            owners.add(parts[1])
    return owners


def _item_entries(
    item_id: str, rec: dict[str, Any], item: Item | None, at: dict[tuple[str, int], int], corrected: bool
) -> Iterator[QueueEntry]:
    title = item.title if item else ""
    marks = rec.get("marks") or []
    refs = [m.get("page") or {} for m in marks]
    form_page = next((at[k] for r in refs if (k := (str(r.get("file")), int(r.get("page") or 0))) in at), None)
    if rec.get("answer") in ("uncertain", "conflict") or (not corrected and any(m.get("state") == "uncertain" for m in marks)):
        control = f"item:{item_id}:choice" if item is not None and item.choices and rec.get("answer") == "yes" else f"item:{item_id}:answer"
        choices = tuple(Choice(c.key, c.text) for c in item.choices) if control.endswith("choice") and item else answer_choices(item)
        confirm = rec.get("answer") if rec.get("answer") in ("yes", "no") else None
        yield QueueEntry(
            "mark", "不確実な印", item_id, title, _mark_reading(rec), _crops(marks), control, choices, confirm, note=_why(marks), form_page=form_page
        )
    if rec.get("scoring") == "reviewer" and rec.get("points") is None and rec.get("answer") == "yes":
        top = int(rec.get("points_max") or 0)
        choices = tuple(Choice(str(p), f"{p} 点") for p in range(top, -1, -1))
        yield QueueEntry(
            "score", "審査者の採点", item_id, title, f"未採点（0〜{top} 点）", control=f"item:{item_id}:points", choices=choices
        )
    for ev in rec.get("evidence") or []:
        kind = ev.get("kind")
        if kind in ("signature", "seal", "url_path") and ev.get("status") not in ("present", "not_required"):
            crops = (str(ev["crop"]),) if ev.get("crop") else ()
            choices = (Choice("present", "あり"), Choice("missing", "なし"))
            reading = f"{EVIDENCE_JA[kind]}: {EVIDENCE_STATUS_JA.get(str(ev.get('status')), ev.get('status'))}"
            yield QueueEntry(
                "evidence",
                f"{EVIDENCE_JA[kind]}の確認",
                item_id,
                title,
                reading,
                crops,
                f"item:{item_id}:evidence:{kind}",
                choices,
                "missing" if ev.get("status") == "missing" else None,  # an uncertain reading has nothing to confirm
            )


def _mark_reading(rec: dict[str, Any]) -> str:
    marks = "、".join(f"{m.get('option')}={STATES_JA.get(str(m.get('state')), m.get('state'))}" for m in rec.get("marks") or [])
    answer = ANSWERS_JA.get(str(rec.get("answer")), str(rec.get("answer")))
    return f"読取: {answer}" + (f"（選択: {rec['choice']}）" if rec.get("choice") else "") + (f" — {marks}" if marks else "")


def _why(marks: list[dict[str, Any]]) -> str:
    """The readers' reasons for the marks they were unsure of, each once (the reviewer sees why before looking)."""
    return " ".join(dict.fromkeys(str(m["note"]) for m in marks if m.get("note") and m.get("state") == "uncertain"))


def _crops(marks: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(m["crop"]) for m in marks if m.get("crop")))


# --- the answer-sheet pages with their boxes ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Box:
    """A box or place drawn over a page image, in percent of the page (origin top left)."""

    left: float
    top: float
    width: float
    height: float
    state: str  # checked, empty, uncertain, field, place
    label: str
    control: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class PageView:
    form_page: int
    image: str
    source: str
    boxes: list[Box] = field(default_factory=list)


def page_views(data: dict[str, Any], items: dict[str, Item], form: FormDef) -> list[PageView]:
    """The form pages (result.json's page_images) with every mark, field and place on them."""
    views: dict[tuple[str, int], tuple[PageView, float, float]] = {}
    for entry in data.get("page_images") or []:
        ref = entry.get("page") or {}
        view = PageView(int(entry.get("form_page") or 0), str(entry.get("image")), f"{ref.get('file')} p{ref.get('page')}")
        views[(str(ref.get("file")), int(ref.get("page") or 0))] = (
            view,
            float(entry.get("width_pt") or 1),
            float(entry.get("height_pt") or 1),
        )
    roles: dict[tuple[str, str], str] = {(d.id, o.key): str(o.role) for d in form.declarations for o in d.options}
    for section in ("items", "declarations"):
        for owner, rec in (data.get(section) or {}).items():
            for mark in rec.get("marks") or []:
                control, value = _box_control(section, owner, str(mark.get("option")), items.get(owner), roles)
                state = str(mark.get("state"))
                label = f"{owner} {mark.get('option')}: {STATES_JA.get(state, state)}"
                _place(views, mark.get("page"), mark.get("bbox"), state, label, control, value)
            for ev in rec.get("evidence") or []:
                if ev.get("bbox") and ev.get("file"):
                    status = EVIDENCE_STATUS_JA.get(str(ev.get("status")), str(ev.get("status")))
                    label = f"{owner} {EVIDENCE_JA.get(str(ev.get('kind')), ev.get('kind'))}: {status}"
                    _place(views, {"file": ev["file"], "page": ev.get("page")}, ev["bbox"], "place", label)
    for section in ("applicant", "contacts"):
        for key, fld in (data.get(section) or {}).items():
            if isinstance(fld, dict):
                label = f"{key}: {fld.get('value') or ''}（{FIELD_STATUS_JA.get(str(fld.get('status')), fld.get('status'))}）"
                _place(views, fld.get("page"), fld.get("bbox"), "field", label)
    return [v for v, _, _ in sorted(views.values(), key=lambda t: t[0].form_page)]


def _box_control(
    section: str, owner: str, option: str, item: Item | None, roles: dict[tuple[str, str], str]
) -> tuple[str | None, str | None]:
    """Which correction a click on this box makes: the answer it stands for, or the choice."""
    if section == "declarations":
        return (f"decl:{owner}:choice", option) if roles.get((owner, option)) == "main" else (None, None)
    if option in ("yes", "no"):
        return f"item:{owner}:answer", option
    if item is not None and any(c.key == option for c in item.choices):
        return f"item:{owner}:choice", option
    return None, None


def _place(
    views: dict[tuple[str, int], tuple[PageView, float, float]],
    ref: Any,
    bbox: Any,
    state: str,
    label: str,
    control: str | None = None,
    value: str | None = None,
) -> None:
    if not isinstance(ref, dict) or not (isinstance(bbox, list) and len(bbox) == 4):
        return
    found = views.get((str(ref.get("file")), int(ref.get("page") or 0)))
    if found is None:
        return
    view, w, h = found
    x0, y0, x1, y1 = (float(v) for v in bbox)
    view.boxes.append(Box(100 * x0 / w, 100 * y0 / h, 100 * (x1 - x0) / w, 100 * (y1 - y0) / h, state, label, control, value))


# --- the decision at the top ----------------------------------------------------------------------


def decision_summary(data: dict[str, Any], form: FormDef) -> tuple[str, str]:
    """The decision in Japanese, and whether it can still change (in words)."""
    score = data.get("score") or {}
    decision = str(score.get("decision") or "error")
    low, high = (score.get("points_range") or [score.get("points"), score.get("points")])[:2]
    threshold = score.get("threshold", form.rule.threshold)
    required_ok = score.get("required_met") == score.get("required_total")
    if decision == "pass":
        change = "合格です。訂正を保存すると判定をやり直します。"
    elif not required_ok and decision == "fail" and not _unresolved(data):
        change = "必須項目を満たしていないため、訂正がない限り不合格のままです。"
    elif isinstance(low, int) and isinstance(high, int) and isinstance(threshold, int):
        if high < threshold:
            change = f"最高でも {high} 点で合格点 {threshold} 点に届きません。"
        elif low >= threshold:
            change = f"最低でも {low} 点で合格点 {threshold} 点を超えています。"
            unsure = [i for i, rec in (data.get("items") or {}).items() if rec.get("answer") in ("uncertain", "conflict")]
            change += f"未確定の項目（{'・'.join(unsure)}）を確かめ、" if unsure else "残りを確かめて"
            change += "採点と署名をすれば合格にできます。"
        else:
            change = f"得点は {low}〜{high} 点、合格点は {threshold} 点: 審査者の確認で判定が変わります。"
    else:
        change = ""
    return DECISIONS_JA.get(decision, decision), change


def _unresolved(data: dict[str, Any]) -> bool:
    return any(rec.get("answer") in ("uncertain", "conflict") for rec in (data.get("items") or {}).values())


def attachment_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for att in data.get("attachments") or []:
        pages = att.get("pages") or []
        where = "、".join(f"{p.get('file')} p{p.get('page')}" for p in pages[:4]) + (" …" if len(pages) > 4 else "")
        rows.append(
            {
                "id": str(att.get("id")),
                "labels": "・".join(att.get("labels") or []) or "（なし）",
                "label_text": str(att.get("label_text") or ""),
                "status": FIELD_STATUS_JA.get(str(att.get("label_status")), str(att.get("label_status") or "")),
                "where": where,
                "crop": att.get("crop"),
            }
        )
    return rows
