"""A URL place on a Word-filled page whose content moved: ink there that is no line of text is a question for the reviewer, not a path filled in."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.model.words import MOVED_URL_NOTE
from pipeline.reading.engines import Engines
from pipeline.reading.scan import read_scan_detail
from pipeline.rules.evidence import _field_status
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits
from tests.independent_printing import independent_word_scan, needs_seed


@pytest.mark.slow
@needs_seed
def test_an_empty_url_place_holding_the_next_pages_print_is_not_a_path_filled_in(tmp_path: Path) -> None:
    """Ensures that on seed 87500-01 (word_scan) no empty URL place of a moved page counts as a path filled in, and the typed ones still do.

    Pages 6 and 8 hold the end of one blank page and the head of the next; 4-3-2's and 6-2-2's
    url_target sit at their blank page's end, where the scan has the next page's first line
    (unaligned, so not subtracted): they read uncertain and counted as paths filled in, so the
    evidence said a URL was given where the applicant gave none.
    """
    form, path, truth = independent_word_scan(tmp_path, 87500, 1, printings_made=3)
    fields = []
    with open_source(path, path.name, Limits()) as opened:
        for page in opened.pages:
            detail = read_scan_detail(page, form, Engines())
            if detail.reading is not None and detail.located is not None:
                fields += [f for f in detail.reading.fields if f.kind == "url"]
    assert len(fields) >= 4, "the moved pages' URL places were read"
    for f in fields:
        given = truth["items"][f.owner].get("url_path")
        status = _field_status(f, page_missing=False)
        if not given:
            assert status != "present", f"{f.name}: no path given, read {f.status} {f.value!r} and counted as filled in"
        if f.note == MOVED_URL_NOTE:
            assert f.status == "uncertain" and not f.value
    typed = [f for f in fields if truth["items"][f.owner].get("url_path") and f.value]
    assert typed and all(_field_status(f, page_missing=False) == "present" for f in typed), [(f.name, f.status, f.value) for f in typed]


def test_an_empty_url_place_below_an_unfollowed_move_is_not_a_path_filled_in() -> None:
    """Ensures that a URL place read empty below where a page's content moved, made uncertain because the move could not be followed, is not counted as a path given (it had counted as one)."""
    from pipeline.model.records import FieldReading, PageRef
    from pipeline.reading.reflow_scan import unsure_below

    ref = PageRef("scan.pdf", 6)
    empty = FieldReading("4-3-2.url_target", "4-3-2", "url", None, "empty", None, ref, (191.0, 400.0, 536.0, 418.0))
    _, (moved,) = unsure_below((), (empty,), moved_from_pt=300.0)
    assert moved.status == "uncertain"
    assert _field_status(moved, page_missing=False) == "uncertain"
    assert _field_status(empty, page_missing=False) == "missing"
