"""Applicant text made safe for people: invisible control characters shown, CSV cells that Excel would run as formulas neutralised.

Applicant text (file names, field values, labels) may contain anything. Two things in it can
make a person read something else than what is there:

- Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) reorder what follows them
  on screen and on paper: ``"\u202egnp.exe"`` displays as ``exe.png``. Other control and format
  characters (NUL, ESC, zero-width spaces, the BOM) hide text, break lines or, in a terminal,
  move the cursor. `visible_text` replaces each with a visible ``[U+XXXX]`` so the reader sees
  that it is there and the text stays in its logical order.
- A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
  return before one) as a formula. `csv_cell` neutralises it as OWASP's "CSV Injection" page
  recommends: a leading apostrophe, which Excel and LibreOffice show as text and do not print.
"""

from __future__ import annotations

import unicodedata

# Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the marks
# (U+200E, U+200F, U+061C). All are Unicode format characters (Cf); listed for the docs and tests.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Format characters that text needs to be itself: zero-width (non-)joiners shape emoji and
# Indic/Arabic scripts; variation selectors are not Cf at all (Mn). They stay.
_KEPT_FORMAT = frozenset("\u200c\u200d")
# Characters that make a spreadsheet read a cell as a formula (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _shown(ch: str) -> str:
    return f"[U+{ord(ch):04X}]"


def _hidden(ch: str) -> bool:
    """True for a character that displays as nothing or as an action: controls, format, separators, surrogates, non-characters."""
    if ch in _KEPT_FORMAT:
        return False
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        return True
    return 0xFDD0 <= ord(ch) <= 0xFDEF or (ord(ch) & 0xFFFE) == 0xFFFE


def visible_text(text: str, *, multiline: bool = False) -> str:
    """`text` with every invisible or reordering character replaced by a visible ``[U+XXXX]``.

    Replaced: bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C),
    C0/C1 control characters and DEL, other format characters (zero-width space, word joiner,
    BOM, soft hyphen), line/paragraph separators, lone surrogates and non-characters. Kept:
    printable text in any script, ZWJ/ZWNJ, ordinary spaces.

    Args:
        text: applicant text as read.
        multiline: keep newlines and tabs (CR LF and a lone CR become a newline) for text that is
            shown on several lines; otherwise they are shown as ``[U+000A]`` etc. too, so a single-line
            cell or table row cannot be split.
    """
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for ch in text:
        if multiline and ch in "\n\t":
            out.append(ch)
        elif _hidden(ch):
            out.append(_shown(ch))
        else:
            out.append(ch)
    return "".join(out)


def neutralise_formula(cell: str) -> str:
    """A CSV cell that a spreadsheet would run as a formula, prefixed with ``'`` (OWASP); any other cell unchanged."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_cell(value: object) -> str:
    """One summary.csv cell: ``None`` as empty, then `visible_text` (single line), then `neutralise_formula`.

    The order matters: control characters are shown first, so a hidden character before ``=``
    cannot slip a formula past the check.
    """
    if value is None:
        return ""
    return neutralise_formula(visible_text(str(value)))
