"""Benchmark: dossier rendering (DOCX + PDF + merge) for 10 submissions of about 60 pages each.

    .venv/bin/python bench/bench_render.py [--n 10] [--mode auto|uno|batch] [--keep DIR]

Builds the submissions with the test helper (tests/test_render.py: born-digital attachments,
a PNG page, a fax TIFF, crops), starts LibreOffice once, then renders them two ways:

* one by one with render_submission (what a per-submission caller pays): median seconds per dossier;
* as one batch with render_docx + finish_pdf (what batch.py does): seconds per dossier.

Prints the one-time LibreOffice startup, wall seconds and CPU seconds (ours + LibreOffice's;
on a shared machine the CPU figure is the one that does not move with other people's load),
and how often the review section's page count was estimated right (else a second pass).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def office_cpu_s(profile_marker: str) -> float:
    """CPU seconds used so far by the soffice.bin processes running with our profile folder."""
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        pid = stat.split("/")[2]
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"soffice.bin" not in cmd or profile_marker.encode() not in cmd:
                continue
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--mode", default="auto", choices=["auto", "uno", "batch"])
    ap.add_argument("--keep", type=Path, help="build under this folder and keep it")
    args = ap.parse_args()

    from test_render import build_submission, council  # the tests' realistic inputs

    from pipeline.output.dossier import finish_pdf, render_docx, render_submission
    from pipeline.tools.libreoffice import Converter

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-render-"))
    decisions = ["needs_review", "pass", "fail", "needs_review", "needs_review"]
    t = time.monotonic()
    subs = [build_submission(root, f"申請{i + 1:02d}", decision=decisions[i % len(decisions)], doc_pages=(1, 2)) for i in range(args.n)]
    pages = [sum(s["pages"] for s in sub.result["sources"]) for sub in subs]
    print(
        f"built {len(subs)} submissions of {min(pages)}–{max(pages)} pages (median {statistics.median(pages)}) "
        f"in {time.monotonic() - t:.1f} s",
        file=sys.stderr,
    )
    cfg = council()
    try:
        with Converter(mode=args.mode) as conv:
            marker = Path(conv._profile_dir or "").resolve().as_uri()  # noqa: SLF001 - bench only
            print(f"LibreOffice startup: {conv.startup_s:.2f} s (mode {conv.mode})")

            # One by one.
            walls, cpus, conversions, sizes = [], [], [], []
            for sub in subs:
                c0, o0, t0 = time.process_time(), office_cpu_s(marker), time.monotonic()
                files = render_submission(
                    sub.result, inbox_entry=sub.inbox_entry, out_dir=sub.out_dir, converter=conv, council=cfg, review=None
                )
                walls.append(time.monotonic() - t0)
                cpus.append(time.process_time() - c0 + office_cpu_s(marker) - o0)
                conversions.append(files.conversions)
                sizes.append(files.total_pages)
                for stale in (sub.out_dir / "dossier.pdf",):
                    stale.unlink()  # so the next pass cannot reuse the stored page count
            print(
                f"one by one: median {statistics.median(walls):.2f} s wall / {statistics.median(cpus):.2f} s CPU "
                f"per dossier (max {max(walls):.2f} s wall); dossiers of {min(sizes)}–{max(sizes)} pages; "
                f"page count estimated right {conversions.count(1)}/{len(conversions)}"
            )

            # As one batch.
            c0, o0, t0 = time.process_time(), office_cpu_s(marker), time.monotonic()
            jobs = [render_docx(s.result, inbox_entry=s.inbox_entry, out_dir=s.out_dir, council=cfg, review=None) for s in subs]
            t1 = time.monotonic()
            outcomes = finish_pdf(jobs, conv)
            wall = time.monotonic() - t0
            cpu = time.process_time() - c0 + office_cpu_s(marker) - o0
            failed = [o for o in outcomes if isinstance(o, Exception)]
            print(
                f"as one batch: {wall / len(subs):.2f} s wall / {cpu / len(subs):.2f} s CPU per dossier "
                f"(DOCX {(t1 - t0) / len(subs):.2f} s each; {len(failed)} failed)"
            )
            # Re-run: the stored page count is used, one LibreOffice pass each.
            t0 = time.monotonic()
            outcomes = finish_pdf(
                [render_docx(s.result, inbox_entry=s.inbox_entry, out_dir=s.out_dir, council=cfg, review=None) for s in subs], conv
            )
            print(f"re-run batch: {(time.monotonic() - t0) / len(subs):.2f} s wall per dossier")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    try:
        print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
