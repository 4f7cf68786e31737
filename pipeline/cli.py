"""Parse arguments, set up logging, map outcomes to exit codes.

Exit codes: 0 every submission processed; 1 bad arguments or a bad form definition;
2 the run finished but some submissions errored; 3 another run holds the outbox;
130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TextIO

# Each sub-command imports its parts inside its function: `--help` and `check-form` start
# without loading OpenCV, pdfium or Tesseract (check with `python -X importtime -m pipeline --help`).

EXIT_OK, EXIT_USAGE, EXIT_SOME_FAILED, EXIT_LOCKED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description="Review 安全・安心マーク applications.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="process inbox/ into outbox/ (only what changed)")
    run.add_argument("--inbox", type=Path, default=Path("inbox"), help="folder of submissions (default: inbox)")
    run.add_argument("--outbox", type=Path, default=Path("outbox"), help="where results go (default: outbox)")
    run.add_argument("--form", type=Path, default=Path("forms/renewal"), help="form definition folder (default: forms/renewal)")
    run.add_argument("--force", action="store_true", help="redo every submission, changed or not")
    run.add_argument("-j", "--jobs", type=int, default=0, help="submissions in parallel (default: one per core)")
    run.add_argument("--debug", action="store_true", help="also write page overlays and crops for tuning")
    run.add_argument("--no-render", action="store_true", help="write result.json only, no dossier or certificate")
    run.add_argument(
        "--deadline",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="time a submission may take, plus --page-seconds a page (default: 120)",
    )
    run.add_argument(
        "--page-seconds", type=float, default=5.0, metavar="SECONDS", help="time added to a submission's deadline per page (default: 5)"
    )
    run.add_argument(
        "--profile",
        action="store_true",
        help="also write each submission's cProfile and timings to OUTBOX/NAME/debug/ (bench/bench_submission.py)",
    )
    run.add_argument("--memory-gb", type=float, default=2.0, metavar="GB", help="memory (address space) a submission may use (default: 2)")
    _verbosity(run)

    cal = sub.add_parser("calibrate", help="learn the layout of another printing from its blank PDF")
    cal.add_argument("blank", type=Path, help="the blank printing (PDF with a text layer)")
    cal.add_argument("--out", type=Path, required=True, help="form folder to write (forms/NAME/)")
    cal.add_argument("--items-from", type=Path, default=Path("forms/renewal"), help="form whose items this printing carries")
    cal.add_argument("--show", action="store_true", help="also draw what was found on the blank: OUT/calibrate-show/page-NN.png")
    _verbosity(cal)

    check = sub.add_parser("check-form", help="load a form definition and report what is wrong with it")
    check.add_argument("form", type=Path)
    _verbosity(check)

    pf = sub.add_parser("print-form", help="generate blank.pdf, fillable.pdf and layout.yaml for a form")
    pf.add_argument("form", type=Path)
    _verbosity(pf)

    rev = sub.add_parser("review", help="start the review station: a local web page to check, correct and sign")
    rev.add_argument("--outbox", type=Path, default=Path("outbox"), help="results to review (default: outbox)")
    rev.add_argument("--inbox", type=Path, default=Path("inbox"), help="the submissions a save re-runs (default: inbox)")
    rev.add_argument("--form", type=Path, default=Path("forms/renewal"), help="form definition folder (default: forms/renewal)")
    rev.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    rev.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; another needs --config)")
    rev.add_argument("--config", type=Path, help="station config: password_hash, tls_cert, tls_key (for --host)")
    rev.add_argument("--set-password", action="store_true", help="ask for a password and store its hash in --config, then stop")
    _verbosity(rev)

    return parser


def _verbosity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(verbose=args.verbose, quiet=args.quiet)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("中断しました", file=sys.stderr)
        return EXIT_INTERRUPTED


LEVEL_WORDS = {logging.WARNING: "警告: ", logging.ERROR: "エラー: ", logging.CRITICAL: "エラー: ", logging.DEBUG: "debug: "}


class OperatorFormatter(logging.Formatter):
    """Log lines for the operator: a plain message for information, 警告: / エラー: before trouble."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = LEVEL_WORDS.get(record.levelno, "")
        if record.levelno == logging.DEBUG:
            prefix += f"{record.name}: "
        return prefix + super().format(record)


def setup_logging(*, verbose: bool = False, quiet: bool = False, stream: TextIO | None = None) -> None:
    """stderr logging: the pipeline's own messages at the chosen level, libraries' only when they warn.

    Libraries talk at INFO about themselves (pikepdf: "C++ to Python logger bridge initialized"),
    which means nothing to an operator; -v shows everything, for developers.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(OperatorFormatter("%(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("pipeline").setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


def _run(args: argparse.Namespace) -> int:
    from pipeline.model.errors import FormDefinitionError
    from pipeline.run.batch import RunOptions, closing_table, run_batch
    from pipeline.run.inbox import OutboxLocked

    if args.jobs < 0:
        print("--jobs は 0（コア数だけ並行）以上の数で指定してください", file=sys.stderr)
        return EXIT_USAGE
    if not args.inbox.is_dir():
        print(f"{args.inbox}: 受付フォルダ（--inbox）がありません", file=sys.stderr)
        return EXIT_USAGE
    if min(args.deadline, args.memory_gb) <= 0 or args.page_seconds < 0:
        print("--deadline と --memory-gb は正の数、--page-seconds は 0 以上で指定してください", file=sys.stderr)
        return EXIT_USAGE
    from pipeline.run.worker import WorkerLimits

    limits = WorkerLimits(submission_seconds=args.deadline, page_seconds=args.page_seconds, memory_bytes=int(args.memory_gb * 2**30))
    options = RunOptions(
        inbox=args.inbox,
        outbox=args.outbox,
        form=args.form,
        force=args.force,
        jobs=args.jobs,
        debug=args.debug,
        render=not args.no_render,
        limits=limits,
        profile=args.profile,
    )
    try:
        outcomes = run_batch(options)
    except FormDefinitionError as exc:
        print(f"様式定義のエラー: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutboxLocked as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_LOCKED
    for line in closing_table(outcomes, args.outbox):
        print(line)
    errored = sum(1 for o in outcomes if o.status in ("error", "review_error") or o.decision == "review_error")
    return EXIT_SOME_FAILED if errored else EXIT_OK


def _check_form(args: argparse.Namespace) -> int:
    from pipeline.form.definition import load_form
    from pipeline.model.errors import FormDefinitionError

    try:
        form = load_form(args.form)
    except FormDefinitionError as exc:
        print(f"様式定義のエラー: {exc}", file=sys.stderr)
        return EXIT_USAGE
    boxes = sum(len(p.boxes) for p in form.pages)
    print(
        f"{form.name}: {len(form.items)} items, {form.rule.required_total} 必須, {form.rule.points_max} points, "
        f"pass at {form.rule.threshold}; {len(form.pages)} layout pages, {boxes} boxes"
    )
    return EXIT_OK


def _calibrate(args: argparse.Namespace) -> int:
    from pipeline.form.calibrate import calibrate
    from pipeline.form.definition import load_form
    from pipeline.model.errors import PipelineError

    try:
        report = calibrate(args.blank, args.out, load_form(args.items_from))
    except PipelineError as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report)
    if args.show:
        from pipeline.form.calibrate import show_layout

        for png in show_layout(args.out):
            print(f"  shown: {png}")
    return EXIT_OK


def _print_form(args: argparse.Namespace) -> int:
    from pipeline.form.printing import print_form

    print_form(args.form)
    return EXIT_OK


def _review(args: argparse.Namespace) -> int:
    from pipeline.station.serve import ServeOptions, serve, write_password

    if args.set_password:
        import getpass

        if args.config is None:
            print("--set-password needs --config FILE", file=sys.stderr)
            return EXIT_USAGE
        password = getpass.getpass("パスワード: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        if len(password) < 8:
            print("パスワードは 8 文字以上にしてください", file=sys.stderr)
            return EXIT_USAGE
        write_password(args.config, password)
        print(f"{args.config}: パスワードのハッシュを書きました")
        return EXIT_OK
    if not (args.outbox / "summary.csv").exists() and not args.outbox.is_dir():
        print(f"{args.outbox}: no such outbox folder (run `make run` first)", file=sys.stderr)
        return EXIT_USAGE
    return serve(ServeOptions(outbox=args.outbox, inbox=args.inbox, form=args.form, host=args.host, port=args.port, config=args.config))


COMMANDS = {"review": _review, "run": _run, "check-form": _check_form, "calibrate": _calibrate, "print-form": _print_form}
