"""Build templates/dossier.docx and templates/certificate.docx with python-docx.

Run `python templates/make_templates.py` to rebuild them. The committed .docx files are ordinary
Word documents: staff may change their wording and look in Word (keep the {{ … }} / {% … %}
tags intact); this script is only there so the starting point is reproducible.

Conventions the templates follow (docxtpl):
* each Jinja tag sits in one run (Word may split runs when text is edited; docxtpl re-joins them);
* `{%tr … %}` rows repeat table rows, `{%p … %}` paragraphs repeat or hide paragraphs;
* `{% cellbg it.shade %}` colours a cell; images ({{ x.image }}) are crops put in by render.py.
Fonts: IPAexMincho for text, IPAexGothic for headings and tables, set for ASCII *and* East Asian
text (w:eastAsia), so Word and LibreOffice both show Japanese right.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from pipeline.output.dossier.template import fix_element_order  # noqa: E402 - after the path is set


def save(doc: Document, path: Path) -> None:
    """Save with every property element in schema order (Word refuses files that are not)."""
    fix_element_order(doc.element)
    fix_element_order(doc.styles.element)
    doc.save(path)


MINCHO = "IPAexMincho"
GOTHIC = "IPAexGothic"
NAVY = RGBColor(0x1F, 0x38, 0x64)
RED = RGBColor(0xC0, 0x00, 0x00)
ORANGE = RGBColor(0xB2, 0x5B, 0x00)
GREEN = RGBColor(0x1B, 0x5E, 0x20)
GREY = RGBColor(0x59, 0x59, 0x59)
HEAD_FILL = "DCE3EE"
LABEL_FILL = "F2F2F2"


# --- low-level helpers ------------------------------------------------------------------------


def set_fonts(rpr_parent: object, latin: str, east_asian: str) -> None:
    """Set ascii/hAnsi/cs and eastAsia fonts on an element's rPr, dropping theme fonts."""
    rpr = rpr_parent.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:cs", latin), ("w:eastAsia", east_asian)):
        fonts.set(qn(attr), name)


def set_lang(rpr_parent: object) -> None:
    rpr = rpr_parent.get_or_add_rPr()  # type: ignore[attr-defined]
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "ja-JP")


def setup_styles(doc: Document, body_pt: float = 10.0) -> None:
    styles = doc.styles
    # Document defaults (what any run without a style falls back to).
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr, name in (("w:ascii", MINCHO), ("w:hAnsi", MINCHO), ("w:cs", MINCHO), ("w:eastAsia", MINCHO)):
        fonts.set(qn(attr), name)

    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "ja-JP")
    ppr_default = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    for spacing in ppr_default.findall(qn("w:spacing")):
        ppr_default.remove(spacing)

    normal = styles["Normal"]
    # No snapping to the document grid: LibreOffice would fix every line to the grid's pitch and
    # let inline images (crops) spill over the rows of a table.
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    normal.element.get_or_add_pPr().append(snap)
    set_fonts(normal.element, MINCHO, MINCHO)
    set_lang(normal.element)
    normal.font.size = Pt(body_pt)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing = 1.1

    for name, size, before, after in (("Title", 18, 0, 6), ("Heading 1", 14, 10, 6), ("Heading 2", 11.5, 8, 3)):
        st = styles[name]
        set_fonts(st.element, GOTHIC, GOTHIC)
        st.font.size = Pt(size)
        st.font.bold = name != "Title"
        st.font.italic = False
        st.font.color.rgb = NAVY
        st.paragraph_format.space_before = Pt(before)
        st.paragraph_format.space_after = Pt(after)
        st.paragraph_format.keep_with_next = True
    title_ppr = styles["Title"].element.get_or_add_pPr()
    for border in title_ppr.findall(qn("w:pBdr")):  # python-docx's Title has a blue rule
        title_ppr.remove(border)
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # Heading 1 carries a rule under it, like a council report.
    h1 = styles["Heading 1"].element.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "8"), ("w:space", "2"), ("w:color", "1F3864")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    h1.append(bdr)

    # A small Gothic style for tables.
    table_text = styles.add_style("表本文", 1)  # 1 = paragraph style
    table_text.base_style = normal
    set_fonts(table_text.element, GOTHIC, GOTHIC)
    table_text.font.size = Pt(8)
    table_text.paragraph_format.line_spacing = 1.0


def a4(doc: Document, top: float = 15, bottom: float = 20, side: float = 15) -> None:
    """A4 portrait; the bottom margin leaves room for the footer the PDF step stamps."""
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(top), Mm(bottom)
    sec.left_margin = sec.right_margin = Mm(side)
    sec.header_distance = sec.footer_distance = Mm(8)
    grid = sec._sectPr.find(qn("w:docGrid"))
    if grid is not None:
        sec._sectPr.remove(grid)


def run(
    p: object, text: str, *, bold: bool = False, size: float | None = None, color: RGBColor | None = None, gothic: bool = False
) -> object:
    r = p.add_run(text)  # type: ignore[attr-defined]
    if bold:
        r.bold = True
    if size:
        r.font.size = Pt(size)
    if color is not None:
        r.font.color.rgb = color
    if gothic:
        set_fonts(r._element, GOTHIC, GOTHIC)
    return r


def para(container: object, text: str = "", *, style: str | None = None, align: str | None = None, **kw: object) -> object:
    p = container.add_paragraph(style=style)  # type: ignore[attr-defined]
    if text:
        run(p, text, **kw)  # type: ignore[arg-type]
    if align:
        p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT, "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    return p


def cell_para(cell: object, text: str = "", *, first: bool = True, **kw: object) -> object:
    """The cell's first (empty) paragraph, or a new one, in the table style."""
    p = cell.paragraphs[0] if first else cell.add_paragraph()  # type: ignore[attr-defined]
    p.style = "表本文"
    if text:
        run(p, text, **kw)  # type: ignore[arg-type]
    return p


def shade(cell: object, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def valign(cell: object, where: str = "center") -> None:
    tcpr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    v = OxmlElement("w:vAlign")
    v.set(qn("w:val"), where)
    tcpr.append(v)


def table(doc: Document, rows: int, widths_mm: list[float], *, style: str = "Table Grid") -> object:
    t = doc.add_table(rows=rows, cols=len(widths_mm))
    t.style = style
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tblpr = t._tbl.tblPr  # autofit = False already wrote <w:tblLayout w:type="fixed"/>
    margins = OxmlElement("w:tblCellMar")  # a little air around the text in each cell
    for side, dxa in (("top", 17), ("left", 85), ("bottom", 17), ("right", 85)):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(dxa))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tblpr.append(margins)
    for row in t.rows:
        for cell, w in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(w)
    for col, w in zip(t.columns, widths_mm, strict=True):
        col.width = Mm(w)
    return t


def header_row(t: object, labels: list[str], repeat: bool = True) -> None:
    row = t.rows[0]  # type: ignore[attr-defined]
    for cell, label in zip(row.cells, labels, strict=True):
        cell_para(cell, label, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        shade(cell, HEAD_FILL)
        valign(cell)
    if repeat:
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:tblHeader"))


def no_split(row: object) -> None:
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    trpr.append(OxmlElement("w:cantSplit"))


def tag_row(t: object, tag: str) -> None:
    """A row holding only a {%tr … %} tag (docxtpl removes the row itself)."""
    row = t.add_row()  # type: ignore[attr-defined]
    cell_para(row.cells[0], tag)


def loop_rows(t: object, loop: str, cells: list[object], endloop: str = "{%tr endfor %}") -> object:
    """Add `{%tr for … %}`, one templated row (cells filled by callables), `{%tr endfor %}`."""
    tag_row(t, loop)
    row = t.add_row()  # type: ignore[attr-defined]
    for cell, fill in zip(row.cells, cells, strict=True):
        if callable(fill):
            fill(cell)
        else:
            cell_para(cell, str(fill))
        valign(cell, "top")
    tag_row(t, endloop)
    return row


def marked(p: object, cond: str, mark: str, color: RGBColor) -> None:
    """`{% if cond %}` coloured mark `{% endif %}` inside one paragraph."""
    run(p, "{% if " + cond + " %}")
    run(p, mark, bold=True, color=color)
    run(p, "{% endif %}")


def loop_in_paragraph(p: object, loop: str, body: object) -> None:
    """`{% for loop %}` body, line break between entries, `{% endfor %}` — all in one paragraph.

    Keeping the loop inside one paragraph means a table cell never ends up without a paragraph
    when the list is empty (Word calls such a file corrupt).
    """
    run(p, "{% for " + loop + " %}")
    body(p)  # type: ignore[operator]
    run(p, "{% if not loop.last %}")
    p.add_run().add_break()  # type: ignore[attr-defined]
    run(p, "{% endif %}")
    run(p, "{% endfor %}")


def page_break(doc: Document) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


# --- the dossier --------------------------------------------------------------------------------


def build_dossier(path: Path) -> None:
    doc = Document()
    a4(doc)
    setup_styles(doc, body_pt=9.5)
    doc.core_properties.title = "審査調書"
    doc.core_properties.author = "{{ doc.council_name }}"

    # ---- cover ----
    para(doc, "{{ doc.council_name }}　審査資料", align="right", size=9, color=GREY)
    para(doc, "作成日　{{ doc.generated }}", align="right", size=9, color=GREY)
    para(doc, "")
    para(doc, "安全・安心マーク使用許諾{{ doc.kind_label }}申請", style="Title")
    para(doc, "審　査　調　書", style="Title")
    p = para(doc, "", align="center")
    run(p, "{{ company }}　／　{{ service }}", size=12, gothic=True)
    p = para(doc, "", align="center")
    run(p, "受付名：{{ doc.submission }}　　様式：{{ doc.form }}", size=9, color=GREY)
    para(doc, "")

    doc.add_heading("審査結果", level=1)
    t = table(doc, 5, [38, 142])
    labels = ["判定", "判定理由", "必須項目", "推奨点", "指摘"]
    for row, label in zip(t.rows, labels, strict=True):
        cell_para(row.cells[0], label, bold=True, size=10)
        shade(row.cells[0], LABEL_FILL)
        valign(row.cells[0])
        valign(row.cells[1])
    c = t.rows[0].cells[1]
    p = cell_para(c)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, "{% cellbg decision.shade %}")
    run(p, "{% if decision.is_pass %}")
    run(p, "合　格", bold=True, size=26, color=GREEN)
    run(p, "{% elif decision.is_fail %}")
    run(p, "不合格", bold=True, size=26, color=RED)
    run(p, "{% else %}")
    run(p, "要確認", bold=True, size=26, color=ORANGE)
    run(p, "{% endif %}")
    p = cell_para(c, first=False)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, "{% if decision.is_pass %}")
    run(p, "合格証を発行します（使用許諾番号 {{ decision.license_number }}）", size=8.5, color=GREY)
    run(p, "{% elif decision.is_fail %}")
    run(p, "合格基準を満たしていません", size=8.5, color=GREY)
    run(p, "{% else %}")
    run(p, "未確定の事項があります。要確認事項を確認し、review.yaml で確定してください", size=8.5, color=GREY)
    run(p, "{% endif %}")
    p = cell_para(t.rows[1].cells[1])
    loop_in_paragraph(p, "r in reasons", lambda p: run(p, "・{{ r }}", size=9))
    run(p, "{% if not reasons %}")
    run(p, "（記載なし）", size=9)
    run(p, "{% endif %}")
    p = cell_para(t.rows[2].cells[1])
    marked(p, "not score.required_ok", "✕ ", RED)
    run(p, "{{ score.required_met }} / {{ score.required_total }} 項目を充足", size=11, bold=True)
    p = cell_para(t.rows[3].cells[1])
    marked(p, "not score.points_ok", "✕ ", RED)
    run(p, "{{ score.points_text }} 点 / {{ score.points_max }} 点", size=11, bold=True)
    run(p, "（合格基準 {{ score.threshold }} 点以上）", size=9)
    p = cell_para(t.rows[3].cells[1], first=False)
    run(p, "{% if score.unresolved %}")
    run(p, "未確定の項目があるため範囲で示しています（未確定：{{ score.unresolved }}）。", size=8.5, color=ORANGE)
    run(p, "{% endif %}")
    p = cell_para(t.rows[3].cells[1], first=False)
    loop_in_paragraph(p, "o in outlook", lambda p: run(p, "▶ {{ o }}", size=8.5, bold=True))
    p = cell_para(t.rows[4].cells[1])
    run(p, "エラー {{ flags.error }} 件", bold=True, color=RED, size=10)
    run(p, "　／　警告 {{ flags.warning }} 件　／　情報 {{ flags.info }} 件", size=10)
    run(p, "　（要確認事項 {{ attention|length }} 件）", size=9, color=GREY)

    doc.add_heading("審査の記録（様式の事務局欄）", level=2)
    t = table(doc, 1, [38, 90, 52])
    header_row(t, ["審査", "審査者（署名）", "日付"], repeat=False)

    def signed_row(cell: object) -> None:
        p = cell_para(cell)
        run(p, "{{ s.reviewer }}", size=10.5)

    loop_rows(t, "{%tr for s in signoff %}", ["{{ s.round }}", signed_row, "{{ s.date }}"])
    no_split(t.rows[-2])
    t.rows[-2].height = Mm(9)

    doc.add_heading("申請者", level=2)
    t = table(doc, 1, [24, 70, 50, 36])
    header_row(t, ["項目", "読み取った内容", "申請書の記入（画像）", "読取"], repeat=False)

    def label_cell(cell: object) -> None:
        cell_para(cell, "{{ a.label }}", bold=True)

    def value_cell(cell: object) -> None:
        p = cell_para(cell)
        run(p, "{{ a.value }}", size=9.5)

    def image_cell(cell: object) -> None:
        p = cell_para(cell)
        run(p, "{{ a.image }}")

    def status_cell(cell: object) -> None:
        p = cell_para(cell)
        marked(p, "a.bad", "△ ", ORANGE)
        run(p, "{{ a.status }}")
        run(p, "　{{ a.where }}", color=GREY, size=7)

    loop_rows(t, "{%tr for a in applicant %}", [label_cell, value_cell, image_cell, status_cell])

    doc.add_heading("事前確認事項（申告）", level=2)
    t = table(doc, 1, [62, 58, 60])
    header_row(t, ["確認事項", "申告", "備考"], repeat=False)

    def decl_answer(cell: object) -> None:
        p = cell_para(cell)
        marked(p, "d.bad", "✕ ", RED)
        run(p, "{{ d.answer }}")

    loop_rows(t, "{%tr for d in declarations %}", ["{{ d.title }}", decl_answer, "{{ d.note }}"])

    doc.add_heading("指摘の内訳", level=2)
    t = table(doc, 1, [70, 30, 20, 60])
    header_row(t, ["指摘", "重要度", "件数", "項目"], repeat=False)

    def sev_cell(cell: object) -> None:
        p = cell_para(cell)
        marked(p, "f.is_error", "✕ ", RED)
        run(p, "{{ f.severity }}")

    loop_rows(t, "{%tr for f in flag_counts %}", ["{{ f.label }}", sev_cell, "{{ f.count }}", "{{ f.item_ids }}"])
    p = para(doc, "{%p if not flag_counts %}")
    para(doc, "指摘はありません。", size=9)
    para(doc, "{%p endif %}")

    doc.add_heading("提出ファイル", level=2)
    t = table(doc, 1, [78, 16, 30, 56])
    header_row(t, ["ファイル", "頁数", "種類", "状態"], repeat=False)

    def src_status(cell: object) -> None:
        p = cell_para(cell)
        marked(p, "s.bad", "✕ ", RED)
        run(p, "{{ s.status }}")

    loop_rows(t, "{%tr for s in sources %}", ["{{ s.file }}", "{{ s.pages }}", "{{ s.kind }}", src_status])

    # ---- needs your eyes ----
    page_break(doc)
    doc.add_heading("要確認事項", level=1)
    para(
        doc,
        "自動判定できなかった箇所、不備・矛盾の疑いがある箇所です。画像と原本の該当ページを確認し、"
        "訂正は review.yaml に記入して再実行してください。",
        size=9,
    )
    para(doc, "")
    para(doc, "{%p if attention %}")
    t = table(doc, 1, [9, 19, 15, 62, 30, 45])
    header_row(t, ["No", "区分", "項目", "内容", "該当箇所", "画像"])

    def att_kind(cell: object) -> None:
        p = cell_para(cell)
        marked(p, "e.is_error", "✕ ", RED)
        marked(p, "e.is_warning", "▲ ", ORANGE)
        run(p, "{{ e.kind }}")

    def att_msg(cell: object) -> None:
        p = cell_para(cell)
        run(p, "{{ e.message }}")
        cell_para(cell, "{%p if e.todo %}", first=False)
        p = cell_para(cell, first=False)
        run(p, "review.yaml の {{ e.todo_section }} の下に書く行：", size=7, color=GREY)
        p = cell_para(cell, first=False)
        run(p, "{{ e.todo }}", size=8, bold=True, color=NAVY)
        cell_para(cell, "{%p endif %}", first=False)

    loop_rows(
        t,
        "{%tr for e in attention %}",
        ["{{ e.no }}", att_kind, "{{ e.item }}", att_msg, "{{ e.where }}", lambda c: run(cell_para(c), "{{ e.image }}")],
    )
    no_split(t.rows[-2])
    para(doc, "{%p else %}")
    para(doc, "要確認事項はありません。", size=10)
    para(doc, "{%p endif %}")

    # ---- the reviewer's corrections ----
    para(doc, "{%p if corrections %}")
    doc.add_heading("審査者による訂正", level=1)
    para(doc, "review.yaml による訂正です。左の画像が機械の読み取った箇所、「機械の読取」が訂正前の値です。", size=8.5)
    para(doc, "")
    t = table(doc, 1, [16, 14, 47, 26, 26, 27, 24])
    header_row(t, ["項目", "訂正", "読み取った箇所", "機械の読取", "審査者の値", "審査者", "日付"])

    def corr_after(cell: object) -> None:
        p = cell_para(cell)
        run(p, "{% if c.applied %}")
        run(p, "→ {{ c.after }}", bold=True, color=NAVY)
        run(p, "{% else %}")
        run(p, "✕ {{ c.after }}（{{ c.reason }}）", color=RED)
        run(p, "{% endif %}")

    loop_rows(
        t,
        "{%tr for c in corrections %}",
        ["{{ c.target }}", "{{ c.what }}", lambda c: run(cell_para(c), "{{ c.image }}"), "{{ c.before }}", corr_after, "{{ c.who }}", "{{ c.when }}"],
    )
    no_split(t.rows[-2])
    para(doc, "{%p endif %}")

    # ---- item table (on a new page, unless the list above is empty: saves a sheet) ----
    para(doc, "{%p if attention or corrections %}")
    page_break(doc)
    para(doc, "{%p endif %}")
    doc.add_heading("審査項目一覧", level=1)
    para(
        doc,
        "回答欄の ✕ は不備（必須未充足・矛盾など）、▲ は要確認を示します。書類の「本調書 p.」は"
        "この調書の後半に綴じた添付資料のページです。",
        size=8.5,
    )
    para(doc, "")
    t = table(doc, 1, [13, 42, 11, 15, 55, 13, 31])
    header_row(t, ["項目", "内容", "区分", "回答", "証跡", "点数", "指摘"])
    tag_row(t, "{%tr for it in items %}")
    tag_row(t, "{%tr if it.section_header %}")
    row = t.add_row()
    merged = row.cells[0].merge(row.cells[-1])
    cell_para(merged, "{{ it.section_header }}", bold=True, size=9, color=NAVY)
    shade(merged, "EEF2F8")
    tag_row(t, "{%tr endif %}")
    row = t.add_row()
    no_split(row)
    c_id, c_title, c_kind, c_ans, c_ev, c_pts, c_flags = row.cells
    p = cell_para(c_id)
    run(p, "{% cellbg it.shade %}")
    run(p, "{{ it.id }}", bold=True)
    cell_para(c_title, "{{ it.title }}", size=7.5)
    cell_para(c_kind, "{{ it.kind }}")
    p = cell_para(c_ans)
    run(p, "{% if it.answer_bad %}")
    run(p, "✕ {{ it.answer }}", bold=True, color=RED)
    run(p, "{% else %}")
    run(p, "{{ it.answer }}")
    run(p, "{% endif %}")
    p = cell_para(c_ans, first=False)
    run(p, "{{ it.choice }}", size=7.5)

    def evidence_line(p: object) -> None:
        marked(p, "ev.bad", "✕ ", RED)
        marked(p, "ev.unsure", "▲ ", ORANGE)
        run(p, "{{ ev.label }}：", bold=True)
        run(p, "{{ ev.text }}")

    loop_in_paragraph(cell_para(c_ev), "ev in it.evidence", evidence_line)
    cell_para(c_ev, "{%p if it.images %}", first=False)
    p = cell_para(c_ev, first=False)
    run(p, "{% for im in it.images %}{{ im }} {% endfor %}")
    cell_para(c_ev, "{%p endif %}", first=False)
    p = cell_para(c_pts)
    run(p, "{% if it.points_bad %}")
    run(p, "{{ it.points }}", bold=True, color=RED)
    run(p, "{% else %}")
    run(p, "{{ it.points }}")
    run(p, "{% endif %}")
    c_pts.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER

    def flag_line(p: object) -> None:
        marked(p, "f.is_error", "✕ ", RED)
        marked(p, "f.is_warning", "▲ ", ORANGE)
        run(p, "{{ f.text }}", size=7.5)

    p = cell_para(c_flags)
    run(p, "{% cellbg it.shade %}")
    loop_in_paragraph(p, "f in it.flags", flag_line)
    for c in row.cells:
        valign(c, "top")
    tag_row(t, "{%tr endfor %}")

    # ---- attachments index ----
    doc.add_heading("添付資料一覧", level=1)
    para(
        doc,
        "添付資料は項目順に綴じ、各資料の最初のページ上部に見出しを付けています。右肩表示のない資料・項目番号として"
        "読めない資料は最後にまとめています。その後に付録として、回答書の各ページに読取結果を重ねて示しています。",
        size=8.5,
    )
    para(doc, "")
    para(doc, "{%p if attachments %}")
    t = table(doc, 1, [18, 24, 24, 62, 28, 24])
    header_row(t, ["資料", "右肩表示", "綴込み先", "元ファイル・ページ", "本調書", "読取"])

    def lbl_status(cell: object) -> None:
        p = cell_para(cell)
        marked(p, "x.bad", "▲ ", ORANGE)
        run(p, "{{ x.status }}")

    loop_rows(
        t,
        "{%tr for x in attachments %}",
        ["{{ x.id }}", "{{ x.labels }}", "{{ x.filed }}", "{{ x.source }}", "{{ x.dossier_pages }}", lbl_status],
    )
    para(doc, "{%p else %}")
    para(doc, "添付資料はありません。", size=10)
    para(doc, "{%p endif %}")
    para(doc, "")
    para(doc, "以上", align="right")
    save(doc, path)


# --- the certificate ------------------------------------------------------------------------------


def page_border(doc: Document) -> None:
    """A double rule around the page, like a printed certificate frame."""
    sectpr = doc.sections[0]._sectPr
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        for k, v in (("w:val", "double"), ("w:sz", "18"), ("w:space", "24"), ("w:color", "1F3864")):
            el.set(qn(k), v)
        borders.append(el)
    # pgBorders must come after pgMar (schema order: pgSz, pgMar, paperSrc, pgBorders, …)
    pgmar = sectpr.find(qn("w:pgMar"))
    pgmar.addnext(borders)


def build_certificate(path: Path) -> None:
    doc = Document()
    a4(doc, top=30, bottom=28, side=30)
    setup_styles(doc, body_pt=12)
    page_border(doc)
    doc.core_properties.title = "合格証"
    doc.core_properties.author = "{{ council_name }}"

    para(doc, "使用許諾番号　第 {{ license_number }} 号", align="right", size=11)
    para(doc, "")
    para(doc, "")
    p = para(doc, "合　格　証", align="center", size=34, bold=True, gothic=True, color=NAVY)
    p.paragraph_format.space_after = Pt(24)
    para(doc, "")
    p = para(doc, "", align="left")
    run(p, "{{ company }}", size=18)
    run(p, "　殿", size=15)
    p.paragraph_format.space_after = Pt(24)
    p = para(
        doc,
        "　貴社の下記サービスは、「インターネット接続サービス安全・安心マーク」の審査基準に適合していることを"
        "認めましたので、「インターネット接続サービス安全・安心マーク」の使用を許諾します。",
        size=13,
    )
    p.paragraph_format.line_spacing = 2.0
    p.paragraph_format.space_after = Pt(24)
    para(doc, "記", align="center", size=12)
    para(doc, "")
    t = table(doc, 4, [36, 114], style="Normal Table")
    rows = [
        ("サービス名", "{{ service }}"),
        ("URL", "{{ url }}"),
        ("使用許諾番号", "{{ license_number }}"),
        ("有効期間", "{{ valid_from }}から{{ valid_until }}まで"),
    ]
    for row, (label, value) in zip(t.rows, rows, strict=True):
        for cell, text, bold in ((row.cells[0], label, True), (row.cells[1], value, False)):
            p = cell.paragraphs[0]
            run(p, text, size=12.5, bold=bold)
            p.paragraph_format.space_after = Pt(12)
    para(doc, "")
    para(doc, "以上", align="right", size=12)
    for _ in range(5):
        para(doc, "")
    para(doc, "{{ issued }}", size=13)
    para(doc, "")
    para(doc, "")
    para(doc, "{{ council_name }}", align="right", size=14)
    p = para(doc, "", align="right")
    p.paragraph_format.space_before = Pt(6)
    run(p, "{{ president_title }}　{{ president_name }}", size=14)
    run(p, "　印", size=10, color=GREY)
    save(doc, path)


def main() -> None:
    build_dossier(HERE / "dossier.docx")
    build_certificate(HERE / "certificate.docx")
    print(f"wrote {HERE / 'dossier.docx'} and {HERE / 'certificate.docx'}")


if __name__ == "__main__":
    main()
