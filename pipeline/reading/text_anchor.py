"""Where the blank's print went in a born-digital filling whose text moved (a form typed into in Word).

Typing into a Word form pushes everything below the typed text down, by a few points within a
page or onto the next page, so the blank's coordinates say nothing about where an item's boxes
are now. The filling still prints every character of the blank, in the same order: the file's
characters are aligned with the blank's (all pages as one stream, an LCS alignment), and every
box and field is placed by the blank characters around it, found again in the file.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from rapidfuzz.distance import Indel

from pipeline.model.records import BBox
from pipeline.sources.textlayer import Char

# Glyphs an applicant types for a box, checked or not: aligned as one character, so that a ■
# where the blank has □ is the same place in the text.
BOX_GLYPHS = frozenset("□☐◻⬜■☑☒✓✔✗✘☓●◉▣◼⬛")
BOX_KEY = "□"
# A run of at least this many characters aligned in a row is the blank's print found again;
# shorter runs are what any two Japanese texts share by chance (の, に, て …).
MIN_RUN = 4
# A page of the file is a page of the form when this share of its characters lies in such runs.
# Measured on 4 Word fillings of 2 other printings (seeds 87000-87003): the 52 form pages 0.49-0.98
# (median 0.92), the 122 pages of office-document attachments 0.00-0.20.
FORM_PAGE_SHARE = 0.35
MIN_FORM_CHARS = 30
ROW_PT = 4.5  # centres further apart than this in height are on different rows (a 「。」 sits 3 pt below its row's middle)
# Anchors on a region's line agree on its shift within this (pt); otherwise the place is unsure.
SHIFT_AGREE_PT = 1.5
LINE_PAD_PT = 2.0


@dataclass(frozen=True, slots=True)
class Placed:
    """A char of one stream with the page it is on (a layout number for the blank, an index for the file)."""

    page: int
    char: Char


@dataclass(frozen=True, slots=True)
class Alignment:
    """The blank's characters matched to the file's: for each, the index of its partner or -1."""

    blank: tuple[Placed, ...]
    doc: tuple[Placed, ...]
    doc_of_blank: NDArray[np.int64]  # -1 where the blank character was not found (typed over, removed)
    blank_of_doc: NDArray[np.int64]  # -1 where the file's character is not the blank's (typed by the applicant)
    # Per character, as arrays: page, centre x, centre y, top, bottom (blank, then file).
    blank_geo: NDArray[np.float64]
    doc_geo: NDArray[np.float64]
    # Like doc_of_blank / blank_of_doc but keeping runs shorter than MIN_RUN: print between two
    # typed values (「氏名：」 between a typed title and a typed name) is found only so.
    weak_doc_of_blank: NDArray[np.int64] | None = None
    weak_blank_of_doc: NDArray[np.int64] | None = None

    def form_pages(self, doc_pages: int) -> dict[int, int]:
        """File page index → the blank page most of its print comes from, for pages that are the form's."""
        found: dict[int, int] = {}
        for index in range(doc_pages):
            mine = np.flatnonzero(self.doc_geo[:, 0] == index)
            if len(mine) < MIN_FORM_CHARS:
                continue
            partners = self.blank_of_doc[mine]
            matched = partners[partners >= 0]
            if len(matched) < FORM_PAGE_SHARE * len(mine):
                continue
            found[index] = int(np.argmax(np.bincount(self.blank_geo[matched, 0].astype(np.int64))))
        return found

    def tail_pages(self, doc_pages: int, found: dict[int, int]) -> set[int]:
        """Short pages right after a form page that hold only its overflow (a line or two typing pushed over the page end).

        Such a page has under MIN_FORM_CHARS characters, so form_pages cannot tell it; it is the
        form's when at least half of its characters are the blank's print, or when a form page
        follows it (the applicant's own text wrapped onto a page of its own). Never an attachment.
        """
        tails: set[int] = set()
        for index in range(doc_pages):
            if index in found or index - 1 not in found and index - 1 not in tails:
                continue
            mine = np.flatnonzero(self.doc_geo[:, 0] == index)
            if not len(mine) or len(mine) >= MIN_FORM_CHARS:
                continue
            if (self.blank_of_doc[mine] >= 0).mean() >= 0.5 or index + 1 in found:
                tails.add(index)
        return tails

    def in_place(self) -> bool:
        """Whether the file prints the blank's characters where the blank has them (nothing reflowed)."""
        found = np.flatnonzero(self.doc_of_blank >= 0)
        if len(found) < MIN_FORM_CHARS:
            return False
        there = self.doc_geo[self.doc_of_blank[found]]
        here = self.blank_geo[found]
        off = np.abs(there[:, 1:3] - here[:, 1:3]).max(axis=1) > 1.0
        return bool(off.mean() <= 0.02)


def stream_key(text: str) -> str:
    """One character's alignment key: box glyphs alike, width forms alike (NFKC)."""
    if text in BOX_GLYPHS:
        return BOX_KEY
    key = unicodedata.normalize("NFKC", text)
    return key[:1] if key else "\x00"


def placed_stream(pages: list[tuple[int, list[Char]]]) -> tuple[Placed, ...]:
    """Every visible character of the pages, in the order the PDF draws them (white space left out)."""
    return tuple(Placed(number, c) for number, chars in pages for c in chars if c.text.strip())


def align(blank: tuple[Placed, ...], doc: tuple[Placed, ...]) -> Alignment:
    """Match the blank's characters to the file's; only runs of MIN_RUN or more count."""
    a = "".join(stream_key(p.char.text) for p in blank)
    b = "".join(stream_key(p.char.text) for p in doc)
    doc_of_blank = np.full(len(blank), -1, dtype=np.int64)
    blank_of_doc = np.full(len(doc), -1, dtype=np.int64)
    weak_doc, weak_blank = doc_of_blank.copy(), blank_of_doc.copy()
    for op in Indel.opcodes(a, b):
        if op.tag != "equal":
            continue
        span = op.src_end - op.src_start
        targets = [(weak_doc, weak_blank)] + ([(doc_of_blank, blank_of_doc)] if span >= MIN_RUN else [])
        for of_blank, of_doc in targets:
            of_blank[op.src_start : op.src_end] = np.arange(op.dest_start, op.dest_start + span)
            of_doc[op.dest_start : op.dest_end] = np.arange(op.src_start, op.src_start + span)
    return Alignment(blank, doc, doc_of_blank, blank_of_doc, _geo(blank), _geo(doc), weak_doc, weak_blank)


def _geo(stream: tuple[Placed, ...]) -> NDArray[np.float64]:
    rows = [
        (p.page, (p.char.bbox[0] + p.char.bbox[2]) / 2, (p.char.bbox[1] + p.char.bbox[3]) / 2, p.char.bbox[1], p.char.bbox[3])
        for p in stream
    ]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 5)


@dataclass(frozen=True, slots=True)
class Shift:
    """Where a region of a blank page is in the file: file page index and the move (pt)."""

    page: int
    dx: float
    dy: float
    grow: float = 0.0  # the place is this much taller in the file (a picture or a wrapped value pushed the next line down)


def _moves(al: Alignment, indices: NDArray[np.int64], weak: bool = False) -> list[Shift]:
    """The move of each of these blank characters that was found in the file, in the given order (`weak`: in short runs too)."""
    of_blank = al.weak_doc_of_blank if weak and al.weak_doc_of_blank is not None else al.doc_of_blank
    partners = of_blank[indices]
    keep = indices[partners >= 0]
    there = al.doc_geo[of_blank[keep]]
    here = al.blank_geo[keep]
    return [Shift(int(t[0]), float(t[1] - h[1]), float(t[2] - h[2])) for t, h in zip(there, here, strict=True)]


def _one_row(geo: NDArray[np.float64], found: NDArray[np.int64], box: BBox) -> NDArray[np.int64]:
    """The anchors on the text row nearest the region's middle, in their order.

    A tall region (a signature place reaching up over its label's line, a seal's square over
    three lines) takes in characters of the rows above and below, which may have moved apart
    from its own (a 「。」 ending the sentence above, seed 87100-01 5-1-2; the next line pushed
    onto the next page, 87100-03 2-1-4).
    """
    if len(found) < 2:
        return found
    y = geo[found, 2]
    order = np.argsort(y, kind="stable")
    row = np.zeros(len(y), np.int64)  # rows: centres sorted by height, split where they jump
    row[order[1:]] = np.cumsum(np.diff(y[order]) > ROW_PT)
    middles = np.array([np.median(y[row == r]) for r in range(int(row.max()) + 1)])
    return found[row == int(np.argmin(np.abs(middles - (box[1] + box[3]) / 2)))]


def _inside(row: NDArray[np.float64], box: BBox) -> bool:
    return bool(box[0] <= row[1] <= box[2] and box[1] <= row[2] <= box[3])


def _agreed(moves: list[Shift]) -> Shift | None:
    """The common move of the nearest anchors, or None when they disagree (page or shift)."""
    if not moves:
        return None
    first = moves[0]
    for m in moves[1:]:
        if m.page != first.page or abs(m.dy - first.dy) > SHIFT_AGREE_PT or abs(m.dx - first.dx) > SHIFT_AGREE_PT:
            return None
    return first


def shift_of(al: Alignment, layout_page: int, box: BBox, *, anchors: int = 3) -> Shift | None:
    """The move of a box or field of blank page `layout_page`, from the blank's print on its own line.

    The anchors are the blank characters whose centre is on the region's line: first those
    inside or left of it, nearest first (a □ glyph inside a box is its own best anchor; a
    field's label ends just left of it), then those right of it — typing or a pasted picture
    moves what follows on the line, never what precedes. The nearest `anchors` found in the file
    must agree on page and shift, unless the nearest lies inside the region. With none on the line (an answer space under a sentence), the
    line above and the line below must agree. None when the place cannot be told.
    """
    geo = al.blank_geo
    page = geo[:, 0] == layout_page
    on_line = page & (geo[:, 2] >= box[1] - LINE_PAD_PT) & (geo[:, 2] <= box[3] + LINE_PAD_PT)
    before = np.flatnonzero(on_line & (geo[:, 1] <= box[2]))
    after = np.flatnonzero(on_line & (geo[:, 1] > box[2]))
    for side in (before[np.argsort(-geo[before, 1], kind="stable")], after[np.argsort(geo[after, 1], kind="stable")]):
        found = _one_row(geo, side[al.doc_of_blank[side] >= 0], box)
        if len(found):
            if _inside(geo[found[0]], box):
                return _moves(al, found[:1])[0]  # the region's own print (□, 印, 年 月 日) went where the region went
            return _agreed(_moves(al, found[:anchors]))
    if al.weak_doc_of_blank is not None and len(before) >= 2:
        # a short label alone on its line (「氏 名：」) is aligned in a run under MIN_RUN only:
        # its own characters, all of them agreeing, still place the field right of it
        weak = _agreed(_moves(al, before[np.argsort(-geo[before, 1], kind="stable")], weak=True)[:anchors])
        if weak is not None and len(_moves(al, before, weak=True)) >= 2:
            return weak
    above = np.flatnonzero(page & (geo[:, 4] <= box[1]))
    below = np.flatnonzero(page & (geo[:, 3] >= box[3]))
    up = _agreed(_moves(al, above[np.argsort(-geo[above, 4], kind="stable")])[:anchors])
    down = _agreed(_moves(al, below[np.argsort(geo[below, 3], kind="stable")])[:anchors])
    if up is None or down is None or up.page != down.page or abs(up.dy - down.dy) > SHIFT_AGREE_PT:
        return None
    return Shift(up.page, 0.0, up.dy)


def print_share(blank_chars: list[Char], page_chars: list[Char]) -> float:
    """Share of a page's characters that are the blank page's print, in runs (0 for a page with almost no text)."""
    page = placed_stream([(0, page_chars)])
    if len(page) < MIN_FORM_CHARS:
        return 0.0
    al = align(placed_stream([(0, blank_chars)]), page)
    return float((al.blank_of_doc >= 0).mean())


# A field grows by at most this (pt): a pasted signature picture or a value wrapped onto a few lines.
MAX_GROW_PT = 120.0


def growth_below(al: Alignment, layout_page: int, box: BBox, shift: Shift, *, anchors: int = 3) -> float:
    """How much further than the field itself the print just below it moved (0 when not, or when it went to another page)."""
    geo = al.blank_geo
    page = geo[:, 0] == layout_page
    line = page & (geo[:, 2] >= box[1] - LINE_PAD_PT) & (geo[:, 2] <= box[3] + LINE_PAD_PT)
    floor = float(geo[line, 4].max()) if line.any() else box[3]
    below = np.flatnonzero(page & (geo[:, 3] >= floor - 0.5))
    down = _agreed(_moves(al, below[np.argsort(geo[below, 3], kind="stable")])[:anchors])
    if down is None or down.page != shift.page:
        return 0.0
    extra = down.dy - shift.dy
    return float(min(extra, MAX_GROW_PT)) if extra > SHIFT_AGREE_PT else 0.0


# What a blank prints as the place to write on, never part of a value.
PLACEHOLDERS = frozenset("＿_‗￣ 　")
# A seal spot the blank prints inside a name's place: its own print, never part of the name (seed
# 86900-08 respondent.name read 「佐藤拓也印」: Word moved 印 after the typed name, still inside the place).
SEAL_SPOTS = frozenset("印㊞")


def typed_in(al: Alignment, layout_page: int, box: BBox) -> list[Char] | None:
    """The characters a field holds in the file, read from the text stream; None when its bounds were not found.

    A field lies between the blank's print that precedes it in reading order (its label, or the
    sentence above) and the print that follows it (what is right of it on its line, or the next
    line). Whatever the file has between those two, once found, is the field's: the applicant's
    typing however many lines it wrapped onto, plus the field's own print (年 月 日) but not its
    underscores nor a seal spot (印). This does not depend on where the typing pushed the line.
    """
    geo = al.blank_geo
    page = geo[:, 0] == layout_page
    of_blank = al.doc_of_blank if al.weak_doc_of_blank is None else al.weak_doc_of_blank
    of_doc = al.blank_of_doc if al.weak_blank_of_doc is None else al.weak_blank_of_doc
    found = of_blank >= 0
    on_line = (geo[:, 2] >= box[1] - LINE_PAD_PT) & (geo[:, 2] <= box[3] + LINE_PAD_PT)
    inside = page & on_line & (geo[:, 1] >= box[0]) & (geo[:, 1] <= box[2])
    before = np.flatnonzero(page & found & ~inside & ((geo[:, 2] < box[1] - LINE_PAD_PT) | (on_line & (geo[:, 1] < box[0]))))
    after = np.flatnonzero(page & found & ~inside & ((geo[:, 2] > box[3] + LINE_PAD_PT) | (on_line & (geo[:, 1] > box[2]))))
    if not len(before):  # the field opens its page: what ends the page before
        before = np.flatnonzero(found & (geo[:, 0] < layout_page))
    if not len(after):  # the field ends its page: what opens the next
        after = np.flatnonzero(found & (geo[:, 0] > layout_page))
    if not len(before) or not len(after):
        return None
    start, end = int(of_blank[before.max()]), int(of_blank[after.min()])
    if before.max() > after.min() or end <= start:
        return None  # the stream does not run label → field → what follows: no telling what is whose
    own = {int(of_blank[i]) for i in np.flatnonzero(inside & found)}
    out = []
    for j in range(start + 1, end):
        c = al.doc[j].char
        if c.text in PLACEHOLDERS or (of_doc[j] >= 0 and (j not in own or c.text in SEAL_SPOTS)):
            continue
        out.append(c)
    return out
