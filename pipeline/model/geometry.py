"""Boxes and the points <-> pixels arithmetic, written once.

Every bbox is [x0, y0, x1, y1] in PDF points (1/72 in) with the origin at the top left, as in
result.json. Pixels exist only inside reading/ and sources/; they cross over through these helpers.
"""

from __future__ import annotations

from collections.abc import Sequence

POINTS_PER_INCH = 72.0


def px_per_pt(dpi: float) -> float:
    """Pixels per PDF point at `dpi`."""
    return dpi / POINTS_PER_INCH


def pt_per_px(dpi: float) -> float:
    """PDF points per pixel at `dpi`."""
    return POINTS_PER_INCH / dpi


def pt_to_px(value_pt: float, dpi: float) -> float:
    """A length or coordinate in points, in pixels at `dpi` (not rounded)."""
    return value_pt * dpi / POINTS_PER_INCH


def px_to_pt(value_px: float, dpi: float) -> float:
    """A length or coordinate in pixels at `dpi`, in points."""
    return value_px * POINTS_PER_INCH / dpi


def bbox_to_px(bbox_pt: Sequence[float], dpi: float, pad_pt: float = 0.0) -> tuple[int, int, int, int]:
    """A bbox in points as whole pixels at `dpi`, grown by `pad_pt` on every side (floor/ceil outward)."""
    k = px_per_pt(dpi)
    x0, y0, x1, y1 = bbox_pt
    return (
        int((x0 - pad_pt) * k),
        int((y0 - pad_pt) * k),
        int(-(-((x1 + pad_pt) * k) // 1)),
        int(-(-((y1 + pad_pt) * k) // 1)),
    )


def bbox_to_pt(bbox_px: Sequence[float], dpi: float) -> tuple[float, float, float, float]:
    """A bbox in pixels at `dpi`, in points."""
    k = pt_per_px(dpi)
    x0, y0, x1, y1 = bbox_px
    return (x0 * k, y0 * k, x1 * k, y1 * k)


def size_px(width_pt: float, height_pt: float, dpi: float) -> tuple[int, int]:
    """A page or region of `width_pt` x `height_pt`, in whole pixels at `dpi` (rounded, at least 1)."""
    k = px_per_pt(dpi)
    return max(1, round(width_pt * k)), max(1, round(height_pt * k))


def area_in2(width_pt: float, height_pt: float) -> float:
    """Area in square inches of a `width_pt` x `height_pt` region."""
    return width_pt * height_pt / POINTS_PER_INCH**2
