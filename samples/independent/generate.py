"""Make K submissions with their truth: printings, fillings (word, word_scan, hand_scan,
project_hand_scan), attachments, and OUT/truth, OUT/printing_of.json."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from samples.independent import attachments, docbuild, fill_hand, fill_word, itemsdata, office, plan, scan, seedform, style
from samples.independent.paths import PROJECT_BLANK

WAYS = ("word", "word_scan", "hand_scan", "project_hand_scan")


def _pages(pdf: bytes) -> int:
    import io

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _concat(pdfs: list[bytes]) -> bytes:
    import io

    w = PdfWriter()
    for p in pdfs:
        for page in PdfReader(io.BytesIO(p)).pages:
            w.add_page(page)
    b = io.BytesIO()
    w.write(b)
    return b.getvalue()


def make_printings(out: Path, seed: int, count: int) -> dict[str, Path]:
    """Our own printings of the questionnaire, blank, each with its DOCX and style."""
    rng = random.Random(seed * 7919 + 1)
    parts = seedform.parse()
    styles = [style.random_style(rng, f"ind{seed}-p{j}") for j in range(count)]
    docs = [docbuild.build_docx(parts, s) for s in styles]
    pdfs = office.to_pdf_many(docs)
    result: dict[str, Path] = {}
    for s, d, p in zip(styles, docs, pdfs):
        folder = out / "printings" / s.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "blank.docx").write_bytes(d)
        (folder / "blank.pdf").write_bytes(p)
        (folder / "style.json").write_text(json.dumps(s.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        result[s.name] = folder
    return result


def _answer_truth(data: itemsdata.ItemsData, pl: plan.Plan, drawn: dict | None) -> tuple[dict, dict]:
    states = pl.box_states(data)
    styles = {(m["item"], m["option"]): m["style"] for m in (drawn or {}).get("marks", [])}
    decls = {}
    for d in data.declarations.values():
        a = pl.answers[d.id]
        decls[d.id] = {
            "answer": "blank" if a == "blank" else "yes",
            "choice": None if a == "blank" else a,
            "marks": {k: ("checked" if states[(d.id, k)] else "empty") for k, _, _ in d.options},
            "mark_styles": {k: styles.get((d.id, k)) for k, _, _ in d.options if states[(d.id, k)]},
        }
        if d.id in pl.decl_subs and pl.decl_subs[d.id]:
            decls[d.id]["sub_choice"] = pl.decl_subs[d.id]
    items = {}
    for it in data.items.values():
        opts = ["yes"] + (["no"] if it.negative else [])
        items[it.id] = {
            "answer": pl.answers[it.id],
            "choice": pl.choices.get(it.id),
            "marks": {o: ("checked" if states[(it.id, o)] else "empty") for o in opts},
            "mark_styles": {o: styles.get((it.id, o)) for o in opts if states[(it.id, o)]},
            "texts": {n: pl.texts[f"item.{it.id}.{n}"] for n, _ in it.blanks if f"item.{it.id}.{n}" in pl.texts},
            "url_path": list(pl.urls[it.id]) if it.id in pl.urls else None,
            "signed": it.id in pl.signed,
            "sealed": it.id in pl.sealed,
            "required": it.required,
            "evidence": list(it.evidence),
        }
    return decls, items


def make_submission(out: Path, seed: int, index: int, way: str, printings: dict[str, Path], max_attachments: int = 99) -> str:
    rng = random.Random(seed * 1_000_003 + index)
    data = itemsdata.load()
    pl = plan.make_plan(rng, data, max_attachments)
    pl.texts["cover.date"] = f"令和{rng.randint(6, 8)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    pl.texts["closing.date"] = pl.texts["cover.date"]
    for d, sub in pl.decl_subs.items():
        if sub == "already_reported":
            pl.texts[f"{d}.submitted_date"] = f"令和{rng.randint(5, 7)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    if way == "project_hand_scan":
        pname, blank = "renewal", PROJECT_BLANK
    else:
        pname = rng.choice(sorted(printings))
        blank = printings[pname] / "blank.pdf"
    name = f"ind{seed}-{index:02d}-{way}"
    folder = out / "inbox" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    settings = scan.random_settings(rng) if way != "word" else None
    drawn = None
    glyph = None
    if way in ("word", "word_scan"):
        st = style.PrintStyle(**{**json.loads((printings[pname] / "style.json").read_text(encoding="utf-8")),
                                 "margins_mm": tuple(json.loads((printings[pname] / "style.json").read_text())["margins_mm"]),
                                 "breaks_before": tuple(json.loads((printings[pname] / "style.json").read_text())["breaks_before"])})
        docx, form_pdf, glyph = fill_word.fill_in_word(seedform.parse(), st, pl, rng)
        (out / "printings" / pname / f"{name}.filled.docx").write_bytes(docx)
        if way == "word_scan":
            assert settings
            form_pdf = scan.scan_pdf(form_pdf, settings, rng)
    else:
        assert settings
        pages, drawn = fill_hand.fill_by_hand(str(blank), pl, settings, rng)
        form_pdf = fill_hand.scan_pages(pages, settings, rng)

    # attachments: typed in Word, some scanned, some labelled by hand
    scanned_way = way != "word"
    company = pl.texts.get("cover.company_name", "")
    for a in pl.attachments:
        a.handwritten = rng.random() < (0.25 if scanned_way else 0.08)
        a.scanned = a.handwritten or rng.random() < (0.6 if scanned_way else 0.15)
        a.in_form_file = scanned_way and a.scanned and way != "word_scan" and rng.random() < 0.3
    made = [attachments.make_attachment(a, company, rng) for a in pl.attachments]
    pdfs = office.to_pdf_many([m[0] for m in made]) if made else []
    att_truth = []
    appended: list[bytes] = []
    form_name = rng.choice(["申請書.pdf", "form.pdf", "scan0001.pdf", "更新申請書 (記入済).pdf"])
    form_pages = _pages(form_pdf)
    extra_pages = 0
    order = list(range(len(made)))
    rng.shuffle(order)
    for n, idx in enumerate(order):
        a, (_, t), pdf = pl.attachments[idx], made[idx], pdfs[idx]
        a_settings = settings or scan.random_settings(rng)
        if a.handwritten:
            pages, hw = attachments.handwrite_label(pdf, a.labels, a_settings, rng)
            t.update(hw)
            pdf = fill_hand.scan_pages(pages, a_settings, rng)
        elif a.scanned:
            pdf = scan.scan_pdf(pdf, a_settings, rng)
        npages = _pages(pdf)
        t.update({"id": f"A{idx + 1:02d}", "scanned": a.scanned, "pages_count": npages})
        if a.in_form_file:
            t.update({"file": form_name, "pages": list(range(form_pages + extra_pages + 1, form_pages + extra_pages + npages + 1))})
            extra_pages += npages
            appended.append(pdf)
        else:
            fname = rng.choice([f"添付{n + 1}.pdf", f"att_{n + 1:02d}.pdf", f"資料 ({n + 1}).pdf"])
            (folder / fname).write_bytes(pdf)
            t.update({"file": fname, "pages": list(range(1, npages + 1))})
        att_truth.append(t)
    (folder / form_name).write_bytes(_concat([form_pdf] + appended) if appended else form_pdf)

    decls, items = _answer_truth(data, pl, drawn)
    for it in items:
        items[it]["attachments"] = [t["id"] for t in att_truth if it in t["labels"]]
    truth = {
        "submission": name, "seed": seed, "index": index, "way": way, "printing": pname,
        "scan": settings.as_dict() if settings else None, "word_glyph": glyph,
        "files": sorted([{"file": form_name, "pages": form_pages + extra_pages, "role": "form" if not appended else "form+attachments"}]
                        + [{"file": t["file"], "pages": t["pages_count"], "role": "attachment"} for t in att_truth if t["file"] != form_name],
                        key=lambda f: f["file"]),
        "form_pages": [{"file": form_name, "page": i + 1} for i in range(form_pages)],
        "declarations": decls,
        "items": items,
        "applicant": {k.split(".", 1)[1]: v for k, v in pl.texts.items() if k.startswith("cover.")},
        "contacts": {k: v for k, v in pl.texts.items() if k.split(".")[0] in ("respondent", "contact", "security_contact")},
        "attachments": sorted(att_truth, key=lambda t: t["id"]),
        "missing_document": plan.expected_missing_documents(data, pl),
        "stray_dots": (drawn or {}).get("strays", []),
        "notes": "pages are 1-based as in the result contract; form_pages are the cover and answer-sheet pages",
    }
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    (tdir / f"{name}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return pname


def generate(out: Path, seed: int, n: int, ways: tuple[str, ...] = WAYS, max_attachments: int = 99) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    printings = make_printings(out, seed, max(1, min(3, (n + 1) // 2)))
    start = 0
    mapping: dict[str, str] = {}
    pof = out / "printing_of.json"
    if pof.exists():
        mapping = json.loads(pof.read_text(encoding="utf-8"))
    for i in range(n):
        way = ways[(start + i) % len(ways)]
        pname = make_submission(out, seed, i, way, printings, max_attachments)
        mapping[f"ind{seed}-{i:02d}-{way}"] = pname
        pof.write_text(json.dumps(mapping, ensure_ascii=False, indent=1), encoding="utf-8")
    return mapping
