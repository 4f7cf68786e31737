"""Tests of render.py, convert.py, pdfmerge.py and certificate.py: the dossier and the certificate.

The first half of this file builds realistic inputs without the rest of the pipeline:
`build_submission` writes an inbox folder (born-digital attachments drawn with reportlab in
IPAexGothic, a PNG page, a 2-frame fax TIFF, a broken PDF) and the result dict a run would
produce for it (56 items from forms/renewal/items.yaml, or the seed's ids if that is absent),
with crops. test_templates.py and bench/bench_render.py use it too.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import random
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "000_15f9b5afbecfd9a8.txt"
SCHEMA_CANDIDATES = [ROOT / "spec" / "result.schema.json"]
HOSTILE = "<script>&{{ x }}\"' 株式会社"

# --- building inputs ---------------------------------------------------------------------------


def item_definitions() -> list[dict[str, Any]]:
    """The form's items: id, section, required, points, scoring, evidence, statement."""
    items_yaml = ROOT / "forms" / "renewal" / "items.yaml"
    if items_yaml.is_file():
        import yaml

        data = yaml.safe_load(items_yaml.read_text(encoding="utf-8"))
        titles = {s["id"]: s["title"] for s in data.get("sections") or []}
        return [
            {
                "id": str(it["id"]),
                "section": str(it["section"]),
                "section_title": titles.get(str(it["section"]), ""),
                "required": bool(it["required"]),
                "points": int(it.get("points") or 0),
                "scoring": it.get("scoring") or ("required" if it["required"] else "fixed"),
                "evidence": list(it.get("evidence") or []),
                "statement": str(it.get("statement") or ""),
            }
            for it in data["items"]
        ]
    text = SEED.read_text(encoding="utf-8")
    defs: dict[str, dict[str, Any]] = {}
    for m in re.finditer(r"(\d-\d-\d) \((必須|(\d)点|\d～(\d)点[^)]*)\)", text):
        item_id = m.group(1)
        if item_id in defs:
            continue
        required = m.group(2) == "必須"
        points = 0 if required else int(m.group(3) or m.group(4))
        scoring = "required" if required else "reviewer" if item_id.startswith("7-1-") else ("choice" if "～" in m.group(2) else "fixed")
        defs[item_id] = {
            "id": item_id,
            "section": item_id[0],
            "section_title": "",
            "required": required,
            "points": points,
            "scoring": scoring,
            "evidence": ["doc"],
            "statement": "",
        }
    return sorted(defs.values(), key=lambda d: tuple(int(x) for x in d["id"].split("-")))


def _font(size: int) -> Any:
    from PIL import ImageFont

    from pipeline.output.merge import GOTHIC, font_file

    return ImageFont.truetype(font_file(GOTHIC), size)


def make_crop(path: Path, kind: str, text: str = "") -> str:
    """A small PNG like the pipeline's crops: a box with a tick, a signature, a seal, a label."""
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(str(path))
    if kind == "mark":
        im = Image.new("L", (60, 60), 255)
        d = ImageDraw.Draw(im)
        d.rectangle([12, 12, 48, 48], outline=0, width=2)
        d.line([(16, 30), (26, 42), (46, 14)], fill=90, width=3)
    elif kind == "signature":
        im = Image.new("L", (420, 110), 255)
        d = ImageDraw.Draw(im)
        pts = [(20 + i * 12, 55 + rnd.randint(-25, 25)) for i in range(32)]
        d.line(pts, fill=20, width=3)
    elif kind == "empty":
        im = Image.new("L", (420, 110), 255)
        ImageDraw.Draw(im).line([(10, 95), (410, 95)], fill=120, width=1)
    elif kind == "seal":
        im = Image.new("RGB", (110, 110), "white")
        d = ImageDraw.Draw(im)
        d.ellipse([8, 8, 102, 102], outline=(200, 30, 30), width=5)
        d.text((32, 30), "山田", fill=(200, 30, 30), font=_font(24))
    else:  # label / field: text in a frame
        im = Image.new("L", (360, 110), 255)
        d = ImageDraw.Draw(im)
        d.rectangle([4, 4, 355, 105], outline=0, width=2)
        d.text((20, 30), text or "1-1-1", fill=0, font=_font(40))
    im.save(path)
    return path.as_posix()


def make_pdf(path: Path, pages: list[tuple[str | None, str, int]]) -> None:
    """Born-digital A4 pages: (右肩 label or None, heading, number of body lines)."""
    from reportlab.pdfgen.canvas import Canvas

    from pipeline.output.drawn import A4_PT, GOTHIC
    from pipeline.output.drawn import register_font as _register

    font = _register(GOTHIC)
    c = Canvas(str(path), pagesize=A4_PT, initialFontName=font)  # no stray Helvetica
    w, h = A4_PT
    for label, heading, lines in pages:
        if label:
            c.rect(w - 170, h - 70, 130, 34)
            c.setFont(font, 18)
            c.drawString(w - 160, h - 60, label)
        c.setFont(font, 16)
        c.drawString(60, h - 120, heading)
        c.setFont(font, 10.5)
        for i in range(lines):
            c.drawString(60, h - 160 - i * 18, f"第{i + 1}条　当社は、本規程に基づき情報資産を適切に管理する。（{heading}）")
        c.showPage()
    c.save()


@dataclass
class Submission:
    name: str
    result: dict[str, Any]
    inbox_entry: Path
    out_dir: Path

    @property
    def attachment_pages(self) -> int:
        return sum(len(a["pages"]) for a in self.result["attachments"])


def build_submission(
    root: Path,
    name: str = "申請A",
    *,
    company: str = "株式会社テスト通信",
    decision: str = "needs_review",
    doc_pages: int | tuple[int, ...] = 2,
) -> Submission:
    """An inbox folder plus the result dict a run would write for it (schema-valid).

    doc_pages: pages per attachment (a tuple is cycled through the attachments).
    decision: "pass" (clean), "needs_review" (uncertain marks, a conflict, missing seal and
    signature, unlabelled and unknown-label documents, an unreadable file, 7-1-x unscored) or
    "fail" (as needs_review plus a 必須 item answered no).
    """
    entry = root / "inbox" / name
    out_dir = root / "outbox" / name
    entry.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    defs = item_definitions()
    problems = decision != "pass"

    def crop(kind: str, stem: str, text: str = "") -> str:
        make_crop(out_dir / "crops" / f"{stem}.png", kind, text)
        return f"crops/{stem}.png"

    # Attachments: one per item that takes a document, in docs.pdf.
    doc_items = [d for d in defs if any(e in ("doc", "doc|url") for e in d["evidence"])]
    pdf_pages: list[tuple[str | None, str, int]] = []
    attachments: list[dict[str, Any]] = []
    att_of: dict[str, str] = {}
    for n, d in enumerate(doc_items, start=1):
        if d["id"] == "3-1-6":
            continue  # its document is a photo (PNG)
        a_id = f"att-{len(attachments) + 1:02d}"
        first = len(pdf_pages) + 1
        count = doc_pages if isinstance(doc_pages, int) else doc_pages[n % len(doc_pages)]
        for k in range(count):
            pdf_pages.append((d["id"] if k == 0 else None, f"{d['id']} 関係規程（{k + 1}/{count}）", 20 + n % 7))
        attachments.append(
            {
                "id": a_id,
                "labels": [d["id"]],
                "label_status": "read",
                "label_text": d["id"],
                "pages": [{"file": "docs.pdf", "page": first + k} for k in range(count)],
                "crop": crop("label", f"label_{a_id}", d["id"]),
            }
        )
        att_of[d["id"]] = a_id
    # An unknown label (8-1-1 is no item) at the end of docs.pdf.
    pdf_pages.append(("8-1-1", "参考資料（ネットワーク構成図）", 12))
    unknown = {
        "id": f"att-{len(attachments) + 1:02d}",
        "labels": [],
        "label_status": "uncertain",
        "label_text": "8-1-1",
        "pages": [{"file": "docs.pdf", "page": len(pdf_pages)}],
    }
    unknown["crop"] = crop("label", f"label_{unknown['id']}", "8-1-1")
    attachments.append(unknown)
    make_pdf(entry / "docs.pdf", pdf_pages)
    # 3-1-6 as a photo.
    from PIL import Image, ImageDraw

    photo = Image.new("RGB", (900, 640), (225, 232, 240))
    dr = ImageDraw.Draw(photo)
    for x in range(60, 840, 130):
        dr.rectangle([x, 120, x + 100, 560], fill=(40, 40, 48), outline=(0, 0, 0))
    dr.text((40, 30), "3-1-6 サーバ室写真", fill=(0, 0, 0), font=_font(36))
    photo.save(entry / "photo.png")
    a_id = f"att-{len(attachments) + 1:02d}"
    attachments.append(
        {
            "id": a_id,
            "labels": ["3-1-6"],
            "label_status": "read",
            "label_text": "3-1-6",
            "pages": [{"file": "photo.png", "page": 1}],
            "crop": crop("label", f"label_{a_id}", "3-1-6"),
        }
    )
    att_of["3-1-6"] = a_id
    # An unlabelled 2-page fax (bilevel TIFF).
    frames = []
    for k in range(2):
        fr = Image.new("1", (1240, 1754), 1)
        d2 = ImageDraw.Draw(fr)
        d2.text((120, 140), f"FAX 送信票 {k + 1}/2", fill=0, font=_font(48))
        for i in range(30):
            d2.line([(120, 260 + i * 40), (1100, 260 + i * 40)], fill=0, width=2)
        frames.append(fr)
    frames[0].save(entry / "fax.tif", save_all=True, append_images=frames[1:], compression="group4")
    fax = {
        "id": f"att-{len(attachments) + 1:02d}",
        "labels": [],
        "label_status": "missing",
        "label_text": None,
        "pages": [{"file": "fax.tif", "page": 1}, {"file": "fax.tif", "page": 2}],
    }
    attachments.append(fax)
    if not problems:
        attachments.remove(unknown)
        attachments.remove(fax)
    # The form itself (not part of the dossier).
    make_pdf(entry / "form.pdf", [(None, f"審査項目回答書 {i}", 30) for i in range(1, 9)])
    sources = [
        {"file": "form.pdf", "sha256": _sha(entry / "form.pdf"), "pages": 8, "kind": "born_digital", "status": "ok"},
        {"file": "docs.pdf", "sha256": _sha(entry / "docs.pdf"), "pages": len(pdf_pages), "kind": "born_digital", "status": "ok"},
        {"file": "photo.png", "sha256": _sha(entry / "photo.png"), "pages": 1, "kind": "image", "status": "ok"},
    ]
    flags: list[dict[str, Any]] = []
    if problems:
        (entry / "broken.pdf").write_bytes(b"%PDF-1.4\n%broken beyond repair")
        sources += [
            {"file": "fax.tif", "sha256": _sha(entry / "fax.tif"), "pages": 2, "kind": "image", "status": "ok"},
            {
                "file": "broken.pdf",
                "sha256": _sha(entry / "broken.pdf"),
                "pages": 0,
                "kind": "unreadable",
                "status": "error",
                "error": "PDF の構造が壊れていて読めません（xref なし）",
            },
        ]
        flags += [
            {
                "code": "unreadable_file",
                "severity": "error",
                "item": None,
                "message": "broken.pdf を読み込めませんでした。再提出を依頼してください。",
                "pages": [],
            },
            {
                "code": "unlabeled_attachment",
                "severity": "warning",
                "item": None,
                "message": "右肩に項目番号のない資料（2ページ）があります。",
                "pages": fax["pages"],
            },
            {
                "code": "unknown_label",
                "severity": "warning",
                "item": None,
                "message": "右肩表示「8-1-1」は審査項目にありません。",
                "pages": unknown["pages"],
            },
        ]

    form_page = {d["id"]: {"file": "form.pdf", "page": 2 + i * 6 // len(defs)} for i, d in enumerate(defs)}
    items: dict[str, Any] = {}
    for d in defs:
        item_id = d["id"]
        ref = form_page[item_id]
        mark = {
            "option": "yes",
            "state": "checked",
            "score": 0.31,
            "page": ref,
            "bbox": [60.0, 200.0, 72.0, 212.0],
            "crop": crop("mark", f"mark_{item_id}_yes"),
        }
        entry_: dict[str, Any] = {
            "answer": "yes",
            "choice": None,
            "marks": [mark],
            "required": d["required"],
            "points_max": d["points"],
            "points": 0 if d["required"] else d["points"],
            "evidence": [],
            "title": d["statement"][:28] or f"項目 {item_id}",
            "statement": d["statement"],
            "section": d["section"],
            "section_title": d["section_title"],
        }
        if d["scoring"] == "choice":
            entry_["choice"] = "other_building" if item_id.startswith("3-") else "no_guidance"
            entry_["points"] = 3 if item_id.startswith("3-") else 5
        if d["scoring"] == "reviewer":
            entry_["points"] = 4 if decision == "pass" else None
        for ev in d["evidence"]:
            if ev in ("doc", "doc|url"):
                if item_id in att_of:
                    entry_["evidence"].append(
                        {
                            "kind": "document",
                            "status": "present",
                            "attachments": [att_of[item_id]],
                            "page": None,
                            "bbox": None,
                            "text": None,
                        }
                    )
                else:
                    entry_["evidence"].append(
                        {"kind": "url_path", "status": "present", "text": "トップページ → サポート → セキュリティ情報"}
                    )
            elif ev == "url":
                entry_["evidence"].append(
                    {"kind": "url_path", "status": "present", "page": ref["page"], "text": "トップページ → 会社概要 → 個人情報保護方針"}
                )
            elif ev in ("sign", "seal"):
                kind = "signature" if ev == "sign" else "seal"
                entry_["evidence"].append(
                    {
                        "kind": kind,
                        "status": "present",
                        "page": ref["page"],
                        "file": ref["file"],
                        "bbox": [380.0, 300.0, 540.0, 340.0],
                        "crop": crop(kind if kind == "seal" else "signature", f"{kind}_{item_id}"),
                    }
                )
            elif ev == "text":
                entry_["evidence"].append(
                    {
                        "kind": "text",
                        "status": "present",
                        "page": ref["page"],
                        "text": "情報システム部 部長　山田 太郎",
                        "crop": crop("field", f"text_{item_id}", "山田 太郎"),
                    }
                )
        items[item_id] = entry_

    def flag(code: str, severity: str, item: str, message: str) -> None:
        flags.append(
            {"code": code, "severity": severity, "item": item, "message": message, "pages": [form_page[item]] if item in form_page else []}
        )

    if problems:
        it = items["2-1-2"]
        it["answer"] = "uncertain"
        it["marks"][0].update(state="uncertain", score=0.09)
        flag("uncertain_mark", "warning", "2-1-2", "「はい」欄の印が薄く、判定できません（濃度 0.09）。")
        it = items["3-1-4"]
        it["answer"], it["points"] = "conflict", 0
        it["marks"].append(
            {
                "option": "no",
                "state": "checked",
                "score": 0.28,
                "page": form_page["3-1-4"],
                "bbox": [60.0, 230.0, 72.0, 242.0],
                "crop": crop("mark", "mark_3-1-4_no"),
            }
        )
        flag("conflicting_answer", "error", "3-1-4", "「はい」と「いいえ」の両方に印があります。")
        for ev in items["3-1-3"]["evidence"]:
            if ev["kind"] == "seal":
                ev.update(status="missing", crop=crop("empty", "seal_3-1-3_empty"))
        items["3-1-3"]["points"] = 0
        flag("missing_seal", "error", "3-1-3", "担当者の押印がありません。")
        for ev in items["5-1-2"]["evidence"]:
            if ev["kind"] == "signature":
                ev.update(status="missing", crop=crop("empty", "signature_5-1-2_empty"))
        items["5-1-2"]["points"] = 0
        flag("missing_signature", "error", "5-1-2", "担当者の署名（肉筆）がありません。")
        for r in ("7-1-1", "7-1-2", "7-1-3"):
            flag("zero_point_item", "info", r, "審査員の採点待ちです（review.yaml の items で点数を記入）。")
    if decision == "fail":
        it = items["4-1-1"]
        it["answer"] = "no"
        it["marks"][0].update(option="no")
        flag("required_not_met", "error", "4-1-1", "必須項目が「いいえ」です。")

    required_total = sum(1 for d in defs if d["required"])
    required_met = sum(1 for i, it in items.items() if it["required"] and it["answer"] == "yes")
    points = sum(it["points"] or 0 for it in items.values() if not it["required"])
    reasons = {
        "pass": [f"必須 {required_met}/{required_total} 項目を充足し、推奨点 {points} 点が基準以上"],
        "needs_review": ["7-1-1〜7-1-3 が未採点", "判読できない印・矛盾する回答があります"],
        "fail": ["必須項目 4-1-1 が満たされていません"],
    }[decision]
    result = {
        "schema": "isp-mark-review/1",
        "submission": name,
        "submission_name": name,
        "form": "renewal",
        "sources": sources,
        "applicant": {
            "service_name": _field("テスト光インターネット", "form.pdf"),
            "url": _field("https://www.example.jp/?a=1&b=<2>", "form.pdf"),
            "company_name": _field(company, "form.pdf"),
            "representative": {**_field(None, "form.pdf", "handwritten"), "crop": crop("signature", "field_representative")},
            "address": _field("東京都千代田区霞が関1-2-3", "form.pdf"),
            "tel": _field("03-1234-5678", "form.pdf"),
            "fax": _field(None, "form.pdf", "empty"),
            "registration_date": _field("2015年4月1日", "form.pdf"),
            "registration_number": _field("A-27-12345", "form.pdf"),
            "user_count": _field("約12,000", "form.pdf", "uncertain", crop("field", "field_user_count", "12,000")),
        },
        "declarations": {
            key: {
                "answer": "yes",
                "choice": choice,
                "marks": [
                    {
                        "option": choice,
                        "state": "checked",
                        "score": 0.3,
                        "page": {"file": "form.pdf", "page": 2},
                        "bbox": [50.0, 400.0, 62.0, 412.0],
                    }
                ],
            }
            for key, choice in (("upstream_provider", "independent"), ("security_outage", "none"), ("personal_data_leak", "none"))
        },
        "items": items,
        "attachments": attachments,
        "flags": flags,
        "score": {
            "required_met": required_met,
            "required_total": required_total,
            "points": points,
            "points_max": sum(d["points"] for d in defs),
            "threshold": 92,
            "decision": decision,
            "reasons": reasons,
        },
    }
    if decision == "pass":  # signed by a reviewer on TODAY: the certificate is due (rules/signoff.py)
        result["review"] = {
            "reviewer": "山田 太郎",
            "signoff": {"first": {"name": "山田 太郎", "date": "2026-04-01"}, "second": None},
            "file_sha256": None,
            "certificate": {"license_number": None, "issued": "2026-04-01", "issued_from": "signoff.first", "issue": True, "reason": None},
        }
    return Submission(name, result, entry, out_dir)


def _field(value: str | None, file: str, status: str = "read", crop: str | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {
        "value": value,
        "status": "empty" if value is None and status == "read" else status,
        "confidence": 0.93 if value else None,
        "page": {"file": file, "page": 1},
        "bbox": [150.0, 220.0, 480.0, 240.0],
    }
    if crop:
        f["crop"] = crop
    return f


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validate(result: dict[str, Any]) -> None:
    """Validate a result dict against the contract's schema."""
    import jsonschema

    schema_path = next((p for p in SCHEMA_CANDIDATES if p.is_file()), None)
    if schema_path is None:
        pytest.skip("result.schema.json not found")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(result)


def council() -> Any:
    from pipeline.output.certificate import load_council

    return load_council(ROOT / "council.yaml")


def flat(text: str) -> str:
    """Text without any whitespace (PDF extraction and the templates' 全角 spaces vary)."""
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path, first: int | None = None) -> list[str]:
    """The text of each page (only the first `first` pages when given)."""
    from pypdf import PdfReader

    pages = PdfReader(str(path)).pages
    return [page.extract_text() or "" for page in list(pages)[:first]]


def outline_titles(path: Path) -> list[tuple[str, int]]:
    import pikepdf

    from pipeline.output.merge import read_outline

    with pikepdf.open(path) as pdf:
        return [(t, p) for t, p, _ in read_outline(pdf)]


def docx_text(path: Path) -> str:
    import docx

    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.append(cell.text)
    return "\n".join(parts)


def docx_table_text(path: Path, header: tuple[str, ...]) -> str:
    """The text of the first table whose header row starts with the given cells."""
    import docx

    for table in docx.Document(str(path)).tables:
        first = [c.text for c in table.rows[0].cells]
        if tuple(first[: len(header)]) == header:
            return "\n".join(c.text for row in table.rows for c in row.cells)
    raise AssertionError(f"no table with header {header}")


# --- fixtures ------------------------------------------------------------------------------------

TODAY = dt.date(2026, 4, 1)


@pytest.fixture(scope="module")
def converter() -> Any:
    from pipeline.tools.libreoffice import Converter

    with Converter(timeout_s=120) as conv:
        yield conv


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, converter: Any) -> dict[str, Any]:
    """Three submissions rendered as one batch: needs_review (hostile name), pass, fail."""
    from pipeline.output.dossier import finish_pdf, render_docx

    root = tmp_path_factory.mktemp("render")
    subs = {
        "review": build_submission(root, "申請A", company=HOSTILE, decision="needs_review"),
        "pass": build_submission(root, "申請B", decision="pass"),
        "fail": build_submission(root, "申請C", decision="fail"),
    }
    before = {k: {p.name: _sha(p) for p in s.inbox_entry.iterdir()} for k, s in subs.items()}
    cfg = council()
    jobs = [
        render_docx(s.result, inbox_entry=s.inbox_entry, out_dir=s.out_dir, council=cfg, review=None, today=TODAY) for s in subs.values()
    ]
    outcomes = finish_pdf(jobs, converter)
    return {"subs": subs, "files": dict(zip(subs, outcomes, strict=True)), "before": before, "root": root}


# --- tests -----------------------------------------------------------------------------------------


def test_helper_results_are_schema_valid(batch: dict[str, Any]) -> None:
    """Ensures that the test inputs are what the contract allows (56 items, schema-valid)."""
    for sub in batch["subs"].values():
        validate(sub.result)
        assert len(sub.result["items"]) == 56


def test_batch_renders_every_submission(batch: dict[str, Any]) -> None:
    """Ensures that a batch produces dossier.docx and dossier.pdf for every submission."""
    from pipeline.output.dossier import RenderedFiles

    for key, files in batch["files"].items():
        assert isinstance(files, RenderedFiles), f"{key}: {files}"
        assert files.dossier_docx.is_file() and files.dossier_pdf.is_file()
        assert not list(files.dossier_pdf.parent.glob(".render-*")), "work folder left behind"


def test_page_count_is_review_plus_attachments_without_separators(batch: dict[str, Any]) -> None:
    """Ensures that the dossier has review pages + every attachment page, with no separator page for an attachment that has pages."""
    from pypdf import PdfReader

    for key, sub in batch["subs"].items():
        files = batch["files"][key]
        n = len(PdfReader(str(files.dossier_pdf)).pages)
        pageless = sum(1 for a in sub.result["attachments"] if not a.get("pages"))
        assert files.separator_pages == pageless
        assert files.attachment_pages == sub.attachment_pages
        assert n == files.review_pages + pageless + sub.attachment_pages + files.appendix_pages
        assert files.review_pages >= 3


def test_key_values_and_footer_in_pdf_text(batch: dict[str, Any]) -> None:
    """Ensures that the cover's key values are in the PDF text and every page has the footer."""
    sub, files = batch["subs"]["pass"], batch["files"]["pass"]
    pages = pdf_text(files.dossier_pdf)
    cover = flat(pages[0])
    points = sub.result["score"]["points"]
    for needle in (
        "審査調書",
        "株式会社テスト通信",
        "テスト光インターネット",
        "https://www.example.jp/",
        "A-27-12345",
        "約12,000",
        "合格",
        "29/29項目を充足",
        f"{points}点/119点",
        "合格基準92点以上",
        "申請B",
    ):
        assert needle in cover, needle
    text = flat("".join(pages[: files.review_pages]))
    for item_id in sub.result["items"]:
        assert item_id in text
    total = len(pages)
    for i, page in enumerate(pages, start=1):
        assert f"申請B—{i}/{total}" in flat(page), f"footer missing on page {i}"


def test_decision_words(batch: dict[str, Any]) -> None:
    """Ensures that the decision shows as 合格 / 不合格 / 要確認, the score as a range while unresolved."""
    cover = {k: flat(pdf_text(f.dossier_pdf, 1)[0]) for k, f in batch["files"].items()}
    assert "合格証を発行します（使用許諾番号ISP-2026-0001）" in cover["pass"] and "不合格" not in cover["pass"]
    assert "不合格" in cover["fail"] and "27/29項目を充足" in cover["fail"]
    assert "要確認" in cover["review"]
    pts = batch["subs"]["review"].result["score"]["points"]
    assert f"{pts}〜{pts + 15}点/119点" in cover["review"]
    assert "未確定：7-1-1,7-1-2,7-1-3" in cover["review"]
    assert "エラー4件" in cover["review"] and "警告3件" in cover["review"]


def test_hostile_company_name_survives_literally(batch: dict[str, Any]) -> None:
    """Ensures that <, &, {{ }} and quotes in applicant text come out literally in DOCX and PDF."""
    files = batch["files"]["review"]
    assert HOSTILE in docx_text(files.dossier_docx)
    cover = flat(pdf_text(files.dossier_pdf, 1)[0])
    assert flat(HOSTILE) in cover
    assert "https://www.example.jp/?a=1&b=<2>" in cover


def test_outline_has_cover_sections_items_and_every_attachment(batch: dict[str, Any]) -> None:
    """Ensures that the outline has the cover, the review sections, items with documents and each attachment."""
    for key, sub in batch["subs"].items():
        files = batch["files"][key]
        outline = outline_titles(files.dossier_pdf)
        titles = [t for t, _ in outline]
        assert outline[0][1] == 0, "first bookmark is the cover"
        for heading in ("審査結果", "要確認事項", "審査項目一覧", "添付資料"):
            assert any(t.startswith(heading) for t in titles), heading
        for att in sub.result["attachments"]:
            assert any(t.startswith(att["id"]) for t in titles), att["id"]
        assert any(t.startswith("1-1-1") for t in titles)
        if key != "pass":
            assert "右肩表示なし・不明の資料" in titles


def test_attachments_filed_in_item_order_under_header_bands(batch: dict[str, Any]) -> None:
    """Ensures that each attachment's first page carries its header band, in item order, unlabelled ones last."""
    sub, files = batch["subs"]["review"], batch["files"]["review"]
    pages = pdf_text(files.dossier_pdf)
    seps = [i for i, t in enumerate(pages) if i >= files.review_pages and re.search(r"添付資料att-\d+", flat(t))]
    assert len(seps) == len(sub.result["attachments"])
    assert seps[0] == files.review_pages
    order = [re.search(r"添付資料\s*(att-\d+)", pages[i]).group(1) for i in seps]  # type: ignore[union-attr]
    labelled = [a["id"] for a in sub.result["attachments"] if a["labels"]]
    assert order[-2:] == [a["id"] for a in sub.result["attachments"] if not a["labels"]][-2:] or set(order[-2:]) == {
        a["id"] for a in sub.result["attachments"] if not a["labels"]
    }
    assert order.index("att-01") < order.index(labelled[-1])
    # 3-1-6's photo comes between 3-1-1's and 3-2-1's documents.
    by_label = {a["labels"][0]: a["id"] for a in sub.result["attachments"] if a["labels"]}
    assert order.index(by_label["3-1-1"]) < order.index(by_label["3-1-6"]) < order.index(by_label["3-2-1"])
    # The page with 1-1-1's band is its first page, the band above the document's own text.
    i = seps[order.index(by_label["1-1-1"])]
    assert "1-1-1 関係規程（1/2）" in pages[i]
    import pdfplumber

    with pdfplumber.open(files.dossier_pdf) as pdf:
        words = pdf.pages[i].extract_words()
    band_top = min(w["top"] for w in words if w["text"].startswith("添付資料"))
    doc_top = min(w["top"] for w in words if "関係規程" in w["text"])
    assert band_top < doc_top, "the band sits above the document's own text"
    # The item table cites the dossier page of the document.
    assert f"{by_label['1-1-1']}（本調書 p.{i + 1}–{i + 2}）" in docx_text(files.dossier_docx)


def test_image_pages_are_embedded_as_a4(batch: dict[str, Any]) -> None:
    """Ensures that PNG and TIFF pages become A4 pages with the image on them."""
    import pikepdf

    files = batch["files"]["review"]
    with pikepdf.open(files.dossier_pdf) as pdf:
        images = 0
        for page in pdf.pages:
            w, h = sorted(abs(float(v)) for v in (page.mediabox[2], page.mediabox[3]))
            assert abs(w - 595.28) < 1 and abs(h - 841.89) < 1
            xobjects = page.obj.Resources.get("/XObject", {})
            images += sum(1 for x in xobjects.values() if x.get("/Subtype") == "/Image")
        assert images >= 3  # photo.png + two fax frames


def test_fonts_are_embedded(batch: dict[str, Any]) -> None:
    """Ensures that pdffonts reports every font of the dossier and certificate as embedded."""
    for path in (batch["files"]["review"].dossier_pdf, batch["files"]["pass"].certificate_pdf):
        out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
        rows = [line for line in out.splitlines()[2:] if line.strip()]
        assert rows, "no fonts listed"
        assert any("IPAex" in r for r in rows)
        for row in rows:
            cols = row.split()
            # name type [encoding…] emb sub uni object ID: emb is the 5th field from the end
            assert cols[-5] == "yes", row


def test_docx_files_are_well_formed_for_word(batch: dict[str, Any]) -> None:
    """Ensures that the DOCX open with python-docx and every table cell keeps a paragraph (Word's rule)."""
    import docx
    from lxml import etree

    for files in batch["files"].values():
        for path in (files.dossier_docx, files.certificate_docx):
            if path is None:
                continue
            docx.Document(str(path))
            with zipfile.ZipFile(path) as zf:
                assert zf.testzip() is None
                root = etree.fromstring(zf.read("word/document.xml"))
            ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
            for tc in root.iterfind(".//w:tc", ns):
                assert tc.find("w:p", ns) is not None, "a table cell without a paragraph"
            assert "{{" not in etree.tostring(root, encoding="unicode").replace("{{ x }}", "")
            ids = [el.get("id") for el in root.iterfind(".//{*}docPr")]
            assert len(ids) == len(set(ids)), "duplicate drawing ids"


def test_crops_are_images_in_docx(batch: dict[str, Any]) -> None:
    """Ensures that the needs-your-eyes list and the item table carry the crops as images."""
    with zipfile.ZipFile(batch["files"]["review"].dossier_docx) as zf:
        media = [n for n in zf.namelist() if n.startswith("word/media/")]
    assert len(media) >= 10


def test_needs_your_eyes_lists_every_problem(batch: dict[str, Any]) -> None:
    """Ensures that uncertain marks, conflicts, missing seal/signature, unreadable and unlabelled files are listed."""
    section = docx_table_text(batch["files"]["review"].dossier_docx, header=("No", "区分"))
    for needle in (
        "判読不確実な印",
        "回答の矛盾",
        "押印なし",
        "署名なし",
        "読込不可ファイル",
        "右肩表示なし",
        "不明な右肩表示",
        "2-1-2",
        "3-1-4",
        "3-1-3",
        "5-1-2",
        "broken.pdf",
        "fax.tif p.1–2",
        "ユーザー数",
    ):
        assert needle in section, needle


def test_certificate_only_for_pass(batch: dict[str, Any]) -> None:
    """Ensures that a pass gets a certificate with its terms, and fail / needs_review get none."""
    files = batch["files"]
    assert files["review"].certificate_pdf is None and files["fail"].certificate_pdf is None
    assert not (batch["subs"]["fail"].out_dir / "certificate.pdf").exists()
    cert = files["pass"]
    assert cert.license_number == "ISP-2026-0001"
    text = flat("".join(pdf_text(cert.certificate_pdf)))
    for needle in (
        "合格証",
        "ISP-2026-0001",
        "株式会社テスト通信",
        "テスト光インターネット",
        "令和8年4月1日",
        "令和10年3月31日",
        "インターネット接続サービス安全・安心マーク推進協議会",
        "会長会田容弘",
        "使用を許諾します",
    ):
        assert needle in text, needle
    assert len(pdf_text(cert.certificate_pdf)) == 1, "certificate fits on one page"


def test_originals_are_not_modified(batch: dict[str, Any]) -> None:
    """Ensures that the inbox files are byte-identical after rendering."""
    for key, sub in batch["subs"].items():
        assert {p.name: _sha(p) for p in sub.inbox_entry.iterdir()} == batch["before"][key]


def test_rerun_updates_dossier_and_removes_stale_certificate(batch: dict[str, Any], converter: Any) -> None:
    """Ensures that re-rendering reuses the license number, and a pass turned fail loses its certificate."""
    from pipeline.output.dossier import render_submission

    sub = batch["subs"]["pass"]
    cfg = council()
    files = render_submission(
        sub.result,
        inbox_entry=sub.inbox_entry,
        out_dir=sub.out_dir,
        converter=converter,
        council=cfg,
        review=None,
        today=TODAY + dt.timedelta(days=40),
    )
    assert files.license_number == "ISP-2026-0001"
    assert files.conversions == 1, "the page count of the previous dossier was reused"
    assert "令和8年4月1日" in flat("".join(pdf_text(files.certificate_pdf)))
    changed = copy.deepcopy(sub.result)
    changed["score"]["decision"] = "fail"
    changed["score"]["reasons"] = ["7-1-2 が 0 点（review.yaml）"]
    changed["items"]["7-1-2"]["points"] = 0
    files = render_submission(
        changed,
        inbox_entry=sub.inbox_entry,
        out_dir=sub.out_dir,
        converter=converter,
        council=cfg,
        review={"items": {"7-1-2": {"points": 0}}},
        today=TODAY,
    )
    assert files.certificate_pdf is None
    assert not (sub.out_dir / "certificate.pdf").exists() and not (sub.out_dir / "certificate.docx").exists()
    text = flat(pdf_text(files.dossier_pdf, 1)[0])
    assert "不合格" in text and "7-1-2が0点" in text
    # Back to pass with a reviewer-given number and date: they win.
    back = copy.deepcopy(sub.result)
    back["review"]["certificate"].update(license_number="第2026-77号", issued="2026-05-10", issued_from="certificate.issued")
    files = render_submission(
        back, inbox_entry=sub.inbox_entry, out_dir=sub.out_dir, converter=converter, council=cfg, review=back["review"], today=TODAY
    )
    text = flat("".join(pdf_text(files.certificate_pdf)))
    assert "第2026-77号" in text and "令和8年5月10日" in text and "令和10年5月9日" in text


def test_license_counter_assigns_once_per_submission(tmp_path: Path) -> None:
    """Ensures that the counter gives consecutive numbers, remembers them, and restarts each year."""
    from pipeline.output.certificate import certificate_terms

    cfg = council()
    a = certificate_terms("A", None, cfg, tmp_path, dt.date(2026, 1, 5))
    b = certificate_terms("B", None, cfg, tmp_path, dt.date(2026, 2, 5))
    a2 = certificate_terms("A", None, cfg, tmp_path, dt.date(2026, 9, 9))
    c = certificate_terms("C", None, cfg, tmp_path, dt.date(2027, 1, 5))
    assert (a.license_number, b.license_number, c.license_number) == ("ISP-2026-0001", "ISP-2026-0002", "ISP-2027-0001")
    assert a2.license_number == a.license_number and a2.issued == dt.date(2026, 1, 5)
    assert a.valid_until == dt.date(2028, 1, 4)
    rows = (tmp_path / "licenses.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("submission,license_number") and len(rows) == 4


def test_unreadable_attachment_page_becomes_placeholder(tmp_path: Path, converter: Any) -> None:
    """Ensures that a missing or out-of-range attachment page is replaced by a marked page, keeping the count."""
    from pipeline.output.dossier import render_submission

    sub = build_submission(tmp_path, "申請D", decision="pass", doc_pages=1)
    result = copy.deepcopy(sub.result)
    result["attachments"] = result["attachments"][:4]
    result["attachments"][0]["pages"].append({"file": "docs.pdf", "page": 999})
    result["attachments"][1]["pages"] = [{"file": "gone.pdf", "page": 1}]
    files = render_submission(
        result, inbox_entry=sub.inbox_entry, out_dir=sub.out_dir, converter=converter, council=council(), review=None, today=TODAY
    )
    assert len(files.placeholders) == 2
    pages = pdf_text(files.dossier_pdf)
    assert sum("このページを読み込めませんでした" in p for p in pages) == 2
    assert files.total_pages == files.review_pages + sum(len(a["pages"]) for a in result["attachments"]) + files.appendix_pages


def test_single_file_submission(tmp_path: Path, converter: Any) -> None:
    """Ensures that an inbox entry that is one PDF file serves its own attachment pages."""
    from pipeline.output.dossier import render_submission

    sub = build_submission(tmp_path, "申請E", decision="pass", doc_pages=1)
    single = tmp_path / "inbox" / "申請E.pdf"
    single.write_bytes((sub.inbox_entry / "docs.pdf").read_bytes())
    result = copy.deepcopy(sub.result)
    result["attachments"] = [a for a in result["attachments"] if a["pages"][0]["file"] == "docs.pdf"][:3]
    for a in result["attachments"]:
        a["pages"] = [{"file": "申請E.pdf", "page": p["page"]} for p in a["pages"]]
    files = render_submission(
        result, inbox_entry=single, out_dir=sub.out_dir, converter=converter, council=council(), review=None, today=TODAY
    )
    assert files.placeholders == [] and files.attachment_pages == 3


def test_converter_errors_are_plain(tmp_path: Path) -> None:
    """Ensures that a missing LibreOffice and a hung one end in a ConversionError, not a hang."""
    from pipeline.tools.libreoffice import ConversionError, Converter

    doc = tmp_path / "a.docx"
    doc.write_bytes(b"x")
    with pytest.raises(ConversionError, match="not found"), Converter(soffice=str(tmp_path / "no-soffice")) as conv:
        conv.convert(doc)
    fake = tmp_path / "fake-soffice"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    with Converter(soffice=str(fake), mode="batch", timeout_s=0.5) as conv:
        conv.timeout_s = -9.5  # the batch budget is timeout + 10 s per document: make it 0.5 s in all
        with pytest.raises(ConversionError, match="did not finish"):
            conv.convert(doc)


def test_plan_pages() -> None:
    """Ensures that the page planner numbers attachments after the review pages."""
    from pipeline.output.merge import plan_pages

    plans = plan_pages(10, [("a", 2), ("b", 0), ("c", 3)])
    assert (plans["a"].separator, plans["a"].first, plans["a"].last) == (11, 11, 12)
    assert (plans["b"].separator, plans["b"].first) == (13, None)  # no page: a separator page of its own
    assert (plans["c"].separator, plans["c"].first, plans["c"].last) == (14, 14, 16)


def test_a_printed_cover_field_not_read_nor_confirmed_keeps_the_certificate_back(tmp_path: Path) -> None:
    """Ensures that settle_certificate issues nothing (and takes no number) for a signed pass whose company name is uncertain, and issues once the reviewer confirmed it."""
    from pipeline.output.certificate import settle_certificate

    review = {"reviewer": "山田 太郎", "certificate": {"issue": True, "issued": "2026-12-07", "license_number": None}}
    result = {
        "submission": "申請Z",
        "score": {"decision": "pass"},
        "review": review,
        "applicant": {
            "company_name": {"value": "株式会社テスト", "status": "uncertain"},
            "service_name": {"value": "光", "status": "read"},
        },
    }
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    assert settle_certificate(result, council(), outbox) is None
    assert not (outbox / "licenses.csv").exists(), "no number taken"
    result["applicant"]["company_name"].update(status="read", overridden=True)
    terms = settle_certificate(result, council(), outbox)
    assert terms is not None and terms.issued.isoformat() == "2026-12-07"


def test_the_certificate_prints_only_the_fields_the_rules_check() -> None:
    """Ensures that the certificate's context reads exactly the cover fields rules/signoff checks before issuing one, with the reviewer's value."""
    import datetime as dt

    from pipeline.output.certificate import PRINTED_FIELDS, CertificateTerms
    from pipeline.output.dossier.certificate_doc import certificate_context
    from pipeline.rules.signoff import CERTIFICATE_FIELDS

    assert tuple(PRINTED_FIELDS) == CERTIFICATE_FIELDS
    keys = (
        "service_name",
        "url",
        "company_name",
        "representative",
        "address",
        "tel",
        "fax",
        "registration_date",
        "registration_number",
        "user_count",
    )
    applicant = {k: {"value": f"<{k}>", "status": "read"} for k in keys}
    day = dt.date(2026, 12, 7)
    ctx = certificate_context({"applicant": applicant}, CertificateTerms("ISP-1", day, day, day, "review"), council())
    shown = {k for k in keys if any(f"<{k}>" in str(v) for v in ctx.values())}
    assert shown == set(CERTIFICATE_FIELDS)
