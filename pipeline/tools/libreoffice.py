"""The one place that calls LibreOffice: DOCX → PDF for a whole batch, with a timeout.

One LibreOffice is started per batch, not per document, in one of two ways:

* ``uno`` (preferred): a headless ``soffice --accept=pipe,…`` listener plus a small worker that
  drives it through its UNO socket. Our venv cannot import ``uno`` (python3-uno belongs to the
  system Python), so the worker is *this file* run by a Python that can (``/usr/bin/python3``
  with python3-uno installed); the two talk JSON lines over a pipe. ≈1.4 s to start, ≈0.13 s per
  document afterwards (measured on our 2-core machine, see shared/notes/measured.md).
* ``batch`` (fallback when no Python with ``uno`` is found): one ``soffice --convert-to pdf`` call
  per :meth:`Converter.convert_many` call, all documents at once; ≈1.8 s per call plus
  ≈0.15 s per document.

Both use their own profile folder (``-env:UserInstallation``), never the user's, and a timeout.
Commands are argv lists. Errors become :class:`ConversionError` with a plain message.

Nothing outlives the run, however it ends. LibreOffice and the UNO worker run in their own
sessions (a Ctrl-C at the terminal reaches only the run, which closes them); a watchdog
(this file run with ``--watch``) holds a pipe from the run, and when the pipe closes without a
"done" — the run was killed, even with ``kill -9`` — it kills every process whose command line
names the work folder and removes that folder and the folders registered with
:meth:`Converter.remove_on_crash`. As a backstop, :meth:`Converter.start` sweeps the work
folders of runs that are gone (``isp-convert-<pid>-*``) in the same way.

Usage::

    with Converter() as conv:                 # starts LibreOffice once
        pdfs = conv.convert_many([a_docx, b_docx])   # {a_docx: a_pdf, b_docx: b_pdf}, beside each input
        one = conv.convert(c_docx)

This module keeps to the standard library at import time, so the system Python can run it as
the UNO worker (``python3 convert.py --uno-worker PIPE``).
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Literal

try:
    from pipeline.model.errors import ConversionError
except ImportError:  # pragma: no cover - the UNO worker runs this file without the package

    class ConversionError(Exception):  # type: ignore[no-redef]
        """Stand-in for pipeline.model.errors.ConversionError inside the worker process."""


log = logging.getLogger(__name__)

Mode = Literal["auto", "uno", "batch"]

# Where a Python able to `import uno` usually lives (Debian's python3-uno, LibreOffice's own).
UNO_PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python", "/opt/libreoffice/program/python")


def find_uno_python(candidates: Sequence[str] | None = None) -> str | None:
    """Return the first Python executable that can ``import uno``, or None.

    ``ISP_UNO_PYTHON`` in the environment is tried first (set it to "" to force batch mode).
    """
    env = os.environ.get("ISP_UNO_PYTHON")
    if env is not None:
        cands: list[str] = [env] if env else []
    else:
        cands = list(candidates or UNO_PYTHON_CANDIDATES)
    for exe in cands:
        if not exe or not os.access(exe, os.X_OK):
            continue
        try:
            probe = subprocess.run([exe, "-c", "import uno"], capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return exe
    return None


class Converter:
    """DOCX → PDF with one LibreOffice for the whole batch.

    Args:
        mode: "uno" (listener + worker), "batch" (one ``--convert-to`` call per
            :meth:`convert_many`) or "auto" (uno when a Python with ``uno`` exists).
        timeout_s: seconds allowed per document (uno) or per call plus per document (batch).
        startup_timeout_s: seconds allowed for LibreOffice to start listening.
        soffice: the LibreOffice executable.
        profile_dir: the profile folder; a fresh temporary one (removed on close) when None.
        uno_python: the Python that runs the UNO worker; found automatically when None.
    """

    def __init__(
        self,
        *,
        mode: Mode = "auto",
        timeout_s: float = 120.0,
        startup_timeout_s: float = 60.0,
        soffice: str = "soffice",
        profile_dir: Path | None = None,
        uno_python: str | None = None,
    ) -> None:
        self.requested_mode: Mode = mode
        self.timeout_s = timeout_s
        self.startup_timeout_s = startup_timeout_s
        self.soffice = soffice
        self._own_profile = profile_dir is None
        self._profile_dir = profile_dir
        self._uno_python = uno_python
        self.mode: Literal["uno", "batch"] | None = None
        self.startup_s: float | None = None  # how long the (first) start took
        self._office: subprocess.Popen[bytes] | None = None
        self._worker: subprocess.Popen[bytes] | None = None
        self._buf = b""
        self._logfile: IO[bytes] | None = None
        self._work: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._seq = 0

    # --- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> Converter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start LibreOffice now (otherwise the first conversion does). Idempotent.

        A failure to start leaves nothing behind: no work folder, no watchdog.
        """
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        if self._work is None:
            sweep_stale()
            self._work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
            if self._profile_dir is None:
                self._profile_dir = self._work / "profile"
            self._logfile = open(self._work / "office.log", "ab")  # noqa: SIM115 - closed in close()
            self._watchdog = _start_watchdog(self._work)
        if shutil.which(self.soffice) is None:
            raise ConversionError(f"LibreOffice ('{self.soffice}') was not found: install libreoffice-writer-nogui")
        if self.mode is None:
            self.mode = self._choose_mode()
            log.debug("LibreOffice conversion mode: %s", self.mode)
        if self.mode == "uno" and self._worker is None:
            t0 = time.monotonic()
            self._start_uno()
            if self.startup_s is None:
                self.startup_s = time.monotonic() - t0
        elif self.mode == "batch" and self.startup_s is None:
            self.startup_s = 0.0

    def close(self) -> None:
        """Stop LibreOffice and the worker, remove the temporary profile, dismiss the watchdog."""
        self._stop_uno()
        if self._logfile is not None:
            self._logfile.close()
            self._logfile = None
        if self._work is not None:
            for pid in _processes_naming(self._work):  # a soffice.bin its launcher left behind
                _kill_pid(pid)
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None
            if self._own_profile:
                self._profile_dir = None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            _dismiss(watchdog)

    def remove_on_crash(self, *patterns: Path) -> None:
        """Folders (glob patterns allowed) the watchdog removes if the run dies before close().

        For the work folders a caller keeps beside its outputs while LibreOffice runs
        (e.g. ``out_dir/.render-*``); close() leaves them to their owner.
        """
        self.start()
        assert self._work is not None
        with open(self._work / CLEANUP_LIST, "a", encoding="utf-8") as fh:
            fh.writelines(f"{p}\n" for p in patterns if "\n" not in str(p))

    def _choose_mode(self) -> Literal["uno", "batch"]:
        if self.requested_mode == "batch":
            return "batch"
        exe = self._uno_python or find_uno_python()
        if exe is None:
            if self.requested_mode == "uno":
                raise ConversionError("no Python with the 'uno' module (Debian: python3-uno) was found")
            log.debug("no Python with 'uno' found; converting with one soffice call per batch")
            return "batch"
        self._uno_python = exe
        return "uno"

    @property
    def _profile_url(self) -> str:
        assert self._profile_dir is not None
        return Path(self._profile_dir).resolve().as_uri()

    def _office_argv(self, *extra: str) -> list[str]:
        return [
            self.soffice,
            f"-env:UserInstallation={self._profile_url}",
            "--headless",
            "--invisible",
            "--nologo",
            "--nodefault",
            "--norestore",
            "--nolockcheck",
            *extra,
        ]

    # --- uno mode ---------------------------------------------------------------------

    def _start_uno(self) -> None:
        assert self._work is not None and self._uno_python is not None
        pipe = f"isp_convert_{os.getpid()}_{id(self):x}"
        connect = f"pipe,name={pipe};urp;StarOffice.ComponentContext"
        self._office = subprocess.Popen(
            self._office_argv(f"--accept={connect}"),
            stdin=subprocess.DEVNULL,
            stdout=self._logfile,
            stderr=self._logfile,
            start_new_session=True,
        )
        self._worker = subprocess.Popen(
            [self._uno_python, "-I", str(Path(__file__).resolve()), "--uno-worker", connect, str(self.startup_timeout_s), str(self._work)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._logfile,
            start_new_session=True,
        )
        self._buf = b""
        try:
            reply = self._read_reply(self.startup_timeout_s + 5)
        except ConversionError:
            self._stop_uno()
            raise
        if not reply.get("ok"):
            self._stop_uno()
            raise ConversionError(f"LibreOffice did not start: {reply.get('error')}{self._log_tail()}")

    def _stop_uno(self) -> None:
        worker, office = self._worker, self._office
        self._worker = self._office = None
        if worker is not None:
            try:
                assert worker.stdin is not None
                worker.stdin.write(b'{"quit": true}\n')
                worker.stdin.flush()
                worker.stdin.close()
                worker.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                _kill(worker)
            if worker.stdout is not None:
                worker.stdout.close()
        if office is not None:
            try:
                office.wait(timeout=10)  # the worker asked it to terminate
            except subprocess.TimeoutExpired:
                _kill(office)

    def _read_reply(self, timeout_s: float) -> dict[str, object]:
        worker = self._worker
        assert worker is not None and worker.stdout is not None
        fd = worker.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConversionError(f"LibreOffice did not answer within {timeout_s:.0f} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ConversionError(f"the LibreOffice worker stopped unexpectedly{self._log_tail()}")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError as exc:
            raise ConversionError(f"unexpected answer from the LibreOffice worker: {line[:200]!r}") from exc
        return reply if isinstance(reply, dict) else {"ok": False, "error": repr(reply)}

    def _convert_uno(self, src: Path, dst: Path) -> None:
        if self._worker is None or self._worker.poll() is not None or (self._office and self._office.poll() is not None):
            self._stop_uno()
            self._start_uno()  # restart after a crash or a timeout
        worker = self._worker
        assert worker is not None and worker.stdin is not None
        request = json.dumps({"src": src.resolve().as_uri(), "dst": dst.resolve().as_uri()}) + "\n"
        try:
            worker.stdin.write(request.encode())
            worker.stdin.flush()
            reply = self._read_reply(self.timeout_s)
        except (OSError, ConversionError) as exc:
            self._stop_uno()  # a hung LibreOffice is killed; the next call starts a new one
            raise ConversionError(f"{src.name}: conversion to PDF failed: {exc}") from exc
        if not reply.get("ok"):
            raise ConversionError(f"{src.name}: conversion to PDF failed: {reply.get('error')}")

    # --- batch mode -------------------------------------------------------------------

    def _convert_batch(self, pairs: Sequence[tuple[Path, Path]]) -> None:
        assert self._work is not None
        self._seq += 1
        stage = self._work / f"batch{self._seq}"
        outdir = stage / "out"
        outdir.mkdir(parents=True)
        staged: list[tuple[Path, Path]] = []
        for i, (src, dst) in enumerate(pairs):
            # Distinct names: many submissions each have a dossier.docx.
            link = stage / f"doc{i:04d}{src.suffix}"
            try:
                os.link(src, link)
            except OSError:
                shutil.copyfile(src, link)
            staged.append((link, dst))
        timeout = self.timeout_s + 10.0 * len(pairs)
        argv = self._office_argv("--convert-to", "pdf:writer_pdf_Export", "--outdir", str(outdir))
        argv += [str(link) for link, _ in staged]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise ConversionError(f"LibreOffice could not be started: {exc}") from exc
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill(proc)  # the whole session: soffice leaves soffice.bin behind otherwise
            proc.communicate()
            shutil.rmtree(stage, ignore_errors=True)
            raise ConversionError(f"LibreOffice did not finish {len(pairs)} document(s) within {timeout:.0f} s") from exc
        failed = []
        for (link, dst), (src, _) in zip(staged, pairs, strict=True):
            out = outdir / (link.stem + ".pdf")
            if out.is_file() and out.stat().st_size > 0:
                os.replace(out, dst)
            else:
                failed.append(src.name)
        shutil.rmtree(stage, ignore_errors=True)
        if failed:
            detail = (stderr or stdout).decode(errors="replace").strip()[-400:]
            raise ConversionError(f"LibreOffice produced no PDF for {', '.join(failed)} (exit {proc.returncode}) {detail}")

    # --- public -----------------------------------------------------------------------

    def convert(self, src: Path, dst: Path | None = None) -> Path:
        """Convert one DOCX to PDF; ``dst`` defaults to the same path with ``.pdf``."""
        dst = dst or src.with_suffix(".pdf")
        self.convert_many([src], {src: dst})
        return dst

    def convert_many(self, sources: Sequence[Path], targets: dict[Path, Path] | None = None) -> dict[Path, Path]:
        """Convert many DOCX at once; returns {source: pdf}. PDFs go beside their sources.

        Raises ConversionError naming the documents that failed (the others are converted).
        """
        if not sources:
            return {}
        self.start()
        for src in sources:
            if not Path(src).is_file():
                raise ConversionError(f"{src}: no such file to convert")
        pairs = [(Path(s), Path((targets or {}).get(s) or Path(s).with_suffix(".pdf"))) for s in sources]
        if self.mode == "batch":
            self._convert_batch(pairs)
        else:
            errors = []
            for src, dst in pairs:
                try:
                    self._convert_uno(src, dst)
                except ConversionError as exc:
                    errors.append(str(exc))
            if errors:
                raise ConversionError("; ".join(errors))
        return {src: dst for src, dst in pairs}

    def _log_tail(self) -> str:
        if self._work is None:
            return ""
        try:
            text = (self._work / "office.log").read_bytes().decode(errors="replace").strip()
        except OSError:
            return ""
        return f" ({text[-300:]})" if text else ""


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill a process we started, and its session (soffice.bin is a child of soffice)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


# --- cleaning up after a run that died ----------------------------------------------------

WORK_PREFIX = "isp-convert-"
CLEANUP_LIST = "remove-on-crash.txt"


def _processes_naming(work: Path) -> list[int]:
    """Processes (other than this one) whose command line names `work`: soffice, soffice.bin, the UNO worker."""
    needles = (str(work).encode(), work.as_uri().encode())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(n in cmdline for n in needles) and b"--watch\0" not in cmdline:
            found.append(int(entry.name))
    return found


def _kill_pid(pid: int) -> None:
    """SIGKILL a process and, when it leads one, its process group."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def clean_up_work(work: Path) -> None:
    """Kill what still runs for a dead run's work folder, remove its registered folders and the folder itself."""
    for _ in range(5):  # soffice may still be spawning soffice.bin
        pids = _processes_naming(work)
        if not pids:
            break
        for pid in pids:
            _kill_pid(pid)
        time.sleep(0.2)
    try:
        patterns = (work / CLEANUP_LIST).read_text(encoding="utf-8").splitlines()
    except OSError:
        patterns = []
    for pattern in filter(None, patterns):
        pat = Path(pattern)
        for folder in pat.parent.glob(pat.name) if any(c in pat.name for c in "*?[") else [pat]:
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)


def _alive(pid: int) -> bool:
    # tools.processes.process_alive, written again: this file keeps to the standard library (the UNO worker runs it alone).
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(tmp: Path | None = None) -> list[Path]:
    """Clean up the work folders of runs that are gone (``isp-convert-<pid>-*`` whose pid is dead); returns them."""
    swept = []
    for work in Path(tmp or tempfile.gettempdir()).glob(f"{WORK_PREFIX}*-*"):
        pid = work.name[len(WORK_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and work.is_dir() and not _alive(int(pid)):
            log.info("removing the LibreOffice work folder of a run that ended abnormally: %s", work)
            clean_up_work(work)
            swept.append(work)
    return swept


def _start_watchdog(work: Path) -> subprocess.Popen[bytes] | None:
    """The watchdog of `work` (see the module docstring); None if it cannot start (close() still cleans up)."""
    try:
        return subprocess.Popen(
            [sys.executable, "-I", str(Path(__file__).resolve()), "--watch", str(work)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C or a kill of the run's process group leaves it to clean up
        )
    except OSError as exc:
        log.warning("the LibreOffice watchdog could not start (%s); a killed run may leave LibreOffice running", exc)
        return None


def _dismiss(watchdog: subprocess.Popen[bytes]) -> None:
    """Tell the watchdog the run closed LibreOffice itself, and let it go."""
    try:
        assert watchdog.stdin is not None
        watchdog.stdin.write(b"done\n")
        watchdog.stdin.close()
        watchdog.wait(timeout=10)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        _kill(watchdog)


def _watch_main(work: str) -> int:  # pragma: no cover - separate process
    """Wait for the run's pipe to close; unless it said "done", clean up after it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    done = False
    for line in sys.stdin.buffer:
        done = done or line.strip() == b"done"
    if not done:
        clean_up_work(Path(work))
    return 0


# --- the UNO worker: runs under a Python that has `uno`, not in our venv ------------------


def _worker_main(connect: str, startup_timeout_s: float) -> int:  # pragma: no cover - separate process
    import uno  # type: ignore[import-not-found]
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    def prop(name: str, value: object) -> object:
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    def say(obj: dict[str, object]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + startup_timeout_s
    while True:
        try:
            ctx = resolver.resolve(f"uno:{connect}")
            break
        except Exception as exc:  # NoConnectException until the listener is up
            if time.monotonic() > deadline:
                say({"ok": False, "error": f"no connection to LibreOffice: {exc}"})
                return 1
            time.sleep(0.1)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    say({"ok": True})
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("quit"):
            break
        doc = None
        try:
            doc = desktop.loadComponentFromURL(req["src"], "_blank", 0, (prop("Hidden", True), prop("ReadOnly", True)))
            if doc is None:
                raise RuntimeError("the document could not be loaded")
            # Crops stay as they are (no downsampling, lossless): crisper, and measured ~0.1 s
            # cheaper per dossier than LibreOffice's default JPEG re-encoding.
            filter_data = uno.Any(
                "[]com.sun.star.beans.PropertyValue",
                (prop("ReduceImageResolution", False), prop("UseLosslessCompression", True)),
            )
            doc.storeToURL(req["dst"], (prop("FilterName", "writer_pdf_Export"), prop("FilterData", filter_data)))
            say({"ok": True})
        except Exception as exc:
            say({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        finally:
            if doc is not None:
                try:
                    doc.close(True)
                except Exception:
                    pass
    try:
        desktop.terminate()
    except Exception:
        pass  # DisposedException: it is already going
    return 0


if __name__ == "__main__" and len(sys.argv) >= 3 and sys.argv[1] == "--uno-worker":  # pragma: no cover
    sys.exit(_worker_main(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 60.0))
if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--watch":  # pragma: no cover
    sys.exit(_watch_main(sys.argv[2]))
