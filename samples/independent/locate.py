"""Find, in a blank printing's PDF, where an applicant writes: boxes, brackets, blanks, URL lines,
signature places and dates — from the text layer and drawn squares, with no layout file.

Works for our printings (□ as a glyph) and the project's (□ drawn as squares) alike, so the same
hand-filler serves both; every place is named by item and option from the text beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pdfplumber

from samples.independent import itemsdata

ID_RE = re.compile(r"^(\d-\d-\d)")


def norm(s: str) -> str:
    return re.sub(r"[\s　:：。．.、,・]", "", s)


@dataclass
class Line:
    page: int
    top: float
    bottom: float
    chars: list[dict]

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    def right_of(self, x: float) -> str:
        return "".join(c["text"] for c in self.chars if c["x0"] >= x - 0.5)

    def left_of(self, x: float) -> str:
        return "".join(c["text"] for c in self.chars if c["x1"] <= x + 0.5)


@dataclass
class Place:
    """One place to write or mark: kind box|choice|field|url_top|url_mid|url_target|sign|seal|date."""

    kind: str
    page: int
    bbox: tuple[float, float, float, float]  # PDF points, origin top-left
    item: str | None = None
    option: str | None = None
    key: str | None = None
    extra: dict = field(default_factory=dict)


def _lines(page, pno: int) -> list[Line]:
    chars = sorted((c for c in page.chars if c["text"].strip()), key=lambda c: (round(c["top"]), c["x0"]))
    lines: list[Line] = []
    for c in chars:
        mid = (c["top"] + c["bottom"]) / 2
        for ln in lines[-4:]:
            if ln.top - 1.5 <= mid <= ln.bottom + 1.5 and abs((ln.top + ln.bottom) / 2 - mid) < 4:
                ln.chars.append(c)
                ln.top, ln.bottom = min(ln.top, c["top"]), max(ln.bottom, c["bottom"])
                break
        else:
            lines.append(Line(pno, c["top"], c["bottom"], [c]))
    for ln in lines:
        ln.chars.sort(key=lambda c: c["x0"])
    lines.sort(key=lambda ln: ln.top)
    return lines


def _boxes(page, pno: int) -> list[tuple[float, float, float, float]]:
    out = [(c["x0"], c["top"], c["x1"], c["bottom"]) for c in page.chars if c["text"] == "□"]
    for r in page.rects:
        w, h = r["width"], r["height"]
        if 7 <= w <= 16 and abs(w - h) < 1.0 and r.get("stroke") and not r.get("fill"):
            out.append((r["x0"], r["top"], r["x1"], r["bottom"]))
    return out


def _line_at(lines: list[Line], y0: float, y1: float) -> Line | None:
    mid = (y0 + y1) / 2
    best = [ln for ln in lines if ln.top - 3 <= mid <= ln.bottom + 3]
    return min(best, key=lambda ln: abs((ln.top + ln.bottom) / 2 - mid)) if best else None


def _after(ln: Line, label_norm: str) -> float:
    """x just after the label (and its colon / 〒) on a line."""
    acc = ""
    x = ln.chars[0]["x1"]
    for i, c in enumerate(ln.chars):
        if norm(c["text"]):
            acc += norm(c["text"])
        x = c["x1"]
        if acc.startswith(label_norm) and len(acc) >= len(label_norm):
            rest = ln.chars[i + 1:]
            while rest and rest[0]["text"] in "：:〒 ":
                x = rest[0]["x1"]
                rest = rest[1:]
            return x
    return x


def locate(pdf_path: str) -> tuple[list[Place], list[tuple[float, float]], list[list[Line]]]:
    """All places of a blank printing, the page sizes, and its text lines."""
    data = itemsdata.load()
    places: list[Place] = []
    sizes: list[tuple[float, float]] = []
    all_lines: list[list[Line]] = []
    decl_ids = list(data.declarations)
    decl_titles = {"上位プロバイダー": decl_ids[0], "システムセキュリティ障害": decl_ids[1], "個人情報漏洩": decl_ids[2]}
    context = "cover"  # cover | declaration id | item id | contact id
    decl_count: dict[str, int] = {}
    cover_labels = [(f"cover.{k}", norm(lbl)) for k, lbl in data.cover_fields]
    contact_labels = {cid: [(f"{cid}.{k}", norm(lbl)) for k, lbl in fl] for cid, fl in data.contacts}
    seen_answer = False
    with pdfplumber.open(pdf_path) as pdf:
        for pno, page in enumerate(pdf.pages):
            sizes.append((float(page.width), float(page.height)))
            lines = _lines(page, pno)
            all_lines.append(lines)
            boxes = _boxes(page, pno)
            vedges = [e for e in page.edges if e["orientation"] == "v"]
            arrows: list[Line] = []
            used_fields: set[str] = {p.key for p in places if p.kind == "field" and p.key}
            events: list[tuple[float, str, object]] = [(ln.top, "line", ln) for ln in lines]
            events += [(b[1] + 0.01, "box", b) for b in boxes]
            events.sort(key=lambda e: e[0])
            for _, kind, obj in events:
                if kind == "box":
                    b = obj  # type: ignore[assignment]
                    ln = _line_at(lines, b[1], b[3])
                    if ln is None:
                        continue
                    right = norm(ln.right_of(b[2]))
                    left = norm(ln.left_of(b[0]))
                    m = ID_RE.match(left[-5:] if len(left) >= 5 else left) or ID_RE.match(right)
                    if m and m.group(1) in data.items:
                        context = m.group(1)
                        places.append(Place("box", pno, b, context, "yes"))
                    elif context in data.items:
                        neg = data.items[context].negative
                        if neg and right[:8] and norm(neg).startswith(right[:8]):
                            places.append(Place("box", pno, b, context, "no"))
                    elif context in data.declarations:
                        d = data.declarations[context]
                        if right.startswith("運用管理規程"):
                            opt = "already_reported" if "既に" in right else "attached"
                        else:
                            n = decl_count.get(context, 0)
                            decl_count[context] = n + 1
                            mains = [k for k, role, _ in d.options if role == "main"]
                            if n >= len(mains):
                                continue
                            opt = mains[n]
                        places.append(Place("box", pno, b, context, opt))
                    continue
                ln = obj  # type: ignore[assignment]
                t = norm(ln.text)
                if t.startswith("審査項目回答書") or t.startswith("ご回答は"):
                    seen_answer = True
                m = ID_RE.match(t)
                if m and m.group(1) in data.items and ln.chars[0]["x0"] < page.width * 0.3 and "右肩" not in t:
                    context = m.group(1)
                for frag, did in decl_titles.items():
                    if t.startswith(("（", "(")) and frag in t and t.endswith(("について）", "について)")):
                        context = did
                if t.startswith("以上の通り"):
                    context = "respondent"
                elif t.startswith("本件に関する連絡担当者"):
                    context = "contact"
                elif t.startswith("情報セキュリティ関係について"):
                    context = "security_contact"
                # dates: digits go left of 年, 月, 日
                if re.search(r"年月日$", t) and ("提出年月日" not in t or context in data.declarations):
                    key = (f"{context}.submitted_date" if context in data.declarations else
                           "cover.date" if context == "cover" and not any(p.key == "cover.date" for p in places) else
                           "closing.date" if context == "respondent" and t.startswith(("以上", "年", "令和")) else
                           f"{context}.submitted_date" if "提出年月日" in t else
                           "cover.registration_date" if "届出年月日" in t else None)
                    if key and not any(p.key == key for p in places):
                        marks = [c for c in ln.chars if c["text"] in "年月日"][-3:]
                        places.append(Place("date", pno, (marks[0]["x0"], ln.top, marks[-1]["x1"], ln.bottom), context,
                                            key=key, extra={"glyphs": [(c["x0"], c["top"], c["x1"], c["bottom"]) for c in marks]}))
                # brackets of 3-1-7 / 7-0-2
                if context in data.items and data.items[context].choices and t.startswith(("[", "［")):
                    rb = next((c for c in ln.chars if c["text"] in "]］"), None)
                    after = norm(ln.right_of(rb["x1"])) if rb else ""
                    for key, ctext in sorted(data.items[context].choices, key=lambda kc: -len(norm(kc[1]))):
                        if after.startswith(norm(ctext)):
                            x0 = ln.chars[0]["x0"]
                            places.append(Place("choice", pno, (x0, ln.top, rb["x1"], ln.bottom), context, key))
                            break
                if "署名（肉筆）押印" in ln.text and context in data.items:
                    lab_end = next(c for c in ln.chars if c["text"] == "押")["x1"] + 12
                    seal = [c for c in ln.chars if c["text"] == "印" and c["x0"] > lab_end]
                    sx = seal[-1]["x0"] if seal else page.width * 0.85
                    places.append(Place("sign", pno, (lab_end, ln.top - 6, sx - 12, ln.bottom + 6), context))
                    if seal:
                        c = seal[-1]
                        places.append(Place("seal", pno, (c["x0"], c["top"], c["x1"], c["bottom"]), context))
                if "トップページ" in ln.text and "http" in ln.text and context in data.items:
                    x = ln.chars[-1]["x1"]
                    places.append(Place("url_top", pno, (x + 4, ln.top, page.width * 0.85, ln.bottom), context))
                    arrows = []
                elif t == "↓" and context in data.items:
                    arrows.append(ln)
                    if len(arrows) == 2:
                        a, b2 = arrows
                        places.append(Place("url_mid", pno, (a.chars[0]["x1"] + 14, a.bottom, page.width * 0.8, b2.top), context))
                elif t.startswith("該当URL") and context in data.items:
                    x = ln.chars[-1]["x1"]
                    places.append(Place("url_target", pno, (x + 4, ln.top, page.width * 0.85, ln.bottom), context))
                # named blanks
                if context == "cover":
                    cands = cover_labels
                elif context in data.items:
                    cands = [(f"item.{context}.{n}", norm(lbl)) for n, lbl in data.items[context].blanks]
                else:
                    cands = contact_labels.get(context, [])
                for key, lab in cands:
                    if key in used_fields or not t.startswith(lab):
                        continue
                    if key == "cover.registration_date" or (context == "cover" and not seen_answer and pno > 0):
                        continue
                    below = len(t) > len(lab) + 6 and t[len(lab):].startswith("は")
                    if below:
                        bbox = (ln.chars[0]["x0"] + 10, ln.bottom + 3, page.width * 0.85, ln.bottom + 18)
                    else:
                        x = _after(ln, lab)
                        edge = [e["x0"] for e in vedges if x - 2 < e["x0"] < x + 200 and e["top"] <= ln.top + 2 and e["bottom"] >= ln.bottom - 2]
                        if edge:
                            x = min(edge)
                        bbox = (x + 6, ln.top, page.width * 0.85, ln.bottom)
                    places.append(Place("field", pno, bbox, context, key=key, extra={"below": below}))
                    used_fields.add(key)
                    break
    return places, sizes, all_lines
