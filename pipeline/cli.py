"""Parse arguments, set up logging, map outcomes to exit codes.

Exit codes: 0 every submission processed; 1 bad arguments or a bad form definition;
2 the run finished but some submissions errored; 3 another run holds the outbox;
130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import unicodedata
from pathlib import Path

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
    _verbosity(run)

    cal = sub.add_parser("calibrate", help="learn the layout of another printing from its blank PDF")
    cal.add_argument("blank", type=Path, help="the blank printing (PDF with a text layer)")
    cal.add_argument("--out", type=Path, required=True, help="form folder to write (forms/NAME/)")
    cal.add_argument("--items-from", type=Path, default=Path("forms/renewal"), help="form whose items this printing carries")
    _verbosity(cal)

    check = sub.add_parser("check-form", help="load a form definition and report what is wrong with it")
    check.add_argument("form", type=Path)
    _verbosity(check)

    pf = sub.add_parser("print-form", help="generate blank.pdf, fillable.pdf and layout.yaml for a form")
    pf.add_argument("form", type=Path)
    _verbosity(pf)

    return parser


def _verbosity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    from pipeline.model.errors import FormDefinitionError
    from pipeline.run.batch import RunOptions, run_batch
    from pipeline.run.inbox import OutboxLocked

    if args.jobs < 0:
        print("--jobs must be 0 (one per core) or more", file=sys.stderr)
        return EXIT_USAGE
    if not args.inbox.is_dir():
        print(f"{args.inbox}: no such inbox folder", file=sys.stderr)
        return EXIT_USAGE
    options = RunOptions(inbox=args.inbox, outbox=args.outbox, form=args.form, force=args.force, jobs=args.jobs, debug=args.debug, render=not args.no_render)
    try:
        outcomes = run_batch(options)
    except FormDefinitionError as exc:
        print(f"form definition error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OutboxLocked as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_LOCKED
    print(f"{'submission':40} {'status':8} {'decision':13} {'pages':>5} {'errors':>6} {'warn':>5} {'seconds':>8}")
    for o in outcomes:
        counts = f"{o.pages:5d} {o.errors:6d} {o.warnings:5d}" if o.status == "done" else f"{'':5} {'':6} {'':5}"
        print(f"{_pad(o.name, 40)} {o.status:8} {o.decision:13} {counts} {o.seconds:8.1f}" + (f"  {o.message}" if o.message else ""))
    errored = sum(1 for o in outcomes if o.status == "error")
    print(f"{len(outcomes)} submissions: {sum(o.status == 'done' for o in outcomes)} processed, "
          f"{sum(o.status == 'skipped' for o in outcomes)} unchanged, {errored} errors; summary in {args.outbox / 'summary.csv'}")
    return EXIT_SOME_FAILED if errored else EXIT_OK


def _pad(text: str, width: int) -> str:
    """Cut and pad to `width` terminal columns; Japanese characters take two."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


def _check_form(args: argparse.Namespace) -> int:
    from pipeline.form.definition import load_form
    from pipeline.model.errors import FormDefinitionError

    try:
        form = load_form(args.form)
    except FormDefinitionError as exc:
        print(f"form definition error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    boxes = sum(len(p.boxes) for p in form.pages)
    print(f"{form.name}: {len(form.items)} items, {form.rule.required_total} 必須, {form.rule.points_max} points, "
          f"pass at {form.rule.threshold}; {len(form.pages)} layout pages, {boxes} boxes")
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
    return EXIT_OK


def _print_form(args: argparse.Namespace) -> int:
    from pipeline.form.printing import print_form

    print_form(args.form)
    return EXIT_OK


COMMANDS = {"run": _run, "check-form": _check_form, "calibrate": _calibrate, "print-form": _print_form}
