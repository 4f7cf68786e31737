"""The form a run reads with, loaded once per process and shared with the workers forked after it.

The run's process loads the form first (to check it and fingerprint submissions); a worker forked
from it then finds the same FormDef here instead of parsing items.yaml and layout.yaml again
(~0.1 s of every worker's start-up, most of it YAML). A form file changed since (its mtime) is
loaded again, so a long-lived worker never reads with a stale form.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pipeline.form.definition import load_form
from pipeline.model.records import FormDef

Stamp = tuple[tuple[str, int], ...]

_LOADED: dict[tuple[str, Stamp], FormDef] = {}  # by resolved folder and its yaml files' mtimes; a few at most
_LOCK = threading.Lock()


def form_stamp(folder: Path) -> Stamp:
    """The form folder's yaml files and their modification times (ns)."""
    return tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml")))


def loaded_form(folder: Path | str) -> FormDef:
    """load_form(folder), once per process (and its forked workers) while the folder's yaml files are unchanged.

    Raises FormDefinitionError as load_form does (a broken form is not kept).
    """
    path = Path(folder).resolve()
    key = (str(path), form_stamp(path))
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
    form = load_form(folder)
    with _LOCK:
        if len(_LOADED) >= 4:
            _LOADED.clear()
        _LOADED[key] = form
    return form


__all__ = ["form_stamp", "loaded_form"]
