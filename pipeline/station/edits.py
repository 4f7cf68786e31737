"""The station's writes: review.yaml edited round-trip (comments kept), checked whole, stale saves refused, written atomically."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.model.records import FormDef
from pipeline.rules.review_check import format_problems
from pipeline.rules.review_text import updated_review_text

# The label problems are printed with, on the page as on the command line.
FILE_LABEL = "review.yaml"


# One value the reviewer set, by its dotted path in review.yaml: {"items.7-1-1.points": 5,
# "signoff.first.name": "山田 太郎"}; None takes a correction back (rules.review_text).
Edits = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """What a save did: written (with the new text's sha256), or refused with the lines to show."""

    written: bool
    sha256: str
    messages: tuple[str, ...] = ()
    stale: bool = False


def text_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_review_bytes(path: Path) -> bytes:
    """review.yaml's bytes, b"" when absent; a link, directory or other non-file is refused (OSError)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return b""
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path.name}: 通常のファイルではありません（リンク・フォルダなど）。書き込みません")
    return path.read_bytes()


def save_review(path: Path, base_sha256: str, edits: Edits, form: FormDef, known_attachments: Collection[str] = ()) -> SaveOutcome:
    """Apply `edits` to review.yaml if it is still the text the page was built from; check it whole; write it.

    Refused, with nothing written: when the file changed since `base_sha256` (another tab or
    reviewer saved first), when it is not a regular file, and when the edited text has any
    problem for rules.review_check (the same Japanese lines the run prints).
    """
    try:
        before = read_review_bytes(path)
    except OSError as exc:
        return SaveOutcome(False, "", (str(exc),))
    now = text_sha256(before)
    if now != base_sha256:
        return SaveOutcome(False, now, (STALE_MESSAGE,), stale=True)
    try:
        text = before.decode("utf-8")
    except UnicodeDecodeError:
        return SaveOutcome(False, now, (f"{FILE_LABEL}: UTF-8 ではありません", BROKEN_MESSAGE))
    new_text, checked = updated_review_text(text, form, edits, known_attachments)
    if checked.problems:
        lines = format_problems(FILE_LABEL, checked.problems)
        return SaveOutcome(False, now, tuple(lines) + ((BROKEN_MESSAGE,) if new_text == text else ()))
    data = new_text.encode("utf-8")
    write_atomic(path, data)
    return SaveOutcome(True, text_sha256(data))


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name beside `path`, flush it to disk, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.station-{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


STALE_MESSAGE = (
    "保存しませんでした: このページを開いた後に、別のタブか別の審査者が review.yaml を保存しています。"
    "ページを読み込み直し、最新の内容を確かめてからもう一度訂正してください。"
)
BROKEN_MESSAGE = "review.yaml に上の問題があるため、このページからは書き込めません。ファイルを直接直してから読み込み直してください。"
