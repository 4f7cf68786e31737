"""The PP-OCRv6 text-line recognizer (the model file shipped in the rapidocr wheel), run through onnxruntime.

A second reader beside Tesseract for one line of text: the line is resized to 48 px high
keeping its aspect, normalised to (x/255 - 0.5)/0.5 and padded on the right, the network gives
per-column character probabilities, and a CTC greedy decode (blank = index 0, repeats merged)
turns them into text. Only `rapidocr/models/PP-OCRv6_rec_small.onnx` is used (rapidocr is
installed without its dependencies and is never imported); its character list is the model's
own metadata (`character`), with the blank put first and a space last, as PaddleOCR does.

Lines are padded to a width bucket, so that a line read alone and the same line read in a batch
of lines of its bucket are the same computation (`read_many` == `read`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import math
import os
import platform
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline.model.errors import OcrError  # the model or onnxruntime is missing or fails; callers degrade to uncertain

__all__ = ["LineRead", "PPOcrRecognizer", "model_path"]

log = logging.getLogger(__name__)

MODEL_NAME = "PP-OCRv6_rec_small.onnx"
HEIGHT_PX = 48  # the model's input height
MIN_WIDTH_PX = 320  # PaddleOCR's rec_image_shape width: shorter lines are padded to it
BUCKET_PX = 64  # padded widths are multiples of this (batching groups lines of one bucket)
MAX_WIDTH_PX = 3200  # a longer line is squeezed to this width (~65 characters at 48 px)
BATCH = 16  # lines per network call in read_many
# Probabilities are rounded to this many decimals: a batch of lines and a line alone differ by
# ~1e-7 in onnxruntime's sums, and read_many must give what read gives.
CONF_DIGITS = 4
# A line whose darkest pixel is lighter than this, or whose contrast is less than BLANK_CONTRAST
# grey levels, holds no ink: it reads "" without running the network.
BLANK_INK = 200
BLANK_CONTRAST = 40


@dataclass(frozen=True, slots=True)
class LineRead:
    """One line as PP-OCR read it: text, the mean of its characters' probabilities (0.0 for ""), and each character's."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    # per character read: how likely each digit 0-9 was where it was read (the most over the columns that emitted it;
    # a neighbour column may hold the next character); () when not known. What PP-OCR thinks of a digit it did not pick: a 2 it read 'd'.
    digit_probabilities: tuple[tuple[float, ...], ...] = ()


EMPTY = LineRead("", 0.0, ())


def model_path() -> Path:
    """Where the rapidocr wheel keeps the PP-OCRv6 recognizer; raises OcrError when it is not installed."""
    spec = importlib.util.find_spec("rapidocr")  # finds the package without running its __init__ (its deps are absent)
    if spec is None or spec.origin is None:
        raise OcrError("PP-OCR: the rapidocr package (which holds the PP-OCRv6 model file) is not installed")
    path = Path(spec.origin).parent / "models" / MODEL_NAME
    if not path.is_file():
        raise OcrError(f"PP-OCR: model file missing: {path}")
    return path


def _padded_width(h: int, w: int) -> tuple[int, int]:
    """(resized width, padded width) of a line h×w px once it is HEIGHT_PX high."""
    resized = max(1, min(MAX_WIDTH_PX, int(math.ceil(HEIGHT_PX * w / max(h, 1)))))
    return resized, max(MIN_WIDTH_PX, int(math.ceil(resized / BUCKET_PX)) * BUCKET_PX)


def _blank(gray: NDArray[np.uint8]) -> bool:
    if gray.size == 0 or gray.shape[0] < 2 or gray.shape[1] < 2:
        return True
    lo, hi = int(gray.min()), int(gray.max())
    return lo > BLANK_INK or hi - lo < BLANK_CONTRAST


def _as_gray(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    arr = np.asarray(gray)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        raise ValueError(f"PP-OCR wants a 2-D uint8 grayscale image, got {arr.dtype} {arr.shape}")
    return arr


def _normalised(gray: NDArray[np.uint8], resized: int, width: int) -> NDArray[np.float32]:
    """3×48×width float input: the line resized to 48 px high, (x/255-0.5)/0.5, zero (mid grey) padding on the right."""
    import cv2

    line = cv2.resize(gray, (resized, HEIGHT_PX), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    out = np.zeros((3, HEIGHT_PX, width), np.float32)
    out[:, :, :resized] = (line / 255.0 - 0.5) / 0.5
    return out


def _options(ort: Any, threads: int) -> Any:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return opts


def optimised_file(ort: Any, path: Path, folder: Path) -> Path:
    """Where the model optimised for this machine is kept in `folder`: named by onnxruntime's version, the model file and the CPU."""
    st = path.stat()
    digest = hashlib.sha256("|".join([ort.__version__, str(path), str(st.st_size), str(st.st_mtime_ns), _cpu()]).encode())
    return folder / f"ppocr-{path.stem}-{digest.hexdigest()[:16]}.onnx"


def _cpu() -> str:
    """What the optimised graph's kernels depend on: the machine and its CPU's instruction sets."""
    flags = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                flags = line
                break
    return f"{platform.machine()}|{flags}"


def optimised_session(ort: Any, path: Path, threads: int, keep_in: Path | None) -> Any:
    """An onnxruntime session of the model at `path`: from the optimised copy kept in `keep_in` when there is one.

    onnxruntime optimises the graph (fusions, the NCHWc layout of this CPU) each time a session is
    made: 0.06-0.08 s of CPU and 0.2 s of wall on these machines. The optimised graph is saved once
    (through a temporary name) and loaded by later processes with optimisation off: 0.02-0.035 s of
    CPU, the same outputs bit for bit (tests/test_speed_ppocr.py). A kept copy that will not load
    is logged and made again; a folder that cannot be written only means each process optimises.
    """
    opts = _options(ort, threads)
    providers = ["CPUExecutionProvider"]
    if keep_in is None:
        return ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    kept = optimised_file(ort, path, keep_in)
    if kept.is_file():
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(kept), sess_options=opts, providers=providers)
        except Exception as exc:  # noqa: BLE001 - onnxruntime's own error types: made again below
            log.warning("PP-OCR: the optimised model kept at %s does not load (%s); optimising it again", kept, exc)
        opts = _options(ort, threads)
    tmp = kept.with_name(f".{kept.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        keep_in.mkdir(parents=True, exist_ok=True)
        opts.optimized_model_filepath = str(tmp)
    except OSError as exc:
        log.debug("PP-OCR: cannot keep the optimised model in %s: %s", keep_in, exc)
    session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    with contextlib.suppress(OSError):
        if tmp.is_file():
            tmp.replace(kept)
            for old in keep_in.glob(f"ppocr-{path.stem}-*.onnx"):  # made by another onnxruntime or model file: 21 MB each
                if old != kept:
                    old.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        tmp.unlink()
    return session


class PPOcrRecognizer:
    """One loaded PP-OCRv6 recognizer (an onnxruntime session; `read` may be called from several threads)."""

    def __init__(self, session: Any, characters: list[str]) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        self._chars = characters
        where = {ch: k for k, ch in enumerate(characters) if ch}
        self._digit_classes = [where.get(str(d), 0) for d in range(10)]  # 0 (the blank) for a digit the list lacks

    @classmethod
    def load(cls, threads: int = 1, keep_in: Path | None = None) -> PPOcrRecognizer:
        """Load the model on `threads` intra-op threads; raises OcrError when it or onnxruntime is missing.

        `keep_in`: a folder where the model, once onnxruntime has optimised it for this machine, is
        kept and loaded from by later processes (optimised_session); None optimises it in each process.
        """
        path = model_path()
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise OcrError("PP-OCR: onnxruntime is not installed") from exc
        try:
            session = optimised_session(ort, path, max(1, int(threads)), keep_in)
        except Exception as exc:  # onnxruntime raises its own types (Fail, InvalidProtobuf, ...)
            raise OcrError(f"PP-OCR: could not load {path.name}: {exc}") from exc
        listed = session.get_modelmeta().custom_metadata_map.get("character")
        if not listed:
            raise OcrError(f"PP-OCR: {path.name} carries no character list")
        chars = ["", *listed.splitlines(), " "]  # index 0 is the CTC blank, the last one the space
        out_classes = session.get_outputs()[0].shape[-1]
        if isinstance(out_classes, int) and out_classes != len(chars):
            raise OcrError(f"PP-OCR: {path.name} gives {out_classes} classes for {len(chars)} characters")
        return cls(session, chars)

    def read(self, gray: NDArray[np.uint8]) -> LineRead:
        """Read one text line (dark ink on light paper, any height); "" with confidence 0.0 for a line without ink."""
        return self.read_many([gray])[0]

    def read_many(self, lines: list[NDArray[np.uint8]]) -> list[LineRead]:
        """Read several lines, in batches of lines padded to the same width; the same results as `read` one by one."""
        out: list[LineRead] = [EMPTY] * len(lines)
        buckets: dict[int, list[tuple[int, int]]] = {}
        grays = [_as_gray(g) for g in lines]
        for i, g in enumerate(grays):
            if _blank(g):
                continue
            resized, width = _padded_width(*g.shape)
            buckets.setdefault(width, []).append((i, resized))
        for width, members in sorted(buckets.items()):
            for start in range(0, len(members), BATCH):
                chunk = members[start : start + BATCH]
                batch = np.stack([_normalised(grays[i], resized, width) for i, resized in chunk])
                probs = self._run(batch)
                for (i, _), p in zip(chunk, probs):
                    out[i] = self._decode(p)
        return out

    def _run(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        try:
            return np.asarray(self._session.run(None, {self._input: batch})[0], np.float32)
        except Exception as exc:  # onnxruntime's own error types
            raise OcrError(f"PP-OCR failed on a batch of {batch.shape[0]} lines {batch.shape[3]} px wide: {exc}") from exc

    def _decode(self, probs: NDArray[np.float32]) -> LineRead:
        """CTC greedy decode of one line's T×classes probabilities: best class per column, repeats merged, blanks dropped."""
        idx = probs.argmax(axis=1)
        best = probs.max(axis=1)
        keep = np.ones(len(idx), bool)
        keep[1:] = idx[1:] != idx[:-1]
        keep &= idx != 0
        starts = np.flatnonzero(keep)
        chars = [self._chars[int(k)] for k in idx[keep]]
        confs = [round(float(c), CONF_DIGITS) for c in best[keep]]
        digits = probs[:, self._digit_classes]
        spans = []
        for j in starts:  # the columns that emitted the character (a run of the same class)
            end = int(j)
            while end + 1 < len(idx) and idx[end + 1] == idx[j]:
                end += 1
            span = digits[int(j) : end + 1].max(axis=0)
            spans.append(tuple(round(float(p), CONF_DIGITS) for p in span))
        while chars and chars[0] == " ":  # spaces at the ends are padding read as space
            chars.pop(0)
            confs.pop(0)
            spans.pop(0)
        while chars and chars[-1] == " ":
            chars.pop()
            confs.pop()
            spans.pop()
        if not chars:
            return EMPTY
        return LineRead("".join(chars), round(float(np.mean(confs)), CONF_DIGITS), tuple(confs), tuple(spans))
