"""Which submissions a run must do: the inbox listing, their outbox names, fingerprints and the outbox lock."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from pipeline import __version__
from pipeline.model.errors import PipelineError
from pipeline.run.names import outbox_names, printable, submission_name
from pipeline.sources.entry import entry_files
from pipeline.tools.processes import process_alive

__all__ = [
    "OutboxLocked", "entry_problem", "find_entries", "fingerprint", "mark_rendered", "outbox_lock", "outbox_names",
    "saved_decision", "submission_name", "unchanged", "unrendered", "write_fingerprint",
]

log = logging.getLogger(__name__)

INPUT_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}
FINGERPRINT_FILE = ".fingerprint.json"
# review.yaml is read whole for the fingerprint only up to this size (the reviewer's checker refuses more).
REVIEW_MAX_BYTES = 1024 * 1024


class OutboxLocked(PipelineError):
    pass


def find_entries(inbox: Path) -> list[Path]:
    """Every submission in the inbox: a file with a known suffix, or a folder; hidden names skipped.

    Taken with lstat, never following a link: a link or a FIFO is listed too, so that the batch
    can refuse it by name (entry_problem) instead of following it out of the inbox or hanging.
    """
    if not inbox.is_dir():
        return []
    entries = []
    for path in sorted(inbox.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        if stat.S_ISDIR(os.lstat(path).st_mode) or path.suffix.lower() in INPUT_SUFFIXES:
            entries.append(path)
    return entries


def entry_problem(entry: Path) -> str | None:
    """Why an inbox entry is refused unopened (a link, a FIFO or device), in Japanese; None when it is fine."""
    try:
        mode = os.lstat(entry).st_mode
    except OSError as exc:
        return f"{printable(entry.name)}: 読めません（{exc.strerror or exc}）"
    if stat.S_ISLNK(mode):
        return f"{printable(entry.name)}: inbox 直下のリンク（シンボリックリンク）は読みません。元のファイルかフォルダを inbox に置いてください"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"{printable(entry.name)}: 通常のファイルでもフォルダでもありません（FIFO・デバイス等）"
    return None


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
    try:
        files = sorted(entry_files(entry), key=str)  # hashed in path order, as always: old fingerprints stay valid
    except (PipelineError, OSError) as exc:  # the worker reports it; the fingerprint only has to differ
        files = []
        digest.update(f"unlisted: {exc}".encode("utf-8", "backslashreplace"))
    for path in files:
        st = path.stat()
        rel = path.relative_to(entry) if entry.is_dir() else Path(path.name)
        digest.update(os.fsencode(rel) + f"\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    digest.update(_review_bytes(review_yaml))
    return digest.hexdigest()


def _review_bytes(review_yaml: Path) -> bytes:
    """review.yaml's bytes for the fingerprint; a FIFO, folder, link or huge file by its kind and size, unopened."""
    try:
        st = os.lstat(review_yaml)
    except OSError:
        return b""
    if not stat.S_ISREG(st.st_mode) or st.st_size > REVIEW_MAX_BYTES:
        return f"\0review: mode {st.st_mode:o} size {st.st_size} mtime {st.st_mtime_ns}".encode()
    try:
        return review_yaml.read_bytes()
    except OSError as exc:
        return f"\0review unreadable: {exc.errno}".encode()


def unchanged(out_dir: Path, fp: str) -> bool:
    """Whether out_dir holds a result.json made from inputs with this fingerprint."""
    saved = _saved(out_dir)
    return bool(saved.get("fingerprint") == fp and (out_dir / "result.json").exists())


def unrendered(out_dir: Path) -> bool:
    """Whether out_dir's result.json is current but its dossier was never made (the run stopped before)."""
    return _saved(out_dir).get("rendered", True) is False


def _saved(out_dir: Path) -> dict[str, object]:
    try:
        saved = json.loads((out_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def write_fingerprint(out_dir: Path, fp: str, *, rendered: bool = True) -> None:
    """Record that out_dir's result.json was made from inputs with fingerprint `fp` (written as each submission finishes).

    `rendered=False`: the dossier is still to be made; a run stopped before then makes only it.
    """
    tmp = out_dir / (FINGERPRINT_FILE + ".tmp")
    tmp.write_text(json.dumps({"fingerprint": fp, "version": __version__, "rendered": rendered}), encoding="utf-8")
    os.replace(tmp, out_dir / FINGERPRINT_FILE)


def mark_rendered(out_dir: Path, *, ok: bool) -> None:
    """After the dossier: record it made, or forget the fingerprint so that the next run redoes the submission."""
    if not ok:
        (out_dir / FINGERPRINT_FILE).unlink(missing_ok=True)
        return
    saved = _saved(out_dir)
    if isinstance(saved.get("fingerprint"), str):
        write_fingerprint(out_dir, str(saved["fingerprint"]), rendered=True)


def saved_decision(out_dir: Path) -> str:
    """The decision in out_dir/result.json, or `?` when it cannot be read."""
    try:
        return str(json.loads((out_dir / "result.json").read_text(encoding="utf-8"))["score"]["decision"])
    except (OSError, ValueError, KeyError):
        return "?"


@contextmanager
def outbox_lock(outbox: Path) -> Iterator[int]:
    """One run per outbox: a second run says so and stops instead of colliding; yields the lock's fd.

    The lock is an flock on outbox/.lock, which holds the owner's pid. The kernel frees it when
    every process holding it is gone; workers close their inherited copy (the fd yielded here)
    and die with the run. A lock still held although its recorded owner is gone (the orphaned
    workers of a run killed before this version) is taken over: the file is replaced, so the
    orphans keep a lock on a file nobody uses.

    Raises:
        OutboxLocked: another live run holds the outbox.
        OSError: the outbox cannot be created or written.
    """
    outbox.mkdir(parents=True, exist_ok=True)
    handle = _take_lock(outbox / ".lock")
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield handle.fileno()
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _take_lock(path: Path) -> TextIO:
    for _ in range(5):
        handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read(20).strip()
            handle.close()
            if not owner.isdigit() or process_alive(int(owner)):  # no pid yet: its owner is between lock and write
                raise OutboxLocked(
                    f"{path.parent}: 別の実行（pid {owner}）がこの outbox を使用中です。終わるまでお待ちください (another run is using this outbox)"
                ) from None
            _replace_stale(path, owner)
            continue
        if _same_file(handle, path):
            return handle
        handle.close()  # locked a file a take-over had just replaced: lock the new one
    raise OutboxLocked(f"{path.parent}: outbox のロックを取得できません（{path}）")


def _replace_stale(path: Path, owner: str) -> None:
    """Move a lock held only by orphans aside, under a lock on the outbox folder so two runs never both do it."""
    guard = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            current = path.read_text(encoding="utf-8").strip()
        except OSError:
            return
        if current == owner:  # nobody replaced it meanwhile
            log.warning("%s: the run %s that held the lock is gone; taking the lock over", path.parent, owner or "?")
            path.unlink(missing_ok=True)
    finally:
        os.close(guard)


def _same_file(handle: TextIO, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except OSError:
        return False

