"""The batch's rendering half: every dossier and certificate of a run, with one LibreOffice for all."""

from __future__ import annotations

import json
import logging
import shutil
import traceback
from pathlib import Path

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]


def render_batch(done: list[tuple[Path, Path]], outbox: Path) -> dict[str, str]:
    """Render (inbox entry, out dir) pairs whose result.json is fresh; returns name → error for failures.

    A failure stays that submission's problem: it is written to its error.log and the rest go on.
    LibreOffice starts first, so that its watchdog removes the dossiers' work folders
    (``out_dir/.render-*``) and stops LibreOffice if the run is killed part-way.
    """
    from pipeline.model.errors import PipelineError
    from pipeline.output.certificate import load_council
    from pipeline.output.dossier import RenderError, finish_pdf, render_docx
    from pipeline.tools.libreoffice import Converter

    council = load_council(REPO / "council.yaml")
    failures: dict[str, str] = {}
    jobs, owners = [], []
    converter = Converter()
    try:
        not_started: PipelineError | None = None
        try:
            converter.start()
            converter.remove_on_crash(*(out_dir / ".render-*" for _, out_dir in done))
        except PipelineError as exc:  # LibreOffice missing or not starting: said for each below
            not_started = exc
        for entry, out_dir in done:
            try:
                result = json.loads((out_dir / "result.json").read_text(encoding="utf-8"))
                jobs.append(render_docx(result, inbox_entry=entry, out_dir=out_dir, council=council, review=result.get("review")))
                owners.append(out_dir)
            except Exception as exc:  # one dossier's trouble must not stop the others
                failures[out_dir.name] = f"{type(exc).__name__}: {exc}"
                (out_dir / "error.log").write_text(f"rendering {entry}\n{traceback.format_exc()}", encoding="utf-8")
        if not jobs:
            return failures
        try:
            if not_started is not None:
                raise not_started
            outcomes = finish_pdf(jobs, converter)
        except PipelineError as exc:
            log.error("PDF conversion failed for the whole batch: %s", exc)
            outcomes = [RenderError(f"the dossier could not be converted to PDF: {exc}") for _ in jobs]
    finally:  # Ctrl-C included: the work folders of the dossiers made so far, then LibreOffice
        for job in jobs:
            shutil.rmtree(job.work, ignore_errors=True)
        converter.close()
    for out_dir, outcome in zip(owners, outcomes):
        if isinstance(outcome, RenderError):
            failures[out_dir.name] = str(outcome)
            (out_dir / "error.log").write_text(f"rendering the dossier\n{outcome}\n", encoding="utf-8")
            log.error("%s: %s", out_dir.name, outcome)
    return failures
