"""Our printing of the questionnaire: blank.pdf, fillable.pdf and layout.yaml from the form definition."""

from __future__ import annotations

from pipeline.form.printing.api import print_form, render_form
from pipeline.form.printing.style import ALT, OURS, PrintStyle

__all__ = ["ALT", "OURS", "PrintStyle", "print_form", "render_form"]
