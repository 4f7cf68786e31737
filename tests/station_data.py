"""The review station's test outbox: the demo submissions, one with an uncertain mark, one with a hostile name, run once.

Built once per test session (the pipeline's own `run`, as a subprocess: the same command the
station runs after a save) and copied per test that writes, so each test starts from the
outputs a real run made.
"""

from __future__ import annotations

import atexit
import functools
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pikepdf
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.definition import load_form
from samples import demo
from samples.fill import print_filled
from samples.synth import attachments as synth

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"
UNSURE = "04_uncertain-mark"
HOSTILE_DIR = "<img src=x onerror=alert(1)>"  # a folder name cannot hold "/": no </script> possible
HOSTILE_FILE = "<script>alert(1)<\\script>.pdf"
HOSTILE_COMPANY = '<b id="pwn">株式会社</b><script>alert(2)</script>'
# The box drawn faintly (a short stroke, neither empty nor a tick) and the item it answers.
UNSURE_ITEM = "2-1-1"


def _faint_stroke(pdf_bytes: bytes, page_no: int, bbox: tuple[float, float, float, float], height: float) -> bytes:
    """A short pen stroke in one corner of a box: some ink, not a mark — the reader should be unsure."""
    buf = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        canvas = Canvas(buf, pagesize=(float(pdf.pages[0].mediabox[2]), height), invariant=1)
        for index in range(len(pdf.pages)):
            if index + 1 == page_no:
                x0, y0, x1, y1 = bbox
                canvas.setLineWidth(0.5)
                w = x1 - x0
                canvas.line(x0 + 0.4 * w, height - (y0 + 0.5 * w), x0 + 0.6 * w, height - (y0 + 0.6 * w))
            canvas.showPage()
        canvas.save()
        with pikepdf.open(io.BytesIO(buf.getvalue())) as over:
            for target, extra in zip(pdf.pages, over.pages, strict=False):
                target.add_overlay(extra, None)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def build_inbox(inbox: Path) -> None:
    """The demo's three submissions, one Word-style sheet with a faint stroke, and one hostile-named folder."""
    demo.build_demo(inbox, FORM_DIR)
    form = load_form(FORM_DIR)
    marks, texts = demo.answers_all_yes(form)
    doc_items = [it.id for it in form.items if "doc" in it.evidence]

    unsure = inbox / UNSURE
    unsure.mkdir()
    plain = unsure / ".answer.pdf"
    print_filled(FORM_DIR, marks - {(UNSURE_ITEM, "yes")}, texts, "glyph", plain)
    box = next(b for p in form.pages for b in p.boxes if (b.owner, b.option) == (UNSURE_ITEM, "yes"))
    page = next(p for p in form.pages if box in p.boxes)
    signed = demo._sign_and_seal(plain.read_bytes(), form, set(), seed=4)
    (unsure / "answer_sheet.pdf").write_bytes(_faint_stroke(signed, page.number, box.bbox, page.height_pt))
    plain.unlink()
    synth.write_pdf(demo._documents(doc_items, seed=4), str(unsure / "attachments.pdf"))

    hostile = inbox / HOSTILE_DIR
    hostile.mkdir()
    plain = hostile / ".answer.pdf"
    print_filled(FORM_DIR, marks, {**texts, "applicant.company_name": HOSTILE_COMPANY}, "glyph", plain)
    (hostile / HOSTILE_FILE).write_bytes(plain.read_bytes())
    plain.unlink()


def build_outbox(root: Path) -> tuple[Path, Path]:
    """inbox/ and outbox/ under `root`, the outbox made by `python -m pipeline run`."""
    inbox, outbox = root / "inbox", root / "outbox"
    build_inbox(inbox)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox", str(outbox), "--form", str(FORM_DIR), "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 2), proc.stderr[-2000:]
    return inbox, outbox


def copy_tree(src_root: Path, dst_root: Path) -> tuple[Path, Path]:
    """A private copy of inbox/ and outbox/ for a test that writes (links are copied as links)."""
    shutil.copytree(src_root / "inbox", dst_root / "inbox", symlinks=True)
    shutil.copytree(src_root / "outbox", dst_root / "outbox", symlinks=True)
    return dst_root / "inbox", dst_root / "outbox"


@functools.lru_cache(maxsize=1)
def shared_outbox() -> Path:
    """The session's one run of the pipeline on the station's submissions (a temporary folder, built on first use)."""
    root = Path(tempfile.mkdtemp(prefix="station-"))
    atexit.register(shutil.rmtree, root, True)
    build_outbox(root)
    return root
