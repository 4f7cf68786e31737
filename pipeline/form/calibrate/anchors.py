"""Where each owner's region begins: the item whose id starts a marked line, a declaration's title, the closing line.

A region runs from its anchor to the next one in reading order; a mark or a label belongs to
the region it falls in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pipeline.form.calibrate.match import starts_like
from pipeline.form.calibrate.places import END, Blank, LineKey
from pipeline.model.records import FormDef

_ITEM_ID = re.compile(r"^[\-・*＊]*(\d+-\d+-\d+)")


@dataclass(frozen=True, slots=True)
class Anchor:
    """The start of an owner's region: an item, a declaration, or the closing line."""

    owner: str
    key: LineKey
    kind: Literal["item", "declaration", "closing", "contact"]


def find_anchors(blank: Blank, form: FormDef) -> list[Anchor]:
    """The anchors of `form`'s items and declarations and of its closing line, in reading order."""
    out: list[Anchor] = []
    ids = set(form.item_ids)
    for m in blank.marks:
        if m.line is None:
            continue
        before = m.line.text_between(0, m.bbox[0])
        found = _ITEM_ID.match(before) or (None if before else _ITEM_ID.match(m.text))  # 「1-1-1 □」 or 「□ 1-1-1」
        if found and found.group(1) in ids and not any(a.owner == found.group(1) for a in out):
            first_on_line = not any(o.line is m.line and o.bbox[0] < m.bbox[0] for o in blank.marks)
            if first_on_line:
                out.append(Anchor(found.group(1), m.key(), "item"))
    marked = {id(m.line) for m in blank.marks if m.line is not None}
    for d in form.declarations:
        for line in blank.lines:
            if id(line) not in marked and starts_like(line, d.title):
                out.append(Anchor(d.id, line.key(), "declaration"))
                break
    closing = form.texts.closing_text
    if closing:
        for line in blank.lines:
            if starts_like(line, closing, 0.9):
                out.append(Anchor("closing", line.key(), "closing"))
                break
    return sorted(out, key=lambda a: a.key)


def region(anchors: list[Anchor], owner: str) -> tuple[LineKey, LineKey] | None:
    """Where `owner`'s region starts (inclusive) and ends (exclusive), or None if it has no anchor."""
    for i, a in enumerate(anchors):
        if a.owner == owner:
            end = anchors[i + 1].key if i + 1 < len(anchors) else END
            return a.key, end
    return None


def owner_of(anchors: list[Anchor], key: LineKey) -> Anchor | None:
    """The anchor of the region that the line at `key` falls in."""
    current = None
    for a in anchors:
        if a.key <= (key[0], key[1] + 0.01):
            current = a
    return current
