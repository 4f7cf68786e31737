"""Opening a PDF read-only and classifying its pages into an OpenedSource, within the limits.

pikepdf opens it (reconstructing most damage) or, failing that, a copy repaired by the qpdf
program in a temporary folder; pypdfium2 reads geometry, text and pixels. The checks: page
count, encryption, dynamic XFA, JavaScript (noted, never run), the time spent classifying, and
— before pdfium sees the file — what drawing it and its form values would cost (pdf_guard).
An encrypted file that opens without a password (empty user or owner password) is read; when
pdfium refuses the empty password pikepdf accepted, it reads a decrypted copy instead.
Originals are never written.

What a reviewer should know about how the file was read (repaired, decrypted) goes into
SourceFile.notes in Japanese, which result.json carries with the source and as a `repaired_file`
warning flag; `notes` (English) are the operator's log lines.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium

from pipeline.model.errors import LimitExceededError, UnreadableFileError
from pipeline.model.records import PageRef, SourceFile, SourceKind
from pipeline.sources.acroform import AcroField, read_fields
from pipeline.sources.limits import Limits
from pipeline.sources.page import LastImage, OpenedSource, Page, fit_or_none, too_large
from pipeline.sources.pdf_backend import PdfBackend
from pipeline.sources.pdf_guard import check_drawing_cost, check_field_values
from pipeline.sources.pdf_inspect import PdfPageInfo, inspect_page
from pipeline.tools.processes import process_alive
from pipeline.tools.qpdf import qpdf_repair

logger = logging.getLogger(__name__)

# Japanese for the reviewer; the English words stay for the corpus manifest, which names them.
NEEDS_PASSWORD = "パスワードで保護された PDF です。開くにはパスワードが必要なため読めません（encrypted PDF: a password is needed）。パスワードなしの PDF で提出してください"


def _first_line(exc: BaseException | str, path: Path) -> str:
    """The first line of a library message, without the file's path (the caller names the file)."""
    text = str(exc).strip()
    text = text.splitlines()[0] if text else ""
    text = text.replace(str(path.resolve()), "").replace(str(path), "").replace(path.name, "")
    return text.lstrip(":, ").strip() or (type(exc).__name__ if isinstance(exc, BaseException) else "")


# The operator's notes on repairs (English, in the log) and what the reviewer is told (result.json).
_REPAIRS = (
    ("damaged PDF repaired by qpdf (", "破損した PDF を qpdf で修復して読みました（"),
    ("damaged PDF, repaired on opening (", "破損した PDF を開く際に修復して読みました（"),
    ("damaged PDF, rewritten by qpdf before reading", "破損した PDF を qpdf で書き直して読みました"),
)


def repair_notes(notes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The repairs among a file's notes, in Japanese for the reviewer: what was read may differ from what was sent."""
    said = []
    for note in notes:
        for english, japanese in _REPAIRS:
            if note.startswith(english):
                rest = note[len(english) :]
                rest = rest[:-1] + "）" if rest.endswith(")") else rest
                said.append(japanese + rest + "。ページの欠けや崩れがないか原本と見比べてください")
    return tuple(said)


def _temp_folder() -> Path:
    """A folder for a repaired or decrypted copy, named after this process (swept once it is gone)."""
    sweep_stale_copies(Path(tempfile.gettempdir()))
    return Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-"))


_TEMP_PREFIX = "ingest-"


@lru_cache(maxsize=4)
def sweep_stale_copies(tmp: Path) -> int:
    """Remove the copies left by processes that were killed (ingest-<pid>-*, pid gone); once per process and folder."""
    removed = 0
    for folder in tmp.glob(f"{_TEMP_PREFIX}*-*"):
        pid = folder.name[len(_TEMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and folder.is_dir() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _open_pike(path: Path, tmpdir_holder: list[Path], limits: Limits, notes: list[str]) -> tuple[pikepdf.Pdf, Path]:
    """Open with pikepdf (which reconstructs most damage), else via a qpdf-repaired copy."""
    try:
        pdf = pikepdf.open(path, password="")
    except pikepdf.PasswordError as exc:
        raise UnreadableFileError(NEEDS_PASSWORD) from exc
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        reason = _first_line(exc, path)
        tmpdir = Path(_temp_folder())
        tmpdir_holder.append(tmpdir)
        repaired = qpdf_repair(path, tmpdir / "repaired.pdf", limits.repair_seconds)
        if repaired is not None:
            try:
                fixed = pikepdf.open(repaired)
            except (pikepdf.PdfError, RuntimeError, ValueError):
                fixed = None
            if fixed is not None:
                notes.append(f"damaged PDF repaired by qpdf ({reason})")
                return fixed, repaired
        with open(path, "rb") as fh:
            has_objects = re.search(rb"\d+\s+\d+\s+obj\b", fh.read(limits.max_file_bytes)) is not None
        if not has_objects:
            raise UnreadableFileError("not a PDF (it starts like a PDF but holds no PDF objects)") from exc
        raise UnreadableFileError(f"damaged PDF: {reason}") from exc
    warnings_seen = [w for w in pdf.get_warnings() if w]
    if warnings_seen:
        notes.append(f"damaged PDF, repaired on opening ({_first_line(warnings_seen[0], path)})")
    return pdf, path


def open_pdf(path: Path, rel: str, sha256: str, limits: Limits, notes: list[str]) -> OpenedSource:
    """Open a PDF read-only and classify its pages; notes on repairs and oddities are added to `notes`.

    Raises:
        UnreadableFileError: encrypted with a user password, damaged beyond repair, not a PDF.
        LimitExceededError: too many pages, or classifying took longer than limits.file_seconds.
    """
    deadline = time.monotonic() + limits.file_seconds
    tmpdirs: list[Path] = []
    backend: PdfBackend | None = None
    pike: pikepdf.Pdf | None = None
    try:
        pike, readable = _open_pike(path, tmpdirs, limits, notes)
        # What pdfium would be made to draw and decode, checked before it sees the file.
        check_field_values(pike, limits)
        check_drawing_cost(pike, min(len(pike.pages), limits.max_pages), limits, deadline)
        doc = _open_pdfium(pike, readable, path, tmpdirs, notes)
        backend = PdfBackend(rel, doc, pike, limits)
        return _classify_pdf(backend, rel, sha256, limits, notes, deadline, tmpdirs[0] if tmpdirs else None)
    except BaseException:
        if backend is not None:
            backend.close()
        elif pike is not None:
            pike.close()
        for d in tmpdirs:
            shutil.rmtree(d, ignore_errors=True)
        raise


def _open_pdfium(pike: pikepdf.Pdf, readable: Path, path: Path, tmpdirs: list[Path], notes: list[str]) -> pdfium.PdfDocument:
    """pdfium on the file pikepdf opened, or on a copy pikepdf writes when pdfium refuses it.

    Encrypted with an empty password pikepdf accepted (an empty owner password with a non-empty
    user password, as a Bluebeam file in the wild has it): pdfium says the password is wrong,
    so it reads a decrypted copy. Damage qpdf reconstructed: it reads qpdf's rewritten copy.
    """
    try:
        return pdfium.PdfDocument(str(readable), password="" if pike.is_encrypted else None)
    except pdfium.PdfiumError as exc:
        decrypt = "password" in str(exc).lower()
        if decrypt and not pike.is_encrypted:
            raise UnreadableFileError(NEEDS_PASSWORD) from exc
        if not tmpdirs:
            tmpdirs.append(Path(_temp_folder()))
        copy = tmpdirs[0] / ("decrypted.pdf" if decrypt else "rewritten.pdf")
        try:
            pike.save(copy, encryption=False)
            doc = pdfium.PdfDocument(str(copy))
        except (pdfium.PdfiumError, pikepdf.PdfError, RuntimeError, ValueError) as exc2:
            if decrypt:
                raise UnreadableFileError(NEEDS_PASSWORD) from exc2
            raise UnreadableFileError(f"damaged PDF: {_first_line(exc2, path)}") from exc2
    if decrypt:
        notes.append("encrypted with an empty owner password: pdfium reads a decrypted copy")
    else:
        notes.append("damaged PDF, rewritten by qpdf before reading")
    return doc


def _document_notes(pike: pikepdf.Pdf, n_pages: int, notes: list[str]) -> None:
    """Note owner-password encryption, a page tree that lies about its count, and JavaScript."""
    root = pike.Root
    if pike.is_encrypted:
        notes.append("encrypted with an owner password only: opened without a password")
    try:
        claimed = int(root.Pages.get("/Count", n_pages))
    except (TypeError, ValueError, AttributeError):
        claimed = n_pages
    if claimed != n_pages:
        notes.append(f"the page tree claims {claimed} pages; {n_pages} found")
    names = root.get("/Names")
    open_action = root.get("/OpenAction")
    has_js = (
        (isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names)
        or (isinstance(open_action, pikepdf.Dictionary) and open_action.get("/S") == "/JavaScript")
        or "/AA" in root
    )
    if has_js:
        notes.append("contains JavaScript (ignored, never run)")


def _page_count(pike: pikepdf.Pdf, doc: pdfium.PdfDocument, limits: Limits, notes: list[str]) -> int:
    """The pages both readers see, within limits.max_pages.

    Raises:
        LimitExceededError: more than limits.max_pages pages.
        UnreadableFileError: no pages.
    """
    n_pike = len(pike.pages)
    n_pdfium = len(doc)
    n_pages = min(n_pike, n_pdfium)
    if n_pike != n_pdfium:
        notes.append(f"page count differs between readers ({n_pike} vs {n_pdfium}); using {n_pages}")
    if n_pages > limits.max_pages:
        raise LimitExceededError(f"too many pages ({n_pages} > {limits.max_pages} limit)")
    if n_pages == 0:
        raise UnreadableFileError("damaged PDF: it has no pages")
    return n_pages


def _classify_pdf(
    backend: PdfBackend,
    rel: str,
    sha256: str,
    limits: Limits,
    notes: list[str],
    deadline: float,
    tmpdir: Path | None,
) -> OpenedSource:
    """Inspect every page and read the form fields; the OpenedSource owns `backend` and `tmpdir`."""
    pike, doc = backend.pike, backend.doc
    assert pike is not None and doc is not None
    n_pages = _page_count(pike, doc, limits, notes)
    _document_notes(pike, n_pages, notes)

    acroform = pike.Root.get("/AcroForm")
    xfa = isinstance(acroform, pikepdf.Dictionary) and "/XFA" in acroform
    has_fields = isinstance(acroform, pikepdf.Dictionary) and bool(acroform.get("/Fields"))
    if xfa and (bool(pike.Root.get("/NeedsRendering", False)) or not has_fields):
        raise UnreadableFileError(
            "dynamic XFA form not supported: XFA form without usable pages (its only page is a "
            "'requires Adobe Reader' placeholder); please print it to an ordinary PDF"
        )
    if has_fields and not xfa:
        doc.init_forms()  # before any page is loaded, so that field values are drawn

    infos: list[PdfPageInfo] = []
    for i in range(n_pages):
        if time.monotonic() > deadline:
            raise LimitExceededError(f"gave up after {limits.file_seconds:.0f} s reading the page structure (page {i + 1} of {n_pages})")
        infos.append(inspect_page(doc, pike, i, limits))
    backend.infos = infos

    fields: dict[str, AcroField] = {}
    if isinstance(acroform, pikepdf.Dictionary):
        try:
            fields = read_fields(pike, rel, [info.affine for info in infos], limits, notes)
        except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, AttributeError) as exc:
            notes.append(f"AcroForm fields could not be read ({exc})")
    if xfa:
        notes.append("XFA form: read through its AcroForm fields and page content (XFA data ignored)")
    return _opened(backend, rel, sha256, limits, tuple(notes), infos, fields, tmpdir)


def _opened(
    backend: PdfBackend,
    rel: str,
    sha256: str,
    limits: Limits,
    notes: tuple[str, ...],
    infos: list[PdfPageInfo],
    fields: dict[str, AcroField],
    tmpdir: Path | None,
) -> OpenedSource:
    """The pages, their errors and the file's SourceFile record (its kind, or why it cannot be read)."""
    n_pages = len(infos)
    remembering = LastImage(backend)
    pages = tuple(
        Page(
            remembering,
            i,
            PageRef(rel, i + 1),
            info.size_pt,
            info.rotation,
            info.has_text,
            info.scanned,
            limits,
            fields,
        )
        for i, info in enumerate(infos)
    )
    for page, info in zip(pages, infos, strict=True):
        page.error = too_large(page, limits) if fit_or_none(page) is None else info.error
    errors = [p.error for p in pages if p.error is not None]
    kind: SourceKind
    if fields:
        kind = "acroform"
    else:
        scans = sum(info.scanned for info in infos)
        kind = "scanned" if scans == n_pages else "mixed" if scans else "born_digital"
    if len(errors) == n_pages:
        source = SourceFile(rel, sha256, n_pages, "unreadable", "error", errors[0])
    else:
        source = SourceFile(rel, sha256, n_pages, kind, "ok", None, repair_notes(notes))
    for note in notes:
        logger.info("%s: %s", rel, note)
    return OpenedSource(source, pages, notes, fields, backend, tmpdir)
