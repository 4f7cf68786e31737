"""tools/ppocr.py: the PP-OCR model optimised once for this machine, kept, and read back by later processes with the same outputs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.tools.ppocr import MODEL_NAME, PPOcrRecognizer

pytestmark = pytest.mark.ocr

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
HAND = "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf"
TEXTS = ["東都ネットワーク株式会社", "A-11-5340", "03-1011-2650", "info@example.co.jp", "令和6年4月1日", "さくらBB"]


def _line(text: str, font: str, size: int, noise: int) -> NDArray[np.uint8]:
    """`text` in `font`, dark on light, with some grey noise (a scan's): the model's probabilities are not all near 1."""
    from PIL import Image, ImageDraw, ImageFont

    f = ImageFont.truetype(font, size)
    x0, y0, x1, y1 = f.getbbox(text)
    img = Image.new("L", (x1 - x0 + 40, y1 - y0 + 30), 255)
    ImageDraw.Draw(img).text((20 - x0, 15 - y0), text, font=f, fill=40)
    arr = np.asarray(img, dtype=np.int16) + np.random.default_rng(noise).integers(-noise, noise + 1, (img.height, img.width))
    return np.clip(arr, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def lines() -> list[NDArray[np.uint8]]:
    fonts = [f for f in (FONT, HAND) if Path(f).is_file()]
    if not fonts:
        pytest.skip("no Japanese font installed")
    return [_line(t, font, size, noise) for font in fonts for t in TEXTS for size, noise in ((22, 60), (40, 90))]


def test_the_kept_optimised_model_reads_as_the_model_itself(tmp_path: Path, lines: list[NDArray[np.uint8]]) -> None:
    """Ensures that the optimised model is kept on first load and loaded by the next, and that both read every line exactly as the model optimised in the process does."""
    fresh = PPOcrRecognizer.load().read_many(lines)
    assert any(0.0 < r.confidence < 0.999 for r in fresh)  # probabilities that would show a difference
    first = PPOcrRecognizer.load(keep_in=tmp_path)
    kept = list(tmp_path.glob("ppocr-*.onnx"))
    assert len(kept) == 1 and not list(tmp_path.glob(".*tmp"))
    made = kept[0].stat().st_mtime_ns
    second = PPOcrRecognizer.load(keep_in=tmp_path)
    assert kept[0].stat().st_mtime_ns == made  # loaded, not made again
    assert first.read_many(lines) == fresh
    assert second.read_many(lines) == fresh
    assert [second.read(g) for g in lines[:3]] == fresh[:3]


def test_a_kept_model_that_does_not_load_is_made_again(tmp_path: Path, lines: list[NDArray[np.uint8]], caplog) -> None:
    """Ensures that a damaged kept model is logged and replaced by a good one, and the lines still read as the model itself reads them."""
    PPOcrRecognizer.load(keep_in=tmp_path)
    (kept,) = tmp_path.glob("ppocr-*.onnx")
    kept.write_bytes(b"not an onnx model")
    stale = tmp_path / f"ppocr-{Path(MODEL_NAME).stem}-{'0' * 16}.onnx"  # kept by another onnxruntime version
    stale.write_bytes(b"an older onnxruntime's optimised model")
    with caplog.at_level(logging.WARNING, logger="pipeline.tools.ppocr"):
        again = PPOcrRecognizer.load(keep_in=tmp_path)
    assert "does not load" in caplog.text
    assert kept.stat().st_size > 1_000_000
    assert list(tmp_path.glob("ppocr-*.onnx")) == [kept]  # the other version's copy removed when this one was made
    assert again.read_many(lines[:4]) == PPOcrRecognizer.load().read_many(lines[:4])


def test_a_folder_that_cannot_be_written_only_costs_the_optimising(tmp_path: Path, lines: list[NDArray[np.uint8]]) -> None:
    """Ensures that a keep folder that cannot be made (a file in its way) still gives a working reader, and leaves nothing behind."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    reader = PPOcrRecognizer.load(keep_in=blocker / "cache")
    assert reader.read(lines[3]).text == "A-11-5340"  # TEXTS[1] at 40 px
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
