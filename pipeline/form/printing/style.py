"""How a printing looks (fonts, sizes, margins, box style) and the layout conventions it shares with calibrate.

Coordinates here are PDF points with the origin at the page's top left, like layout.yaml.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFile

from pipeline.model.records import BBox

A4 = (595.28, 841.89)

IPAEX_MINCHO = "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"
IPAEX_GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
IPA_MINCHO = "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"
IPA_PGOTHIC = "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf"

# --- layout conventions, shared by the drawing code and by calibrate ---------------------
# They say where a field's writable area is, measured from things any printing shows:
# a label's baseline and size, its underline, the 印 glyph, the 年 月 日 glyphs.
FIELD_GAP_PT = 4.0  # label end → field start when the printing has no underline
FIELD_ABOVE = 1.5  # field top = baseline − 1.5 × label size (room for handwriting)
FIELD_BELOW = 0.45  # field bottom = baseline + 0.45 × label size
SEAL_HALF_PT = 20.0  # seal spot = 印 centre ± 20 pt (a 14 mm square: personal and most company seals)
SIGN_GAP_PT = 6.0  # signature area ends this far left of the seal spot
UNDERLINE_DROP_PT = 2.5  # our underlines sit this far below the baseline


@dataclass(frozen=True, slots=True)
class PrintStyle:
    """One printing of the questionnaire: fonts, sizes, margins and how boxes are drawn.

    Args:
        name: short name, used only in messages.
        body_font / heading_font: TrueType files embedded as subsets.
        body_size / small_size / heading_size: font sizes in points.
        margins: left, top, right, bottom content margins in points.
        box_style: "vector" draws □ as squares (nothing in the text layer);
            "glyph" prints the □ character (in the text layer), as a Word-made form does.
        box_pt: side of a vector box in points.
        marks: print the corner registration marks, the QR code and the page code.
        leading: line pitch as a multiple of the font size.
    """

    name: str = "ours"
    body_font: str = IPAEX_MINCHO
    heading_font: str = IPAEX_GOTHIC
    body_size: float = 10.0
    small_size: float = 8.0
    heading_size: float = 11.0
    margins: tuple[float, float, float, float] = (54.0, 76.0, 54.0, 62.0)
    box_style: Literal["vector", "glyph"] = "vector"
    box_pt: float = 11.0
    marks: bool = True
    leading: float = 1.6
    page_size: tuple[float, float] = field(default=A4)

    @property
    def body(self) -> str:
        return register_font(self.body_font)

    @property
    def heading(self) -> str:
        return register_font(self.heading_font)


OURS = PrintStyle()
# A second printing, as a Word user might make it: other fonts, margins and size (so the
# page breaks differ), □ typed as characters, no registration marks and no page code.
ALT = PrintStyle(
    name="alt",
    body_font=IPA_MINCHO,
    heading_font=IPA_PGOTHIC,
    body_size=11.0,
    small_size=9.5,
    heading_size=12.0,
    margins=(80.0, 70.0, 64.0, 60.0),
    box_style="glyph",
    marks=False,
    leading=1.5,
)

# Registration marks: solid black squares at fixed distances from the page corners.
MARK_PT = 14.17  # 5 mm
MARK_INSET_PT = 22.0  # from the page edge to the mark's outer side
QR_MODULE_PT = 1.6


def register_font(path: str) -> str:
    """Register a TrueType file with reportlab once; return its font name (the file stem)."""
    name = Path(path).stem
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, path))
    return name


def string_width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def descent_ratio(font: str) -> float:
    """The font's descent as a fraction of the size (negative), as the PDF font descriptor states it."""
    face = pdfmetrics.getFont(font).face
    return float(face.descent) / 1000.0


def em_box(font: str, size: float, x: float, baseline: float, text: str) -> BBox:
    """The box a PDF text extractor (pdfminer) reports for `text`: advance wide, one em tall."""
    d = descent_ratio(font)
    top = baseline - (1.0 + d) * size
    return (x, top, x + string_width(text, font, size), top + size)


@cache
def glyph_units(path: str, char: str) -> tuple[int, int, int, int, int]:
    """xMin, yMin, xMax, yMax of a glyph's outline and the font's units per em."""
    ttf = TTFontFile(path)
    gid = ttf.charToGlyph[ord(char)]
    glyf_start = ttf.get_table_pos("glyf")[0]
    offset = glyf_start + ttf.glyphPos[gid]
    _, x_min, y_min, x_max, y_max = struct.unpack(">hhhhh", ttf._ttf_data[offset : offset + 10])
    return x_min, y_min, x_max, y_max, int(ttf.unitsPerEm)


def glyph_box(font_path: str, char: str, size: float, x: float, baseline: float) -> BBox:
    """The ink box of one glyph drawn at (x, baseline), from the font's outline bounds."""
    x_min, y_min, x_max, y_max, upem = glyph_units(font_path, char)
    k = size / upem
    return (x + x_min * k, baseline - y_max * k, x + x_max * k, baseline - y_min * k)
