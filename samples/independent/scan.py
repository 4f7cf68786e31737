"""Print-and-scan: rasterise PDF pages and degrade them like an office scanner, then wrap as PDF."""

from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image


@dataclass(frozen=True)
class ScanSettings:
    dpi: int  # 150 | 200 | 300
    mode: str  # grey | bw | colour
    skew_deg: float  # within ±1.5
    noise: float  # std of additive noise, 0-12
    jpeg_quality: int | None  # None = lossless

    def as_dict(self) -> dict:
        return asdict(self)


def random_settings(rng: random.Random) -> ScanSettings:
    return ScanSettings(
        dpi=rng.choice([150, 200, 200, 300]),
        mode=rng.choice(["grey", "grey", "bw", "colour"]),
        skew_deg=round(rng.uniform(-1.5, 1.5), 2),
        noise=round(rng.uniform(0, 10), 1),
        jpeg_quality=rng.choice([None, 60, 75, 90]),
    )


def rasterise(pdf: bytes, dpi: int) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    pages = [doc[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(doc))]
    doc.close()
    return pages


def degrade(img: Image.Image, s: ScanSettings, rng: random.Random) -> Image.Image:
    """Skew, blur a little, add sensor noise, reduce to the scanner's colour mode (OpenCV: pages are big)."""
    a = np.asarray(img.convert("RGB" if s.mode == "colour" else "L"))
    h, w = a.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), s.skew_deg, 1.0)
    border = (255, 255, 255) if a.ndim == 3 else 255
    a = cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)
    if rng.random() < 0.5:
        a = cv2.GaussianBlur(a, (3, 3), 0.6)
    if s.noise:
        nrng = np.random.default_rng(rng.randrange(1 << 30))
        # a random tile repeated over the page: sensor-like noise at a fraction of the cost
        tile = nrng.normal(0, s.noise, (256, 256)).astype(np.int16)
        noise = np.tile(tile, (h // 256 + 1, w // 256 + 1))[:h, :w]
        if a.ndim == 3:
            noise = noise[..., None]
        a = np.clip(a.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    if s.mode == "bw":
        return Image.fromarray(np.where(a > 160, 255, 0).astype(np.uint8)).convert("1")
    return Image.fromarray(a)


def images_to_pdf(images: list[Image.Image], dpi: int, jpeg_quality: int | None) -> bytes:
    """Wrap page images into a PDF whose pages keep A4-ish size at the scan's resolution."""
    buf = io.BytesIO()
    prepared = []
    for im in images:
        if jpeg_quality and im.mode != "1":
            j = io.BytesIO()
            im.save(j, "JPEG", quality=jpeg_quality)
            im = Image.open(io.BytesIO(j.getvalue()))
        prepared.append(im)
    prepared[0].save(buf, "PDF", resolution=float(dpi), save_all=True, append_images=prepared[1:])
    return buf.getvalue()


def scan_pdf(pdf: bytes, s: ScanSettings, rng: random.Random) -> bytes:
    return images_to_pdf([degrade(p, s, rng) for p in rasterise(pdf, s.dpi)], s.dpi, s.jpeg_quality)
