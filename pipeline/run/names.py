"""Outbox folder names for inbox entries: readable, never colliding, never a name the outbox itself uses."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Names the outbox root holds for the run itself (compared case-folded: the outbox may sit on a
# Windows share or a Mac volume, where `Summary.CSV` and `summary.csv` are one file).
RESERVED_NAMES = frozenset({"summary.csv", "run.log", "licenses.csv", "licenses.csv.lock", "error.log"})
# Device names Windows refuses as a folder name, with or without an extension.
_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))})
# A folder name stays well under the 255-byte limit of a name, leaving room for a disambiguator.
MAX_NAME_BYTES = 180


def printable(name: str) -> str:
    """A file name as text that can always be written: bytes that are not UTF-8 shown as %XX.

    Linux hands Python such bytes (a Shift_JIS name from an old Windows archive) as lone
    surrogates, which every UTF-8 writer (a log line, result.json, summary.csv) refuses.
    """
    return "".join(f"%{ord(c) - 0xDC00:02X}" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in name)


def submission_name(entry: Path) -> str:
    """The entry's name without extension, safe as a folder name; Japanese, spaces, () kept.

    Control characters, path separators and the characters Windows forbids become `_`; bytes
    that are not UTF-8 become %XX; leading dots go (no hidden folders); a name the outbox uses
    for itself or a Windows device name gets a trailing `_`; long names are cut.
    """
    stem = entry.name if entry.is_dir() and not entry.is_symlink() else entry.stem
    stem = unicodedata.normalize("NFC", printable(stem))
    stem = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]", "_", stem).strip().lstrip(".").rstrip(". ")
    stem = _cut(stem, MAX_NAME_BYTES)
    if stem.casefold() in RESERVED_NAMES or stem.split(".")[0].casefold() in _WINDOWS_DEVICES:
        stem += "_"
    return stem or "submission"


def _cut(text: str, max_bytes: int) -> str:
    """`text` cut to at most max_bytes of UTF-8, at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore").rstrip()


def outbox_names(entries: list[Path]) -> dict[str, Path]:
    """Outbox folder name → inbox entry, in the entries' order; no two names equal, even case-folded.

    The first entry (in inbox order) keeps its plain name, so an outbox made before keeps its
    folders. A later entry with the same name gets its kind added — `申請A.pdf` and `申請A/`
    become `申請A` and `申請A (dir)` — and if that is taken too (`a (pdf).pdf` beside `a.pdf`),
    a short hash of its own file name, which does not change from run to run.
    """
    names: dict[str, Path] = {}
    taken: set[str] = set()
    for entry in entries:
        base = submission_name(entry)
        kind = "dir" if entry.is_dir() and not entry.is_symlink() else printable(entry.suffix.lstrip(".")).lower() or "file"
        tag = hashlib.sha256(os.fsencode(entry.name)).hexdigest()[:8]
        candidates = [base, f"{base} ({kind})", f"{base} ({kind} {tag})"]
        candidates += [f"{base} ({kind} {tag}-{n})" for n in range(2, 1000)]
        name = next(c for c in candidates if c.casefold() not in taken)
        taken.add(name.casefold())
        names[name] = entry
    return names


def _encodable(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@contextmanager
def utf8_view(entry: Path, max_bytes: int) -> Iterator[Path]:
    """The entry itself, or, when a path in it is not UTF-8, a temporary copy whose names are printable().

    The PDF and image libraries take file names as UTF-8 text and fail on a Shift_JIS name; the
    copy (hard links where the file system allows, else copies of at most max_bytes + 1 bytes, so
    the size limit still refuses a giant) lets them read it, under the names the reports show.
    The original is never changed.
    """
    from pipeline.sources.entry import entry_files  # the one listing: the same files as ingest reads

    files = entry_files(entry)
    if _encodable(entry) and all(_encodable(f) for f in files):
        yield entry
        return
    with tempfile.TemporaryDirectory(prefix="pipeline-name-") as tmp:
        view = Path(tmp) / printable(entry.name)
        for path in files:
            target = view / printable(path.relative_to(entry).as_posix()) if entry.is_dir() else view
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                with open(path, "rb") as src, open(target, "wb") as dst:
                    while (chunk := src.read(min(1 << 20, max_bytes + 1 - dst.tell()))) and dst.tell() <= max_bytes:
                        dst.write(chunk)
        if entry.is_dir():
            view.mkdir(exist_ok=True)
        yield view
