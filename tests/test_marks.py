"""Box states from measured boxes: the printed frame come out bolder, strays at the frame, faint marks in the middle.

The BoxMeasure values below are real: measured by bench/bench_scans.py (--n 25, seeds 5000
and 7000, both printings; "stress" = the same seeds with every checked box drawn as a stray
by patching samples.synth.scans.BOX_STYLES) and rounded. Each names the page it came from.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.form.definition import load_form
from pipeline.reading.engines import Engines
from pipeline.reading.marks import BoxMeasure, _rim_run, decide
from pipeline.reading.scan import read_scan_detail
from pipeline.reading.settings import MARKS
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits
from samples.synth.scans import GenOptions, write_submission
from tests.fakes import FakeOcr

REPO = Path(__file__).resolve().parents[1]
N = MARKS.ring_sectors


def _m(inner, edge, ring, core, sides, peak, rim_run, reach, centre=0.0, shift=(0, 0)):
    return BoxMeasure(inner, edge, ring, N, False, shift, core, sides, peak, rim_run, reach, centre)


def _read_form_page(form, tmp_path, seed, form_page):
    """(truth, detail) of one form page of a whole generated submission (its truth drawn as in the bench)."""
    truth_path = write_submission(form, tmp_path, seed, GenOptions(upside_down=1, sideways=1), name="s")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    with open_source(tmp_path / truth["files"][0], truth["files"][0], Limits()) as opened:
        page = next(p for p, t in zip(opened.pages, truth["pages"]) if t["form_page"] == form_page)
        return truth, read_scan_detail(page, form, Engines.using(FakeOcr()))


# alt#5010 p6 (150 dpi grey) 3-1-6.no, empty: the □ glyph's top line printed bolder bleeds
# into the top row of the inside (0.12-0.19 beyond the blank), nothing else anywhere
BLEED = _m(0.0106, 0.0, 0.0, 0.0, 0, 0.186, 0.8, 0.0)
BLEED_EXTRA = np.array([[0.0, 0.19, 0.15, 0.14, 0.0, 0.12, 0.0]] + [[0.0] * 7] * 7, np.float32)
# alt#7013 p7 (150 dpi grey) 3-1-8.yes, a stray ✓: inside, the same picture (bottom row only,
# 0.12-0.22) — but the stroke goes on outside the frame
STRAY_INSIDE = _m(0.0104, 0.0856, 0.1875, 0.0, 2, 0.217, 0.6, 0.475)
STRAY_EXTRA = np.array([[0.0] * 7] * 6 + [[0.0, 0.0, 0.0, 0.17, 0.22, 0.12, 0.0]], np.float32)


def test_bolder_frame_inside_the_box_is_empty():
    """Ensures that ink only along whole sides of the inside's outermost pixels, grey, with nothing outside, is read empty."""
    state, _, note = decide(BLEED)
    assert state == "empty" and note and "枠線" in note
    # the stray whose inside looks the same is told apart by its ink outside the frame
    assert decide(STRAY_INSIDE)[0] == "checked"
    # any sign of a stroke keeps it from being the frame: dark ink, ink reaching out, a ring sector
    assert decide(_m(0.0106, 0.0, 0.0, 0.0, 0, 0.6, 0.8, 0.0))[0] == "uncertain"
    # alt#5012 p10 (150 dpi bw) 4-3-2.no, empty: on bw the halo is darker
    assert decide(_m(0.0310, 0.0011, 0.0, 0.0, 0, 0.338, 1.0, 0.0))[0] == "empty"
    # stress renewal#5013 p6 (150 dpi bw) 3-1-5.yes, a stray ✓ all inside: clipping the rim at a point
    assert decide(_m(0.0201, 0.0100, 0.0, 0.0, 0, 0.58, 0.0, 0.0))[0] == "uncertain"
    assert decide(_m(0.0106, 0.010, 0.0, 0.0, 1, 0.186, 0.8, 0.3))[0] == "uncertain"
    assert decide(_m(0.0106, 0.0, 0.125, 0.0, 0, 0.186, 0.8, 0.0))[0] == "uncertain"
    # a stroke clipping the inside along a short stretch of a side
    assert decide(_m(0.0106, 0.0, 0.0, 0.0, 0, 0.186, 0.2, 0.0))[0] == "uncertain"


def test_rim_run_measures_ink_along_whole_sides():
    """Ensures that rim_run is the least inked share of an inked side of the outermost pixels, and 0 for ink further in or at a corner alone."""
    assert _rim_run(BLEED_EXTRA) == pytest.approx(0.8)
    assert _rim_run(STRAY_EXTRA) == pytest.approx(0.6)
    assert _rim_run(np.zeros((8, 7), np.float32)) == 0.0
    deeper = BLEED_EXTRA.copy()
    deeper[1, 3] = 0.2  # a stroke reaching one pixel further in
    assert _rim_run(deeper) == 0.0
    corner = np.zeros((8, 7), np.float32)
    corner[0, 0] = 0.4  # a stroke clipping the corner
    assert _rim_run(corner) == 0.0
    two = BLEED_EXTRA.copy()
    two[2:5, -1] = 0.15  # a second side inked over half its length
    assert _rim_run(two) == pytest.approx(0.5)


def test_bolder_frame_outside_the_box_is_empty():
    """Ensures that edge ink hugging the frame line on one side (nothing 2 px out, nothing inside) is read empty, a stroke's is not."""
    # alt#5013 p12 (150 dpi bw) 5-1-3.yes, empty: the right line of the □ thickened outward
    state, _, note = decide(_m(0.0, 0.0182, 0.0, 0.0, 1, 0.0, 0.0, 0.0))
    assert state == "empty" and note and "枠線" in note
    # alt#5006 p11 (150 dpi bw) 5-1-2.no, empty: two lines thickened
    assert decide(_m(0.0, 0.0288, 0.0, 0.0, 2, 0.0, 0.0, 0.0))[0] == "empty"
    # alt#7018 p12 (200 dpi bw) 5-1-4.no, a stray ✓ crossing a corner: two sides, reaching out
    assert decide(_m(0.0, 0.0409, 0.125, 0.0, 2, 0.0, 0.0, 0.127))[0] == "uncertain"
    # the same ink on one side, reaching out a little
    assert decide(_m(0.0, 0.0182, 0.0, 0.0, 1, 0.0, 0.0, 0.1))[0] == "uncertain"
    # up to stray_edge only: more is a stroke along the frame
    assert decide(_m(0.0, MARKS.frame_edge_max, 0.0, 0.0, 1, 0.0, 0.0, 0.0))[0] == "uncertain"


def test_edge_ink_reaching_out_is_not_empty():
    """Ensures that a little edge ink, below edge_uncertain, that reaches 2 px or more out of the box makes it uncertain."""
    # stress alt#5013 p3 (150 dpi bw) 1-1-2.yes and stress alt#5011 p2 (150 dpi grey)
    # security_outage.occurred: strays grazing the frame, both read empty before (silent errors)
    assert decide(_m(0.0, 0.0160, 0.0, 0.0, 1, 0.0, 0.0, 0.27))[0] == "uncertain"
    assert decide(_m(0.0026, 0.0168, 0.0625, 0.005, 1, 0.15, 0.0, 0.36))[0] == "uncertain"
    # the halo of a frame (nothing reaching out) and a trace too small to be a stroke stay empty
    assert decide(_m(0.0, 0.0160, 0.0, 0.0, 1, 0.0, 0.0, 0.0))[0] == "empty"
    assert decide(_m(0.0, 0.0110, 0.25, 0.0, 1, 0.0, 0.0, 1.0))[0] == "empty"


def test_faint_mark_in_the_middle_is_checked():
    """Ensures that a faint mark below inner_checked overall but as dark as a checked box in the middle is read checked."""
    # alt#7003 p4 (150 dpi grey) 2-1-3.yes, a light pencil ✓
    pencil = _m(0.0189, 0.0054, 0.0, 0.0371, 0, 0.186, 0.0, 0.0, centre=1.0, shift=(-1, 0))
    state, _, note = decide(pencil)
    assert state == "checked" and note and "中央" in note
    # the most ink any empty box had in its middle: renewal#5012 p12 (150 dpi bw) 7-1-1.yes
    assert decide(_m(0.0032, 0.0, 0.0, 0.0083, 0, 0.2, 0.0, 0.0, centre=1.0))[0] == "empty"
    # the middle dark but most of the ink elsewhere: not this rule
    assert decide(_m(0.0189, 0.0054, 0.0, 0.0371, 0, 0.186, 0.0, 0.0, centre=0.3))[0] == "uncertain"


def test_bolder_printed_frame_on_a_scan_reads_empty(alt, tmp_path):
    """Ensures that the alt printing's 3-1-6.no, whose □ scans bolder than the blank's (seed 5010, 150 dpi grey), reads empty."""
    truth, detail = _read_form_page(alt, tmp_path, 5010, 6)
    assert truth["boxes"]["3-1-6.no"]["state"] == "empty"
    reading = next(m for m in detail.reading.marks if (m.owner, m.option) == ("3-1-6", "no"))
    measure = detail.box_measures["3-1-6.no"]
    assert measure.inner > MARKS.inner_empty and measure.core < MARKS.inner_empty  # ink inside, none in the middle
    assert reading.state == "empty", (reading, measure)


def test_edge_ink_beside_a_checked_neighbour_is_that_mark(tmp_path, monkeypatch):
    """Ensures that a little edge ink reaching out of a box, next to a checked box, is read as the neighbour's mark: empty."""
    import samples.synth.scans as synth

    # every mark a stray (the stress runs): seed 5001's ✓ for upstream_provider.independent
    # (renewal p2, 150 dpi colour) reaches the edge of .dependent 5 pt below it
    monkeypatch.setattr(synth, "BOX_STYLES", (("stray", 1.0),))
    form = load_form(REPO / "forms" / "renewal")
    truth, detail = _read_form_page(form, tmp_path, 5001, 2)
    assert truth["boxes"]["upstream_provider.dependent"]["state"] == "empty"
    states = {(m.owner, m.option): m.state for m in detail.reading.marks}
    measure = detail.box_measures["upstream_provider.dependent"]
    assert MARKS.reach_edge <= measure.edge < MARKS.edge_uncertain and measure.edge_reach >= MARKS.reach_share
    assert decide(measure)[0] == "uncertain"  # on its own measures
    assert states[("upstream_provider", "independent")] == "checked"
    assert states[("upstream_provider", "dependent")] == "empty", measure


def test_stray_across_a_corner_of_a_box_alone_is_checked(alt, tmp_path):
    """Ensures that a stroke across two sides of an isolated box's edge, on into the ring, nothing inside, is read checked."""
    from pipeline.reading.marks import _corner_stray

    # alt#7018 p12 (200 dpi bw) 5-1-4.no, a stray ✓ whose only ink is at a corner of the frame
    stray = _m(0.0, 0.0409, 0.125, 0.0, 2, 0.0, 0.0, 0.127)
    assert decide(stray)[0] == "uncertain" and _corner_stray(stray, MARKS)
    # not a stroke on into the ring (a frame misregistered or printed bolder stays within 2 px
    # of its line), a ○ (three or four sides), or edge ink all of it away from the frame
    assert not _corner_stray(_m(0.0, 0.0409, 0.0625, 0.0, 2, 0.0, 0.0, 0.127), MARKS)
    assert not _corner_stray(_m(0.0, 0.0409, 0.125, 0.0, 3, 0.0, 0.0, 0.127), MARKS)
    assert not _corner_stray(_m(0.0, 0.0576, 0.214, 0.0, 2, 0.0, 0.0, 1.0), MARKS)  # renewal#7010 p2: a neighbour's ✓
    # nothing 2 px out: the line's own halo
    assert not _corner_stray(_m(0.0, 0.0409, 0.125, 0.0, 2, 0.0, 0.0, 0.0), MARKS)
    # alt#7010 p16 (300 dpi colour) 7-6-2.yes: the same, read on a generated page
    truth_path = write_submission(alt, tmp_path, 7010, GenOptions(upside_down=1, sideways=1), name="s")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    want = truth["boxes"]["7-6-2.yes"]
    assert (want["state"], want["style"]) == ("checked", "stray")
    with open_source(tmp_path / truth["files"][0], truth["files"][0], Limits()) as opened:
        page = next(p for p, t in zip(opened.pages, truth["pages"]) if t["form_page"] == want["form_page"])
        detail = read_scan_detail(page, alt, Engines.using(FakeOcr()))
    reading = next(m for m in detail.reading.marks if (m.owner, m.option) == ("7-6-2", "yes"))
    measure = detail.box_measures["7-6-2.yes"]
    assert measure.inner <= MARKS.inner_empty and decide(measure)[0] == "uncertain"  # on its own measures
    assert reading.state == "checked" and reading.note and "枠の角" in reading.note, (reading, measure)


def test_edge_ink_away_from_the_frame_beside_a_checked_neighbour_is_that_mark(tmp_path):
    """Ensures that edge ink lying all 2 px or more outside a box, next to a checked box, is read as the neighbour's mark: empty."""
    # renewal#7010 p2 (300 dpi colour): the stray ✓ of upstream_provider.independent reaches
    # over .dependent's top corners, 5 pt below, without touching its frame
    form = load_form(REPO / "forms" / "renewal")
    truth, detail = _read_form_page(form, tmp_path, 7010, 2)
    assert truth["boxes"]["upstream_provider.dependent"]["state"] == "empty"
    readings = {(m.owner, m.option): m for m in detail.reading.marks}
    measure = detail.box_measures["upstream_provider.dependent"]
    assert measure.edge >= MARKS.edge_uncertain and measure.edge_reach >= MARKS.away_reach
    assert decide(measure)[0] == "uncertain"  # on its own measures
    assert readings[("upstream_provider", "independent")].state == "checked"
    dependent = readings[("upstream_provider", "dependent")]
    assert dependent.state == "empty" and dependent.note and "届いていない" in dependent.note, measure


def test_a_box_and_a_field_calibrate_could_not_place_read_uncertain_and_not_located(tmp_path):
    """Ensures that a layout entry written `located: false` by calibrate is not measured but read as an uncertain box (with its page and expected region) and a not_located field."""
    import shutil

    import yaml

    from pipeline.model.records import PageRef
    from pipeline.reading.marks import unlocated_readings

    folder = tmp_path / "form"
    shutil.copytree(REPO / "forms" / "renewal", folder)
    layout = yaml.safe_load((folder / "layout.yaml").read_text(encoding="utf-8"))
    page = next(p for p in layout["pages"] if any(b["owner"] == "2-1-2" for b in p["boxes"]))
    region = [40.0, 100.0, 560.0, 300.0]
    for b in page["boxes"]:
        if b["owner"] == "2-1-2":
            b.update(bbox=region, located=False)
    for f in page["fields"]:
        if f["name"] == "2-1-2.signature":
            f.update(bbox=region, located=False)
    (folder / "layout.yaml").write_text(yaml.safe_dump(layout, allow_unicode=True), encoding="utf-8")
    form = load_form(folder)
    loaded = next(p for p in form.pages if p.number == page["number"])
    assert not any(b.owner == "2-1-2" for b in loaded.boxes) and not any(f.name == "2-1-2.signature" for f in loaded.fields)
    marks, fields = unlocated_readings(loaded, PageRef("form.pdf", 3))
    assert {m.option for m in marks} == {"yes"} and all(m.state == "uncertain" and m.bbox == tuple(region) for m in marks)
    assert all(m.page == PageRef("form.pdf", 3) and "頁 3" in (m.note or "") for m in marks)
    assert [(f.name, f.status) for f in fields] == [("2-1-2.signature", "not_located")]


def test_a_pencil_tick_left_as_a_few_dots_is_uncertain_not_empty():
    """Ensures that a faint pencil tick that a bw scan left as a few dots (measured: samples/people_marks seed 406, 200 dpi bw, 4-1-4.yes) reads uncertain with a note, while a clean box and one dust pixel of a 150 dpi bw scan stay empty."""
    dots = BoxMeasure(0.00278, 0.0, 0.0, N, False, (0, 0), 0.0031, 0, 0.17, 0.0, 0.0, 0.45, 0.49)
    state, score, note = decide(dots)
    assert state == "uncertain" and score > 0.0 and "鉛筆" in (note or "")
    clean = BoxMeasure(0.0, 0.0, 0.0, N, False, (0, 0), 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert decide(clean)[0] == "empty"
    dust = BoxMeasure(0.0011, 0.0, 0.0, N, False, (0, 0), 0.0, 0, 0.44, 0.0, 0.0, 0.0, (100 / 150) ** 2)
    assert decide(dust)[0] == "empty"


@pytest.mark.slow
def test_marks_people_make_are_read_right_or_uncertain(tmp_path):
    """Ensures that ticks, overrunning ticks, circles around boxes and bracketed choices, pencil ticks and stray dots drawn by samples/people_marks (not the readers' drawing) on 150-300 dpi grey and bw scans are each read right or uncertain — no silent error where the mark is visible on the scan."""
    import pypdfium2 as pdfium

    from samples.people_marks import make_page

    form = load_form(REPO / "forms" / "renewal")
    silent, read = [], 0
    for seed in range(700, 712):
        pdf = tmp_path / f"p{seed}.pdf"
        info = make_page(REPO / "forms" / "renewal", 2 + seed % 10, seed, pdf)
        with open_source(pdf, pdf.name, Limits()) as opened:
            detail = read_scan_detail(opened.pages[0], form, Engines.using(FakeOcr()))
        doc = pdfium.PdfDocument(str(pdf))
        k = info["dpi"] / 72
        image = np.asarray(doc[0].render(scale=k, grayscale=True).to_pil().convert("L"))
        doc.close()
        got = {f"{m.owner}/{m.option}": m for m in detail.reading.marks}
        for key, truth in info["truth"].items():
            want, _, kind = truth.partition(":")
            m = got[key]
            read += 1
            if m.state in (want, "uncertain"):
                continue
            x0, y0, x1, y1 = (int(v * k) for v in m.bbox)
            if kind == "pencil" and not (image[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3] < 128).any():
                continue  # the scan lost the tick entirely: nothing to read
            silent.append((seed, key, kind, m.state, m.score))
    assert read > 80 and not silent


def test_a_light_pencil_tick_on_a_grey_scan_is_uncertain_not_empty():
    """Ensures that a light ✓ on a 150 dpi colour scan, a few pixels over the noise floor and faint ink around them (independent set 86700-04 2-3-2 and 7-6-1, both read empty before), is uncertain; a lone dust pixel is not."""
    for inner, core, peak, specks in ((0.00497, 0.0112, 0.179, 0.314), (0.00364, 0.0082, 0.131, 0.376)):
        tick = BoxMeasure(inner, 0.0, 0.0, N, False, (0, 0), core, 0, peak, 0.0, 0.0, 1.0, specks)
        state, _, note = decide(tick)
        assert state == "uncertain" and "鉛筆" in (note or "")
    speck = BoxMeasure(0.0011, 0.0, 0.0, N, False, (0, 0), 0.0, 0, 0.3, 0.0, 0.0, 1.0, 0.3)
    assert decide(speck)[0] == "empty"


def test_a_tick_with_no_pixel_over_the_noise_floor_is_uncertain_not_empty():
    """Ensures that a ✓ so light that no pixel passes the noise floor (inner 0, peak 0) but whose faint ink spreads inside is uncertain (86900-02 2-2-1, a colour scan, read empty before), while an empty box's scan noise (specks up to 0.162 on 1,280 empty boxes and brackets) stays empty."""
    for specks in (0.45, 0.18):  # 86900-02 2-2-1; a tick of 86500-07
        faint = BoxMeasure(0.0, 0.0, 0.0, N, False, (0, 0), 0.0, 0, 0.0, 0.0, 0.0, 0.0, specks)
        state, _, note = decide(faint)
        assert state == "uncertain" and "鉛筆" in (note or ""), specks
    noise = BoxMeasure(0.0, 0.0, 0.0, N, False, (0, 0), 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.162)
    assert decide(noise)[0] == "empty"


def test_a_large_circle_away_from_the_frame_is_uncertain_not_empty():
    """Ensures that a box with nothing inside whose ring a large ○ crosses in part (no ink at the frame) is uncertain (seed 87000-02 7-2-2: ring 0.44, read empty before), while an empty box's ring up to 0.25 stays empty."""
    for ring in (0.44, 0.3):
        circled = BoxMeasure(0.0, 0.0017, ring, 16, False, (0, 0), 0.0, 0, 0.0, 0.0, 1.0, 0.0, 0.0)
        state, _, note = decide(circled)
        assert state == "uncertain" and "○" in (note or ""), ring
    assert decide(BoxMeasure(0.0, 0.0, 0.25, 16, False, (0, 0), 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0))[0] == "empty"
