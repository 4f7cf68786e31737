"""Find the fields of the people who sign: the cover's applicant block and the contact blocks after the closing line.

The cover is the page without items that shows most of the cover labels; a contact block
starts at its title line (【回答者】) or its intro sentence.
"""

from __future__ import annotations

from pipeline.form.calibrate.anchors import Anchor
from pipeline.form.calibrate.found import Found
from pipeline.form.calibrate.match import norm, starts_like
from pipeline.form.calibrate.places import END, Blank, LineKey, date_groups, labelled_date, seal_box, seal_glyphs
from pipeline.form.calibrate.scan import Line, PageScan
from pipeline.form.printing.style import SEAL_HALF_PT
from pipeline.model.records import Contact, FieldKind, FormDef


def cover_page(blank: Blank, form: FormDef, found: Found) -> PageScan | None:
    """The page without items that starts lines with most cover labels (at least half of them)."""
    labels = [norm(f.label) for f in form.cover_fields]
    best, score = None, 0
    for s in blank.scans:
        if found.items[s.number]:
            continue
        n = sum(1 for lab in labels if any(line.norm.startswith(lab) for line in s.lines))
        if n > score:
            best, score = s, n
    if best is None or score < max(1, len(labels) // 2):
        return None
    return best


def find_cover(blank: Blank, form: FormDef, found: Found) -> None:
    """Place the cover's fields, its date and the applicant's seal; a printing without a cover is noted."""
    best = cover_page(blank, form, found)
    if best is None:
        if form.cover_fields:
            found.notes.append("no cover page found: the printing has only the answer sheet")
        return
    found.cover_page = best.number
    lines = best.lines
    used: set[int] = set()
    for f in form.cover_fields:
        name = f"applicant.{f.key}"
        if f.label.endswith("年月日"):
            hit = labelled_date(blank, lines, f.label)
            if hit:
                used.add(id(hit[0]))
                found.add_field(best.number, name, "applicant", "date", hit[1], hit[2])
            else:
                found.unplaced.append(name)
            continue
        labelled = blank.label_field(lines, f.label)
        if labelled is None:
            found.unplaced.append(name)
            continue
        line, box, framed = labelled
        used.add(id(line))
        kind: FieldKind = "url" if f.key == "url" else "text"
        found.add_field(best.number, name, "applicant", kind, box, framed)
    dates = [(ln, b) for ln in lines if id(ln) not in used for b in date_groups(ln, margin=blank.left_edge)]
    if dates:
        found.add_field(best.number, "applicant.date", "applicant", "date", dates[0][1])
    else:
        found.unplaced.append("applicant.date")
    seals = seal_glyphs(lines)
    if seals:
        found.add_field(best.number, "applicant.seal", "applicant", "seal", seal_box(seals[0][1]))
    else:
        found.unplaced.append("applicant.seal")


def find_contacts(blank: Blank, form: FormDef, anchors: list[Anchor], found: Found) -> None:
    """Place the closing line's date and every contact block's fields (and its seal), after the closing line."""
    contacts = form.texts.contacts
    if not contacts:
        return
    closing = next((a for a in anchors if a.kind == "closing"), None)
    start = closing.key if closing else None
    if start is None:
        found.unplaced += [f"{c.id}.{f.key}" for c in contacts for f in c.fields]
        return
    tail = [line for line in blank.lines if line.key() >= start]
    starts = block_starts(contacts, tail, start)
    first_date = next(((ln, b) for ln in tail for b in date_groups(ln, margin=blank.left_edge)), None)
    if first_date:
        found.add_field(first_date[0].page, f"{contacts[0].id}.date", contacts[0].id, "date", first_date[1])
    elif contacts[0].date_line:
        found.unplaced.append(f"{contacts[0].id}.date")
    for i, c in enumerate(contacts):
        end = starts[i + 1] if i + 1 < len(contacts) else END
        find_contact_fields(blank, c, [ln for ln in tail if starts[i] <= ln.key() < end], found)


def block_starts(contacts: tuple[Contact, ...], tail: list[Line], start: LineKey) -> list[LineKey]:
    """Where each contact block starts: its title line (【回答者】) or its intro sentence, in order."""
    starts: list[LineKey] = []
    for i, c in enumerate(contacts):
        title, intro = c.title, c.intro
        block = next(
            (
                ln
                for ln in tail
                if (not starts or ln.key() > starts[-1])
                and ((title and ln.norm.strip("()【】[]") == norm(title)) or (intro and starts_like(ln, intro[:24])))
            ),
            None,
        )
        starts.append(block.key() if block else (start if i == 0 else starts[-1]))
    return starts


def find_contact_fields(blank: Blank, contact: Contact, lines: list[Line], found: Found) -> None:
    """The labelled lines of one contact block, in order, and the 印 beside a sealed one."""
    owner = contact.id
    after: LineKey | None = None
    for f in contact.fields:
        name = f"{owner}.{f.key}"
        hit = blank.label_field(lines, f.label, after)
        if hit is None:
            found.unplaced.append(name)
            continue
        line, box, framed = hit
        after = line.key()
        found.add_field(line.page, name, owner, "text", box, framed)
        if f.sealed:
            seals = [g for ln, g in seal_glyphs([line])]
            near = [ln for ln in lines if abs(ln.base - line.base) < 2 * SEAL_HALF_PT]
            seals = seals or [g for ln, g in seal_glyphs(near)]
            if seals:
                found.add_field(line.page, f"{owner}.seal", owner, "seal", seal_box(seals[0]))
            else:
                found.unplaced.append(f"{owner}.seal")
