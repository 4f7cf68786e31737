"""Other people's printings of the questionnaire, for tuning calibrate: Word documents (python-docx) made PDF by LibreOffice.

A seed picks the style the way different offices type the same form: font and size, margins,
spacing, page breaks before sections, how a date is printed (「年　月　日」 beside the label, on
the next line, 令和), labelled blanks with or without a colon and drawn as an underlined tab,
typed ＿＿＿ or a framed cell, the answer space of a sentence (「書面による申込方法は以下のとおりです。」)
as blank lines or underlines below it, and the sentence at the start of a line or after other text.
Not the readers' code, and not samples/independent's: seeds 80000-80999 belong to that set.

    .venv/bin/python -m samples.printings --out /tmp/printings --seed 100 --n 4
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FONTS = ("IPAexMincho", "IPAexGothic", "IPAPMincho", "IPAMincho")


@dataclass(frozen=True)
class PrintStyle:
    """How one office typed the form."""

    font: str
    size: float
    margin_mm: float
    space_after_pt: float
    line_spacing: float
    break_before_sections: bool
    date_style: str  # "inline", "next_line", "reiwa"
    colon: bool
    blank_style: str  # "tab", "underscores", "cell"
    free_space: str  # "empty_lines", "underlines"
    sentence_mid_line: bool
    option_hang: bool = True  # False: a declaration option's later lines wrap back under its □

    @classmethod
    def from_seed(cls, seed: int) -> PrintStyle:
        if 80000 <= seed <= 80999:
            raise ValueError("seeds 80000-80999 are the independent set's; never tune on them")
        r = random.Random(seed)
        return cls(
            font=r.choice(FONTS),
            size=r.choice((9.0, 9.5, 10.0, 10.5, 11.0, 11.5)),
            margin_mm=r.uniform(14, 26),
            space_after_pt=r.choice((0.0, 2.0, 4.0, 6.0)),
            line_spacing=r.choice((1.0, 1.15, 1.3)),
            break_before_sections=r.random() < 0.4,
            date_style=r.choice(("inline", "next_line", "reiwa")),
            colon=r.random() < 0.5,
            blank_style=r.choice(("tab", "underscores", "cell")),
            free_space=r.choice(("empty_lines", "underlines")),
            sentence_mid_line=r.random() < 0.5,
            option_hang=r.random() < 0.5,
        )


class _Doc:
    """A python-docx document with the style's paragraph helpers."""

    def __init__(self, style: PrintStyle) -> None:
        from docx import Document
        from docx.shared import Mm

        self.style = style
        self.doc = Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.left_margin = sec.right_margin = Mm(style.margin_mm)
        sec.top_margin = sec.bottom_margin = Mm(style.margin_mm * 0.9)
        self.width_mm = 210 - 2 * style.margin_mm

    def para(self, text: str = "", left_mm: float = 0.0, size: float | None = None, tabs: tuple[float, ...] = (), hang_mm: float = 0.0) -> Any:
        from docx.enum.text import WD_TAB_ALIGNMENT
        from docx.shared import Mm, Pt

        p = self.doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.left_indent, fmt.space_after, fmt.line_spacing = Mm(left_mm + hang_mm), Pt(self.style.space_after_pt), self.style.line_spacing
        if hang_mm:
            fmt.first_line_indent = Mm(-hang_mm)
        for pos in tabs:
            fmt.tab_stops.add_tab_stop(Mm(pos), WD_TAB_ALIGNMENT.LEFT)
        if text:
            self.run(p, text, size)
        return p

    def run(self, p: Any, text: str, size: float | None = None, underline: bool = False) -> None:
        from docx.oxml.ns import qn
        from docx.shared import Pt

        r = p.add_run(text)
        r.font.size, r.font.name, r.font.underline = Pt(size or self.style.size), self.style.font, underline
        r._element.get_or_add_rPr().find(qn("w:rFonts")).set(qn("w:eastAsia"), self.style.font)

    def blank(self, label: str, left_mm: float = 8.0, tail: str = "") -> None:
        """A labelled blank in the style's way: underlined tab, typed ＿＿＿, or a framed cell."""
        shown = label if label.endswith(("：", "〒")) or not self.style.colon else label + "："
        end = self.width_mm - (22 if tail else 0)
        if self.style.blank_style == "cell":
            table = self.doc.add_table(rows=1, cols=2)
            table.style = "Table Grid"
            self.run(table.cell(0, 0).paragraphs[0], shown)
            if tail:
                self.run(table.cell(0, 1).paragraphs[0], "\u3000" * 12 + tail)
            return
        if self.style.blank_style == "underscores":
            p = self.para(shown + ("" if self.style.colon else "\u3000"), left_mm)
            room = max(6, int((end - left_mm) / (self.style.size * 0.353)) - len(shown) - 3)
            self.run(p, "＿" * room + (("\u3000" + tail) if tail else ""))
            return
        p = self.para(shown + ("" if self.style.colon else "\u3000"), left_mm, tabs=(end, self.width_mm) if tail else (end,))
        self.run(p, "\t", underline=True)
        if tail:
            self.run(p, "\t" + tail)

    def date(self, label: str, left_mm: float = 0.0) -> None:
        """A labelled date in the style's way."""
        group = ("令和\u3000\u3000" if self.style.date_style == "reiwa" else "\u3000\u3000\u3000") + "年\u3000\u3000月\u3000\u3000日"
        if self.style.date_style == "next_line":
            self.para(label + ("：" if self.style.colon else ""), left_mm)
            self.para(group, left_mm + 10)
        else:
            self.para(label + ("：" if self.style.colon else "\u3000") + group, left_mm)

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK

        self.para().add_run().add_break(WD_BREAK.PAGE)


def build_docx(path: Path, form: Any, style: PrintStyle) -> None:
    """The questionnaire of `form` (a loaded FormDef) typed in `style`, saved as DOCX at `path`."""
    from pipeline.form.printing.blocks import sentences, split_date

    d = _Doc(style)
    d.para("\t" + ("令和\u3000\u3000" if style.date_style == "reiwa" else "") + "\u3000\u3000年\u3000\u3000月\u3000\u3000日", tabs=(d.width_mm - 75,))
    for line in form.texts.cover.addressee:
        d.para(line)
    d.para(form.title, size=style.size + 5)
    d.para(form.texts.cover.intro)
    for f in form.cover_fields:
        if f.label.endswith("年月日"):
            d.date(f.label)
        else:
            d.blank(f.label + ("〒" if f.key == "address" and style.colon else ""), 0, tail="印" if f.key == "company_name" else "")
    d.page_break()
    d.para("審査項目回答書", size=style.size + 3)
    d.para(form.texts.answer_sheet_note)
    for decl in form.declarations:
        d.para(f"（{decl.title}）")
        for o in decl.options:
            head, prefix = split_date(o.text)
            d.para("□ " + head, 4.0 if o.role == "main" else 10.0, hang_mm=5 if style.option_hang else 0.0)
            if prefix:
                d.date(prefix.rstrip("：:"), 20)
    titles = dict(form.sections)
    for item in form.items:
        if item.id.endswith("-1-1") or item.id == "7-0-1":
            if style.break_before_sections and item.id != "1-1-1":
                d.page_break()
            d.para(f"{item.section}\u3000{titles[item.section]}", size=style.size + 1)
        _item(d, item, sentences)
    d.para("以上の通り回答いたします。\t" + "\u3000\u3000年\u3000\u3000月\u3000\u3000日", tabs=(d.width_mm - 75,))
    for c in form.texts.contacts:
        d.para(f"【{c.title}】")
        if c.intro:
            d.para(c.intro, 4)
        for f in c.fields:
            d.blank(f.label + (("：" if style.colon else "") + f.prefix if f.prefix else ""), 4, tail="印" if f.sealed else "")
    d.doc.save(str(path))


def _item(d: _Doc, item: Any, sentences: Any) -> None:
    """One item: its id and □ statement, bullets, blanks, choices, signature, URL path, free space, negative box."""
    style = d.style
    p = d.para(item.id, hang_mm=18, tabs=(18,))
    p.paragraph_format.keep_with_next = True
    d.run(p, "\t□ " + item.statement)
    for b in item.bullets:
        d.para("＊" + b, 20)
    if item.report:
        d.para(item.report, 18)
    if item.choices:
        head, _, tail = item.choice_prompt.partition("…")
        d.para(head, 18)
        for c in item.choices:
            d.para("[\u3000\u3000\u3000] " + c.text, 22)
        if tail:
            d.para(tail, 18)
    for b in item.blanks if not item.url_path else ():
        d.blank(b.label, 18)
    if "sign" in item.evidence:
        p = d.para(f"{item.signer}署名（肉筆）押印" + ("：" if style.colon else "\u3000"), 18, tabs=(d.width_mm - 24, d.width_mm - 6))
        d.run(p, "\t", underline=True)
        d.run(p, "\t印")
        d.para("（担当者は部署名・役職も明記して下さい）", 18, size=style.size - 1)
    if item.url_path:
        d.para("トップページからその URL までの経路を記入して下さい。", 18)
        for label in ("トップページ", "↓", "↓", "該当 URL"):
            p = d.para("" if label == "↓" else label + "\thttp://", 48 if label == "↓" else 18, tabs=(45, d.width_mm))
            if label == "↓":
                d.run(p, "↓")
            else:
                d.run(p, "\t", underline=True)
        for b in item.blanks:
            _free_space(d, b.label)
    if item.negative:
        d.para("□ " + item.negative, 18, hang_mm=4)


def _free_space(d: _Doc, label: str) -> None:
    """「<label>は以下のとおりです。」 then room to write: empty lines or underlined lines."""
    sentence = f"{label}は以下のとおりです。"
    d.para(("書面による申込の場合には、その方法を記入して下さい。" if d.style.sentence_mid_line else "") + sentence, 18)
    for _ in range(3):
        if d.style.free_space == "underlines":
            p = d.para("", 18, tabs=(d.width_mm,))
            d.run(p, "\t", underline=True)
        else:
            d.para("", 18)


def make_printings(out: Path, seed: int, n: int) -> list[dict[str, Any]]:
    """n printings from seed, seed+1, …: out/<seed>/blank.pdf and style.json; returns their styles."""
    from pipeline.form.definition import load_form
    from pipeline.tools.libreoffice import Converter

    form = load_form(Path("forms/renewal"))
    made = []
    with Converter() as conv:
        for s in range(seed, seed + n):
            style = PrintStyle.from_seed(s)
            folder = out / str(s)
            folder.mkdir(parents=True, exist_ok=True)
            build_docx(folder / "blank.docx", form, style)
            pdf = conv.convert(folder / "blank.docx")
            (folder / "blank.pdf").write_bytes(Path(pdf).read_bytes())
            (folder / "style.json").write_text(json.dumps(asdict(style), ensure_ascii=False, indent=1), encoding="utf-8")
            made.append({"seed": s, **asdict(style)})
    return made


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--n", type=int, default=4)
    args = ap.parse_args()
    for made in make_printings(args.out, args.seed, args.n):
        print(made)


if __name__ == "__main__":
    main()
