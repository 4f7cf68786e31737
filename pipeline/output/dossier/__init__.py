"""The dossier (審査調書) and the certificate: result.json → template contexts → DOCX → PDF with the attachments.

Modules, one job each:

* ``render`` — the two halves of a run: :func:`render_docx` per submission, :func:`finish_pdf` per
  batch (LibreOffice, page references, merging), and :func:`render_submission` for one;
* ``context`` — :func:`dossier_context`, composed of one builder per section: ``cover``,
  ``attention`` (要確認事項), ``item_table``, ``attachment_index``; ``facts`` is what they all read;
* ``certificate_doc`` — the certificate's context and DOCX;
* ``filing`` — which item each attachment is filed behind, its separator page, the outline;
* ``template`` — rendering a DOCX template (crops as images, autoescaping, schema order);
* ``estimate`` — a guess of the review section's page count; ``crops``, ``text``, ``wording``.

Applicant text is data: every template is rendered with autoescaping, and characters that XML
cannot hold are dropped. Wording and look belong to templates/ (the *.docx, and labels.yaml for
the form's keys); the short labels for the contract's codes are the vocabulary in ``wording``.
"""

from __future__ import annotations

from pipeline.output.certificate import CouncilConfig, load_council
from pipeline.output.dossier.certificate_doc import certificate_context
from pipeline.output.dossier.context import dossier_context
from pipeline.output.dossier.render import RenderedFiles, RenderJob, finish_pdf, render_docx, render_submission
from pipeline.output.dossier.template import RenderError, fix_element_order

__all__ = [
    "CouncilConfig",
    "RenderError",
    "RenderJob",
    "RenderedFiles",
    "certificate_context",
    "dossier_context",
    "finish_pdf",
    "fix_element_order",
    "load_council",
    "render_docx",
    "render_submission",
]
