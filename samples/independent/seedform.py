"""The questionnaire as a list of printable blocks, parsed from the council's seed text.

The seed is Markdown/HTML-ish text in which most □ were lost; this module restores the answer
sheet's structure (boxes, blanks, URL paths, signature places, choice brackets) from the text and
uses the item data only to name what it found (option keys, blank names).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from samples.independent import itemsdata
from samples.independent.paths import seed_file

ITEM_RE = re.compile(r"^(\d-\d-\d)\s*(?:□)?\s*(.*)$")
SECTION_RE = re.compile(r"^([1-7])\s+(\S.*)$")


@dataclass
class Block:
    """One printable unit. kind: title, date, text, note, heading, subheading, box, field, url, choice,
    sign, seal, office, closing."""

    kind: str
    text: str = ""
    item: str | None = None
    option: str | None = None
    key: str | None = None
    extra: dict = field(default_factory=dict)


def _norm(s: str) -> str:
    return re.sub(r"[\s　:：。．.、,]", "", s)


def _clean_lines(raw: str) -> list[str]:
    """Flatten the seed's Markdown and HTML into plain lines, one paragraph each."""
    out: list[str] = []
    for line in raw.splitlines():
        if re.fullmatch(r"\s*-{5,}\s*", line):
            continue
        # HTML paragraphs and list items become lines of their own
        line = line.replace("<http://>", "http://")
        line = re.sub(r"</?(p|li|ul|b)[^>]*>", "\n", line)
        line = html.unescape(re.sub(r"<[^>]+>", "", line))
        for part in line.split("\n"):
            indent = len(part) - len(part.lstrip(" "))
            s = part.strip()
            s = re.sub(r"^#+\s*", "", s)
            s = re.sub(r"^[-*]\s+", "", s)
            s = s.replace("\\*", "＊").replace("* ", "＊").strip()
            if s:
                out.append(("  " if indent >= 2 else "") + s)
    return out


def _cover(lines: list[str], data: itemsdata.ItemsData) -> list[Block]:
    labels = {_norm(lbl): key for key, lbl in data.cover_fields}
    blocks: list[Block] = []
    office: list[str] = []
    for s in lines:
        s = s.strip()
        n = _norm(s)
        if n == "年月日" and not blocks:
            blocks.append(Block("date", "年 月 日", key="cover.date", extra={"align": "right"}))
        elif s.startswith("インターネット接続サービス安全") or s.startswith("会長"):
            blocks.append(Block("text", s))
        elif s.startswith("**"):
            blocks.append(Block("title", s.strip("*")))
        elif s.startswith("別紙"):
            blocks.append(Block("text", s))
        elif s == "印":
            blocks.append(Block("seal", "印", key="cover.representative_seal"))
        elif s.startswith("※本欄") or "\t" in s or s.startswith("受付日") or s.startswith("合格証"):
            office.extend(c.strip() for c in s.split("\t") if c.strip())
        elif s.startswith("人（"):
            blocks[-1].extra["suffix"] = s
        else:
            base = s.replace("年 月 日", "").strip()
            hit = next((k for lbl, k in labels.items() if _norm(base).rstrip("〒").startswith(lbl) and lbl), None)
            if hit is None:
                blocks.append(Block("text", s))
                continue
            extra: dict = {}
            if "〒" in s:
                extra["prefix"] = "〒"
            if "年 月 日" in s:
                extra["date"] = True
            label = re.sub(r"[：:]?\s*〒?$", "", base).strip()
            blocks.append(Block("field", label, key=f"cover.{hit}", extra=extra))
    # the office-use table: the header, then the cells once each
    seen: list[str] = []
    for c in office:
        if c not in seen:
            seen.append(c)
    blocks.append(Block("office", seen[0], extra={"cells": seen[1:]}))
    return blocks


def _declarations(lines: list[str], data: itemsdata.ItemsData) -> list[Block]:
    blocks: list[Block] = []
    decl_iter = iter(data.declarations.values())
    decl: itemsdata.Declaration | None = None
    mains: list[str] = []
    subs: list[str] = []
    for s in lines:
        indented = s.startswith("  ")
        s = s.strip()
        if s.startswith("※ ご回答は"):
            # the seed lost the □ here; printed as the council meant it
            blocks.append(Block("note", s.replace("の  に", "の □ に").replace("の に", "の □ に")))
        elif s.startswith("(") or s.startswith("（"):
            decl = next(decl_iter)
            mains = [k for k, role, _ in decl.options if role == "main"]
            subs = [k for k, role, _ in decl.options if role == "sub"]
            blocks.append(Block("subheading", s.replace("(", "（").replace(")", "）"), key=decl.id))
        elif s.startswith("※"):
            blocks.append(Block("note", s))
        elif decl is not None and indented and subs:
            opt = subs.pop(0)
            blocks.append(Block("box", s, item=decl.id, option=opt, extra={"decl": True, "sub": True}))
        elif decl is not None and mains:
            opt = mains.pop(0)
            blocks.append(Block("box", s, item=decl.id, option=opt, extra={"decl": True}))
        else:
            blocks.append(Block("text", s))
    return blocks


def _item_block(item: itemsdata.Item, first: str, rest: list[str]) -> list[Block]:
    blocks = [Block("box", first, item=item.id, option="yes", extra={"id_line": True})]
    blanks = {_norm(lbl): name for name, lbl in item.blanks}
    choices = list(item.choices)
    negative = _norm(item.negative) if item.negative else None
    i = 0
    while i < len(rest):
        s = rest[i].strip()
        n = _norm(s)
        if negative and n == negative:
            blocks.append(Block("box", s, item=item.id, option="no"))
        elif s.startswith("トップページ") and "http" in s:
            # トップページ http:// / ↓ / ↓ / 該当 URL http:// is one URL-path block
            j = i + 1
            while j < len(rest) and not rest[j].strip().startswith("該当"):
                j += 1
            blocks.append(Block("url", "", item=item.id, key=f"item.{item.id}.url"))
            i = j
        elif s.startswith("[") and choices:
            key, _ = choices.pop(0)
            blocks.append(Block("choice", re.sub(r"^\[\s*\]\s*", "", s), item=item.id, option=key))
        elif "署名（肉筆）押印" in s:
            blocks.append(Block("sign", s, item=item.id, key=f"item.{item.id}.signature"))
            if i + 1 < len(rest) and rest[i + 1].strip() == "印":
                i += 1
        elif n in blanks:
            name = blanks.pop(n)
            blocks.append(Block("field", s.rstrip("：:").strip(), item=item.id, key=f"item.{item.id}.{name}"))
        elif blanks and any(n.startswith(lbl) and len(n) > len(lbl) + 3 for lbl in blanks):
            # 「書面による申込方法は以下のとおりです。」: a sentence with the answer space under it
            lbl = next(lbl for lbl in blanks if n.startswith(lbl))
            name = blanks.pop(lbl)
            blocks.append(Block("field", s, item=item.id, key=f"item.{item.id}.{name}", extra={"below": True}))
        else:
            blocks.append(Block("text", s, item=item.id))
        i += 1
    return blocks


def _closing(lines: list[str], data: itemsdata.ItemsData) -> list[Block]:
    contacts = list(data.contacts)
    blocks: list[Block] = []
    cid, fields = contacts[0]
    remaining = list(fields)
    ci = 0
    for s in lines:
        s = s.strip()
        n = _norm(s)
        if s.startswith("以上"):
            blocks.append(Block("text", s))
        elif n == "年月日":
            blocks.append(Block("date", "年 月 日", key="closing.date", extra={"align": "right"}))
        elif s.startswith("本件に関する") or s.startswith("情報セキュリティ関係"):
            ci += 1
            cid, fields = contacts[ci]
            remaining = list(fields)
            blocks.append(Block("subheading", s, key=cid))
        elif s.startswith("※"):
            blocks.append(Block("note", s))
        else:
            base = re.sub(r"\s*印$", "", s)
            nb = _norm(base).rstrip("〒")
            hit = next(((k, lbl) for k, lbl in remaining if _norm(lbl) == nb), None)
            if hit is None:
                blocks.append(Block("text", s))
                continue
            remaining.remove(hit)
            extra: dict = {}
            if "〒" in s:
                extra["prefix"] = "〒"
            if s.endswith("印"):
                extra["seal"] = True
            label = re.sub(r"\s*[：:]\s*〒?$", "", base).strip()
            blocks.append(Block("field", label, key=f"{cid}.{hit[0]}", extra=extra))
    return blocks


def parse() -> dict[str, list[Block]]:
    """The seed as {'cover': [...], 'answer': [...]}: the two parts an applicant fills and returns."""
    data = itemsdata.load()
    lines = _clean_lines(seed_file().read_text(encoding="utf-8"))
    i_list = lines.index("審査質問項目一覧")
    i_answer = lines.index("審査項目回答書")
    cover = _cover(lines[:i_list], data)
    body = lines[i_answer + 1:]
    first_item = next(i for i, s in enumerate(body) if SECTION_RE.match(s.strip()))
    answer = _declarations(body[:first_item], data)
    i_close = next(i for i, s in enumerate(body) if s.strip().startswith("以上の通り"))
    cur: tuple[itemsdata.Item, str, list[str]] | None = None
    for s in body[first_item:i_close]:
        st = s.strip()
        m = ITEM_RE.match(st)
        sec = SECTION_RE.match(st)
        if (m and m.group(1) in data.items) or sec:
            if cur:
                answer.extend(_item_block(*cur))
                cur = None
            if sec and not m:
                answer.append(Block("heading", f"{sec.group(1)} {sec.group(2)}", key=sec.group(1)))
                continue
            assert m
            cur = (data.items[m.group(1)], m.group(2).strip(), [])
        elif cur:
            cur[2].append(s)
    if cur:
        answer.extend(_item_block(*cur))
    answer.extend(_closing(body[i_close:], data))
    return {"cover": cover, "answer": answer}


def expected_boxes() -> list[tuple[str, str]]:
    """Every (item or declaration, option) that has a box on the answer sheet, in print order."""
    return [(b.item, b.option) for b in parse()["answer"] if b.kind == "box" and b.item and b.option]
