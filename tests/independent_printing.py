"""The independent set's Word printing of the questionnaire for one seed, for the calibrate tests (skips without LibreOffice or the seed text)."""

from __future__ import annotations

import random
import shutil
from typing import Any

import pytest


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
