"""Benchmark: whole submissions through `python -m pipeline run --no-render --force`, one process per submission.

    .venv/bin/python bench/bench_submission.py                 # 3 timed runs after a warm-up, prints the table
    .venv/bin/python bench/bench_submission.py --quick         # 1 run, no warm-up (a loaded machine)
    .venv/bin/python bench/bench_submission.py --keep DIR      # keep the generated set; --keep DIR again reuses it

The set (seeded; nothing downloaded): whole submissions, form and attachments —
  own-scan      the project's printing (forms/renewal) filled and scanned by samples/synth/scans.py,
                plus six attachment documents scanned (samples/synth/attachments.py), as bench_batch.py;
  own-digital   the project's printing filled as a born-digital PDF (samples/fill.py) and the same six
                documents born-digital;
  ind-word, ind-word_scan, ind-hand_scan
                other printings: samples.independent (seeds from --ind-seed; never 80000-80999, the
                held-out set), each printing calibrated with `python -m pipeline calibrate` first;
  startup       two pages (own-scan's first form page and first attachment page): the run's start-up.

Each submission is its own inbox, run as a whole process, timed by wait4: wall s, CPU s (the run
and its workers), peak RSS (the largest process), s per page (pages from result.json). Then one more
run with `--profile` gives the split by stage from the worker's cProfile (a profiled run is slower:
the split is given as shares, applied to the unprofiled wall time) and the start-up: from the run's
process start to the worker's first opening of an input file, plus the readers' model loads.

The pipeline's processes run as an installed copy runs: Python keeps their compiled bytecode
(here under WORK/pycache, PYTHONPYCACHEPREFIX), written by the warm-up run and read by the timed
ones, even where the environment says PYTHONDONTWRITEBYTECODE (these sessions' machines do: every
run then compiled the pipeline's ~140 modules anew, 0.35 s of a profiled start-up).
`--no-bytecode-cache` keeps the environment as it is.
Likewise the blank pages' renderings (reading/references.py `stored`) are kept in the cache folder
($PIPELINE_CACHE_DIR or ~/.cache/isp-mark-review) by the warm-up run and read back by the timed ones;
with --quick and an empty cache folder the one run renders them (~0.15 s CPU more).

Last, the pages of own-scan's attachments.pdf that are not form pages are measured one by one in a
process of their own (CPU ms, medians after a warm-up page): the test that a page is not the form's
(decode, page gate, page search, moved-content check; the issue's target: 25 ms) and its label read.

When `ocrmypdf` is on PATH (Debian: `apt-get install --no-install-recommends ocrmypdf`; it is a bench
tool, not a requirement of the product), every PDF of each submission also goes through
`ocrmypdf -l jpn --jobs 2 --skip-text` in the same run, timed the same way, and the table gives
ocrmypdf's wall time over ours (the issue's target: ≥ 10×).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RENEWAL = REPO / "forms" / "renewal"
WAYS = ("word", "word_scan", "hand_scan")

# Stages of the split: (name, [(path suffix, function)], parent stage or ""). A function's cumulative
# time counts once under its stage; a child stage's time is taken out of its parent's.
STAGES: tuple[tuple[str, tuple[tuple[str, str], ...], str], ...] = (
    ("imports at job start", (("run/submission.py", "<module>"),), ""),
    ("model loads", (("reading/engines.py", "classifier"), ("reading/engines.py", "ocr"), ("reading/engines.py", "ppocr")), ""),
    ("open files", (("sources/ingest.py", "open_source"),), ""),
    ("scan: form test+register", (("reading/register.py", "register"),), "scan pages"),
    # inside registration: the page code read from the scan (only when the layout alone is not clear),
    # and the blank pages' ORB features, found when a scan is first matched to a page (references.py)
    ("  page code (QR) read", (("reading/register.py", "_read_code"),), "scan: form test+register"),
    ("  blank page features", (("reading/references.py", "_features"),), "scan: form test+register"),
    # the blank pages rendered and prepared, once per process (references.py; was "QR/page code")
    ("scan: blank pages prepared", (("reading/references.py", "references"),), "scan pages"),
    ("scan: page gate", (("reading/page_gate.py", "could_be_form_page"),), "scan pages"),
    # a page the gate let go: the page search's guess only, for the moved-content check
    ("scan: page search (gated)", (("reading/register.py", "page_search_only"),), "scan pages"),
    ("scan: moved content", (("reading/reflow_scan.py", "settle"),), "scan pages"),
    ("scan: marks", (("reading/marks.py", "read_marks"),), "scan pages"),
    ("scan: field OCR", (("reading/fields.py", "read_fields"),), "scan pages"),
    # the second reader of `read` fields (PP-OCR; fields.SecondCheck), inside field OCR: the profiled run is --jobs 1, so on one thread
    ("  field 2nd reader", (("reading/fields.py", "__call__"),), "scan: field OCR"),
    ("scan pages", (("reading/scan.py", "read_scan"),), ""),
    (
        "digital pages",
        (
            ("reading/identify.py", "identify_text_page"),
            ("reading/digital_page.py", "read_digital_page"),
            ("run/submission.py", "_read_reflowed_form"),
        ),
        "",
    ),
    ("attachment labels", (("run/submission.py", "_label_page"),), ""),
    ("rules", (("rules/apply.py", "apply_rules"),), ""),
    (
        "outputs",
        (
            ("run/crops.py", "save_page_images"),
            ("run/crops.py", "save_field_crops"),
            ("run/crops.py", "save_label_crops"),
            ("run/crops.py", "cut_missing_crops"),
            ("output/result.py", "write_json_atomic"),
            ("run/review.py", "write_blank_review"),
        ),
        "",
    ),
)


# The blank pages are prepared (references) on the first call from whichever stage needs them first:
# that call's time is taken out of the stage it was made from (its direct caller), not counted twice.
PREPARED_IN = (
    "scan: blank pages prepared",
    (
        ("reading/register.py", "register", "scan: form test+register"),
        ("reading/register.py", "page_search_only", "scan: page search (gated)"),
        ("reading/reflow_scan.py", "settle", "scan: moved content"),
    ),
)


@dataclass
class Timed:
    wall: float
    cpu: float
    rss_mb: float
    rc: int


@dataclass
class Row:
    name: str
    kind: str
    pages: int = 0
    runs: list[Timed] = field(default_factory=list)
    split: dict[str, float] = field(default_factory=dict)  # stage -> share of the profiled job
    startup: float | None = None  # s: process start -> first input file opened (profiled run)
    startup_cpu: float | None = None  # CPU s of the run and its worker until then
    models: float = 0.0  # s: model loads in the profiled run
    languages: float = 0.0  # s: Tesseract's language models, loaded inside the OCR stages on first use (profiled run)
    ocrmypdf: list[Timed] = field(default_factory=list)
    decision: str = ""


def timed(argv: list[str], timeout: float = 3600, env: dict[str, str] | None = None) -> tuple[Timed, str]:
    """Run argv as a whole process: wall, CPU of it and every process it waited for, peak RSS of the largest."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})})
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return Timed(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode), text


def pipeline_argv(inbox: Path, outbox: Path, form: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        *extra,
        "-m",
        "pipeline",
        "run",
        "--inbox",
        str(inbox),
        "--outbox",
        str(outbox),
        "--form",
        str(form),
        "--no-render",
        "--force",
        "-q",
    ]


# --- the set ----------------------------------------------------------------------------------


def build_own(data: Path, seed: int) -> None:
    """own-scan and own-digital (as bench_batch.py builds them) and the two-page startup submission."""
    import pikepdf

    from pipeline.form.definition import load_form
    from samples.demo import answers_all_yes
    from samples.fill import print_filled
    from samples.synth import attachments as synth
    from samples.synth.scans import write_submission

    form = load_form(RENEWAL)
    docs = synth.make_documents(seed, 6)
    pdf = io.BytesIO()
    synth.write_pdf(docs, pdf, seed=seed)
    scan = data / "own-scan" / "inbox" / "own-scan"
    scan.mkdir(parents=True)
    write_submission(form, scan, seed, name="form")
    synth.write_image_pdf(synth.scan_pdf(pdf.getvalue(), seed=seed), str(scan / "attachments.pdf"))
    digital = data / "own-digital" / "inbox" / "own-digital"
    digital.mkdir(parents=True)
    marks, texts = answers_all_yes(form)
    print_filled(RENEWAL, marks, texts, "glyph", digital / "form.pdf")
    (digital / "attachments.pdf").write_bytes(pdf.getvalue())
    for f in [*scan.glob("*.json"), *digital.glob("*.json")]:  # the generator's truth stays out of the inbox
        f.unlink()
    small = data / "startup" / "inbox" / "startup"
    small.mkdir(parents=True)
    for name in ("form.pdf", "attachments.pdf"):
        with pikepdf.open(scan / name) as src, pikepdf.new() as out:
            out.pages.append(src.pages[0])
            out.save(small / name)
    for kind in ("own-scan", "own-digital", "startup"):
        (data / kind / "form").write_text(str(RENEWAL), encoding="utf-8")


def build_independent(data: Path, seed: int, ways: tuple[str, ...]) -> None:
    """One submission per filling way on other printings, each printing calibrated."""
    from samples.independent.generate import generate

    if 80000 <= seed <= 80999:
        raise SystemExit("seeds 80000-80999 are the held-out set: pick another --ind-seed")
    gen = data / "_independent"
    mapping = generate(gen, seed, len(ways), ways)
    for sub, printing in mapping.items():
        way = sub.rsplit("-", 1)[1]
        kind = f"ind-{way}"
        form = RENEWAL if printing == "renewal" else data / "_forms" / printing
        if printing != "renewal" and not (form / "layout.yaml").exists():
            form.mkdir(parents=True, exist_ok=True)
            for f in ("items.yaml", "form.yaml"):
                shutil.copy(RENEWAL / f, form / f)
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pipeline",
                    "calibrate",
                    str(gen / "printings" / printing / "blank.pdf"),
                    "--out",
                    str(form),
                    "--items-from",
                    str(RENEWAL),
                    "-q",
                ],
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                print(f"calibrate {printing} failed: {done.stderr[-500:]}", file=sys.stderr)
        shutil.copytree(gen / "inbox" / sub, data / kind / "inbox" / kind)
        (data / kind / "form").write_text(str(form), encoding="utf-8")


# --- measuring --------------------------------------------------------------------------------


def python_env(work: Path, keep: bool) -> dict[str, str]:
    """The pipeline processes' environment additions: bytecode kept under work/pycache (see the docstring); {} with keep."""
    if keep:
        return {}
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(work / "pycache")}  # "" is unset for Python


def measure(data: Path, kind: str, work: Path, runs: int, warmup: int, ocr: bool, env: dict[str, str]) -> Row:
    inbox = data / kind / "inbox"
    form = Path((data / kind / "form").read_text(encoding="utf-8"))
    row = Row(kind, kind)
    outbox = work / kind / "outbox"
    for i in range(warmup + runs):
        t, err = timed(pipeline_argv(inbox, outbox, form), env=env)
        if t.rc not in (0, 2):  # a failed run's seconds are no measure: stop rather than print a ratio from them
            raise SystemExit(f"{kind}: run failed (exit {t.rc}): {err[-800:]}\n(a --keep set made by another checkout? remove it: {data})")
        if i >= warmup:
            row.runs.append(t)
    result = outbox / kind / "result.json"
    if result.exists():
        data_json = json.loads(result.read_text(encoding="utf-8"))
        row.pages = sum(s["pages"] for s in data_json["sources"])
        row.decision = data_json["score"]["decision"]
    profiled = work / kind / "profiled"
    timed(pipeline_argv(inbox, profiled, form) + ["--profile", "--jobs", "1"], env=env)
    split_from_profile(profiled / kind / "debug", row)
    if ocr:
        for i in range(warmup + runs):
            got = [
                timed(["ocrmypdf", "-l", "jpn", "--jobs", "2", "--skip-text", "-q", str(pdf), str(work / kind / "ocr.pdf")])[0]
                for pdf in sorted((inbox / kind).glob("*.pdf"))
            ]
            if i >= warmup and got:
                row.ocrmypdf.append(
                    Timed(sum(t.wall for t in got), sum(t.cpu for t in got), max(t.rss_mb for t in got), max(t.rc for t in got))
                )
    return row


def split_from_profile(debug: Path, row: Row) -> None:
    """The stage shares and start-up of one profiled run (see pipeline.run.worker.profiled)."""
    try:
        moments = json.loads((debug / "profile.json").read_text(encoding="utf-8"))
        stats = pstats.Stats(str(debug / "profile.pstats")).stats  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return
    cum: dict[str, float] = {}
    for name, funcs, _ in STAGES:
        best: dict[tuple[str, str], float] = {}
        for (path, _, func), (_, _, _, ct, _) in stats.items():
            for suffix, wanted in funcs:
                if func == wanted and path.endswith(suffix):
                    best[(suffix, func)] = max(best.get((suffix, func), 0.0), ct)
        cum[name] = sum(best.values())
    total = max(moments["job_ended"] - moments["job_started"], 1e-9)
    own = dict(cum)
    for name, _, parent in STAGES:
        if parent:
            own[parent] = own.get(parent, 0.0) - cum[name]
    child, callers = PREPARED_IN
    for (path, _, func), (_, _, _, _, by) in stats.items():
        if path.endswith("reading/references.py") and func == "references":
            for (cpath, _, cfunc), (_, _, _, ct) in by.items():
                for suffix, wanted, stage in callers:
                    if cfunc == wanted and cpath.endswith(suffix):
                        own[stage] = own.get(stage, 0.0) - ct
    own["model loads"] = cum["model loads"]
    if "attachment labels" in own:  # the classifier is loaded inside the first label read
        own["attachment labels"] = max(0.0, own["attachment labels"] - cum["model loads"])
    own["other"] = total - sum(v for n, v in own.items())
    row.split = {n: max(v, 0.0) / total for n, v in own.items()}
    row.models = cum["model loads"]
    row.languages = sum(ct for (path, _, func), (_, _, _, ct, _) in stats.items() if path.endswith("tools/tesseract.py") and func == "_api")
    if moments.get("first_open") and moments.get("run_started"):
        row.startup = moments["first_open"] - moments["run_started"]
    if moments.get("first_open_cpu_s") is not None and moments.get("run_cpu_s") is not None:
        row.startup_cpu = moments["run_cpu_s"] + moments["first_open_cpu_s"]


def startup_imports(data: Path, work: Path, env: dict[str, str]) -> float:
    """Seconds spent importing in the startup run (parent and worker), by `python -X importtime`."""
    inbox = data / "startup" / "inbox"
    _, err = timed(pipeline_argv(inbox, work / "startup" / "importtime", RENEWAL, "-X", "importtime") + ["--jobs", "1"], env=env)
    total = 0
    for line in err.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[2].startswith(" ") and not parts[2].startswith("  "):
            try:
                total += int(parts[1])
            except ValueError:
                pass
    return total / 1e6


# The own-scan attachments' pages that are not form pages, measured one by one in a process of their own.
NONFORM_PDF = ("own-scan", "attachments.pdf")


def nonform_pages(data: Path, env: dict[str, str]) -> dict[str, float] | None:
    """CPU ms (medians) a scanned page that is not a form page costs: the test that it is none, and its label read.

    Measured in one process run as the pipeline's worker runs (one OpenCV thread, OpenBLAS at one),
    after a warm-up page (imports, models and the blank pages prepared are start-up, not per page).
    """
    pdf = data / NONFORM_PDF[0] / "inbox" / NONFORM_PDF[0] / NONFORM_PDF[1]
    if not pdf.is_file():
        return None
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--nonform-of", str(pdf)],
        capture_output=True, text=True, env={**env, "OPENBLAS_NUM_THREADS": "1"}, check=False, timeout=1800,
    )
    if proc.returncode != 0:
        print(f"non-form pages not measured: {proc.stderr[-800:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _measure_nonform(pdf: Path) -> int:
    """--nonform-of: the child process of nonform_pages; prints its figures as one JSON line."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as python -m pipeline sets it, before numpy is imported
    import cv2

    from pipeline.reading import labels
    from pipeline.reading.engines import Engines
    from pipeline.reading.references import prepare_features, references
    from pipeline.reading.scan import read_scan_detail
    from pipeline.run.forms import loaded_form
    from pipeline.run.submission import LABEL_DPI
    from pipeline.sources import ingest
    from pipeline.sources.limits import Limits

    cv2.setNumThreads(1)
    form = loaded_form(RENEWAL)
    engines = Engines()
    prepare_features(references(form))
    documents = {it.id for it in form.items if it.needs_document}
    tests, reads = [], []
    with ingest.open_source(pdf, pdf.name, Limits()) as opened:
        for k, page in enumerate(opened.pages):
            t0 = time.process_time()
            detail = read_scan_detail(page, form, engines)
            t1 = time.process_time()
            dpi = page.fit_dpi(LABEL_DPI)
            gray = page.image(dpi)
            if not labels.is_blank_image(gray, dpi):
                labels.read_scanned_label(
                    gray, dpi, form.item_ids, documents, engine=engines.ocr(), classifier=engines.classifier(), ppocr=engines.ppocr
                )
            t2 = time.process_time()
            if k > 0 and detail.layout is None:  # the first page warms up: imports, models, blank pages
                tests.append((t1 - t0) * 1000)
                reads.append((t2 - t1) * 1000)
    print(json.dumps({"pages": len(tests), "test_ms": median(tests), "label_ms": median(reads), "test_max_ms": max(tests, default=float("nan"))}))
    return 0


# --- the table --------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(rows: list[Row], imports_s: float, nonform: dict[str, float] | None = None) -> None:
    print(
        f"\n{'submission':16} {'pages':>5} {'wall s':>7} {'CPU s':>7} {'s/page':>7} {'peak MiB':>8} {'ocrmypdf s':>10} {'ratio':>6} {'CPU ratio':>9}  decision"
    )
    for r in rows:
        wall, cpu, rss = median([t.wall for t in r.runs]), median([t.cpu for t in r.runs]), max((t.rss_mb for t in r.runs), default=0)
        ow, oc = median([t.wall for t in r.ocrmypdf]), median([t.cpu for t in r.ocrmypdf])
        ocr_cols = f"{ow:10.1f} {ow / wall:5.1f}x {oc / cpu:8.1f}x" if r.ocrmypdf else f"{'—':>10} {'—':>6} {'—':>9}"
        print(f"{r.name:16} {r.pages:5d} {wall:7.2f} {cpu:7.2f} {wall / max(r.pages, 1):7.3f} {rss:8.0f} {ocr_cols}  {r.decision}")
    names = [n for n, _, _ in STAGES] + ["other"]
    print(
        "\nsplit by stage, s (share of the profiled job applied to the median wall time; cProfile inflates Python-heavy stages such as imports)"
    )
    print(f"{'stage':26} " + " ".join(f"{r.name[:11]:>11}" for r in rows))
    for n in names:
        print(f"{n:26} " + " ".join(f"{r.split.get(n, 0.0) * median([t.wall for t in r.runs]):11.2f}" for r in rows))
    print(f"{'start-up (to first file)':26} " + " ".join(f"{r.startup:11.2f}" if r.startup is not None else f"{'—':>11}" for r in rows))
    print(f"{'  its CPU s':26} " + " ".join(f"{r.startup_cpu:11.2f}" if r.startup_cpu is not None else f"{'—':>11}" for r in rows))
    print(f"{'model loads':26} " + " ".join(f"{r.models:11.2f}" for r in rows))
    print(f"{'Tesseract languages':26} " + " ".join(f"{r.languages:11.2f}" for r in rows))
    print(
        f"{'start-up + loads':26} "
        + " ".join(f"{r.startup + r.models + r.languages:11.2f}" if r.startup is not None else f"{'—':>11}" for r in rows)
    )
    print(
        f"\nstart-up, startup submission: imports {imports_s:.2f} s (python -X importtime, parent + worker); "
        "to first file and model loads as above (profiled, so inflated); Tesseract languages: PyTessBaseAPI built per language and mode "
        "inside the OCR stages (counted there too); start-up + loads: the three added, what a process pays before its first page is read"
    )
    if nonform:
        print(
            f"\nnon-form page ({NONFORM_PDF[0]} {NONFORM_PDF[1]}, {nonform['pages']:.0f} pages after a warm-up page, CPU ms, median): "
            f"the test that it is not a form page {nonform['test_ms']:.0f} (max {nonform['test_max_ms']:.0f}; decode, page gate, page search, "
            f"moved-content check), its label read {nonform['label_ms']:.0f}; the issue's target: 25 for the test"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per submission (median), after --warmup")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="--runs 1 --warmup 0")
    ap.add_argument("--seed", type=int, default=83100, help="seed of the project's own submissions")
    ap.add_argument("--ind-seed", type=int, default=83110, help="seed of the independent set's submissions (never 80000-80999)")
    ap.add_argument("--ways", default=",".join(WAYS), help="independent filling ways (comma-separated; empty: none)")
    ap.add_argument("--only", default="", help="comma-separated submissions to measure (default: all)")
    ap.add_argument("--no-ocrmypdf", action="store_true")
    ap.add_argument("--keep", type=Path, help="work folder, kept (reused when it holds a set)")
    ap.add_argument(
        "--no-bytecode-cache", action="store_true", help="run the pipeline with the environment's bytecode setting (default: .pyc kept)"
    )
    ap.add_argument("--nonform-of", type=Path, help=argparse.SUPPRESS)  # the child process of nonform_pages
    a = ap.parse_args(argv)
    if a.nonform_of:
        return _measure_nonform(a.nonform_of)
    if a.quick:
        a.runs, a.warmup = 1, 0
    work = a.keep or Path(tempfile.mkdtemp(prefix="bench-submission-"))
    data = work / "data"
    if not (data / "done").exists():
        if data.exists():
            shutil.rmtree(data)
        t0 = time.perf_counter()
        build_own(data, a.seed)
        ways = tuple(w for w in a.ways.split(",") if w)
        if ways:
            build_independent(data, a.ind_seed, ways)
        (data / "done").write_text("", encoding="utf-8")
        print(f"built the set in {time.perf_counter() - t0:.0f} s: {work}", file=sys.stderr)
    kinds = sorted(p.name for p in data.iterdir() if (p / "form").exists())
    if a.only:
        kinds = [k for k in kinds if k in a.only.split(",")]
    ocr = not a.no_ocrmypdf and shutil.which("ocrmypdf") is not None
    if not ocr and not a.no_ocrmypdf:
        print("ocrmypdf is not installed: no comparison (Debian: apt-get install --no-install-recommends ocrmypdf)", file=sys.stderr)
    rows = []
    env = python_env(work, a.no_bytecode_cache)
    for kind in kinds:
        print(f"measuring {kind} …", file=sys.stderr)
        rows.append(measure(data, kind, work / "runs", a.runs, a.warmup, ocr and kind != "startup", env))
    imports_s = startup_imports(data, work / "runs", env) if "startup" in kinds else float("nan")
    nonform = nonform_pages(data, env) if "own-scan" in kinds else None
    bytecode = "environment's bytecode setting" if a.no_bytecode_cache else "bytecode kept (.pyc, as installed)"
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; {a.runs} run(s) after {a.warmup} warm-up; {bytecode}"
    )
    print_table(rows, imports_s, nonform)
    if not a.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
