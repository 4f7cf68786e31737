"""The batch: run the submissions that changed on a pool of workers, recover from a worker's death, write summary.csv."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pipeline.form.definition import load_form
from pipeline.output.result import SUMMARY_COLUMNS, summary_row
from pipeline.run.inbox import find_entries, fingerprint, outbox_lock, outbox_names, saved_decision, unchanged, write_fingerprint

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunOptions:
    inbox: Path
    outbox: Path
    form: Path
    force: bool = False
    jobs: int = 0  # 0: one per core
    debug: bool = False
    render: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    status: str  # done, skipped, error
    decision: str
    seconds: float
    pages: int = 0
    message: str = ""
    errors: int = 0  # flags of severity error in result.json
    warnings: int = 0


def _work(entry: str, out_dir: str, form_dir: str, debug: bool, threads: int = 1) -> Outcome:
    """Process one submission in a worker; its outcome, timed from the worker's start on it (not its wait in the queue)."""
    start = time.monotonic()
    name = Path(out_dir).name
    status, decision, pages, msg, errors, warnings = _process(entry, out_dir, form_dir, debug, threads)
    return Outcome(name, status, decision, time.monotonic() - start, pages, msg, errors, warnings)


def _process(entry: str, out_dir: str, form_dir: str, debug: bool, threads: int) -> tuple[str, str, int, str, int, int]:
    """(status, decision, pages, message, errors, warnings) of one submission; a crash is its error.log."""
    # Imported here, not at the top: the readers (pdfium, Tesseract, the digit model) load in the
    # processes that run submissions, not in a pool's parent before it forks its workers.
    from pipeline.run.submission import process_engines, process_submission

    _limit_threads(threads)
    out = Path(out_dir)
    error_log = out / "error.log"
    try:
        data = process_submission(Path(entry), Path(form_dir), out, debug=debug, engines=process_engines().capped(threads))
        if error_log.exists():
            error_log.unlink()
        severities = [f["severity"] for f in data["flags"]]
        pages = sum(s["pages"] for s in data["sources"])
        return "done", data["score"]["decision"], pages, "", severities.count("error"), severities.count("warning")
    except Exception as exc:  # one submission's crash must not stop the batch
        out.mkdir(parents=True, exist_ok=True)
        error_log.write_text(f"{entry}\n{traceback.format_exc()}", encoding="utf-8")
        return "error", "error", 0, f"{type(exc).__name__}: {exc}", 0, 0


def _limit_threads(threads: int) -> None:
    """Each submission runs on `threads` cores (1 in a pool: --jobs spreads submissions over cores).

    OpenCV's thread pool and the field OCR threads would otherwise take every core inside each
    worker: --jobs 1 would quietly use two cores, and two workers would fight over them. (The
    field OCR threads are capped by the Engines passed to process_submission.)
    """
    import cv2

    cv2.setNumThreads(threads)


def run_batch(options: RunOptions, stream: TextIO = sys.stderr) -> list[Outcome]:
    """Process every submission of the inbox into the outbox; returns one outcome per submission."""
    form = load_form(options.form)
    entries = find_entries(options.inbox)
    jobs = options.jobs or os.cpu_count() or 1
    outcomes: list[Outcome] = []
    with outbox_lock(options.outbox):
        todo: list[tuple[Path, Path, str]] = []
        for name, entry in outbox_names(entries).items():
            out_dir = options.outbox / name
            fp = fingerprint(entry, out_dir / "review.yaml", form.fingerprint)
            if not options.force and unchanged(out_dir, fp):
                outcomes.append(Outcome(name, "skipped", saved_decision(out_dir), 0.0))
                continue
            todo.append((entry, out_dir, fp))
        progress = Progress(len(todo), stream)
        results = _run_all(todo, options, jobs, progress)
        progress.close()
        failed_render: dict[str, str] = {}
        if options.render:
            failed_render = _render_all([(e, o) for (e, o, _), r in zip(todo, results) if r.status == "done"], options)
        for (entry, out_dir, _), outcome in zip(todo, results):
            if outcome.name in failed_render:
                outcome = Outcome(outcome.name, "error", outcome.decision, outcome.seconds, outcome.pages, failed_render[outcome.name], outcome.errors, outcome.warnings)
            elif outcome.status == "done":
                # Taken now, after the run: the first run itself writes review.yaml. A submission
                # whose rendering failed keeps no fingerprint, so the next run tries it again.
                write_fingerprint(out_dir, fingerprint(entry, out_dir / "review.yaml", form.fingerprint))
            outcomes.append(outcome)
        write_summary(options.outbox, outcomes)
        _append_run_log(options.outbox, outcomes)
    return sorted(outcomes, key=lambda o: o.name)


def _run_all(todo: list[tuple[Path, Path, str]], options: RunOptions, jobs: int, progress: Progress) -> list[Outcome]:
    results: list[Outcome | None] = [None] * len(todo)
    if jobs <= 1 or len(todo) <= 1:
        # One submission alone may use every core it was given; a series keeps to one.
        threads = jobs if len(todo) == 1 else 1
        for i, (entry, out_dir, _) in enumerate(todo):
            outcome = _work(str(entry), str(out_dir), str(options.form), options.debug, threads)
            results[i] = outcome
            progress.step(outcome)
        return [r for r in results if r is not None]
    # A worker that dies (a crash inside a native library, the kernel's OOM killer) breaks the
    # whole pool. What was unfinished is run again on one worker, in order, so that the next
    # death names its submission: that one becomes an error and the rest of the batch goes on.
    remaining = list(range(len(todo)))
    workers = min(jobs, len(todo))
    while remaining:
        broken = _run_pool(todo, remaining, options, workers, results, progress)
        remaining = [i for i in remaining if results[i] is None]
        if broken and workers == 1 and remaining:
            culprit = remaining.pop(0)
            entry, out_dir, _ = todo[culprit]
            message = "the worker process died while reading it (a crash in a PDF or image library, or out of memory)"
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "error.log").write_text(f"{entry}\n{message}\n", encoding="utf-8")
            log.error("%s: %s", out_dir.name, message)
            failed = Outcome(out_dir.name, "error", "error", 0.0, 0, message)
            results[culprit] = failed
            progress.step(failed)
        workers = 1
    return [r for r in results if r is not None]


def _run_pool(
    todo: list[tuple[Path, Path, str]], indices: list[int], options: RunOptions, workers: int, results: list[Outcome | None], progress: Progress
) -> bool:
    """Run todo[indices] on a pool of `workers`, filling results; True if a worker died on the way."""
    import cv2

    # Workers are forked. OpenCV's thread pool does not survive a fork: a worker that resizes
    # it (_limit_threads) waits for ever on this process's threads (seen once this process had
    # decoded a page). At one thread here, as in every worker, there is nothing to resize.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # what each worker asks for (_limit_threads): then it has nothing to reconfigure
    try:
        return _fill_from_pool(todo, indices, options, workers, results, progress)
    finally:
        cv2.setNumThreads(threads)


def _fill_from_pool(
    todo: list[tuple[Path, Path, str]], indices: list[int], options: RunOptions, workers: int, results: list[Outcome | None], progress: Progress
) -> bool:
    broken = False
    with ProcessPoolExecutor(max_workers=workers) as pool:
        started: dict[Future[Outcome], int] = {}
        for i in indices:
            entry, out_dir, _ = todo[i]
            started[pool.submit(_work, str(entry), str(out_dir), str(options.form), options.debug)] = i
        pending = set(started)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                results[started[fut]] = outcome
                progress.step(outcome)
    return broken


def _render_all(done: list[tuple[Path, Path]], options: RunOptions) -> dict[str, str]:
    """Dossiers and certificates for the submissions just processed, with one LibreOffice for all.

    Returns submission name → reason for those whose documents could not be made.
    """
    if not done:
        return {}
    from pipeline.output.render_batch import render_batch

    log.info("rendering %d dossier(s)", len(done))
    return render_batch(done, options.outbox)


def write_summary(outbox: Path, outcomes: list[Outcome]) -> None:
    """outbox/summary.csv: one row per submission in the outbox, UTF-8 with BOM for Excel."""
    rows: list[dict[str, Any]] = []
    seconds = {o.name: o.seconds for o in outcomes if o.status == "done"}
    errors = {o.name: o for o in outcomes if o.status == "error"}
    for o in sorted(outcomes, key=lambda o: o.name):
        if o.name in errors:
            rows.append({"submission": o.name, "decision": "error", "reasons": errors[o.name].message})
            continue
        try:
            data = json.loads((outbox / o.name / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            rows.append({"submission": o.name, "decision": "error", "reasons": "result.json missing or unreadable"})
            continue
        rows.append(summary_row(data, seconds.get(o.name)))
    tmp = outbox / ".summary.csv.tmp"
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SUMMARY_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, outbox / "summary.csv")


def _append_run_log(outbox: Path, outcomes: list[Outcome]) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with (outbox / "run.log").open("a", encoding="utf-8") as fh:
        for o in outcomes:
            fh.write(f"{stamp}\t{o.name}\t{o.status}\t{o.decision}\t{o.seconds:.2f}s\t{o.message}\n")


class Progress:
    """A progress line on a terminal; plain log lines otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.pages, self.stream = total, 0, 0, stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.monotonic()

    def step(self, outcome: Outcome) -> None:
        self.done += 1
        self.pages += outcome.pages
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} submissions, {self.pages} pages, {time.monotonic() - self.start:.0f}s  "
            )
            self.stream.flush()
        else:
            log.info("%d/%d %s: %s %s (%.1fs)", self.done, self.total, outcome.name, outcome.status, outcome.decision, outcome.seconds)

    def close(self) -> None:
        if self.tty and self.total:
            self.stream.write("\n")
