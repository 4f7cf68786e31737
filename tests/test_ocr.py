"""tools/tesseract.py: the scripted engine, engine choice, and both real Tesseract engines on a rendered line."""

from __future__ import annotations

import os

import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.model.errors import PipelineError
from pipeline.reading.engines import Engines
from pipeline.tools.tesseract import OcrError, OcrLine, PytesseractEngine, TesserocrEngine, find_tessdata
from tests.fakes import FakeOcr

IPAEX_GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
LABEL_CHARS = "0123456789-「」"


def _line(text: str, size: int = 40) -> NDArray[np.uint8]:
    """A line of text rendered with IPAexGothic, ink dark on white."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(IPAEX_GOTHIC, size)
    img = Image.new("L", (int(size * 0.8 * len(text)) + 60, size + 40), 255)
    ImageDraw.Draw(img).text((24, 16), text, font=font, fill=0)
    return np.asarray(img, dtype=np.uint8)


def test_fake_ocr_scripts_by_region_order_and_callable() -> None:
    """Ensures that FakeOcr answers per region name, in call order, or from a callable, and records calls."""
    img = np.full((20, 40), 255, np.uint8)
    by_region = FakeOcr({"label": "1-1-1"})
    assert by_region.read_line(img, lang="jpn", whitelist="0123456789-", psm=7, region="label").text == "1-1-1"
    assert by_region.read_line(img, lang="jpn", whitelist=None, psm=7, region="other").text == ""
    assert by_region.calls[0] == ("label", "jpn", "0123456789-", 7, (20, 40))

    in_order = FakeOcr(["a", OcrLine("b", 0.3)], default="z")
    got = [in_order.read_block(img, lang="eng").text for _ in range(3)]
    assert got == ["a", "b", "z"]

    scripted = FakeOcr(lambda gray, region: f"{region}:{gray.shape[1]}", confidence=0.5)
    line = scripted.read_line(img, lang="eng", whitelist=None, psm=7, region="r")
    assert (line.text, line.confidence) == ("r:40", 0.5)


def test_engines_prefer_tesserocr_and_set_thread_limit() -> None:
    """Ensures that a process's engine is the in-process tesserocr one, loaded once, with OpenMP held to one thread."""
    engines = Engines()
    assert os.environ.get("OMP_THREAD_LIMIT") == "1"
    assert isinstance(engines.ocr(), TesserocrEngine)
    assert engines.ocr() is engines.ocr() is engines.capped(1).ocr()
    assert os.path.isfile(os.path.join(find_tessdata(), "eng.traineddata"))


def test_ocr_error_is_a_pipeline_error() -> None:
    """Ensures that OCR failures travel as PipelineError, so callers can degrade instead of crash."""
    assert issubclass(OcrError, PipelineError)


@pytest.mark.ocr
@pytest.mark.parametrize("lang", ["eng", "jpn"])
def test_tesserocr_reads_a_rendered_label(lang: str) -> None:
    """Ensures that the loaded tesserocr engine reads a typed label, with confidence and per-symbol output."""
    engine = TesserocrEngine()
    line = engine.read_line(_line("7-2-2"), lang=lang, whitelist=LABEL_CHARS, psm=7)
    assert line.text == "7-2-2"
    assert 0.5 < line.confidence <= 1.0
    assert [s.text for s in line.symbols] == list("7-2-2")
    assert all(0.0 <= s.confidence <= 1.0 for s in line.symbols)


@pytest.mark.ocr
def test_tesserocr_keeps_one_api_per_language_and_reads_each_mode_as_a_fresh_engine_would() -> None:
    """Ensures that jpn reads 項目 and brackets, that one loaded API serves every mode of a language, and that switching mode and alternatives on it reads as engines loaded for each would."""
    engine = TesserocrEngine()
    first = engine.read_line(_line("「項目1-1-1」"), lang="jpn", whitelist="0123456789-「」項目", psm=7)
    assert first.text == "「項目1-1-1」"
    calls = [
        (_line("1-1-2"), "jpn", None, 7, True),
        (_line("株式会社 3-1-4"), "jpn", None, 13, False),
        (_line("7-2-2"), "eng", LABEL_CHARS, 7, True),
        (_line("1-1-2"), "jpn", "0123456789-", 7, False),
        (_line("1-1-2"), "jpn", None, 6, True),
    ]
    shared = [engine.read_line(img, lang=lang, whitelist=wl, psm=psm, alternatives=alt) for img, lang, wl, psm, alt in calls]
    assert sorted(engine._apis) == ["eng", "jpn"]  # noqa: SLF001 - the point of the engine is this cache
    for (img, lang, wl, psm, alt), got in zip(calls, shared, strict=True):
        fresh = TesserocrEngine()
        assert fresh.read_line(img, lang=lang, whitelist=wl, psm=psm, alternatives=alt) == got, (psm, alt)
        fresh.close()
    engine.close()


@pytest.mark.ocr
def test_tesserocr_unknown_language_is_an_ocr_error() -> None:
    """Ensures that a missing language model surfaces as OcrError naming the language."""
    with pytest.raises(OcrError, match="xyz"):
        TesserocrEngine().read_line(_line("1"), lang="xyz", whitelist=None, psm=7)


@pytest.mark.ocr
def test_pytesseract_fallback_reads_the_same_line() -> None:
    """Ensures that the one-process-per-call fallback reads the label the same way."""
    line = PytesseractEngine(timeout_s=20).read_line(_line("3-1-6"), lang="eng", whitelist=LABEL_CHARS, psm=7)
    assert line.text == "3-1-6"
    assert 0.5 < line.confidence <= 1.0


@pytest.mark.ocr
def test_pytesseract_timeout_is_an_ocr_error() -> None:
    """Ensures that a Tesseract process that overruns its timeout is killed and reported as OcrError."""
    with pytest.raises(OcrError, match="timed out"):
        PytesseractEngine(timeout_s=0.001).read_block(_line("1-1-1 " * 8), lang="jpn")


def test_engines_refuse_colour_images() -> None:
    """Ensures that a colour or float image is refused before Tesseract sees it."""
    with pytest.raises(ValueError, match="grayscale"):
        TesserocrEngine().read_line(np.zeros((10, 10, 3), np.uint8), lang="eng", whitelist=None, psm=7)


@pytest.mark.parametrize(
    ("confidence", "second", "status", "calls"),
    [
        (0.95, "03-2790-1234", "read", 2),  # unsure, read again at another size: the same, so read
        (0.95, "03-2790-1284", "uncertain", 2),  # read again otherwise: uncertain, the first reading kept
        (0.85, "03-2790-1234", "uncertain", 1),  # under ocr_agree_mean: uncertain whatever a second read says, so none
    ],
)
def test_an_unsure_typed_line_is_read_again_only_where_that_decides(confidence: float, second: str, status: str, calls: int) -> None:
    """Ensures that a typed line Tesseract is unsure of (under ocr_sure_mean) is read again at another size and kept
    only when both reads agree, and that a line under ocr_agree_mean, uncertain either way, is not read again."""
    from pipeline.model.records import FieldLayout, PageRef
    from pipeline.reading.fields import read_text
    from pipeline.reading.marks import InkView
    from pipeline.reading.settings import FIELDS

    assert FIELDS.ocr_agree_mean <= 0.95 < FIELDS.ocr_sure_mean and FIELDS.ocr_handwritten < 0.85 < FIELDS.ocr_agree_mean
    fld = FieldLayout(name="applicant.tel", owner="applicant", kind="text", bbox=(72.0, 72.0, 504.0, 90.0), script="latin")
    blank = np.zeros((300, 800), np.float32)
    scan = blank.copy()
    scan[104:122, 110:400] = 0.6  # ink in the field at 100 dpi: it is read
    view = InkView(100.0, scan, blank, blank, None, blank)
    typed = _line("03-2790-1234", 30)

    def hires(f: FieldLayout, dpi: float) -> NDArray[np.uint8]:
        w, h = round((f.bbox[2] - f.bbox[0]) / 72 * dpi), round((f.bbox[3] - f.bbox[1]) / 72 * dpi)
        crop = np.full((h, w), 255, np.uint8)
        part = typed[: min(h, typed.shape[0]), : min(w, typed.shape[1])]
        crop[: part.shape[0], : part.shape[1]] = part
        return crop

    ocr = FakeOcr([OcrLine("03-2790-1234", confidence), OcrLine(second, confidence)])
    reading, _, crop = read_text(view, fld, PageRef("scan.pdf", 1), hires, ocr)
    assert (reading.status, reading.value) == (status, "03-2790-1234")
    assert (crop is None) == (status == "read")
    assert len(ocr.calls) == calls
