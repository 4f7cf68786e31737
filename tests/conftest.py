"""Shared fixtures: the renewal form, and readings of a synthetic applicant built by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path

# numpy's OpenBLAS at one thread, as `python -m pipeline` sets it (pipeline/__main__.py), before any
# test imports numpy: in-process readers otherwise start OpenBLAS's own threads, which fought the
# run's on the loaded 2-core machine (reflow_lines.similarity 60x slower, helper 43's measure).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
# The project keeps its own copy of the contract's schema, so a clone alone can test against it;
# tests/test_contract.py keeps the copy in step with ../shared/spec when that folder is there.
SCHEMA_PATH = REPO / "spec" / "result.schema.json"


def shared_path(*parts: str) -> Path:
    """A file of ../shared (seed, spec, corpus), or a skip with a one-line reason when the clone stands alone."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/{'/'.join(parts)}, which is not beside this clone")
    return path


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

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
