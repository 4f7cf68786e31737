"""Label reading and attachment grouping, measured on generated attachment stacks.

    .venv/bin/python bench/bench_labels.py [--docs 120] [--seed 7] [--dpi 150,200,300] [--ablation]
    .venv/bin/python bench/bench_labels.py --no-digital --per-style 25 --handwritten-per-style 150   # ≥ 300 of each
    .venv/bin/python bench/bench_labels.py --no-digital --ppocr    # with PP-OCR as the run passes it (Engines.ppocr)

Generates documents in every label style (pipeline/synth/attachments.py), writes them as one
born-digital PDF (typed styles) and scans all of them into one image stack (handwritten too),
then reads every page as the pipeline would (blank check, label, grouping) and prints:
label accuracy typed / handwritten, silent mislabels, uncertain rate, grouping accuracy,
blank detection, missing-document recall and precision (simulated per submission of ~10
documents: every document item answered yes), and the median seconds per page, both CPU time
of this process and wall time (the machine may be shared). ``--ablation`` re-reads the scans
with one reader at a time (eng, jpn, digits off) to compare them. The digit classifier is also
measured alone on held-out handwriting-like digits drawn by the generator.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pipeline.model.records import PageRef  # noqa: E402
from pipeline.reading import labels as L  # noqa: E402
from pipeline.reading.engines import Engines  # noqa: E402
from samples.synth import attachments as A  # noqa: E402

VERBOSE = False
NOTES: dict[PageRef, str] = {}  # the reader's note per page, for --verbose
ENGINES = Engines()  # this run's OCR engine and digit classifier, each loaded once


def _timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn(*args, **kw)
    return out, time.process_time() - c0, time.perf_counter() - w0


def judge(truth_doc: dict[str, Any], att: Any) -> str:
    """ok / uncertain / missing / silent for one document's label as reported on its attachment."""
    if att is None:
        return "missing"
    want = (tuple(truth_doc["labels"]), tuple(truth_doc["unknown_labels"]))
    if truth_doc["status"] == "missing":
        if att.label_status == "missing":
            return "ok"
        return "silent" if att.label_status == "read" else "uncertain"
    if att.label_status == "read":
        return "ok" if (att.labels, att.unknown_labels) == want else "silent"
    return att.label_status


def evaluate(
    truth: dict[str, Any], atts: list[Any], blanks_found: list[PageRef], per_submission: int, doc_items: tuple[str, ...]
) -> dict[str, Any]:
    """Compare with the attachments the grouping rule should make (truth["attachments"])."""
    by_first = {a.pages[0]: a for a in atts}
    res: dict[str, Counter[str]] = defaultdict(Counter)
    grouped = 0
    for d in truth["attachments"]:
        refs = tuple(PageRef(p["file"], p["page"]) for p in d["pages"])
        att = by_first.get(refs[0])
        kind = "handwritten" if d["handwritten"] else ("unlabelled" if d["status"] == "missing" else "typed")
        verdict = judge(d, att)
        res[kind][verdict] += 1
        res["style:" + d["style"]][verdict] += 1
        if verdict == "silent" or (VERBOSE and verdict != "ok"):
            got: tuple[Any, ...] | None = (
                (att.label_status, att.labels, att.unknown_labels, att.candidates, att.label_text) if att else None
            )
            note = NOTES.get(refs[0])
            got = (*got, note) if got and note else got
            print(f"  {verdict.upper()} {d['style']} {refs[0].file} p{refs[0].page}: written {d['written']!r} → {got}")
        if att is not None and tuple(att.pages) == refs:
            grouped += 1
        elif VERBOSE:
            made = [(a.id, a.label_status, a.label_text, [p.page for p in a.pages]) for a in atts if set(a.pages) & set(refs)]
            print(f"  GROUPING {d['style']} {refs[0].file} pages {[r.page for r in refs]} → {made}")
    truth_blanks = {PageRef(p["file"], p["page"]) for p in truth["blank_pages"]}
    # missing documents, simulated per submission of `per_submission` consecutive attachments, every
    # document item answered yes: flagged = items that no *read* label names (an uncertain label satisfies
    # nothing: its candidates are shown to the reviewer, and the item is still flagged)
    tp = fp = fn = 0
    exp = truth["attachments"]
    for s in range(0, len(exp), per_submission):
        chunk = exp[s : s + per_submission]
        pages = {PageRef(p["file"], p["page"]) for d in chunk for p in d["pages"]}
        present_true = {i for d in chunk for i in d["labels"]}
        sub_atts = [a for a in atts if a.pages[0] in pages]
        present_read = {i for a in sub_atts if a.label_status == "read" for i in a.labels}
        true_missing = set(doc_items) - present_true
        flagged = set(doc_items) - present_read
        tp += len(flagged & true_missing)
        fp += len(flagged - true_missing)
        fn += len(true_missing - flagged)
    return {
        "res": res,
        "grouped": grouped,
        "n_docs": len(exp),
        "n_atts": len(atts),
        "blank_ok": len(truth_blanks & set(blanks_found)),
        "blank_true": len(truth_blanks),
        "blank_false": len(set(blanks_found) - truth_blanks),
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
    }


def report(title: str, ev: dict[str, Any], cpu: list[float], wall: list[float]) -> None:
    res = ev["res"]
    print(f"\n== {title}")
    for kind in ("typed", "handwritten", "unlabelled"):
        c = res.get(kind, Counter())
        n = sum(c.values())
        if n:
            print(
                f"  {kind:12s} n={n:4d}  ok {c['ok'] / n:6.1%}  uncertain {c['uncertain'] / n:5.1%}  missing {c['missing'] / n:5.1%}  silent {c['silent']}"
            )
    silent = sum(res[k]["silent"] for k in ("typed", "handwritten", "unlabelled"))
    total = sum(sum(res[k].values()) for k in ("typed", "handwritten", "unlabelled"))
    unc = sum(res[k]["uncertain"] for k in ("typed", "handwritten", "unlabelled"))
    print(f"  silent mislabels {silent}   uncertain rate {unc / max(total, 1):.1%}")
    print(
        f"  grouping: {ev['grouped']}/{ev['n_docs']} expected attachments exactly ({ev['grouped'] / ev['n_docs']:.1%}), {ev['n_atts']} attachments made"
    )
    print(f"  blank pages: {ev['blank_ok']}/{ev['blank_true']} found, {ev['blank_false']} false")
    print(f"  missing_document recall {ev['recall']:.1%}  precision {ev['precision']:.1%}")
    if cpu:
        print(
            f"  per page: CPU median {statistics.median(cpu) * 1000:.1f} ms (p90 {np.percentile(cpu, 90) * 1000:.1f}), wall median {statistics.median(wall) * 1000:.1f} ms"
        )
    styles = sorted(k for k in res if k.startswith("style:"))
    print("  by style: " + ", ".join(f"{k[6:]} {r['ok']}/{sum(r.values())}" for k in styles for r in [res[k]]))


def read_scans(
    scans: list[tuple[str, A.ScanPage]], item_ids: tuple[str, ...], doc_items: tuple[str, ...], **kw: Any
) -> tuple[list[Any], list[PageRef], list[float], list[float], list[float]]:
    engine, clf = ENGINES.ocr(), (ENGINES.classifier() if kw.get("use_digits", True) else None)
    pages, cpu, wall, decode = [], [], [], []
    counter: Counter[str] = Counter()
    for file, sp in scans:
        counter[file] += 1
        gray, dc, _ = _timed(sp.gray)
        c0, w0 = time.process_time(), time.perf_counter()
        blank = L.is_blank_image(gray, sp.dpi)
        read = None if blank else L.read_scanned_label(gray, sp.dpi, item_ids, doc_items, engine=engine, classifier=clf, **kw)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        decode.append(dc)
        pages.append(L.LabelledPage(PageRef(file, counter[file]), read, blank))
        if read is not None and read.parse.note:
            NOTES[pages[-1].ref] = read.parse.note
    atts, blanks = L.group_attachments(pages)
    return atts, blanks, cpu, wall, decode


def digits_alone(n: int, seed: int) -> tuple[float, float, int]:
    clf = ENGINES.classifier()
    rng = np.random.default_rng(seed)
    truth = [str(int(rng.integers(10))) for _ in range(n)]
    glyphs = [A.render_handwritten_digit(d, rng, int(rng.integers(18, 60))) < 128 for d in truth]
    guesses = clf.classify(glyphs)
    ok = [g.digit == t for g, t in zip(guesses, truth)]
    sure = [g.probability >= L.LABEL_SETTINGS.digit_min_probability for g in guesses]
    wrong_sure = sum(1 for o, s in zip(ok, sure) if s and not o)
    return sum(ok) / n, sum(sure) / n, wrong_sure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=120)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dpi", default="150,200,300")
    ap.add_argument("--per-submission", type=int, default=10)
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--styles", default="", help="comma-separated label styles for the scans (default: all)")
    ap.add_argument("--per-style", type=int, default=0, help="scans: this many documents of every style (instead of --docs in all)")
    ap.add_argument("--handwritten-per-style", type=int, default=0, help="with --per-style: this many of each handwritten style instead")
    ap.add_argument("--no-digital", action="store_true", help="skip the born-digital part")
    ap.add_argument("--ppocr", action="store_true", help="scans: PP-OCR checks lines the others are not sure of (read_scanned_label(ppocr=))")
    ap.add_argument("--verbose", action="store_true", help="list every read that is not right, and every grouping miss")
    ap.add_argument("--reuse", action="store_true", help="keep the generated scans under --out and reuse them on the next run")
    ap.add_argument("--save", action="store_true", help="write the scanned stacks as image PDFs into --out")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    doc_items, other = A.item_lists()
    item_ids = tuple(doc_items) + tuple(other)
    dpis = tuple(int(d) for d in args.dpi.split(","))
    args.out.mkdir(parents=True, exist_ok=True)

    if not args.no_digital:
        read_digital(args, item_ids, doc_items)
    read_scanned(args, item_ids, doc_items, dpis)


def read_digital(args: argparse.Namespace, item_ids: tuple[str, ...], doc_items: tuple[str, ...]) -> None:
    # born-digital: typed styles only (a handwritten label has no text layer)
    digital_styles = tuple(s for s in A.ALL_STYLES if s not in A.HANDWRITTEN_STYLES)
    ddocs = A.make_documents(args.seed, args.docs, styles=digital_styles)
    dpath = args.out / "digital.pdf"
    dpages = A.write_pdf(ddocs, dpath, seed=args.seed)
    dtruth = A.truth(ddocs, dpages, "digital.pdf")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(dpath))
    lpages, dcpu, dwall = [], [], []
    for k, page in enumerate(pdf, start=1):
        c0, w0 = time.process_time(), time.perf_counter()
        wpt, hpt = page.get_size()
        words = L.words_from_pdfium(page)
        blank = L.is_blank_text(words)
        read = None if blank else L.read_text_label(words, wpt, hpt, item_ids, doc_items)
        dcpu.append(time.process_time() - c0)
        dwall.append(time.perf_counter() - w0)
        lpages.append(L.LabelledPage(PageRef("digital.pdf", k), read, blank))
        page.close()
    pdf.close()
    atts, blanks = L.group_attachments(lpages)
    report(
        f"born-digital: {len(ddocs)} documents, {len(dpages)} pages",
        evaluate(dtruth, atts, blanks, args.per_submission, doc_items),
        dcpu,
        dwall,
    )


def generate_scans(
    args: argparse.Namespace, sdocs: list[A.DocSpec], dpis: tuple[int, ...]
) -> tuple[list[tuple[str, A.ScanPage]], dict[str, Any]]:
    """Documents written as one PDF per resolution and scanned; the pages in order with the stack's truth."""
    scans: list[tuple[str, A.ScanPage]] = []
    struth: dict[str, Any] = {"documents": [], "attachments": [], "blank_pages": []}
    per = -(-len(sdocs) // len(dpis))
    for k, dpi in enumerate(dpis):
        part = sdocs[k * per : (k + 1) * per]
        buf = io.BytesIO()
        order = A.write_pdf(part, buf, seed=args.seed + 1)
        name = f"scan{dpi}.pdf"
        t = A.truth(part, order, name)
        struth["documents"] += t["documents"]
        struth["attachments"] += t["attachments"]
        struth["blank_pages"] += t["blank_pages"]
        part_scans = A.scan_pdf(buf.getvalue(), seed=args.seed + dpi, dpi_choices=(dpi,))
        scans += [(name, sp) for sp in part_scans]
        if args.save:
            A.write_image_pdf(part_scans, args.out / name)
    A.write_truth(struth, args.out / "scan.truth.json")
    return scans, struth


def read_scanned(args: argparse.Namespace, item_ids: tuple[str, ...], doc_items: tuple[str, ...], dpis: tuple[int, ...]) -> None:
    # scans: every style, handwritten included; one file per resolution (a new file starts a new document)
    styles = tuple(args.styles.split(",")) if args.styles else A.ALL_STYLES
    n_docs = args.docs
    if args.per_style:  # make_documents cycles through its styles: a style listed k times is drawn k times per round
        hand = args.handwritten_per_style or args.per_style
        styles = tuple(s for s in styles for _ in range(hand if s in A.HANDWRITTEN_STYLES else args.per_style))
        n_docs = len(styles)
    sdocs = A.make_documents(args.seed + 1, n_docs, styles=styles)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    # the generated stack is kept under --out, keyed by what draws it (the generator's source included)
    gen_src = Path(A.__file__).read_bytes()
    key = hashlib.sha256(repr((args.seed, n_docs, styles, dpis)).encode() + gen_src).hexdigest()[:16]
    cached = args.out / f"scans-{key}.pkl"
    if args.reuse and cached.exists():
        with cached.open("rb") as f:
            scans, struth = pickle.load(f)
        print(f"\n(reusing {cached.name}: {len(sdocs)} documents, {len(scans)} scanned pages)")
    else:
        scans, struth = generate_scans(args, sdocs, dpis)
        if args.reuse:
            with cached.open("wb") as f:
                pickle.dump((scans, struth), f)
    modes = dict(Counter(sp.mode for _, sp in scans))
    print(f"(generated in {time.perf_counter() - t0:.0f} s; dpi {dpis}; modes {modes})")
    ENGINES.classifier()  # trained or loaded before timing
    atts, blanks, cpu, wall, decode = read_scans(scans, item_ids, doc_items, **({"ppocr": ENGINES.ppocr} if args.ppocr else {}))
    report(f"scans: {len(sdocs)} documents, {len(scans)} pages", evaluate(struth, atts, blanks, args.per_submission, doc_items), cpu, wall)
    print(f"  decoding the page image (not included above): median {statistics.median(decode) * 1000:.1f} ms CPU")
    for dpi in dpis:
        sel = [c for c, (_, sp) in zip(cpu, scans) if sp.dpi == dpi]
        if sel:
            print(f"  at {dpi} dpi: CPU median {statistics.median(sel) * 1000:.1f} ms over {len(sel)} pages")

    acc, sure, wrong_sure = digits_alone(3000, args.seed + 99)
    print(
        f"\n== digit classifier alone, 3000 held-out generated handwritten digits: accuracy {acc:.2%}; p ≥ {L.LABEL_SETTINGS.digit_min_probability}: {sure:.1%} of digits, {wrong_sure} of them wrong"
    )

    if args.ablation:
        for title, langs, digits in (
            ("eng only", ("eng",), False),
            ("jpn only", ("jpn",), False),
            ("eng+jpn, no digits", ("eng", "jpn"), False),
            ("digits+eng", ("eng",), True),
        ):
            settings = replace(L.LABEL_SETTINGS, ocr_langs=langs)
            atts, blanks, cpu, wall, _ = read_scans(scans, item_ids, doc_items, use_digits=digits, settings=settings)
            report(f"ablation: {title}", evaluate(struth, atts, blanks, args.per_submission, doc_items), cpu, wall)


if __name__ == "__main__":
    main()
