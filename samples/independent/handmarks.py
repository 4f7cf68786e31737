"""Hand marks and handwriting drawn on a page image: ticks, crosses, fills, circles, faint pencil,
overruns, stray dots, handwritten text, signatures and red seals."""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw, ImageFont

from samples.independent.paths import FONT_FILES, HAND_FONTS

MARK_STYLES = ("tick", "tick", "cross", "fill", "circle", "faint", "overrun")
INK = (20, 25, 60)


def _jit(rng: random.Random, v: float, s: float) -> float:
    return v + rng.gauss(0, s)


def _stroke(d: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: int, fill) -> None:
    d.line(pts, fill=fill, width=width, joint="curve")


def _curve(a: tuple[float, float], b: tuple[float, float], rng: random.Random, n: int = 8, bend: float = 0.08):
    """A slightly bowed stroke from a to b, as a hand draws a straight line."""
    (x0, y0), (x1, y1) = a, b
    nx, ny = -(y1 - y0), x1 - x0
    k = rng.uniform(-bend, bend)
    return [(x0 + (x1 - x0) * t + nx * k * math.sin(math.pi * t), y0 + (y1 - y0) * t + ny * k * math.sin(math.pi * t))
            for t in (i / n for i in range(n + 1))]


def draw_mark(img: Image.Image, box: tuple[float, float, float, float], style: str, rng: random.Random) -> None:
    """box in pixels. The mark means 'checked' whatever its style."""
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    pen = max(2, int(w * rng.uniform(0.10, 0.16)))
    ink = INK
    if style in ("tick", "overrun", "faint"):
        grow = 1.9 if style == "overrun" else 1.0
        a = (_jit(rng, x0 + 0.15 * w, w * 0.04), _jit(rng, y0 + 0.5 * h, h * 0.05))
        b = (_jit(rng, x0 + 0.42 * w, w * 0.04), _jit(rng, y0 + 0.85 * h, h * 0.04))
        c = (_jit(rng, x0 + w * (0.9 + (grow - 1) * 0.9), w * 0.05), _jit(rng, y1 - h * grow * 0.95, h * 0.05))
        if style == "faint":
            ink = (150, 150, 150)
            pen = max(1, pen // 2)
        _stroke(d, _curve(a, b, rng) + _curve(b, c, rng)[1:], pen, ink)
    elif style == "cross":
        m = 0.12
        _stroke(d, _curve((x0 + m * w, y0 + m * h), (x1 - m * w, y1 - m * h), rng), pen, ink)
        _stroke(d, _curve((x1 - m * w, y0 + m * h), (x0 + m * w, y1 - m * h), rng), pen, ink)
    elif style == "fill":
        # scribbled fill, leaving a bit of paper
        for i in range(int(h / max(1, pen * 0.7))):
            y = y0 + 1 + i * pen * 0.7
            _stroke(d, [(x0 + rng.uniform(0, 2), y), (x1 - rng.uniform(0, 2), y + rng.uniform(-1, 1))], pen, ink)
    elif style == "circle":
        # ○ drawn around the box
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, max(w, h) * rng.uniform(0.85, 1.05)
        start = rng.uniform(0, 360)
        pts = [(cx + r * 1.1 * math.cos(math.radians(start + t)) + rng.gauss(0, 0.6),
                cy + r * math.sin(math.radians(start + t)) + rng.gauss(0, 0.6)) for t in range(0, 380, 12)]
        _stroke(d, pts, max(2, pen - 1), ink)


def stray_dot(img: Image.Image, box: tuple[float, float, float, float], rng: random.Random) -> None:
    """A dot of ink near, but outside, an empty box (not a mark)."""
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    w = x1 - x0
    side = rng.choice(["left", "above", "right_below"])
    cx = x0 - w * 0.6 if side == "left" else (x0 + w / 2 if side == "above" else x1 + w * 0.5)
    cy = (y0 + y1) / 2 if side == "left" else (y0 - w * 0.55 if side == "above" else y1 + w * 0.5)
    r = max(1.5, w * 0.08)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=INK)


def hand_font(rng: random.Random, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(rng.choice(HAND_FONTS), px)


def draw_text(img: Image.Image, xy: tuple[float, float], text: str, px: int, rng: random.Random,
              max_x: float | None = None, colour=INK) -> tuple[float, float, float, float]:
    """Handwriting-like text: a hand font, each character a little off its line, size and angle."""
    font = hand_font(rng, px)
    x, y = xy
    x_start = x
    top = y
    for ch in text:
        size = max(6, int(px * rng.uniform(0.9, 1.08)))
        f = font.font_variant(size=size)
        bb = f.getbbox(ch)
        cw = max(bb[2], size // 3) if ch.strip() else size // 2
        if max_x and x + cw > max_x:
            x, y = x_start, y + px * 1.25
        if ch.strip():
            tile = Image.new("L", (size * 2, size * 2), 0)
            ImageDraw.Draw(tile).text((size // 2, size // 3), ch, font=f, fill=255)
            tile = tile.rotate(rng.uniform(-6, 6), resample=Image.Resampling.BICUBIC)
            ink = Image.new("RGB", tile.size, colour)
            img.paste(ink, (int(x - size // 2), int(y + rng.gauss(0, px * 0.05) - size // 3)), tile)
        x += cw * rng.uniform(0.95, 1.1)
    return (x_start, top, x, y + px)


def seal_image(name: str, rng: random.Random, px: int = 120) -> Image.Image:
    """A red 印 stamp: a ring with the surname inside, a little uneven as stamps are (RGBA)."""
    im = Image.new("RGBA", (px, px), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    red = (200 + rng.randint(-20, 30), 30, 40, 230)
    d.ellipse((4, 4, px - 4, px - 4), outline=red, width=max(3, px // 18))
    surname = name.split()[-2] if " " in name else name[:2]
    font = ImageFont.truetype(FONT_FILES["IPAexMincho"], int(px * 0.34))
    for i, ch in enumerate(surname[:2]):
        d.text((px * 0.33, px * 0.14 + i * px * 0.36), ch, font=font, fill=red)
    return im.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BICUBIC)


def signature_image(name: str, rng: random.Random, px: int = 60) -> Image.Image:
    """A handwritten signature as a transparent image (for pasting into Word)."""
    w = int(px * (len(name) + 1) * 1.0)
    im = Image.new("RGB", (w, int(px * 1.6)), (255, 255, 255))
    draw_text(im, (px * 0.3, px * 0.3), name, px, rng)
    return im


def png_bytes(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()
