"""Draw the whole printing (cover + answer sheet) and return the PDF with the layout it drew.

Blocks are measured first, then placed on pages without ever splitting one; then every page is
drawn with its furniture (corner marks, QR code, page code, page x / y).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import segno
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.printing.blocks import AnswerSheet, Block
from pipeline.form.printing.cover import draw_cover
from pipeline.form.printing.sheet import PageRecord, Sheet
from pipeline.form.printing.style import MARK_INSET_PT, MARK_PT, QR_MODULE_PT, PrintStyle
from pipeline.model.records import FormDef

log = logging.getLogger(__name__)

PageHook = Callable[[Canvas, Sheet], None]


@dataclass(frozen=True)
class Printed:
    """A drawn printing: its PDF bytes and, per page, what was drawn where."""

    pdf: bytes
    pages: tuple[PageRecord, ...]


def page_code(form_name: str, number: int) -> str:
    """The code printed (as text and QR) on page `number` of our printing of form `form_name`."""
    return f"ISPMARK-{form_name}-P{number:02d}"


def paginate(style: PrintStyle, blocks: list[Block]) -> list[list[tuple[Block, float]]]:
    """Place blocks top-down on pages; a block that does not fit starts a new page."""
    probe = Sheet(style)
    pages: list[list[tuple[Block, float]]] = [[]]
    y = probe.top
    for block in blocks:
        probe.record = PageRecord(0, "answer", style.page_size)
        height = block.draw(probe, 0.0)
        if pages[-1] and y + height > probe.bottom:
            pages.append([])
            y = probe.top
        if y + height > probe.bottom:
            log.warning("%s: block %s (%.0f pt) is taller than a page", style.name, block.key, height)
        pages[-1].append((block, y))
        y += height
    return pages


def render(
    form: FormDef,
    style: PrintStyle,
    *,
    skip: frozenset[str] = frozenset(),
    page_hook: PageHook | None = None,
) -> Printed:
    """Draw the printing of `form` in `style`; `skip` leaves items out (to test calibrate).

    page_hook(canvas, sheet) runs after a page is drawn and before it is closed (widgets go there).
    """
    answer = AnswerSheet(form)
    placed = paginate(style, answer.blocks(skip))
    total = 1 + len(placed)
    buf = io.BytesIO()
    canvas = Canvas(
        buf, pagesize=style.page_size, invariant=1, pageCompression=1, initialFontName=style.body, initialFontSize=style.body_size
    )
    canvas.setTitle(f"{form.title} / 審査項目回答書")
    canvas.setAuthor("インターネット接続サービス安全・安心マーク推進協議会")
    canvas.setSubject(form.name)
    records: list[PageRecord] = []
    for number in range(1, total + 1):
        code = page_code(form.name, number) if style.marks else None
        record = PageRecord(number, "cover" if number == 1 else "answer", style.page_size, code)
        sheet = Sheet(style, canvas, record)
        furniture(sheet, form, number, total)
        if number == 1:
            draw_cover(sheet, form)
        else:
            for block, y in placed[number - 2]:
                block.draw(sheet, y)
        if page_hook is not None:
            page_hook(canvas, sheet)
        canvas.showPage()
        records.append(record)
    canvas.save()
    return Printed(buf.getvalue(), tuple(records))


def furniture(sh: Sheet, form: FormDef, number: int, total: int) -> None:
    """Corner marks, QR code and page code (our printing only), running head, page x / y."""
    style = sh.style
    small = style.small_size
    if style.marks:
        for left in (True, False):
            for top in (True, False):
                x0 = MARK_INSET_PT if left else sh.width - MARK_INSET_PT - MARK_PT
                y0 = MARK_INSET_PT if top else sh.height - MARK_INSET_PT - MARK_PT
                bbox = (x0, y0, x0 + MARK_PT, y0 + MARK_PT)
                sh.rect(bbox, stroke=False, fill=0.0)
                sh.record.anchors.append(tuple(round(v, 2) for v in bbox))  # type: ignore[arg-type]
        code = sh.record.code or ""
        qr = segno.make(code, error="m", micro=False)
        side = len(qr.matrix) * QR_MODULE_PT
        qx1 = sh.width - MARK_INSET_PT - MARK_PT - 12
        qy0 = MARK_INSET_PT
        draw_qr(sh, qr.matrix, qx1 - side, qy0)
        sh.text(qx1 - sh.w(code, sh.heading, 6.5), qy0 + side + 8, code, sh.heading, 6.5)
        head = form.title if number == 1 else f"{form.title}　審査項目回答書"
        sh.text(MARK_INSET_PT + MARK_PT + 12, MARK_INSET_PT + 9, head, sh.heading, small, gray=0.35)
    footer = f"{number} / {total}"
    sh.text((sh.width - sh.w(footer, size=small)) / 2, sh.height - style.margins[3] / 2 + 2, footer, size=small)


def draw_qr(sh: Sheet, matrix: Any, x: float, y: float) -> None:
    """The QR symbol as filled squares (one path), module by module, runs merged."""
    if sh.c is None:
        return
    m = QR_MODULE_PT
    path = sh.c.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + start * m, sh.height - (y + (r + 1) * m), (c - start) * m, m)
            else:
                c += 1
    sh.c.setFillGray(0)
    sh.c.drawPath(path, stroke=0, fill=1)
