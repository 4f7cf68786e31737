"""The certificate's context for templates/certificate.docx: who passed, the license number and its dates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.output.certificate import CertificateTerms, CouncilConfig, format_date
from pipeline.output.dossier.template import render_template
from pipeline.output.dossier.text import clean


def certificate_context(result: dict[str, Any], terms: CertificateTerms, council: CouncilConfig) -> dict[str, Any]:
    """The certificate template's context: the cover fields as result.json has them, the reviewer's confirmations applied."""
    result = clean(result)
    applicant = result.get("applicant") or {}

    def value(key: str) -> str:
        return str((applicant.get(key) or {}).get("value") or "")

    return {
        "company": value("company_name"),
        "service": value("service_name"),
        "url": value("url"),
        "license_number": terms.license_number,
        "issued": format_date(terms.issued, council.date_style),
        "valid_from": format_date(terms.valid_from, council.date_style),
        "valid_until": format_date(terms.valid_until, council.date_style),
        "validity_years": council.validity_years,
        "council_name": council.name,
        "president_title": council.president_title,
        "president_name": council.president_name,
    }


def render_certificate_docx(result: dict[str, Any], terms: CertificateTerms, council: CouncilConfig, template: Path, out: Path) -> None:
    """Write the certificate's DOCX from `template`; raises RenderError."""
    render_template(template, certificate_context(result, terms, council), out)
