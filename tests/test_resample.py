"""pipeline.sources.resample: the fast area shrinks give the pixels OpenCV's INTER_AREA gives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.sources.resample import shrink


@pytest.mark.parametrize(("shape", "factor"), [((2339, 1654), 0.5), ((1754, 1241), 100 / 150.0000024), ((1169, 827, 3), 0.125), ((700, 500), 0.7)])
def test_shrink_matches_area_averaging(shape, factor):
    """Ensures that every path of shrink (exact 1/k, two row passes for 2/3, the general case) equals INTER_AREA within one grey level."""
    rng = np.random.default_rng(7)
    img = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 1.0)  # scan-like: neighbours correlate
    out = shrink(img, factor)
    h, w = out.shape[:2]
    # at most the last partial group of rows or columns is dropped (2 of 3 for 2/3: 1.33 px)
    assert -0.5 < shape[0] * factor - h < 1.34 and -0.5 < shape[1] * factor - w < 1.34
    used = img[: round(h / factor), : round(w / factor)]  # the rows and columns the output covers
    want = cv2.resize(used, (w, h), interpolation=cv2.INTER_AREA)
    assert np.abs(out.astype(int) - want.astype(int)).max() <= 1


def test_shrink_by_one_is_the_image_itself():
    """Ensures that a page already at the wanted resolution is not copied or resampled."""
    img = np.zeros((10, 10), np.uint8)
    assert shrink(img, 1.0) is img


@pytest.mark.parametrize("how", list(Image.Transpose))
def test_array_transposes_match_pillow(how):
    """Ensures that a JPEG pulled from a rotated or mirrored PDF page is turned as Pillow would turn it."""
    from pipeline.sources.pull import np_transpose

    a = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(5, 3, 3)
    want = np.asarray(Image.fromarray(a).transpose(how))
    assert np.array_equal(np_transpose(a, how), want)
