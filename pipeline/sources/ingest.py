"""Inbox entry → files → pages: the driver of sources/, opening each file as an OpenedSource.

Public API:

    scan_entry(entry, limits) -> list[Path]            (entry.py)
        The files of an inbox entry in page order: the file itself, or every file under the
        folder (recursive, natural sort by relative path; hidden and system files such as
        .DS_Store are skipped).
    relative_name(entry, path) -> str                  (entry.py)
        A file's name relative to its entry ("scan 1.pdf", "添付/3-1-6.pdf"), as SourceFile.file.
    open_source(path, rel, limits) -> OpenedSource
        Never raises for a bad file: a file that cannot be read gives `source.status == "error"`,
        a plain `source.error`, no pages and an `unreadable_file` flag. Use it as a context
        manager (or call close()) to release the PDF handles and any temporary repaired copy.
    iter_sources(entry, limits) -> Iterator[OpenedSource]
        open_source over scan_entry; each source is closed when the iteration moves on.

The records: page.OpenedSource (the file: `.source`, `.pages`, `.notes`, `.flags`,
`.acroform_fields()`, `.acroform_details()`) and page.Page (lazy: ref, width_pt / height_pt as
displayed, rotation, has_text, scanned, error; words(), chars(), text(), text_in(bbox),
image(dpi, gray), fit_dpi(dpi), source_dpi(), source_gray(), acroform_fields()). All coordinates
are of the page as displayed: origin at the top left of the crop box after /Rotate, y down, in
PDF points (1/72 in); for an image, 72 / its dpi per pixel.

How a file is read: sniff.py tells what it is from its first bytes; PDFs open in pdf_open.py
(pikepdf for structure, repair and form fields — acroform.py; pypdfium2 for geometry, text —
textlayer.py — and rendering — pdf_backend.py), a page that is one JPEG is decoded straight from
it (pull.py); image files open in images.py. JavaScript is never run and XFA data is ignored.
pdfium is not thread-safe: use processes, not threads, for parallelism. Originals are never
written; a repaired copy, when needed, lives in a temporary folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from pipeline.model.errors import PipelineError
from pipeline.model.records import SourceFile
from pipeline.sources.entry import relative_name, scan_entry
from pipeline.sources.images import open_image
from pipeline.sources.limits import Limits
from pipeline.sources.page import OpenedSource
from pipeline.sources.pdf_open import open_pdf
from pipeline.sources.sniff import IMAGE_SUFFIXES, hash_and_head, sniff

__all__ = ["iter_sources", "open_source", "relative_name", "scan_entry"]

logger = logging.getLogger(__name__)


def iter_sources(entry: Path, limits: Limits) -> Iterator[OpenedSource]:
    """open_source for every file of an entry; each is closed when the iteration moves on."""
    for path in scan_entry(entry, limits):
        with open_source(path, relative_name(entry, path), limits) as opened:
            yield opened


def open_source(path: Path, rel: str, limits: Limits) -> OpenedSource:
    """Open one input file read-only; see the module docstring. Never raises for a bad file.

    Args:
        path: the file in the inbox (never written, moved or copied over).
        rel: its name relative to the inbox entry, as SourceFile.file and PageRef.file.
        limits: size, page, pixel and time limits.
    """
    try:
        sha256, head, size = hash_and_head(path, limits.max_file_bytes)
    except OSError as exc:
        return _failed(rel, "", f"cannot be read: {exc.strerror or exc}")
    if size == 0:
        return _failed(rel, sha256, "empty file (0 bytes)")
    if size > limits.max_file_bytes:
        return _failed(
            rel,
            sha256,
            f"file too large ({size / 2**20:.0f} MB > {limits.max_file_bytes / 2**20:.0f} MB limit)",
        )
    kind, detail = sniff(path, head)
    suffix = path.suffix.lower()
    notes: list[str] = []
    if kind == "other":
        if suffix == ".pdf":
            return _failed(rel, sha256, f"not a PDF (it is {detail} named .pdf)")
        if suffix in IMAGE_SUFFIXES:
            return _failed(rel, sha256, f"not an image (it is {detail} named {suffix})")
        return _failed(rel, sha256, f"not a PDF or image (it is {detail})")
    if kind == "pdf" and suffix != ".pdf":
        notes.append(f"the file is a PDF although it is named {path.suffix or 'without a suffix'}")
    if kind == "image" and suffix not in IMAGE_SUFFIXES:
        notes.append(f"the file is an image although it is named {path.suffix or 'without a suffix'}")
    if detail:
        notes.append(detail)
    try:
        if kind == "pdf":
            return open_pdf(path, rel, sha256, limits, notes)
        return open_image(path, rel, sha256, limits, notes)
    except PipelineError as exc:
        return _failed(rel, sha256, exc.message, notes)
    except Exception as exc:  # a library failing in a way we did not foresee stays this file's problem
        logger.exception("%s: unexpected error while opening", rel)
        return _failed(rel, sha256, f"could not be read ({type(exc).__name__}: {exc})", notes)


def _failed(rel: str, sha256: str, message: str, notes: list[str] | None = None) -> OpenedSource:
    """A file that cannot be read: status error with the reason, no pages."""
    logger.info("%s: %s", rel, message)
    source = SourceFile(rel, sha256, 0, "unreadable", "error", message)
    return OpenedSource(source, notes=tuple(notes or ()))
