"""Golden results: normalised so that a diff shows what changed in meaning, not in noise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent / "golden"
VOLATILE = {"sha256", "pipeline_version", "crop", "applied_on"}  # applied_on: the day a run first applied a correction


def normalise(data: Any) -> Any:
    """Floats rounded, volatile fields (hashes, versions, crop paths) dropped, keys sorted on dump."""
    if isinstance(data, dict):
        return {k: normalise(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [normalise(v) for v in data]
    if isinstance(data, float):
        return round(data, 2)
    return data


def dump(data: Any) -> str:
    return json.dumps(normalise(data), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def golden_path(case: str) -> Path:
    return GOLDEN / f"{case}.json"
