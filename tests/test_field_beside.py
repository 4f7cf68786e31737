"""A text field read empty while its value was written just beside it, after the label's colon and above the underline: uncertain with the band's crop, never a confident empty.

Pages: the project's blank page 1 rendered at a scan's resolution, a value drawn in a
handwriting font where an applicant squeezes it (87500-07 wrote 「5000」 that way and it read
empty), then blurred and noised as a scanner does (samples.people_marks.scan).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.form.definition import load_form
from pipeline.model.words import STRAY_FIELD_NOTE
from pipeline.reading.engines import Engines
from pipeline.reading.scan import read_scan_detail
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits
from tests.fakes import FakeOcr

REPO = Path(__file__).resolve().parents[1]
FORM = REPO / "forms" / "renewal"
HAND_FONT = Path("/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf")


def _page(tmp_path: Path, name: str, dpi: int, writing: dict[str, tuple[str, float, float, float]], seed: int) -> Path:
    """Page 1 of the blank with `writing` {field: (text, dx_pt, dy_pt, size_pt)} drawn from each field's top-left corner, scanned grey."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw, ImageFont

    from samples.people_marks import scan

    form = load_form(FORM)
    fields = {f.name: f for f in form.pages[0].fields}
    doc = pdfium.PdfDocument(str(FORM / "blank.pdf"))
    img = doc[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    doc.close()
    draw = ImageDraw.Draw(img)
    k = dpi / 72
    for field, (text, dx, dy, size) in writing.items():
        x0, y0 = fields[field].bbox[:2]
        draw.text(((x0 + dx) * k, (y0 + dy) * k), text, fill=40, font=ImageFont.truetype(str(HAND_FONT), round(size * k)))
    out = tmp_path / f"{name}.pdf"
    scan(img, dpi, "gray", random.Random(seed)).save(out, "PDF", resolution=dpi)
    return out


def _fields(pdf: Path) -> dict[str, object]:
    with open_source(pdf, pdf.name, Limits()) as opened:
        detail = read_scan_detail(opened.pages[0], load_form(FORM), Engines.using(FakeOcr()))
    assert detail.reading is not None, "page 1 of the blank was not read as the form's"
    return {f.name: f for f in detail.reading.fields}


@pytest.mark.skipif(not HAND_FONT.exists(), reason="the Klee handwriting font (fonts-klee) is not installed")
@pytest.mark.parametrize("dpi", [150, 200])
def test_a_value_written_left_of_and_above_an_empty_line_is_uncertain_with_its_crop(tmp_path: Path, dpi: int) -> None:
    """Ensures that 「5000」 written 9 pt left of the user-count line and above it reads uncertain with the stray note and a crop wider than the place, while the untouched fields of the same page stay empty."""
    # the value ends 4 pt into the place, its foot 8 pt above the place's top: little of it lies inside
    pdf = _page(tmp_path, f"beside{dpi}", dpi, {"applicant.user_count": ("5000", -12.0, -14.0, 7.0)}, seed=dpi)
    fields = _fields(pdf)
    got = fields["applicant.user_count"]
    assert got.status == "uncertain" and got.note == STRAY_FIELD_NOTE, (got.status, got.note)
    assert all(fields[n].status == "empty" for n in ("applicant.tel", "applicant.fax", "applicant.registration_number")), {
        n: fields[n].status for n in ("applicant.tel", "applicant.fax", "applicant.registration_number")
    }


@pytest.mark.skipif(not HAND_FONT.exists(), reason="the Klee handwriting font (fonts-klee) is not installed")
def test_an_untouched_blank_page_has_no_field_made_uncertain_by_its_labels(tmp_path: Path) -> None:
    """Ensures that on a blank page scanned with no writing, no text field is made uncertain by the printed labels beside it."""
    fields = _fields(_page(tmp_path, "blank", 150, {}, seed=5))
    stray = [n for n, f in fields.items() if getattr(f, "note", None) == STRAY_FIELD_NOTE]
    assert not stray, stray
    assert all(f.status == "empty" for n, f in fields.items() if f.kind in ("text", "url", "date")), {n: f.status for n, f in fields.items()}
