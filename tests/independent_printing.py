"""The independent set's Word printing of the questionnaire for one seed, for the calibrate tests (skips without LibreOffice or the seed text)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest

SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seed"
# Tests that build an independent printing or submission need the council's text beside the clone.
needs_seed = pytest.mark.skipif(not any(SEED_DIR.glob("*.txt")), reason="../shared/seed is absent (the independent set is built from it)")


def independent_printing(seed: int) -> tuple[Any, bytes]:
    """The printing `python -m samples.independent --seed SEED --n 1` makes: its style and blank PDF."""
    from samples.independent import docbuild, office, seedform, style
    from samples.independent.paths import SEED_DIR

    if not shutil.which("soffice"):
        pytest.skip("LibreOffice is not installed")
    if not any(SEED_DIR.glob("*.txt")):
        pytest.skip("../shared/seed is absent (the independent printing is built from it)")
    printing = style.random_style(random.Random(seed * 7919 + 1), f"ind{seed}-p0")
    [pdf] = office.to_pdf_many([docbuild.build_docx(seedform.parse(), printing)])
    return printing, pdf


def independent_word_scan(tmp_path: Any, seed: int, index: int, printings_made: int = 2) -> tuple[Any, Any, dict]:
    """(form calibrated on its printing, the scanned form's path, truth) of independent-set submission `index` of `seed`, filled in Word and scanned, without attachments.

    `printings_made`: how many printings the set makes (the generator makes 3 for a set of 5 or more submissions).
    """
    import json
    from pathlib import Path

    from pipeline.form.calibrate.api import calibrate
    from pipeline.form.definition import load_form
    from samples.independent.generate import make_printings, make_submission

    renewal = Path(__file__).resolve().parents[1] / "forms" / "renewal"
    printings = make_printings(tmp_path / "set", seed, printings_made)
    printing = make_submission(tmp_path / "set", seed, index, "word_scan", printings, 0)
    form_dir = tmp_path / "form"
    form_dir.mkdir()
    for name in ("items.yaml", "form.yaml"):
        (form_dir / name).write_bytes((renewal / name).read_bytes())
    calibrate(printings[printing] / "blank.pdf", form_dir, load_form(renewal, with_layout=False))
    name = f"ind{seed}-{index:02d}-word_scan"
    truth = json.loads((tmp_path / "set" / "truth" / f"{name}.json").read_text(encoding="utf-8"))
    (path,) = (tmp_path / "set" / "inbox" / name).glob("*.pdf")  # no attachments: the form alone
    return load_form(form_dir), path, truth
