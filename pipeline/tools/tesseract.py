"""The one place that calls Tesseract: engines, language, page-segmentation mode, timeout, error mapping.

Two real engines share one protocol. ``TesserocrEngine`` keeps one loaded ``PyTessBaseAPI`` per
language for the life of the process: a label line costs 3–4 ms instead of the 70–100 ms of a
process per call (shared/notes/measured.md). ``PytesseractEngine`` is the fallback when tesserocr
will not import: one ``tesseract`` process per call, with a timeout. Tests script the protocol with
``tests/fakes.FakeOcr``. Debian's Tesseract is built with OpenMP and runs 4–5× slower on small crops
unless ``OMP_THREAD_LIMIT=1``, so it is set before any engine is imported or spawned.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from pipeline.model.errors import OcrError  # Tesseract failed, timed out or is missing; callers degrade to uncertain

__all__ = ["OcrEngine", "OcrError", "OcrLine", "OcrSymbol", "PytesseractEngine", "TesserocrEngine", "load_engine"]

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

log = logging.getLogger(__name__)

TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class OcrSymbol:
    """One recognised character with its confidence (0..1) and the engine's runner-up choices."""

    text: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()  # (character, confidence 0..1), best first


@dataclass(frozen=True, slots=True)
class OcrLine:
    """Text of one line or block as read, with a confidence 0..1 (the weakest word's, for a line)."""

    text: str
    confidence: float
    symbols: tuple[OcrSymbol, ...] = ()  # per character, when the engine provides them


class OcrEngine(Protocol):
    """What the stages need from an OCR engine. Images are grayscale uint8, ink dark on light."""

    def read_line(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None, psm: int, region: str | None = None, alternatives: bool = True
    ) -> OcrLine: ...

    def read_block(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None = None, psm: int = 6, region: str | None = None
    ) -> OcrLine: ...


def find_tessdata() -> str:
    """The tessdata folder: $TESSDATA_PREFIX if it holds data, else the first known system folder with eng data."""
    env = os.environ.get("TESSDATA_PREFIX")
    for cand in ([env] if env else []) + [*TESSDATA_CANDIDATES]:
        if cand and Path(cand, "eng.traineddata").is_file():
            return cand
        if cand and Path(cand, "tessdata", "eng.traineddata").is_file():
            return str(Path(cand, "tessdata"))
    raise OcrError("no Tesseract language data found (looked in $TESSDATA_PREFIX and " + ", ".join(TESSDATA_CANDIDATES) + ")")


def _as_gray(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    arr = np.asarray(gray)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        raise ValueError(f"OCR wants a 2-D uint8 grayscale image, got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


class TesserocrEngine:
    """Tesseract in-process through tesserocr; one loaded API per language, reused for every call (its mode set per call).

    Thread-safe: each API is used under its own lock (an API object is not re-entrant).
    """

    def __init__(self, tessdata: str | None = None) -> None:
        import tesserocr  # noqa: F401  (import here so that a missing wheel surfaces as ImportError in load_engine)

        self._tessdata = tessdata or find_tessdata()
        self._apis: dict[str, tuple[Any, threading.Lock]] = {}
        self._guard = threading.Lock()

    def _api(self, lang: str) -> tuple[Any, threading.Lock]:
        """The language's loaded API: one per language (loading one costs 0.1-0.2 s); the mode is set per call."""
        with self._guard:
            if lang not in self._apis:
                import tesserocr

                try:
                    api = tesserocr.PyTessBaseAPI(path=self._tessdata, lang=lang)
                except RuntimeError as exc:
                    raise OcrError(f"Tesseract could not load language '{lang}' from {self._tessdata}") from exc
                # Our lines are dark on light: Tesseract 5 would also read every weak line
                # inverted (a third to a half of a line's time, for nothing).
                api.SetVariable("tessedit_do_invert", "0")
                self._apis[lang] = (api, threading.Lock())
            return self._apis[lang]

    def preload(self, langs: tuple[str, ...]) -> None:
        """Load the languages' models now (0.1-0.2 s each), e.g. on a spare thread before the first line asks; raises OcrError."""
        for lang in langs:
            self._api(lang)

    def _read(self, gray: NDArray[np.uint8], lang: str, whitelist: str | None, psm: int, alternatives: bool = True) -> OcrLine:
        import tesserocr
        from PIL import Image

        img = Image.fromarray(_as_gray(gray))
        api, lock = self._api(lang)
        with lock:
            api.SetPageSegMode(psm)
            api.SetVariable("lstm_choice_mode", "2" if alternatives else "0")  # 2: per-symbol alternatives, for ambiguity checks
            api.SetVariable("tessedit_char_whitelist", whitelist or "")
            try:
                api.SetImage(img)
                api.Recognize()
                text = (api.GetUTF8Text() or "").strip()
                words = [c for c in api.AllWordConfidences()]
                symbols = []
                it = api.GetIterator()
                level = tesserocr.RIL.SYMBOL
                if it is not None and text:
                    while True:
                        sym = it.GetUTF8Text(level)
                        if sym:
                            alts = []
                            for ch in it.GetChoiceIterator() if alternatives else ():
                                t = ch.GetUTF8Text()
                                if t and t != sym:
                                    alts.append((t, max(0.0, min(1.0, ch.Confidence() / 100.0))))
                            symbols.append(OcrSymbol(sym, max(0.0, min(1.0, it.Confidence(level) / 100.0)), tuple(alts)))
                        if not it.Next(level):
                            break
            except RuntimeError as exc:
                raise OcrError(f"Tesseract failed on a {gray.shape[1]}×{gray.shape[0]} px image: {exc}") from exc
            finally:
                api.Clear()
        conf = (min(words) / 100.0) if words else 0.0
        return OcrLine(text=text, confidence=max(0.0, min(1.0, conf)), symbols=tuple(symbols))

    def read_line(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None, psm: int = 7, region: str | None = None, alternatives: bool = True
    ) -> OcrLine:
        """Read one text line (psm 7 by default; 13 = raw line). Confidence is the weakest word's.

        `alternatives=False` skips the per-character runner-up choices (labels use them; fields
        do not): Tesseract's choice mode costs about a third of a jpn line's time.
        """
        return self._read(gray, lang, whitelist, psm, alternatives)

    def read_block(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None = None, psm: int = 6, region: str | None = None
    ) -> OcrLine:
        """Read a block of lines (psm 6 by default)."""
        return self._read(gray, lang, whitelist, psm)

    def close(self) -> None:
        with self._guard:
            for api, _ in self._apis.values():
                api.End()
            self._apis.clear()


class PytesseractEngine:
    """Fallback: the ``tesseract`` program through pytesseract, one process per call (70–100 ms each)."""

    def __init__(self, tessdata: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._tessdata = tessdata or find_tessdata()
        self.timeout_s = timeout_s

    def _read(self, gray: NDArray[np.uint8], lang: str, whitelist: str | None, psm: int) -> OcrLine:
        import subprocess

        import pytesseract
        from PIL import Image

        img = Image.fromarray(_as_gray(gray))
        config = f"--psm {int(psm)} --tessdata-dir {self._tessdata}"
        if whitelist:
            # pytesseract splits config with shlex; the value is a single token without spaces or quotes.
            safe = "".join(ch for ch in whitelist if not ch.isspace() and ch not in "'\"\\")
            config += f" -c tessedit_char_whitelist={safe}"
        os.environ["OMP_THREAD_LIMIT"] = "1"  # pytesseract passes the parent environment to the child
        try:
            data = pytesseract.image_to_data(img, lang=lang, config=config, timeout=self.timeout_s, output_type=pytesseract.Output.DICT)
        except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
            raise OcrError(f"Tesseract timed out after {self.timeout_s:.0f} s") from exc
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrError("the tesseract program is not installed") from exc
        except (pytesseract.TesseractError, subprocess.SubprocessError, OSError) as exc:
            raise OcrError(f"Tesseract failed: {exc}") from exc
        lines: dict[tuple[int, int, int], list[str]] = {}
        confs = []
        for txt, conf, b, p, ln in zip(data["text"], data["conf"], data["block_num"], data["par_num"], data["line_num"]):
            if str(txt).strip():
                lines.setdefault((b, p, ln), []).append(str(txt).strip())
                confs.append(float(conf))
        sep = "" if lang.startswith(("jpn", "chi")) else " "
        text = "\n".join(sep.join(words) for words in lines.values())
        conf = (min(confs) / 100.0) if confs else 0.0
        return OcrLine(text=text, confidence=max(0.0, min(1.0, conf)))

    def read_line(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None, psm: int = 7, region: str | None = None, alternatives: bool = True
    ) -> OcrLine:
        return self._read(gray, lang, whitelist, psm)

    def read_block(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None = None, psm: int = 6, region: str | None = None
    ) -> OcrLine:
        return self._read(gray, lang, whitelist, psm)


def load_engine() -> OcrEngine:
    """A new engine: tesserocr when it imports, else pytesseract (logged). The run keeps one per process (reading.engines)."""
    try:
        return TesserocrEngine()
    except ImportError as exc:
        log.warning("tesserocr unavailable (%s); using the tesseract program, one process per call", exc)
        return PytesseractEngine()
