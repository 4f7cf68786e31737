"""Our printing of the questionnaire: blank.pdf, fillable.pdf and layout.yaml from the form definition."""

from __future__ import annotations

from pipeline.printing.api import print_form, render_form
from pipeline.printing.style import ALT, OURS, PrintStyle

__all__ = ["ALT", "OURS", "PrintStyle", "print_form", "render_form"]
