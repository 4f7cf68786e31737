"""MarkReadings → ItemAnswer per item and declaration (yes/no/blank/conflict/uncertain, choice)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.model.records import Declaration, FieldReading, FormDef, Item, ItemAnswer, MarkReading, MarkState
from pipeline.model.two_readings import two_fields, two_marks


def index_marks(marks: Iterable[MarkReading]) -> dict[tuple[str, str], MarkReading]:
    """One reading per (owner, option), whatever the page order (model.two_readings: a box found beats a placeholder, two that disagree are uncertain)."""
    found: dict[tuple[str, str], MarkReading] = {}
    for mark in marks:
        key = (mark.owner, mark.option)
        first = found.get(key)
        found[key] = mark if first is None else two_marks(first, mark)[0]
    return found


def index_fields(fields: Iterable[FieldReading]) -> dict[str, FieldReading]:
    """One reading per field name, whatever the page order (model.two_readings: a place found beats a not_located placeholder)."""
    found: dict[str, FieldReading] = {}
    for fld in fields:
        first = found.get(fld.name)
        found[fld.name] = fld if first is None else two_fields(first, fld)[0]
    return found


def _state(marks: dict[tuple[str, str], MarkReading], owner: str, option: str) -> MarkState:
    """The box's state; a box of the form that was not read at all is uncertain: nothing says it is empty."""
    mark = marks.get((owner, option))
    return mark.state if mark else "uncertain"


def yes_no_answer(yes: MarkState | None, no: MarkState | None) -> str:
    """The answer of a yes box and an optional no box; uncertain only where it could decide."""
    if yes == "checked" and no == "checked":
        return "conflict"
    if yes == "checked":
        return "uncertain" if no == "uncertain" else "yes"
    if no == "checked":
        return "uncertain" if yes == "uncertain" else "no"
    if "uncertain" in (yes, no):
        return "uncertain"
    return "blank"


def pick_one(states: Mapping[str, MarkState | None]) -> tuple[str, str | None]:
    """(answer, key) for a group where exactly one option should be marked."""
    checked = [k for k, s in states.items() if s == "checked"]
    uncertain = [k for k, s in states.items() if s == "uncertain"]
    if len(checked) > 1:
        return "conflict", None
    if len(checked) == 1:
        return ("uncertain", None) if uncertain else ("yes", checked[0])
    return ("uncertain", None) if uncertain else ("blank", None)


def item_answer(item: Item, marks: dict[tuple[str, str], MarkReading]) -> ItemAnswer:
    keys = [o.key for o in item.options]
    answer = yes_no_answer(_state(marks, item.id, "yes"), _state(marks, item.id, "no") if "no" in keys else None)
    choice = None
    if item.choices:
        _, choice = pick_one({o.key: _state(marks, item.id, o.key) for o in item.choices})
    own = tuple(marks[(item.id, k)] for k in keys if (item.id, k) in marks)
    return ItemAnswer(owner=item.id, answer=answer, choice=choice, marks=own)  # type: ignore[arg-type]


def declaration_answer(decl: Declaration, marks: dict[tuple[str, str], MarkReading]) -> ItemAnswer:
    mains = {o.key: _state(marks, decl.id, o.key) for o in decl.options if o.role == "main"}
    answer, choice = pick_one(mains)
    own = tuple(marks[(decl.id, o.key)] for o in decl.options if (decl.id, o.key) in marks)
    return ItemAnswer(owner=decl.id, answer=answer, choice=choice, marks=own)  # type: ignore[arg-type]


def answer_all(form: FormDef, marks: Iterable[MarkReading]) -> tuple[dict[str, ItemAnswer], dict[str, ItemAnswer]]:
    """(items, declarations) answers, keyed by id, in the form's order.

    A box of the form with no reading at all counts as uncertain (_state): nobody saw it, so
    nothing says it is empty. Its page was not found (the missing_form_page flag names it), or
    was found without it (a moved page's reader did not reach it: see apply.unseen_flags).
    """
    indexed = index_marks(marks)
    items = {it.id: item_answer(it, indexed) for it in form.items}
    declarations = {d.id: declaration_answer(d, indexed) for d in form.declarations}
    return items, declarations


def choice_states(item: Item, answer: ItemAnswer) -> dict[str, MarkState]:
    """The state of each choice bracket of an item, for points and flags."""
    return {m.option: m.state for m in answer.marks if m.option in {c.key for c in item.choices}}
