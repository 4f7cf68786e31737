"""Answers + fields + attachments + the form's evidence rules → Evidence per item and Flags."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.model.records import Attachment, Evidence, FieldReading, Flag, Item, ItemAnswer, PageRef
from pipeline.model.words import NOT_WRITTEN_NOTES

EMPTY_URL = re.compile(r"^\s*(https?://)?\s*$", re.IGNORECASE)

MISSING_CODE = {
    "document": "missing_document",
    "signature": "missing_signature",
    "seal": "missing_seal",
    "url_path": "missing_url_path",
    "text": "missing_text",
}
KIND_JA = {"document": "添付書類", "signature": "署名", "seal": "押印", "url_path": "URL 経路", "text": "記入欄"}


# An id-shaped run in a label's raw text (after NFKC; any dash between digits): 「7-2-3」 read for a written 7-2-2.
ID_RUN = re.compile(r"(?<![\d])\d{1,2}(?:\s*[-‐‑‒–—―−ーｰ]\s*\d{1,2}){2}(?![\d])")
_DASH = re.compile(r"\s*[-‐‑‒–—―−ーｰ]\s*")


def id_runs(text: str | None) -> tuple[str, ...]:
    """The item-id-shaped runs of a label's raw text, dashes unified: 「【7－2－3】」 → ('7-2-3',)."""
    plain = unicodedata.normalize("NFKC", text or "")
    return tuple(dict.fromkeys(_DASH.sub("-", run) for run in ID_RUN.findall(plain)))


@dataclass(frozen=True, slots=True)
class Documents:
    """Which attachments carry which item's label, and whether any document's label is in doubt."""

    by_item: Mapping[str, tuple[str, ...]]  # item id → attachment ids labelled with it
    uncertain_by_item: Mapping[str, tuple[str, ...]]  # item id → attachments that may be it
    unlabeled: tuple[str, ...]  # attachments without a readable label: could be anything
    # a reading → attachments whose label may be one character off it (an item one misread away may be theirs)
    misread_from: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_attachments(
        cls, attachments: Sequence[Attachment], known: Collection[str] = (), wanting: Collection[str] | None = None, form_like: Collection[PageRef] = ()
    ) -> Documents:
        """The documents by item; `known`: the form's item ids; `wanting`: the items a document may be needed for.

        `form_like`: pages that sit where a missing form page goes (page_order's missing_form_page
        flags): such a page with no label at all is taken for that form page, not for a document
        that could be any item (seed 87160-06 p10, a form page not read as one, made 4 missing
        documents unconfirmed; its flag asks a person to look at it).

        An uncertain label that is none of the known ids (「0-1-1」), or whose raw text only is
        id-shaped (「7-2-3」 read, no candidate), could be any item one character off its reading;
        a raw text with nothing id-shaped (「47--2」) could be any item at all. An uncertain label
        that names an item in `wanting` (answered yes or unsettled, no document read for it) is
        taken as that item's candidate only: the reader's own candidates already hold the
        confusions it saw, and its one-character neighbours would make every nearby missing
        document unconfirmed (seed 87100-06: 7-6-1's document, read uncertain as 7-6-1, kept
        7-6-3's missing document from being said). None: no item is known to want one (as before).
        """
        by_item: dict[str, list[str]] = {}
        uncertain: dict[str, list[str]] = {}
        misread: dict[str, list[str]] = {}
        unlabeled: list[str] = []
        for att in attachments:
            if att.label_status == "read":
                for label in att.labels:
                    by_item.setdefault(label, []).append(att.id)
                for label in att.unknown_labels:  # 「7-9-2」 for a written 7-2-2: a document one misread away may be it (_document)
                    uncertain.setdefault(label, []).append(att.id)
                    misread.setdefault(label, []).append(att.id)
        found = set(by_item)
        for att in attachments:
            if att.label_status == "read":
                continue
            guesses = att.candidates or att.labels
            ours = [g for g in guesses if not known or g in known]
            readings = tuple(dict.fromkeys((*guesses, *id_runs(att.label_text)))) if att.label_status == "uncertain" else ()
            if ours:
                for label in guesses:
                    uncertain.setdefault(label, []).append(att.id)
                if wanting is not None and any(g in wanting and g not in found for g in ours):
                    continue  # that item's candidate: not its neighbours'
                for label in readings:
                    misread.setdefault(label, []).append(att.id)
            elif readings:
                for label in readings:
                    misread.setdefault(label, []).append(att.id)
            elif att.label_status != "missing" or not att.pages or not set(att.pages) <= set(form_like):
                unlabeled.append(att.id)
        return cls(
            by_item={k: tuple(v) for k, v in by_item.items()},
            uncertain_by_item={k: tuple(v) for k, v in uncertain.items()},
            unlabeled=tuple(unlabeled),
            misread_from={k: tuple(v) for k, v in misread.items()},
        )


def wanting_documents(items: Sequence[Item], answers: Mapping[str, ItemAnswer]) -> set[str]:
    """The items that take a document and are answered yes or not settled: those a document may be needed for."""
    return {it.id for it in items if it.needs_document and it.id in answers and answers[it.id].answer in ("yes", "uncertain", "conflict")}


def _field_status(reading: FieldReading | None, page_missing: bool) -> str:
    if reading is None:  # nobody read it: its page is missing, or its reader did not reach it (a moved page)
        return "uncertain"
    if reading.status == "not_located":  # the printing's layout has no place for it: a person looks
        return "uncertain"
    if reading.kind == "url" and reading.note in NOT_WRITTEN_NOTES:
        return "uncertain"  # faint strokes that may be dirt, a line the scanner may have blanked, two pages at odds: a person looks
    if reading.kind == "url" and reading.status in ("uncertain", "handwritten"):
        return "present"  # a path written there is filled in, whatever its reading (shown with its crop)
    if reading.kind in ("text", "url", "date") and reading.status == "read":
        value = reading.value or ""
        if reading.kind == "url" and EMPTY_URL.match(value):
            return "missing"
        return "present" if value.strip() else "missing"
    return {"read": "present", "handwritten": "present", "uncertain": "uncertain"}.get(reading.status, "missing")


def _from_field(kind: str, reading: FieldReading | None, page_missing: bool, text: str | None = None) -> Evidence:
    status = _field_status(reading, page_missing)
    return Evidence(
        kind=kind,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        page=reading.page.page if reading and reading.page else None,
        file=reading.page.file if reading and reading.page else None,
        bbox=reading.bbox if reading else None,
        text=text if text is not None else (reading.value if reading else None),
        crop=reading.crop if reading else None,
    )


def one_misread(a: str, b: str) -> bool:
    """Two label readings one character apart (「2-1-1」 written, 「2-7-1」 read): an uncertain reading of one may be the other."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _document(item: Item, docs: Documents) -> Evidence:
    found = docs.by_item.get(item.id, ())
    if found:
        return Evidence(kind="document", status="present", attachments=found)
    near = tuple(a for label, atts in docs.misread_from.items() if label == item.id or one_misread(label, item.id) for a in atts)
    maybe = tuple(dict.fromkeys(docs.uncertain_by_item.get(item.id, ()) + near + docs.unlabeled))
    if maybe:  # a document whose label is unread or in doubt could be this one: a person decides
        return Evidence(kind="document", status="uncertain", attachments=maybe)
    return Evidence(kind="document", status="missing")


def _url(item: Item, fields: Mapping[str, FieldReading], page_missing: bool) -> Evidence:
    top = fields.get(f"{item.id}.url_top")
    target = fields.get(f"{item.id}.url_target")
    shown = " → ".join(v for v in ((top.value if top else None), (target.value if target else None)) if v)
    return _from_field("url_path", target, page_missing, text=shown or None)


def item_evidence(
    item: Item,
    answer: ItemAnswer,
    fields: Mapping[str, FieldReading],
    docs: Documents,
    page_missing: bool,
) -> tuple[tuple[Evidence, ...], list[Flag]]:
    """The evidence the item needs and what was found; flags when the item is answered yes, or may be.

    An item answered no or blank needs nothing: each kind is listed as not_required, so the
    dossier still shows what would have been asked. An item whose answer is uncertain or in
    conflict keeps what was found, and a document missing for it is said as a warning: staff ask
    the applicant for it if the paper says yes (seed 86400: faint ticks read uncertain hid three
    missing documents).
    """
    wanted: list[Evidence] = []
    for rule in item.evidence:
        if rule == "doc":
            wanted.append(_document(item, docs))
        elif rule == "url":
            wanted.append(_url(item, fields, page_missing))
        elif rule == "doc|url":
            doc, url = _document(item, docs), _url(item, fields, page_missing)
            if doc.status == "present" and url.status != "present":
                url = Evidence(kind="url_path", status="not_required", text=url.text, page=url.page, file=url.file, bbox=url.bbox)
            elif url.status == "present" and doc.status != "present":
                doc = Evidence(kind="document", status="not_required")
            wanted += [doc, url]
        elif rule == "sign":
            wanted.append(_from_field("signature", fields.get(f"{item.id}.signature"), page_missing))
        elif rule == "seal":
            wanted.append(_from_field("seal", fields.get(f"{item.id}.seal"), page_missing))
        elif rule == "text":
            for blank in item.blanks:
                if blank.required:
                    ev = _from_field("text", fields.get(f"{item.id}.{blank.name}"), page_missing)
                    wanted.append(ev)
    if answer.answer in ("uncertain", "conflict"):
        return tuple(wanted), _missing_if_yes(item, wanted) + _unconfirmed(item, wanted, settled=False)
    if answer.answer != "yes":
        return tuple(_not_required(ev) for ev in wanted), []
    return tuple(wanted), _flags(item, wanted, docs) + _unconfirmed(item, wanted) + ([] if page_missing else _unread(item, wanted))


def _unread(item: Item, wanted: Sequence[Evidence]) -> list[Flag]:
    """`unread_field` for a signature, seal, URL or text place on a page that was found but that no reader reached."""
    kinds = [ev.kind for ev in wanted if ev.kind != "document" and ev.status == "uncertain" and ev.page is None and ev.crop is None]
    if not kinds:
        return []
    names = "・".join(dict.fromkeys(KIND_JA[k] if k == "text" else f"{KIND_JA[k]}の欄" for k in kinds))
    return [Flag("unread_field", "warning", item.id, f"{item.id}: {names}を様式の頁の中に見つけられませんでした（記入で位置がずれたかもしれません）。頁を目視で確認してください")]


def _not_required(ev: Evidence) -> Evidence:
    return Evidence(kind=ev.kind, status="not_required", attachments=ev.attachments, page=ev.page, file=ev.file, bbox=ev.bbox, text=ev.text, crop=ev.crop)


def url_in_doubt(item: Item, evidence: Sequence[Evidence]) -> bool:
    """Whether the item takes a document or a URL path and its URL place is in doubt: a written path may yet replace a missing document."""
    return "doc|url" in item.evidence and any(ev.kind == "url_path" and ev.status == "uncertain" for ev in evidence)


def _flags(item: Item, wanted: Sequence[Evidence], docs: Documents) -> list[Flag]:
    severity = "error" if item.required or item.scoring == "reviewer" else "warning"
    flags: list[Flag] = []
    either = "doc|url" in item.evidence
    url_unsure = url_in_doubt(item, wanted)
    for ev in wanted:
        if ev.status != "missing":
            continue
        if url_unsure and ev.kind == "document":
            # The path may be written (its place not found, or its reading in doubt): a written path
            # suffices, so the document is not missing yet (seed 86600-01 4-3-2, a typed path).
            message = f"{item.id}: 右肩「{item.id}」の添付書類はありません。URL 経路の記入を確定できないため、原本で確認してください（記入があれば書類は不要です）"
            flags.append(Flag(code="missing_document_unless_url", severity="warning", item=item.id, message=message))
            continue
        if either:
            # Either one suffices: both are missing here, said once as a missing document.
            if ev.kind == "url_path":
                continue
            message = f"{item.id}: 「はい」ですが、右肩「{item.id}」の添付書類も URL 経路もありません"
        elif ev.kind == "document":
            message = f"{item.id}: 「はい」ですが、右肩「{item.id}」の添付書類がありません"
        else:
            message = f"{item.id}: 「はい」ですが、{KIND_JA[ev.kind]}がありません"
        flags.append(Flag(code=MISSING_CODE[ev.kind], severity=severity, item=item.id, message=message))  # type: ignore[arg-type]
    return flags


def _missing_if_yes(item: Item, wanted: Sequence[Evidence]) -> list[Flag]:
    """missing_document_if_yes (warning) for an item whose answer is not settled: no document (nor URL, where either does) is there for it.

    Its own code, not missing_document: the contract's code says a document the answer needs is
    missing, and here the answer may still be no (a form page not found makes all its items so).
    """
    if not any(ev.kind == "document" and ev.status == "missing" for ev in wanted):
        return []
    either = "doc|url" in item.evidence
    if url_in_doubt(item, wanted):
        what = "添付書類がなく、URL 経路の記入も確定できません"
    else:
        what = "添付書類も URL 経路もありません" if either else "添付書類がありません"
    message = f"{item.id}: 回答が確定していません。「はい」であれば、右肩「{item.id}」の{what}"
    return [Flag(code="missing_document_if_yes", severity="warning", item=item.id, message=message)]


def _unconfirmed(item: Item, wanted: Sequence[Evidence], settled: bool = True) -> list[Flag]:
    """`unconfirmed_document` when no labelled document is there but an unlabelled or uncertain one could be it.

    Not missing_document: that is said only when no document at all could be the one. Said for
    an answer not `settled` too, as what holds if it is yes: otherwise nothing told the reviewer
    that the document may be missing (seed 86900-03 7-1-2, a faint tick and no document).
    """
    docs = [ev for ev in wanted if ev.kind == "document" and ev.status == "uncertain"]
    if not docs or any(ev.kind == "url_path" and ev.status == "present" for ev in wanted):
        return []
    which = ", ".join(docs[0].attachments)
    unsettled = "" if settled else "回答が確定していません。「はい」であれば、"
    message = f"{item.id}: {unsettled}右肩「{item.id}」と読める添付書類はありませんが、ラベルが読めない／不確かな添付（{which}）がこの書類かもしれません。確認してください"
    return [Flag(code="unconfirmed_document", severity="warning", item=item.id, message=message)]
