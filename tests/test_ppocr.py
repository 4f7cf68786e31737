"""tools/ppocr.py: the PP-OCRv6 line recognizer on lines rendered in a Japanese font and in two handwriting fonts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.model.errors import OcrError
from pipeline.reading.engines import Engines
from pipeline.tools import ppocr
from pipeline.tools.ppocr import LineRead, PPOcrRecognizer

pytestmark = pytest.mark.ocr

# fc-list: fonts-ipaexfont, fonts-klee (Klee One), fonts-kiloji (きろ字)
FONTS = {
    "ipaex": "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "klee": "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
    "kiloji": "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
}
LINES = ["東都ネットワーク株式会社", "A-11-5340", "さくらBB", "03-1011-2650", "info@example.co.jp", "令和6年4月1日"]


def _line(text: str, font: str, size: int = 40) -> NDArray[np.uint8]:
    """`text` rendered in `font`, ink dark on white, with a margin."""
    from PIL import Image, ImageDraw, ImageFont

    f = ImageFont.truetype(font, size)
    x0, y0, x1, y1 = f.getbbox(text)
    img = Image.new("L", (x1 - x0 + 40, y1 - y0 + 30), 255)
    ImageDraw.Draw(img).text((20 - x0, 15 - y0), text, font=f, fill=0)
    return np.asarray(img, dtype=np.uint8)


@pytest.fixture(scope="module")
def reader() -> PPOcrRecognizer:
    return PPOcrRecognizer.load()


@pytest.mark.parametrize("font", sorted(FONTS))
def test_reads_rendered_lines_exactly(reader: PPOcrRecognizer, font: str) -> None:
    """Ensures that lines in a typed Japanese font and in two handwriting fonts read exactly, with high confidence."""
    if not Path(FONTS[font]).is_file():
        pytest.skip(f"font not installed: {FONTS[font]}")
    for text in LINES:
        got = reader.read(_line(text, FONTS[font]))
        assert got.text == text, (font, text, got)
        assert len(got.char_confidences) == len(got.text)
        assert got.confidence == pytest.approx(float(np.mean(got.char_confidences)), abs=1e-4)
        assert got.confidence > 0.9


def test_reads_small_and_tall_lines(reader: PPOcrRecognizer) -> None:
    """Ensures that the line is read at any height (it is resized to the model's 48 px)."""
    for size in (18, 90):
        assert reader.read(_line("A-11-5340", FONTS["ipaex"], size)).text == "A-11-5340"


def test_blank_line_reads_empty(reader: PPOcrRecognizer) -> None:
    """Ensures that a white line, a faint smudge and an empty array read "" with confidence 0."""
    faint = np.full((40, 300), 255, np.uint8)
    faint[18:22, 100:140] = 235
    for gray in (np.full((40, 300), 255, np.uint8), faint, np.zeros((0, 0), np.uint8)):
        assert reader.read(gray) == LineRead("", 0.0, ())


def test_read_many_equals_read(reader: PPOcrRecognizer) -> None:
    """Ensures that a batch of lines (of mixed widths, with a blank among them) reads as each line alone."""
    lines = [_line(t, FONTS[f]) for f in ("ipaex", "klee") for t in LINES] + [np.full((30, 200), 255, np.uint8)]
    many = reader.read_many(lines)
    assert many == [reader.read(g) for g in lines]
    assert many[0].text == LINES[0] and many[-1].text == ""
    assert reader.read_many([]) == []


def test_rejects_colour_input(reader: PPOcrRecognizer) -> None:
    """Ensures that a colour image is refused (the stages pass grey lines)."""
    with pytest.raises(ValueError):
        reader.read(np.full((40, 100, 3), 255, np.uint8))


def test_missing_model_is_an_ocr_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that a missing model file surfaces as OcrError, which callers turn into uncertain readings."""
    monkeypatch.setattr(ppocr, "MODEL_NAME", "no-such-model.onnx")
    with pytest.raises(OcrError, match="model file missing"):
        PPOcrRecognizer.load()


def test_engines_load_ppocr_once() -> None:
    """Ensures that a process loads one PP-OCR recognizer, shared by every view of its engines."""
    engines = Engines()
    first = engines.ppocr()
    assert isinstance(first, PPOcrRecognizer)
    assert engines.capped(1).ppocr() is first
