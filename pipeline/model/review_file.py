"""review.yaml read once: its top-level mapping, for the rules (corrections) and output (the certificate's terms)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.model.errors import OverridesError


def load_review_mapping(path: Path) -> dict[str, Any]:
    """The top-level mapping of a reviewer's review.yaml; {} when the file does not exist.

    Raises:
        OverridesError: the file is not YAML (or not UTF-8), or its top level is not a mapping;
            the message names the file and says which.
        OSError: the file exists but cannot be read.
    """
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise OverridesError(f"{path.name}: cannot be read as YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise OverridesError(f"{path.name}: expected a mapping at the top level")
    return data


def review_section(review: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """One top-level section of review.yaml's mapping (`certificate`, …); {} when absent or not a mapping."""
    value = (review or {}).get(name) or {}
    return value if isinstance(value, dict) else {}
