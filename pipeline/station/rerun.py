"""Re-run the submissions a save changed, one `python -m pipeline run` at a time, in the background.

The run is the project's own command as a subprocess (an argv list, never a shell), so the
outbox lock of run/inbox.py decides who writes: while `make run` holds the outbox, the run
exits 3 and the station says it is waiting, then tries again.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
EXIT_LOCKED = 3  # cli.EXIT_LOCKED: another run holds the outbox
RETRY_SECONDS = 0.5

STATE_JA = {
    "idle": "",
    "queued": "再判定を待っています…",
    "waiting": "待機中: 別の実行（make run など）がこの outbox を使っています。終わりしだい再判定します…",
    "running": "再判定しています…",
    "done": "再判定が終わりました。",
    "error": "再判定でエラーが出ました。",
}


@dataclass(frozen=True, slots=True)
class RerunStatus:
    state: str  # idle, queued, waiting, running, done, error
    message: str = ""
    finished: float = 0.0

    @property
    def busy(self) -> bool:
        return self.state in ("queued", "waiting", "running")

    @property
    def text(self) -> str:
        return STATE_JA.get(self.state, self.state) + (f" {self.message}" if self.message else "")


class Rerunner:
    """One worker thread; `request(name)` marks a submission changed; one run redoes all marked ones."""

    def __init__(self, inbox: Path, outbox: Path, form: Path, command: list[str] | None = None) -> None:
        paths = [str(p.resolve()) for p in (inbox, outbox, form)]
        self.command = command or [sys.executable, "-m", "pipeline", "run", "--inbox", paths[0], "--outbox", paths[1], "--form", paths[2], "-q"]
        self.cwd = PACKAGE_ROOT  # `-m pipeline` finds this very package, wherever the station was started
        self._status: dict[str, RerunStatus] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="station-rerun", daemon=True)
        self._thread.start()

    def request(self, name: str) -> None:
        with self._lock:
            self._pending.add(name)
            self._status[name] = RerunStatus("queued")
        self._wake.set()

    def status(self, name: str) -> RerunStatus:
        with self._lock:
            return self._status.get(name, RerunStatus("idle"))

    def _set(self, names: set[str], status: RerunStatus) -> None:
        with self._lock:
            for name in names:
                self._status[name] = status

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                batch, self._pending = self._pending, set()
                self._wake.clear()
            if batch:
                self._run(batch)

    def _run(self, batch: set[str]) -> None:
        self._set(batch, RerunStatus("running"))
        while True:
            proc = subprocess.run(self.command, cwd=self.cwd, capture_output=True, text=True, check=False)
            if proc.returncode != EXIT_LOCKED:
                break
            self._set(batch, RerunStatus("waiting"))
            time.sleep(RETRY_SECONDS)  # stays "waiting" until a run gets the outbox
        if proc.returncode in (0, 2):
            # exit 2: some submission errored (perhaps this one: its review_error row says why)
            self._set(batch, RerunStatus("done", finished=time.time()))
        else:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            self._set(batch, RerunStatus("error", " / ".join(tail), time.time()))
