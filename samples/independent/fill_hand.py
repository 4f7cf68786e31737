"""Fill a blank printing by hand: print it, tick and write with a pen, scan it.

Places come from locate.py (the blank's own text layer), so this fills our printings and the
project's forms/renewal/blank.pdf the same way.
"""

from __future__ import annotations

import random
import re

from PIL import Image

from samples.independent import handmarks, itemsdata, locate, scan
from samples.independent.plan import Plan


def _px(b: tuple[float, float, float, float], k: float) -> tuple[float, float, float, float]:
    return (b[0] * k, b[1] * k, b[2] * k, b[3] * k)


def fill_by_hand(blank_pdf: str, plan: Plan, settings: scan.ScanSettings, rng: random.Random) -> tuple[list[Image.Image], dict]:
    """Page images of the filled, not yet degraded form, and what was drawn where (for the truth)."""
    data = itemsdata.load()
    places, _, _ = locate.locate(blank_pdf)
    with open(blank_pdf, "rb") as f:
        pages = scan.rasterise(f.read(), settings.dpi)
    k = settings.dpi / 72
    states = plan.box_states(data)
    drawn: dict = {"marks": [], "texts": {}, "strays": []}
    line_px = int(9 * k)
    for p in places:
        img = pages[p.page]
        box = _px(p.bbox, k)
        if p.kind == "box":
            on = states.get((p.item or "", p.option or ""), False)
            style = rng.choice(handmarks.MARK_STYLES) if on else None
            if on and style:
                handmarks.draw_mark(img, box, style, rng)
            elif rng.random() < 0.06:
                handmarks.stray_dot(img, box, rng)
                drawn["strays"].append([p.item, p.option])
            drawn["marks"].append({"item": p.item, "option": p.option, "checked": on, "style": style,
                                   "page": p.page, "bbox": [round(v, 1) for v in p.bbox]})
        elif p.kind == "choice" and plan.choices.get(p.item or "") == p.option:
            cx = (box[0] + box[2]) / 2
            handmarks.draw_text(img, (cx - line_px * 0.5, box[1] - line_px * 0.1), "○", int(line_px * 1.2), rng)
        elif p.kind == "field" and p.key in plan.texts:
            text = plan.texts[p.key]
            handmarks.draw_text(img, (box[0], box[1] - line_px * 0.25), text, line_px, rng, max_x=img.width * 0.92)
            drawn["texts"][p.key] = text
        elif p.kind in ("url_top", "url_mid", "url_target") and p.item in plan.urls:
            text = plan.urls[p.item or ""][("url_top", "url_mid", "url_target").index(p.kind)]
            handmarks.draw_text(img, (box[0], box[1] + (box[3] - box[1]) / 2 - line_px * 0.6), text, line_px, rng,
                                max_x=img.width * 0.95)
        elif p.kind == "sign" and p.item in plan.signed:
            name = plan.texts.get(f"item.{p.item}.name") or plan.texts.get("respondent.name") or "山田 太郎"
            handmarks.draw_text(img, (box[0] + 10, box[1] + (box[3] - box[1]) / 2 - line_px * 0.8), name.replace(" ", ""),
                                int(line_px * 1.5), rng)
        elif p.kind == "seal" and p.item in plan.sealed:
            name = plan.texts.get(f"item.{p.item}.name") or plan.texts.get("respondent.name") or "山田 太郎"
            size = int(rng.uniform(30, 40) * k)  # a personal seal is 10-14 mm
            stamp = handmarks.seal_image(name, rng, size)
            cx, cy = (box[0] + box[2]) / 2 + rng.gauss(0, 3), (box[1] + box[3]) / 2 + rng.gauss(0, 3)
            img.paste(stamp, (int(cx - size / 2), int(cy - size / 2)), stamp)
        elif p.kind == "date" and p.key in plan.texts:
            nums = re.findall(r"\d+", plan.texts[p.key])
            for (gx0, gy0, _, _), n in zip(p.extra["glyphs"], nums[-3:]):
                w = line_px * 0.7 * len(n)
                handmarks.draw_text(img, (gx0 * k - w - 4, gy0 * k - line_px * 0.2), n, line_px, rng)
            drawn["texts"][p.key] = plan.texts[p.key]
    return pages, drawn


def scan_pages(pages: list[Image.Image], settings: scan.ScanSettings, rng: random.Random) -> bytes:
    return scan.images_to_pdf([scan.degrade(p, settings, rng) for p in pages], settings.dpi, settings.jpeg_quality)


