"""Two pages read as one form page: a tail pushed onto its own page adds its boxes; a page given twice keeps only what both read alike."""

from __future__ import annotations

import numpy as np

from pipeline.model.records import FieldReading, MarkReading, PageRef
from pipeline.model.words import TWO_PAGES_NOTE as DISAGREE_NOTE
from pipeline.reading.page_merge import merge_page_readings

P9, P10 = PageRef("form.pdf", 9), PageRef("form.pdf", 10)
BOX = (100.0, 100.0, 110.0, 110.0)


def mark(owner: str, option: str, state: str, score: float | None, page: PageRef = P9) -> MarkReading:
    return MarkReading(owner, option, state, score, page, BOX)  # type: ignore[arg-type]


def field(name: str, status: str, value: str | None, page: PageRef = P9) -> FieldReading:
    return FieldReading(name, name.split(".")[0], "url", value, status, 0.9 if value else None, page, BOX)  # type: ignore[arg-type]


def test_a_pushed_tail_gives_the_boxes_and_fields_the_first_page_could_not_find():
    first_marks = [mark("5-1-2", "yes", "checked", 20.0), mark("6-2-1", "yes", "uncertain", None)]  # 6-2-1 not found on p9
    first_fields = [field("6-1-1.url_target", "not_located", None)]
    tail_marks = [mark("6-2-1", "yes", "checked", 19.9, P10), mark("6-2-2", "yes", "checked", 19.9, P10)]
    tail_fields = [field("6-1-1.url_target", "uncertain", "www.example.jp/privacy/", P10)]
    crop = np.zeros((4, 4), np.uint8)
    got = merge_page_readings(first_marks, first_fields, tail_marks, tail_fields, {"6-1-1.url_target": crop})
    states = {(m.owner, m.option): (m.state, m.page) for m in got.marks}
    assert states == {("5-1-2", "yes"): ("checked", P9), ("6-2-1", "yes"): ("checked", P10), ("6-2-2", "yes"): ("checked", P10)}
    assert [(f.status, f.page) for f in got.fields] == [("uncertain", P10)]
    assert set(got.crops) == {"6-1-1.url_target"}
    assert (got.added, got.agreed, got.disagreed) == (3, 0, 0)


def test_a_page_given_twice_keeps_what_both_read_alike_and_doubts_the_rest():
    first = [mark("2-1-2", "yes", "checked", 20.0), mark("2-1-2", "no", "empty", 0.0), mark("2-1-3", "yes", "empty", 0.0)]
    again = [mark("2-1-2", "yes", "checked", 19.0, P10), mark("2-1-2", "no", "empty", 0.0, P10), mark("2-1-3", "yes", "checked", 18.0, P10)]
    fields = [field("2-1-5.url_top", "read", "www.example.jp/")]
    fields_again = [field("2-1-5.url_top", "read", "www.examp1e.jp/", P10)]
    got = merge_page_readings(first, fields, again, fields_again, {})
    states = {(m.owner, m.option): (m.state, m.note) for m in got.marks}
    assert states[("2-1-2", "yes")] == ("checked", None) and states[("2-1-2", "no")] == ("empty", None)
    assert states[("2-1-3", "yes")] == ("uncertain", DISAGREE_NOTE)  # never the first page's confident empty
    assert got.fields[0].status == "uncertain" and got.fields[0].note == DISAGREE_NOTE
    assert (got.added, got.agreed, got.disagreed) == (0, 2, 2)


def test_a_box_not_found_on_the_second_page_keeps_the_first_pages_reading():
    first = [mark("3-1-1", "yes", "checked", 20.0)]
    got = merge_page_readings(first, [], [mark("3-1-1", "yes", "uncertain", None, P10)], [field("3-1-1.url_top", "not_located", None, P10)], {})
    assert got.marks == first and got.fields[0].status == "not_located" and got.added == 0
