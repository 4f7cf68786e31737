"""Which submissions a run must do: the inbox listing, their outbox names, fingerprints and the outbox lock."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline import __version__
from pipeline.model.errors import PipelineError
from pipeline.sources.entry import entry_files

INPUT_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}
FINGERPRINT_FILE = ".fingerprint.json"


class OutboxLocked(PipelineError):
    pass


def submission_name(entry: Path) -> str:
    """The entry's name without extension, safe as a folder name; Japanese, spaces, () kept."""
    stem = entry.name if entry.is_dir() else entry.stem
    stem = unicodedata.normalize("NFC", stem)
    stem = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", stem).strip().lstrip(".")
    return stem or "submission"


def outbox_names(entries: list[Path]) -> dict[str, Path]:
    """Outbox folder name → inbox entry, in the entries' order.

    A file and a folder (or two files) with the same stem get the later one's suffix added:
    `申請A.pdf` and `申請A/` become `申請A` and `申請A (dir)`.
    """
    names: dict[str, Path] = {}
    for entry in entries:
        name = submission_name(entry)
        if name in names:
            name = f"{name} ({entry.suffix.lstrip('.') or 'dir'})"
        names[name] = entry
    return names


def find_entries(inbox: Path) -> list[Path]:
    """Every submission in the inbox: a file with a known suffix, or a folder; hidden names skipped."""
    if not inbox.is_dir():
        return []
    entries = []
    for path in sorted(inbox.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        if path.is_dir() or path.suffix.lower() in INPUT_SUFFIXES:
            entries.append(path)
    return entries


@functools.cache
def pipeline_fingerprint() -> str:
    """The pipeline itself: its version, code, settings and the dossier templates.

    An upgrade, or a template staff edited in Word, redoes every submission — without anyone
    having to remember to bump a version number. Hashing the ~60 files takes a few ms, once.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    files = [*root.rglob("*.py"), *root.rglob("*.yaml"), *(root.parent / "templates").glob("*.docx")]
    for path in sorted(files):
        if "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(entry: Path, review_yaml: Path, form_fingerprint: str) -> str:
    """What decides whether a submission must be redone: its files, review.yaml, form, the pipeline.

    Files are keyed by name, size and modification time (a stat, not a read), so a re-run with
    nothing new costs a few stats per submission. They are the files ingest reads (the one
    listing, sources.entry.entry_files): a file that is read is a file that is fingerprinted.
    """
    digest = hashlib.sha256()
    digest.update(f"{pipeline_fingerprint()}\n{form_fingerprint}\n".encode())
    for path in sorted(entry_files(entry), key=str):  # hashed in path order, as always: old fingerprints stay valid
        st = path.stat()
        digest.update(f"{path.relative_to(entry) if entry.is_dir() else path.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    if review_yaml.exists():
        digest.update(review_yaml.read_bytes())
    return digest.hexdigest()


def unchanged(out_dir: Path, fp: str) -> bool:
    """Whether out_dir holds a result.json made from inputs with this fingerprint."""
    try:
        saved = json.loads((out_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(saved.get("fingerprint") == fp and (out_dir / "result.json").exists())


def write_fingerprint(out_dir: Path, fp: str) -> None:
    tmp = out_dir / (FINGERPRINT_FILE + ".tmp")
    tmp.write_text(json.dumps({"fingerprint": fp, "version": __version__}), encoding="utf-8")
    os.replace(tmp, out_dir / FINGERPRINT_FILE)


def saved_decision(out_dir: Path) -> str:
    """The decision in out_dir/result.json, or `?` when it cannot be read."""
    try:
        return str(json.loads((out_dir / "result.json").read_text(encoding="utf-8"))["score"]["decision"])
    except (OSError, ValueError, KeyError):
        return "?"


@contextmanager
def outbox_lock(outbox: Path) -> Iterator[None]:
    """One run per outbox: a second run says so and stops instead of colliding."""
    outbox.mkdir(parents=True, exist_ok=True)
    handle = open(outbox / ".lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise OutboxLocked(f"{outbox}: another run is using this outbox; wait for it to finish") from exc
    try:
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
