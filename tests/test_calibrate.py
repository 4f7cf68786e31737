"""calibrate: learning a printing's layout from its blank PDF gives back the true positions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
RENEWAL = REPO / "forms" / "renewal"
ALT = REPO / "forms" / "alt"


@pytest.fixture(scope="module")
def raw_items():
    from pipeline.formdef import load_items_raw

    return load_items_raw(RENEWAL)


def test_calibrate_our_blank_gives_our_layout(tmp_path, form):
    """Ensures that calibrating our own blank.pdf finds every box and field print-form recorded, within 0.5 pt."""
    from pipeline.calibrate import calibrate
    from pipeline.printing.layoutio import compare_layouts

    out = tmp_path / "renewal_again"
    report = calibrate(RENEWAL / "blank.pdf", out, form)
    found = yaml.safe_load((out / "layout.yaml").read_text(encoding="utf-8"))
    truth = yaml.safe_load((RENEWAL / "layout.yaml").read_text(encoding="utf-8"))
    assert report.ok and report.pages == len(truth["pages"])
    assert found["printing"] == "calibrated" and found["form"] == "renewal_again"
    assert compare_layouts(truth, found, 0.5) == []
    assert (out / "blank.pdf").read_bytes() == (RENEWAL / "blank.pdf").read_bytes()


def test_calibrate_alt_printing_matches_its_drawing(tmp_path, form, raw_items):
    """Ensures that on the second printing (other fonts, margins, size, □ glyphs, no marks) calibrate finds what the drawing code drew, within 1 pt."""
    from pipeline.calibrate import learn_layout
    from pipeline.printing.api import render_form
    from pipeline.printing.layoutio import compare_layouts, layout_dict
    from pipeline.printing.style import ALT as ALT_STYLE

    printed = render_form(ALT, ALT_STYLE)
    assert printed.pdf == (ALT / "blank.pdf").read_bytes(), "forms/alt/blank.pdf is stale: re-run print_blank_only and calibrate"
    truth = layout_dict("alt", "ours", printed.pages)
    ours = yaml.safe_load((RENEWAL / "layout.yaml").read_text(encoding="utf-8"))
    assert [p["items"] for p in truth["pages"]] != [p["items"] for p in ours["pages"]]  # the page breaks differ
    assert all(p["code"] is None and not p["anchors"] for p in truth["pages"])
    pdf = tmp_path / "alt.pdf"
    pdf.write_bytes(printed.pdf)
    found, report = learn_layout(pdf, form, raw_items, "alt")
    assert report.ok, report.unplaced
    assert compare_layouts(truth, found, 1.0) == []
    committed = yaml.safe_load((ALT / "layout.yaml").read_text(encoding="utf-8"))
    assert compare_layouts(found, committed, 0.01) == []


def test_alt_form_loads():
    """Ensures that forms/alt (items from ../renewal, layout from calibrate) loads with every option placed."""
    from pipeline.formdef import load_form

    alt = load_form(ALT)
    assert alt.name == "alt" and len(alt.pages) > 10
    assert all(p.code is None for p in alt.pages)


def test_calibrate_reports_a_missing_item_and_writes_nothing(tmp_path, form, raw_items):
    """Ensures that calibrate on a printing without item 3-1-7 names its options and fields as unplaced and writes no layout."""
    from pipeline.calibrate import CalibrationError, calibrate
    from pipeline.printing.api import render_form

    pdf = tmp_path / "without_3-1-7.pdf"
    pdf.write_bytes(render_form(RENEWAL, skip=frozenset({"3-1-7"})).pdf)
    out = tmp_path / "broken"
    with pytest.raises(CalibrationError) as info:
        calibrate(pdf, out, form, raw_items)
    unplaced = set(info.value.report.unplaced)
    assert {
        "3-1-7/yes",
        "3-1-7/no",
        "3-1-7/over_100km",
        "3-1-7/other_rack",
        "3-1-7.signature",
        "3-1-7.seal",
        "3-1-7.main_site_address",
    } <= unplaced
    assert all(u.startswith("3-1-7") for u in unplaced)
    assert "3-1-7" in str(info.value)
    assert not (out / "layout.yaml").exists()


def test_similarity_binds_by_text():
    """Ensures that the fuzzy text match prefers the right option even when two statements differ only at the end."""
    from pipeline.calibrate import similarity

    none = "申請の日前1年以内に「個人情報漏洩」が発生している事業者ではない。"
    occurred = "申請の日前1年以内に「個人情報漏洩」が発生している事業者である。"
    assert similarity(none, none) > similarity(none, occurred) > 0.6
    assert similarity("100km 以上", "100km以上") == 1.0
    assert similarity("異なる建物", "100km以上") < 0.6
