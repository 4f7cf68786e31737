"""Fakes for unit tests: a scripted OCR engine that speaks pipeline.tools.tesseract's OcrEngine protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from pipeline.tools.tesseract import OcrLine

Script = Mapping[str, str | OcrLine] | Sequence[str | OcrLine] | Callable[[NDArray[np.uint8], str | None], str | OcrLine]


class FakeOcr:
    """Scripted OCR for tests: text per ``region`` name (mapping), in call order (sequence), or from a callable.

    Records every call in ``calls`` as (region, lang, whitelist, psm, shape). An unscripted call
    returns ``default`` (empty text, confidence 0).
    """

    def __init__(self, script: Script | None = None, *, default: str | OcrLine = "", confidence: float = 0.95) -> None:
        self.script = script
        self.default = default
        self.confidence = confidence
        self.calls: list[tuple[str | None, str, str | None, int, tuple[int, ...]]] = []
        self._next = 0

    def _line(self, value: str | OcrLine) -> OcrLine:
        return value if isinstance(value, OcrLine) else OcrLine(value, self.confidence if value else 0.0)

    def _read(self, gray: NDArray[np.uint8], lang: str, whitelist: str | None, psm: int, region: str | None) -> OcrLine:
        self.calls.append((region, lang, whitelist, psm, tuple(np.shape(gray))))
        s = self.script
        if callable(s):
            return self._line(s(gray, region))
        if isinstance(s, Mapping):
            return self._line(s.get(region or "", self.default))
        if s is not None and self._next < len(s):
            self._next += 1
            return self._line(s[self._next - 1])
        return self._line(self.default)

    def read_line(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None, psm: int = 7, region: str | None = None, alternatives: bool = True
    ) -> OcrLine:
        return self._read(gray, lang, whitelist, psm, region)

    def read_block(
        self, gray: NDArray[np.uint8], *, lang: str, whitelist: str | None = None, psm: int = 6, region: str | None = None
    ) -> OcrLine:
        return self._read(gray, lang, whitelist, psm, region)
