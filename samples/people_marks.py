"""Marks as people make them, drawn on a form page and scanned, for tuning the mark reader (not the readers' own drawing).

Kinds: a faint pencil tick (light grey, thin, grainy), a tick that overruns the box, a circle
drawn around the box, a circle around a bracketed choice, a stray dot beside an empty box.
Each page comes with its truth: which boxes are meant checked. Scans: 150/200/300 dpi, grey or
bw (threshold 140-180), a little blur and noise. Seeds 80000-80999 are the independent set's.

    .venv/bin/python -m samples.people_marks --out /tmp/pm --seed 300 --n 6
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("pencil", "overrun", "circle_box", "circle_bracket", "dot", "tick")


def _stroke(img: Any, pts: list[tuple[float, float]], width_px: float, grey: int, grain: float, r: random.Random) -> None:
    """Draw a polyline on a grey PIL image, darkening only (multiply), with pencil grain."""
    from PIL import Image, ImageDraw

    layer = Image.new("L", img.size, 0)
    ImageDraw.Draw(layer).line(pts, fill=255, width=max(1, round(width_px)), joint="curve")
    alpha = np.asarray(layer, np.float32) / 255.0
    if grain:
        alpha *= np.clip(1.0 - grain * np.random.default_rng(r.randrange(1 << 30)).random(alpha.shape, dtype=np.float32), 0, 1)
    base = np.asarray(img, np.float32)
    out = base * (1 - alpha) + np.minimum(base, grey) * alpha
    img.paste(Image.fromarray(out.astype(np.uint8)))


def _tick(cx: float, cy: float, s: float, over: float, r: random.Random) -> list[tuple[float, float]]:
    """A ✓ of half-size s around (cx, cy); `over` > 1 makes its long stroke run out of the box."""
    j = lambda: r.uniform(-0.08, 0.08) * s  # noqa: E731
    return [(cx - 0.7 * s + j(), cy + j()), (cx - 0.15 * s + j(), cy + 0.65 * s + j()), (cx + over * s + j(), cy - over * 1.1 * s + j())]


def _circle(cx: float, cy: float, rx: float, ry: float, r: random.Random) -> list[tuple[float, float]]:
    start = r.uniform(0, 2 * math.pi)
    turn = r.uniform(2.05, 2.3) * math.pi
    n = 40
    return [(cx + rx * (1 + r.uniform(-0.04, 0.04)) * math.cos(start + turn * i / n), cy + ry * (1 + r.uniform(-0.04, 0.04)) * math.sin(start + turn * i / n)) for i in range(n + 1)]


def draw_mark(img: Any, bbox: tuple[float, float, float, float], kind: str, scale: float, r: random.Random) -> bool:
    """Draw one mark of `kind` at the box `bbox` (points); True when the box is meant checked."""
    x0, y0, x1, y1 = (v * scale for v in bbox)
    cx, cy, s = (x0 + x1) / 2, (y0 + y1) / 2, min(x1 - x0, y1 - y0) / 2  # a tick as tall as the box or bracket
    if kind == "pencil":
        _stroke(img, _tick(cx, cy, s * 0.8, 0.8, r), 0.5 * scale * r.uniform(0.7, 1.0), r.randint(80, 150), 0.5, r)
        return True
    if kind == "overrun":
        _stroke(img, _tick(cx, cy, s, r.uniform(1.6, 2.4), r), 0.8 * scale, r.randint(20, 60), 0.0, r)
        return True
    if kind == "tick":
        _stroke(img, _tick(cx, cy, s * 0.9, 0.9, r), 0.8 * scale, r.randint(20, 60), 0.0, r)
        return True
    if kind in ("circle_box", "circle_bracket"):
        grow = r.uniform(1.3, 1.6) if kind == "circle_box" else r.uniform(1.05, 1.2)
        rx, ry = (x1 - x0) / 2 * grow + 2 * scale, (y1 - y0) / 2 * r.uniform(1.2, 1.5) + 1.5 * scale
        _stroke(img, _circle(cx, cy, rx, ry, r), 0.8 * scale, r.randint(20, 60), 0.0, r)
        return True
    # a stray dot beside (not in) the box
    dx = r.choice((-1, 1)) * (s + r.uniform(2.0, 5.0) * scale)
    px, py = cx + dx, cy + r.uniform(-s, s)
    _stroke(img, [(px, py), (px + 0.8 * scale, py + 0.5 * scale)], 1.2 * scale, 30, 0.0, r)
    return False


def scan(img: Any, dpi: int, mode: str, r: random.Random) -> Any:
    """Blur, noise and (bw) threshold, as a scanner does."""
    from PIL import Image, ImageFilter

    out = img.filter(ImageFilter.GaussianBlur(r.uniform(0.3, 0.7)))
    a = np.asarray(out, np.float32) + np.random.default_rng(r.randrange(1 << 30)).normal(0, r.uniform(2, 6), out.size[::-1])
    a = np.clip(a, 0, 255).astype(np.uint8)
    if mode == "bw":
        a = np.where(a < r.randint(140, 180), 0, 255).astype(np.uint8)
    return Image.fromarray(a)


def make_page(form_dir: Path, page_no: int, seed: int, out_pdf: Path) -> dict[str, Any]:
    """One answer-sheet page of form_dir's blank, marked with every kind across its boxes and scanned; its truth."""
    import pypdfium2 as pdfium
    import yaml

    if 80000 <= seed <= 80999:
        raise ValueError("seeds 80000-80999 are the independent set's; never tune on them")
    r = random.Random(seed)
    dpi, mode = r.choice((150, 200, 300)), r.choice(("gray", "bw", "bw"))
    layout = yaml.safe_load((form_dir / "layout.yaml").read_text(encoding="utf-8"))
    page = next(p for p in layout["pages"] if p["number"] == page_no)
    doc = pdfium.PdfDocument(str(form_dir / "blank.pdf"))
    img = doc[page_no - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    doc.close()
    truth: dict[str, str] = {}
    by_owner: dict[str, list[dict[str, Any]]] = {}
    for b in page["boxes"]:
        by_owner.setdefault(b["owner"], []).append(b)
    for owner, boxes in by_owner.items():
        choice = r.choice(boxes)
        kind = r.choice(("circle_bracket", "tick")) if choice.get("shape") == "bracket" else r.choice(KINDS)
        checked = draw_mark(img, tuple(choice["bbox"]), kind, dpi / 72, r)
        for b in boxes:
            truth[f"{owner}/{b['option']}"] = "empty"
        truth[f"{owner}/{choice['option']}"] = ("checked" if checked else "empty") + f":{kind}"
    scanned = scan(img, dpi, mode, r)
    scanned.save(out_pdf, "PDF", resolution=dpi)
    return {"dpi": dpi, "mode": mode, "page": page_no, "truth": truth}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--form", type=Path, default=Path("forms/renewal"))
    ap.add_argument("--seed", type=int, default=300)
    ap.add_argument("--n", type=int, default=6)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for s in range(args.seed, args.seed + args.n):
        info = make_page(args.form, 2 + s % 10, s, args.out / f"p{s}.pdf")
        (args.out / f"p{s}.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
