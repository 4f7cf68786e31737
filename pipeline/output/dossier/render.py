"""Result → dossier and certificate: DOCX from templates/, then PDF, merged with the attachments.

Two ways to call it:

* one submission: :func:`render_submission` writes everything and returns :class:`RenderedFiles`;
* a batch (what render_batch.py does, so LibreOffice converts all documents in one go)::

      with Converter() as conv:
          jobs = [render_docx(result, inbox_entry=…, out_dir=…, council=…, review=…) for …]
          outcomes = finish_pdf(jobs, conv)   # RenderedFiles, or a RenderError in its place

  :func:`render_docx` writes the DOCX into a private work folder inside ``out_dir``;
  :func:`finish_pdf` converts all of them, re-renders the few whose review section came out
  with a different page count than the page references assumed (the item table cites the
  dossier pages of the attachments), merges the attachments behind their separator pages,
  stamps the footer, builds the outline and finally renames the files into place.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf

from pipeline.output.certificate import CertificateTerms, CouncilConfig, settle_certificate
from pipeline.output.dossier.certificate_doc import render_certificate_docx
from pipeline.output.dossier.context import dossier_context
from pipeline.output.dossier.estimate import estimate_review_pages
from pipeline.output.dossier.filing import Filed, file_attachments, outline_groups, separators
from pipeline.output.dossier.overlay import answer_sheet_pages
from pipeline.output.dossier.template import TEMPLATES, RenderError, render_template
from pipeline.output.dossier.text import clean
from pipeline.output.dossier.wording import FormWords, load_form_words
from pipeline.output.merge import MergeReport, OutlineGroup, merge_dossier, plan_pages
from pipeline.tools.libreoffice import ConversionError, Converter

log = logging.getLogger(__name__)

REVIEW_PAGES_KEY = "ISPReviewPages"  # docinfo key: how many review pages the last dossier had


@dataclass(slots=True)
class RenderedFiles:
    dossier_docx: Path
    dossier_pdf: Path
    certificate_docx: Path | None
    certificate_pdf: Path | None
    license_number: str | None
    total_pages: int
    review_pages: int
    separator_pages: int
    attachment_pages: int
    conversions: int  # how many times the dossier went through LibreOffice (1 normally, 2 if pages moved)
    placeholders: list[str] = field(default_factory=list)
    outline: list[str] = field(default_factory=list)
    appendix_pages: int = 0  # the answer-sheet pages with what was read drawn over them


@dataclass(slots=True)
class RenderJob:
    """One submission between render_docx and finish_pdf (its work folder is inside out_dir)."""

    result: dict[str, Any]
    inbox_entry: Path
    out_dir: Path
    council: CouncilConfig
    review: dict[str, Any] | None
    templates: Path
    today: dt.date
    work: Path
    filed: list[Filed]
    groups: list[OutlineGroup]
    terms: CertificateTerms | None
    words: FormWords  # the dossier's words for the form's keys (templates/labels.yaml)
    review_pages: int  # the page count the current dossier.docx's page references assume
    dossier_docx: Path
    certificate_docx: Path | None
    conversions: int = 0

    @property
    def dossier_pdf(self) -> Path:
        return self.dossier_docx.with_suffix(".pdf")

    @property
    def name(self) -> str:
        return str(self.result.get("submission_name") or self.result.get("submission") or self.out_dir.name)


def _stored_review_pages(out_dir: Path) -> int | None:
    """How many review pages the previous dossier.pdf had (its docinfo says), if any."""
    old = out_dir / "dossier.pdf"
    if not old.is_file():
        return None
    try:
        with pikepdf.open(old) as pdf:
            value = pdf.docinfo.get("/" + REVIEW_PAGES_KEY)
            return int(str(value)) if value is not None else None
    except Exception:  # noqa: BLE001 - only a guess
        return None


def _render_dossier_docx(job: RenderJob) -> None:
    """Render dossier.docx for job.review_pages review pages (estimated first when it is 0)."""

    def context() -> dict[str, Any]:
        return dossier_context(
            job.result,
            out_dir=job.out_dir,
            inbox_entry=job.inbox_entry,
            council=job.council,
            review_pages=job.review_pages or 8,
            license_number=job.terms.license_number if job.terms else None,
            today=job.today,
            words=job.words,
        )

    ctx = context()
    if not job.review_pages:
        job.review_pages = estimate_review_pages(ctx)
        ctx = context()
    render_template(job.templates / "dossier.docx", ctx, job.dossier_docx)


def render_docx(
    result: dict[str, Any],
    *,
    inbox_entry: Path,
    out_dir: Path,
    council: CouncilConfig,
    review: dict[str, Any] | None,
    templates: Path = TEMPLATES,
    today: dt.date | None = None,
) -> RenderJob:
    """First half: write the DOCX of one submission into a work folder inside out_dir.

    Assigns the certificate's license number when the decision is pass (see certificate.py).
    Nothing in out_dir itself changes until :func:`finish_pdf`.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".render-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    today = today or dt.date.today()
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=out_dir))
    try:
        filed, cites = file_attachments(clean(result), inbox_entry)
        # Due only for a pass that names its reviewer and issue date (result.json's review block);
        # otherwise None, and a number this submission held is withdrawn.
        terms = settle_certificate(result, council, out_dir.parent)
        job = RenderJob(
            result=result,
            inbox_entry=inbox_entry,
            out_dir=out_dir,
            council=council,
            review=review,
            templates=templates,
            today=today,
            work=work,
            filed=filed,
            groups=outline_groups(clean(result), filed, cites),
            terms=terms,
            words=load_form_words(templates / "labels.yaml"),
            review_pages=0,
            dossier_docx=work / "dossier.docx",
            certificate_docx=None,
        )
        job.review_pages = _stored_review_pages(out_dir) or 0
        _render_dossier_docx(job)
        if terms is not None:
            job.certificate_docx = work / "certificate.docx"
            render_certificate_docx(result, terms, council, templates / "certificate.docx", job.certificate_docx)
        return job
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _page_count(pdf_path: Path) -> int:
    with pikepdf.open(pdf_path) as pdf:
        return len(pdf.pages)


def _convert(converter: Converter, docs: list[Path]) -> None:
    """Convert all; failures are noticed per job afterwards (its PDF is missing)."""
    try:
        converter.convert_many(docs)
    except ConversionError as exc:
        log.error("%s", exc)


def finish_pdf(jobs: Sequence[RenderJob], converter: Converter, *, max_passes: int = 3) -> list[RenderedFiles | RenderError]:
    """Second half, for a whole batch: convert, fix page references, merge, put files in place.

    Returns, per job and in order, its RenderedFiles or the RenderError that stopped it (a bad
    submission stays that submission's problem). Work folders are removed either way.
    """
    outcomes: dict[int, RenderedFiles | RenderError] = {}
    live = list(range(len(jobs)))
    try:
        docs = [jobs[i].dossier_docx for i in live] + [jobs[i].certificate_docx for i in live if jobs[i].certificate_docx is not None]
        _convert(converter, docs)  # type: ignore[arg-type]
        for i in live:
            jobs[i].conversions = 1
        for _ in range(max_passes):
            redo = []
            for i in list(live):
                job = jobs[i]
                if not job.dossier_pdf.is_file():
                    outcomes[i] = RenderError(f"{job.name}: dossier.docx could not be converted to PDF")
                    live.remove(i)
                    continue
                pages = _page_count(job.dossier_pdf)
                if pages != job.review_pages:
                    log.debug("%s: review section has %d pages, not %d; re-rendering", job.name, pages, job.review_pages)
                    job.review_pages = pages
                    job.dossier_pdf.unlink()
                    try:
                        _render_dossier_docx(job)
                    except RenderError as exc:
                        outcomes[i] = exc
                        live.remove(i)
                        continue
                    redo.append(i)
            if not redo:
                break
            _convert(converter, [jobs[i].dossier_docx for i in redo])
            for i in redo:
                jobs[i].conversions += 1
        for i in live:
            try:
                outcomes[i] = _finish_one(jobs[i])
            except (RenderError, ConversionError) as exc:
                outcomes[i] = exc if isinstance(exc, RenderError) else RenderError(str(exc))
            except Exception as exc:  # pikepdf and reportlab failures, kept to this submission
                error = RenderError(f"{jobs[i].name}: the dossier PDF could not be assembled: {type(exc).__name__}: {exc}")
                error.__cause__ = exc
                outcomes[i] = error
    finally:
        for job in jobs:
            shutil.rmtree(job.work, ignore_errors=True)
    return [outcomes[i] for i in range(len(jobs))]


def _finish_one(job: RenderJob) -> RenderedFiles:
    if not job.dossier_pdf.is_file():
        raise RenderError(f"{job.name}: dossier.docx could not be converted to PDF")
    review_pages = _page_count(job.dossier_pdf)
    if review_pages != job.review_pages:
        log.warning(
            "%s: the review section still moves between %d and %d pages; attachment page references may be off",
            job.name,
            job.review_pages,
            review_pages,
        )
    plans = plan_pages(review_pages, [(str(f.att["id"]), len(f.pages)) for f in job.filed])
    merged = job.work / "dossier.merged.pdf"
    report: MergeReport = merge_dossier(
        job.dossier_pdf,
        separators(job.result.get("items") or {}, job.filed, job.out_dir, plans),
        job.groups,
        footer_name=job.name,
        title=f"審査調書 {job.name}",
        out=merged,
        info={REVIEW_PAGES_KEY: str(review_pages)},
        appendix=answer_sheet_pages(clean(job.result), job.out_dir),
    )
    out = job.out_dir
    os.replace(job.dossier_docx, out / "dossier.docx")
    os.replace(merged, out / "dossier.pdf")
    cert_docx = cert_pdf = None
    if job.certificate_docx is not None:
        pdf = job.certificate_docx.with_suffix(".pdf")
        if not pdf.is_file():
            raise RenderError(f"{job.name}: certificate.docx could not be converted to PDF")
        cert_docx, cert_pdf = out / "certificate.docx", out / "certificate.pdf"
        os.replace(job.certificate_docx, cert_docx)
        os.replace(pdf, cert_pdf)
    else:
        for stale in (out / "certificate.docx", out / "certificate.pdf"):
            if stale.exists():
                log.info("%s: decision is no longer pass; removing %s", job.name, stale.name)
                stale.unlink()
    return RenderedFiles(
        dossier_docx=out / "dossier.docx",
        dossier_pdf=out / "dossier.pdf",
        certificate_docx=cert_docx,
        certificate_pdf=cert_pdf,
        license_number=job.terms.license_number if job.terms else None,
        total_pages=report.total_pages,
        review_pages=report.review_pages,
        separator_pages=report.separator_pages,
        attachment_pages=report.attachment_pages,
        conversions=job.conversions,
        placeholders=report.placeholders,
        outline=report.outline,
        appendix_pages=report.appendix_pages,
    )


def render_submission(
    result: dict[str, Any],
    *,
    inbox_entry: Path,
    out_dir: Path,
    converter: Converter,
    council: CouncilConfig,
    review: dict[str, Any] | None,
    templates: Path = TEMPLATES,
    today: dt.date | None = None,
) -> RenderedFiles:
    """Write out_dir/dossier.docx + dossier.pdf, and certificate.docx + .pdf only for a pass.

    Stale certificate files are removed when the decision is not pass. Raises RenderError.
    """
    job = render_docx(result, inbox_entry=inbox_entry, out_dir=out_dir, council=council, review=review, templates=templates, today=today)
    outcome = finish_pdf([job], converter)[0]
    if isinstance(outcome, RenderError):
        raise outcome
    return outcome
