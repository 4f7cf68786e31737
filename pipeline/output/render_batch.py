"""The batch's rendering half: every dossier and certificate of a run, with one LibreOffice for all."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from typing import Any

from pipeline.model.errors import OverridesError
from pipeline.model.review_file import load_review_mapping

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]


def _review(out_dir: Path) -> dict[str, Any] | None:
    """review.yaml as the rules read it; None when it is absent or broken (the rules reported that)."""
    try:
        return load_review_mapping(out_dir / "review.yaml") or None
    except (OSError, OverridesError):
        return None


def render_batch(done: list[tuple[Path, Path]], outbox: Path) -> dict[str, str]:
    """Render (inbox entry, out dir) pairs whose result.json is fresh; returns name → error for failures.

    A failure stays that submission's problem: it is written to its error.log and the rest go on.
    """
    from pipeline.model.errors import PipelineError
    from pipeline.output.certificate import load_council
    from pipeline.output.dossier import RenderError, finish_pdf, render_docx
    from pipeline.tools.libreoffice import Converter

    council = load_council(REPO / "council.yaml")
    failures: dict[str, str] = {}
    jobs, owners = [], []
    for entry, out_dir in done:
        try:
            result = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))
            jobs.append(render_docx(result, inbox_entry=entry, out_dir=out_dir, council=council, review=_review(out_dir)))
            owners.append(out_dir)
        except Exception as exc:  # one dossier's trouble must not stop the others
            failures[out_dir.name] = f"{type(exc).__name__}: {exc}"
            (out_dir / "error.log").write_text(f"rendering {entry}\n{traceback.format_exc()}", encoding="utf-8")
    if not jobs:
        return failures
    try:
        with Converter() as converter:
            outcomes = finish_pdf(jobs, converter)
    except PipelineError as exc:  # LibreOffice missing or not starting: say so for each, go on
        log.error("PDF conversion failed for the whole batch: %s", exc)
        outcomes = [RenderError(f"the dossier could not be converted to PDF: {exc}") for _ in jobs]
    for out_dir, outcome in zip(owners, outcomes):
        if isinstance(outcome, RenderError):
            failures[out_dir.name] = str(outcome)
            (out_dir / "error.log").write_text(f"rendering the dossier\n{outcome}\n", encoding="utf-8")
            log.error("%s: %s", out_dir.name, outcome)
    return failures
