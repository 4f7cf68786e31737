"""sources: a scanned PDF page asked for twice (read, then its label at 200 dpi) is decoded once, with the same pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.sources import ingest, pull
from pipeline.sources.limits import Limits


def _scan_pdf(path: Path, mode: str) -> Path:
    """A two-page 'scan': 300 dpi JPEG pages (A4) of noise and strokes, as a scanner's PDF holds them."""
    rng = np.random.default_rng(88431)
    pages = []
    for k in range(2):
        grey = rng.integers(150, 256, (3508, 2480), dtype=np.uint8)
        grey[400 + 300 * k : 420 + 300 * k, 200:2200] = 20  # a line of print, elsewhere on each page
        img = Image.fromarray(grey)
        pages.append(img.convert("RGB") if mode == "RGB" else img)
    pages[0].save(path, "PDF", resolution=300, save_all=True, append_images=pages[1:], quality=85)
    return path


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_page_asked_for_again_is_the_same_pixels_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """Ensures that the label's 200 dpi picture of a page read before is exactly what a fresh decode gives, without decoding the JPEG again, and that a caller's change to one picture reaches no other."""
    pdf = _scan_pdf(tmp_path / "scan.pdf", mode)
    with ingest.open_source(pdf, pdf.name, Limits()) as fresh:
        want_label = [p.image(200) for p in fresh.pages]
        want_read = [p.image(300, gray=mode == "L") for p in fresh.pages]
    calls = []
    real = pull.cv2.imdecode

    def counted(buf, flags):  # type: ignore[no-untyped-def]
        calls.append(flags)
        return real(buf, flags)

    monkeypatch.setattr(pull.cv2, "imdecode", counted)
    with ingest.open_source(pdf, pdf.name, Limits()) as opened:
        first, second = opened.pages
        read = first.image(300, gray=mode == "L")
        assert np.array_equal(read, want_read[0])
        read[:] = 0  # the reader may write into its own picture
        label = first.image(200)
        assert np.array_equal(label, want_label[0]) and label.shape == (2339, 1653)
        assert len(calls) == (1 if mode == "L" else 2)  # a colour page read in colour is decoded grey for its label
        assert np.array_equal(second.image(200), want_label[1])  # another page: its own pixels, not the last page's
        assert np.array_equal(second.image(300, gray=mode == "L"), want_read[1])
        assert np.array_equal(first.image(200), want_label[0])
