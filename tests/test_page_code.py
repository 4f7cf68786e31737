"""The page code's QR code found on the blank from the small region our printing puts it in (reading/page_code.py)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest

from pipeline.form.definition import load_form
from pipeline.reading.page_code import find_qr_box, qr_region
from pipeline.reading.references import references

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ours():
    return load_form(REPO / "forms" / "renewal")


def test_every_blank_page_code_is_found_in_its_region_where_the_whole_page_search_finds_it(ours):
    """Ensures that the region search finds each page's QR code, at the box the whole-page search finds (within 1 pt), inside the region."""
    refs = {r.layout.number: r for r in references(ours)}
    doc = pdfium.PdfDocument(ours.blank_pdf)
    try:
        for layout in ours.pages:
            box = find_qr_box(doc[layout.number - 1], layout)
            assert box is not None, f"page {layout.number}: not found in {qr_region(layout)}"
            whole = refs[layout.number].qr_bbox
            assert whole is not None
            assert max(abs(a - b) for a, b in zip(box, whole)) < 1.0, (box, whole)
            region = qr_region(layout)
            assert region[0] <= box[0] and box[2] <= region[2] and region[1] <= box[1] and box[3] <= region[3]
    finally:
        doc.close()


def test_a_printing_without_marks_has_no_region(alt):
    """Ensures that a calibrated printing (no corner marks, no code) is not searched."""
    assert all(qr_region(p) is None for p in alt.pages)


def test_blank_pages_are_prepared_without_their_qr_codes_and_text_layers_which_are_read_when_first_asked(ours, monkeypatch):
    """Ensures that preparing the blank pages decodes no QR code and reads no text layer (most scans need neither), and that a page asked for them reads them once, the same as before."""
    import pipeline.reading.references as prepared

    calls = {"qr": 0, "text": 0}
    find, chars = prepared.find_qr_box, prepared.page_chars

    def counted_find(*args, **kwargs):
        calls["qr"] += 1
        return find(*args, **kwargs)

    def counted_chars(*args, **kwargs):
        calls["text"] += 1
        return chars(*args, **kwargs)

    monkeypatch.setattr(prepared, "find_qr_box", counted_find)
    monkeypatch.setattr(prepared, "page_chars", counted_chars)
    monkeypatch.setattr(prepared, "_CACHE", {})
    refs = references(ours)
    assert calls == {"qr": 0, "text": 0}
    page = refs[0]
    box, printed = page.qr_bbox, page.printed
    assert box is not None and any(ch.strip() for ch, _ in printed)
    assert (page.qr_bbox, page.printed) == (box, printed) and calls == {"qr": 1, "text": 1}
    doc = pdfium.PdfDocument(ours.blank_pdf)
    try:
        assert box == find(doc[page.layout.number - 1], page.layout)
    finally:
        doc.close()
