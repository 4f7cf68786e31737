"""Bind the blank's boxes and brackets to items and options: by region, then by the text beside each mark.

The first mark on an item's anchor line is its yes box; every other mark in a region goes to
the option whose text it reads most like (at least OPTION_MIN_SIMILARITY), each option once.
"""

from __future__ import annotations

from pipeline.form.calibrate.anchors import Anchor, owner_of
from pipeline.form.calibrate.found import Found, shown
from pipeline.form.calibrate.match import OPTION_MIN_SIMILARITY, similarity
from pipeline.form.calibrate.places import Blank
from pipeline.form.calibrate.scan import Mark
from pipeline.model.records import FormDef


def bind_boxes(blank: Blank, form: FormDef, anchors: list[Anchor], found: Found) -> None:
    """Place a mark for every option of every item and declaration; note strays, list the options left unplaced."""
    options: dict[str, dict[str, str]] = {}
    for item in form.items:
        options[item.id] = {o.key: o.text for o in item.options if o.key != "yes"}
    for d in form.declarations:
        options[d.id] = {o.key: o.text for o in d.options}
    placed: set[tuple[str, str]] = set()
    pending: dict[str, list[Mark]] = {}
    for m in blank.marks:
        a = owner_of(anchors, m.key())
        if a is None or a.kind in ("closing", "contact"):
            found.notes.append(f"page {m.page}: {m.shape} at {shown(m.bbox)} belongs to no item (ignored)")
            continue
        if a.kind == "item" and a.key == m.key() and (a.owner, "yes") not in placed:
            found.place(m, a.owner, "yes")
            placed.add((a.owner, "yes"))
            found.items[m.page].append(a.owner)
            continue
        pending.setdefault(a.owner, []).append(m)
    for owner, marks in pending.items():
        scores = sorted(
            ((similarity(m.text, text), i, key) for i, m in enumerate(marks) for key, text in options.get(owner, {}).items()),
            reverse=True,
        )
        used: set[int] = set()
        for score, i, key in scores:
            if score < OPTION_MIN_SIMILARITY or i in used or (owner, key) in placed:
                continue
            found.place(marks[i], owner, key)
            placed.add((owner, key))
            used.add(i)
        for i, m in enumerate(marks):
            if i not in used:
                found.notes.append(f"page {m.page}: {m.shape} at {shown(m.bbox)} in {owner}'s region matches none of its options")
    for item in form.items:
        for o in item.options:
            if (item.id, o.key) not in placed:
                found.unplaced.append(f"{item.id}/{o.key}")
    for d in form.declarations:
        for o in d.options:
            if (d.id, o.key) not in placed:
                found.unplaced.append(f"{d.id}/{o.key}")
