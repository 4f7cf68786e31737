"""The answer sheet's content as blocks that never split: declarations, items, the closing block.

Each block draws itself on a Sheet from a top y and returns the y below it; drawn on a
measuring Sheet it gives its height. Texts come from items.yaml, never from code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.form.printing.sheet import Sheet
from pipeline.form.printing.style import SEAL_HALF_PT
from pipeline.model.records import Contact, Declaration, FormDef, Item

_DATE_IN_TEXT = re.compile(r"^(?P<head>.*?)(?P<prefix>[^。]*年月日[：:][^年月日\s]*)\s*年\s*月\s*日。?$")


@dataclass(frozen=True)
class Block:
    """A piece of the answer sheet kept on one page."""

    key: str
    draw: Callable[[Sheet, float], float]
    items: tuple[str, ...] = ()


def sentences(text: str) -> list[str]:
    """Split at 。 (outside brackets), keeping it; a bracketed remark （…） is its own sentence."""
    out: list[str] = []
    current, depth = "", 0
    for ch in text or "":
        current += ch
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        if depth == 0 and (ch == "。" or (ch in "）)" and current.lstrip().startswith(("（", "(")))):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def split_date(text: str) -> tuple[str, str | None]:
    """Split an option text ending in 「提出年月日：平成 年 月 日。」 into (head, date prefix)."""
    m = _DATE_IN_TEXT.match(text)
    if not m:
        return text, None
    return m.group("head").strip(), m.group("prefix").strip()


def _label(text: str) -> str:
    return text if text.endswith(("：", ":", "。")) else text + "："


class AnswerSheet:
    """Builds the blocks of one form's answer sheet from its definition."""

    def __init__(self, form: FormDef) -> None:
        self.form = form

    # --- layout helpers --------------------------------------------------------------
    @staticmethod
    def pitch(sh: Sheet, size: float | None = None) -> float:
        return (size or sh.style.body_size) * sh.style.leading

    def columns(self, sh: Sheet) -> tuple[float, float, float]:
        """x of the item id, of its box, of its statement text."""
        id_w = sh.w("0-0-0", sh.heading)
        x_box = sh.left + id_w + 0.6 * sh.style.body_size
        return sh.left, x_box, x_box + sh.box_advance()

    def small(self, sh: Sheet, x: float, y: float, text: str, right: float | None = None) -> float:
        size = sh.style.small_size
        return sh.paragraph(x, y, text, size=size, right=right, pitch=size * 1.5)

    # --- blocks ----------------------------------------------------------------------
    def blocks(self, skip: frozenset[str] = frozenset()) -> list[Block]:
        out = [Block("answer_title", self.draw_title)]
        out += [Block(f"decl:{d.id}", self._bind_decl(d)) for d in self.form.declarations]
        titles = dict(self.form.sections)
        done: set[str] = set()
        for item in self.form.items:
            if item.id in skip:
                continue
            heading = None if item.section in done else titles.get(item.section, "")
            done.add(item.section)
            out.append(Block(f"item:{item.id}", self._bind_item(item, heading), (item.id,)))
        out.append(Block("closing", self.draw_closing))  # 以上の通り… and all contact blocks on one page
        return out

    def _bind_decl(self, decl: Declaration) -> Callable[[Sheet, float], float]:
        return lambda sh, y: self.draw_declaration(sh, y, decl)

    def _bind_item(self, item: Item, heading: str | None) -> Callable[[Sheet, float], float]:
        return lambda sh, y: self.draw_item(sh, y, item, heading)

    def draw_closing(self, sh: Sheet, y: float) -> float:
        y = self.draw_closing_head(sh, y)
        for contact in self.form.texts.contacts:
            y = self.draw_contact(sh, y, contact)
        return y

    def draw_title(self, sh: Sheet, y: float) -> float:
        size = sh.style.heading_size + 4
        title = "審査項目回答書"
        base = sh.baseline(y, size, size * 1.8, sh.heading)
        sh.text((sh.width - sh.w(title, sh.heading, size)) / 2, base, title, sh.heading, size)
        y += size * 1.8
        note = self.form.texts.answer_sheet_note
        if note:
            y = self.draw_note_with_box(sh, y + 4, note)
        return y + 6

    def draw_note_with_box(self, sh: Sheet, y: float, note: str) -> float:
        """The 「※ ご回答は、…の □ にチェックし…」 line; its □ is an example, not a form box."""
        pitch = self.pitch(sh)
        base = sh.baseline(y, sh.style.body_size, pitch)
        head, _, tail = note.partition("□")
        x = sh.text(sh.left, base, head)
        if tail:
            sh.box(x + 1, y, pitch, None, None)
            x += sh.box_advance() + 1
            sh.paragraph(x, y, tail.strip(), hang=sh.left - x)
        return y + pitch

    def draw_declaration(self, sh: Sheet, y: float, decl: Declaration) -> float:
        pitch = self.pitch(sh)
        y += 0.3 * pitch
        base = sh.baseline(y, sh.style.body_size, pitch, sh.heading)
        sh.text(sh.left, base, f"（{decl.title}）", sh.heading)
        y += pitch
        x_box = sh.left + sh.style.body_size
        x_text = x_box + sh.box_advance()
        mains = [o for o in decl.options if o.role == "main"]
        subs = [o for o in decl.options if o.role == "sub"]
        for option in mains:
            sh.box(x_box, y, pitch, decl.id, option.key)
            y = sh.paragraph(x_text, y, option.text)
        sub_box = x_text + sh.style.body_size
        sub_text = sub_box + sh.box_advance()
        for option in subs:
            head, prefix = split_date(option.text)
            sh.box(sub_box, y, pitch, decl.id, option.key)
            y = sh.paragraph(sub_text, y, head)
            if prefix:
                y += 2.0  # the date's writing room must not reach into the sentence above
                base = sh.baseline(y, sh.style.body_size, pitch)
                end = sh.text(sub_text + sh.style.body_size, base, prefix)
                sh.date_group(end, base, f"{decl.id}.reported_date", decl.id)
                y += pitch
        for note in decl.notes:
            y = self.small(sh, x_text, y, note)
        return y + 0.2 * pitch

    def draw_section(self, sh: Sheet, y: float, sid: str, title: str) -> float:
        size = sh.style.heading_size
        pitch = size * 1.9
        base = sh.baseline(y + 4, size, pitch, sh.heading)
        sh.text(sh.left, base, f"{sid}　{title}", sh.heading, size)
        sh.hline(sh.left, sh.right, y + 4 + pitch - 3, width=0.8)
        return y + 4 + pitch + 4

    def draw_item(self, sh: Sheet, y: float, item: Item, heading: str | None) -> float:
        if heading is not None:
            y = self.draw_section(sh, y, item.section, heading)
        pitch = self.pitch(sh)
        x_id, x_box, x_text = self.columns(sh)
        gap = 0.25 * pitch
        y += 0.35 * pitch
        base = sh.baseline(y, sh.style.body_size, pitch, sh.heading)
        sh.text(x_id, base, item.id, sh.heading)
        sh.box(x_box, y, pitch, item.id, "yes")
        sh.record.items.append(item.id)
        y = sh.paragraph(x_text, y, item.statement)
        for bullet in item.bullets:
            y = sh.paragraph(x_text + sh.style.body_size, y, f"＊{bullet}", hang=sh.w("＊"))
        if item.report:
            y = sh.paragraph(x_text, y + gap, item.report)
        url_path = item.url_path
        if not url_path:
            y = self.draw_blanks(sh, y + gap, item, x_text)
        if item.choices:
            y = self.draw_choices(sh, y + gap, item, x_text)
        if "sign" in item.evidence:
            y = sh.signature_row(x_text, y + gap, f"{item.signer}署名（肉筆）押印：", item.id)
            note = item.sign_note or "（担当者は部署名・役職も明記して下さい）"
            y = sh.paragraph(x_text, y, note, size=sh.style.small_size, pitch=sh.style.small_size * 1.6)
        if url_path:
            y = self.draw_url_part(sh, y + gap, item, x_text)
        elif item.instructions:
            y = self.small(sh, x_text, y + gap, item.instructions)
        if item.negative:
            y += gap
            sh.box(x_box, y, pitch, item.id, "no")
            y = sh.paragraph(x_text, y, item.negative)
        return y + 0.3 * pitch

    def draw_blanks(self, sh: Sheet, y: float, item: Item, x: float) -> float:
        if not item.blanks:
            return y
        pitch = self.pitch(sh) * 1.35
        column = x + max(sh.w(_label(b.label)) for b in item.blanks) + 6
        for blank in item.blanks:
            y = sh.labelled_line(x, y, pitch, _label(blank.label), f"{item.id}.{blank.name}", item.id, column=column)
        return y

    def draw_choices(self, sh: Sheet, y: float, item: Item, x: float) -> float:
        pitch = self.pitch(sh)
        head, sep, tail = item.choice_prompt.partition("…")
        if head:
            y = sh.paragraph(x, y, head)
        for choice in item.choices:
            end = sh.bracket(x + sh.style.body_size, y, pitch, item.id, choice.key)
            sh.text(end + 0.5 * sh.style.body_size, sh.baseline(y, sh.style.body_size, pitch), choice.text)
            y += pitch
        if sep and tail:
            y = sh.paragraph(x, y, tail)
        return y

    def draw_url_part(self, sh: Sheet, y: float, item: Item, x: float) -> float:
        parts = sentences(item.instructions)
        lead = [p for p in parts if "経路" in p]
        rest = [p for p in parts if "経路" not in p]
        if not lead:
            lead = ["トップページからその URL までの経路をご記入下さい。"]
        for p in lead:
            y = sh.paragraph(x, y, p)
        y = self.draw_url_lines(sh, y, item.id, x)
        at = next((i + 1 for i, p in enumerate(rest) if "以下" in p), len(rest))
        before, after = rest[:at], rest[at:]
        if before:
            y = self.small(sh, x, y + 2, "".join(before))
        y = self.draw_blanks(sh, y, item, x)
        if after:
            y = self.small(sh, x, y + 2, "".join(after))
        return y

    def draw_url_lines(self, sh: Sheet, y: float, owner: str, x: float) -> float:
        pitch = self.pitch(sh) * 1.3
        labels = ("トップページ", "該当 URL")
        col = x + max(sh.w(lab) for lab in labels) + sh.style.body_size
        arrow_x = col + sh.w("http://") / 2 - sh.w("↓") / 2
        for label, name in zip(labels, ("url_top", "url_target"), strict=True):
            base = sh.baseline(y, sh.style.body_size, pitch)
            sh.text(x, base, label)
            end = sh.text(col, base, "http://")
            x0 = end + 2.0
            sh.hline(x0, sh.right, base + 2.5, width=0.5)
            sh.add_field(f"{owner}.{name}", owner, "url", sh.field_bbox(x0, sh.right, base, sh.style.body_size))
            y += pitch
            if name == "url_top":
                small = sh.style.body_size * 1.15
                for _ in range(2):
                    sh.text(arrow_x, sh.baseline(y, sh.style.body_size, small), "↓")
                    y += small
        return y

    # --- closing ---------------------------------------------------------------------
    def draw_closing_head(self, sh: Sheet, y: float) -> float:
        pitch = self.pitch(sh)
        y += 0.8 * pitch
        base = sh.baseline(y, sh.style.body_size, pitch)
        sh.text(sh.left, base, self.form.texts.closing_text)
        contacts = self.form.texts.contacts
        first = contacts[0].id if contacts else "respondent"
        sh.date_group(sh.right - sh.date_width(), base, f"{first}.date", first)
        return y + pitch

    def draw_contact(self, sh: Sheet, y: float, contact: Contact) -> float:
        pitch = self.pitch(sh) * 1.7
        owner = contact.id
        y += 0.6 * self.pitch(sh)
        size = sh.style.body_size
        base = sh.baseline(y, size, self.pitch(sh), sh.heading)
        sh.text(sh.left, base, f"【{contact.title or owner}】", sh.heading)
        y += self.pitch(sh)
        if contact.intro:
            y = sh.paragraph(sh.left + size, y, contact.intro)
        fields = contact.fields
        x = sh.left + size
        column = x + max(sh.w(_label(f.label)) for f in fields) + 6
        sealed = any(f.sealed for f in fields)
        x_end = sh.right - 2 * SEAL_HALF_PT - 8 if sealed else sh.right
        for f in fields:
            label = _label(f.label)
            name = f"{owner}.{f.key}"
            if f.prefix:
                base = sh.baseline(y, size, pitch)
                sh.text(x, base, label)
                end = sh.text(column, base, f.prefix)
                x0 = end + 4.0
                sh.hline(x0, x_end, base + 2.5, width=0.5)
                sh.add_field(name, owner, "text", sh.field_bbox(x0, x_end, base, size))
                y += pitch
            else:
                y = sh.labelled_line(x, y, pitch, label, name, owner, column=column, x_end=x_end)
            if f.sealed:
                sh.seal(sh.right - SEAL_HALF_PT, y - pitch / 2, f"{owner}.seal", owner)
            if f.note:
                y = self.small(sh, column, y - 0.2 * pitch, f.note)
        return y
