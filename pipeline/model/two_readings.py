"""Two readings of one box or place: which one stands, whatever the page order.

A page given twice, or a page's tail that Word pushed onto a page of its own, gives a box or a
place two readings. One policy holds wherever they meet — where a second page is merged in
(reading/page_merge.py) and where the rules index a submission's readings (rules/answers.py):
a reading that was found beats a placeholder (a box or place its reader could not find); two found
alike keep the first; two found that disagree make it uncertain, with words.TWO_PAGES_NOTE, so
that neither page's reading is taken silently.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pipeline.model.records import FieldReading, MarkReading
from pipeline.model.words import TWO_PAGES_NOTE

# "second": the second reading stands (the first was a placeholder); "first": the first stands (the
# second is a placeholder, or both are); "agreed" / "disagreed": both were found.
Outcome = Literal["second", "first", "agreed", "disagreed"]


def two_marks(first: MarkReading, second: MarkReading) -> tuple[MarkReading, Outcome]:
    """The reading of a box read twice, and how it was decided (see the module docstring)."""
    if second.placed and not first.placed:
        return second, "second"
    if not (first.placed and second.placed):
        return first, "first"
    if first.state == second.state:
        return first, "agreed"
    if first.state == "uncertain":
        return first, "disagreed"  # uncertain already, with its own reason
    return replace(first, state="uncertain", note=TWO_PAGES_NOTE), "disagreed"


def two_fields(first: FieldReading, second: FieldReading) -> tuple[FieldReading, Outcome]:
    """The reading of a place read twice; a confident value or emptiness contradicted becomes uncertain."""
    if second.placed and not first.placed:
        return second, "second"
    if not (first.placed and second.placed):
        return first, "first"
    if (first.status, first.value) == (second.status, second.value):
        return first, "agreed"
    if first.status in ("read", "empty"):
        return replace(first, status="uncertain", note=TWO_PAGES_NOTE), "disagreed"
    return first, "disagreed"  # handwritten or uncertain: a person looks at it already
