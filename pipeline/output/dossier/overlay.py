"""The answer-sheet pages with what was read drawn over them: frames from result.json, for the dossier's appendix and for `run --debug`.

One list of frames per form page (:func:`page_shapes`) is drawn twice: as vectors on the
dossier's appendix pages (output/drawn.py) and into PNGs under outbox/<name>/debug/ for
developers (:func:`write_debug_overlays`, which adds each mark's measured score).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.output.dossier.text import pagerefs_text
from pipeline.output.drawn import GOTHIC, SHAPE_STYLES, AnswerSheetPage, Shape, font_file

log = logging.getLogger(__name__)

MARK_TAG = {"checked": "有", "empty": "無", "uncertain": "？"}
SIGN_KINDS = {"signature": "署名", "seal": "押印"}
DEBUG_SCALE = 2  # debug overlays are drawn on the page image enlarged so thin frames stay visible


def _ref_key(ref: Any) -> tuple[str, int] | None:
    if isinstance(ref, dict) and ref.get("file") is not None:
        return str(ref["file"]), int(ref.get("page") or 0)
    return None


def _box(bbox: Any) -> tuple[float, float, float, float] | None:
    if isinstance(bbox, list | tuple) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox):
        return (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
    return None


def corrections_by_owner(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Applied review.yaml corrections by the item or declaration they name."""
    out: dict[str, list[dict[str, Any]]] = {}
    for o in result.get("overrides") or []:
        parts = str(o.get("target") or "").split(".")
        if o.get("applied") and len(parts) >= 2 and parts[0] in ("items", "declarations"):
            out.setdefault(parts[1], []).append(o)
    return out


def page_shapes(result: dict[str, Any], *, scores: bool = False) -> dict[tuple[str, int], list[Shape]]:
    """The frames to draw over each form page, keyed by its (file, page): marks by state, fields, signature places, corrections."""
    shapes: dict[tuple[str, int], list[Shape]] = {}
    corrected = corrections_by_owner(result)
    for section in ("items", "declarations"):
        for owner, o in (result.get(section) or {}).items():
            union: dict[tuple[str, int], list[float]] = {}
            for m in o.get("marks") or []:
                key, box = _ref_key(m.get("page")), _box(m.get("bbox"))
                if key is None or box is None:
                    continue
                state = str(m.get("state"))
                tag = MARK_TAG.get(state, "？")
                if scores and isinstance(m.get("score"), int | float):
                    tag += f" {m['score']:.2f}"
                shapes.setdefault(key, []).append(Shape(box, state if state in SHAPE_STYLES else "uncertain", tag))
                u = union.setdefault(key, [box[0], box[1], box[2], box[3]])
                union[key] = [min(u[0], box[0]), min(u[1], box[1]), max(u[2], box[2]), max(u[3], box[3])]
            for ev in o.get("evidence") or []:
                box = _box(ev.get("bbox"))
                if box is None or not ev.get("file") or ev.get("kind") == "document":
                    continue
                kind = str(ev.get("kind"))
                sign = kind in SIGN_KINDS
                tag = (
                    f"{SIGN_KINDS[kind]}{'有' if ev.get('status') == 'present' else '無' if ev.get('status') == 'missing' else '？'}"
                    if sign
                    else ""
                )
                shapes.setdefault((str(ev["file"]), int(ev.get("page") or 0)), []).append(Shape(box, "sign" if sign else "field", tag))
            if owner in corrected:
                for key, u in union.items():
                    values = "・".join(_value_text(c.get("value")) for c in corrected[owner])
                    shapes[key].append(Shape((u[0] - 2, u[1] - 2, u[2] + 2, u[3] + 2), "corrected", f"訂 {owner}→{values}"))
    for section in ("applicant", "contacts"):
        fields = result.get(section)
        for name, fld in (fields or {}).items() if isinstance(fields, dict) else []:
            key, box = _ref_key((fld or {}).get("page")), _box((fld or {}).get("bbox"))
            if key is None or box is None:
                continue
            sign = str(name).endswith((".seal", ".signature", "seal", "signature"))
            shapes.setdefault(key, []).append(Shape(box, "sign" if sign else "field"))
    return shapes


def _value_text(value: Any) -> str:
    return {"yes": "はい", "no": "いいえ", "blank": "未回答"}.get(str(value), str(value))


def answer_sheet_pages(result: dict[str, Any], out_dir: Path) -> list[AnswerSheetPage]:
    """One appendix page per saved form page (result.json's page_images), with its frames."""
    shapes = page_shapes(result)
    pages = []
    for entry in sorted(result.get("page_images") or [], key=lambda e: int(e.get("form_page") or 0)):
        image = (out_dir / str(entry.get("image") or "")).resolve()
        key = _ref_key(entry.get("page"))
        if key is None or not image.is_file() or out_dir.resolve() not in image.parents:
            continue
        title = f"回答書 p.{entry.get('form_page')}　（{pagerefs_text([entry['page']])}）"
        pages.append(
            AnswerSheetPage(
                image, float(entry.get("width_pt") or 595.28), float(entry.get("height_pt") or 841.89), title, tuple(shapes.get(key, []))
            )
        )
    return pages


def write_debug_overlays(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """outbox/<name>/debug/page-<n>.png: each form page with its frames and every mark's measured score."""
    from PIL import Image, ImageDraw, ImageFont

    shapes = page_shapes(result, scores=True)
    folder = out_dir / "debug"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        font: Any = ImageFont.truetype(font_file(GOTHIC), 9 * DEBUG_SCALE)
    except (OSError, RuntimeError):
        font = ImageFont.load_default()
    written = []
    for entry in result.get("page_images") or []:
        key = _ref_key(entry.get("page"))
        path = out_dir / str(entry.get("image") or "")
        if key is None or not path.is_file():
            continue
        with Image.open(path) as im:
            canvas = im.convert("RGB").resize((im.width * DEBUG_SCALE, im.height * DEBUG_SCALE), Image.Resampling.NEAREST)
        draw = ImageDraw.Draw(canvas)
        px = float(entry.get("dpi") or 100) / 72 * DEBUG_SCALE
        for shape in shapes.get(key, []):
            st = SHAPE_STYLES[shape.style]
            x0, y0, x1, y1 = (v * px for v in shape.bbox)
            width = max(1, round(st.width_pt * DEBUG_SCALE))
            draw.rectangle([x0, y0, x1, y1], outline=st.colour, width=width)
            if shape.style == "corrected":
                draw.rectangle([x0 - 4, y0 - 4, x1 + 4, y1 + 4], outline=st.colour, width=width)
            if shape.tag:
                draw.rectangle(draw.textbbox((x1 + 3, y0), shape.tag, font=font), fill="white")
                draw.text((x1 + 3, y0), shape.tag, fill=st.colour, font=font)
        out = folder / f"page-{entry.get('form_page')}.png"
        canvas.save(out, compress_level=1)
        written.append(out)
    return written
