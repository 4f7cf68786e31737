"""Who signed the review and whether a pass gets its certificate: result.json's `review` block, from the checked corrections.

Output never reads review.yaml: the dossier's sign-off box and the certificate's terms come from
this block. A certificate is issued only for a pass whose review.yaml names its reviewer
(`reviewer:`, or the name of a signed round) and gives an issue date (`certificate.issued`, else
the latest sign-off's date). A pass without them stays a pass; the block says why no certificate
was issued, and so does one of the result's reasons, in Japanese. Nor is one issued while a
cover field the certificate prints (会社名, サービス名, URL) is neither read with confidence nor
confirmed by the reviewer in review.yaml's `fields:`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.model.records import FieldReading, FormDef
from pipeline.rules.review_check import Corrections

NO_REVIEWER = (
    "合格ですが、review.yaml に審査者の氏名がないため合格証は発行していません。"
    "review.yaml に「reviewer: 山田 太郎」のように氏名を書いて、もう一度実行してください"
)
NO_DATE = (
    "合格ですが、合格証の発行日が決まらないため合格証は発行していません。"
    "review.yaml の signoff に審査の日付（例: first: {name: 山田 太郎, date: 2026-12-07}）か、"
    "「certificate: {issued: 2026-12-07}」を書いて、もう一度実行してください"
)

# The cover fields the certificate prints (templates/certificate.docx: company, service, url;
# output/certificate.PRINTED_FIELDS says the same, a test keeps them equal). One that is not
# read with confidence must be confirmed in review.yaml's `fields:` before a certificate is issued.
CERTIFICATE_FIELDS = ("company_name", "service_name", "url")
UNCONFIRMED_FIELDS = (
    "合格ですが、合格証に印字する表紙の欄（{fields}）の読み取りが確かでないため合格証は発行していません。"
    "原本と照合し、review.yaml の fields に「{example}」のように正しい値を書いて、もう一度実行してください"
)
UNCONFIRMED_SHORT = "合格証に印字する表紙の欄の読み取りが審査者に確認されていません（判定理由を見てください）"
FIELD_STATE_JA = {"uncertain": "要確認", "handwritten": "手書き", "empty": "空欄", "missing": "該当頁なし", "not_located": "位置不明"}


def unconfirmed_fields(applicant: Mapping[str, FieldReading], corrections: Corrections) -> list[str]:
    """The printed cover fields (by key) neither read with confidence nor confirmed by the reviewer."""
    return [
        key
        for key in CERTIFICATE_FIELDS
        if key in applicant and applicant[key].status != "read" and f"applicant.{key}" not in corrections.fields
    ]


def unconfirmed_fields_reason(form: FormDef, applicant: Mapping[str, FieldReading], corrections: Corrections) -> str | None:
    """The reason (Japanese) a pass gets no certificate because of its cover fields, or None."""
    keys = unconfirmed_fields(applicant, corrections)
    if not keys:
        return None
    labels = {c.key: c.label for c in form.cover_fields}
    named = "・".join(f"{labels.get(k, k)}: {FIELD_STATE_JA.get(applicant[k].status, applicant[k].status)}" for k in keys)
    return UNCONFIRMED_FIELDS.format(
        fields=named,
        example=f"{labels.get(keys[0], keys[0])}: 株式会社〇〇" if keys[0] == "company_name" else f"{labels.get(keys[0], keys[0])}: …",
    )


def reviewer_of(corrections: Corrections) -> str | None:
    """The reviewer review.yaml names: `reviewer:`, else the name of the latest signed round."""
    latest = corrections.latest_signoff
    return corrections.reviewer or (latest.name if latest else None)


def review_block(
    corrections: Corrections, file_sha256: str | None, decision: str, applicant: Mapping[str, FieldReading] | None = None
) -> tuple[dict[str, Any], str | None]:
    """result.json's `review` block, and the reason (Japanese) a pass gets no certificate, or None.

    Block: ``{reviewer, signoff: {first: {name, date} | null, second: …}, file_sha256,
    certificate: {license_number, issued, issued_from, issue, reason, unconfirmed_fields}}``;
    dates as YYYY-MM-DD. `applicant` (the result's cover fields, corrections applied): a printed
    one not confirmed withholds the certificate too; its reason is already among the decision's
    (rules.apply), so it is not returned again.
    """
    rounds = {r.round: {"name": r.name, "date": r.date.isoformat()} for r in corrections.signoff}
    latest = corrections.latest_signoff
    cert = corrections.certificate
    if cert.issued is not None:
        issued, issued_from = cert.issued.isoformat(), "certificate.issued"
    elif latest is not None:
        issued, issued_from = latest.date.isoformat(), f"signoff.{latest.round}"
    else:
        issued, issued_from = None, None
    reviewer = reviewer_of(corrections)
    reason = None
    if decision == "pass":
        reason = NO_REVIEWER if reviewer is None else NO_DATE if issued is None else None
    unsure = unconfirmed_fields(applicant or {}, corrections) if decision == "pass" else []
    block = {
        "reviewer": reviewer,
        "signoff": {"first": rounds.get("first"), "second": rounds.get("second")},
        "file_sha256": file_sha256,
        "certificate": {
            "license_number": cert.license_number,
            "issued": issued,
            "issued_from": issued_from,
            "issue": decision == "pass" and reason is None and not unsure,
            "reason": reason or (UNCONFIRMED_SHORT if unsure else None),
            **({"unconfirmed_fields": unsure} if applicant is not None else {}),
        },
    }
    return block, reason
