"""A ○ drawn around one box that crosses its neighbour's corner: the neighbour is never read as circled.

Pages: the project's blank page 2 rendered at 300 dpi, a pen ○ drawn around
upstream_provider's "independent" box large enough to pass over "dependent"'s top-left
corner (seed 87700-10 drew it so, and "dependent" read checked: 枠に沿って○), scanned grey.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.form.definition import load_form
from pipeline.reading.engines import Engines
from pipeline.reading.scan import read_scan_detail
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits
from tests.fakes import FakeOcr
from tests.independent_printing import needs_seed

REPO = Path(__file__).resolve().parents[1]
FORM = REPO / "forms" / "renewal"


def _circled_page(tmp_path: Path, rx: float, ry: float, dy: float, seed: int) -> Path:
    """Page 2 with an ellipse (radii rx, ry pt, centre dy pt below the box's) around upstream_provider/independent, 2 px pen, scanned grey at 300 dpi."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    from samples.people_marks import scan

    form = load_form(FORM)
    box = next(b for b in form.pages[1].boxes if (b.owner, b.option) == ("upstream_provider", "independent"))
    dpi = 300
    k = dpi / 72
    doc = pdfium.PdfDocument(str(FORM / "blank.pdf"))
    img = doc[1].render(scale=k, grayscale=True).to_pil().convert("L")
    doc.close()
    cx, cy = (box.bbox[0] + box.bbox[2]) / 2, (box.bbox[1] + box.bbox[3]) / 2 + dy
    ImageDraw.Draw(img).ellipse(((cx - rx) * k, (cy - ry) * k, (cx + rx) * k, (cy + ry) * k), outline=30, width=round(0.6 * k))
    out = tmp_path / f"circled{seed}.pdf"
    scan(img, dpi, "gray", random.Random(seed)).save(out, "PDF", resolution=dpi)
    return out


@pytest.mark.parametrize(("rx", "ry", "dy"), [(9.0, 13.0, 2.5), (10.0, 13.0, 1.0), (11.0, 12.0, 2.5), (12.0, 14.0, 1.0)])
def test_a_circle_crossing_the_neighbours_corner_does_not_check_the_neighbour(tmp_path: Path, rx: float, ry: float, dy: float) -> None:
    """Ensures that the circled box reads checked and its neighbour, whose corner the ○ crosses, reads empty or uncertain, never checked."""
    pdf = _circled_page(tmp_path, rx, ry, dy, seed=int(rx * 10 + ry))
    with open_source(pdf, pdf.name, Limits()) as opened:
        detail = read_scan_detail(opened.pages[0], load_form(FORM), Engines.using(FakeOcr()))
    assert detail.reading is not None
    read = {m.option: m for m in detail.reading.marks if m.owner == "upstream_provider"}
    assert read["independent"].state == "checked", read["independent"]
    assert read["dependent"].state != "checked", (read["dependent"].note, detail.box_measures["upstream_provider.dependent"])


@pytest.mark.slow
@needs_seed
def test_a_circle_hugging_the_neighbours_corner_on_an_independent_scan(tmp_path: Path) -> None:
    """Ensures that on independent-set seed 87700-10 (the project's printing filled by hand, 300 dpi grey) the ○ around upstream_provider's "independent", which passes over three sides of "dependent"'s edge band, leaves "dependent" unchecked (it read 枠に沿って○, checked)."""
    from samples.independent.generate import make_submission

    make_submission(tmp_path, 87700, 10, "project_hand_scan", {}, 0)
    (pdf,) = [p for p in (tmp_path / "inbox" / "ind87700-10-project_hand_scan").glob("*.pdf") if p.stem.startswith("更新申請書")]
    with open_source(pdf, pdf.name, Limits()) as opened:
        detail = read_scan_detail(opened.pages[1], load_form(FORM), Engines.using(FakeOcr()))
    assert detail.reading is not None and detail.layout is not None and detail.layout.number == 2
    read = {m.option: m.state for m in detail.reading.marks if m.owner == "upstream_provider"}
    assert read["independent"] == "checked" and read["dependent"] != "checked", read
