"""PDF user space → the page as displayed: the crop box turned by /Rotate, origin top left, y down."""

from __future__ import annotations

from pipeline.model.records import BBox

Affine = tuple[float, float, float, float, float, float]  # (a, b, c, d, e, f), see display_affine


def display_affine(bbox: tuple[float, float, float, float], rotation: int) -> Affine:
    """(a, b, c, d, e, f) with X = a·x + c·y + e, Y = b·x + d·y + f: page space → displayed page.

    The displayed page is the crop box turned clockwise by /Rotate, origin top left, y down.
    """
    x0, y0, x1, y1 = bbox
    if rotation == 90:
        return (0.0, 1.0, 1.0, 0.0, -y0, -x0)
    if rotation == 180:
        return (-1.0, 0.0, 0.0, 1.0, x1, -y0)
    if rotation == 270:
        return (0.0, -1.0, -1.0, 0.0, y1, x1)
    return (1.0, 0.0, 0.0, -1.0, -x0, y1)


def apply_affine(m: Affine, x0: float, y0: float, x1: float, y1: float) -> BBox:
    """The box spanned by (x0, y0) and (x1, y1) in page space, on the displayed page."""
    a, b, c, d, e, f = m
    xs = (a * x0 + c * y0 + e, a * x1 + c * y1 + e)
    ys = (b * x0 + d * y0 + f, b * x1 + d * y1 + f)
    return (min(xs), min(ys), max(xs), max(ys))


def page_space_box(m: Affine, bbox: BBox) -> BBox | None:
    """A displayed-page bbox back in PDF user space (left, bottom, right, top order as min/max); None if m is singular."""
    a, b, c, d, e, f = m
    det = a * d - b * c
    if abs(det) < 1e-12:
        return None
    # invert the page → display affine to find the region in PDF user space
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    corners = [(x - e, y - f) for x in (bbox[0], bbox[2]) for y in (bbox[1], bbox[3])]
    xs = [ia * x + ic * y for x, y in corners]
    ys = [ib * x + id_ * y for x, y in corners]
    return (min(xs), min(ys), max(xs), max(ys))
