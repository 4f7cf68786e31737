"""Fill a printing in Word: □ becomes ■ or ☑, text is typed into the blanks (and reflows), a signature
and a seal are pasted as pictures; LibreOffice then writes the PDF the applicant sends."""

from __future__ import annotations

import random

from samples.independent import docbuild, handmarks, itemsdata, office
from samples.independent.plan import Plan
from samples.independent.seedform import Block
from samples.independent.style import PrintStyle


def fill_in_word(parts: dict[str, list[Block]], style: PrintStyle, plan: Plan, rng: random.Random) -> tuple[bytes, bytes, str]:
    """(filled DOCX, its PDF, the glyph used for marked boxes)."""
    data = itemsdata.load()
    glyph = rng.choice(["■", "☑"])
    sigs = {}
    for item in plan.signed:
        name = plan.texts.get(f"item.{item}.name") or plan.texts.get("respondent.name") or "山田 太郎"
        sigs[item] = handmarks.png_bytes(handmarks.signature_image(name.replace(" ", ""), rng))
    seal = handmarks.png_bytes(handmarks.seal_image(plan.texts.get("respondent.name", "山田 太郎"), rng))
    fill = docbuild.WordFill(plan=plan, glyph=glyph, signature_png=sigs, seal_png=seal, states=plan.box_states(data))
    docx = docbuild.build_docx(parts, style, fill)
    return docx, office.to_pdf(docx), glyph
