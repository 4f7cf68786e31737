"""Sample submissions for `make demo`: a filled AcroForm, a Word-style filled PDF and an incomplete one.

Each is what an applicant could really send: the answer sheet filled on a computer, with a
signature and a seal pasted where the form asks for them (電子印鑑), and the attachments each
labelled at the top right. The demo's review.yaml for the first one gives 7-1-1..7-1-3 their
points, so the demo shows a pass with its certificate as well as the other outcomes.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pikepdf
from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.definition import load_form
from pipeline.model.records import FormDef
from samples.fill import fill_acroform, print_filled
from samples.synth import attachments as synth

COMPANY = "株式会社サンプルネット"
TEXT_VALUES = {
    "service_name": "サンプル光インターネット",
    "url": "https://www.sample-net.example.jp/",
    "company_name": COMPANY,
    "representative": "代表取締役 見本 太郎",
    "address": "東京都千代田区見本町1-2-3",
    "tel": "03-1234-5678",
    "fax": "03-1234-5679",
    "registration_number": "A-12-3456",
    "user_count": "約 12,000",
}

CONTACT_VALUES = {"tel": "03-1234-5678", "fax": "03-1234-5679", "email": "info@sample-net.example.jp", "company_name": COMPANY}


def answers_all_yes(form: FormDef) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Marks and typed texts of a careful applicant: yes everywhere, every blank filled."""
    marks: set[tuple[str, str]] = set()
    for item in form.items:
        marks.add((item.id, "yes"))
        if item.choices:
            marks.add((item.id, max(item.choices, key=lambda c: c.points or 0).key))
    for decl in form.declarations:
        marks.add((decl.id, next(o.key for o in decl.options if o.role == "main")))
    texts: dict[str, str] = {}
    for page in form.pages:
        for f in page.fields:
            owner, _, key = f.name.partition(".")
            if f.kind == "url" and owner == "applicant":
                texts[f.name] = TEXT_VALUES["url"]
            elif f.kind == "url":
                texts[f.name] = "https://www.sample-net.example.jp/" + ("" if key == "url_top" else f"support/{owner}.html")
            elif f.kind == "text" and owner == "applicant":
                texts[f.name] = TEXT_VALUES.get(key, "記入例")
            elif f.kind == "text" and owner in {it.id for it in form.items}:
                texts[f.name] = "情報システム部 部長 見本 花子" if key in ("dept_title", "name") else "年2回の全社研修と月次点検を実施"
            elif f.kind == "text":  # the closing contact blocks: each line what it asks for
                texts[f.name] = CONTACT_VALUES.get(key, "情報システム部 見本 花子")
    return marks, texts


def _sign_and_seal(pdf_bytes: bytes, form: FormDef, skip: set[str], seed: int) -> bytes:
    """Paste a pen-stroke signature and a red seal into every signature and seal place, but `skip`."""
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(form.pages[0].width_pt, form.pages[0].height_pt), invariant=1)
    for page in form.pages:
        h = page.height_pt
        for f in page.fields:
            if f.name in skip or f.kind not in ("signature", "seal"):
                continue
            x0, y0, x1, y1 = f.bbox
            if f.kind == "signature":
                strokes, _ = synth.handwritten_strokes("1-2-3", rng, height=min(14.0, (y1 - y0) * 0.7))
                canvas.setStrokeColor(Color(0.1, 0.1, 0.35))
                canvas.setLineWidth(0.9)
                for stroke in strokes:
                    path = canvas.beginPath()
                    for i, (x, y) in enumerate(stroke):
                        px, py = x0 + 6 + x, h - (y0 + (y1 - y0) * 0.8) + y
                        path.moveTo(px, py) if i == 0 else path.lineTo(px, py)
                    canvas.drawPath(path)
            else:
                cx, cy = (x0 + x1) / 2, h - (y0 + y1) / 2
                r = min(x1 - x0, y1 - y0) * 0.42
                canvas.setStrokeColor(Color(0.85, 0.1, 0.1))
                canvas.setFillColor(Color(0.85, 0.1, 0.1))
                canvas.setLineWidth(1.4)
                canvas.circle(cx, cy, r)
                canvas.setFont("Helvetica-Bold", r)
                canvas.drawCentredString(cx, cy - r * 0.35, "S")
        canvas.showPage()
    canvas.save()
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf, pikepdf.open(io.BytesIO(buf.getvalue())) as over:
        for target, extra in zip(pdf.pages, over.pages, strict=False):
            target.add_overlay(extra, None)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _documents(items: list[str], seed: int, style: str = "typed", unlabeled: int = 0) -> list[synth.DocSpec]:
    """One short labelled document per item, plus `unlabeled` documents without a label."""
    rng = np.random.default_rng(seed)
    kinds = list(synth.KINDS)
    docs = []
    # Unlabelled documents come first: right behind the form, nothing before them to continue.
    for i, item_id in enumerate([""] * unlabeled + items):
        kind = kinds[i % len(kinds)]
        label = None
        if item_id:
            text = synth._fullwidth(item_id) if style == "fullwidth" else item_id
            label = synth.LabelSpec(style=style, text=text, ids=(item_id,), unknown=())  # type: ignore[arg-type]
        docs.append(synth.DocSpec(index=i, kind=kind, font="IPAexMincho", pages=synth._body(kind, 1 + i % 2, rng), label=label))
    return docs


def build_demo(inbox: Path, form_dir: Path) -> list[Path]:
    """Write the demo submissions into `inbox` (replacing earlier demo files); returns their paths."""
    form = load_form(form_dir)
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    doc_items = [it.id for it in form.items if "doc" in it.evidence]
    marks, texts = answers_all_yes(form)

    # 1. Filled in a PDF reader (AcroForm), signed and sealed electronically, documents in one PDF.
    first = inbox / "01_サンプルネット（AcroForm）"
    first.mkdir()
    values: dict[str, str | bool] = {f"{o}.{k}": True for o, k in marks}
    values.update({k: v for k, v in texts.items()})
    filled = fill_acroform(Path(form_dir) / "fillable.pdf", values)
    (first / "回答書.pdf").write_bytes(_sign_and_seal(filled, form, set(), seed=1))
    synth.write_pdf(_documents(doc_items, seed=1), str(first / "添付書類.pdf"))

    # 2. Typed in Word (■ in place of □), one attachment file per document, full-width labels.
    second = inbox / "02_example-isp (Word)"
    second.mkdir()
    plain = second / ".answer.pdf"
    print_filled(form_dir, marks, texts, "glyph", plain)
    (second / "answer_sheet.pdf").write_bytes(_sign_and_seal(plain.read_bytes(), form, set(), seed=2))
    plain.unlink()
    for k, doc in enumerate(_documents(doc_items, seed=2, style="fullwidth"), start=1):
        synth.write_pdf([doc], str(second / f"attachment_{k:02d}.pdf"))

    # 3. Incomplete, in one PDF: 1-1-2 answered no, 3-1-5 unsigned, 2 documents missing, one unlabelled.
    third = inbox / "03_incomplete.pdf"
    partial = set(marks) - {("1-1-2", "yes"), ("3-1-6", "yes")} | {("3-1-6", "no")}
    sheet = io.BytesIO()
    print_filled(form_dir, partial, texts, "drawn", third)
    signed = _sign_and_seal(third.read_bytes(), form, {"3-1-5.signature"}, seed=3)
    docs = _documents([i for i in doc_items if i not in ("1-1-2", "7-2-2", "2-3-1")], seed=3, unlabeled=1)
    synth.write_pdf(docs, sheet)
    with pikepdf.open(io.BytesIO(signed)) as pdf, pikepdf.open(io.BytesIO(sheet.getvalue())) as extra:
        pdf.pages.extend(extra.pages)
        pdf.save(third, deterministic_id=True)
    return sorted(inbox.iterdir())


DEMO_REVIEW = """\
# 審査者による訂正（デモ）: 7-1-1〜7-1-3 を添付書類の内容から採点し、一次審査に署名しています。
items:
  7-1-1: {points: 5}
  7-1-2: {points: 4}
  7-1-3: {points: 5}
certificate: {issued: 2026-12-01}
reviewer: 山田 太郎
signoff:
  first: {name: 山田 太郎, date: 2026-12-01}
"""


def seed_reviews(outbox: Path) -> None:
    """Give the first demo submission the reviewer's scores, as a reviewer would after reading it."""
    target = outbox / "01_サンプルネット（AcroForm）"
    target.mkdir(parents=True, exist_ok=True)
    (target / "review.yaml").write_text(DEMO_REVIEW, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """`python -m samples.demo`: build the demo inbox and seed the demo reviewer's review.yaml."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m samples.demo", description="build sample submissions into a demo inbox")
    parser.add_argument("--inbox", type=Path, default=Path("demo/inbox"))
    parser.add_argument("--outbox", type=Path, default=Path("demo/outbox"), help="where the demo reviewer's review.yaml goes")
    parser.add_argument("--form", type=Path, default=Path("forms/renewal"))
    args = parser.parse_args(argv)
    for path in build_demo(args.inbox, args.form):
        print(path)
    seed_reviews(args.outbox)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
