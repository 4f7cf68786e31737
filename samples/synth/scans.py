"""Seeded generator of filled-in, scanned form pages with their truth, for tests and bench/.

It fills a printing of the form (forms/<name>/blank.pdf + layout.yaml) the way applicants do —
✓ ticks, × crosses, filled ■, ○ drawn around a box or in/around a bracket, faint pencil, thin
pen, marks straying over the edge, a mark struck out with 二重線 beside a new one, pen-stroke
signatures, seals (circle or square, with kanji; vermilion, some in black ink), typed text and
handwriting-like text — and then "scans" each page: 150-300 dpi, colour / grey / black-and-
white, skew up to ±3°, shift, scale 0.95-1.0 (fit to page), paper tone, blur, noise, JPEG,
and pages fed upside down or sideways.

Output: an image-only PDF (JPEG pages; bw pages as 1-bit Flate), a multi-page TIFF or one
PNG/JPEG per page, and `<name>.truth.json` beside it:

    {"seed", "form", "printing", "file", "pages": [{"page", "form_page", "dpi", "mode", "skew_deg",
     "scale", "rotation", ...}], "boxes": {"<owner>.<option>": {"state", "style", "form_page"}},
     "fields": {"<field name>": {"kind", "present", "text", "handwritten", "form_page"}}}

Box truth is `checked` or `empty`; a struck-out mark is `empty` with style `struck` (a reader
may call it uncertain, never checked). Everything is drawn on the blank page's raster
(pypdfium2) with OpenCV/PIL, in PDF points converted at the scan's dpi. Deterministic by seed.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from pipeline.model.records import BoxLayout, FieldLayout, FormDef, PageLayout

Mode = Literal["color", "gray", "bw"]
MarkStyle = Literal["tick", "cross", "fill", "circle", "pencil", "thin", "stray", "ring_bracket", "o_inside", "struck"]

FONTS = {
    "gothic": "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "mincho": "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "pgothic": "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
}
PEN_COLOURS = ((25, 25, 30), (20, 30, 90), (15, 15, 15), (30, 40, 110))  # RGB: black, blue-black, blue
SEAL_RED = (205, 45, 40)


@dataclass(frozen=True, slots=True)
class ScanSpec:
    """How one page is scanned. Angles in degrees (counter-clockwise), shift in mm."""

    dpi: int = 200
    mode: Mode = "gray"
    skew_deg: float = 0.0
    scale: float = 1.0
    shift_mm: tuple[float, float] = (0.0, 0.0)
    rotation: int = 0  # 0/90/180/270: the sheet fed turned by this much (clockwise)
    blur_px: float = 0.6
    noise: float = 4.0  # grey-level sigma
    jpeg_quality: int = 80
    bw_threshold: int = 160
    paper: float = 0.96  # paper brightness relative to white


@dataclass(frozen=True, slots=True)
class GenOptions:
    """What a generated submission looks like; None picks at random (seeded)."""

    dpi: int | None = None  # one dpi for the whole submission, as a scanner run uses
    mode: Mode | None = None
    max_skew_deg: float = 3.0
    upside_down: int = 1  # pages fed upside down
    sideways: int = 0  # pages fed turned 90°
    pages: tuple[int, ...] | None = None  # form pages to include (1-based), default all
    extra_pages: tuple[str, ...] = ()  # non-form pages appended: "blank", "photo", "text"
    fmt: Literal["pdf", "tiff", "png", "jpg"] = "pdf"
    struck_rate: float = 0.25  # chance per submission of one 二重線 correction
    handwriting_rate: float = 0.3  # share of filled text fields written by hand


# --- text to write -------------------------------------------------------------------------

SURNAMES = ("田中", "佐藤", "鈴木", "高橋", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "松本", "井上", "木村")
GIVEN = ("太郎", "花子", "健一", "美咲", "大輔", "裕子", "翔太", "直樹", "恵子", "誠")
COMPANIES = ("株式会社みどりネット", "北斗通信株式会社", "有限会社さくらネットワーク", "株式会社東海ブロードバンド", "ひかり通信株式会社", "株式会社アオバインターネット")
SERVICES = ("みどり光インターネット", "北斗ネット接続サービス", "さくらBB", "東海ひかり", "アオバ光", "ひかりプロバイダ")
DEPTS = ("情報システム部 部長", "総務部 課長", "技術部 主任", "ネットワーク運用課 課長", "管理部 部長", "セキュリティ推進室 室長")
ADDRESSES = ("東京都千代田区丸の内1-2-3", "大阪府大阪市北区梅田2-4-6", "愛知県名古屋市中区栄3-5-1", "福岡県福岡市博多区博多駅前1-1-8", "宮城県仙台市青葉区本町2-10-3")
DOMAINS = ("midori-net.jp", "hokuto.ne.jp", "sakura-bb.jp", "tokai-hikari.co.jp", "aoba.ne.jp")
PATHS = ("support/security.html", "privacy/index.html", "terms/contract.html", "info/maintenance.html", "company/policy.html", "service/notice.html")
PHRASES = {
    "activity": ("年2回のセキュリティ研修を実施", "全社員向けに標的型メール訓練を実施", "新入社員研修で情報セキュリティ教育"),
    "measures": ("改ざん検知システムによる常時監視", "WAFの導入と定期的な脆弱性診断", "ファイルの整合性を毎日確認"),
    "equipment": ("無停電電源装置と自家発電設備", "入退室管理システムと監視カメラ"),
    "outage_equipment": ("無停電電源装置及び自家発電装置", "UPSと非常用発電機"),
    "notice_method": ("ウェブサイト及び電子メールで周知", "会員向けページに掲載"),
    "notice_period": ("実施の1か月前から", "2週間前から実施日まで"),
    "prohibited_acts": ("迷惑メールの送信及び不正アクセス", "第三者の権利を侵害する行為"),
    "measures_for_violators": ("警告の上、利用停止措置", "契約の解除"),
    "written_application": ("所定の申込書を郵送", "申込書に記入の上窓口に提出"),
    "main_site_address": ADDRESSES,
    "backup_site_address": ADDRESSES,
}


def _phone(rng: np.random.Generator) -> str:
    return f"0{rng.integers(3, 99)}-{rng.integers(100, 9999)}-{rng.integers(1000, 9999)}"


def field_text(fld: FieldLayout, rng: np.random.Generator, who: dict[str, str]) -> str:
    """Plausible text an applicant writes in `fld` (by its name's last part and its kind)."""
    key = fld.name.rsplit(".", 1)[-1]
    if fld.kind == "url":
        host = f"www.{who['domain']}"
        return host if key.endswith("top") or fld.owner == "applicant" else f"{host}/{rng.choice(PATHS)}"
    if key in PHRASES:
        return str(rng.choice(PHRASES[key]))
    table: dict[str, Any] = {
        "service_name": who["service"], "company_name": who["company"], "address": who["address"],
        "representative": f"代表取締役 {rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
        "tel": _phone(rng), "fax": _phone(rng), "email": f"{rng.choice(['info', 'security', 'support'])}@{who['domain']}",
        "registration_number": f"A-{rng.integers(10, 99)}-{rng.integers(10000, 99999)}",
        "user_count": f"{rng.integers(1, 90)},{rng.integers(0, 999):03d}",
        "dept_title": str(rng.choice(DEPTS)), "name": f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
    }
    return str(table.get(key, f"{rng.choice(SURNAMES)}{rng.choice(('対応済み', '実施中', '記載のとおり'))}"))


# --- the blank page and its printed text ---------------------------------------------------


@lru_cache(maxsize=24)
def blank_gray(pdf: str, index: int, dpi: int) -> NDArray[np.uint8]:
    """The blank page `index` (0-based) rendered grey at `dpi` (cached; treat as read-only)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[index]
        out = page.render(scale=dpi / 72.0, grayscale=True).to_numpy()
        page.close()
    finally:
        doc.close()
    out = np.array(out if out.ndim == 2 else out[:, :, 0], dtype=np.uint8)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=64)
def printed_chars(pdf: str, index: int) -> tuple[tuple[str, float, float, float, float], ...]:
    """Every character the blank prints on page `index`: (char, x0, y0, x1, y1) in points, top-left origin."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[index]
        h = page.get_height()
        tp = page.get_textpage()
        out = []
        for i in range(tp.count_chars()):
            ch = tp.get_text_range(i, 1)
            if ch.strip():
                left, bottom, right, top = tp.get_charbox(i)
                out.append((ch, left, h - top, right, h - bottom))
        tp.close()
        page.close()
    finally:
        doc.close()
    return tuple(out)


# --- ink on the page -----------------------------------------------------------------------


class Canvas:
    """A page raster (RGB, uint8) at `dpi` that takes pen strokes, fills and text in points."""

    def __init__(self, gray: NDArray[np.uint8], dpi: int, color: bool = True) -> None:
        # a page scanned in grey is drawn in grey: a third of the work, and the same result
        self.img = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB) if color else gray.copy()
        self.dpi = dpi
        self.k = dpi / 72.0

    def px(self, pts: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(pts, dtype=np.float64) * self.k

    def _blend(self, alpha: NDArray[np.float32], x0: int, y0: int, colour: tuple[int, int, int]) -> None:
        h, w = alpha.shape
        H, W = self.img.shape[:2]
        xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
        if xa >= xb or ya >= yb:
            return
        a = alpha[ya - y0 : yb - y0, xa - x0 : xb - x0]
        region = self.img[ya:yb, xa:xb].astype(np.float32)
        ink = np.asarray(colour, np.float32) / 255.0
        if self.img.ndim == 3:
            a = a[:, :, None]
        else:
            ink = np.full(1, ink @ np.array([0.299, 0.587, 0.114], np.float32), np.float32)
        self.img[ya:yb, xa:xb] = np.clip(region * (1.0 - a * (1.0 - ink)), 0, 255).astype(np.uint8)

    def strokes(self, paths: Sequence[NDArray[np.float64]], width_pt: float, colour: tuple[int, int, int], opacity: float = 1.0,
                texture: float = 0.0, rng: np.random.Generator | None = None) -> None:
        """Pen strokes along point paths (points), multiplied onto the paper like real ink."""
        pxs = [self.px(p) for p in paths if len(p) >= 2]
        if not pxs:
            return
        allp = np.vstack(pxs)
        pad = int(width_pt * self.k) + 4
        x0, y0 = (np.floor(allp.min(axis=0)) - pad).astype(int)
        x1, y1 = (np.ceil(allp.max(axis=0)) + pad).astype(int)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        thick = max(1, int(round(width_pt * self.k)))
        for p in pxs:
            pts = np.round((p - (x0, y0)) * 4).astype(np.int32)  # 2 fractional bits
            cv2.polylines(mask, [pts], False, 255, thick, cv2.LINE_AA, shift=2)
        alpha = mask.astype(np.float32) / 255.0 * opacity
        if texture > 0 and rng is not None:  # pencil grain: ink skips over the paper's tooth
            alpha *= np.clip(1.0 - texture * rng.random(alpha.shape, dtype=np.float32), 0.0, 1.0)
        if thick == 1 and width_pt * self.k < 1.0:
            alpha *= width_pt * self.k
        self._blend(alpha, x0, y0, colour)

    def fill(self, poly: NDArray[np.float64], colour: tuple[int, int, int], opacity: float = 1.0) -> None:
        p = self.px(poly)
        x0, y0 = (np.floor(p.min(axis=0)) - 2).astype(int)
        x1, y1 = (np.ceil(p.max(axis=0)) + 2).astype(int)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round((p - (x0, y0)) * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
        self._blend(mask.astype(np.float32) / 255.0 * opacity, x0, y0, colour)

    def alpha_at(self, alpha: NDArray[np.float32], x_pt: float, y_pt: float, colour: tuple[int, int, int]) -> None:
        """Blend a coverage mask (0..1) whose top-left corner lands at (x_pt, y_pt)."""
        self._blend(alpha, int(round(x_pt * self.k)), int(round(y_pt * self.k)), colour)


@lru_cache(maxsize=32)
def _font(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size_px)


def text_mask(text: str, font: str, size_px: int) -> NDArray[np.float32]:
    """Coverage (0..1) of `text` set in one line, tight box plus 1 px."""
    f = _font(FONTS[font], size_px)
    left, top, right, bottom = f.getbbox(text)
    im = Image.new("L", (int(right - left + 2), int(bottom - top + 2)), 0)
    ImageDraw.Draw(im).text((1 - left, 1 - top), text, font=f, fill=255)
    return np.asarray(im, np.float32) / 255.0


def write_typed(cv: Canvas, fld_box: tuple[float, float, float, float], text: str, rng: np.random.Generator, align_right: float | None = None) -> None:
    """Typed text (printed before signing, or a typewriter-like label) sitting on the field's line."""
    x0, y0, x1, y1 = fld_box
    size_pt = float(rng.uniform(9.5, 11.5)) if align_right is None else 9.5
    mask = text_mask(text, str(rng.choice(["gothic", "mincho", "pgothic"])), max(8, int(round(size_pt * cv.k))))
    max_w = (x1 - x0 - 4) * cv.k
    if mask.shape[1] > max_w:  # shrink to fit, as a person picks a smaller size
        f = max_w / mask.shape[1]
        mask = np.asarray(cv2.resize(mask, (int(mask.shape[1] * f), max(4, int(mask.shape[0] * f))), interpolation=cv2.INTER_AREA), np.float32)
    x = x0 + float(rng.uniform(1, 8)) if align_right is None else align_right - mask.shape[1] / cv.k
    y = y1 - 3.5 - mask.shape[0] / cv.k + float(rng.uniform(-0.8, 0.8))
    cv.alpha_at(mask, x, max(y0, y), (15, 15, 15))


def write_by_hand(cv: Canvas, fld_box: tuple[float, float, float, float], text: str, rng: np.random.Generator, align_right: float | None = None) -> None:
    """Handwriting-like text: each character set, then turned, scaled and shifted on its own, in pen."""
    x0, y0, x1, y1 = fld_box
    size_pt = float(rng.uniform(11, 14)) if align_right is None else 10.0
    colour = PEN_COLOURS[int(rng.integers(len(PEN_COLOURS)))]
    x = x0 + float(rng.uniform(2, 10)) if align_right is None else align_right - 6.2 * len(text)
    base = y1 - 3.0
    slope = float(rng.uniform(-0.03, 0.03))
    weight = int(rng.integers(0, 2))
    for ch in text:
        if ch == " ":
            x += size_pt * 0.5
            continue
        s = size_pt * float(rng.uniform(0.85, 1.12)) * (0.62 if ord(ch) < 0x3000 else 1.0)
        m = text_mask(ch, "gothic", max(6, int(s * cv.k)))
        if weight:
            m = np.asarray(cv2.dilate(m, np.ones((2, 2), np.uint8)), np.float32)
        h, w = m.shape
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-8, 8)), 1.0)
        rot[0, 1] += float(rng.uniform(-0.15, 0.15))  # shear
        m = np.asarray(cv2.warpAffine(m, rot, (w, h)), np.float32)
        if x + w / cv.k > x1:
            break
        cv.alpha_at(m, x, base - h / cv.k + float(rng.uniform(-1.2, 1.2)) + slope * (x - x0), colour)
        x += w / cv.k * float(rng.uniform(0.92, 1.1)) + float(rng.uniform(0.0, 1.2))


def _wobble(pts: NDArray[np.float64], rng: np.random.Generator, amp: float, n: int = 10) -> NDArray[np.float64]:
    """Resample a polyline to n points per segment and add a smooth hand tremor (amp in points)."""
    out = []
    for a, b in zip(pts[:-1], pts[1:]):
        t = np.linspace(0, 1, n, endpoint=False)[:, None]
        out.append(a + (b - a) * t)
    out.append(pts[-1:])
    p = np.vstack(out)
    noise = np.cumsum(rng.normal(0, amp / 3, p.shape), axis=0)
    noise -= np.linspace(0, 1, len(p))[:, None] * noise[-1]
    return p + noise


def draw_mark(cv: Canvas, box: BoxLayout, style: MarkStyle, rng: np.random.Generator, colour: tuple[int, int, int]) -> None:
    """Draw one applicant's mark in (or around) a box or bracket."""
    x0, y0, x1, y1 = box.bbox
    w, h = x1 - x0, y1 - y0
    if box.shape == "bracket":  # the mark goes between the brackets, not over them
        cx, cy, s = (x0 + x1) / 2, (y0 + y1) / 2, min(h, w * 0.45)
    else:
        cx, cy, s = (x0 + x1) / 2, (y0 + y1) / 2, min(w, h)
    # widths in points: a ballpoint draws 0.25-0.4 mm, a fine liner 0.15-0.2 mm, a pencil 0.2-0.35 mm
    width = float(rng.uniform(0.7, 1.1))
    opacity, texture = 1.0, 0.0
    if style == "pencil":
        colour, opacity, texture, width = (95, 95, 100), float(rng.uniform(0.55, 0.8)), 0.45, float(rng.uniform(0.6, 1.0))
    elif style == "thin":
        width = float(rng.uniform(0.4, 0.6))
    if style == "stray":
        ang = rng.uniform(0, 2 * math.pi)
        cx += math.cos(ang) * s * rng.uniform(0.25, 0.45)
        cy += math.sin(ang) * s * rng.uniform(0.25, 0.45)
    if style in ("fill",):
        m = 0.8
        poly = np.array([[x0 + m, y0 + m], [x1 - m, y0 + m], [x1 - m, y1 - m], [x0 + m, y1 - m]]) + rng.normal(0, 0.4, (4, 2))
        if box.shape == "bracket":
            poly = np.array([[cx - s / 2, cy - s / 2], [cx + s / 2, cy - s / 2], [cx + s / 2, cy + s / 2], [cx - s / 2, cy + s / 2]])
        if rng.random() < 0.5:
            cv.fill(poly, colour)
        else:  # scribbled full: dense zig-zag
            ys = np.linspace(poly[:, 1].min() + 0.5, poly[:, 1].max() - 0.5, 9)
            zz = np.array([[poly[:, 0].min() + 0.5 if i % 2 == 0 else poly[:, 0].max() - 0.5, y] for i, y in enumerate(ys)])
            cv.strokes([_wobble(zz, rng, 0.25, 4)], 1.3, colour)
        return
    if style in ("circle", "ring_bracket"):
        rx = w / 2 + float(rng.uniform(2.5, 4.5))
        ry = h / 2 + float(rng.uniform(2.5, 4.0))
        start = rng.uniform(0, 2 * math.pi)
        t = start + np.linspace(0, 2 * math.pi * rng.uniform(1.0, 1.12), 48)
        r = 1 + np.cumsum(rng.normal(0, 0.012, t.shape))
        pts = np.column_stack([cx + rng.normal(0, 0.6) + rx * r * np.cos(t), cy + rng.normal(0, 0.6) + ry * r * np.sin(t)])
        cv.strokes([pts], width, colour)
        return
    if style == "o_inside":  # ○ written between the brackets
        rad = s * float(rng.uniform(0.32, 0.45))
        t = rng.uniform(0, 2 * math.pi) + np.linspace(0, 2 * math.pi * 1.05, 30)
        pts = np.column_stack([cx + rad * np.cos(t) * rng.uniform(0.9, 1.2), cy + rad * np.sin(t)])
        cv.strokes([pts], width, colour)
        return
    if style == "cross" or (style in ("pencil", "thin", "stray") and rng.random() < 0.3):
        e = s * float(rng.uniform(0.35, 0.6))
        a = np.array([[cx - e, cy - e], [cx + e, cy + e]]) + rng.normal(0, 0.5, (2, 2))
        b = np.array([[cx + e, cy - e], [cx - e, cy + e]]) + rng.normal(0, 0.5, (2, 2))
        cv.strokes([_wobble(a, rng, 0.2), _wobble(b, rng, 0.2)], width, colour, opacity, texture, rng)
        return
    # ✓: short stroke down-right, long stroke up-right, often beyond the box's top edge
    e = s * float(rng.uniform(0.8, 1.05))
    p = np.array([[cx - 0.42 * e, cy], [cx - 0.1 * e, cy + 0.38 * e], [cx + 0.55 * e, cy - 0.62 * e]])
    p += rng.normal(0, 0.35, p.shape)
    cv.strokes([_wobble(p, rng, 0.25)], width, colour, opacity, texture, rng)


def strike_out(cv: Canvas, box: BoxLayout, rng: np.random.Generator, colour: tuple[int, int, int]) -> None:
    """二重線: two roughly parallel lines through a mark, reaching past both sides of the box."""
    x0, y0, x1, y1 = box.bbox
    cy = (y0 + y1) / 2
    over_l, over_r = float(rng.uniform(5, 9)), float(rng.uniform(5, 9))
    tilt = float(rng.uniform(-1.0, 1.0))
    for dy in (-1.4, 1.4):
        p = np.array([[x0 - over_l, cy + dy - tilt], [x1 + over_r, cy + dy + tilt]])
        cv.strokes([_wobble(p, rng, 0.15, 12)], 0.8, colour)


def _smooth(ctrl: NDArray[np.float64], per_seg: int = 8) -> NDArray[np.float64]:
    """Catmull-Rom curve through control points (a pen moving smoothly)."""
    p = np.vstack([ctrl[:1], ctrl, ctrl[-1:]])
    t = np.linspace(0, 1, per_seg, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(ctrl[-1:])
    return np.vstack(out)


def draw_signature(cv: Canvas, bbox: tuple[float, float, float, float], rng: np.random.Generator, colour: tuple[int, int, int]) -> None:
    """A handwritten name: 2-4 characters of fast, joined pen strokes (curves with hooks and loops)."""
    x0, y0, x1, y1 = bbox
    n = int(rng.integers(2, 5))
    size = float(rng.uniform(16, min(28, y1 - y0 - 6)))
    x = x0 + float(rng.uniform(8, 50))
    cy = (y0 + y1) / 2 + float(rng.uniform(-3, 3))
    slope = float(rng.uniform(-0.08, 0.04))
    paths = []
    for _ in range(n):
        for _ in range(int(rng.integers(2, 5))):
            k = int(rng.integers(3, 7))
            ctrl = np.column_stack([x + rng.uniform(0, size, k), cy + rng.uniform(-size / 2, size / 2, k)])
            ctrl = ctrl[np.argsort(ctrl[:, 0] + rng.normal(0, size / 3, k))]
            pts = _smooth(ctrl, 7)
            pts[:, 1] += slope * (pts[:, 0] - x0)
            pts[:, 0] = np.clip(pts[:, 0], x0 + 2, x1 - 2)
            pts[:, 1] = np.clip(pts[:, 1], y0 + 2, y1 - 2)
            paths.append(pts)
        x += size * float(rng.uniform(0.95, 1.25))
        if x + size > x1:
            break
    cv.strokes(paths, float(rng.uniform(0.7, 1.2)), colour)


SEAL_GREY = (60, 60, 66)  # a black-ink stamp (シヤチハタ in black), read by shape even on colour scans


def draw_seal(cv: Canvas, bbox: tuple[float, float, float, float], rng: np.random.Generator, square: bool, colour: tuple[int, int, int] = SEAL_RED) -> None:
    """A seal: ring (or square frame) with a surname, uneven ink, slightly turned; vermilion unless told."""
    x0, y0, x1, y1 = bbox
    cx = (x0 + x1) / 2 + float(rng.uniform(-4, 4))
    cy = (y0 + y1) / 2 + float(rng.uniform(-4, 4))
    d = float(rng.uniform(44, 54)) if square else float(rng.uniform(28, 36))
    n = max(16, int(d * cv.k) + 4)
    m = np.zeros((n, n), np.float32)
    c = n / 2
    lw = max(2, int(0.09 * d / 72 * cv.dpi / 4))
    if square:
        cv2.rectangle(m, (lw, lw), (n - lw - 1, n - lw - 1), 1.0, lw)
        text = str(rng.choice(SURNAMES))[:2] + "之印"
        cell = int((n - 4 * lw) / 2)
        for i, ch in enumerate(text):
            g = cv2.resize(text_mask(ch, "mincho", cell), (cell, cell))
            gx, gy = (2 * lw + cell * (1 - i // 2)), 2 * lw + cell * (i % 2)
            m[gy : gy + cell, gx : gx + cell] = np.maximum(m[gy : gy + cell, gx : gx + cell], g)
    else:
        cv2.circle(m, (int(c), int(c)), int(c - lw), 1.0, lw, cv2.LINE_AA)
        name = str(rng.choice(SURNAMES))
        cell = int((n - 4 * lw) / 2 * 0.78)
        for i, ch in enumerate(name[:2]):
            g = cv2.resize(text_mask(ch, "mincho", cell), (int(cell * 1.15), cell))
            gx, gy = int(c - g.shape[1] / 2), int(c - cell + i * cell)
            m[gy : gy + cell, gx : gx + g.shape[1]] = np.maximum(m[gy : gy + cell, gx : gx + g.shape[1]], g)
    rot = cv2.getRotationMatrix2D((c, c), float(rng.uniform(-12, 12)), 1.0)
    m = np.asarray(cv2.warpAffine(m, rot, (n, n)), np.float32)
    grain = cv2.GaussianBlur(rng.random((n, n), dtype=np.float32), (0, 0), 1.5)
    m *= np.clip(0.55 + 1.2 * grain, 0.0, 1.0) * float(rng.uniform(0.75, 1.0))
    cv.alpha_at(m, cx - n / cv.k / 2, cy - n / cv.k / 2, colour)


# --- what the applicant does -----------------------------------------------------------------

BOX_STYLES: tuple[tuple[MarkStyle, float], ...] = (
    ("tick", 0.42), ("cross", 0.14), ("fill", 0.09), ("circle", 0.11), ("pencil", 0.07), ("thin", 0.09), ("stray", 0.08),
)
BRACKET_STYLES: tuple[tuple[MarkStyle, float], ...] = (("o_inside", 0.55), ("ring_bracket", 0.2), ("tick", 0.15), ("fill", 0.1))


def _pick(rng: np.random.Generator, table: Sequence[tuple[Any, float]]) -> Any:
    p = np.array([w for _, w in table], float)
    return table[int(rng.choice(len(table), p=p / p.sum()))][0]


@dataclass(slots=True)
class Plan:
    """The applicant's answers over the whole form: box name → (state, style); field name → truth."""

    boxes: dict[str, dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    who: dict[str, str] = field(default_factory=dict)


def plan_answers(form: FormDef, rng: np.random.Generator, opts: GenOptions, pencil_ok: bool = True) -> Plan:
    """Decide every box and field of the form, the way applicants fill it (seeded)."""
    plan = Plan(who={
        "company": str(rng.choice(COMPANIES)), "service": str(rng.choice(SERVICES)),
        "address": str(rng.choice(ADDRESSES)), "domain": str(rng.choice(DOMAINS)),
    })
    owners: dict[str, list[tuple[int, BoxLayout]]] = {}
    for page in form.pages:
        for b in page.boxes:
            owners.setdefault(b.owner, []).append((page.number, b))
    roles = {(d.id, o.key): o.role for d in form.declarations for o in d.options}
    chosen: set[str] = set()
    yes_owners: set[str] = set()

    def style_for(b: BoxLayout) -> MarkStyle:
        s: MarkStyle = _pick(rng, BRACKET_STYLES if b.shape == "bracket" else BOX_STYLES)
        return "thin" if s == "pencil" and not pencil_ok else s

    for owner, boxes in owners.items():
        by_opt = {b.option: b for _, b in boxes}
        if any((owner, o) in roles for o in by_opt):  # a declaration
            mains = [o for o in by_opt if roles.get((owner, o)) == "main"]
            r = rng.random()
            pick = [mains[0]] if r < 0.8 else [mains[-1]] if r < 0.93 else [] if r < 0.97 else mains[:2]
            if any(o == "occurred" for o in pick):
                pick += [o for o in by_opt if roles.get((owner, o)) == "sub" and rng.random() < 0.5]
            chosen.update(f"{owner}.{o}" for o in pick)
            continue
        answers = [o for o in by_opt if by_opt[o].shape == "box"]
        r = rng.random()
        if "no" in answers:
            pick = ["yes"] if r < 0.75 else ["no"] if r < 0.88 else [] if r < 0.96 else ["yes", "no"]
        else:
            pick = ["yes"] if r < 0.86 else []
        if "yes" in pick:
            yes_owners.add(owner)
            brackets = [o for o in by_opt if by_opt[o].shape == "bracket"]
            if brackets and rng.random() < 0.95:
                pick.append(str(rng.choice(brackets)))
        chosen.update(f"{owner}.{o}" for o in pick)
    for owner, boxes in owners.items():
        for number, b in boxes:
            name = f"{owner}.{b.option}"
            checked = name in chosen
            plan.boxes[name] = {"state": "checked" if checked else "empty", "style": style_for(b) if checked else None, "form_page": number}
    # one 二重線 correction: the first choice struck out, the other box marked instead
    pairs = [o for o, bs in owners.items() if {b.option for _, b in bs} >= {"yes", "no"}]
    if pairs and rng.random() < opts.struck_rate:
        owner = str(rng.choice(pairs))
        old, new = ("yes", "no") if rng.random() < 0.5 else ("no", "yes")
        plan.boxes[f"{owner}.{old}"].update(state="empty", style="struck")
        plan.boxes[f"{owner}.{new}"].update(state="checked", style=plan.boxes[f"{owner}.{new}"]["style"] or "tick")
        if new == "yes":
            yes_owners.add(owner)
    for page in form.pages:
        for f in page.fields:
            yes = f.owner in yes_owners or f.owner not in owners
            if f.kind == "signature":
                present = rng.random() < (0.9 if yes else 0.08)
                plan.fields[f.name] = {"kind": f.kind, "present": present, "form_page": page.number}
            elif f.kind == "seal":
                sig = plan.fields.get(f"{f.owner}.signature", {}).get("present")
                present = rng.random() < (0.88 if (sig or (sig is None and yes)) else 0.08)
                plan.fields[f.name] = {
                    "kind": f.kind, "present": present, "form_page": page.number,
                    "square": f.owner == "applicant" and rng.random() < 0.7, "ink": "grey" if rng.random() < 0.12 else "red",
                }
            else:
                present = rng.random() < (0.88 if yes else 0.04)
                text = field_text(f, rng, plan.who) if present else None
                hand = present and f.kind != "url" and rng.random() < opts.handwriting_rate
                plan.fields[f.name] = {"kind": f.kind, "present": present, "text": text, "handwritten": bool(hand), "form_page": page.number}
    return plan


def _date_in(cv: Canvas, fld: FieldLayout, pdf: str, page_index: int, rng: np.random.Generator, hand: bool) -> str:
    """Digits written before the printed 年 月 日 of a date field; returns the field's full text."""
    x0, y0, x1, y1 = fld.bbox
    glyphs = [c for c in printed_chars(pdf, page_index) if c[1] >= x0 - 1 and c[3] <= x1 + 1 and c[2] >= y0 - 1 and c[4] <= y1 + 1]
    parts = [str(rng.integers(1, 12)), str(rng.integers(1, 13)), str(rng.integers(1, 29))]
    if len(glyphs) < 3:
        text = f"{parts[0]}年{parts[1]}月{parts[2]}日"
        (write_by_hand if hand else write_typed)(cv, fld.bbox, text, rng)
        return text
    out, left = [], x0
    for g, digits in zip(glyphs[:3], parts):
        right = g[1] - float(rng.uniform(1.5, 3.5))  # a little gap before the printed 年 / 月 / 日
        width = (5.5 if not hand else 7.0) * len(digits)
        box = (max(left + 1.0, right - width - 1.0), y0, right + 12.0, y1)
        (write_by_hand if hand else write_typed)(cv, box, digits, rng, align_right=right)
        out.append(digits + g[0])
        left = g[3]
    return "".join(out)


def fill_page(form: FormDef, layout: PageLayout, plan: Plan, dpi: int, rng: np.random.Generator, color: bool = True) -> NDArray[np.uint8]:
    """The blank page at `dpi` with the plan's marks, signatures, seals and text drawn on (RGB, or grey if not `color`)."""
    cv = Canvas(blank_gray(form.blank_pdf, layout.number - 1, dpi), dpi, color)
    pen = PEN_COLOURS[int(rng.integers(len(PEN_COLOURS)))]
    for b in layout.boxes:
        t = plan.boxes[f"{b.owner}.{b.option}"]
        if t["style"] == "struck":
            draw_mark(cv, b, "tick", rng, pen)
            strike_out(cv, b, rng, pen)
        elif t["state"] == "checked":
            draw_mark(cv, b, t["style"], rng, pen)
    for f in layout.fields:
        t = plan.fields[f.name]
        if not t["present"]:
            continue
        if f.kind == "signature":
            draw_signature(cv, f.bbox, rng, pen)
        elif f.kind == "seal":
            draw_seal(cv, f.bbox, rng, bool(t.get("square")), SEAL_GREY if t.get("ink") == "grey" else SEAL_RED)
        elif f.kind == "date":
            t["text"] = _date_in(cv, f, form.blank_pdf, layout.number - 1, rng, t["handwritten"])
        elif t["handwritten"]:
            write_by_hand(cv, f.bbox, t["text"], rng)
        else:
            write_typed(cv, f.bbox, t["text"], rng)
    return np.asarray(cv.img, np.uint8)


# --- the scanner ---------------------------------------------------------------------------------


def random_spec(rng: np.random.Generator, opts: GenOptions, dpi: int, mode: Mode, rotation: int = 0) -> ScanSpec:
    skew = float(rng.uniform(-opts.max_skew_deg, opts.max_skew_deg))
    return ScanSpec(
        dpi=dpi, mode=mode, skew_deg=skew, scale=float(rng.uniform(0.95, 1.0)),
        shift_mm=(float(rng.uniform(-4, 4)), float(rng.uniform(-4, 4))), rotation=rotation,
        blur_px=float(rng.uniform(0.2, 0.6) if mode == "bw" else rng.uniform(0.3, 1.0)), noise=float(rng.uniform(2, 7)), jpeg_quality=int(rng.integers(55, 92)),
        bw_threshold=int(rng.integers(150, 180)), paper=float(rng.uniform(0.9, 1.0)),
    )


def scan_image(img: NDArray[np.uint8], spec: ScanSpec, rng: np.random.Generator) -> NDArray[np.uint8]:
    """Degrade a clean page raster (RGB or grey at spec.dpi) like a flatbed or ADF scan; returns RGB or grey."""
    h, w = img.shape[:2]
    if spec.mode != "color" and img.ndim == 3:
        img = np.asarray(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), np.uint8)
    k = spec.dpi / 25.4
    m = cv2.getRotationMatrix2D((w / 2, h / 2), spec.skew_deg, spec.scale)
    m[:, 2] += np.array([spec.shift_mm[0] * k, spec.shift_mm[1] * k])
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    if spec.blur_px > 0:
        out = cv2.GaussianBlur(out, (0, 0), spec.blur_px)
    if spec.mode == "color":  # warm paper, in uint8 arithmetic (float copies of a 300-dpi page cost 0.5 s)
        tint = np.diag([spec.paper, spec.paper * rng.uniform(0.97, 1.0), spec.paper * rng.uniform(0.9, 0.98)])
        out = cv2.transform(out, tint)
    else:
        out = cv2.convertScaleAbs(out if out.ndim == 2 else cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), alpha=spec.paper)
    # sensor noise: a 512 px tile of Gaussian noise, rolled and tiled (drawing 25 M normals costs 0.5 s)
    tile = (rng.standard_normal((512, 512) + out.shape[2:], dtype=np.float32) * spec.noise).astype(np.int16)
    tile = np.roll(tile, int(rng.integers(512)), axis=0)
    reps = (-(-h // 512), -(-w // 512)) + (1,) * (out.ndim - 2)
    out = cv2.add(out, np.tile(tile, reps)[:h, :w], dtype=cv2.CV_8U)
    if spec.mode == "bw":
        out = np.where(out < spec.bw_threshold, 0, 255).astype(np.uint8)
        n = int(h * w * 2e-5)  # specks of dust
        out[rng.integers(0, h, n), rng.integers(0, w, n)] = 0
    if spec.rotation:
        out = np.ascontiguousarray(np.rot90(out, k=-(spec.rotation // 90)))
    return np.asarray(out, np.uint8)


@dataclass(slots=True)
class ScannedPage:
    image: NDArray[np.uint8]  # grey HxW or RGB HxWx3; bw is grey with 0/255
    spec: ScanSpec
    form_page: int | None  # None for an extra, non-form page
    kind: str = "form"


def extra_page(kind: str, dpi: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    """A page that is not a form page: blank paper, a photo, or another document's text."""
    h, w = int(841.89 / 72 * dpi), int(595.28 / 72 * dpi)
    if kind == "blank":
        return np.full((h, w, 3), 250, np.uint8)
    if kind == "photo":
        small = rng.integers(0, 255, (6, 5, 3)).astype(np.uint8)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        for _ in range(12):
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.circle(img, c, int(rng.integers(20, w // 4)), tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
        return np.asarray(cv2.GaussianBlur(img, (0, 0), 3), np.uint8)
    cv = Canvas(np.full((h, w), 255, np.uint8), dpi, color=True)
    y = 70.0
    while y < 780:
        line = "".join(rng.choice(list("当社は情報セキュリティ基本方針を定め全従業者に周知する。規程の見直しを行い記録を保管する")) for _ in range(int(rng.integers(20, 34))))
        cv.alpha_at(text_mask(line, "mincho", int(10.5 * cv.k)), 60, y, (20, 20, 20))
        y += 18
    return np.asarray(cv.img, np.uint8)


def generate(form: FormDef, seed: int, opts: GenOptions = GenOptions()) -> tuple[list[ScannedPage], dict[str, Any]]:
    """Fill and scan a submission in memory: the pages and the truth (without the file name)."""
    rng = np.random.default_rng(seed)
    dpi = opts.dpi or int(rng.choice([150, 200, 300]))
    mode: Mode = opts.mode or str(rng.choice(["color", "gray", "gray", "bw"]))  # type: ignore[assignment]
    plan = plan_answers(form, rng, opts, pencil_ok=mode != "bw")
    numbers = [p.number for p in form.pages if opts.pages is None or p.number in opts.pages]
    turned = {int(n): 180 for n in rng.choice(numbers, size=min(opts.upside_down, len(numbers)), replace=False)}
    rest = [n for n in numbers if n not in turned]
    for n in rng.choice(rest, size=min(opts.sideways, len(rest)), replace=False):
        turned[int(n)] = int(rng.choice([90, 270]))
    pages: list[ScannedPage] = []
    for n in numbers:
        layout = next(p for p in form.pages if p.number == n)
        spec = random_spec(rng, opts, dpi, mode, turned.get(n, 0))
        pages.append(ScannedPage(scan_image(fill_page(form, layout, plan, dpi, rng, mode == "color"), spec, rng), spec, n))
    for kind in opts.extra_pages:
        spec = random_spec(rng, opts, dpi, mode)
        pages.append(ScannedPage(scan_image(extra_page(kind, dpi, rng), spec, rng), spec, None, kind))
    wanted = set(numbers)
    truth = {
        "seed": seed, "form": form.name, "printing": "ours" if any(p.code for p in form.pages) else "calibrated",
        "pages": [{"page": i + 1, "form_page": p.form_page, "kind": p.kind, **asdict(p.spec)} for i, p in enumerate(pages)],
        "boxes": {k: v for k, v in plan.boxes.items() if v["form_page"] in wanted},
        "fields": {k: v for k, v in plan.fields.items() if v["form_page"] in wanted},
    }
    return pages, truth


# --- files ------------------------------------------------------------------------------------------


def _jpeg(img: NDArray[np.uint8], quality: int) -> bytes:
    arr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, enc = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return enc.tobytes()


def write_pdf(pages: Sequence[ScannedPage], path: Path) -> None:
    """An image-only PDF as a scanner writes it: one JPEG (or 1-bit Flate for bw) per page."""
    import pikepdf

    pdf = pikepdf.new()
    for sp in pages:
        h_px, w_px = sp.image.shape[:2]
        if sp.spec.mode == "bw":
            packed = np.packbits(sp.image > 127, axis=1).tobytes()
            image = pikepdf.Stream(pdf, zlib.compress(packed, 6))
            image.Filter, image.ColorSpace, image.BitsPerComponent = pikepdf.Name.FlateDecode, pikepdf.Name.DeviceGray, 1
        else:
            image = pikepdf.Stream(pdf, _jpeg(sp.image, sp.spec.jpeg_quality))
            image.Filter, image.BitsPerComponent = pikepdf.Name.DCTDecode, 8
            image.ColorSpace = pikepdf.Name.DeviceGray if sp.image.ndim == 2 else pikepdf.Name.DeviceRGB
        image.Type, image.Subtype, image.Width, image.Height = pikepdf.Name.XObject, pikepdf.Name.Image, w_px, h_px
        w_pt, h_pt = w_px * 72.0 / sp.spec.dpi, h_px * 72.0 / sp.spec.dpi
        content = pikepdf.Stream(pdf, f"q {w_pt:.3f} 0 0 {h_pt:.3f} 0 0 cm /Im0 Do Q".encode())
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, w_pt, h_pt], Contents=content,
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        )
        pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)


def _pil(sp: ScannedPage) -> Image.Image:
    im = Image.fromarray(sp.image)
    return im.convert("1") if sp.spec.mode == "bw" else im


def write_images(pages: Sequence[ScannedPage], path: Path, fmt: str) -> list[str]:
    """A multi-page TIFF (JPEG / Group 4 inside) or one PNG/JPEG per page; returns the file names."""
    if fmt == "tiff":
        ims = [_pil(sp) for sp in pages]
        kinds = ["group4" if sp.spec.mode == "bw" else "tiff_deflate" for sp in pages]
        first = ims[0]
        first.save(path, save_all=True, append_images=ims[1:], dpi=(pages[0].spec.dpi,) * 2, compression=kinds[0])
        return [path.name]
    names = []
    for i, sp in enumerate(pages, 1):
        p = path.with_name(f"{path.stem}_p{i:02d}.{fmt}")
        if fmt == "jpg":
            p.write_bytes(_jpeg(sp.image, sp.spec.jpeg_quality))
            with Image.open(p) as im:  # add the resolution tag as a scanner would
                im.save(p, dpi=(sp.spec.dpi,) * 2, quality=95)
        else:
            _pil(sp).save(p, dpi=(sp.spec.dpi,) * 2, compress_level=1)
        names.append(p.name)
    return names


def write_submission(form: FormDef, out_dir: Path | str, seed: int, opts: GenOptions = GenOptions(), name: str | None = None) -> Path:
    """Generate one submission into out_dir: `<name>.pdf` (or images) and `<name>.truth.json`; returns the truth path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = name or f"scan_{form.name}_{seed:04d}"
    pages, truth = generate(form, seed, opts)
    if opts.fmt == "pdf":
        write_pdf(pages, out / f"{name}.pdf")
        truth["files"] = [f"{name}.pdf"]
    else:
        truth["files"] = write_images(pages, out / f"{name}.{opts.fmt}", opts.fmt)
    path = out / f"{name}.truth.json"
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return path


__all__ = [
    "GenOptions", "ScanSpec", "ScannedPage", "Plan", "generate", "write_submission", "write_pdf", "write_images",
    "plan_answers", "fill_page", "scan_image", "blank_gray", "printed_chars", "replace",
]
