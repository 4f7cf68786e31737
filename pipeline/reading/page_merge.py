"""Two pages of a submission read as the same form page: their readings merged, and where they disagree, uncertain.

A form typed into in Word and then printed pushes the end of a page onto a page of its own: the
scan then has two pages for one form page, the first holding most of its boxes (the rest not
found there), the second the pushed tail (seed 84500-00 p9 and p10). A page scanned twice gives
two readings of the same boxes. Keeping only the first page lost the tail's boxes; here every
box and field takes the reading of the page where it was found, and one found on both pages
keeps its reading only when both agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from pipeline.model.records import FieldReading, MarkReading

DISAGREE_NOTE = "同じ様式の頁が二つあり、読み取りが食い違います。両方の頁を目視で確認してください"


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
    added = disagreed = agreed = 0
    mark_at = {(m.owner, m.option): k for k, m in enumerate(out_marks)}
    for m in second_marks:
        key = (m.owner, m.option)
        name = f"{m.owner}.{m.option}"
        k = mark_at.get(key)
        if k is None or (not out_marks[k].placed and m.placed):
            if k is None:
                mark_at[key] = len(out_marks)
                out_marks.append(m)
            else:
                out_marks[k] = m
            added += m.placed
            if name in second_crops:
                crops[name] = second_crops[name]
        elif m.placed and out_marks[k].placed:
            if m.state == out_marks[k].state:
                agreed += 1
            else:
                disagreed += 1
                out_marks[k] = replace(out_marks[k], state="uncertain", note=DISAGREE_NOTE)
    field_at = {f.name: k for k, f in enumerate(out_fields)}
    for f in second_fields:
        k = field_at.get(f.name)
        if k is None or (not out_fields[k].placed and f.placed):
            if k is None:
                field_at[f.name] = len(out_fields)
                out_fields.append(f)
            else:
                out_fields[k] = f
            added += f.placed
            if f.name in second_crops:
                crops[f.name] = second_crops[f.name]
        elif f.placed and out_fields[k].placed:
            first = out_fields[k]
            if (first.status, first.value) == (f.status, f.value):
                agreed += 1
            else:
                disagreed += 1
                if first.status in ("read", "empty"):  # a confident reading no longer is one
                    out_fields[k] = replace(first, status="uncertain", note=DISAGREE_NOTE)
                if f.name in second_crops:
                    crops[f.name] = second_crops[f.name]
    return Merged(out_marks, out_fields, crops, added, disagreed, agreed)
