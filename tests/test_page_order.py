"""A page the readers did not take for the form's but that sits in a form page's place: its label is only a candidate, and it is flagged."""

from __future__ import annotations

from pipeline.model.records import PageRef
from pipeline.reading.labels import MISSING, LabelledPage, LabelParse, LabelRead, group_attachments
from pipeline.reading.page_order import place_of_form_pages
from pipeline.rules.evidence import Documents

NUMBERS = list(range(1, 14))  # a form of 13 pages


def labelled(file: str, page: int, *ids: str) -> LabelledPage:
    parse = LabelParse(ids, (), "read") if ids else MISSING
    return LabelledPage(PageRef(file, page), LabelRead(parse, "-".join(ids) or None, 0.99, "ocr"))


def form_pages(file: str, pairs: list[tuple[int, int]]) -> dict[int, PageRef]:
    return {number: PageRef(file, page) for page, number in pairs}


def test_a_page_between_form_pages_in_the_place_of_a_missing_one_is_a_candidate_only():
    found = form_pages("form.pdf", [(p, p) for p in NUMBERS if p != 4])
    pages = [labelled("form.pdf", 4, "2-1-1"), labelled("att.pdf", 1, "3-1-1")]
    out, flags = place_of_form_pages(pages, found, NUMBERS)
    assert out[0].label is not None and out[0].label.parse.status == "uncertain"
    assert out[0].label.parse.candidates == ("2-1-1",) and out[0].label.parse.ids == ()
    assert out[1] == pages[1]  # another file: an attachment as read
    assert len(flags) == 1 and flags[0].code == "missing_form_page" and "form.pdf p4" in flags[0].message and "様式の p4" in flags[0].message
    docs = Documents.from_attachments(group_attachments(out)[0])
    assert "2-1-1" not in docs.by_item and docs.uncertain_by_item["2-1-1"]  # the item's document is unconfirmed, not present
    assert docs.by_item["3-1-1"]


def test_a_page_between_form_pages_with_none_missing_is_left_alone():
    """A form page's tail pushed onto its own page by typing sits between form pages 9 and 10, none missing."""
    found = form_pages("form.pdf", [(p, p) for p in range(1, 10)] + [(p + 1, p) for p in range(10, 14)])
    pages = [labelled("form.pdf", 10, "5-1-1")]
    out, flags = place_of_form_pages(pages, found, NUMBERS)
    assert out == pages and flags == []


def test_after_the_last_form_page_only_the_places_of_missing_pages_count():
    found = form_pages("scan.pdf", [(p, p) for p in range(1, 12)])  # pages 12 and 13 missing
    pages = [labelled("scan.pdf", 12), labelled("scan.pdf", 13, "7-6-1"), labelled("scan.pdf", 14, "7-6-2")]
    out, flags = place_of_form_pages(pages, found, NUMBERS)
    assert out[0] == pages[0]  # no label: nothing to make a candidate, but still flagged
    assert out[1].label is not None and out[1].label.parse.status == "uncertain"
    assert out[2] == pages[2]  # past the form's end: an attachment
    assert [f.pages[0].page for f in flags] == [12, 13]


def test_an_attachment_after_a_complete_form_is_an_attachment():
    found = form_pages("scan.pdf", [(p, p) for p in NUMBERS])
    pages = [labelled("scan.pdf", 14, "1-1-1")]
    assert place_of_form_pages(pages, found, NUMBERS) == (pages, [])


def test_a_page_before_the_first_form_page_in_the_place_of_the_cover():
    found = form_pages("scan.pdf", [(p, p) for p in range(2, 14)])
    pages = [labelled("scan.pdf", 1, "1-1-1"), labelled("other.pdf", 1, "1-1-2")]
    out, flags = place_of_form_pages(pages, found, NUMBERS)
    assert out[0].label is not None and out[0].label.parse.status == "uncertain" and out[1] == pages[1]
    assert len(flags) == 1 and "様式の p1" in flags[0].message
