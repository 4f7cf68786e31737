"""Write one printing of the questionnaire as DOCX (python-docx), blank or filled in Word.

A filled document is the same document with □ turned into ■/☑ and text typed into the blanks,
so text reflows exactly as when an applicant types into the council's Word file.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from samples.independent.plan import Plan
from samples.independent.seedform import Block
from samples.independent.style import PrintStyle

BOX = "□"


@dataclass
class WordFill:
    """How the applicant fills in Word: which glyph replaces □, and pasted signature/seal images."""

    plan: Plan
    glyph: str  # ■ or ☑
    signature_png: dict[str, bytes]  # item id -> image
    seal_png: bytes
    states: dict[tuple[str, str], bool]  # every box's intended state


def set_font(run, font: str, size: float | None = None, bold: bool = False) -> None:
    """Set both the Latin and the East Asian font: Word and LibreOffice use w:eastAsia for kana and kanji."""
    run.font.name = font
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)
    if size:
        run.font.size = Pt(size)
    run.font.bold = bold


def _para_border_bottom(p) -> None:
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "4"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)


class Writer:
    def __init__(self, style: PrintStyle, fill: WordFill | None) -> None:
        self.s = style
        self.fill = fill
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        t, r, b, left = style.margins_mm
        sec.top_margin, sec.right_margin, sec.bottom_margin, sec.left_margin = Mm(t), Mm(r), Mm(b), Mm(left)
        normal = self.doc.styles["Normal"]
        normal.font.name = style.body_font
        normal.font.size = Pt(style.size_pt)
        rpr = normal.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = OxmlElement("w:rFonts")
            rpr.insert(0, rfonts)
        rfonts.set(qn("w:eastAsia"), style.body_font)
        pf = normal.paragraph_format
        pf.space_after = Pt(1)
        pf.space_before = Pt(0)
        pf.line_spacing = style.line_spacing

    # -- primitives
    def para(self, align: str | None = None, indent_mm: float = 0, page_break: bool = False):
        p = self.doc.add_paragraph()
        if align == "right":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif align == "center":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if indent_mm:
            p.paragraph_format.left_indent = Mm(indent_mm)
        if page_break:
            p.paragraph_format.page_break_before = True
        return p

    def run(self, p, text: str, size: float | None = None, bold: bool = False, underline: bool = False, font: str | None = None):
        r = p.add_run(text)
        set_font(r, font or self.s.body_font, size or self.s.size_pt, bold)
        if underline:
            r.font.underline = True
        return r

    def text_of(self, key: str | None) -> str | None:
        if not self.fill or not key:
            return None
        return self.fill.plan.texts.get(key)

    # -- blocks
    def date(self, b: Block) -> None:
        p = self.para(align="right")
        typed = self.text_of(b.key)
        self.run(p, typed if typed else self.s.date_style)

    def field(self, b: Block) -> None:
        label = b.text + ("：" if self.s.colon else "")
        typed = self.text_of(b.key) or ""
        prefix = b.extra.get("prefix", "")
        suffix = b.extra.get("suffix", "")
        seal = "　印" if b.extra.get("seal") else ""
        if b.extra.get("date"):
            suffix = " " + self.s.date_style + suffix
        if b.extra.get("below"):
            p = self.para(indent_mm=8)
            self.run(p, b.text)
            lines = [typed] if typed else []
            for i in range(self.s.below_lines):
                q = self.para(indent_mm=10)
                self.run(q, lines[i] if i < len(lines) else "　")
                _para_border_bottom(q)
            return
        if self.s.blank_style == "frame":
            tbl = self.doc.add_table(rows=1, cols=2)
            tbl.style = "Table Grid"
            tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
            tbl.cell(0, 0).width = Mm(45)
            tbl.cell(0, 1).width = Mm(110)
            self.run(tbl.cell(0, 0).paragraphs[0], label)
            self.run(tbl.cell(0, 1).paragraphs[0], prefix + typed + suffix + seal)
            return
        p = self.para(indent_mm=8)
        self.run(p, label + ("　" if self.s.blank_style != "plain" or not self.s.colon else "") + prefix)
        if self.s.blank_style == "underline":
            self.run(p, typed, underline=True)
            self.run(p, "　" * max(4, 22 - len(typed)), underline=True)
        else:
            self.run(p, typed + ("　" * 3 if not typed else ""))
        self.run(p, suffix + seal)

    def box(self, b: Block) -> None:
        marked = bool(self.fill and self.fill.states.get((b.item or '', b.option or '')))
        glyph = self.fill.glyph if (self.fill and marked) else BOX
        text = b.text
        if "提出年月日" in text:
            text = re.sub(r"提出年月日：.*$", "提出年月日：" + self.s.date_style, text)
        if b.extra.get("id_line"):
            p = self.para(page_break=False)
            self.run(p, f"{b.item}", bold=self.s.id_bold, font=self.s.heading_font)
            self.run(p, f"　{glyph}　")
            self.run(p, text, bold=self.s.id_bold)
        else:
            indent = 16 if b.extra.get("sub") else 8
            p = self.para(indent_mm=indent)
            self.run(p, f"{glyph}　{text}")

    def url(self, b: Block) -> None:
        steps = self.fill.plan.urls.get(b.item) if (self.fill and b.item) else None
        p = self.para(indent_mm=10)
        self.run(p, "トップページ　　http://")
        self.run(p, steps[0] if steps else "　" * 16, underline=True)
        self.run(self.para(indent_mm=22), "↓")
        q = self.para(indent_mm=22)
        self.run(q, steps[1] if steps else "　" * 16, underline=bool(steps) or self.s.blank_style == "underline")
        self.run(self.para(indent_mm=22), "↓")
        r = self.para(indent_mm=10)
        self.run(r, "該当 URL　　　http://")
        self.run(r, steps[2] if steps else "　" * 16, underline=True)

    def choice(self, b: Block) -> None:
        chosen = bool(self.fill and self.fill.plan.choices.get(b.item or "") == b.option)
        p = self.para(indent_mm=16)
        self.run(p, ("[　○　]" if chosen else "[　　　]") + "　" + b.text)

    def sign(self, b: Block) -> None:
        item = b.item or ""
        plan = self.fill.plan if self.fill else None
        if self.s.sign_frame:
            tbl = self.doc.add_table(rows=1, cols=2)
            tbl.style = "Table Grid"
            tbl.cell(0, 0).width = Mm(70)
            tbl.cell(0, 1).width = Mm(85)
            self.run(tbl.cell(0, 0).paragraphs[0], b.text)
            p = tbl.cell(0, 1).paragraphs[0]
        else:
            p = self.para(indent_mm=8)
            self.run(p, b.text + "　")
        if plan and self.fill and item in plan.signed:
            p.add_run().add_picture(io.BytesIO(self.fill.signature_png[item]), height=Mm(8))
        else:
            self.run(p, "　" * 10)
        self.run(p, "　　印")
        if plan and self.fill and item in plan.sealed:
            p.add_run().add_picture(io.BytesIO(self.fill.seal_png), height=Mm(11))

    def office(self, b: Block) -> None:
        self.run(self.para(), b.text, size=self.s.size_pt - 1)
        cells = b.extra["cells"]
        cols = (len(cells) + 1) // 2
        tbl = self.doc.add_table(rows=2, cols=cols)
        tbl.style = "Table Grid"
        for i, c in enumerate(cells):
            self.run(tbl.cell(i // cols, i % cols).paragraphs[0], c, size=self.s.size_pt - 2)

    def render(self, parts: dict[str, list[Block]]) -> None:
        for b in parts["cover"]:
            self.block(b)
        p = self.para(align="center", page_break=True)
        self.run(p, "審査項目回答書", size=self.s.size_pt + 4, bold=True, font=self.s.heading_font)
        for b in parts["answer"]:
            self.block(b)

    def block(self, b: Block) -> None:
        k = b.kind
        if k == "title":
            p = self.para(align="center")
            self.run(p, b.text, size=self.s.size_pt + 5, bold=True, font=self.s.heading_font)
        elif k == "date":
            self.date(b)
        elif k == "heading":
            p = self.para(page_break=(b.key in self.s.breaks_before))
            self.run(p, b.text, size=self.s.size_pt + 1.5, bold=True, font=self.s.heading_font)
        elif k == "subheading":
            self.run(self.para(), b.text, bold=True)
        elif k == "note":
            self.run(self.para(indent_mm=4), b.text, size=self.s.size_pt - 1)
        elif k == "box":
            self.box(b)
        elif k == "field":
            self.field(b)
        elif k == "url":
            self.url(b)
        elif k == "choice":
            self.choice(b)
        elif k == "sign":
            self.sign(b)
        elif k == "seal":
            self.run(self.para(align="right"), "印")
        elif k == "office":
            self.office(b)
        else:
            indent = 8 if b.item else 0
            self.run(self.para(indent_mm=indent), b.text)


def build_docx(parts: dict[str, list[Block]], style: PrintStyle, fill: WordFill | None = None) -> bytes:
    w = Writer(style, fill)
    w.render(parts)
    out = io.BytesIO()
    w.doc.save(out)
    return out.getvalue()


def simple_document(paragraphs: list[tuple[str, dict]], header: list[tuple[str, dict]] | None,
                    first_page_only: bool, rng: random.Random, font: str = "IPAexMincho") -> bytes:
    """An ordinary office document (an attachment): paragraphs, page breaks ('\\f'), tables ('|'),
    and an optional right-aligned header (the 右肩 label)."""
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin = Mm(rng.uniform(22, 32))
    sec.header_distance = Mm(rng.uniform(6, 14))
    sec.right_margin = Mm(rng.uniform(14, 25))
    if header:
        if first_page_only:
            sec.different_first_page_header_footer = True
            hp = sec.first_page_header.paragraphs[0]
        else:
            hp = sec.header.paragraphs[0]
        hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        hp.paragraph_format.right_indent = Mm(rng.uniform(0, 12))
        for text, opts in header:
            r = hp.add_run(text)
            set_font(r, opts.get("font", "IPAexGothic"), opts.get("size", 11), opts.get("bold", False))
            if opts.get("box"):
                rpr = r._element.get_or_add_rPr()
                bdr = OxmlElement("w:bdr")
                for k, v in (("w:val", "single"), ("w:sz", "8"), ("w:space", "2"), ("w:color", "000000")):
                    bdr.set(qn(k), v)
                rpr.append(bdr)
    for text, opts in paragraphs:
        if text == "\f":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            continue
        if text.startswith("|"):
            rows = [r.split("|")[1:-1] for r in text.strip().split("\n")]
            tbl = doc.add_table(rows=len(rows), cols=len(rows[0]))
            tbl.style = "Table Grid"
            for i, row in enumerate(rows):
                for j, c in enumerate(row):
                    set_font(tbl.cell(i, j).paragraphs[0].add_run(c.strip()), font, 9.5)
            continue
        p = doc.add_paragraph()
        if opts.get("align") == "center":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if opts.get("shade"):
            ppr = p._p.get_or_add_pPr()
            shd = OxmlElement("w:shd")
            shd.set(qn("w:val"), "clear")
            shd.set(qn("w:fill"), opts["shade"])
            ppr.append(shd)
        set_font(p.add_run(text), opts.get("font", font), opts.get("size", 10.5), opts.get("bold", False))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
