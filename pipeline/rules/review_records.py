"""What a checked review.yaml holds: the reviewer's corrections in the form's own keys, or the problems that refused it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.model.records import EvidenceKind, EvidenceStatus
from pipeline.rules.review_spelling import ReviewProblem


@dataclass(frozen=True, slots=True)
class ItemPatch:
    """The reviewer's correction of one item; None (or empty) where the reviewer wrote nothing."""

    answer: Literal["yes", "no", "blank"] | None = None
    choice: str | None = None  # an option key of the item
    points: int | None = None  # 0..item.points_max
    evidence: Mapping[EvidenceKind, EvidenceStatus] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CertificatePatch:
    license_number: str | None = None
    issued: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ReviewRound:
    """One signed review round of the form's office box: first (一次審査) or second (二次審査)."""

    round: Literal["first", "second"]
    name: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class Corrections:
    """Everything review.yaml asks for, in the form's own keys."""

    items: Mapping[str, ItemPatch] = field(default_factory=dict)
    declarations: Mapping[str, str] = field(default_factory=dict)  # declaration id -> main option key
    attachments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # attachment id -> item ids
    fields: Mapping[str, str] = field(default_factory=dict)  # cover field (applicant.tel) -> value; "" confirmed empty
    certificate: CertificatePatch = CertificatePatch()
    reviewer: str | None = None
    signoff: tuple[ReviewRound, ...] = ()  # in round order

    @property
    def empty(self) -> bool:
        return self == Corrections()

    @property
    def has_changes(self) -> bool:
        """True if anything but the sign-off is corrected."""
        return bool(self.items or self.declarations or self.attachments or self.fields)

    @property
    def latest_signoff(self) -> ReviewRound | None:
        """The last round signed (second over first), or None."""
        return self.signoff[-1] if self.signoff else None

    def as_plain(self) -> dict[str, Any]:
        """The corrections as plain data: the sections overrides.Review holds, plus the sign-off."""
        items = {
            item_id: {k: v for k, v in (("answer", p.answer), ("choice", p.choice), ("points", p.points)) if v is not None}
            | ({"evidence": dict(p.evidence)} if p.evidence else {})
            for item_id, p in self.items.items()
        }
        cert = {
            k: v for k, v in (("license_number", self.certificate.license_number), ("issued", self.certificate.issued)) if v is not None
        }
        return {
            "items": items,
            "declarations": {d: {"choice": key} for d, key in self.declarations.items()},
            "attachments": {a: {"labels": list(labels)} for a, labels in self.attachments.items()},
            "fields": dict(self.fields),
            "certificate": cert,
            "reviewer": self.reviewer,
            "signoff": {r.round: {"name": r.name, "date": r.date} for r in self.signoff},
        }


@dataclass(frozen=True, slots=True)
class CheckedReview:
    """review.yaml checked: its corrections when it has no problem, else no corrections and every problem."""

    corrections: Corrections = Corrections()
    problems: tuple[ReviewProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems
