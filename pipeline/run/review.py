"""The run's side of review.yaml: checked before anything is written, the blank created once, the problems written down.

A review.yaml with any problem stops its submission before a single file of the outbox changes
(`ReviewFileError`): result.json, the dossier and the certificate stay byte-identical and no
licence number is taken. The problems go, in Japanese with file and line, to
`outbox/<name>/review_errors.txt` (and the batch prints them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from pipeline.model.errors import OverridesError
from pipeline.model.records import FormDef
from pipeline.model.text_safety import visible_text
from pipeline.rules.review_check import CheckedReview, ReviewProblem, check_review, format_problems
from pipeline.rules.review_text import blank_review_text

REVIEW_FILE = "review.yaml"
ERRORS_FILE = "review_errors.txt"


class ReviewFileError(OverridesError):
    """review.yaml has problems: the submission is not re-decided. `lines` are the Japanese lines to show."""

    def __init__(self, name: str, problems: Sequence[ReviewProblem]) -> None:
        name = visible_text(name)
        self.lines = format_problems(f"{name}/{REVIEW_FILE}", problems)
        self.problems = tuple(problems)
        super().__init__(f"{name}/{REVIEW_FILE} に問題が {len(problems)} 件あります。直すまで前回の結果のままです（{name}/{ERRORS_FILE}）")


def checked_review(out_dir: Path, form: FormDef, attachment_ids: Collection[str]) -> CheckedReview:
    """review.yaml of `out_dir` checked against the form and this reading's attachments.

    Raises:
        ReviewFileError: the file has a problem; `out_dir/review_errors.txt` then holds them
            (nothing else in out_dir is touched).
    """
    checked = check_review(out_dir / REVIEW_FILE, form, attachment_ids)
    errors = out_dir / ERRORS_FILE
    if checked.ok:
        with contextlib.suppress(FileNotFoundError):
            errors.unlink()
        return checked
    error = ReviewFileError(out_dir.name, checked.problems)
    _write_atomic(errors, "\n".join(error.lines) + "\n")
    raise error


def review_sha256(out_dir: Path) -> str | None:
    """The SHA-256 of the review.yaml the corrections came from; None when there is none (or it is not a file)."""
    path = out_dir / REVIEW_FILE
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def previous_overrides(out_dir: Path) -> list[dict[str, Any]]:
    """The overrides of the previous result.json (for their first-applied dates); [] when there is none."""
    try:
        data = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    overrides = data.get("overrides") if isinstance(data, dict) else None
    return [e for e in overrides if isinstance(e, dict)] if isinstance(overrides, list) else []


def write_blank_review(out_dir: Path, form: FormDef, submission: str, todo: Sequence[str], reasons: Sequence[str] = ()) -> bool:
    """Create review.yaml if absent, never replacing one (not even one made meanwhile). True if written."""
    path = out_dir / REVIEW_FILE
    if os.path.lexists(path):
        return False
    tmp = path.with_name(f".{REVIEW_FILE}.{os.getpid()}.tmp")
    tmp.write_text(blank_review_text(form, submission, todo, reasons), encoding="utf-8")
    try:
        os.link(tmp, path)  # fails if a review.yaml appeared since: the reviewer's file wins
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
