"""One submission's pages: a reader's fault on one page is that page's flag, and the items of a page nobody read are uncertain, not blank."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.form.definition import load_form
from pipeline.run import submission
from samples.fill import fill_acroform

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"
FAULTY_PAGE = 4  # 2-1-2 to 2-2-1 on this printing


@pytest.fixture()
def entry(tmp_path):
    path = tmp_path / "inbox" / "申請.pdf"
    path.parent.mkdir()
    path.write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True, "2-1-2.yes": True}))
    return path


def test_a_page_the_reader_fails_on_is_flagged_and_the_others_are_read(entry, tmp_path, monkeypatch):
    form = load_form(FORM_DIR)
    layout = next(p for p in form.pages if p.number == FAULTY_PAGE)
    assert "2-1-2" in layout.item_ids
    real = submission.read_digital_page

    def faulty(page, layout, *args, **kwargs):
        if layout.number == FAULTY_PAGE:
            raise IndexError("boolean index did not match indexed array")
        return real(page, layout, *args, **kwargs)

    monkeypatch.setattr(submission, "read_digital_page", faulty)
    data = submission.process_submission(entry, FORM_DIR, tmp_path / "out")
    faults = [f for f in data["flags"] if f["code"] == "unreadable_file"]
    assert len(faults) == 1 and f"p{FAULTY_PAGE}" in faults[0]["message"] and "IndexError" in faults[0]["message"]
    assert data["items"]["1-1-1"]["answer"] == "yes"  # the pages after and before the fault were read
    for item_id in layout.item_ids:  # nobody saw these boxes: never a confident blank
        assert data["items"][item_id]["answer"] == "uncertain", item_id
    assert any(f["code"] == "missing_form_page" and f"p{FAULTY_PAGE}" in f["message"] for f in data["flags"])
    assert data["score"]["decision"] != "pass"


def test_items_of_pages_read_keep_their_blank(entry, tmp_path):
    data = submission.process_submission(entry, FORM_DIR, tmp_path / "out")
    assert data["items"]["2-1-2"]["answer"] == "yes"
    assert data["items"]["2-1-3"]["answer"] == "blank"  # read, and empty: stays blank
    assert not any(f["code"] in ("unreadable_file", "missing_form_page") for f in data["flags"])


def test_the_form_given_twice_disagreeing_is_uncertain_where_they_differ(tmp_path):
    folder = tmp_path / "inbox" / "申請"
    folder.mkdir(parents=True)
    (folder / "a.pdf").write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True, "2-1-2.yes": True}))
    (folder / "b.pdf").write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True, "2-1-3.yes": True}))
    data = submission.process_submission(folder, FORM_DIR, tmp_path / "out")
    assert data["items"]["1-1-1"]["answer"] == "yes"  # both copies say so
    assert data["items"]["2-1-2"]["answer"] == "uncertain"  # ticked in one copy only: never the first one's silently
    assert data["items"]["2-1-3"]["answer"] == "uncertain"
    assert data["items"]["2-1-4"]["answer"] == "blank"  # empty in both
    twice = next(f for f in data["flags"] if f["code"] == "missing_form_page")  # one flag, a sentence per page
    assert twice["message"].count("二つあります") == len(load_form(FORM_DIR).pages)
    assert "b.pdf p4: 様式の 4 ページ目が a.pdf p4 と二つあります。読み取りが一致" in twice["message"]
    assert "食い違い 2 件（食い違った箇所は要確認にしました）" in twice["message"]


@pytest.mark.parametrize(("mode", "dpi"), [("bw", 200), ("bw", 300), ("gray", 200), ("gray", 300)])
def test_a_black_and_white_scan_is_said_once_per_file_a_grey_one_not(tmp_path, mode, dpi):
    """Ensures that a form page the scanner binarised (faint pencil erased before any reader) gets one bilevel_scan warning for its file, and a grey scan none.

    A 300 dpi page is decoded at 150 dpi, where a black-and-white page has greys: its 1-bit storage tells it.
    """
    import numpy as np

    from pipeline.reading.engines import Engines
    from pipeline.reading.scan import read_scan_detail
    from pipeline.rules.evidence import _field_status
    from pipeline.sources.ingest import open_source
    from pipeline.sources.limits import Limits
    from samples.synth.scans import GenOptions, ScannedPage, ScanSpec, fill_page, plan_answers, scan_image, write_pdf
    from tests.fakes import FakeOcr

    form = load_form(FORM_DIR)
    rng = np.random.default_rng(85901)
    plan = plan_answers(form, rng, GenOptions(struck_rate=0.0, handwriting_rate=0.0), pencil_ok=False)
    for option in ("yes", "no"):  # 1-1-3 left unanswered, 1-1-4 answered yes; 1-1-3's name left empty, 1-1-4's written
        plan.boxes[f"1-1-3.{option}"] = {"state": "empty", "style": None, "form_page": 3}
    plan.boxes["1-1-4.yes"] = {"state": "checked", "style": "tick", "form_page": 3}
    plan.boxes["1-1-4.no"] = {"state": "empty", "style": None, "form_page": 3}
    plan.fields["1-1-3.name"] = {**plan.fields["1-1-3.name"], "present": False}
    plan.fields["1-1-4.name"] = {**plan.fields["1-1-4.name"], "present": True}
    for name in ("2-1-5.url_top", "2-1-5.url_target"):
        plan.fields[name] = {**plan.fields[name], "present": False}
    plan.boxes["7-0-2.yes"] = {"state": "empty", "style": None, "form_page": 12}  # its box left empty, a bracket chosen
    for option, state in (("written_improved", "checked"), ("oral_improved", "empty"), ("no_guidance", "empty")):
        plan.boxes[f"7-0-2.{option}"] = {"state": state, "style": "circle" if state == "checked" else None, "form_page": 12}
    spec = ScanSpec(dpi=dpi, mode=mode, skew_deg=0.4, noise=4.0)  # type: ignore[arg-type]
    pages = [ScannedPage(scan_image(fill_page(form, layout, plan, dpi, rng, color=False), spec, rng), spec, None) for layout in (*form.pages[2:4], form.pages[11])]
    path = tmp_path / "scan.pdf"
    write_pdf(pages, path)
    collected = submission.Collected()
    with open_source(path, path.name, Limits()) as opened:
        for page in opened.pages:
            detail = read_scan_detail(page, form, Engines.using(FakeOcr()))
            assert detail.layout is not None and detail.reading is not None
            assert detail.reading.bilevel is (mode == "bw")
            submission._keep_form_page(detail.layout, page.ref, detail.reading, collected)  # noqa: SLF001 - the run's own step
    said = [f for f in collected.flags if f.code == "bilevel_scan"]
    assert len(said) == (1 if mode == "bw" else 0)
    # what binarisation may have erased is uncertain on the bw page (reading/erased.py), read as it is on the grey one
    marks = {f"{m.owner}.{m.option}": m for m in collected.marks}
    fields = {f.name: f for f in collected.fields}
    assert {marks["1-1-3.yes"].state, marks["1-1-3.no"].state} == ({"uncertain"} if mode == "bw" else {"empty"})
    assert (marks["1-1-4.yes"].state, marks["1-1-4.no"].state) == ("checked", "empty")  # the answer stands
    assert fields["1-1-3.name"].status == ("uncertain" if mode == "bw" else "empty")
    assert fields["1-1-4.name"].status != "empty"
    assert marks["7-0-2.yes"].state == ("uncertain" if mode == "bw" else "empty")  # a bracket chosen, its box read empty
    assert marks["7-0-2.written_improved"].state == "checked"
    url = fields["2-1-5.url_target"]
    assert url.status == ("uncertain" if mode == "bw" else "empty")
    assert _field_status(url, page_missing=False) == ("uncertain" if mode == "bw" else "missing")  # never a path filled in
    if mode == "bw":
        assert marks["1-1-3.yes"].note and "白黒2値" in marks["1-1-3.yes"].note
        assert "鉛筆" in (fields["1-1-3.name"].note or "")
    if said:
        assert said[0].message.startswith("scan.pdf p1: 白黒2値")  # said once, at the file's first form page


def test_an_item_split_by_a_page_break_is_answered_by_its_box_on_the_other_page():
    """Ensures that the black-and-white rule (an item whose boxes all read empty is uncertain) looks at the item's boxes on every page, not the page's share of them.

    A Word printing can put 「はい」 at the foot of one page and 「いいえ」 at the top of the next
    (independent set 86500-01: 2-2-1, 3-1-7, 4-2-3 answered ■ yes, read uncertain from their
    lone empty box on the next bw page). An item with no box checked anywhere stays uncertain.
    """
    from pipeline.model.records import MarkReading, PageRef
    from pipeline.reading.erased import MARK_NOTE, settled_across_pages, unsure_where_erased
    from pipeline.reading.read_digital import PageReading

    form = load_form(FORM_DIR)
    layout = next(p for p in form.pages if "1-1-4" in p.item_ids and "1-1-3" in p.item_ids)
    ref_a, ref_b = PageRef("scan.pdf", 1), PageRef("scan.pdf", 2)
    box = {(b.owner, b.option): b.bbox for b in layout.boxes}
    # page a holds the yes boxes (1-1-3's ticked), page b the no boxes, all read empty there
    page_b = PageReading(
        tuple(MarkReading(o, "no", "empty", 0.0, ref_b, box[(o, "no")]) for o in ("1-1-3", "1-1-4")), (), {}, bilevel=True
    )
    on_b = unsure_where_erased(page_b, layout).marks
    assert {m.state for m in on_b} == {"uncertain"} and all(m.note == MARK_NOTE for m in on_b)  # page b alone cannot tell
    on_a = [MarkReading("1-1-3", "yes", "checked", 0.4, ref_a, box[("1-1-3", "yes")]), MarkReading("1-1-4", "yes", "empty", 0.0, ref_a, box[("1-1-4", "yes")])]
    settled = {f"{m.owner}.{m.option}": m for m in settled_across_pages([*on_a, *on_b], form)}
    assert (settled["1-1-3.yes"].state, settled["1-1-3.no"].state, settled["1-1-3.no"].note) == ("checked", "empty", None)
    assert settled["1-1-4.no"].state == "uncertain"  # no box of 1-1-4 checked on either page
