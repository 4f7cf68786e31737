"""On a page the scanner stored black and white, what reads empty may be pencil the binarisation erased: uncertain, never a confident empty.

A scanner set to black and white keeps a pixel only where it is darker than its threshold; a
light pencil tick or a name written in soft pencil can vanish without a trace before any reader
sees the page. Independent set seed 86200 (hand_scan, 200 dpi bw, two submissions): 17 boxes
ticked in faint pencil read empty with score 0.0, their items answered blank, and 23 fields
written in pencil (company name, telephone, e-mail …) read empty — all silently. No measure of
the page can tell such a box from an empty one, so what the page cannot show is left to the
reviewer:

- an item or declaration whose □ boxes on the page all read empty is uncertain, whatever its
  brackets read (an applicant answers every item; a bracket chosen with no box ticked says the
  box was). A box read empty beside a checked one keeps its reading, since it answers the item:
  a second, faint tick there would be a conflict nobody can see (86200-04 4-3-2). An item
  whose boxes are on two pages (a page break between 「はい」 and 「いいえ」) is settled once all
  pages are read (`settled_across_pages`): a box checked on the other page answers it
  (86500-01, Word-typed ■ on one page, its empty box on the next, read uncertain);
- a text, date or URL place read empty is uncertain, and an uncertain URL line is not taken as
  filled in (rules.evidence). Signatures and seals are written and stamped in ink, which
  binarisation keeps: an empty one stays missing.

The file also gets one bilevel_scan warning (run/submission.py).
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.model.records import FieldReading, FormDef, MarkReading, PageLayout
from pipeline.model.words import ERASED_FIELD_NOTE
from pipeline.reading.read_digital import PageReading

MARK_NOTE = "白黒2値のスキャンで、この項目の枠はどれも空欄と読めました。薄い鉛筆の印は2値化で消えることがあるため、原本で確認してください"
# Places whose writing may be pencil; signatures and seals are ink.
PENCIL_KINDS = frozenset({"text", "date", "url"})


def unsure_where_erased(reading: PageReading, layout: PageLayout) -> PageReading:
    """The page's readings with what binarisation may have erased made uncertain (see the module docstring); unchanged unless bilevel."""
    if not reading.bilevel:
        return reading
    return replace(reading, marks=_unsure_marks(reading.marks, layout), fields=tuple(_unsure_field(f) for f in reading.fields))


def _unsure_marks(marks: tuple[MarkReading, ...], layout: PageLayout) -> tuple[MarkReading, ...]:
    boxes = {(b.owner, b.option) for b in layout.boxes if b.shape == "box"}
    found = [m for m in marks if m.placed and (m.owner, m.option) in boxes]
    owners = {m.owner for m in found}
    answered = {m.owner for m in found if m.state != "empty"}
    unsure = owners - answered
    return tuple(
        replace(m, state="uncertain", note=MARK_NOTE) if m.owner in unsure and m.placed and (m.owner, m.option) in boxes else m
        for m in marks
    )


def _unsure_field(fld: FieldReading) -> FieldReading:
    if fld.kind in PENCIL_KINDS and fld.status == "empty":
        return replace(fld, status="uncertain", note=ERASED_FIELD_NOTE)
    return fld


def settled_across_pages(marks: list[MarkReading], form: FormDef) -> list[MarkReading]:
    """The marks with the per-page rule undone for an item a box of which reads non-empty on another page (its boxes were split by a page break).

    The rule only ever turned an `empty` □ box into this uncertain reading, so undoing it gives
    back the empty reading.
    """
    boxes = {(b.owner, b.option) for page in form.pages for b in page.boxes if b.shape == "box"}
    answered = {m.owner for m in marks if (m.owner, m.option) in boxes and m.state != "empty" and m.note != MARK_NOTE}
    return [replace(m, state="empty", note=None) if m.note == MARK_NOTE and m.owner in answered else m for m in marks]
