"""Result → template context → dossier and certificate (DOCX from templates/, then PDF).

Two ways to call it:

* one submission: :func:`render_submission` writes everything and returns :class:`RenderedFiles`;
* a batch (what batch.py should do, so LibreOffice converts all documents in one go)::

      with Converter() as conv:
          jobs = [render_docx(result, inbox_entry=…, out_dir=…, council=…, review=…) for …]
          outcomes = finish_pdf(jobs, conv)   # RenderedFiles, or a RenderError in its place

  :func:`render_docx` writes the DOCX into a private work folder inside ``out_dir``;
  :func:`finish_pdf` converts all of them, re-renders the few whose review section came out
  with a different page count than the page references assumed (the item table cites the
  dossier pages of the attachments), merges the attachments behind their separator pages,
  stamps the footer, builds the outline and finally renames the files into place.

Applicant text is data: every template is rendered with autoescaping, and characters that XML
cannot hold are dropped. Wording and look belong to templates/*.docx; the short labels for the
contract's codes (flag codes, statuses) are the vocabulary below.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pikepdf

from pipeline.model.errors import PipelineError
from pipeline.output.certificate import CertificateTerms, CouncilConfig, certificate_terms, format_date, load_council
from pipeline.output.merge import (
    FiledAttachment,
    MergeReport,
    OutlineGroup,
    PagePlan,
    SeparatorPage,
    SourcePage,
    merge_dossier,
    plan_pages,
)
from pipeline.tools.libreoffice import ConversionError, Converter

__all__ = [
    "CouncilConfig",
    "RenderError",
    "RenderJob",
    "RenderedFiles",
    "certificate_context",
    "dossier_context",
    "finish_pdf",
    "load_council",
    "render_docx",
    "render_submission",
]

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REVIEW_PAGES_KEY = "ISPReviewPages"  # docinfo key: how many review pages the last dossier had

# --- vocabulary for the contract's codes --------------------------------------------------------

ANSWER = {"yes": "はい", "no": "いいえ", "blank": "未回答", "conflict": "重複（両方に印）", "uncertain": "判読不確実"}
OPTION = {
    "over_100km": "100km以上",
    "within_100km": "100km以内",
    "other_building": "異なる建物",
    "other_floor": "異なるフロア",
    "other_rack": "異なるラック",
    "written_improved": "文書指導・改善済",
    "oral_improved": "口頭指導・改善済",
    "no_guidance": "指導なし",
    "independent": "委託・依存していない",
    "dependent": "委託・依存している",
    "none": "発生していない",
    "occurred": "発生した",
    "already_reported": "報告済み",
    "attached": "文書を添付",
}
DECLARATION = {
    "upstream_provider": "上位プロバイダーへの委託・依存",
    "security_outage": "セキュリティ障害によるサービス停止",
    "personal_data_leak": "個人情報漏洩",
}
APPLICANT = {
    "service_name": "サービス名",
    "url": "URL",
    "company_name": "会社名",
    "representative": "代表者名",
    "address": "住所",
    "tel": "TEL",
    "fax": "FAX",
    "registration_date": "登録年月日",
    "registration_number": "登録番号",
    "user_count": "ユーザー数",
}
FIELD_STATUS = {"read": "読取済", "uncertain": "要確認", "handwritten": "手書き（画像参照）", "empty": "空欄", "missing": "該当頁なし"}
FLAG = {
    "required_not_met": "必須未充足",
    "missing_document": "書類なし",
    "missing_signature": "署名なし",
    "missing_seal": "押印なし",
    "missing_url_path": "URL記入なし",
    "missing_text": "記入なし",
    "missing_choice": "選択なし",
    "conflicting_answer": "回答の矛盾",
    "uncertain_mark": "判読不確実な印",
    "unlabeled_attachment": "右肩表示なし",
    "unknown_label": "不明な右肩表示",
    "missing_form_page": "様式の頁なし",
    "unreadable_file": "読込不可ファイル",
    "zero_point_item": "0点（不合格項目）",
    "declaration_requires_document": "申告に伴う書類",
}
SEVERITY = {"error": "エラー", "warning": "警告", "info": "情報"}
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
EVIDENCE = {"document": "書類", "signature": "署名", "seal": "押印", "url_path": "URL", "text": "記入"}
SOURCE_KIND = {
    "scanned": "スキャン",
    "born_digital": "電子文書",
    "acroform": "入力フォーム",
    "image": "画像",
    "mixed": "混在",
    "unreadable": "読込不可",
}
LABEL_STATUS = {"read": "読取済", "uncertain": "要確認", "missing": "表示なし"}
FORM_KIND = {"renewal": "更新", "new": ""}
SHADE = {"error": "FBE4E4", "warning": "FFF4D6", "ok": "FFFFFF"}  # item-table rows by state
DECISION_SHADE = {"pass": "E8F5E9", "fail": "FDECEA", "needs_review": "FFF4E5"}
EYES_CODES = {
    "uncertain_mark",
    "conflicting_answer",
    "missing_signature",
    "missing_seal",
    "unreadable_file",
    "unlabeled_attachment",
    "unknown_label",
}

# Crop display limits in millimetres (width, height): small in the item table, larger in the list.
CROP_TABLE_MM = (26.0, 8.0)
CROP_LIST_MM = (40.0, 16.0)
CROP_FIELD_MM = (45.0, 10.0)

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class RenderError(PipelineError):
    """The dossier or certificate of one submission could not be produced."""


@dataclass(frozen=True, slots=True)
class Crop:
    """An image file to show at most max_w × max_h millimetres (aspect kept)."""

    path: Path
    max_w_mm: float
    max_h_mm: float

    def size_mm(self) -> tuple[float, float]:
        """Displayed width and height in millimetres ((0, 0) when the file is not an image)."""
        px = _pixel_size(self.path)
        if px is None:
            return (0.0, 0.0)
        scale = min(self.max_w_mm / px[0], self.max_h_mm / px[1])
        return (px[0] * scale, px[1] * scale)


@dataclass(frozen=True, slots=True)
class CropStrip:
    """Several crops side by side as one picture, `height_mm` high, at most `max_w_mm` wide.

    One picture per item-table row instead of three: LibreOffice lays out and exports a
    dossier ~0.2 s faster (measured), and the crops line up at one height.
    """

    crops: tuple[Crop, ...]
    max_w_mm: float
    height_mm: float
    gap_mm: float = 2.0

    def layout_mm(self) -> tuple[list[tuple[Crop, float, float]], float, float]:
        """[(crop, width, height)], total width and height, in millimetres, after fitting."""
        parts = []
        for crop in self.crops:
            px = _pixel_size(crop.path)
            if px is None:
                continue
            w = min(crop.max_w_mm, self.height_mm * px[0] / px[1])
            parts.append((crop, w, w * px[1] / px[0]))
        total = sum(w for _, w, _ in parts) + self.gap_mm * max(0, len(parts) - 1)
        factor = min(1.0, self.max_w_mm / total) if total else 1.0
        return [(c, w * factor, h * factor) for c, w, h in parts], total * factor, self.height_mm * factor

    def size_mm(self) -> tuple[float, float]:
        parts, w, h = self.layout_mm()
        return (w, h) if parts else (0.0, 0.0)


@dataclass(slots=True)
class RenderedFiles:
    dossier_docx: Path
    dossier_pdf: Path
    certificate_docx: Path | None
    certificate_pdf: Path | None
    license_number: str | None
    total_pages: int
    review_pages: int
    separator_pages: int
    attachment_pages: int
    conversions: int  # how many times the dossier went through LibreOffice (1 normally, 2 if pages moved)
    placeholders: list[str] = field(default_factory=list)
    outline: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Filed:
    att: dict[str, Any]
    item: str | None  # the item it is filed behind; None = unlabelled / unknown label, at the end
    pages: list[SourcePage]


@dataclass(slots=True)
class RenderJob:
    """One submission between render_docx and finish_pdf (its work folder is inside out_dir)."""

    result: dict[str, Any]
    inbox_entry: Path
    out_dir: Path
    council: CouncilConfig
    review: dict[str, Any] | None
    templates: Path
    today: dt.date
    work: Path
    filed: list[_Filed]
    groups: list[OutlineGroup]
    terms: CertificateTerms | None
    review_pages: int  # the page count the current dossier.docx's page references assume
    dossier_docx: Path
    certificate_docx: Path | None
    conversions: int = 0

    @property
    def dossier_pdf(self) -> Path:
        return self.dossier_docx.with_suffix(".pdf")

    @property
    def name(self) -> str:
        return str(self.result.get("submission_name") or self.result.get("submission") or self.out_dir.name)


# --- small helpers ------------------------------------------------------------------------------


def _id_key(item_id: str) -> tuple[Any, ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[-_.]", str(item_id)))


def _clean(value: Any) -> Any:
    """Drop characters XML cannot hold, recursively (applicant text may contain anything)."""
    if isinstance(value, str):
        return _XML_BAD.sub("", value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _short(text: Any, limit: int) -> str:
    s = " ".join(str(text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _ranges(pages: Sequence[int]) -> str:
    """[5, 6, 7, 9] → '5–7, 9'."""
    runs: list[list[int]] = []
    for p in sorted(set(pages)):
        if runs and runs[-1][1] == p - 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"{a}–{b}" if a != b else f"{a}" for a, b in runs)


def _pagerefs_text(refs: Sequence[dict[str, Any]]) -> str:
    by_file: dict[str, list[int]] = {}
    for ref in refs:
        if ref and ref.get("file") is not None:
            by_file.setdefault(str(ref["file"]), []).append(int(ref.get("page") or 0))
    return "、".join(f"{f} p.{_ranges(p)}" for f, p in by_file.items())


def _dossier_range(plan: PagePlan | None) -> str:
    if plan is None:
        return ""
    if plan.first is None:
        return f"p.{plan.separator}"
    return f"p.{plan.first}" if plan.first == plan.last else f"p.{plan.first}–{plan.last}"


def _pixel_size(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return _pixel_size_cached(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8192)
def _pixel_size_cached(path: str, mtime_ns: int, size: int) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size if im.size[0] and im.size[1] else None
    except OSError:
        return None


def _crop(out_dir: Path, rel: Any, size: tuple[float, float]) -> Crop | str:
    if not rel:
        return ""
    path = (out_dir / str(rel)).resolve()
    if not path.is_file():
        log.debug("crop %s is missing", path)
        return ""
    return Crop(path, *size)


def _resolve_source(inbox_entry: Path, file: str) -> Path:
    """The original file behind a page reference (the entry itself when it is a file)."""
    if inbox_entry.is_file():
        return inbox_entry
    base = inbox_entry.resolve()
    path = (base / file).resolve()
    if base not in path.parents:
        return base / "__outside_the_submission__" / Path(file).name
    return path


# --- filing attachments behind their items -------------------------------------------------------


def _file_attachments(result: dict[str, Any], inbox_entry: Path) -> tuple[list[_Filed], dict[str, list[str]]]:
    """Attachments in dossier order, and for each item the attachments it cites."""
    items = result.get("items") or {}
    order = sorted(items, key=_id_key)
    atts = {a["id"]: a for a in result.get("attachments") or []}
    cites: dict[str, list[str]] = {}
    for item_id in order:
        ids: list[str] = []
        for ev in items[item_id].get("evidence") or []:
            if ev.get("kind") == "document":
                ids += [a for a in ev.get("attachments") or [] if a in atts]
        ids += [a_id for a_id, a in atts.items() if item_id in (a.get("labels") or [])]
        if ids:
            cites[item_id] = list(dict.fromkeys(ids))
    filed: list[_Filed] = []
    placed: set[str] = set()

    def pages_of(att: dict[str, Any]) -> list[SourcePage]:
        return [
            SourcePage(_resolve_source(inbox_entry, str(p["file"])), int(p["page"]), f"{p['file']} p.{p['page']}")
            for p in att.get("pages") or []
        ]

    for item_id in order:
        for a_id in cites.get(item_id, []):
            if a_id not in placed:
                placed.add(a_id)
                filed.append(_Filed(atts[a_id], item_id, pages_of(atts[a_id])))
    for a_id, att in atts.items():
        if a_id not in placed:
            filed.append(_Filed(att, None, pages_of(att)))
    return filed, cites


def _item_title(item: dict[str, Any], limit: int = 60) -> str:
    return _short(item.get("title") or item.get("statement") or "", limit)


def _separators(job: RenderJob, plans: dict[str, PagePlan]) -> list[FiledAttachment]:
    items = job.result.get("items") or {}
    out: list[FiledAttachment] = []
    for f in job.filed:
        att = f.att
        a_id = str(att["id"])
        plan = plans.get(a_id)
        labels = att.get("labels") or []
        also = [i for i in labels if i != f.item]
        if f.item is not None:
            sub = f"審査項目 {f.item}　{_item_title(items.get(f.item, {}), 40)}"
            note = f"この後の {len(f.pages)} ページが項目 {f.item} の添付資料です。"
        elif labels or att.get("label_text"):
            sub = "右肩表示が審査項目として認識できない資料"
            note = (
                "右肩表示を項目番号として確定できませんでした。該当する項目は review.yaml の "
                f"attachments: {a_id}: {{labels: [...]}} で指定できます。"
            )
        else:
            sub = "右肩表示のない資料"
            note = f"右肩に項目番号の記載が見つかりませんでした。review.yaml の attachments: {a_id} で項目を指定できます。"
        rows = [
            ("右肩表示", str(att.get("label_text") or "（なし）")),
            ("読取結果", f"{', '.join(labels) or '—'}（{LABEL_STATUS.get(att.get('label_status', ''), '—')}）"),
            ("元ファイル", _pagerefs_text(att.get("pages") or []) or "（ページなし）"),
            ("本調書", f"{_dossier_range(plan)}（{len(f.pages)} ページ）"),
        ]
        if also:
            rows.append(("他の該当項目", ", ".join(also)))
        crop = None
        if att.get("crop"):
            c = (job.out_dir / str(att["crop"])).resolve()
            crop = c if c.is_file() else None
        title = f"{a_id}　{_pagerefs_text(att.get('pages') or [])}"
        out.append(FiledAttachment(a_id, title, SeparatorPage(f"添付資料　{a_id}", sub, tuple(rows), note, crop), tuple(f.pages)))
    return out


def _groups(result: dict[str, Any], filed: list[_Filed], cites: dict[str, list[str]]) -> list[OutlineGroup]:
    items = result.get("items") or {}
    where = {str(f.att["id"]): f.item for f in filed}
    source = {str(f.att["id"]): _pagerefs_text(f.att.get("pages") or []) for f in filed}
    groups = []
    for item_id in sorted(cites, key=_id_key):
        keys = tuple(cites[item_id])
        titles = tuple(f"{k}　{source.get(k, '')}" + ("" if where.get(k) == item_id else f"（{where.get(k)} に綴込み）") for k in keys)
        groups.append(OutlineGroup(f"{item_id}　{_item_title(items.get(item_id, {}), 30)}", keys, titles))
    rest = tuple(str(f.att["id"]) for f in filed if f.item is None)
    if rest:
        groups.append(OutlineGroup("右肩表示なし・不明の資料", rest))
    return groups


# --- contexts -------------------------------------------------------------------------------------


def dossier_context(
    result: dict[str, Any],
    *,
    out_dir: Path,
    inbox_entry: Path,
    council: CouncilConfig,
    review_pages: int = 1,
    license_number: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The dossier template's context. Crops appear as :class:`Crop` (made images when rendered).

    ``review_pages`` is the number of pages of the review section, which fixes the dossier page
    numbers cited for the attachments.
    """
    result = _clean(result)
    today = today or dt.date.today()
    filed, cites = _file_attachments(result, inbox_entry)
    plans = plan_pages(review_pages, [(str(f.att["id"]), len(f.pages)) for f in filed])
    page_at: dict[tuple[str, int], int] = {}
    for f in filed:
        plan = plans[str(f.att["id"])]
        for i, p in enumerate(f.att.get("pages") or []):
            if plan.first is not None:
                page_at[(str(p["file"]), int(p["page"]))] = plan.first + i
    items: dict[str, dict[str, Any]] = result.get("items") or {}
    order = sorted(items, key=_id_key)
    flags: list[dict[str, Any]] = result.get("flags") or []
    flags_by_item: dict[str | None, list[dict[str, Any]]] = {}
    for fl in flags:
        flags_by_item.setdefault(fl.get("item"), []).append(fl)
    atts = {str(a["id"]): a for a in result.get("attachments") or []}
    score = result.get("score") or {}
    applicant = result.get("applicant") or {}
    declarations = result.get("declarations") or {}

    def where(refs: Sequence[dict[str, Any]]) -> str:
        text = _pagerefs_text(refs)
        inside = sorted(
            {page_at[(str(r["file"]), int(r["page"]))] for r in refs if r and (str(r.get("file")), int(r.get("page") or 0)) in page_at}
        )
        if inside:
            text += f"（本調書 p.{_ranges(inside)}）"
        return text

    def value(key: str) -> str:
        return str((applicant.get(key) or {}).get("value") or "")

    # cover ----------------------------------------------------------------------------------
    decision = str(score.get("decision") or "needs_review")
    null_items = [i for i in order if items[i].get("points") is None and int(items[i].get("points_max") or 0) > 0]
    points = int(score.get("points") or 0)
    low, high = points, points + sum(int(items[i].get("points_max") or 0) for i in null_items)
    if isinstance(score.get("points_range"), list | tuple) and len(score["points_range"]) == 2:
        low, high = int(score["points_range"][0]), int(score["points_range"][1])
    threshold = int(score.get("threshold") or 0)
    sev_count = Counter(str(f.get("severity")) for f in flags)

    applicant_rows = []
    for key in list(APPLICANT) + [k for k in applicant if k not in APPLICANT]:
        fld = applicant.get(key)
        if fld is None:
            continue
        status = str(fld.get("status") or "")
        show_crop = status in ("handwritten", "uncertain")
        applicant_rows.append(
            {
                "label": APPLICANT.get(key, key),
                "value": str(fld.get("value") if fld.get("value") is not None else "（空欄）" if status == "empty" else ""),
                "status": FIELD_STATUS.get(status, status),
                "bad": status in ("uncertain", "handwritten", "empty", "missing"),
                "where": where([fld["page"]]) if fld.get("page") else "",
                "image": _crop(out_dir, fld.get("crop"), CROP_FIELD_MM) if show_crop else "",
            }
        )

    declaration_rows = []
    for key in list(DECLARATION) + [k for k in declarations if k not in DECLARATION]:
        d = declarations.get(key)
        if d is None:
            continue
        ans = str(d.get("answer") or "blank")
        subs = [
            OPTION.get(m["option"], m["option"])
            for m in d.get("marks") or []
            if m.get("state") == "checked" and m.get("option") in ("already_reported", "attached")
        ]
        notes = [FLAG.get(f["code"], f["code"]) + "：" + str(f.get("message") or "") for f in flags_by_item.get(key, [])]
        declaration_rows.append(
            {
                "title": DECLARATION.get(key, key),
                "answer": OPTION.get(str(d.get("choice")), str(d.get("choice")))
                if ans == "yes" and d.get("choice")
                else ANSWER.get(ans, ans),
                "bad": ans != "yes",
                "note": " ／ ".join(subs + notes),
            }
        )

    by_code: dict[str, list[dict[str, Any]]] = {}
    for fl in flags:
        by_code.setdefault(str(fl.get("code")), []).append(fl)
    flag_rows = []
    for code, group in sorted(by_code.items(), key=lambda kv: (min(SEVERITY_RANK.get(f["severity"], 3) for f in kv[1]), kv[0])):
        sev = min((str(f.get("severity")) for f in group), key=lambda s: SEVERITY_RANK.get(s, 3))
        ids = sorted({str(f["item"]) for f in group if f.get("item")}, key=_id_key)
        flag_rows.append(
            {
                "label": FLAG.get(code, code),
                "severity": SEVERITY.get(sev, sev),
                "is_error": sev == "error",
                "count": len(group),
                "item_ids": _short(", ".join(ids), 60) if ids else "（全体）",
            }
        )

    source_rows = [
        {
            "file": str(s.get("file")),
            "pages": s.get("pages"),
            "kind": SOURCE_KIND.get(str(s.get("kind")), str(s.get("kind"))),
            "status": "正常" if s.get("status") == "ok" else f"読込不可：{s.get('error') or ''}",
            "bad": s.get("status") != "ok",
        }
        for s in result.get("sources") or []
    ]

    # item table ---------------------------------------------------------------------------------
    item_rows = []
    last_section = None
    for item_id in order:
        it = items[item_id]
        mine = flags_by_item.get(item_id, [])
        codes = {f.get("code") for f in mine}
        ans = str(it.get("answer") or "blank")
        required = bool(it.get("required"))
        pmax = int(it.get("points_max") or 0)
        section = it.get("section") or item_id.split("-")[0]
        header = ""
        if section != last_section and it.get("section_title"):
            header = f"{section}　{it['section_title']}"
        last_section = section
        ev_rows: list[dict[str, Any]] = []
        images: list[Crop | str] = []
        for ev in it.get("evidence") or []:
            kind, status = str(ev.get("kind")), str(ev.get("status"))
            if status == "not_required":
                continue
            if kind == "document":
                ids = [a for a in ev.get("attachments") or []]
                text = "、".join(f"{a}（本調書 {_dossier_range(plans.get(a))}）" if a in plans else a for a in ids) or (
                    "提出なし" if status == "missing" else ""
                )
            elif kind == "url_path":
                text = str(ev.get("text") or ("記入なし" if status == "missing" else ""))
            elif kind in ("signature", "seal"):
                text = {"present": "あり", "missing": "なし", "uncertain": "要確認"}.get(status, status)
                if ev.get("page") and ev.get("file"):
                    text += f"（{ev['file']} p.{ev['page']}）"
            else:
                text = _short(ev.get("text"), 80) or ("記入なし" if status == "missing" else "")
            ev_rows.append(
                {
                    "label": EVIDENCE.get(kind, kind),
                    "text": text,
                    "bad": status == "missing",
                    "unsure": status == "uncertain",
                }
            )
            if kind != "document" and ev.get("crop"):
                images.append(_crop(out_dir, ev.get("crop"), CROP_TABLE_MM))
        if required:
            met = "required_not_met" not in codes and ans == "yes"
            pts, pts_bad = ("○" if met else "✕" if ans in ("no", "blank") or "required_not_met" in codes else "？"), not met
        elif it.get("points") is None:
            pts, pts_bad = f"未採点/{pmax}", False
        else:
            pts, pts_bad = f"{it['points']}/{pmax}", "zero_point_item" in codes
        answer_bad = ans in ("conflict", "uncertain") or (required and ans != "yes") or "required_not_met" in codes
        sevs = {str(f.get("severity")) for f in mine}
        if "error" in sevs or answer_bad:
            state = "error"
        elif "warning" in sevs or (it.get("points") is None and pmax > 0):
            state = "warning"
        else:
            state = "ok"
        item_rows.append(
            {
                "id": item_id,
                "title": _item_title(it),
                "section_header": header,
                "kind": "必須" if required else f"{pmax}点",
                "answer": ANSWER.get(ans, ans),
                "answer_bad": answer_bad,
                "choice": OPTION.get(str(it.get("choice")), str(it.get("choice"))) if it.get("choice") else "",
                "evidence": ev_rows,
                "images": [CropStrip(tuple(c for c in images if isinstance(c, Crop)), 52.0, CROP_TABLE_MM[1])] if any(images) else [],
                "points": pts,
                "points_bad": pts_bad,
                "flags": [
                    {
                        "text": f"{FLAG.get(str(f.get('code')), f.get('code'))}：{_short(f.get('message'), 90)}",
                        "is_error": f.get("severity") == "error",
                        "is_warning": f.get("severity") == "warning",
                    }
                    for f in sorted(mine, key=lambda f: SEVERITY_RANK.get(str(f.get("severity")), 3))
                ],
                "state": state,
                "shade": SHADE[state],
            }
        )

    # needs your eyes -----------------------------------------------------------------------------
    def owner(item_id: str | None) -> dict[str, Any]:
        if item_id is None:
            return {}
        return items.get(item_id) or declarations.get(item_id) or {}

    def att_for(refs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
        wanted = {(str(r.get("file")), int(r.get("page") or 0)) for r in refs or []}
        for a in atts.values():
            if wanted & {(str(p["file"]), int(p["page"])) for p in a.get("pages") or []}:
                return a
        return None

    def flag_crop(fl: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
        code, o = fl.get("code"), owner(fl.get("item"))
        marks = o.get("marks") or []
        evs = o.get("evidence") or []
        pick: dict[str, Any] | None = None
        if code in ("uncertain_mark", "conflicting_answer", "missing_choice", "required_not_met"):
            wanted = {"uncertain_mark": ("uncertain",), "conflicting_answer": ("checked", "uncertain")}.get(
                str(code), ("uncertain", "checked", "empty")
            )
            pick = next((m for m in marks if m.get("state") in wanted and m.get("crop")), None)
            pick = pick or next((m for m in marks if m.get("crop")), None)
        elif code in ("missing_signature", "missing_seal", "missing_text", "missing_url_path"):
            kind = {"missing_signature": "signature", "missing_seal": "seal", "missing_text": "text", "missing_url_path": "url_path"}[
                str(code)
            ]
            pick = next((e for e in evs if e.get("kind") == kind and e.get("crop")), None)
            if pick is not None:
                ref = [{"file": pick["file"], "page": pick["page"]}] if pick.get("file") and pick.get("page") else []
                return _crop(out_dir, pick.get("crop"), CROP_LIST_MM), ref
        elif code in ("unlabeled_attachment", "unknown_label"):
            a = att_for(fl.get("pages") or [])
            if a is not None:
                return _crop(out_dir, a.get("crop"), CROP_LIST_MM), list(a.get("pages") or [])[:1]
        if pick is None:
            return "", []
        page = pick.get("page")
        return _crop(out_dir, pick.get("crop"), CROP_LIST_MM), [page] if isinstance(page, dict) else []

    attention = []
    for fl in flags:
        if fl.get("severity") == "info" and fl.get("code") not in EYES_CODES:
            continue
        image, refs = flag_crop(fl)
        refs = list(fl.get("pages") or []) or refs
        if fl.get("code") == "unreadable_file" and not refs:
            where_text = "、".join(str(s["file"]) for s in result.get("sources") or [] if s.get("status") != "ok")
        else:
            where_text = where(refs)
        attention.append(
            {
                "sort": (
                    _id_key(fl["item"]) if fl.get("item") and fl["item"] in items else (),
                    SEVERITY_RANK.get(str(fl.get("severity")), 3),
                ),
                "kind": FLAG.get(str(fl.get("code")), str(fl.get("code"))),
                "item": str(fl.get("item") or "全体"),
                "message": str(fl.get("message") or ""),
                "where": where_text,
                "image": image,
                "is_error": fl.get("severity") == "error",
                "is_warning": fl.get("severity") == "warning",
            }
        )
    flagged_marks = {f.get("item") for f in flags if f.get("code") in ("uncertain_mark", "conflicting_answer")}
    for owner_id, o in [*items.items(), *declarations.items()]:
        if owner_id in flagged_marks:
            continue
        for m in o.get("marks") or []:
            if m.get("state") == "uncertain":
                attention.append(
                    {
                        "sort": (_id_key(owner_id) if owner_id in items else (), 1),
                        "kind": FLAG["uncertain_mark"],
                        "item": owner_id,
                        "message": f"選択肢「{OPTION.get(m.get('option'), m.get('option'))}」の印を判定できません"
                        + (f"（濃度 {m['score']:.2f}）" if isinstance(m.get("score"), int | float) else ""),
                        "where": where([m["page"]]) if isinstance(m.get("page"), dict) else "",
                        "image": _crop(out_dir, m.get("crop"), CROP_LIST_MM),
                        "is_error": False,
                        "is_warning": True,
                    }
                )
    for key, fld in applicant.items():
        if fld and fld.get("status") in ("uncertain", "handwritten"):
            attention.append(
                {
                    "sort": ((), 2),
                    "kind": "申請者欄：" + FIELD_STATUS.get(str(fld.get("status")), ""),
                    "item": APPLICANT.get(key, key),
                    "message": f"読取値「{fld.get('value') or ''}」を原本と照合してください"
                    if fld.get("value")
                    else "機械読取できません。画像で確認してください",
                    "where": where([fld["page"]]) if isinstance(fld.get("page"), dict) else "",
                    "image": _crop(out_dir, fld.get("crop"), CROP_LIST_MM),
                    "is_error": False,
                    "is_warning": True,
                }
            )
    attention.sort(key=lambda e: e["sort"])
    for n, e in enumerate(attention, start=1):
        e["no"] = n
        del e["sort"]

    # attachments index ------------------------------------------------------------------------
    attachment_rows = []
    for f in filed:
        a = f.att
        plan = plans[str(a["id"])]
        labels = a.get("labels") or []
        attachment_rows.append(
            {
                "id": str(a["id"]),
                "labels": ", ".join(labels) if labels else f"「{a['label_text']}」" if a.get("label_text") else "（なし）",
                "filed": f.item or "末尾（未分類）",
                "source": _pagerefs_text(a.get("pages") or []),
                "dossier_pages": _dossier_range(plan),
                "status": LABEL_STATUS.get(str(a.get("label_status")), str(a.get("label_status"))),
                "bad": a.get("label_status") != "read" or f.item is None,
            }
        )

    return {
        "doc": {
            "council_name": council.name,
            "generated": format_date(today, council.date_style),
            "submission": str(result.get("submission_name") or result.get("submission") or ""),
            "form": str(result.get("form") or ""),
            "kind_label": FORM_KIND.get(str(result.get("form")), ""),
        },
        "company": value("company_name") or "（会社名不明）",
        "service": value("service_name") or "（サービス名不明）",
        "decision": {
            "key": decision,
            "is_pass": decision == "pass",
            "is_fail": decision == "fail",
            "is_review": decision not in ("pass", "fail"),
            "license_number": license_number or "",
            "shade": DECISION_SHADE.get(decision, DECISION_SHADE["needs_review"]),
        },
        "reasons": [str(r) for r in score.get("reasons") or []],
        "score": {
            "required_met": score.get("required_met"),
            "required_total": score.get("required_total"),
            "required_ok": score.get("required_met") == score.get("required_total"),
            "points_text": f"{low}" if low == high else f"{low}〜{high}",
            "points_max": score.get("points_max"),
            "threshold": threshold,
            "points_ok": high >= threshold,
            "unresolved": ", ".join(null_items),
        },
        "flags": {
            "error": sev_count.get("error", 0),
            "warning": sev_count.get("warning", 0),
            "info": sev_count.get("info", 0),
            "total": len(flags),
        },
        "flag_counts": flag_rows,
        "applicant": applicant_rows,
        "declarations": declaration_rows,
        "sources": source_rows,
        "attention": attention,
        "items": item_rows,
        "attachments": attachment_rows,
    }


def certificate_context(result: dict[str, Any], terms: CertificateTerms, council: CouncilConfig) -> dict[str, Any]:
    """The certificate template's context."""
    result = _clean(result)
    applicant = result.get("applicant") or {}

    def value(key: str) -> str:
        return str((applicant.get(key) or {}).get("value") or "")

    return {
        "company": value("company_name"),
        "service": value("service_name"),
        "url": value("url"),
        "license_number": terms.license_number,
        "issued": format_date(terms.issued, council.date_style),
        "valid_from": format_date(terms.valid_from, council.date_style),
        "valid_until": format_date(terms.valid_until, council.date_style),
        "validity_years": council.validity_years,
        "council_name": council.name,
        "president_title": council.president_title,
        "president_name": council.president_name,
    }


# --- rendering ------------------------------------------------------------------------------------


def _materialise(value: Any, tpl: Any) -> Any:
    """Replace Crop / CropStrip markers by docxtpl InlineImages (they need the template)."""
    if isinstance(value, Crop | CropStrip):
        from docx.shared import Mm
        from docxtpl import InlineImage

        w, h = value.size_mm()
        if not w:
            log.warning("crop %s is missing or not a readable image", getattr(value, "path", value))
            return ""
        image: Any = str(value.path) if isinstance(value, Crop) else _strip_png(value)
        return InlineImage(tpl, image, width=Mm(w), height=Mm(h))
    if isinstance(value, dict):
        return {k: _materialise(v, tpl) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialise(v, tpl) for v in value]
    return value


STRIP_DPI = 200  # crops in the item table are printed ~8 mm high; 200 dpi keeps pen strokes sharp


def _strip_png(strip: CropStrip) -> io.BytesIO:
    """Compose the strip's crops side by side, each in a thin grey frame, as one PNG."""
    from PIL import Image, ImageDraw

    px_mm = STRIP_DPI / 25.4
    parts, total_w, height = strip.layout_mm()
    canvas = Image.new("RGB", (max(1, round(total_w * px_mm)), max(1, round(height * px_mm))), "white")
    draw = ImageDraw.Draw(canvas)
    gap = (total_w - sum(w for _, w, _ in parts)) / max(1, len(parts) - 1)
    x = 0.0
    for crop, w, h in parts:
        box = (max(1, round(w * px_mm)), max(1, round(h * px_mm)))
        with Image.open(crop.path) as im:
            im.draft("RGB", box)
            piece = im.convert("RGB").resize(box, Image.Resampling.BILINEAR, reducing_gap=2.0)
        top = round((height - h) / 2 * px_mm)
        canvas.paste(piece, (round(x * px_mm), top))
        draw.rectangle([round(x * px_mm), top, round(x * px_mm) + box[0] - 1, top + box[1] - 1], outline=(170, 170, 170))
        x += w + gap
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", compress_level=3)
    buf.seek(0)
    return buf


# Word (unlike LibreOffice) rejects a file whose property elements are out of the schema's order
# (ECMA-376 Part 1, CT_PPr/CT_RPr/CT_TblPr/CT_TcPr/CT_SectPr); docxtpl's {% cellbg %} puts <w:shd>
# first in <w:tcPr>, so every rendered document is put back in order.
_SCHEMA_ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd "
    "snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection textAlignment "
    "textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
    "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em "
    "lang eastAsianLayout specVanish oMath",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
    "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
    "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid printerSettings",
}
_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def fix_element_order(root: Any) -> None:
    """Reorder the children of every pPr/rPr/tblPr/tcPr/sectPr under root into schema order."""
    ranks = {f"{_W_NS}{tag}": {f"{_W_NS}{n}": i for i, n in enumerate(seq.split())} for tag, seq in _SCHEMA_ORDER.items()}
    for tag, rank in ranks.items():
        for props in root.iter(tag):
            children = list(props)
            ordered = sorted(children, key=lambda el: rank.get(el.tag, len(rank)))
            if ordered != children:
                for el in children:
                    props.remove(el)
                props.extend(ordered)


def _render_template(template: Path, context: dict[str, Any], out: Path) -> None:
    from docxtpl import DocxTemplate

    try:
        tpl = DocxTemplate(str(template))
        tpl.render(_materialise(context, tpl), autoescape=True)
        fix_element_order(tpl.docx.element)
        tpl.save(str(out))
    except Exception as exc:  # Jinja, lxml, zip: all mean the same to the operator
        raise RenderError(f"{template.name}: could not be rendered: {type(exc).__name__}: {exc}") from exc


def _stored_review_pages(out_dir: Path) -> int | None:
    """How many review pages the previous dossier.pdf had (its docinfo says), if any."""
    old = out_dir / "dossier.pdf"
    if not old.is_file():
        return None
    try:
        with pikepdf.open(old) as pdf:
            value = pdf.docinfo.get("/" + REVIEW_PAGES_KEY)
            return int(str(value)) if value is not None else None
    except Exception:  # noqa: BLE001 - only a guess
        return None


# --- estimating the review section's length -------------------------------------------------------
# Only a guess that saves a second LibreOffice pass: the page references to the attachments need
# the review section's page count before it is laid out. Millimetres; calibrated against
# LibreOffice 7.4 with the committed templates (bench/bench_render.py prints estimate vs actual).

_BODY_MM = 297 - 15 - 20  # A4 minus the template's top and bottom margins
_PT_MM = 0.3528


def _text_lines(text: Any, width_mm: float, pt: float) -> int:
    """Lines a text needs in a column (full-width characters count 1 em, others 0.55 em)."""
    em = pt * _PT_MM
    lines = 0
    for para in str(text or "").split("\n"):
        units = sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in para)
        lines += max(1, math.ceil(units * em / max(width_mm, em) - 0.05))
    return lines


def _crop_mm(crop: Any) -> tuple[float, float]:
    return crop.size_mm() if isinstance(crop, Crop | CropStrip) else (0.0, 0.0)


def _image_lines_mm(crops: Sequence[Any], width_mm: float) -> float:
    """Height of inline images flowed into lines of a column (greedy, like the word processor)."""
    height = line_w = line_h = 0.0
    for crop in crops:
        w, h = _crop_mm(crop)
        if line_w and line_w + w > width_mm:
            height, line_w, line_h = height + line_h, 0.0, 0.0
        line_w, line_h = line_w + w + 1.2, max(line_h, h)
    return height + line_h


def _pack(rows: Sequence[float], start_mm: float, header_mm: float) -> tuple[int, float]:
    """Pages used and the height used on the last page, for unsplittable table rows."""
    pages, used = 1, start_mm + header_mm
    for h in rows:
        if used + h > _BODY_MM and used > header_mm + 0.1:
            pages, used = pages + 1, header_mm
        used += h
    return pages, used


_LINE = 2.85  # an 8 pt (or 7.5 pt) table line, IPAex fonts, single spacing
_ROW_PAD = 0.7  # cell margins top and bottom plus the rule
_HEAD_ROW = 3.6  # a table's header row
_H2_GAP = 9.5  # from the end of a table to the next table under a Heading 2


def estimate_review_pages(ctx: dict[str, Any]) -> int:
    """Estimated page count of the review section (cover, needs-your-eyes, items, index)."""
    return sum(_estimate_sections(ctx))


def _estimate_sections(ctx: dict[str, Any]) -> tuple[int, int, int]:
    cover = 40.0 + 41.0 + 3.6 * max(1, len(ctx["reasons"]))
    cover += _H2_GAP + _HEAD_ROW + sum(3.6 + (_crop_mm(a["image"])[1] + 0.5 if a["image"] else 0) for a in ctx["applicant"])
    cover += _H2_GAP + _HEAD_ROW + sum(3.6 * _text_lines(d["note"], 57, 8) for d in ctx["declarations"])
    cover += _H2_GAP + _HEAD_ROW + 3.6 * max(1, len(ctx["flag_counts"]))
    cover += _H2_GAP + _HEAD_ROW + sum(3.6 * _text_lines(s["status"], 53, 8) for s in ctx["sources"])
    cover_pages = math.ceil(cover / _BODY_MM)

    rows = []
    for e in ctx["attention"]:
        lines = max(
            _text_lines(e["message"], 59, 8), _text_lines(e["where"], 27, 8), _text_lines(e["kind"], 16, 8), _text_lines(e["item"], 12, 8)
        )
        rows.append(max(lines * _LINE, _crop_mm(e["image"])[1]) + _ROW_PAD)
    # With nothing to list, the item table follows on the same page (no page break).
    eyes_pages = _pack(rows, 23.0, _HEAD_ROW)[0] if rows else 0
    items_start = 22.6 if rows else 23.0 + 14.0 + 22.6

    rows = []
    for it in ctx["items"]:
        if it["section_header"]:
            rows.append(4.0)
        ev = sum(_text_lines(f"{e['label']}：{e['text']}", 52, 8) for e in it["evidence"])
        ev_h = max(1, ev) * _LINE + _image_lines_mm(it["images"], 52)
        flags_h = sum(_text_lines(f["text"], 28, 7.5) for f in it["flags"]) * _LINE
        title_h = _text_lines(it["title"], 39, 7.5) * _LINE
        answer_h = (_text_lines(it["answer"], 12, 8) + (1 if it["choice"] else 0)) * _LINE
        rows.append(max(ev_h, flags_h, title_h, answer_h) + _ROW_PAD)
    item_pages, used = _pack(rows, items_start, _HEAD_ROW)
    index = [3.6 * max(_text_lines(x["source"], 59, 8), _text_lines(x["labels"], 21, 8)) for x in ctx["attachments"]]
    extra_pages, _ = _pack([*index, 8.0], used + 25.5, _HEAD_ROW)
    return cover_pages, eyes_pages, item_pages + extra_pages - 1


def _render_dossier_docx(job: RenderJob) -> None:
    """Render dossier.docx for job.review_pages review pages (estimated first when it is 0)."""

    def context() -> dict[str, Any]:
        return dossier_context(
            job.result,
            out_dir=job.out_dir,
            inbox_entry=job.inbox_entry,
            council=job.council,
            review_pages=job.review_pages or 8,
            license_number=job.terms.license_number if job.terms else None,
            today=job.today,
        )

    ctx = context()
    if not job.review_pages:
        job.review_pages = estimate_review_pages(ctx)
        ctx = context()
    _render_template(job.templates / "dossier.docx", ctx, job.dossier_docx)


def render_docx(
    result: dict[str, Any],
    *,
    inbox_entry: Path,
    out_dir: Path,
    council: CouncilConfig,
    review: dict[str, Any] | None,
    templates: Path = TEMPLATES,
    today: dt.date | None = None,
) -> RenderJob:
    """First half: write the DOCX of one submission into a work folder inside out_dir.

    Assigns the certificate's license number when the decision is pass (see certificate.py).
    Nothing in out_dir itself changes until :func:`finish_pdf`.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".render-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    today = today or dt.date.today()
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=out_dir))
    try:
        filed, cites = _file_attachments(_clean(result), inbox_entry)
        terms = None
        if (result.get("score") or {}).get("decision") == "pass":
            terms = certificate_terms(str(result.get("submission") or out_dir.name), review, council, out_dir.parent, today)
        job = RenderJob(
            result=result,
            inbox_entry=inbox_entry,
            out_dir=out_dir,
            council=council,
            review=review,
            templates=templates,
            today=today,
            work=work,
            filed=filed,
            groups=_groups(_clean(result), filed, cites),
            terms=terms,
            review_pages=0,
            dossier_docx=work / "dossier.docx",
            certificate_docx=None,
        )
        job.review_pages = _stored_review_pages(out_dir) or 0
        _render_dossier_docx(job)
        if terms is not None:
            job.certificate_docx = work / "certificate.docx"
            _render_template(templates / "certificate.docx", certificate_context(result, terms, council), job.certificate_docx)
        return job
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _page_count(pdf_path: Path) -> int:
    with pikepdf.open(pdf_path) as pdf:
        return len(pdf.pages)


def _convert(converter: Converter, docs: list[Path]) -> None:
    """Convert all; failures are noticed per job afterwards (its PDF is missing)."""
    try:
        converter.convert_many(docs)
    except ConversionError as exc:
        log.error("%s", exc)


def finish_pdf(jobs: Sequence[RenderJob], converter: Converter, *, max_passes: int = 3) -> list[RenderedFiles | RenderError]:
    """Second half, for a whole batch: convert, fix page references, merge, put files in place.

    Returns, per job and in order, its RenderedFiles or the RenderError that stopped it (a bad
    submission stays that submission's problem). Work folders are removed either way.
    """
    outcomes: dict[int, RenderedFiles | RenderError] = {}
    live = list(range(len(jobs)))
    try:
        docs = [jobs[i].dossier_docx for i in live] + [jobs[i].certificate_docx for i in live if jobs[i].certificate_docx is not None]
        _convert(converter, docs)  # type: ignore[arg-type]
        for i in live:
            jobs[i].conversions = 1
        for _ in range(max_passes):
            redo = []
            for i in list(live):
                job = jobs[i]
                if not job.dossier_pdf.is_file():
                    outcomes[i] = RenderError(f"{job.name}: dossier.docx could not be converted to PDF")
                    live.remove(i)
                    continue
                pages = _page_count(job.dossier_pdf)
                if pages != job.review_pages:
                    log.debug("%s: review section has %d pages, not %d; re-rendering", job.name, pages, job.review_pages)
                    job.review_pages = pages
                    job.dossier_pdf.unlink()
                    try:
                        _render_dossier_docx(job)
                    except RenderError as exc:
                        outcomes[i] = exc
                        live.remove(i)
                        continue
                    redo.append(i)
            if not redo:
                break
            _convert(converter, [jobs[i].dossier_docx for i in redo])
            for i in redo:
                jobs[i].conversions += 1
        for i in live:
            try:
                outcomes[i] = _finish_one(jobs[i])
            except (RenderError, ConversionError) as exc:
                outcomes[i] = exc if isinstance(exc, RenderError) else RenderError(str(exc))
            except Exception as exc:  # pikepdf and reportlab failures, kept to this submission
                error = RenderError(f"{jobs[i].name}: the dossier PDF could not be assembled: {type(exc).__name__}: {exc}")
                error.__cause__ = exc
                outcomes[i] = error
    finally:
        for job in jobs:
            shutil.rmtree(job.work, ignore_errors=True)
    return [outcomes[i] for i in range(len(jobs))]


def _finish_one(job: RenderJob) -> RenderedFiles:
    if not job.dossier_pdf.is_file():
        raise RenderError(f"{job.name}: dossier.docx could not be converted to PDF")
    review_pages = _page_count(job.dossier_pdf)
    if review_pages != job.review_pages:
        log.warning(
            "%s: the review section still moves between %d and %d pages; attachment page references may be off",
            job.name,
            job.review_pages,
            review_pages,
        )
    plans = plan_pages(review_pages, [(str(f.att["id"]), len(f.pages)) for f in job.filed])
    merged = job.work / "dossier.merged.pdf"
    report: MergeReport = merge_dossier(
        job.dossier_pdf,
        _separators(job, plans),
        job.groups,
        footer_name=job.name,
        title=f"審査調書 {job.name}",
        out=merged,
        info={REVIEW_PAGES_KEY: str(review_pages)},
    )
    out = job.out_dir
    os.replace(job.dossier_docx, out / "dossier.docx")
    os.replace(merged, out / "dossier.pdf")
    cert_docx = cert_pdf = None
    if job.certificate_docx is not None:
        pdf = job.certificate_docx.with_suffix(".pdf")
        if not pdf.is_file():
            raise RenderError(f"{job.name}: certificate.docx could not be converted to PDF")
        cert_docx, cert_pdf = out / "certificate.docx", out / "certificate.pdf"
        os.replace(job.certificate_docx, cert_docx)
        os.replace(pdf, cert_pdf)
    else:
        for stale in (out / "certificate.docx", out / "certificate.pdf"):
            if stale.exists():
                log.info("%s: decision is no longer pass; removing %s", job.name, stale.name)
                stale.unlink()
    return RenderedFiles(
        dossier_docx=out / "dossier.docx",
        dossier_pdf=out / "dossier.pdf",
        certificate_docx=cert_docx,
        certificate_pdf=cert_pdf,
        license_number=job.terms.license_number if job.terms else None,
        total_pages=report.total_pages,
        review_pages=report.review_pages,
        separator_pages=report.separator_pages,
        attachment_pages=report.attachment_pages,
        conversions=job.conversions,
        placeholders=report.placeholders,
        outline=report.outline,
    )


def render_submission(
    result: dict[str, Any],
    *,
    inbox_entry: Path,
    out_dir: Path,
    converter: Converter,
    council: CouncilConfig,
    review: dict[str, Any] | None,
    templates: Path = TEMPLATES,
    today: dt.date | None = None,
) -> RenderedFiles:
    """Write out_dir/dossier.docx + dossier.pdf, and certificate.docx + .pdf only for a pass.

    Stale certificate files are removed when the decision is not pass. Raises RenderError.
    """
    job = render_docx(result, inbox_entry=inbox_entry, out_dir=out_dir, council=council, review=review, templates=templates, today=today)
    outcome = finish_pdf([job], converter)[0]
    if isinstance(outcome, RenderError):
        raise outcome
    return outcome
