"""What every section of the dossier reads: result.json cleaned and indexed, and where the attachments land."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.output.dossier.filing import Filed, file_attachments
from pipeline.output.dossier.text import clean, id_key, pagerefs_text, ranges
from pipeline.output.dossier.wording import FormWords
from pipeline.output.merge import PagePlan, plan_pages


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """result.json (XML-safe) indexed for the section builders, with the dossier pages of the attachments."""

    result: dict[str, Any]
    out_dir: Path
    words: FormWords
    filed: list[Filed]
    plans: dict[str, PagePlan]
    page_at: dict[tuple[str, int], int]  # (file, page) of an attachment page -> its dossier page
    items: dict[str, dict[str, Any]]
    order: list[str]  # item ids in the form's order
    flags: list[dict[str, Any]]
    flags_by_item: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)
    atts: dict[str, dict[str, Any]] = field(default_factory=dict)
    score: dict[str, Any] = field(default_factory=dict)
    applicant: dict[str, Any] = field(default_factory=dict)
    declarations: dict[str, Any] = field(default_factory=dict)

    def where(self, refs: Sequence[dict[str, Any]]) -> str:
        """Page references as text, with the dossier pages of those that are filed attachment pages."""
        text = pagerefs_text(refs)
        page_at = self.page_at
        inside = sorted(
            {page_at[(str(r["file"]), int(r["page"]))] for r in refs if r and (str(r.get("file")), int(r.get("page") or 0)) in page_at}
        )
        if inside:
            text += f"（本調書 p.{ranges(inside)}）"
        return text

    def value(self, key: str) -> str:
        """The applicant's field `key` as read, "" when it is empty or missing."""
        return str((self.applicant.get(key) or {}).get("value") or "")


def gather_facts(result: dict[str, Any], *, out_dir: Path, inbox_entry: Path, review_pages: int, words: FormWords) -> DossierFacts:
    """Clean and index result.json; plan the attachments behind `review_pages` review pages."""
    result = clean(result)
    filed, _ = file_attachments(result, inbox_entry)
    plans = plan_pages(review_pages, [(str(f.att["id"]), len(f.pages)) for f in filed])
    page_at: dict[tuple[str, int], int] = {}
    for f in filed:
        plan = plans[str(f.att["id"])]
        for i, p in enumerate(f.att.get("pages") or []):
            if plan.first is not None:
                page_at[(str(p["file"]), int(p["page"]))] = plan.first + i
    items: dict[str, dict[str, Any]] = result.get("items") or {}
    flags: list[dict[str, Any]] = result.get("flags") or []
    flags_by_item: dict[str | None, list[dict[str, Any]]] = {}
    for fl in flags:
        flags_by_item.setdefault(fl.get("item"), []).append(fl)
    return DossierFacts(
        result=result,
        out_dir=out_dir,
        words=words,
        filed=filed,
        plans=plans,
        page_at=page_at,
        items=items,
        order=sorted(items, key=id_key),
        flags=flags,
        flags_by_item=flags_by_item,
        atts={str(a["id"]): a for a in result.get("attachments") or []},
        score=result.get("score") or {},
        applicant=result.get("applicant") or {},
        declarations=result.get("declarations") or {},
    )
