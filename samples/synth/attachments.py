"""Seeded generator of attachment documents with top-right labels (右肩), as PDFs and as scans, with truth.

Each document is a few A4 pages of plausible Japanese text (方針, 監査報告書, マニュアル, 契約書 …).
Its first page carries the item label in one of the styles applicants use: typed, full-width,
other dashes, brackets, 項目/No. prefixes, two labels, boxed, slightly rotated, small, or
handwritten digits drawn as pen strokes with jitter (not a font). Some documents are
unlabelled or wrongly labelled, and blank separator pages are put between some of them.

Item ids come from ``forms/<name>/items.yaml`` when it exists; otherwise from the fallback lists
below, which copy the contract's evidence table (spec/README.md) and exist only for test data.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

FONT_FILES = {
    "IPAexGothic": "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "IPAexMincho": "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "IPAGothic": "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "IPAMincho": "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
}
PAGE_W_PT, PAGE_H_PT = 595.28, 841.89  # A4

# Fallback only (test data when forms/renewal/items.yaml is absent): the spec's evidence table.
FALLBACK_DOCUMENT_ITEMS = tuple(
    "1-1-1 1-1-2 2-1-1 2-3-1 3-1-1 3-1-6 3-2-1 4-1-4 7-1-1 7-1-2 7-1-3 7-2-2 7-5-1 7-6-1 7-6-2 7-6-3 "
    "2-1-5 3-3-1 4-1-1 4-1-2 4-1-3 4-2-1 4-2-2 4-2-3 4-3-1 4-3-2 5-1-1 5-2-1 6-1-1 6-2-1 6-2-2 7-5-2".split()
)
FALLBACK_OTHER_ITEMS = tuple(
    "7-4-1 1-1-3 1-1-4 1-2-1 2-1-2 2-1-3 2-1-4 2-2-1 2-3-2 3-1-2 3-1-3 3-1-4 3-1-5 3-1-7 3-1-8 "
    "3-3-2 4-4-1 5-1-2 5-1-3 5-1-4 7-0-1 7-0-2 7-2-1 7-3-1".split()
)
NOT_ITEMS = ("9-1-1", "1-1-9", "8-2-1", "2-4-1", "1-3-1", "6-3-2", "5-3-1")

LabelStyle = Literal[
    "typed",
    "fullwidth",
    "dash",
    "bracket",
    "prefix",
    "spaced",
    "two",
    "boxed",
    "rotated",
    "small",
    "every_page",
    "handwritten",
    "handwritten_boxed",
    "unknown_id",
    "no_doc_item",
    "unlabelled",
]
HANDWRITTEN_STYLES: tuple[LabelStyle, ...] = ("handwritten", "handwritten_boxed")
# Typed: every style but the handwritten ones and the three that test something other than the label's look.
TYPED_STYLES: tuple[LabelStyle, ...] = tuple(
    s for s in get_args(LabelStyle) if s not in (*HANDWRITTEN_STYLES, "unknown_id", "no_doc_item", "unlabelled")
)
WRONG_STYLES: tuple[LabelStyle, ...] = ("unknown_id", "no_doc_item", "unlabelled")
ALL_STYLES: tuple[LabelStyle, ...] = TYPED_STYLES + HANDWRITTEN_STYLES + WRONG_STYLES

DASHES = "‐−–—ーｰ―－"
BRACKETS = ("「」", "『』", "【】", "()", "（）", "[]")
PREFIXES = ("項目", "項目 ", "No.", "No. ", "No", "番号", "項目番号：")
JOINERS = ("・", "/", "、", " ", ", ", "」「")


def item_lists(form_dir: Path | str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(items taking a document, other items) from forms/<name>/items.yaml, else the fallback lists."""
    path = Path(form_dir or Path(__file__).resolve().parents[2] / "forms" / "renewal") / "items.yaml"
    if path.is_file():
        import yaml

        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        docs: list[str] = []
        others: list[str] = []
        for it in raw.get("items", []):
            ev = [str(e) for e in it.get("evidence", [])]
            (docs if any(e in ("doc", "doc|url") for e in ev) else others).append(str(it["id"]))
        if docs:
            return tuple(docs), tuple(others)
    return FALLBACK_DOCUMENT_ITEMS, FALLBACK_OTHER_ITEMS


# --- documents ---------------------------------------------------------------------------

KINDS: dict[str, tuple[str, ...]] = {
    "情報セキュリティ基本方針": (
        "当社は、お客様からお預かりした情報資産を適切に保護するため、情報セキュリティ基本方針を定める。",
        "経営者は情報セキュリティに関する責任を負い、必要な資源を配分する。",
        "全ての従業者は本方針及び関連規程を遵守し、定期的な教育を受けなければならない。",
        "情報資産の重要度に応じて分類を行い、適切な管理策を実施する。",
        "本方針は年一回以上見直しを行い、必要に応じて改訂する。",
    ),
    "内部監査報告書": (
        "令和6年度の内部監査を実施したので、その結果を以下のとおり報告する。",
        "監査対象部門はネットワーク運用部及びカスタマーサポート部である。",
        "アクセス権限の棚卸しが一部未実施であったため、是正を求めた。",
        "監査の結果、重大な不適合は認められなかった。",
        "指摘事項に対する是正処置の完了を次回監査で確認する。",
    ),
    "ネットワーク運用マニュアル": (
        "本マニュアルは、当社ネットワーク設備の日常運用に関する手順を定める。",
        "運用担当者は毎朝、監視システムの警報履歴を確認すること。",
        "設備の設定変更は変更管理手順に従い、承認を得てから実施する。",
        "障害を検知した場合は、直ちに当番責任者へ連絡する。",
        "作業記録は所定の様式に記入し、三年間保管する。",
    ),
    "業務委託契約書": (
        "委託者と受託者は、以下のとおり業務委託契約を締結する。",
        "受託者は、本契約により知り得た秘密情報を第三者に開示してはならない。",
        "受託者は、再委託を行う場合、事前に委託者の書面による承諾を得るものとする。",
        "本契約の有効期間は、契約締結日から一年間とする。",
        "本契約に定めのない事項は、両者誠意をもって協議の上決定する。",
    ),
    "個人情報保護方針": (
        "当社は、個人情報の保護に関する法律及び関係法令を遵守する。",
        "個人情報は利用目的を明示した上で、適正な手段により取得する。",
        "取得した個人情報は、利用目的の範囲内でのみ利用する。",
        "個人情報への不正アクセス、紛失、漏えい等を防止するため安全管理措置を講じる。",
        "ご本人からの開示等の請求には、遅滞なく対応する。",
    ),
    "障害対応手順書": (
        "サービス障害が発生した場合の連絡体制及び対応手順を定める。",
        "一次対応者は障害の影響範囲を確認し、障害管理票を起票する。",
        "利用者への周知はウェブサイト及び電子メールにより行う。",
        "復旧後は原因を分析し、再発防止策を検討する。",
        "重大な障害は総務省への報告要否を判断する。",
    ),
    "セキュリティ教育実施記録": (
        "新入社員及び全従業者を対象に情報セキュリティ教育を実施した。",
        "教育内容は標的型攻撃メールへの対応及びパスワード管理である。",
        "受講者数は四十二名であり、理解度テストの平均点は八十六点であった。",
        "未受講者には追加の受講機会を設ける。",
        "教育資料は共有フォルダに保管している。",
    ),
    "設備管理規程": (
        "サーバ室への入退室は、許可された者に限り、記録を残すものとする。",
        "無停電電源装置及び自家発電設備は、年二回点検を行う。",
        "空調設備の異常は監視装置により自動的に通知される。",
        "消火設備はガス系消火設備を採用している。",
        "設備台帳は設備管理責任者が管理する。",
    ),
}
SECTION_HEADS = ("第1条（目的）", "第2条（適用範囲）", "第3条（定義）", "第4条（責任）", "1. 概要", "2. 体制", "3. 手順", "4. 記録")
HEADERS_RIGHT = ("社外秘", "文書番号：SEC-2024-01", "第2版", "取扱注意", "改訂日 2024年4月1日")


@dataclass(frozen=True)
class LabelSpec:
    """What is written at the top right of a document's first page, and what it should read as."""

    style: LabelStyle
    text: str  # as written (for handwritten: the ASCII digits and dashes drawn)
    ids: tuple[str, ...]  # truth: item ids that take a document
    unknown: tuple[str, ...]  # truth: ids written that are not items taking a document
    font: str = "IPAexGothic"
    size_pt: float = 12.0
    angle_deg: float = 0.0
    boxed: bool = False
    handwritten: bool = False
    every_page: bool = False
    right_pt: float = 40.0  # distance of the label's right end from the page's right edge
    top_pt: float = 30.0  # distance of the label's top from the page's top edge


@dataclass(frozen=True)
class DocSpec:
    index: int
    kind: str
    font: str
    pages: tuple[tuple[str, ...], ...]  # lines per page
    label: LabelSpec | None
    date_line: str | None = None  # right-aligned date under the label area (non-label text)
    header_right: str | None = None  # running header at the top right of later pages
    blank_before: bool = False  # a blank separator page precedes this document

    @property
    def expected_status(self) -> str:
        return "missing" if self.label is None else "read"


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _body(kind: str, n_pages: int, rng: np.random.Generator) -> tuple[tuple[str, ...], ...]:
    sentences = KINDS[kind]
    pages = []
    for p in range(n_pages):
        lines: list[str] = []
        budget = int(rng.integers(22, 36)) if p < n_pages - 1 else int(rng.integers(8, 30))
        while len(lines) < budget:
            if rng.random() < 0.18:
                lines.append(str(SECTION_HEADS[int(rng.integers(len(SECTION_HEADS)))]))
            lines.extend(_wrap(str(sentences[int(rng.integers(len(sentences)))]), 40))
        pages.append(tuple(lines[:budget]))
    return tuple(pages)


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else ("－" if c == "-" else c) for c in s)


def _label(style: LabelStyle, rng: np.random.Generator, doc_items: Sequence[str], other_items: Sequence[str]) -> LabelSpec | None:
    if style == "unlabelled":
        return None
    pick = lambda pool: str(pool[int(rng.integers(len(pool)))])  # noqa: E731
    ident = pick(doc_items)
    ids: tuple[str, ...] = (ident,)
    unknown: tuple[str, ...] = ()
    text = ident
    kw: dict[str, Any] = {
        "font": pick(tuple(FONT_FILES)),
        "size_pt": float(rng.uniform(10.0, 16.0)),
        "right_pt": float(rng.uniform(18, 60)) if rng.random() < 0.9 else float(rng.uniform(120, 170)),
        "top_pt": float(rng.uniform(18, 45)),
    }
    if style == "fullwidth":
        text = _fullwidth(ident)
    elif style == "dash":
        d = pick(DASHES)
        text = ident.replace("-", d)
    elif style == "bracket":
        b = pick(BRACKETS)
        inner = _fullwidth(ident) if rng.random() < 0.3 else ident
        text = b[0] + inner + b[1]
    elif style == "prefix":
        text = pick(PREFIXES) + ident
    elif style == "spaced":
        text = ident.replace("-", " - ")
    elif style == "two":
        second = pick([i for i in doc_items if i != ident])
        ids = (ident, second)
        j = pick(JOINERS)
        text = f"「{ident}」「{second}」" if j == "」「" else f"{ident}{j}{second}"
    elif style == "boxed":
        kw["boxed"] = True
    elif style == "rotated":
        kw["angle_deg"] = float(rng.choice([-1, 1]) * rng.uniform(2.0, 5.0))
    elif style == "small":
        kw["size_pt"] = float(rng.uniform(6.5, 8.0))
    elif style == "every_page":
        kw["every_page"] = True
    elif style in HANDWRITTEN_STYLES:
        kw.update(handwritten=True, boxed=style == "handwritten_boxed", size_pt=float(rng.uniform(14.0, 24.0)))
        kw["angle_deg"] = float(rng.uniform(-3.0, 3.0))
    elif style == "unknown_id":
        text, ids, unknown = (u := pick(NOT_ITEMS)), (), (u,)
    elif style == "no_doc_item":
        text, ids, unknown = (u := pick(other_items)), (), (u,)
    return LabelSpec(style=style, text=text, ids=ids, unknown=unknown, **kw)


def make_documents(
    seed: int,
    n: int,
    *,
    document_items: Sequence[str] | None = None,
    other_items: Sequence[str] | None = None,
    styles: Sequence[LabelStyle] = ALL_STYLES,
    blank_rate: float = 0.15,
) -> list[DocSpec]:
    """Draw ``n`` documents, cycling through ``styles`` in a seeded order; the same seed gives the same set."""
    if document_items is None or other_items is None:
        document_items, other_items = item_lists()
    rng = np.random.default_rng(seed)
    order = [styles[i % len(styles)] for i in range(n)]
    rng.shuffle(order)
    docs = []
    prev_ids: tuple[str, ...] = ()
    for i, style in enumerate(order):
        kind = str(list(KINDS)[int(rng.integers(len(KINDS)))])
        label = _label(style, rng, document_items, other_items)
        while label is not None and label.ids and label.ids == prev_ids:  # two same-label documents in a row would merge
            label = _label(style, rng, document_items, other_items)
        prev_ids = label.ids if label else ()
        docs.append(
            DocSpec(
                index=i,
                kind=kind,
                font=str(rng.choice(["IPAexMincho", "IPAexGothic", "IPAMincho"])),
                pages=_body(kind, int(rng.choice([1, 1, 2, 2, 3, 4])), rng),
                label=label,
                date_line=("令和6年4月1日" if rng.random() < 0.5 else "2024年4月1日") if rng.random() < 0.35 else None,
                header_right=str(rng.choice(HEADERS_RIGHT)) if rng.random() < 0.3 else None,
                # an unlabelled document right after another reads as its continuation (the rule),
                # so most are put after a separator sheet, where they must come out as their own attachment
                blank_before=bool(i > 0 and rng.random() < (0.6 if label is None else blank_rate)),
            )
        )
    return docs


# --- handwriting -------------------------------------------------------------------------

# Pen-stroke skeletons of digits in a 0.6 × 1.0 box, y downwards; several variants each.
_GLYPHS: dict[str, tuple[tuple[tuple[tuple[float, float], ...], ...], ...]] = {
    "0": ((tuple((0.3 + 0.27 * math.cos(math.radians(a)), 0.5 - 0.48 * math.sin(math.radians(a))) for a in range(100, 480, 30)),),),
    "1": (
        (((0.32, 0.0), (0.3, 1.0)),),
        (((0.12, 0.22), (0.34, 0.0), (0.32, 1.0)),),
        (((0.12, 0.2), (0.33, 0.0), (0.32, 1.0)), ((0.12, 1.0), (0.52, 1.0))),
    ),
    "2": (
        (((0.05, 0.25), (0.15, 0.05), (0.35, 0.0), (0.52, 0.12), (0.52, 0.32), (0.35, 0.55), (0.02, 1.0), (0.58, 0.98)),),
        (((0.06, 0.2), (0.3, 0.0), (0.52, 0.18), (0.45, 0.45), (0.05, 0.98), (0.25, 0.93), (0.58, 1.0)),),
    ),
    "3": (
        (((0.05, 0.12), (0.25, 0.0), (0.48, 0.06), (0.5, 0.25), (0.25, 0.45), (0.52, 0.6), (0.52, 0.85), (0.3, 1.0), (0.04, 0.9)),),
        (((0.06, 0.05), (0.55, 0.05), (0.28, 0.4), (0.52, 0.55), (0.52, 0.85), (0.3, 1.0), (0.04, 0.88)),),
    ),
    "4": (
        (((0.42, 0.0), (0.02, 0.68), (0.6, 0.68)), ((0.42, 0.25), (0.42, 1.0))),
        (((0.15, 0.0), (0.05, 0.62), (0.58, 0.62)), ((0.42, 0.3), (0.42, 1.0))),
    ),
    "5": (
        (((0.12, 0.02), (0.08, 0.45), (0.35, 0.38), (0.55, 0.55), (0.55, 0.82), (0.32, 1.0), (0.05, 0.9)), ((0.12, 0.02), (0.55, 0.02))),
        (((0.55, 0.02), (0.12, 0.02), (0.08, 0.45), (0.35, 0.38), (0.55, 0.55), (0.55, 0.82), (0.32, 1.0), (0.05, 0.9)),),
    ),
    "6": ((((0.5, 0.02), (0.2, 0.3), (0.05, 0.65), (0.15, 0.95), (0.4, 0.98), (0.55, 0.75), (0.45, 0.55), (0.2, 0.55), (0.07, 0.7)),),),
    "7": (
        (((0.02, 0.05), (0.58, 0.02), (0.22, 1.0)),),
        (((0.02, 0.05), (0.58, 0.02), (0.25, 1.0)), ((0.15, 0.52), (0.5, 0.5))),
        (((0.02, 0.18), (0.03, 0.02), (0.58, 0.02), (0.25, 1.0)),),
    ),
    "8": (
        (
            (
                (0.5, 0.12),
                (0.3, 0.0),
                (0.08, 0.12),
                (0.12, 0.35),
                (0.48, 0.62),
                (0.52, 0.88),
                (0.3, 1.0),
                (0.08, 0.88),
                (0.12, 0.62),
                (0.48, 0.35),
                (0.52, 0.12),
            ),
        ),
    ),
    "9": (
        (((0.52, 0.3), (0.35, 0.45), (0.1, 0.4), (0.05, 0.2), (0.25, 0.0), (0.5, 0.08), (0.52, 0.3), (0.45, 1.0)),),
        (((0.52, 0.25), (0.3, 0.45), (0.08, 0.35), (0.1, 0.08), (0.35, 0.0), (0.52, 0.2), (0.5, 0.6), (0.35, 1.0)),),
    ),
    "-": ((((0.0, 0.55), (0.45, 0.52)),),),
}


def _catmull(points: NDArray[np.float64], per_seg: int = 8) -> NDArray[np.float64]:
    if len(points) < 3:
        t = np.linspace(0, 1, per_seg)[:, None]
        return points[0] + t * (points[-1] - points[0])
    p = np.vstack([points[0], points, points[-1]])
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, per_seg, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    out.append(p[-2])
    return np.array(out)


def handwritten_strokes(text: str, rng: np.random.Generator, height: float) -> tuple[list[NDArray[np.float64]], float]:
    """Pen strokes (polylines, y downwards, origin at the text's top left) writing ``text``; returns (strokes, width).

    Digits and '-' are drawn from skeleton variants with seeded slant, rotation, size and per-point
    jitter, so no two are alike; other characters are skipped with a space's advance.
    """
    strokes: list[NDArray[np.float64]] = []
    x = 0.0
    slant = rng.uniform(-0.05, 0.3)
    for ch in text:
        if ch not in _GLYPHS:
            x += 0.4 * height
            continue
        variants = _GLYPHS[ch]
        glyph = variants[int(rng.integers(len(variants)))]
        sx = rng.uniform(0.8, 1.15) * (rng.uniform(0.8, 1.2) if ch == "-" else 1.0)
        sy = rng.uniform(0.9, 1.08)
        rot = math.radians(rng.uniform(-6, 6))
        dy = rng.uniform(-0.06, 0.06)
        for stroke in glyph:
            pts = np.array(stroke, dtype=float) + rng.normal(0, 0.028, (len(stroke), 2))
            pts[:, 0] *= sx
            pts[:, 1] = pts[:, 1] * sy + dy
            pts[:, 0] += slant * (1.0 - pts[:, 1])
            c, s = math.cos(rot), math.sin(rot)
            ctr = np.array([0.3, 0.5])
            pts = (pts - ctr) @ np.array([[c, s], [-s, c]]) + ctr
            strokes.append((_catmull(pts) * height) + np.array([x, 0.0]))
        x += (0.6 * sx + rng.uniform(0.12, 0.3)) * height
    return strokes, x


def render_handwritten_digit(digit: str, rng: np.random.Generator, height_px: int = 40, width_px: float | None = None) -> NDArray[np.uint8]:
    """One handwriting-like glyph as a grayscale image (ink dark on white), for measuring the digit classifier."""
    import cv2

    strokes, width = handwritten_strokes(digit, rng, float(height_px))
    pad = height_px // 3
    img = np.full((height_px + 2 * pad, int(width + 2 * pad + height_px * 0.4)), 255, np.uint8)
    thick = max(1, int(round(height_px * rng.uniform(0.05, 0.12))))
    for s in strokes:
        pts = np.round((s + pad) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts], False, 0, thick, cv2.LINE_AA, shift=4)
    return img


# --- drawing the PDF -----------------------------------------------------------------------

_REGISTERED: set[str] = set()


def _font(name: str) -> str:
    if name not in _REGISTERED:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(name, FONT_FILES[name]))
        _REGISTERED.add(name)
    return name


def _draw_label(c: Any, lab: LabelSpec, rng: np.random.Generator) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = lab.size_pt
    if lab.handwritten:
        strokes, width = handwritten_strokes(lab.text, rng, size)
    else:
        width = stringWidth(lab.text, _font(lab.font), size)
    x0 = PAGE_W_PT - lab.right_pt - width
    top = lab.top_pt
    c.saveState()
    c.translate(x0, PAGE_H_PT - top - size)  # origin at the label's bottom left
    c.rotate(lab.angle_deg)
    if lab.handwritten:
        c.setStrokeColorRGB(*(0.05, 0.08, 0.35) if rng.random() < 0.5 else (0.05, 0.05, 0.05))
        c.setLineWidth(size * float(rng.uniform(0.07, 0.12)))
        c.setLineCap(1)
        c.setLineJoin(1)
        for s in strokes:
            p = c.beginPath()
            p.moveTo(float(s[0, 0]), float(size - s[0, 1]))
            for px, py in s[1:]:
                p.lineTo(float(px), float(size - py))
            c.drawPath(p, stroke=1, fill=0)
    else:
        c.setFillColorRGB(0, 0, 0)
        c.setFont(_font(lab.font), size)
        c.drawString(0, size * 0.12, lab.text)
    if lab.boxed:
        pad = size * float(rng.uniform(0.3, 0.6))
        c.setLineWidth(float(rng.uniform(0.5, 1.2)))
        c.setStrokeColorRGB(0, 0, 0)
        c.rect(-pad, -pad * 0.6, width + 2 * pad, size + pad * 1.2, stroke=1, fill=0)
    c.restoreState()


def _draw_page(c: Any, doc: DocSpec, page_no: int, rng: np.random.Generator) -> None:
    body_font = _font(doc.font)
    if doc.label is not None and (page_no == 0 or doc.label.every_page):
        _draw_label(c, doc.label, rng)
    if page_no > 0 and doc.header_right:
        c.setFont(body_font, 9)
        if doc.label is not None and doc.label.every_page:  # keep clear of the label, as people do
            c.drawString(60, PAGE_H_PT - 35, doc.header_right)
        else:
            c.drawRightString(PAGE_W_PT - 50, PAGE_H_PT - 35, doc.header_right)
    y = PAGE_H_PT - 120
    if page_no == 0:
        if doc.date_line:
            c.setFont(body_font, 10.5)
            c.drawRightString(PAGE_W_PT - 60, PAGE_H_PT - 92, doc.date_line)
        c.setFont(body_font, 16)
        c.drawCentredString(PAGE_W_PT / 2, PAGE_H_PT - 135, doc.kind)
        y = PAGE_H_PT - 175
    c.setFont(body_font, 10.5)
    for line in doc.pages[page_no]:
        c.drawString(62, y, line)
        y -= 18
    c.setFont(body_font, 9)
    c.drawCentredString(PAGE_W_PT / 2, 30, f"- {page_no + 1} -")


@dataclass(frozen=True)
class StackPage:
    """One page of a generated stack: a document's page, or a blank separator (doc None)."""

    doc: int | None
    page: int  # 0-based page within the document


def stack(docs: Sequence[DocSpec]) -> list[StackPage]:
    """The page order of all documents in one stack, blank separators included."""
    out: list[StackPage] = []
    for d in docs:
        if d.blank_before:
            out.append(StackPage(None, 0))
        out.extend(StackPage(d.index, p) for p in range(len(d.pages)))
    return out


def write_pdf(docs: Sequence[DocSpec], path: Path | str | io.BytesIO, seed: int = 0) -> list[StackPage]:
    """Write the documents as one born-digital PDF (text layer, vector strokes for handwriting)."""
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(path if isinstance(path, io.BytesIO) else str(path), pagesize=(PAGE_W_PT, PAGE_H_PT), invariant=1)
    pages = stack(docs)
    by_index = {d.index: d for d in docs}
    for sp in pages:
        if sp.doc is not None:
            doc = by_index[sp.doc]
            _draw_page(c, doc, sp.page, np.random.default_rng([seed, doc.index, sp.page]))
        c.showPage()
    c.save()
    return pages


def truth(docs: Sequence[DocSpec], pages: Sequence[StackPage], file: str) -> dict[str, Any]:
    """The truth of a stack written to ``file``: per document its labels and 1-based pages, and the
    attachments the issue's grouping rule should make of them (an unlabelled document directly after
    another, with no separator, continues that one's attachment)."""
    out_docs = []
    expected: list[dict[str, Any]] = []
    for d in docs:
        nums = [i + 1 for i, sp in enumerate(pages) if sp.doc == d.index]
        lab = d.label
        entry = {
            "index": d.index,
            "kind": d.kind,
            "style": lab.style if lab else "unlabelled",
            "written": lab.text if lab else None,
            "labels": list(lab.ids) if lab else [],
            "unknown_labels": list(lab.unknown) if lab else [],
            "handwritten": bool(lab and lab.handwritten),
            "status": d.expected_status,
            "pages": [{"file": file, "page": n} for n in nums],
        }
        out_docs.append(entry)
        if lab is None and expected and not d.blank_before:
            expected[-1]["pages"] += entry["pages"]  # type: ignore[operator]
            expected[-1]["documents"].append(d.index)
        else:
            first: dict[str, Any] = {k: entry[k] for k in ("labels", "unknown_labels", "status", "style", "handwritten", "written")}
            first.update(pages=list(entry["pages"]), documents=[d.index])  # type: ignore[call-overload]
            expected.append(first)
    blanks = [{"file": file, "page": i + 1} for i, sp in enumerate(pages) if sp.doc is None]
    return {"documents": out_docs, "attachments": expected, "blank_pages": blanks, "specs": [asdict(d) for d in docs]}


def write_truth(data: dict[str, Any], path: Path | str) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


# --- scanning ---------------------------------------------------------------------------------

ScanMode = Literal["grey", "colour", "bw"]


@dataclass
class ScanPage:
    """A page as a scanner would deliver it: the encoded image and what the reader decodes from it."""

    dpi: int
    mode: ScanMode
    encoded: bytes  # JPEG (grey/colour) or PNG (1-bit bw)
    skew_deg: float
    meta: dict[str, Any] = field(default_factory=dict)

    def gray(self) -> NDArray[np.uint8]:
        import cv2

        img = cv2.imdecode(np.frombuffer(self.encoded, np.uint8), cv2.IMREAD_GRAYSCALE)
        return np.asarray(img, dtype=np.uint8)


def render_gray(pdf: bytes | Path | str, dpi: int) -> Iterator[NDArray[np.uint8]]:
    """Render every page of a PDF to grayscale at ``dpi`` (pypdfium2)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        for page in doc:
            bmp = page.render(scale=dpi / 72.0, grayscale=True)
            yield np.array(bmp.to_numpy()[:, :, 0] if bmp.to_numpy().ndim == 3 else bmp.to_numpy(), dtype=np.uint8)
            page.close()
    finally:
        doc.close()


def scan(gray: NDArray[np.uint8], rng: np.random.Generator, dpi: int, mode: ScanMode | None = None) -> ScanPage:
    """Degrade a clean rendering like a scanner: skew, paper tone, blur, noise, specks, then JPEG or 1-bit."""
    import cv2

    chosen: ScanMode = mode or ("grey", "grey", "colour", "bw")[int(rng.integers(4))]  # type: ignore[assignment]
    h, w = gray.shape
    skew = float(rng.uniform(-1.0, 1.0))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
    m[:, 2] += rng.uniform(-0.004, 0.004, 2) * np.array([w, h])
    img: NDArray[Any] = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255).astype(np.float32)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.4, 0.9)))
    paper = float(rng.uniform(225, 250))
    img = img * (paper / 255.0) + rng.normal(0, float(rng.uniform(2, 7)), img.shape)
    n_specks = int(rng.integers(0, 40))
    ys, xs = rng.integers(0, h, n_specks), rng.integers(0, w, n_specks)
    for y, x in zip(ys, xs):
        cv2.circle(img, (int(x), int(y)), int(rng.integers(1, 3)), float(rng.uniform(60, 160)), -1)
    img8 = np.clip(img, 0, 255).astype(np.uint8)
    if chosen == "bw":
        bw = np.where(img8 < rng.uniform(140, 180), 0, 255).astype(np.uint8)
        ok, enc = cv2.imencode(".png", bw, [cv2.IMWRITE_PNG_BILEVEL, 1])
    elif chosen == "colour":
        tint = np.array([rng.uniform(0.88, 0.97), rng.uniform(0.95, 1.0), 1.0], np.float32)  # BGR: yellowish paper
        col = np.clip(img8[:, :, None].astype(np.float32) * tint, 0, 255).astype(np.uint8)
        ok, enc = cv2.imencode(".jpg", col, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 92))])
    else:
        ok, enc = cv2.imencode(".jpg", img8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 92))])
    assert ok
    return ScanPage(dpi=dpi, mode=chosen, encoded=enc.tobytes(), skew_deg=skew)


def scan_pdf(pdf: bytes | Path | str, seed: int, dpi_choices: Sequence[int] = (150, 200, 300)) -> list[ScanPage]:
    """Scan every page of a PDF with seeded dpi, mode and degradation (one dpi for the whole stack)."""
    rng = np.random.default_rng(seed)
    dpi = int(rng.choice(list(dpi_choices)))
    return [scan(g, rng, dpi) for g in render_gray(pdf, dpi)]


def write_image_pdf(pages: Sequence[ScanPage], path: Path | str) -> None:
    """Wrap scanned pages as an image-only PDF (JPEG kept as is; 1-bit bw as Flate), like a scanner's output."""
    import zlib

    import pikepdf
    from PIL import Image

    pdf = pikepdf.new()
    for sp in pages:
        with Image.open(io.BytesIO(sp.encoded)) as im:
            w_px, h_px = im.size
            if sp.mode == "bw":
                packed = np.packbits(np.asarray(im.convert("1"), dtype=np.uint8), axis=1).tobytes()
                image = pikepdf.Stream(pdf, zlib.compress(packed))
                image.Filter, image.ColorSpace, image.BitsPerComponent = pikepdf.Name.FlateDecode, pikepdf.Name.DeviceGray, 1
            else:
                image = pikepdf.Stream(pdf, sp.encoded)
                image.Filter, image.BitsPerComponent = pikepdf.Name.DCTDecode, 8
                image.ColorSpace = pikepdf.Name.DeviceRGB if im.mode == "RGB" else pikepdf.Name.DeviceGray
        image.Type, image.Subtype, image.Width, image.Height = pikepdf.Name.XObject, pikepdf.Name.Image, w_px, h_px
        w_pt, h_pt = w_px * 72.0 / sp.dpi, h_px * 72.0 / sp.dpi
        content = pikepdf.Stream(pdf, f"q {w_pt:.3f} 0 0 {h_pt:.3f} 0 0 cm /Im0 Do Q".encode())
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, w_pt, h_pt],
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
            Contents=content,
        )
        pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
