"""A born-digital form page as ingest gives it → read_digital's witnesses: characters, page and blank images."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pypdfium2 as pdfium
from numpy.typing import NDArray

from pipeline.model.geometry import px_per_pt
from pipeline.model.records import PageLayout
from pipeline.reading.read_digital import DIGITAL_DPI, PageReading, read_page
from pipeline.reading.text_anchor import FORM_PAGE_SHARE, print_share
from pipeline.sources.textlayer import Char, page_chars

if TYPE_CHECKING:
    from pipeline.sources.page import Page


@lru_cache(maxsize=64)
def blank_page(blank_pdf: str, number: int, dpi: int) -> tuple[NDArray[np.uint8], tuple[Char, ...]]:
    """The blank form page rendered once per process, with its own printed characters."""
    doc = pdfium.PdfDocument(blank_pdf)
    try:
        page = doc[number - 1]
        image = page.render(scale=px_per_pt(dpi), grayscale=True).to_numpy()
        chars = tuple(page_chars(page))
        return np.ascontiguousarray(image.reshape(image.shape[0], image.shape[1])), chars
    finally:
        doc.close()


def _to_gray(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    if image.ndim == 3:
        import cv2

        return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if image.shape[2] == 3 else cv2.COLOR_RGBA2GRAY), np.uint8)
    return image


def _fit(image: NDArray[np.uint8], shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """The page image at the blank's pixel size (rounding may differ by a pixel)."""
    if image.shape[:2] == shape[:2]:
        return image
    import cv2

    return np.asarray(cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA), np.uint8)


def page_gray(page: Page, shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """The page rendered grey at DIGITAL_DPI, at the blank's pixel size."""
    return _fit(_to_gray(page.image(DIGITAL_DPI)), shape)


def prints_the_form(page: Page, layout: PageLayout, blank_pdf: Path) -> bool:
    """Whether a page identified by the items it names really prints the form page's text (an attachment may quote items)."""
    if not blank_pdf.exists():
        return True  # nothing to compare with (a form folder without its blank): identification alone decides
    blank_chars = list(blank_page(str(blank_pdf), layout.number, DIGITAL_DPI)[1])
    return print_share(blank_chars, page.chars()) >= FORM_PAGE_SHARE


def read_digital_page(
    page: Page, layout: PageLayout, acro: dict[str, Any] | None, blank_pdf: Path, chars: list[Char] | None = None
) -> PageReading:
    """Read one identified born-digital (or AcroForm) page of a submission against its blank."""
    blank_image, blank_chars = blank_page(str(blank_pdf), layout.number, DIGITAL_DPI)
    image = page_gray(page, blank_image.shape)
    chars = page.chars() if chars is None else chars
    reading = read_page(layout, page.ref, chars, image, blank_image, acro, list(blank_chars), DIGITAL_DPI)
    return replace(reading, page_image=image, page_dpi=float(DIGITAL_DPI))
