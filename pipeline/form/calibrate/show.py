"""Draw what calibrate found on the blank, one PNG per page, so that an operator can check it by eye.

Boxes are drawn in blue, brackets in purple, fields in green with their name; what could not be
placed is the region where it was expected, hatched red and named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SHOW_DPI = 100
_COLOURS = {"box": (0, 90, 230), "bracket": (150, 0, 200), "field": (0, 150, 60), "lost": (230, 0, 0)}


def show_layout(form_dir: Path, dpi: int = SHOW_DPI) -> list[Path]:
    """Render form_dir/blank.pdf with form_dir/layout.yaml drawn over it into form_dir/calibrate-show/page-NN.png.

    Returns the PNGs written, in page order.
    """
    import pypdfium2 as pdfium

    form_dir = Path(form_dir)
    layout = yaml.safe_load((form_dir / "layout.yaml").read_text(encoding="utf-8"))
    out_dir = form_dir / "calibrate-show"
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    doc = pdfium.PdfDocument(str(form_dir / "blank.pdf"))
    try:
        for page in layout["pages"]:
            image = doc[int(page["number"]) - 1].render(scale=dpi / 72).to_pil().convert("RGB")
            _draw_page(image, page, dpi / 72)
            target = out_dir / f"page-{int(page['number']):02d}.png"
            image.save(target)
            written.append(target)
    finally:
        doc.close()
    return written


def _draw_page(image: Any, page: dict[str, Any], scale: float) -> None:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image, "RGBA")

    def px(b: list[float]) -> tuple[float, float, float, float]:
        return (b[0] * scale, b[1] * scale, b[2] * scale, b[3] * scale)

    for f in page.get("fields") or []:
        lost = f.get("located") is False
        colour = _COLOURS["lost" if lost else "field"]
        draw.rectangle(px(f["bbox"]), outline=colour, width=2, fill=(*colour, 40 if lost else 25))
        x0, y0 = px(f["bbox"])[:2]
        draw.text((x0 + 2, y0 + 1), ("NOT PLACED " if lost else "") + str(f["name"]), fill=colour)
    for b in page.get("boxes") or []:
        lost = b.get("located") is False
        colour = _COLOURS["lost" if lost else str(b.get("shape", "box"))]
        draw.rectangle(px(b["bbox"]), outline=colour, width=2, fill=(*colour, 40) if lost else None)
        x1, y0 = px(b["bbox"])[2], px(b["bbox"])[1]
        name = f"{b['owner']}/{b['option']}"
        draw.text((x1 + 2, y0 - 9) if not lost else (px(b["bbox"])[0] + 2, y0 + 12), ("NOT PLACED " if lost else "") + name, fill=colour)
