"""The page test before registration (reading/page_gate.py): form pages pass however scanned, other pages go without feature matching."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.form.definition import load_form
from pipeline.reading import register as register_module
from pipeline.reading.engines import Engines
from pipeline.reading.page_gate import could_be_form_page, mark_centres
from pipeline.reading.scan import read_scan_detail
from pipeline.reading.settings import REGISTER
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits
from samples.synth.scans import GenOptions, generate, write_pdf
from tests.fakes import FakeOcr

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ours():
    return load_form(REPO / "forms" / "renewal")


def _grey_at_work_dpi(image: np.ndarray, dpi: int) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    f = REGISTER.work_dpi / dpi
    return np.asarray(cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), np.uint8)


@pytest.mark.parametrize(
    ("seed", "dpi", "mode", "upside_down", "sideways"),
    [(89001, 150, "bw", 1, 0), (89002, 300, "gray", 0, 2), (89003, 200, "color", 2, 1)],
)
def test_form_pages_pass_however_scanned(ours, seed, dpi, mode, upside_down, sideways):
    """Ensures that every scanned page of our printing passes — at 150 to 300 dpi, black and white to colour, turned 90 or 180°, skewed — and that a page of another document's text does not."""
    opts = GenOptions(dpi=dpi, mode=mode, upside_down=upside_down, sideways=sideways, extra_pages=("text", "text"))
    pages, _ = generate(ours, seed, opts)
    for page in pages:
        verdict = could_be_form_page(_grey_at_work_dpi(page.image, dpi), ours)
        if page.form_page is None:
            assert not verdict.passed, f"a {page.kind} page passed: {verdict.why}"
        else:
            assert verdict.passed, f"form page {page.form_page} (rotation {page.spec.rotation}) rejected: {verdict.why}"
            assert verdict.why == "corner marks"


def test_marks_are_found_where_the_layout_prints_them(ours):
    """Ensures that the squares found on a clean page are the layout's four corner marks, at their places."""
    pages, _ = generate(ours, 89004, GenOptions(dpi=200, mode="gray", upside_down=0, max_skew_deg=0.0, pages=(3,)))
    grey = _grey_at_work_dpi(pages[0].image, 200)
    layout = ours.pages[2]
    side = (layout.anchors[0][2] - layout.anchors[0][0]) * REGISTER.work_dpi / 72
    found = mark_centres(grey, side)
    assert len(found) >= 4
    k = REGISTER.work_dpi / 72
    for a in layout.anchors:  # the scan's fit-to-page shrink moves them a little towards the centre
        want = np.array([(a[0] + a[2]) / 2 * k, (a[1] + a[3]) / 2 * k])
        assert np.hypot(*(found - want).T).min() < 0.06 * grey.shape[0]


def test_a_printing_without_marks_lets_every_page_through(alt):
    """Ensures that for a form whose pages print no corner marks the test decides nothing: a page of text passes on to registration."""
    assert all(len(p.anchors) < 2 for p in alt.pages)
    pages, _ = generate(alt, 89005, GenOptions(dpi=200, mode="gray", pages=(2,), extra_pages=("text",)))
    for page in pages:
        assert could_be_form_page(_grey_at_work_dpi(page.image, 200), alt).passed


def test_a_page_of_text_is_let_go_without_feature_matching(ours, tmp_path, monkeypatch):
    """Ensures that a scanned page of another document's text never reaches the ORB registration, and still goes to the attachments."""
    pages, _ = generate(ours, 89006, GenOptions(dpi=200, mode="gray", pages=(4,), upside_down=0, extra_pages=("text",)))
    path = tmp_path / "s.pdf"
    write_pdf(pages, path)
    calls = []
    real = register_module.features

    def counting(gray, cfg):
        calls.append(gray.shape)
        return real(gray, cfg)

    monkeypatch.setattr(register_module, "features", counting)
    engines = Engines.using(FakeOcr())
    with open_source(path, path.name, Limits()) as opened:
        form_page = read_scan_detail(opened.pages[0], ours, engines)
        assert form_page.layout is not None and form_page.layout.number == 4
        assert len(calls) == 1
        text = read_scan_detail(opened.pages[1], ours, engines)
    assert text.layout is None and text.rejection is not None and text.rejection.reason == "no_match"
    assert len(calls) == 1, "the text page was feature-matched"
