"""Shared fixtures: the renewal form, and readings of a synthetic applicant built by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SCHEMA_PATH = SHARED / "spec" / "result.schema.json"


@pytest.fixture(scope="session")
def form():
    from pipeline.form.definition import load_form

    return load_form(REPO / "forms" / "renewal")


@pytest.fixture(scope="session")
def alt():
    """The calibrated second printing (□ glyphs, no corner marks, no page code)."""
    from pipeline.form.definition import load_form

    folder = REPO / "forms" / "alt"
    if not (folder / "layout.yaml").exists():
        pytest.skip("forms/alt is not calibrated yet")
    return load_form(folder)


@pytest.fixture(scope="session")
def schema_validator():
    import jsonschema

    if not SCHEMA_PATH.exists():
        pytest.skip(f"{SCHEMA_PATH} is not here")
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
