"""The batch: run the submissions that changed on workers with a deadline and a memory cap, fingerprint each as it ends, write summary.csv."""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import logging
import os
import sys
import time
import traceback
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pipeline.model.errors import PipelineError
from pipeline.model.records import FormDef
from pipeline.model.text_safety import visible_text
from pipeline.model.words import decision_word
from pipeline.output.result import ROW_OUTCOMES, SUMMARY_COLUMNS, RowFacts, open_questions_text, summary_row
from pipeline.run.forms import loaded_form
from pipeline.run.inbox import (
    entry_problem,
    find_entries,
    fingerprint,
    mark_rendered,
    outbox_lock,
    outbox_names,
    saved_decision,
    unchanged,
    unrendered,
    write_fingerprint,
)
from pipeline.run.names import printable, utf8_view
from pipeline.run.worker import Failure, WorkerLimits, profiled, run_jobs
from pipeline.sources.limits import Limits

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
    limits: WorkerLimits = field(default_factory=WorkerLimits)  # each submission's deadline and memory cap
    profile: bool = False  # each submission's cProfile and moments in outbox/<name>/debug/ (bench/bench_submission.py)


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    status: str  # done, skipped, error, review_error (review.yaml refused: the previous outputs stand)
    decision: str
    seconds: float
    pages: int = 0
    message: str = ""
    errors: int = 0  # flags of severity error in result.json
    warnings: int = 0


# The closing table's row when summary.csv could not be written (no entry can get this name).
SUMMARY_NOT_WRITTEN = "（summary.csv）"
Job = tuple[str, str, str, bool, int, bool]  # entry, out_dir, form folder, debug, threads, profile
# errno values that mean the outbox as a whole cannot take more: the run stops and says so.
_OUTBOX_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM})


def _work(job: Job) -> Outcome:
    """Process one submission in a worker; its outcome, timed from the worker's start on it (not its wait in the queue)."""
    entry, out_dir, form_dir, debug, threads, profile = job
    start = time.monotonic()
    name = Path(out_dir).name
    with profiled(Path(out_dir) / "debug" if profile else None, entry):
        status, decision, pages, msg, errors, warnings = _process(entry, out_dir, form_dir, debug, threads)
    return Outcome(name, status, decision, time.monotonic() - start, pages, msg, errors, warnings)


def _process(entry: str, out_dir: str, form_dir: str, debug: bool, threads: int) -> tuple[str, str, int, str, int, int]:
    """(status, decision, pages, message, errors, warnings) of one submission; a crash is its error.log."""
    # Imported here, not at the top: the readers (pdfium, Tesseract, the digit model) load in the
    # processes that run submissions, not in a pool's parent before it forks its workers.
    from pipeline.run.review import ReviewFileError
    from pipeline.run.submission import process_engines, process_submission

    _limit_threads(threads)
    out = Path(out_dir)
    error_log = out / "error.log"
    try:
        with utf8_view(Path(entry), Limits().max_file_bytes) as readable:  # a Shift_JIS name is read like any other
            data = process_submission(readable, Path(form_dir), out, debug=debug, engines=process_engines().capped(threads))
        if error_log.exists():
            error_log.unlink()
        severities = [f["severity"] for f in data["flags"]]
        pages = sum(s["pages"] for s in data["sources"])
        return "done", data["score"]["decision"], pages, "", severities.count("error"), severities.count("warning")
    except ReviewFileError as exc:  # not re-decided: the previous outputs stay as they were
        return "review_error", "review_error", 0, str(exc), 0, 0
    except MemoryError:
        raise  # the worker reports it as メモリの上限を超えました and is replaced
    except Exception as exc:  # one submission's crash must not stop the batch
        message = str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {exc}"
        try:
            _write_error_log(out, f"{entry}\n{traceback.format_exc()}")
        except OSError as log_exc:  # a full disk, or out_dir taken by a file: still only this submission's error
            message += f"（error.log も書けません: {log_exc.strerror or log_exc}）"
        return "error", "error", 0, printable(message), 0, 0


def _write_error_log(out_dir: Path, text: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "error.log").write_text(printable(text), encoding="utf-8", errors="backslashreplace")


def _count_pages(job: Job) -> int:
    """The submission's pages, counted cheaply in the worker before it starts: they set its deadline.

    A PDF's page tree is counted by pikepdf (no page is loaded), a TIFF's frames by Pillow; a file
    that cannot be counted counts as one page, one over the size limit as none.
    """
    from pipeline.sources.entry import entry_files
    from pipeline.sources.limits import Limits

    limits = Limits()
    try:
        files = entry_files(Path(job[0]), limits.max_files_per_entry)
    except (PipelineError, OSError):
        return 0
    return sum(_file_pages(path, limits) for path in files)


def _file_pages(path: Path, limits: Limits) -> int:
    try:
        if os.stat(path).st_size > limits.max_file_bytes:
            return 0
        with open(path, "rb") as fh:
            head = fh.read(1024)
        if b"%PDF-" in head:
            import pikepdf

            with pikepdf.open(path) as pdf:
                return min(len(pdf.pages), limits.max_pages)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            from PIL import Image

            with Image.open(path) as im:
                return min(int(getattr(im, "n_frames", 1)), limits.max_pages)
    except Exception:  # noqa: BLE001 — reading it is the submission's job; here it is only a count
        return 1
    return 1


def _limit_threads(threads: int) -> None:
    """Each submission runs on `threads` cores (1 in a pool: --jobs spreads submissions over cores).

    OpenCV's thread pool and the field OCR threads would otherwise take every core inside each
    worker: --jobs 1 would quietly use two cores, and two workers would fight over them. (The
    field OCR threads are capped by the Engines passed to process_submission.)
    """
    import cv2

    cv2.setNumThreads(threads)


def run_batch(options: RunOptions, stream: TextIO | None = None) -> list[Outcome]:
    """Process every submission of the inbox into the outbox; returns one outcome per submission.

    Progress and each refused review.yaml's problems go to `stream` (None: the sys.stderr of the call).

    Never raises for the outbox: one that cannot be created, locked or written (read-only, full)
    makes every submission not done an `error` with the reason in Japanese.

    Raises:
        FormDefinitionError: the form definition is broken.
        OutboxLocked: another live run holds the outbox.
    """
    form = loaded_form(options.form)  # kept for the workers forked after it
    names = outbox_names(find_entries(options.inbox))
    try:
        with outbox_lock(options.outbox) as lock_fd:
            outcomes = _run_locked(options, form, names, lock_fd, sys.stderr if stream is None else stream)
    except OSError as exc:  # the outbox cannot be created or locked: nothing was done
        message = _unwritable_message(options.outbox, exc)
        log.error("%s", message)
        outcomes = [Outcome(name, "error", "error", 0.0, 0, message) for name in names]
    return sorted(outcomes, key=lambda o: o.name)


def _run_locked(options: RunOptions, form: FormDef, names: dict[str, Path], lock_fd: int, stream: TextIO) -> list[Outcome]:
    outcomes: list[Outcome] = []
    todo: list[tuple[Path, Path]] = []
    render_only: list[tuple[Path, Path]] = []
    for name, entry in names.items():
        out_dir = options.outbox / name
        problem = entry_problem(entry)
        if problem is not None:
            outcomes.append(_refused(out_dir, problem))
        elif options.force or not unchanged(out_dir, fingerprint(entry, out_dir / "review.yaml", form.fingerprint)):
            todo.append((entry, out_dir))
        else:
            if options.render and unrendered(out_dir):  # the last run stopped before its dossier
                render_only.append((entry, out_dir))
            outcomes.append(Outcome(name, "skipped", saved_decision(out_dir), 0.0))
    progress = Progress(len(todo), stream)
    try:
        results, stopped = _run_all(todo, options, form, lock_fd, progress)
    finally:
        progress.close()
    failed_render: dict[str, str] = {}
    if options.render and not stopped:
        rendered = [(e, o) for (e, o), r in zip(todo, results) if r.status == "done"] + render_only
        failed_render = _render_all(rendered, options)
        for _, out_dir in rendered:
            try:
                mark_rendered(out_dir, ok=out_dir.name not in failed_render)
            except OSError as exc:
                log.error("%s", _unwritable_message(out_dir, exc))
    outcomes = [_render_failed(o, failed_render[o.name]) if o.name in failed_render else o for o in outcomes + results]
    _print_review_errors(options.outbox, results, stream)
    try:
        write_summary(options.outbox, outcomes, form)
        _append_run_log(options.outbox, outcomes)
    except OSError as exc:
        message = _unwritable_message(options.outbox, exc, "summary.csv と run.log を書けませんでした")
        log.error("%s", message)
        # Every submission may be done, but staff read summary.csv: the run must not end as a success.
        outcomes.append(Outcome(SUMMARY_NOT_WRITTEN, "error", "error", 0.0, 0, message))
    return outcomes


def _run_all(
    todo: list[tuple[Path, Path]], options: RunOptions, form: FormDef, lock_fd: int, progress: Progress
) -> tuple[list[Outcome], str]:
    """Every submission of `todo` in a worker (see run.worker), each fingerprinted as it finishes.

    Returns the outcomes in todo's order and, when the outbox filled up or became unwritable on
    the way, the Japanese reason the run stopped ("" otherwise); what was not done then is an
    `error` saying so, and the next run does only that.
    """
    jobs = options.jobs or os.cpu_count() or 1
    threads = jobs if len(todo) == 1 else 1  # one submission alone may use every core it was given
    payloads: list[tuple[int, Any]] = [
        (i, (str(e), str(o), str(options.form), options.debug, threads, options.profile)) for i, (e, o) in enumerate(todo)
    ]
    results: dict[int, Outcome] = {}
    stopped = ""
    size = min(jobs, len(todo))
    _import_readers(pool=size > 1)
    with _one_opencv_thread():
        if size > 1:
            _load_readers(options.form)
        runner = run_jobs(payloads, size=size, limits=options.limits, work=_work, count_pages=_count_pages, close_fds=[lock_fd])
        try:
            for i, value in runner:
                entry, out_dir = todo[i]
                outcome = value if isinstance(value, Outcome) else _worker_failed(entry, out_dir, value)
                results[i] = outcome
                progress.step(outcome)
                if outcome.status == "done":
                    # Taken now, as it finishes: a run killed later redoes only what was unfinished;
                    # taken after the worker because the first run itself writes review.yaml.
                    write_fingerprint(out_dir, fingerprint(entry, out_dir / "review.yaml", form.fingerprint), rendered=not options.render)
        except OSError as exc:
            if exc.errno not in _OUTBOX_FULL:
                raise
            stopped = _unwritable_message(options.outbox, exc)
            log.error("%s", stopped)
        finally:
            runner.close()
    for i, (_, out_dir) in enumerate(todo):
        if i not in results:
            results[i] = Outcome(out_dir.name, "error", "error", 0.0, 0, f"未処理: {stopped}")
    return [results[i] for i in range(len(todo))], stopped


def _import_readers(pool: bool) -> None:
    """Import what the workers need here, once, before they are forked from this process.

    review.yaml's reader and checks always: this process reads them itself for summary.csv once
    the jobs are done, and a worker forked after this has them already (imported in the worker
    too, they were imported twice, ~0.1 s on a busy machine). For a pool of several workers also
    the readers' modules (OpenCV, pdfium and the pipeline's reading modules: about 0.5 s of CPU
    each), shared once forked; one worker alone gains nothing from that (it would import them
    just the same, and a run with nothing to read never does).
    """
    from pipeline.run.review import ReviewFileError  # noqa: F401

    if pool:
        import pipeline.run.submission  # noqa: F401 — imported for the workers forked after it


def _load_readers(form_dir: Path) -> None:
    """Load, once, what survives a fork, before the workers are forked (after _import_readers, under _one_opencv_thread).

    Loaded here and shared by every worker: the digit classifier (its numpy arrays, 0.03 s: no
    scikit-learn, no threads) and the form's blank pages prepared for registration
    (references.py: renderings, ORB features, QR boxes; ~0.6 s). OpenCV must be at one thread
    while they are computed: a worker resizing a pool this process started waits for ever on
    threads it does not have (seen: every worker hung in pthread_cond_destroy when OpenCV was
    imported after _one_opencv_thread looked). Left to each worker on its first use: PP-OCR (an
    ONNX runtime session's threads do not survive a fork) and Tesseract's language models (built
    per language and mode as pages ask).
    """
    from pipeline.reading.references import prepare_features, references
    from pipeline.run.submission import process_engines

    try:
        # loaded as the worker loads it (a resolved folder): the same blank_pdf, the same cache entry;
        # the ORB features too (found on first use otherwise: each worker would find them again)
        prepare_features(references(loaded_form(form_dir)))
        process_engines().classifier()
    except (PipelineError, OSError, ImportError) as exc:  # the worker tries again, and reports it there
        log.warning("readers not loaded before the workers start: %s", exc)


@contextlib.contextmanager
def _one_opencv_thread() -> Iterator[None]:
    """OpenCV at one thread in this process while workers are forked from it.

    OpenCV's thread pool does not survive a fork: a worker that resizes it (_limit_threads) waits
    for ever on this process's threads (seen once this process had decoded a page). At one
    thread here, as in every worker, there is nothing to resize. A process that has not imported
    OpenCV has no such pool, and does not import it for this (0.15 s of CPU, 0.4 s on a busy machine).
    """
    if "cv2" not in sys.modules:
        yield
        return
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


def _worker_failed(entry: Path, out_dir: Path, failure: Failure) -> Outcome:
    """A submission its worker did not finish (deadline, memory cap, a death): an error naming the file."""
    message = f"{printable(entry.name)}: {failure.message}"
    log.error("%s: %s", out_dir.name, message)
    try:
        _write_error_log(out_dir, f"{entry}\n{message}\n")
    except OSError as exc:
        if exc.errno in _OUTBOX_FULL:
            raise
    return Outcome(out_dir.name, "error", "error", failure.seconds, 0, message)


def _refused(out_dir: Path, problem: str) -> Outcome:
    """An entry refused unopened (a link, a FIFO): its error row, and error.log saying why."""
    log.error("%s", problem)
    try:
        _write_error_log(out_dir, problem + "\n")
    except OSError as exc:
        log.error("%s", _unwritable_message(out_dir, exc))
    return Outcome(out_dir.name, "error", "error", 0.0, 0, problem)


def _render_failed(o: Outcome, reason: str) -> Outcome:
    return Outcome(o.name, "error", o.decision, o.seconds, o.pages, reason, o.errors, o.warnings)


def _unwritable_message(where: Path, exc: OSError, what: str = "outbox に書き込めないため、処理を中止しました") -> str:
    """The Japanese reason a run stopped on its outbox: a full disk, a read-only or forbidden folder."""
    why = {
        errno.ENOSPC: "ディスクの空きがありません",
        errno.EDQUOT: "ディスクの割り当て（クォータ）を超えました",
        errno.EROFS: "読み取り専用です",
        errno.EACCES: "書き込みの権限がありません",
        errno.EPERM: "書き込みの権限がありません",
        errno.EFBIG: "ファイルの大きさの上限を超えました",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return f"{printable(str(where))}: {what}（{why}: {printable(str(exc.filename or where))}）"


def _render_all(done: list[tuple[Path, Path]], options: RunOptions) -> dict[str, str]:
    """Dossiers and certificates for the submissions just processed, with one LibreOffice for all.

    Returns submission name → reason for those whose documents could not be made.
    """
    if not done:
        return {}
    from pipeline.output.render_batch import render_batch

    log.info("調書と合格証を作成しています（%d 件）", len(done))
    return render_batch(done, options.outbox)


def write_summary(outbox: Path, outcomes: list[Outcome], form: FormDef | None = None) -> None:
    """outbox/summary.csv: one row per submission, Japanese columns first, UTF-8 with BOM for Excel.

    `form` lets the row name the reviewer from review.yaml (read with the same checks as the rules).
    """
    licences = _licences(outbox)
    rows: list[dict[str, str]] = []
    for o in sorted(outcomes, key=lambda o: o.name):
        out_dir = outbox / o.name
        outcome = _row_outcome(o)
        data = None if outcome == "error" else _read_result(out_dir)
        registered = licences.get(o.name, {}) if (out_dir / "certificate.pdf").is_file() else {}
        facts = RowFacts(
            seconds=o.seconds if o.status == "done" else None,
            reviewer=_reviewer(out_dir, form, data) if form is not None else "",
            license_number=registered.get("license_number") or "",
            issued=registered.get("issued") or "",
            dossier=f"{o.name}/dossier.pdf" if (out_dir / "dossier.pdf").is_file() else "",
        )
        if data is None and not outcome:
            outcome, message = "error", f"{o.name}/result.json がないか、読めません"
        else:
            message = o.message
        rows.append(summary_row(o.name, data, facts, outcome=outcome, message=message))
    tmp = outbox / ".summary.csv.tmp"
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SUMMARY_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, outbox / "summary.csv")


def _print_review_errors(outbox: Path, outcomes: list[Outcome], stream: TextIO) -> None:
    """Each refused review.yaml's problems, in Japanese with file and line, as review_errors.txt holds them."""
    from pipeline.run.review import ERRORS_FILE

    for o in outcomes:
        if o.status == "review_error":
            try:
                stream.write((outbox / o.name / ERRORS_FILE).read_text(encoding="utf-8"))
            except OSError:
                stream.write(f"{o.message}\n")
    stream.flush()


def _row_outcome(o: Outcome) -> str:
    """ "error" or "review_error" when that, not a decision, is the submission's row; else ""."""
    return next((code for code in ROW_OUTCOMES if code in (o.status, o.decision)), "")


def _read_result(out_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("score"), dict) else None


def _reviewer(out_dir: Path, form: FormDef, data: dict[str, Any] | None) -> str:
    """The reviewer review.yaml names (else the last sign-off's name); "" when none or the file has problems."""
    from pipeline.rules.review_check import check_review

    attachments = [str(a.get("id")) for a in (data or {}).get("attachments") or []]
    checked = check_review(out_dir / "review.yaml", form, attachments)
    if not checked.ok:
        return ""
    signed = checked.corrections.latest_signoff
    return checked.corrections.reviewer or (signed.name if signed else "")


def _licences(outbox: Path) -> dict[str, dict[str, str]]:
    """The licence registry's rows by submission; {} when there is none (or council.yaml cannot say where)."""
    from pipeline.model.errors import PipelineError
    from pipeline.output.certificate import load_council
    from pipeline.output.render_batch import REPO

    try:
        registry = load_council(REPO / "council.yaml").registry_path(outbox)
        with registry.open(encoding="utf-8-sig", newline="") as fh:
            return {row.get("submission") or "": row for row in csv.DictReader(fh)}
    except (PipelineError, OSError, csv.Error):
        return {}


def _append_run_log(outbox: Path, outcomes: list[Outcome]) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with (outbox / "run.log").open("a", encoding="utf-8") as fh:
        for o in outcomes:
            fh.write(f"{stamp}\t{o.name}\t{o.status}\t{o.decision}\t{o.seconds:.2f}s\t{o.message}\n")


STATUS = {"done": "処理済", "skipped": "前回のまま", "error": "エラー", "review_error": "訂正エラー"}


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
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} 件、{self.pages} 頁、{time.monotonic() - self.start:.0f} 秒  "
            )
            self.stream.flush()
        else:
            word = STATUS[outcome.status] if outcome.status in ("error", "review_error") else decision_word(outcome.decision)
            log.info("%d/%d %s: %s（%.1f 秒）", self.done, self.total, visible_text(outcome.name), word, outcome.seconds)

    def close(self) -> None:
        if self.tty and self.total:
            self.stream.write("\n")


def closing_table(outcomes: list[Outcome], outbox: Path) -> list[str]:
    """The run's closing table for stdout, in Japanese: one line per submission, and under it what
    waits for the reviewer (要確認) or what went wrong (エラー, 訂正エラー), naming the file to open."""
    lines = [
        f"{_pad('申請', 40)} {_pad('状態', 10)} {_pad('判定', 10)}{_pad('頁', 5, right=True)} エラー {_pad('警告', 4)} {_pad('秒', 6, right=True)}"
    ]
    waiting: list[str] = []
    for o in outcomes:
        name = visible_text(o.name)
        outcome = _row_outcome(o)
        word = decision_word(outcome or o.decision)
        counts = f"{o.pages:5d} {o.errors:6d} {o.warnings:4d}" if o.status == "done" else f"{'':5} {'':6} {'':4}"
        lines.append(f"{_pad(name, 40)} {_pad(STATUS.get(o.status, o.status), 10)} {_pad(word, 10)}{counts} {o.seconds:6.1f}")
        if outcome:
            detail = visible_text(o.message, multiline=True).strip().splitlines() or ["原因は不明です"]
            if outcome == "error":
                detail[-1] += f"（{name}/error.log を参照）"
            lines.append(f"    {word}: {detail[0]}")
            lines += [f"      {more}" for more in detail[1:]]
        elif o.decision == "needs_review":
            data = _read_result(outbox / o.name)
            why = open_questions_text(data) if data else ""
            lines.append(f"    審査者の確認待ち: {visible_text(why) or '判定理由は result.json を参照'}")
            waiting.append(name)
    errored = sum(1 for o in outcomes if _row_outcome(o))
    lines.append(
        f"{len(outcomes)} 件: 処理 {sum(o.status == 'done' for o in outcomes)}、前回のまま {sum(o.status == 'skipped' for o in outcomes)}、"
        f"エラー {errored}、審査者の確認待ち {len(waiting)}。一覧: {visible_text(str(outbox / 'summary.csv'))}"
    )
    return lines


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """Cut and pad to `width` terminal columns (aligned left, or right); Japanese characters take two."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return " " * (width - used) + out if right else out + " " * (width - used)
