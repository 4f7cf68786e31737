"""run/submission.py: the labels of scanned pages that are not the form's, read aside while the next page is read, are the labels read in line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.reading import labels
from pipeline.reading.engines import Engines
from pipeline.run import submission
from samples.synth import attachments as synth

pytestmark = pytest.mark.ocr


@pytest.fixture(scope="module")
def scanned_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An entry of three labelled documents, printed and scanned (150-300 dpi, as samples/synth scans them)."""
    entry = tmp_path_factory.mktemp("entry") / "scanned"
    entry.mkdir()
    pdf = io.BytesIO()
    synth.write_pdf(synth.make_documents(88433, 3), pdf, seed=88433)
    synth.write_image_pdf(synth.scan_pdf(pdf.getvalue(), seed=88433), str(entry / "attachments.pdf"))
    return entry


@pytest.mark.parametrize("at_most", [submission.ASIDE_AT_MOST, 1])
def test_labels_read_aside_are_the_labels_read_in_line(form, scanned_documents: Path, monkeypatch: pytest.MonkeyPatch, at_most: int) -> None:
    """Ensures that with a second thread (cap 2) every page's label, in submission order, is what one thread (cap 1) reads, and none is left pending (also when the reading waits for each label)."""
    monkeypatch.setattr(submission, "ASIDE_AT_MOST", at_most)
    engines = Engines()
    assert engines.capped(1).aside_pool() is None and engines.capped(2).aside_pool() is not None
    in_line = submission.read_submission(scanned_documents, form, engines.capped(1))
    aside = submission.read_submission(scanned_documents, form, engines.capped(2))
    assert len(in_line.other_pages) >= 3 and not in_line.form_pages
    assert aside.other_pages == in_line.other_pages
    assert sum(1 for p in aside.other_pages if p.label is not None and p.label.parse.ids) >= 2  # labels were read, not left empty
    assert aside.flags == in_line.flags and not aside.later


def test_a_label_read_that_fails_aside_is_that_pages_flag(form, scanned_documents: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that a label read failing on the second thread drops that page and flags it as the in-line read does, the other pages kept."""
    real = labels.read_scanned_label
    calls = []

    def second_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) % 100 == 2:  # the second page's read, in each run
            raise ValueError("a reader's own fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(labels, "read_scanned_label", second_fails)
    engines = Engines()
    in_line = submission.read_submission(scanned_documents, form, engines.capped(1))
    calls.clear()
    aside = submission.read_submission(scanned_documents, form, engines.capped(2))
    assert aside.other_pages == in_line.other_pages
    faults = [f for f in aside.flags if f.code == "unreadable_file"]
    assert len(faults) == 1 and "ValueError" in faults[0].message and faults[0].pages == (in_line.flags[-1].pages[0],)
    assert [f.message for f in aside.flags] == [f.message for f in in_line.flags]
