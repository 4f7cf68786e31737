"""run/crops.py: the form pages' pictures encoded on two threads are the files and entries encoded on one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pipeline.model.records import PageRef
from pipeline.run.crops import PAGE_IMAGE_DPI, FormPageImage, save_page_images


def _pages() -> dict[int, FormPageImage]:
    rng = np.random.default_rng(88434)
    out = {}
    for number, dpi in ((3, 100.0), (1, 200.0), (12, 150.0), (7, PAGE_IMAGE_DPI)):
        h, w = round(11.69 * dpi), round(8.27 * dpi)
        image = rng.integers(180, 256, (h, w), dtype=np.uint8)
        image[h // 3 : h // 3 + 4, 20 : w - 20] = 0  # a rule, so that each page differs in more than noise
        out[number] = FormPageImage(number, PageRef("scan.pdf", number + 1), image, dpi, 595.0, 842.0)
    return out


def test_pages_saved_on_threads_are_the_pages_saved_in_turn(tmp_path: Path) -> None:
    """Ensures that with a pool every page image is the same PNG, under the same name, with the same entry, in form-page order, and a stale page is still removed."""
    pages = _pages()
    one, two = tmp_path / "one", tmp_path / "two"
    for out in (one, two):
        (out / "pages").mkdir(parents=True)
        (out / "pages" / "9.png").write_bytes(b"a page an earlier run found")
    in_turn = save_page_images(pages, one)
    with ThreadPoolExecutor(2) as pool:
        threaded = save_page_images(pages, two, pool)
    assert threaded == in_turn
    assert [e["form_page"] for e in threaded] == [1, 3, 7, 12]
    assert {e["form_page"]: e["dpi"] for e in threaded} == {1: PAGE_IMAGE_DPI, 3: 100.0, 7: PAGE_IMAGE_DPI, 12: PAGE_IMAGE_DPI}
    names = sorted(p.name for p in (two / "pages").iterdir())
    assert names == ["1.png", "12.png", "3.png", "7.png"] == sorted(p.name for p in (one / "pages").iterdir())
    for name in names:
        assert (one / "pages" / name).read_bytes() == (two / "pages" / name).read_bytes()
