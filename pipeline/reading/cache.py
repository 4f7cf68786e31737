"""Where a run keeps what it makes once and reads back later: the digit model, the blank form's rendered pages."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$PIPELINE_CACHE_DIR, else $XDG_CACHE_HOME/isp-mark-review, else ~/.cache/isp-mark-review."""
    env = os.environ.get("PIPELINE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "isp-mark-review"
