"""Benchmark: a batch of generated submissions through `python -m pipeline run`, as staff would run it.

    .venv/bin/python bench/bench_batch.py [--n 100] [--scanned-share 0.5] [--render] [--keep DIR]

Builds --n submissions of about 30 pages each — half scanned (the whole answer sheet scanned
by pipeline/synth/scans.py plus ~15 scanned attachment pages), half born-digital (a Word-style
filled PDF plus ~15 attachment pages) — then times, as separate processes:
  1. `run --force --jobs 1` and 2. `run --force --jobs 2`: pages per minute, the speed-up, and
     the peak memory of the largest process (ru_maxrss of the children);
  3. a re-run with nothing changed (what staff see when they type `make` twice).
Rendering (LibreOffice) is off unless --render: it is measured by bench/bench_render.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.form.definition import load_form  # noqa: E402
from samples.demo import answers_all_yes  # noqa: E402
from samples.fill import print_filled  # noqa: E402
from samples.synth import attachments as synth  # noqa: E402


def build(inbox: Path, n: int, scanned_share: float, seed: int) -> int:
    """Write the submissions; returns the number of pages written."""
    form_dir = REPO / "forms" / "renewal"
    form = load_form(form_dir)
    marks, texts = answers_all_yes(form)
    for k in range(n):
        entry = inbox / f"sub_{k:03d}"
        entry.mkdir(parents=True)
        docs = synth.make_documents(seed + k, 6)
        pdf = io.BytesIO()
        synth.write_pdf(docs, pdf, seed=seed + k)
        if k < n * scanned_share:
            from samples.synth.scans import write_submission

            write_submission(form, entry, seed + k, name="form")
            scanned = synth.scan_pdf(pdf.getvalue(), seed=seed + k)
            synth.write_image_pdf(scanned, str(entry / "attachments.pdf"))
        else:
            print_filled(form_dir, marks, texts, "glyph", entry / "form.pdf")
            (entry / "attachments.pdf").write_bytes(pdf.getvalue())
        for f in entry.glob("*.json"):  # the generator's truth stays out of the inbox
            f.unlink()
    return count_pages(inbox)


def count_pages(inbox: Path) -> int:
    import pikepdf

    total = 0
    for f in inbox.glob("*/*.pdf"):
        with pikepdf.open(f) as p:
            total += len(p.pages)
    return total


def timed_run(inbox: Path, outbox: Path, jobs: int, force: bool, render: bool) -> tuple[float, float]:
    """Wall seconds of one run as a separate process, and the peak RSS (MB) of its largest process."""
    argv = [sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox", str(outbox), "--jobs", str(jobs), "-q"]
    if force:
        argv.append("--force")
    if not render:
        argv.append("--no-render")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 2):
        print(done.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"run failed with exit code {done.returncode}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--scanned-share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--keep", type=Path, help="work folder, kept after the run")
    parser.add_argument("--reuse", action="store_true", help="with --keep: time the inbox built by an earlier run again")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-batch-"))
    inbox = work / "inbox"
    if args.reuse and args.keep and inbox.is_dir():
        pages = count_pages(inbox)
        args.n = sum(1 for _ in inbox.iterdir())
        print(f"reusing {args.n} submissions, {pages} pages, in {inbox}")
    else:
        if inbox.exists():
            shutil.rmtree(inbox)
        t0 = time.perf_counter()
        pages = build(inbox, args.n, args.scanned_share, args.seed)
        print(f"built {args.n} submissions, {pages} pages ({pages / args.n:.0f} per submission) in {time.perf_counter() - t0:.0f} s")

    figures = {}
    for jobs in (1, 2):
        outbox = work / f"outbox_j{jobs}"
        seconds, peak = timed_run(inbox, outbox, jobs, force=True, render=args.render)
        figures[jobs] = seconds
        print(f"--jobs {jobs}: {seconds:7.1f} s  {pages / seconds * 60:7.0f} pages/min  {seconds / pages * 1000:6.0f} ms/page  peak RSS {peak:.0f} MB")
    print(f"speed-up --jobs 2 / --jobs 1: {figures[1] / figures[2]:.2f}x")
    again, _ = timed_run(inbox, work / "outbox_j2", 2, force=False, render=args.render)
    print(f"re-run with nothing changed ({args.n} submissions): {again:.2f} s")
    decisions: dict[str, int] = {}
    for result in (work / "outbox_j2").glob("*/result.json"):
        d = json.loads(result.read_text(encoding="utf-8"))["score"]["decision"]
        decisions[d] = decisions.get(d, 0) + 1
    print(f"decisions: {decisions}")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
