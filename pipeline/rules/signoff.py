"""Who signed the review and whether a pass gets its certificate: result.json's `review` block, from the checked corrections.

Output never reads review.yaml: the dossier's sign-off box and the certificate's terms come from
this block. A certificate is issued only for a pass whose review.yaml names its reviewer
(`reviewer:`, or the name of a signed round) and gives an issue date (`certificate.issued`, else
the latest sign-off's date). A pass without them stays a pass; the block says why no certificate
was issued, and so does one of the result's reasons, in Japanese.
"""

from __future__ import annotations

from typing import Any

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


def reviewer_of(corrections: Corrections) -> str | None:
    """The reviewer review.yaml names: `reviewer:`, else the name of the latest signed round."""
    latest = corrections.latest_signoff
    return corrections.reviewer or (latest.name if latest else None)


def review_block(corrections: Corrections, file_sha256: str | None, decision: str) -> tuple[dict[str, Any], str | None]:
    """result.json's `review` block, and the reason (Japanese) a pass gets no certificate, or None.

    Block: ``{reviewer, signoff: {first: {name, date} | null, second: …}, file_sha256,
    certificate: {license_number, issued, issued_from, issue, reason}}``; dates as YYYY-MM-DD.
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
    block = {
        "reviewer": reviewer,
        "signoff": {"first": rounds.get("first"), "second": rounds.get("second")},
        "file_sha256": file_sha256,
        "certificate": {
            "license_number": cert.license_number,
            "issued": issued,
            "issued_from": issued_from,
            "issue": decision == "pass" and reason is None,
            "reason": reason,
        },
    }
    return block, reason
