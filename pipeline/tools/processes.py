"""Whether an operating-system process still exists (for stale locks and the work folders of dead runs)."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True while a process with this pid exists, whoever owns it (a pid we may not signal is alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
