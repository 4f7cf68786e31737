"""reading/engines.py: the scan readers' models loaded on the aside thread before a page asks, once a process, only when two threads are allowed."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.reading import digits
from pipeline.reading.engines import Engines
from pipeline.tools import ppocr, tesseract

pytestmark = pytest.mark.ocr


def _no_more_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, any model load fails: what a reader gives now was loaded before."""

    def refuse(*_a: object, **_k: object) -> object:
        raise RuntimeError("loaded again")

    import tesserocr

    monkeypatch.setattr(tesserocr, "PyTessBaseAPI", refuse)
    monkeypatch.setattr(ppocr.PPOcrRecognizer, "load", classmethod(lambda cls, *a, **k: refuse()))
    monkeypatch.setattr(digits.DigitClassifier, "load", classmethod(lambda cls, *a, **k: refuse()))


def _line() -> np.ndarray:
    img = np.full((40, 160), 255, np.uint8)
    img[12:28, 20:24] = 0  # a stroke
    return img


def test_preload_loads_every_scan_reader_before_it_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that after preload (two threads allowed) Tesseract's jpn and eng, PP-OCR and the digit classifier read without loading anything, and that preload runs once."""
    engines = Engines()
    engines.preload()
    pool = engines.aside_pool()
    assert pool is not None
    pool.submit(lambda: None).result()  # the aside thread is one worker: the preload is done
    assert not engines.loaded.first_preload()  # asked once already
    _no_more_loads(monkeypatch)
    engine = engines.ocr()
    assert isinstance(engine, tesseract.TesserocrEngine)
    for lang in ("jpn", "eng"):
        engine.read_line(_line(), lang=lang, whitelist=None, psm=7, alternatives=False)
    assert engines.ppocr().read(_line()) is not None
    assert engines.classifier() is not None


def test_no_preload_when_the_run_keeps_to_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that with the cap at one thread (a pool of workers) preload loads nothing: a reader asked afterwards still has to load."""
    engines = Engines().capped(1)
    engines.preload()
    assert engines.aside_pool() is None
    _no_more_loads(monkeypatch)
    with pytest.raises(Exception, match="loaded again"):
        engines.ppocr()
