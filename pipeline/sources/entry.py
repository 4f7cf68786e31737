"""An inbox entry's input files: which files count, their order (the page order), their names.

The one listing of an entry: the batch fingerprints what it lists and ingest reads it, so a file
that is read is a file that is fingerprinted.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from pathlib import Path

from pipeline.model.errors import LimitExceededError, UnreadableFileError
from pipeline.sources.limits import Limits

logger = logging.getLogger(__name__)

# Files the operating system or Office leaves in a folder (compared case-folded).
_SKIPPED_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def natural_key(rel: str) -> tuple[tuple[tuple[int, int, str], ...], str]:
    """Sort "p2" before "p10" (also with full-width digits); the raw string breaks ties."""
    parts = []
    for segment in unicodedata.normalize("NFKC", rel).casefold().split("/"):
        for piece in re.split(r"(\d+)", segment):
            if piece.isdigit():
                parts.append((0, int(piece), ""))
            elif piece:
                parts.append((1, 0, piece))
        parts.append((-1, 0, ""))  # folder boundary sorts before any name piece
    return tuple(parts), rel


def relative_name(entry: Path, path: Path) -> str:
    """The name a file is reported under: relative to a folder entry, or the file's own name.

    Bytes that are not UTF-8 (a Shift_JIS name from an old Windows archive) are shown as %XX, so
    the name can be written to result.json, a log line or summary.csv.
    """
    rel = path.relative_to(entry).as_posix() if entry.is_dir() else path.name
    return "".join(f"%{ord(c) - 0xDC00:02X}" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in rel)


def entry_files(entry: Path, max_files: int | None = None) -> list[Path]:
    """The input files of one inbox entry, sorted by relative name (natural order: the page order).

    A file entry is its own one file. In a folder every regular file counts, whatever its suffix,
    so a stray .docx is reported as unreadable rather than silently dropped; hidden files and
    folders, Office lock files (~$…) and Thumbs.db/.DS_Store/desktop.ini are skipped, as are
    symlinks that leave the entry. An entry that is neither a file nor a folder (a dangling link)
    has no files.

    Raises:
        LimitExceededError: the folder holds more than `max_files` files (counted while walking,
            before anything is opened; no limit when None).
        UnreadableFileError: the folder or one of its sub-folders cannot be listed (the reason named).
    """
    if entry.is_file():
        return [entry]
    if not entry.is_dir():
        return []
    root = entry.resolve()
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(entry).as_posix() if exc.filename and Path(exc.filename) != entry else ""
        raise UnreadableFileError(f"{relative_name(entry.parent, entry)}{'/' + where if where else ''}: フォルダを読めません（{exc.strerror or exc}）") from exc

    for folder, dirs, files in os.walk(entry, onerror=unreadable, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith((".", "~$")) or name.casefold() in _SKIPPED_NAMES:
                continue
            path = Path(folder, name)
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    logger.warning("%s: skipped symlink %s (points outside the entry)", entry.name, name)
                    continue
            elif not path.is_file():
                continue
            found.append(path)
            if max_files is not None and len(found) > max_files:
                raise LimitExceededError(f"{entry.name}: too many files (more than {max_files})")
    return sorted(found, key=lambda p: natural_key(p.relative_to(entry).as_posix()))


def scan_entry(entry: Path, limits: Limits) -> list[Path]:
    """The files of one inbox entry to read: entry_files within limits.max_files_per_entry.

    Raises:
        LimitExceededError: the folder holds more than limits.max_files_per_entry files.
        UnreadableFileError: the entry is neither a file nor a folder, or cannot be read.
    """
    name = relative_name(entry.parent, entry)
    if not entry.is_file() and not entry.is_dir():
        raise UnreadableFileError(f"{name}: not a file or folder")
    if entry.is_file():
        try:  # opened without reading, so the reason (permission, I/O error) is the entry's own
            os.close(os.open(entry, os.O_RDONLY | os.O_NONBLOCK))
        except OSError as exc:
            raise UnreadableFileError(f"{name}: ファイルを読めません（{exc.strerror or exc}）") from exc
    return entry_files(entry, limits.max_files_per_entry)
