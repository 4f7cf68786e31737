"""calibrate: learn layout.yaml for any printing of the questionnaire from its blank PDF (text layer + vector graphics).

Boxes are □/☐ glyphs (their ink box, from pdfium) or small stroked squares; choice brackets are
「[ ]」「（ ）」 with nothing inside. Each mark is bound to its owner by position (the item whose id
starts the line, or the declaration title above it) and to its option by the text beside it.
Fields are found from their labels (items.yaml's blank labels, 署名（肉筆）押印, トップページ /
該当 URL, the cover and contact labels) and measured by the conventions in printing/style.py,
so that calibrating our own blank.pdf gives back the layout print-form wrote.

Modules: scan (the PDF's text and drawings), match (fuzzy text), places (where writing goes),
anchors (owners' regions), boxes (options), fields (items' and declarations' fields), people
(cover and contact blocks), found (what was placed, and where the rest was expected), api (learn_layout,
calibrate), show (the found layout drawn on the blank as PNG).
"""

from __future__ import annotations

from pipeline.form.calibrate.api import CalibrationError, CalibrationReport, calibrate, learn_layout
from pipeline.form.calibrate.match import similarity
from pipeline.form.calibrate.show import show_layout

__all__ = ["CalibrationError", "CalibrationReport", "calibrate", "learn_layout", "show_layout", "similarity"]
