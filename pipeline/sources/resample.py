"""Shrinking page images by pixel area, fast for the factors scans come in; a decoded picture to its exact size.

OpenCV's INTER_AREA has a fast path only when the factor is an exact integer and the size an
exact multiple: 200 → 100 dpi of a 2339-row page (off by one) costs 16 ms instead of 0.5 ms,
and 150 → 100 dpi (2/3) always takes the slow path. Cutting the odd row and doing 2/3 as two
weighted row passes gives the same pixels (within one grey level) for a few ms.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
from numpy.typing import NDArray


def _rows_two_thirds(img: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Every 3 rows → 2, each new row the area average of 1.5 old ones (as INTER_AREA)."""
    n = img.shape[0] // 3
    r0, r1, r2 = img[0 : 3 * n : 3], img[1 : 3 * n : 3], img[2 : 3 * n : 3]
    out = np.empty((2 * n, *img.shape[1:]), img.dtype)
    out[0::2] = cv2.addWeighted(r0, 2 / 3, r1, 1 / 3, 0)
    out[1::2] = cv2.addWeighted(r1, 1 / 3, r2, 2 / 3, 0)
    return out


def exact_factor(factor: float, extent_px: int, within_px: float = 0.25) -> Fraction | None:
    """factor as a fraction with a denominator ≤ 8 (1/2, 2/3, …) if over extent_px pixels it is that, to within_px; else None."""
    exact = Fraction(factor).limit_denominator(8)
    return exact if abs(float(exact) - factor) * extent_px <= within_px else None


def shrink(img: NDArray[np.uint8], factor: float) -> NDArray[np.uint8]:
    """img scaled by factor (≤ 1) with area averaging; pixel (0, 0) stays at the origin.

    The size is the floor of the scaled size for the fast factors (1/2, 1/3, 1/4, 2/3: a
    partial last row or column is dropped) and the rounded size otherwise.
    """
    h, w = img.shape[:2]
    exact = exact_factor(factor, max(h, w))
    if exact is None or exact > 1:
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        return np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8)
    if exact == 1:
        return img
    if exact.numerator == 1:
        k = exact.denominator
        cut = img[: h // k * k, : w // k * k]
        return np.asarray(cv2.resize(cut, (w // k, h // k), interpolation=cv2.INTER_AREA), np.uint8)
    if exact == Fraction(2, 3) and img.ndim == 2:  # (transposing colour costs more than it saves)
        across = np.asarray(cv2.transpose(_rows_two_thirds(img)), np.uint8)
        return np.asarray(cv2.transpose(_rows_two_thirds(across)), np.uint8)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8)


def sized_array(arr: NDArray[np.uint8], width_px: int, height_px: int) -> NDArray[np.uint8]:
    """The decoded picture at exactly width_px × height_px, contiguous.

    A JPEG decoded at a reduced scale rounds its size up (1241 px for 1240 asked): a pixel or
    two is cut or repeated at the edge, not paid for with a resize of the whole page (7-40 ms).
    """
    h, w = arr.shape[:2]
    if (w, h) == (width_px, height_px):
        return np.ascontiguousarray(arr)
    if abs(w - width_px) <= 2 and abs(h - height_px) <= 2:
        arr = arr[:height_px, :width_px]
        pad = ((0, height_px - arr.shape[0]), (0, width_px - arr.shape[1])) + (((0, 0),) if arr.ndim == 3 else ())
        return np.pad(arr, pad, mode="edge") if any(p[1] for p in pad) else np.ascontiguousarray(arr)
    f = exact_factor(width_px / w, w, within_px=1.0)  # 1/2, 2/3, ...: a fast exact shrink, then evened
    if f is not None and f < 1 and abs(h * f - height_px) <= 1:
        return sized_array(shrink(np.ascontiguousarray(arr), float(f)), width_px, height_px)
    return np.asarray(cv2.resize(np.ascontiguousarray(arr), (width_px, height_px), interpolation=cv2.INTER_LINEAR), np.uint8)
