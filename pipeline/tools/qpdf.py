"""qpdf, the command-line PDF repairer: rewrite a damaged PDF that pikepdf could not open."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)

# qpdf exits 3 when it repaired the file with warnings: the copy is usable.
USABLE_EXIT_CODES = (0, 3)


def qpdf_repair(path: Path, out: Path, timeout_s: float) -> Path | None:
    """Let qpdf rewrite `path` into `out` within `timeout_s`; the repaired copy, or None if it cannot."""
    exe = shutil.which("qpdf")
    if exe is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "--", str(path.resolve()), str(out)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        logger.debug("%s: qpdf repair failed: %s", path.name, exc)
        return None
    if proc.returncode not in USABLE_EXIT_CODES or not out.is_file():
        logger.debug("%s: qpdf repair failed: %s", path.name, proc.stderr.decode(errors="replace")[-300:])
        return None
    return out
