"""Thresholds for finding a signature or seal place on a scanned Word filling off a table (reflow_place.label_offset, risen).

Measured on the independent set's `word_scan` submissions of debugging seeds 88500-88502
(never the held-out 80000-80999). Pixels at the registration's work resolution (100 dpi).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SignDefaults:
    """A signed line's label looked for below where its neighbours put it, and the place grown up to the line above."""

    # The label (「…署名（肉筆）押印：」, left of the places) is where it matches best, at
    # label_min or more (TM_CCOEFF_NORMED); another place at least half a line away matching
    # within label_rival of it (the same label on another signed line within reach) leaves it
    # unplaced. Seeds 88500-00, 88503-00: the label 0.48-0.8 (0.48 where the blank's line holds
    # the 氏名 line above it too, which the pictures pushed apart), elsewhere within reach 0.07-0.23.
    label_min: float = 0.4
    label_rival: float = 0.15
    # The place reaches up to rise_gap_px under the line above's bottom where that went
    # (its print never inside the place; a scanned line's edge blurs by 1-2 px).
    rise_gap_px: int = 2
    # ... and no higher than max_rise_px above its label's top: a pasted seal is 11 mm (43 px),
    # a signature 8 mm (independent set's Word fillings); a label at a page's top has nothing
    # above it to stop the place (seed 88500-00 p6: 3-1-7's place rose 98 pt).
    max_rise_px: int = 50
    # A seal place's printed 「印」 is looked for on the scan within print_search_px rows of where
    # its place put it, anywhere from the signature place's left to a place's width past its
    # own, matching at print_min (TM_CCOEFF_NORMED) and no other place a glyph away within
    # label_rival. Seeds 88500-00 and 88501-02 (bw 300 dpi): the moved 印 matched 0.50-0.95
    # (one 0.37, left unmoved), the best elsewhere 0.0-0.55, always 0.15 or more below.
    print_search_px: int = 4
    print_min: float = 0.5


SIGN = SignDefaults()
