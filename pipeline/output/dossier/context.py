"""The dossier template's context, composed of one builder per section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pipeline.output.certificate import CouncilConfig
from pipeline.output.dossier.attachment_index import attachment_rows
from pipeline.output.dossier.attention import attention_rows
from pipeline.output.dossier.corrections import correction_rows
from pipeline.output.dossier.cover import cover_context
from pipeline.output.dossier.facts import gather_facts
from pipeline.output.dossier.item_table import item_rows
from pipeline.output.dossier.wording import FormWords, load_form_words


def dossier_context(
    result: dict[str, Any],
    *,
    out_dir: Path,
    inbox_entry: Path,
    council: CouncilConfig,
    review_pages: int = 1,
    license_number: str | None = None,
    today: dt.date | None = None,
    words: FormWords | None = None,
) -> dict[str, Any]:
    """The dossier template's context. Crops appear as :class:`Crop` (made images when rendered).

    ``review_pages`` is the number of pages of the review section, which fixes the dossier page
    numbers cited for the attachments. ``words`` defaults to templates/labels.yaml.
    """
    facts = gather_facts(result, out_dir=out_dir, inbox_entry=inbox_entry, review_pages=review_pages, words=words or load_form_words())
    return {
        **cover_context(facts, council=council, today=today or dt.date.today(), license_number=license_number),
        "attention": attention_rows(facts),
        "corrections": correction_rows(facts),
        "items": item_rows(facts),
        "attachments": attachment_rows(facts),
    }
