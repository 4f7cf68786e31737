"""The project's copy of the result.json contract stays the contract: everything in it kept, additions only."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import SCHEMA_PATH, shared_path


def kept(contract: Any, copy: Any, where: str = "$") -> list[str]:
    """Where `copy` drops or changes something of `contract`: a dict may gain keys, anything else must be equal."""
    if isinstance(contract, dict) and isinstance(copy, dict):
        return [
            problem
            for key, value in contract.items()
            for problem in (kept(value, copy[key], f"{where}.{key}") if key in copy else [f"{where}.{key}: dropped"])
        ]
    return [] if contract == copy else [f"{where}: changed ({contract!r} → {copy!r})"]


def test_the_schema_copy_keeps_the_contracts_schema():
    """Ensures that spec/result.schema.json holds all of ../shared/spec/result.schema.json unchanged, adding fields only (skipped when ../shared is absent)."""
    contract = json.loads(shared_path("spec", "result.schema.json").read_text(encoding="utf-8"))
    assert kept(contract, json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))) == [], (
        "the copy may only add to ../shared/spec/result.schema.json"
    )


def test_a_dropped_or_changed_part_of_the_contract_is_caught():
    """Ensures that the check above fails for a renamed key, a changed enum and a dropped required name, and passes an added property."""
    contract = {"properties": {"a": {"enum": ["x", "y"]}}, "required": ["a"]}
    assert kept(contract, {"properties": {"a": {"enum": ["x", "y"]}, "b": {}}, "required": ["a"]}) == []
    assert kept(contract, {"properties": {"a2": {"enum": ["x", "y"]}}, "required": ["a"]}) == ["$.properties.a: dropped"]
    assert kept(contract, {"properties": {"a": {"enum": ["x", "z"]}}, "required": ["a"]})
    assert kept(contract, {"properties": {"a": {"enum": ["x", "y"]}}, "required": []})
