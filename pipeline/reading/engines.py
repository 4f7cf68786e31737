"""The heavy readers of one process — OCR engines, PP-OCR, the field-OCR thread pool, the digit classifier — built on first use.

The run creates one `Engines` per process and passes it down to the stages that read text
(scan fields, scanned labels); nothing here is module state. Loading stays lazy, so that
`--help` and `check-form` never import Tesseract or OpenCV: an engine is built the first time a
page asks for one, and then kept for every later page of the process (a loaded jpn model costs
0.3 s; a label line read on it 3–4 ms).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.reading.digits import DigitClassifier
    from pipeline.tools.ppocr import PPOcrRecognizer
    from pipeline.tools.tesseract import OcrEngine

log = logging.getLogger(__name__)


class Loaded:
    """What has been built so far, shared by every `Engines` view of one process (thread-safe)."""

    def __init__(
        self, ocr: OcrEngine | None = None, classifier: DigitClassifier | None = None, ppocr: PPOcrRecognizer | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._ocr = ocr
        self._classifier = classifier
        self._ppocr = ppocr
        self._extra: list[OcrEngine] = []  # more engines like _ocr, one per further field-OCR thread
        self._pool: ThreadPoolExecutor | None = None
        self._aside: ThreadPoolExecutor | None = None
        self._preloading = False

    def ocr(self) -> OcrEngine:
        with self._lock:
            if self._ocr is None:  # a failed load is not kept: the next page asks again
                from pipeline.tools.tesseract import load_engine

                self._ocr = load_engine()
            return self._ocr

    def classifier(self) -> DigitClassifier:
        with self._lock:
            if self._classifier is None:
                from pipeline.reading.digits import DigitClassifier

                self._classifier = DigitClassifier.load()
            return self._classifier

    def ppocr(self) -> PPOcrRecognizer:
        with self._lock:
            if self._ppocr is None:  # a failed load (OcrError) is not kept either
                from pipeline.reading.cache import cache_dir
                from pipeline.tools.ppocr import PPOcrRecognizer

                self._ppocr = PPOcrRecognizer.load(threads=1, keep_in=cache_dir())  # optimised once, kept for later processes
            return self._ppocr

    def more_engines(self, engine: OcrEngine | None, n: int) -> list[OcrEngine | None]:
        """`engine` and n-1 more loaded engines of the same kind (kept for the process).

        Only the in-process Tesseract engine is multiplied (it releases the GIL while it reads:
        two threads read 40 lines in 0.49 s instead of 0.85 s here); any other engine — the
        one-process-per-call fallback, a scripted test engine — is used alone.
        """
        from pipeline.tools.tesseract import TesserocrEngine

        if n <= 1 or type(engine) is not TesserocrEngine:
            return [engine]
        with self._lock:
            while len(self._extra) < n - 1:
                self._extra.append(TesserocrEngine())
            return [engine, *self._extra[: n - 1]]

    def aside(self) -> ThreadPoolExecutor:
        """One thread, kept for the process, for work a page hands off while the next page is read (labels)."""
        with self._lock:
            if self._aside is None:
                self._aside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aside")
            return self._aside

    def first_preload(self) -> bool:
        """True the first time it is asked in the process (Engines.preload runs once), False after."""
        with self._lock:
            first, self._preloading = not self._preloading, True
            return first

    def pool(self, n: int) -> ThreadPoolExecutor:
        """A thread pool of at least n workers, grown once and kept for the process."""
        with self._lock:
            if self._pool is None or self._pool._max_workers < n:  # noqa: SLF001 - grow once, keep for the process
                self._pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="field-ocr")
            return self._pool


@dataclass(frozen=True, slots=True)
class Engines:
    """The readers a process has loaded, and how many threads a page's field OCR may use.

    `ocr_threads` caps the field-OCR threads (None: FieldDefaults.ocr_threads alone decides). A
    batch spreads submissions over cores (--jobs): each worker then keeps to one core, or --jobs 1
    would quietly use two and --jobs 2 would fight over them. `capped` gives another cap over the
    same loaded engines.
    """

    ocr_threads: int | None = None
    loaded: Loaded = field(default_factory=Loaded, compare=False, repr=False)

    @classmethod
    def using(
        cls,
        ocr: OcrEngine | None = None,
        classifier: DigitClassifier | None = None,
        *,
        ocr_threads: int | None = None,
        ppocr: PPOcrRecognizer | None = None,
    ) -> Engines:
        """Engines that read with the given OCR engine, classifier and PP-OCR (scripted ones in tests); the rest built on use."""
        return cls(ocr_threads, Loaded(ocr, classifier, ppocr))

    def capped(self, ocr_threads: int | None) -> Engines:
        """The same loaded engines with another field-OCR thread cap."""
        return replace(self, ocr_threads=ocr_threads)

    def ocr(self) -> OcrEngine:
        """The OCR engine: tesserocr when it imports, else the tesseract program; raises OcrError when neither can run."""
        return self.loaded.ocr()

    def classifier(self) -> DigitClassifier:
        """The digit classifier: the shipped CNN (reading/digit_cnn.onnx); the SVC, loaded from its cache or trained, only when the CNN cannot load."""
        return self.loaded.classifier()

    def ppocr(self) -> PPOcrRecognizer:
        """The PP-OCRv6 line recognizer (the second reader of written fields); raises OcrError when it cannot load."""
        return self.loaded.ppocr()

    def field_threads(self, wanted: int) -> int:
        """How many threads a page's field OCR runs on: `wanted`, held to the cap."""
        return wanted if self.ocr_threads is None else min(wanted, self.ocr_threads)

    def field_engines(self, engine: OcrEngine | None, n: int) -> list[OcrEngine | None]:
        """One engine per field-OCR thread: `engine` and n-1 more of its kind (only tesserocr is multiplied)."""
        return self.loaded.more_engines(engine, n)

    def field_pool(self, n: int) -> ThreadPoolExecutor:
        """The process's field-OCR thread pool, with at least n workers."""
        return self.loaded.pool(n)

    def aside_pool(self) -> ThreadPoolExecutor | None:
        """A thread to read a page's label on while the next page is read; None when the run keeps to one thread (the cap)."""
        return self.loaded.aside() if self.field_threads(2) >= 2 else None

    def preload(self) -> None:
        """Load the scan readers' models on the aside thread, once a process, while the first scanned page is decoded and registered.

        Tesseract's jpn and eng (fields, labels), PP-OCR and the digit classifier: ~0.3-0.4 s of
        loads a scanned submission pays before its first field or label is read, now beside that
        page's registration on the second core. Only when the run may use two threads; a load that
        fails there is left to the reader that asks for it next (it tries again and reports it).
        """
        pool = self.aside_pool()
        if pool is not None and self.loaded.first_preload():
            pool.submit(self._preload)

    def _preload(self) -> None:
        for load in (lambda: getattr(self.ocr(), "preload", lambda _langs: None)(("jpn", "eng")), self.ppocr, self.classifier):
            try:
                load()
            except Exception as exc:  # noqa: BLE001 - the reader that needs it loads it again and reports the failure
                log.debug("preloading a reader failed: %s", exc)


__all__ = ["Engines", "Loaded"]
