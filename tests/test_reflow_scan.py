"""Scanned form pages whose content moved (a Word filling that reflowed): read where the content went; non-form pages let go."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.form.definition import load_form
from pipeline.reading.engines import Engines
from pipeline.reading.reflow_lines import Lines, align
from pipeline.reading.reflow_scan import UNFOLLOWED_NOTE
from pipeline.reading.scan import ScanDetail, read_scan_detail
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits
from samples.synth.scans import (
    GenOptions,
    ScannedPage,
    ScanSpec,
    blank_gray,
    extra_page,
    fill_page,
    plan_answers,
    scan_image,
    write_pdf,
    write_submission,
)
from tests.fakes import FakeOcr

REPO = Path(__file__).resolve().parents[1]
DPI = 200


@pytest.fixture(scope="module")
def form():
    return load_form(REPO / "forms" / "renewal")


def _white_band(blank: np.ndarray, y_from: float, y_to: float) -> int:
    """The middle row (px) of the longest run of ink-free rows of the blank between two heights (pt)."""
    k = DPI / 72
    rows = (blank[int(y_from * k) : int(y_to * k)] < 128).sum(axis=1) == 0
    best, start, run_at = (0, 0), None, 0
    for i, white in enumerate(list(rows) + [False]):
        if white and start is None:
            start = i
        elif not white and start is not None:
            if i - start > best[0]:
                best, run_at = (i - start, start), start
            start = None
    return int(y_from * k) + run_at + best[0] // 2


def _read(form, tmp_path: Path, image: np.ndarray, seed: int) -> ScanDetail:
    rng = np.random.default_rng(seed)
    spec = ScanSpec(dpi=DPI, mode="gray", skew_deg=0.7, scale=0.985, shift_mm=(1.5, -1.0), blur_px=0.5, noise=3.0, jpeg_quality=85)
    path = tmp_path / f"p{seed}.pdf"
    write_pdf([ScannedPage(scan_image(image, spec, rng), spec, None)], path)
    with open_source(path, path.name, Limits()) as opened:
        return read_scan_detail(opened.pages[0], form, Engines.using(FakeOcr()))


def _filled(form, number: int, seed: int):
    rng = np.random.default_rng(seed)
    plan = plan_answers(form, rng, GenOptions(struck_rate=0.0, handwriting_rate=0.0), pencil_ok=False)
    layout = next(p for p in form.pages if p.number == number)
    return layout, plan, fill_page(form, layout, plan, DPI, rng, color=False)


def no_silent_errors(detail: ScanDetail, plan) -> int:
    """Asserts every box read is its truth or uncertain (with a note and crop); returns how many were read definitely."""
    assert detail.reading is not None
    definite = 0
    for m in detail.reading.marks:
        want = plan.boxes[f"{m.owner}.{m.option}"]["state"]
        if m.state == "uncertain":
            assert m.note and f"{m.owner}.{m.option}" in detail.reading.crops
            continue
        assert m.state == want, f"{m.owner}.{m.option}: truth {want}, read {m.state} ({m.note})"
        definite += 1
    return definite


def test_page_whose_lower_half_moved_down_is_read_where_its_boxes_went(form, tmp_path: Path) -> None:
    """Ensures that a page whose content below a typed-in line moved down (as Word reflows) is read at the moved places, never at the blank's."""
    layout, plan, img = _filled(form, 6, 84011)
    ys = sorted(b.bbox[3] for b in layout.boxes)
    cut = _white_band(blank_gray(form.blank_pdf, 5, DPI), 258.0, 384.0)
    push = 40  # px at 200 dpi: 14.4 pt, a line of typed text
    moved = np.full_like(img, 255)
    moved[:cut] = img[:cut]
    moved[cut + push :] = img[cut : img.shape[0] - push]
    detail = _read(form, tmp_path, moved, 84011)
    assert detail.layout is not None and detail.layout.number == 6, detail.rejection
    assert detail.located is not None, "the moved content was not noticed"
    k = DPI / 72
    below = {f"{b.owner}.{b.option}": b.bbox for b in layout.boxes if b.bbox[1] * k > cut and (b.bbox[3] * k + push) < img.shape[0] - 60}
    read = {f"{m.owner}.{m.option}": m for m in detail.reading.marks}
    for name, bbox in below.items():
        assert name in read, f"{name} was not read"
        if read[name].state != "uncertain":
            assert abs(read[name].bbox[1] - (bbox[1] + push / k)) < 2.5, f"{name} read at {read[name].bbox}, blank at {bbox}"
    assert no_silent_errors(detail, plan) >= 0.8 * len(layout.boxes) - 1
    assert len(ys) >= 10


def test_page_whose_moved_content_cannot_be_followed_is_uncertain_below_where_it_moved(form, tmp_path: Path, monkeypatch) -> None:
    """Ensures that a registered page whose content moved, when the moved flow is not found, reads every box from where it moved down as uncertain, never at the blank's places as if sure."""
    import pipeline.reading.reflow_scan as reflow_scan

    monkeypatch.setattr(reflow_scan, "locate", lambda *a, **k: None)  # the flow not followed (seed 84102 p3, before ace548c)
    layout, plan, img = _filled(form, 6, 84011)
    cut = _white_band(blank_gray(form.blank_pdf, 5, DPI), 258.0, 384.0)
    push = 16  # px at 200 dpi: 5.8 pt, small enough that the page still registers
    moved = np.full_like(img, 255)
    moved[:cut] = img[:cut]
    moved[cut + push :] = img[cut : img.shape[0] - push]
    detail = _read(form, tmp_path, moved, 84011)
    assert detail.layout is not None and detail.layout.number == 6 and detail.located is None
    k = DPI / 72
    states = {f"{m.owner}.{m.option}": m for m in detail.reading.marks}
    below = [f"{b.owner}.{b.option}" for b in layout.boxes if b.bbox[1] * k > cut + 4]
    assert below
    assert all(states[n].state == "uncertain" and states[n].note for n in below)
    no_silent_errors(detail, plan)  # (here the registration split the difference: the lines above moved too)


def test_page_holding_the_tail_of_a_form_page_is_read_as_the_form(form, tmp_path: Path) -> None:
    """Ensures that a page holding only what reflow pushed off a form page's end is taken for the form and its boxes read for their own items."""
    layout, plan, img = _filled(form, 6, 84012)
    cut = _white_band(blank_gray(form.blank_pdf, 5, DPI), 420.0, 470.0)
    tail = np.full_like(img, 255)
    top = int(70 * DPI / 72)
    part = img[cut : img.shape[0] - int(60 * DPI / 72)]
    tail[top : top + len(part)] = part
    detail = _read(form, tmp_path, tail, 84012)
    assert detail.layout is not None, detail.rejection
    k = DPI / 72
    owners = {(m.owner, m.option) for m in detail.reading.marks}
    expected = {(b.owner, b.option) for b in layout.boxes if b.bbox[1] * k > cut and b.bbox[3] * k < img.shape[0] - 60 * k}
    assert expected <= owners
    assert not any(b.bbox[3] * k < cut and (b.owner, b.option) in owners for b in layout.boxes), "a box of the part not on the page was read"
    assert no_silent_errors(detail, plan) >= len(expected) - 1


@pytest.mark.parametrize("seed", [84016, 84017, 84018, 84019])
def test_page_holding_only_a_signed_line_and_the_next_is_read_as_the_form(form, tmp_path: Path, seed: int) -> None:
    """Ensures that a page holding only what reflow pushed past a form page's end — its signed and sealed line and two lines after — is the form's: its signature and seal places and box are read, with crops."""
    layout, plan, img = _filled(form, 6, seed)
    cut = _white_band(blank_gray(form.blank_pdf, 5, DPI), 655.0, 682.0)  # above 3-1-7's signature line
    k = DPI / 72
    tail = np.full_like(img, 255)
    part = img[cut : img.shape[0] - int(60 * k)]
    tail[int(70 * k) : int(70 * k) + len(part)] = part
    detail = _read(form, tmp_path, tail, seed)
    assert detail.layout is not None and detail.layout.number == 6, detail.rejection and detail.rejection.detail
    assert detail.reading is not None
    places = {f.name: f for f in detail.reading.fields if f.kind in ("signature", "seal")}
    assert set(places) == {"3-1-7.signature", "3-1-7.seal"}
    for name, reading in places.items():
        assert name in detail.reading.crops
        assert reading.status != ("empty" if plan.fields[name]["present"] else "handwritten"), (name, plan.fields[name], reading.status)
    assert {(m.owner, m.option) for m in detail.reading.marks} == {("3-1-7", "no")}
    no_silent_errors(detail, plan)


def test_other_documents_text_page_is_let_go(form, tmp_path: Path) -> None:
    """Ensures that a page of another document's text is not a form page: neither registered nor read as the form's moved content."""
    rng = np.random.default_rng(84013)
    detail = _read(form, tmp_path, extra_page("text", DPI, rng), 84013)
    assert detail.layout is None and detail.located is None
    assert detail.rejection is not None and detail.rejection.reason == "no_match"


@pytest.mark.parametrize("seed", [87910, 87912])
def test_other_documents_text_page_is_let_go_after_two_frames(form, tmp_path: Path, monkeypatch, seed: int) -> None:
    """Ensures that a page of another document's text lines, of which one pairs with a form line at most, is let go after its first frame and its own (not 4-6 frames: issue 16)."""
    import pipeline.reading.reflow as reflow

    frames: list[int] = []
    align_page = reflow.align_page

    def counted(*args, **kwargs):
        frames.append(1)
        return align_page(*args, **kwargs)

    monkeypatch.setattr(reflow, "align_page", counted)
    detail = _read(form, tmp_path, extra_page("text", DPI, np.random.default_rng(seed)), seed)
    assert detail.layout is None and detail.located is None
    assert 1 <= len(frames) <= 2, f"{len(frames)} frames aligned"


def test_unmoved_scans_of_both_printings_are_read_as_registered(form, alt, tmp_path: Path) -> None:
    """Ensures that ordinary scans (content where the blank has it; marks, handwriting, 150 dpi bw, turned) never go through the moved-content reading."""
    cases = (
        (form, 84015, GenOptions(dpi=150, mode="bw", pages=(1, 3, 6, 15), upside_down=1, sideways=1)),
        (alt, 5010, GenOptions(dpi=150, mode="gray", pages=(1, 3, 6, 17), upside_down=1)),  # 3-1-4.signature moved it (commit 10b5e7b)
    )
    for f, seed, opts in cases:
        truth = json.loads(write_submission(f, tmp_path, seed, opts, name=f"u{seed}").read_text(encoding="utf-8"))
        want = [t["form_page"] for t in truth["pages"]]
        with open_source(tmp_path / truth["files"][0], truth["files"][0], Limits()) as opened:
            for page, number in zip(opened.pages, want, strict=True):
                detail = read_scan_detail(page, f, Engines.using(FakeOcr()))
                assert detail.layout is not None and detail.layout.number == number, (f.name, seed, number, detail.rejection)
                assert detail.located is None, f"{f.name}#{seed} page {number} read as moved"
                assert not any(r.status == "not_located" for r in detail.reading.fields)
                unfollowed = [r.name for r in detail.reading.fields if r.note == UNFOLLOWED_NOTE] + [m.owner for m in detail.reading.marks if m.note == UNFOLLOWED_NOTE]
                assert not unfollowed, f"{f.name}#{seed} page {number}: taken as pushed past its end ({unfollowed})"


def _lines(desc: np.ndarray, ys: np.ndarray) -> Lines:
    n = len(ys)
    z = np.zeros(n, np.int32)
    return Lines(z + ys.astype(np.int32), z + ys.astype(np.int32) + 12, ys.astype(np.float32), z, z + 500, desc, desc)


def test_alignment_keeps_order_through_inserted_lines_and_a_growing_offset() -> None:
    """Ensures that the line alignment pairs each printed line with its own, skipping inserted lines, while the offset grows down the page."""
    rng = np.random.default_rng(84014)
    flow_desc = rng.random((60, 40)).astype(np.float32)
    flow_desc /= np.linalg.norm(flow_desc, axis=1, keepdims=True)
    flow_y = np.arange(60, dtype=np.float32) * 20
    picked = list(range(20, 40))
    desc, ys, truth, y, inserted = [], [], [], 40.0, {5, 12}
    for n, j in enumerate(picked):
        if n in inserted:  # a typed line, and everything below it one line lower
            desc.append(rng.random(40).astype(np.float32))
            ys.append(y)
            y += 20
        noisy = flow_desc[j] + rng.normal(0, 0.03, 40).astype(np.float32)
        desc.append(noisy / np.linalg.norm(noisy))
        ys.append(y)
        truth.append((len(desc) - 1, j))
        y += 20
    d = np.array(desc, np.float32)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    scan = _lines(d, np.array(ys))
    sim = (scan.desc @ flow_desc.T).astype(np.float32)
    al = align(sim, scan.yc, flow_y)
    assert list(al.pairs) == truth
    assert al.score > al.runner_up
