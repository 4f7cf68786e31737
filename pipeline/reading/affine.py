"""2x3 affine transforms between pixel frames (blank px, scan px, turned and scaled views): composing, turning, warping.

A matrix maps points of one frame to the other as [x', y'] = M @ [x, y, 1]; pixels are at the
frame's own dpi, origin top left. Registration's matrix maps blank px to scan px.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def scaling(factor: float) -> NDArray[np.float64]:
    """The 2x3 affine that scales by `factor` about the origin (one frame's px to another dpi's)."""
    return np.array([[factor, 0, 0], [0, factor, 0]], float)


def turn_points(k: int, w: int, h: int) -> NDArray[np.float64]:
    """2x3 affine taking points of np.rot90(img, k) back to points of img (img is h x w)."""
    k %= 4
    if k == 0:
        return np.array([[1, 0, 0], [0, 1, 0]], float)
    if k == 1:  # rot90 ccw: u = (y, w - x) → x = w - v, y = u
        return np.array([[0, -1, w], [1, 0, 0]], float)
    if k == 2:
        return np.array([[-1, 0, w], [0, -1, h]], float)
    return np.array([[0, 1, 0], [-1, 0, h]], float)  # k == 3: x = v, y = h - u


def compose(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """a ∘ b for 2x3 affines (apply b, then a)."""
    a3 = np.vstack([a, [0, 0, 1]])
    b3 = np.vstack([b, [0, 0, 1]])
    return (a3 @ b3)[:2]


def aligned_view(image: NDArray[np.uint8], matrix: NDArray[np.float64], size: tuple[int, int], scale: float = 1.0, border: int = 255) -> NDArray[np.uint8]:
    """The scan resampled into the blank's frame: `size` (w, h) px at scale × the registration dpi."""
    m = matrix.copy()
    if scale != 1.0:  # output px → blank px at dpi → scan px at dpi → scan px in `image`
        m = compose(np.array([[scale, 0, 0], [0, scale, 0]], float), compose(m, np.array([[1 / scale, 0, 0], [0, 1 / scale, 0]], float)))
    bv = (border,) * (image.shape[2] if image.ndim == 3 else 1)
    return np.asarray(cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=bv), np.uint8)
