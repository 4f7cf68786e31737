"""Two pages of a submission read as the same form page: their readings merged, and where they disagree, uncertain.

A form typed into in Word and then printed pushes the end of a page onto a page of its own: the
scan then has two pages for one form page, the first holding most of its boxes (the rest not
found there), the second the pushed tail (seed 84500-00 p9 and p10). A page scanned twice gives
two readings of the same boxes. Keeping only the first page lost the tail's boxes; here every
box and field takes the reading of the page where it was found, and one found on both pages
keeps its reading only when both agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pipeline.model.records import FieldReading, MarkReading
from pipeline.model.two_readings import Outcome, two_fields, two_marks


@dataclass(frozen=True, slots=True)
class Merged:
    """The readings after the merge, the crops to keep, and what the second page brought."""

    marks: list[MarkReading]
    fields: list[FieldReading]
    crops: dict[str, NDArray[np.uint8]]  # by box or field name, from the second page, for what it now provides
    added: int  # boxes and fields found only on the second page
    disagreed: int  # found on both, read differently: now uncertain
    agreed: int  # found on both, read alike


def merge_page_readings(
    marks: Sequence[MarkReading], fields: Sequence[FieldReading], second_marks: Sequence[MarkReading],
    second_fields: Sequence[FieldReading], second_crops: Mapping[str, NDArray[np.uint8]],
) -> Merged:
    """The first page's readings with the second's merged in (see the module docstring)."""
    out_marks, out_fields = list(marks), list(fields)
    crops: dict[str, NDArray[np.uint8]] = {}
    outcomes: Counter[str] = Counter()
    mark_at = {(m.owner, m.option): k for k, m in enumerate(out_marks)}
    for m in second_marks:
        name = f"{m.owner}.{m.option}"
        k = mark_at.setdefault((m.owner, m.option), len(out_marks))
        if k == len(out_marks):
            out_marks.append(m)
            outcome: Outcome = "second" if m.placed else "first"
        else:
            out_marks[k], outcome = two_marks(out_marks[k], m)
        outcomes[outcome] += 1
        if outcome == "second" and name in second_crops:
            crops[name] = second_crops[name]
    field_at = {f.name: k for k, f in enumerate(out_fields)}
    for f in second_fields:
        k = field_at.setdefault(f.name, len(out_fields))
        if k == len(out_fields):
            out_fields.append(f)
            outcome = "second" if f.placed else "first"
        else:
            out_fields[k], outcome = two_fields(out_fields[k], f)
        outcomes[outcome] += 1
        if outcome in ("second", "disagreed") and f.name in second_crops:
            crops[f.name] = second_crops[f.name]
    added, disagreed, agreed = outcomes["second"], outcomes["disagreed"], outcomes["agreed"]
    return Merged(out_marks, out_fields, crops, added, disagreed, agreed)
