"""Find the fields of items and declarations: named text blanks, URL lines, signature and seal places, report dates.

Each is looked for inside its owner's region, from its label (items.yaml's blank labels,
署名（肉筆）押印, トップページ / 該当 URL, 年 月 日).
"""

from __future__ import annotations

from pipeline.form.calibrate.anchors import Anchor, region
from pipeline.form.calibrate.found import Found, rounded
from pipeline.form.calibrate.match import norm
from pipeline.form.calibrate.places import DATE_GAP_EM, Blank, date_groups, field_box, seal_box, seal_glyphs
from pipeline.form.calibrate.scan import Glyph, Line
from pipeline.form.printing.style import FIELD_GAP_PT, SIGN_GAP_PT
from pipeline.model.records import BBox, FieldLayout, FormDef, Item

WRAPPED_ROOM_EM = 0.8  # a wrapped date's first part needs this much room to write in (a digit); 「：年」 has none (seeds 87807, 87847: 0)
_URL_LABELS = (("トップページ", "url_top"), ("該当URL", "url_target"))


def find_item_fields(blank: Blank, form: FormDef, anchors: list[Anchor], found: Found) -> None:
    """Place every item's blanks, signature and seal, and URL lines; list the ones left unplaced."""
    for item in form.items:
        reg = region(anchors, item.id)
        expected = [f"{item.id}.{b.name}" for b in item.blanks]
        if "sign" in item.evidence:
            expected += [f"{item.id}.signature", f"{item.id}.seal"]
        if item.url_path:
            expected += [f"{item.id}.url_top", f"{item.id}.url_target"]
        if reg is None:
            found.unplaced += expected
            continue
        lines = blank.lines_in(*reg)
        placed: set[str] = set()
        for b in item.blanks:
            hit = blank.label_field(lines, b.label)
            if hit:
                line, box, framed = hit
                found.add_field(line.page, f"{item.id}.{b.name}", item.id, "text", box, framed)
                placed.add(f"{item.id}.{b.name}")
                continue
            space = blank.space_below(lines, b.label)  # answer space under a sentence
            if space:
                found.fields[space[0]].append(FieldLayout(f"{item.id}.{b.name}", item.id, "text", rounded(space[1])))
                placed.add(f"{item.id}.{b.name}")
        if "sign" in item.evidence:
            placed |= find_signature(blank, item.id, lines, found)
        if item.url_path:
            placed |= find_url_lines(blank, item, lines, found)
        found.unplaced += [n for n in expected if n not in placed]


def find_url_lines(blank: Blank, item: Item, lines: list[Line], found: Found) -> set[str]:
    """The トップページ and 該当 URL lines: the field starts after their printed http://."""
    placed: set[str] = set()
    for label, name in _URL_LABELS:
        for line in lines:
            if line.norm.startswith(label) and "http://" in line.norm:
                pos = line.norm.index("http://") + len("http://") - 1
                last = line.glyphs[line.index[pos]]
                rest = [g for g in line.glyphs if g.x0 > last.x1 + 0.1]
                x0, x1 = blank.writing_span(line, last, rest)
                found.add_field(line.page, f"{item.id}.{name}", item.id, "url", field_box(line, x0, x1, last.size))
                placed.add(f"{item.id}.{name}")
                break
    return placed


def find_signature(blank: Blank, owner: str, lines: list[Line], found: Found) -> set[str]:
    """The signature area after 署名（肉筆）押印 and the seal spot at the first 印 from there; the names placed."""
    label = norm("署名（肉筆）押印")
    for line in lines:
        if label not in line.norm:
            continue
        pos = line.norm.index(label) + len(label)
        while pos < len(line.norm) and line.norm[pos] == ":":
            pos += 1
        last = line.glyphs[line.index[pos - 1]]
        seals = [(ln, g) for ln, g in seal_glyphs(lines) if ln.key() >= line.key()]
        if not seals:
            return set()
        seal = seal_box(seals[0][1])
        found.add_field(line.page, f"{owner}.seal", owner, "seal", seal)
        x0 = last.x1 + FIELD_GAP_PT
        if seal[0] - SIGN_GAP_PT - x0 >= 30:
            sign = (x0, seal[1], seal[0] - SIGN_GAP_PT, seal[3])
        else:  # 印 below the label (as Word forms often have it): the line itself
            sign = field_box(line, x0, blank.right_edge, last.size)
        found.add_field(line.page, f"{owner}.signature", owner, "signature", sign)
        return {f"{owner}.seal", f"{owner}.signature"}
    return set()


def find_declaration_dates(blank: Blank, form: FormDef, anchors: list[Anchor], found: Found) -> None:
    """The 年 月 日 of a declaration whose sub option asks for a date (提出年月日)."""
    for d in form.declarations:
        if not any(o.role == "sub" and "年月日" in norm(o.text) for o in d.options):
            continue
        reg = region(anchors, d.id)
        hit = None
        if reg is not None:
            lines = blank.lines_in(*reg)
            hit = next(((line, b) for line in lines for b in date_groups(line, margin=blank.left_edge)), None)
            hit = hit or wrapped_date(blank, lines, found.notes, d.id)
        if hit is None:
            found.unplaced.append(f"{d.id}.reported_date")
            continue
        found.add_field(hit[0].page, f"{d.id}.reported_date", d.id, "date", hit[1])


def wrapped_date(blank: Blank, lines: list[Line], notes: list[str] | None = None, owner: str = "") -> tuple[Line, BBox] | None:
    """A date whose 「年」 or 「年　月」 ends one line and whose 「月　日」 or 「日」 Word wrapped to the start of the next: the place after the colon on the first line.

    The first line ends with the date's first part (its era name, 年, maybe 月, spaced apart
    for writing), the next starts with the rest, so that both together read 年 月 日. A date
    typed there (「令和6年5月1日」) reflows as one run from the colon on; a handwritten day
    (and month) on the next line fall outside the place, and the reading is then uncertain
    (its pattern wants a whole date), never a wrong date. A first line with no room to write
    in its part (「：年」 with 年 right after the colon, 「月　日」 wrapped) is no place: the year
    is written over the colon and the rest on the next line, all outside it, and the date would
    read empty; it is left unplaced (read not_located, for the reviewer) with a note in `notes`
    (bench_calibrate seeds 87807, 87812, 87836, 87847).
    """
    for a, b in zip(lines, lines[1:]):
        ga = [g for g in a.glyphs if g.text.strip()]
        gb = [g for g in b.glyphs if g.text.strip()][:4]
        if a.page != b.page or not ga:
            continue
        head = _date_head(ga)
        rest = "年月日"[len(head) :]
        if not head or "".join(g.text for g in gb[: len(rest)]) != rest:
            continue
        colon = [g for g in ga if norm(g.text) == ":" and g.x1 <= head[0].x0 + 0.1]
        x0 = colon[-1].x1 if colon else head[0].x0 - 4 * head[0].size
        room = head[0].x0 - x0 + sum(g.x0 - h.x1 for h, g in zip(head, head[1:]))  # before 年, and between 年 and 月
        if room < WRAPPED_ROOM_EM * head[0].size:
            if notes is not None:
                notes.append(f"{owner}.reported_date: its 「{''.join(g.text for g in head)}」 ends page {a.page}'s line with no room to write before it (the rest wrapped to the next line); left unplaced")
            continue
        return a, field_box(a, x0, max(blank.right_margin, head[-1].x1), head[-1].size)
    return None


def _date_head(glyphs: list[Glyph]) -> list[Glyph]:
    """The 「年」 or 「年　月」 that ends a line (after a colon, an era name or room to write; 月 with room before it): a date's first part, else []."""
    head: list[Glyph] = []
    for g in reversed(glyphs):
        if g.text not in "年月":
            break
        head.insert(0, g)
    first = len(glyphs) - len(head)
    if "".join(g.text for g in head) not in ("年", "年月") or first == 0:
        return []
    before = glyphs[first - 1]
    opens = norm(before.text) == ":" or before.text in "和成" or head[0].x0 - before.x1 >= DATE_GAP_EM * head[0].size
    if not opens or (len(head) == 2 and head[1].x0 - head[0].x1 < DATE_GAP_EM * head[1].size):
        return []
    return head
