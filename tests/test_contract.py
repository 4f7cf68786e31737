"""The project's copy of the result.json contract stays the contract."""

from __future__ import annotations

import json

from tests.conftest import SCHEMA_PATH, shared_path


def test_the_schema_copy_is_the_contracts_schema():
    """Ensures that spec/result.schema.json equals ../shared/spec/result.schema.json (skipped when ../shared is absent)."""
    contract = json.loads(shared_path("spec", "result.schema.json").read_text(encoding="utf-8"))
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == contract, "copy ../shared/spec/result.schema.json to spec/"
