"""The cover sheet (申請書): date, addressee, title, intro, the applicant's fields, the council's box."""

from __future__ import annotations

from pipeline.form.printing.sheet import Sheet
from pipeline.form.printing.style import FIELD_GAP_PT, SEAL_HALF_PT, UNDERLINE_DROP_PT
from pipeline.model.records import CoverTexts, FieldKind, FormDef

# Cover keys that sit beside the company seal when items.yaml does not mark them `sealed`.
_SEALED_DEFAULT = ("company_name", "representative")


def cover_intro(form: FormDef, cover: CoverTexts) -> str:
    """The intro sentence, with the application's name taken from form.yaml's title.

    items.yaml's intro names the renewal (「…使用許諾更新申請を行います」); a form whose title
    differs (the new application) gets the same sentence with the titles' difference applied.
    """
    intro = cover.intro
    old, new = cover.title or form.title, form.title
    if old == new:
        return intro
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    ctx_l, ctx_r = old[max(0, head - 2) : head], old[len(old) - tail : len(old) - tail + 2]
    old_core, new_core = old[head : len(old) - tail], new[head : len(new) - tail]
    return intro.replace(ctx_l + old_core + ctx_r, ctx_l + new_core + ctx_r)


def draw_cover(sh: Sheet, form: FormDef) -> None:
    cover = form.texts.cover
    size = sh.style.body_size + 1.0
    pitch = size * 1.7
    y = sh.top
    # date line, right-aligned
    width = sh.date_width(size)
    sh.date_group(sh.right - width, sh.baseline(y, size, pitch), "applicant.date", "applicant", size=size)
    y += pitch * 1.3
    for line in cover.addressee:
        sh.text(sh.left, sh.baseline(y, size, pitch), line, size=size)
        y += pitch
    y += pitch
    tsize = sh.style.heading_size + 6
    title = form.title
    sh.text((sh.width - sh.w(title, sh.heading, tsize)) / 2, sh.baseline(y, tsize, tsize * 2, sh.heading), title, sh.heading, tsize)
    y += tsize * 2 + pitch * 0.6
    y = sh.paragraph(sh.left + size, y, cover_intro(form, cover), size=size, pitch=pitch, hang=-size)
    y += pitch
    y = draw_cover_fields(sh, y, form, size)
    y += pitch * 0.8
    draw_office_box(sh, y, cover, size)


def draw_cover_fields(sh: Sheet, y: float, form: FormDef, size: float) -> float:
    cover = form.texts.cover
    field_pitch = size * 2.9
    x = sh.left + size
    column = x + sh.w("サービス名：", size=size) + 2 * size
    sealed = [f.key for f in form.cover_fields if f.sealed]
    if not sealed:
        sealed = [k for k in _SEALED_DEFAULT if any(f.key == k for f in form.cover_fields)]
    seal_rows: list[float] = []
    for f in form.cover_fields:
        label = f.label if f.label.endswith(("：", ":")) else f.label + "："
        name = f"applicant.{f.key}"
        base = sh.baseline(y, size, field_pitch)
        if f.label.endswith("年月日"):
            end = sh.text(x, base, f.label, size=size)
            sh.date_group(max(end + FIELD_GAP_PT, column), base, name, "applicant", size=size)
        else:
            kind: FieldKind = "url" if f.key == "url" else "text"
            prefix = f.prefix or (cover.address_prefix if f.key == "address" else "")
            suffix = f.suffix or (cover.user_count_note if f.key == "user_count" else "")
            x_end = sh.right - 2 * SEAL_HALF_PT - 10 if f.key in sealed else sh.right
            end = sh.text(x, base, label, size=size)
            x0 = max(end + FIELD_GAP_PT, column)
            if prefix:
                x0 = sh.text(x0, base, prefix, size=size) + FIELD_GAP_PT
            if suffix:  # e.g. 「人（差し支えない範囲で、かつ概数で結構です）」 right after a short line
                x_end = x0 + 11 * size
                sh.text(x_end + FIELD_GAP_PT, base, suffix, size=size)
            sh.hline(x0, x_end, base + UNDERLINE_DROP_PT, width=0.5)
            sh.add_field(name, "applicant", kind, sh.field_bbox(x0, x_end, base, size))
            if f.key in sealed:
                seal_rows.append(y + field_pitch / 2)
        y += field_pitch
    if seal_rows:
        sh.seal(sh.right - SEAL_HALF_PT, sum(seal_rows) / len(seal_rows), "applicant.seal", "applicant")
    return y


def draw_office_box(sh: Sheet, y: float, cover: CoverTexts, size: float) -> None:
    """The 協議会処理欄 table: a header, the licence number cell, and a grid of dated cells."""
    cells = list(cover.office_cells)
    if not cells:
        return
    small = sh.style.small_size
    head_h, cell_h = small * 2.0, small * 4.4
    rows = -(-(len(cells) - 1) // 5)
    y = max(y, sh.bottom - (head_h + 10 + rows * (head_h + cell_h)))  # at the foot of the page, as on the council's form
    width = sh.right - sh.left
    number_w = width * 0.42
    sh.text(sh.left, y + head_h - 0.5 * small, cover.office_header, size=small)
    # licence number: a header cell and a value cell on the right of the note
    x0 = sh.right - number_w
    sh.rect((x0, y, x0 + number_w * 0.4, y + head_h + 4), width=0.6, fill=0.88)
    sh.text(x0 + 4, y + head_h - 0.2 * small, cells[0], sh.heading, small)
    sh.rect((x0 + number_w * 0.4, y, sh.right, y + head_h + 4), width=0.6)
    y += head_h + 4 + 6
    cols = 5
    col_w = width / cols
    rest = cells[1:]
    for row_start in range(0, len(rest), cols):
        row = rest[row_start : row_start + cols]
        for i, text in enumerate(row):
            cx = sh.left + i * col_w
            sh.rect((cx, y, cx + col_w, y + head_h), width=0.6, fill=0.88)
            fit = min(small, small * (col_w - 6) / sh.w(text, sh.heading, small))
            sh.text(cx + (col_w - sh.w(text, sh.heading, fit)) / 2, y + head_h - 0.55 * small, text, sh.heading, fit)
            sh.rect((cx, y + head_h, cx + col_w, y + head_h + cell_h), width=0.6)
        y += head_h + cell_h
