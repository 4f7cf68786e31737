"""Render a DOCX template of templates/ with a context: crops made images, autoescaping on, schema order kept."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.model.errors import PipelineError
from pipeline.output.dossier.crops import Crop, CropStrip, strip_png

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


class RenderError(PipelineError):
    """The dossier or certificate of one submission could not be produced."""


def materialise(value: Any, tpl: Any) -> Any:
    """Replace Crop / CropStrip markers by docxtpl InlineImages (they need the template)."""
    if isinstance(value, Crop | CropStrip):
        from docx.shared import Mm
        from docxtpl import InlineImage

        w, h = value.size_mm()
        if not w:
            log.warning("crop %s is missing or not a readable image", getattr(value, "path", value))
            return ""
        image: Any = str(value.path) if isinstance(value, Crop) else strip_png(value)
        return InlineImage(tpl, image, width=Mm(w), height=Mm(h))
    if isinstance(value, dict):
        return {k: materialise(v, tpl) for k, v in value.items()}
    if isinstance(value, list):
        return [materialise(v, tpl) for v in value]
    return value


# Word (unlike LibreOffice) rejects a file whose property elements are out of the schema's order
# (ECMA-376 Part 1, CT_PPr/CT_RPr/CT_TblPr/CT_TcPr/CT_SectPr); docxtpl's {% cellbg %} puts <w:shd>
# first in <w:tcPr>, so every rendered document is put back in order.
SCHEMA_ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi adjustRightInd "
    "snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection textAlignment "
    "textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "rPr": "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
    "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em "
    "lang eastAsianLayout specVanish oMath",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
    "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark",
    "sectPr": "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
    "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid printerSettings",
}
_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def fix_element_order(root: Any) -> None:
    """Reorder the children of every pPr/rPr/tblPr/tcPr/sectPr under root into schema order."""
    ranks = {f"{_W_NS}{tag}": {f"{_W_NS}{n}": i for i, n in enumerate(seq.split())} for tag, seq in SCHEMA_ORDER.items()}
    for tag, rank in ranks.items():
        for props in root.iter(tag):
            children = list(props)
            ordered = sorted(children, key=lambda el: rank.get(el.tag, len(rank)))
            if ordered != children:
                for el in children:
                    props.remove(el)
                props.extend(ordered)


def render_template(template: Path, context: dict[str, Any], out: Path) -> None:
    """Render `template` with `context` (autoescaped) to `out`; raises RenderError naming the template."""
    from docxtpl import DocxTemplate

    try:
        tpl = DocxTemplate(str(template))
        tpl.render(materialise(context, tpl), autoescape=True)
        fix_element_order(tpl.docx.element)
        tpl.save(str(out))
    except Exception as exc:  # Jinja, lxml, zip: all mean the same to the operator
        raise RenderError(f"{template.name}: could not be rendered: {type(exc).__name__}: {exc}") from exc
