"""The records of what the rules decided, shared by rules (which build them) and output (which writes them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.model.records import Attachment, Evidence, FieldReading, Flag, FormDef, ItemAnswer, PageRef, Score, SourceFile

# Most severe first: merging flags keeps the worst, result.json and the dossier list errors first.
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class ItemScore:
    """One item's points as a range: what it surely earns and what it could once a reviewer settles it."""

    points: int | None  # provisional points for result.json (None: only a reviewer can score)
    low: int  # points surely earned
    high: int  # points earned in the best case
    met_low: bool  # 必須 surely met
    met_high: bool  # 必須 met in the best case
    pending: bool  # only a reviewer can settle it


@dataclass(frozen=True, slots=True)
class Result:
    """Everything the rules decided about one submission, ready to be written."""

    submission: str
    form: FormDef
    sources: tuple[SourceFile, ...]
    applicant: Mapping[str, FieldReading]
    other_fields: Mapping[str, FieldReading]  # contacts and anything not on the cover
    declarations: Mapping[str, ItemAnswer]
    answers: Mapping[str, ItemAnswer]
    evidence: Mapping[str, tuple[Evidence, ...]]
    item_scores: Mapping[str, ItemScore]
    item_flags: Mapping[str, tuple[str, ...]]
    attachments: tuple[Attachment, ...]
    dropped_pages: tuple[PageRef, ...]
    flags: tuple[Flag, ...]
    score: Score
    overrides: tuple[dict[str, Any], ...] = ()
    form_pages: Mapping[int, PageRef] = field(default_factory=dict)
    pipeline_version: str = ""
