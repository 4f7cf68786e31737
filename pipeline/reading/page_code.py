"""Where our printing puts a page's QR code, and finding it there on the blank: a small region, not the whole page.

Our printing (form/printing/blank.py) draws the page code's QR code at the top of the page, its
right side 12 pt left of the top-right corner mark, its top level with the mark's top, and the
code's text under it. So the region is known from the layout's corner marks (`anchors`) alone:
rendering and decoding that region costs a few ms a page, where decoding a rendered quarter page
cost ~80 ms (15 blank pages: 1.29 s against 0.22 s on the same loaded machine, 15 of 15 found).
Boxes in points, origin top left.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from pipeline.model.geometry import pt_per_px, px_per_pt
from pipeline.model.records import BBox, PageLayout

# The region searched, in points from the top-right mark: as wide and tall as the largest QR code
# a page code needs (version 3, 29 modules of 1.6 pt = 46 pt) with room for the 12 pt gap and a
# printing moved by a few points.
REGION_PT = 110.0
REGION_TOP_PAD_PT = 4.0


def qr_region(layout: PageLayout) -> BBox | None:
    """The box (points) where our printing puts the page's QR code; None for a page without corner marks."""
    if not layout.anchors:
        return None
    top_right = max(layout.anchors, key=lambda a: a[0] - a[1])  # furthest right and up
    x1, y0 = top_right[0], max(0.0, top_right[1] - REGION_TOP_PAD_PT)
    return (max(0.0, x1 - REGION_PT), y0, x1, min(layout.height_pt, y0 + REGION_PT))


def find_qr_box(pdf_page: Any, layout: PageLayout, dpi: float = 200.0) -> BBox | None:
    """The QR code's box on the blank (points), decoded from the region of `qr_region` only; None when not found there.

    `pdf_page` is a pypdfium2 page of the blank. A caller may then search more of the page.
    """
    region = qr_region(layout)
    if region is None or not layout.code:
        return None
    width, height = pdf_page.get_size()
    x0, y0, x1, y1 = region
    bmp = pdf_page.render(scale=px_per_pt(dpi), crop=(x0, height - y1, width - x1, y0), grayscale=True).to_numpy()
    gray = np.ascontiguousarray(bmp if bmp.ndim == 2 else bmp[:, :, 0])
    try:
        text, pts, _ = cv2.QRCodeDetector().detectAndDecode(gray)
    except cv2.error:
        return None
    if text != layout.code or pts is None:
        return None
    p = pts.reshape(-1, 2)
    k = pt_per_px(dpi)
    return (float(x0 + p[:, 0].min() * k), float(y0 + p[:, 1].min() * k), float(x0 + p[:, 0].max() * k), float(y0 + p[:, 1].max() * k))
