"""Worker processes: every submission runs in a forked worker under a wall-clock deadline and a memory cap.

A worker is forked once and then takes submission after submission (the readers it loads on its
first page stay loaded), so the cost of a fork is paid per worker, not per submission. Only a
worker that overruns its deadline, runs out of memory or dies is replaced. Workers die with the
run: each asks the kernel for SIGKILL when its parent goes (prctl PR_SET_PDEATHSIG), ignores
Ctrl-C (the run stops them), and closes the run's outbox lock so an orphan can never hold it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe, wait
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TIME_MESSAGE = "処理時間の上限を超えました"
MEMORY_MESSAGE = "メモリの上限を超えました"
DIED_MESSAGE = (
    "読み取り中にワーカープロセスが異常終了しました（PDF・画像ライブラリのクラッシュ等; the worker process died while reading it）"
)

_PR_SET_PDEATHSIG = 1
# How often a busy worker's memory is looked at, to tell a death from running out of memory.
_POLL_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """The deadline and memory cap of one submission.

    The deadline is `submission_seconds + page_seconds * pages`, the pages counted by the worker
    before it starts (a normal 100-page submission reads in well under a minute on one core; a
    792-byte PDF whose drawing calls itself ran for minutes and > 10 GB before these limits).
    The memory cap is the worker's address space (RLIMIT_AS): a normal submission peaks near
    0.6 GB of address space, a scan at 600 dpi under 1.2 GB.
    """

    submission_seconds: float = 120.0
    page_seconds: float = 5.0
    memory_bytes: int = 2 * 1024**3

    def deadline(self, pages: int) -> float:
        return self.submission_seconds + self.page_seconds * max(pages, 0)


@dataclass(frozen=True, slots=True)
class Failure:
    """A job the worker did not finish: kind is time, memory, died or crash; message in Japanese."""

    kind: str
    message: str
    seconds: float


@dataclass(slots=True)
class _Worker:
    pid: int
    conn: Connection
    key: int = -1  # the job it runs; -1 when idle
    started: float = 0.0
    deadline: float = 0.0
    vm_peak: int = 0
    retire: bool = False


@dataclass(slots=True)
class _Pool:
    size: int
    limits: WorkerLimits
    work: Callable[[Any], Any]
    count_pages: Callable[[Any], int]
    keep_closed: list[int]
    idle: list[_Worker] = field(default_factory=list)
    busy: list[_Worker] = field(default_factory=list)


def run_jobs(
    jobs: list[tuple[int, Any]],
    *,
    size: int,
    limits: WorkerLimits,
    work: Callable[[Any], Any],
    count_pages: Callable[[Any], int],
    close_fds: list[int] | None = None,
) -> Generator[tuple[int, Any], None, None]:
    """Run work(payload) for each (key, payload) on `size` forked workers; yields (key, result or Failure) as each ends.

    `count_pages(payload)` runs in the worker first and sets the deadline. `close_fds`: the
    parent's descriptors a worker must not keep (the outbox lock). Every job yields exactly
    once; a job whose worker overran, ran out of memory or died yields a Failure.
    """
    pool = _Pool(max(1, size), limits, work, count_pages, list(close_fds or []))
    queue = list(reversed(jobs))
    try:
        while queue or pool.busy:
            while queue and len(pool.busy) < pool.size:
                _start(pool, queue.pop())
            yield from _collect(pool)
    finally:  # Ctrl-C, or the caller stopped early: busy workers are killed, idle ones told to go
        for w in pool.busy:
            _stop(w, kill=True)
        for w in pool.idle:
            _stop(w)


def _start(pool: _Pool, job: tuple[int, Any]) -> None:
    worker = pool.idle.pop() if pool.idle else _spawn(pool)
    worker.key, worker.started, worker.vm_peak = job[0], time.monotonic(), 0
    worker.deadline = worker.started + pool.limits.deadline(0)
    worker.conn.send(job)
    pool.busy.append(worker)


def _collect(pool: _Pool) -> Iterator[tuple[int, Any]]:
    """Wait for the first message, end or deadline among the busy workers; yield what ended."""
    now = time.monotonic()
    timeout = max(0.0, min(min(w.deadline for w in pool.busy) - now, _POLL_SECONDS))
    ready = wait([w.conn for w in pool.busy], timeout)
    for worker in list(pool.busy):
        if worker.conn in ready:
            yield from _receive(pool, worker)
        elif time.monotonic() > worker.deadline:
            key, seconds = worker.key, time.monotonic() - worker.started
            _end(pool, worker, kill=True)
            log.error("job %s: %s (%.0f s)", key, TIME_MESSAGE, seconds)
            yield key, Failure("time", f"{TIME_MESSAGE}（{seconds:.0f} 秒）", seconds)
        else:
            worker.vm_peak = max(worker.vm_peak, _vm_peak(worker.pid))


def _receive(pool: _Pool, worker: _Worker) -> Iterator[tuple[int, Any]]:
    key, seconds = worker.key, time.monotonic() - worker.started
    try:
        kind, _, value = worker.conn.recv()
    except (EOFError, OSError):  # the worker died: a native crash, the OOM killer, an abort
        status = _end(pool, worker, kill=True)
        yield key, _death(pool.limits, worker.vm_peak, status, seconds)
        return
    if kind == "pages":
        worker.deadline = worker.started + pool.limits.deadline(int(value))
        return
    pool.busy.remove(worker)
    worker.key = -1
    if kind == "done":
        pool.idle.append(worker)
        yield key, value
        return
    _end(pool, worker, kill=True)  # after MemoryError or a crash outside the job's own handling: a fresh worker
    yield key, Failure(kind, MEMORY_MESSAGE if kind == "memory" else str(value), seconds)


def _death(limits: WorkerLimits, vm_peak: int, status: int, seconds: float) -> Failure:
    """What a worker's death means: out of memory when it was near the cap or the OOM killer took it."""
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    how = f"signal {sig}" if sig else f"exit {os.WEXITSTATUS(status) if os.WIFEXITED(status) else '?'}"
    if vm_peak >= 0.8 * limits.memory_bytes or sig == signal.SIGKILL:
        return Failure("memory", f"{MEMORY_MESSAGE}（{limits.memory_bytes / 2**30:.1f} GB; {how}）", seconds)
    return Failure("died", f"{DIED_MESSAGE}（{how}）", seconds)


def _end(pool: _Pool, worker: _Worker, *, kill: bool) -> int:
    """Take a worker out of the pool (killing it first when asked); its wait status."""
    if worker in pool.busy:
        pool.busy.remove(worker)
    if worker in pool.idle:
        pool.idle.remove(worker)
    return _stop(worker, kill=kill)


def _stop(worker: _Worker, *, kill: bool = False) -> int:
    with contextlib.suppress(OSError):
        if kill:
            os.kill(worker.pid, signal.SIGKILL)
        else:
            worker.conn.send(None)
    worker.conn.close()
    try:
        return os.waitpid(worker.pid, 0)[1]
    except ChildProcessError:
        return 0


def _vm_peak(pid: int) -> int:
    """The process's peak address space in bytes (VmPeak), 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


@contextlib.contextmanager
def profiled(folder: Path | None, entry: str) -> Iterator[None]:
    """Under `run --profile`: the job's cProfile in folder/profile.pstats and its moments in folder/profile.json.

    The moments are seconds on the boot clock, comparable across processes: when the run's process
    started (the worker's parent), when this job started, when it first opened one of the entry's
    files (the first page is near: what came before is start-up) and when it ended; and CPU seconds:
    the run's process until the job started, the job until that first opening, the whole job.
    bench/bench_submission.py reads both. None: no profile.
    """
    if folder is None:
        yield
        return
    import cProfile
    import json

    started, run_cpu = _process_started(os.getppid())
    moments: dict[str, float | None] = {"run_started": started, "run_cpu_s": run_cpu, "job_started": _boottime(), "first_open": None}
    cpu = resource.getrusage(resource.RUSAGE_SELF)

    def first_open(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and moments["first_open"] is None and "job_ended" not in moments and str(args[0]).startswith(entry):
            moments["first_open"] = _boottime()
            now = resource.getrusage(resource.RUSAGE_SELF)
            moments["first_open_cpu_s"] = now.ru_utime + now.ru_stime - cpu.ru_utime - cpu.ru_stime

    sys.addaudithook(first_open)  # stays for the worker's life, idle once its job has ended
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        moments["job_ended"] = _boottime()
        now = resource.getrusage(resource.RUSAGE_SELF)
        moments["cpu_s"] = now.ru_utime + now.ru_stime - cpu.ru_utime - cpu.ru_stime
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            profile.dump_stats(folder / "profile.pstats")
            (folder / "profile.json").write_text(json.dumps(moments, indent=1), encoding="utf-8")


def _boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def _process_started(pid: int) -> tuple[float | None, float | None]:
    """When the process started, in seconds on the boot clock, and its CPU seconds so far (/proc/PID/stat); None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()  # fields from the third on: utime 14, stime 15, starttime 22
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[19]) / tick, (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        return None, None


def _spawn(pool: _Pool) -> _Worker:
    parent_end, child_end = Pipe()
    inherited = [pool.keep_closed, [w.conn.fileno() for w in pool.busy + pool.idle], [parent_end.fileno()]]
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the run's code
        code = 70
        try:
            _prepare_child(parent, [fd for group in inherited for fd in group], pool.limits)
            _serve(child_end, pool.work, pool.count_pages)
            code = 0
        finally:
            os._exit(code)
    child_end.close()
    return _Worker(pid, parent_end)


def _prepare_child(parent: int, close_fds: list[int], limits: WorkerLimits) -> None:
    """Die with the parent, ignore Ctrl-C, drop the parent's descriptors, cap the address space."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(70)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for fd in close_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limits.memory_bytes if hard == resource.RLIM_INFINITY else min(limits.memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _serve(conn: Connection, work: Callable[[Any], Any], count_pages: Callable[[Any], int]) -> None:
    """The worker's loop: a job in, ("pages", key, n) then ("done" | "memory" | "crash", key, value) out."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        key, payload = job
        try:
            conn.send(("pages", key, count_pages(payload)))
            conn.send(("done", key, work(payload)))
        except MemoryError:
            conn.send(("memory", key, None))
            return
        except BaseException as exc:  # noqa: BLE001 — whatever escapes the job's own handler is still only this job's
            conn.send(("crash", key, f"{type(exc).__name__}: {exc}"))
            return
