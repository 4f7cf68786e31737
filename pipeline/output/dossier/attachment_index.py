"""The dossier's index of attachments: each one's labels, where it is filed and its dossier pages."""

from __future__ import annotations

from typing import Any

from pipeline.output.dossier.facts import DossierFacts
from pipeline.output.dossier.text import dossier_range, pagerefs_text
from pipeline.output.dossier.wording import LABEL_STATUS


def attachment_rows(facts: DossierFacts) -> list[dict[str, Any]]:
    """One row per attachment in dossier order."""
    rows = []
    for f in facts.filed:
        a = f.att
        plan = facts.plans[str(a["id"])]
        labels = a.get("labels") or []
        rows.append(
            {
                "id": str(a["id"]),
                "labels": ", ".join(labels) if labels else f"「{a['label_text']}」" if a.get("label_text") else "（なし）",
                "filed": f.item or "末尾（未分類）",
                "source": pagerefs_text(a.get("pages") or []),
                "dossier_pages": dossier_range(plan),
                "status": LABEL_STATUS.get(str(a.get("label_status")), str(a.get("label_status"))),
                "bad": a.get("label_status") != "read" or f.item is None,
            }
        )
    return rows
