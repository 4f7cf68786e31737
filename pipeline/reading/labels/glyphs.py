"""A candidate line cut into glyphs (digit, dash, other) and its digits read by the digit classifier."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from numpy.typing import NDArray

from pipeline.reading.labels.ink import Group, touches_frame_top
from pipeline.reading.labels.parse import LabelParse, id_shape, normalise_label
from pipeline.reading.labels.records import LineReading
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings

if TYPE_CHECKING:
    from pipeline.reading.digits import DigitClassifier, DigitGuess


def _split_dash(mask: NDArray[np.uint8], line_h: float, top: float) -> tuple[str, NDArray[np.uint8], float] | None:
    """A glyph with a dash written into it (4- or -3 in one stroke): ('D-' or '-D', the digit's mask, the dash's middle
    row in the glyph's rows), else None.

    The dash is a run of columns at either end, at least 0.3 line heights long, whose ink is one thin band
    (≤ 0.3 line heights) about mid-line; ``top`` is the digits' top in the glyph's own rows.
    """
    h, w = mask.shape
    cols = mask.any(axis=0)
    first = np.where(cols, mask.argmax(axis=0), h)
    last = np.where(cols, h - 1 - mask[::-1].argmax(axis=0), -1)
    mid = (first + last) / 2.0 - top
    thin = cols & (last - first + 1 <= 0.3 * line_h) & (mid >= 0.25 * line_h) & (mid <= 0.8 * line_h)
    need = max(2, math.ceil(0.3 * line_h))
    for side in ("right", "left"):
        run = thin[::-1] if side == "right" else thin
        n = int(np.argmin(run)) if not run.all() else w
        if need <= n < w:
            digit = mask[:, : w - n] if side == "right" else mask[:, n:]
            dash_mid = float(np.mean((first + last)[w - n :] if side == "right" else (first + last)[:n])) / 2.0
            return ("D-" if side == "right" else "-D"), digit, dash_mid
    return None


def _glyphs(
    lab: NDArray[np.int32], stats: NDArray[np.int32], g: Group, split: bool = False, erased: NDArray[np.uint8] | None = None
) -> tuple[str, list[tuple[NDArray[np.uint8], bool]]] | None:
    """The line as a pattern of 'D' (digit), '-' (dash), 'X' (anything else) and ' ' (gap), with each digit's mask.

    With ``split``, a digit-sized or odd glyph that carries a dash written into it is read as the two.
    Each mask comes with whether the digit's top touches the ``erased`` frame lines (touches_frame_top).
    """
    merged = _merged(stats, g)
    line = _digit_line(merged, g.height)
    if line is None:
        return None
    line_h, top, flat = line
    own = [np.isin(lab[m[1] : m[1] + m[3], m[0] : m[0] + m[2]], m[4:]).astype(np.uint8) for m in merged]
    cuts = [_split_dash(mask, line_h, top - m[1]) if split else None for m, mask in zip(merged, own)]
    beside = _beside(merged, flat, cuts, line_h)  # a dash's neighbours (by the dash's middle row): digits by their place
    pattern, masks, last_x1 = "", [], None
    for k, m in enumerate(merged):
        x, y, w, h = m[:4]
        if last_x1 is not None and x - last_x1 > 0.9 * line_h:
            pattern += " "
        cy = (y + h / 2.0 - top) / line_h
        # a glyph beside a dash is a digit by its place: it may stand taller or lower than the others, as written
        # digits do (MNIST's 3s and 7s reach below the line: 7-1-3 was X-D-D and no label to the classifier); so is one
        # with a dash written into it, the dash its neighbour (validation rows seed 88206 #266: 4-1-3's '-3', 1.27 line
        # heights tall, was D-DX)
        off = 0.45 if k in beside or cuts[k] is not None else 0.3
        # ... and so is one the dash beside it meets in its middle, however far off the others' line it is written
        # (validation rows seed 86200: a 4 written low, 0.03 px past the 0.45 bound, left 4-3-1 unread), or as wide as
        # MNIST's 2s with a long foot (1.33 line heights: seed 86202, 7-5-2 was D-D-X)
        placed = k in beside and y + 0.2 * h <= beside[k] <= y + 0.8 * h and 0.55 * line_h <= h <= 1.6 * line_h and w <= 1.5 * line_h
        cut = cuts[k]
        if cut is not None and 0.55 * line_h <= h <= (1.25 + off - 0.3) * line_h and abs(cy - 0.5) <= off:
            pattern += cut[0]
            masks.append((cut[1], touches_frame_top(lab, m, erased, line_h)))
        elif h <= 0.45 * line_h and w >= 1.1 * h and w >= 0.2 * line_h and (0.15 <= cy <= 0.9 or _joins(merged, k, line_h)):
            pattern += "-"
        elif len(m) > 5 and _stacked(stats, m[4:], 0.2 * line_h) and not (k in beside and _stroke_broken(stats, m[4:], line_h)):
            # parts one above the other with a gap: a colon (項目番号：), not a digit; beside a dash, a stroke with a
            # part over half the line tall is a 1 the scan broke (4-!-1, validation rows seed 86201)
            pattern += "X"
        elif max(w, h) < 0.3 * line_h and (not (0.15 <= cy <= 0.9) or k - 1 in flat or k + 1 in flat):
            # a speck above or below the digits (scan noise over a 1: 3-˙1-1 was no label to the classifier), or by a dash
            # however high (validation rows seed 86202: 4-˙1-4, a speck at 0.18 and 0.32 off the line's middle, was 'X')
            pattern += " "
        elif placed:
            pattern += "D"
            masks.append((own[k], touches_frame_top(lab, m, erased, line_h)))
        elif (
            h > (1.25 + off - 0.3) * line_h
            # kanji: taller and wider than the digits, and never next to a dash (a handwritten 5 with a long bar
            # after one was, 2-1-5 → D-D-X: OCR alone then read 2-7-5, silently)
            or (h > 1.1 * line_h and w > 0.8 * line_h and k not in beside)
            or y < top - off * line_h
            or y + h > top + (1 + off) * line_h
            or abs(cy - 0.5) > off
        ):
            pattern += "X"  # brackets, kanji: taller than the digits or off their line
        elif h >= 0.55 * line_h and w <= 1.3 * line_h:
            pattern += "D"
            masks.append((own[k], touches_frame_top(lab, m, erased, line_h)))
        elif max(w, h) < 0.3 * line_h:  # a speck, or a ・ between two labels
            pattern += " "
        else:
            pattern += "X"
        last_x1 = x + w
    return pattern, masks


def _joins(merged: Sequence[Sequence[int]], k: int, line_h: float) -> bool:
    """Whether the flat glyph ``k``, written off the line's middle band, still stands between two digits at a height both
    reach: a dash (validation rows seed 86200 #93: 6-2-2's first dash, its middle 0.91 line heights down, was an 'X' once
    the line's height counted each digit once; #271: a dash under a 6 the scan broke, at 0.96, is none)."""
    if not 0 < k < len(merged) - 1:
        return False
    mid = merged[k][1] + merged[k][3] / 2.0
    return all(m[3] >= 0.55 * line_h and m[1] <= mid <= m[1] + m[3] for m in (merged[k - 1], merged[k + 1]))


def _beside(
    merged: Sequence[Sequence[int]], flat: Collection[int], cuts: Sequence[tuple[str, NDArray[np.uint8], float] | None], line_h: float
) -> dict[int, float]:
    """The glyphs next to a dash, each with the dash's middle row: past any speck between them (scan noise by a 7
    made 7-2-2 'X -D-D', validation rows seed 86200), and the glyph on the far side of a dash written into a digit."""
    out: dict[int, float] = {}
    dashes = {f: merged[f][1] + merged[f][3] / 2.0 for f in flat}
    sides: dict[int, tuple[int, ...]] = {f: (-1, 1) for f in flat}
    for k, cut in enumerate(cuts):
        if cut is not None and k not in flat and 0.55 * line_h <= merged[k][3] <= 1.6 * line_h:
            dashes[k] = merged[k][1] + cut[2]
            sides[k] = (-1,) if cut[0] == "-D" else (1,)  # the cut glyph's own digit stands on the dash's other side
    for d, mid in dashes.items():
        for step in sides[d]:
            k = d + step
            while 0 <= k < len(merged) and k not in dashes and max(merged[k][2], merged[k][3]) < 0.3 * line_h:
                k += step
            if 0 <= k < len(merged) and k not in flat:
                out.setdefault(k, mid)
    return out


def _merged(stats: NDArray[np.int32], g: Group) -> list[list[int]]:
    """The line's components joined into glyphs, left to right: [x, y, w, h, then component ids] each.

    Components overlapping by more than half the narrower one's width are strokes of one glyph, unless one is a
    speck apart from a dash, above or below it.
    """
    # specks would merge with the glyph they sit over (a dot above a dash is no longer flat)
    keep = [c for c in g.comps if max(stats[c, 2], stats[c, 3]) >= 0.12 * g.height]
    boxes = sorted(([int(v) for v in stats[c, :4]] + [c] for c in keep), key=lambda b: b[0])
    merged: list[list[int]] = []  # x, y, w, h, then component ids
    for x, y, w, h, c in boxes:
        if merged:
            m = merged[-1]
            # strokes of one glyph; not a speck apart from a dash, above or below it (bench seed 808: a speck
            # under a dash made it too tall for one, and 4-1-4 was no label to the classifier)
            bw, bh = (m[2], m[3]) if max(m[2], m[3]) >= max(w, h) else (w, h)
            apart = (
                max(m[1], y) - min(m[1] + m[3], y + h) > 0
                and min(max(m[2], m[3]), max(w, h)) < 0.2 * g.height
                and bh <= 0.3 * g.height
                and bw >= max(1.1 * bh, 0.3 * g.height)  # a dash; not the dots of a colon (項目番号：)
            )
            over = min(m[0] + m[2], x + w) - max(m[0], x)
            if (over > 0.5 * min(m[2], w) and not apart) or _capped(m, (x, y, w, h), over, g.height):
                _join(m, [x, y, w, h, c])
                continue
        merged.append([x, y, w, h, c])
    return _pieces_joined(merged, g.height)


def _pieces_joined(merged: list[list[int]], height: float) -> list[list[int]]:
    """Glyphs with a piece of their own stroke the scan cut off beside them joined in (validation rows seed 86202 #251:
    a 4 broken at 200 dpi black-and-white into its left stroke and its stem was 'XD-D-D', the stem read 1 by every reader,
    and 4-1-1 read 1-1-1, silently).

    A piece is one component 0.3-0.8 of the glyph's height, no wider than half of it nor flat, within its rows (1 px either way) and at most
    0.25 ``height`` (the line's tallest component) apart from it; the glyph at least 0.5 ``height`` tall.
    """
    out: list[list[int]] = []
    for m in merged:
        if out:
            a = out[-1]
            gap = m[0] - (a[0] + a[2])
            for piece, body in ((a, m), (m, a)):
                if (
                    gap <= 0.25 * height
                    and body[3] >= 0.5 * height
                    and 0.3 * body[3] <= piece[3] <= 0.8 * body[3]
                    and piece[2] <= 0.5 * body[3]
                    and piece[2] < 1.1 * piece[3]  # not flat: a dash is no piece
                    and len(piece) == 5  # one stroke: a colon's two dots (項目番号：4-2-3) are no piece
                    and piece[1] >= body[1] - 1
                    and piece[1] + piece[3] <= body[1] + body[3] + 1
                ):
                    _join(a, m)
                    break
            else:
                out.append(m)
            continue
        out.append(m)
    return out


def _capped(a: Sequence[int], b: Sequence[int], over: int, height: float) -> bool:
    """Whether one of two glyphs (x, y, w, h), ``over`` columns in common, is a piece of the other's stroke the scan broke off:
    a flat bar on its top (a 5's or a 7's; validation rows seed 86200: 5-2-1's bar, over 6 of the body's 13 columns,
    was an 'X') or a dot under it (a 1 broken into '!': seed 86201, 4-1-1's dot over 1 of its 7 columns).

    The bar is at most 0.3 ``height`` tall and wider than tall, its bottom from 0.15 ``height`` over the other's top to
    0.15 of the other's height under it (seed 86201: a 5's bar 3 px over its body), over the other's columns; the dot
    at most 0.3 ``height`` either way, within 0.3 ``height`` under the other's bottom and 0.1 ``height`` of its columns
    (seed 86202: a slanting 1's foot, its columns next to the stroke's); the other at least 0.5 ``height`` tall. A dash
    (mid-line) is never so high or low.
    """
    for bit, body in ((a, b), (b, a)):
        if body[3] < 0.5 * height or bit[3] > 0.3 * height or over < -0.1 * height:
            continue
        bottom = bit[1] + bit[3]
        if over > 0 and bit[2] >= 1.1 * bit[3] and body[1] - 0.15 * height <= bottom <= body[1] + 0.15 * body[3]:
            return True
        if bit[2] <= 0.3 * height and 0 <= bit[1] - (body[1] + body[3]) <= 0.3 * height:
            return True
    return False


def _join(m: list[int], o: Sequence[int]) -> None:
    """Glyph ``o`` (x, y, w, h, then component ids) joined into glyph ``m``, in place."""
    x, y, w, h = o[:4]
    nx0, ny0 = min(m[0], x), min(m[1], y)
    m[2], m[3] = max(m[0] + m[2], x + w) - nx0, max(m[1] + m[3], y + h) - ny0
    m[0], m[1] = nx0, ny0
    m.extend(o[4:])


def _digit_line(merged: Sequence[Sequence[int]], height: float) -> tuple[float, float, list[int]] | None:
    """The digits' own line: (height, top, the flat dashes' places), from the glyphs beside a flat dash, else the tall
    ones (項目 and brackets stand taller); None when there are none. ``height``: the line's tallest component's."""
    flat = [k for k, m in enumerate(merged) if m[3] <= 0.3 * height and m[2] >= 1.1 * m[3]]
    # each glyph once: the middle digit of D-D-D, beside two dashes, counted twice made a small 2 the line's height and
    # the 3 before it too wide for a digit (validation rows seed 86200, 3-2-1 unread)
    near = sorted({k for f in flat for k in (f - 1, f + 1) if 0 <= k < len(merged) and k not in flat})
    refs = [merged[k] for k in near]
    tall = refs or [m for m in merged if m[3] >= 0.55 * height]
    if not tall:
        return None
    return float(np.median([m[3] for m in tall])), float(np.median([m[1] for m in tall])), flat


def _stroke_broken(stats: NDArray[np.int32], comps: Sequence[int], line_h: float) -> bool:
    """Whether stacked parts are a broken stroke, not a colon's dots: one of them at least half ``line_h`` tall."""
    return any(int(stats[c, 3]) >= 0.5 * line_h for c in comps)


def _stacked(stats: NDArray[np.int32], comps: Sequence[int], gap: float) -> bool:
    """Whether components sit one above another with a vertical gap of more than ``gap`` pixels."""
    spans = sorted((int(stats[c, 1]), int(stats[c, 1] + stats[c, 3])) for c in comps)
    bottom = spans[0][1]
    for top, end in spans[1:]:
        if top - bottom > gap:
            return True
        bottom = max(bottom, end)
    return False


def digit_reading(
    lab: NDArray[np.int32],
    stats: NDArray[np.int32],
    g: Group,
    classifier: DigitClassifier,
    item_ids: Collection[str],
    document_items: Collection[str],
    erased: NDArray[np.uint8] | None = None,
    settings: LabelSettings = LABEL_SETTINGS,
) -> LineReading | None:
    """The classifier's reading of a line shaped N-N-N (several allowed), or None for any other shape."""
    one = "-".join(["D"] * id_shape(item_ids)[0])
    for split in (False, True):  # a dash written into a digit (4-3-1 with 4- in one stroke): split it off, as a fallback
        found = _glyphs(lab, stats, g, split, erased)
        if found is None:
            return None
        pattern, masks = found
        pattern = re.sub(r" *- *", "-", pattern)
        # whole N-N-N runs only, apart from brackets, prefixes and separators (「」, 項目, ・, /), which may
        # also be missing altogether between two labels ('7-1-2 5-2-1' set close: D-D-DD-D-D); a / or a
        # bracket pair as tall as digits is taken out as a fallback
        for fix in (None, _separators_out, _brackets_out, _prefix_out):
            if fix is not None:
                pattern, masks = fix(pattern, masks, one)
            compact = re.sub(r"[X ]+", "", pattern)
            if _whole_runs(compact, one):
                break
        else:
            continue
        break
    else:
        return None
    cuts = {len(re.sub(r"[X ]+", "", pattern[: m.start()])) for m in re.finditer(r"[X ]+", pattern)}
    if any(c % len(one) for c in cuts):  # something odd inside a run (D-DXD-D): not ours to read
        return None
    runs = [compact[k : k + len(one)] for k in range(0, len(compact), len(one))]
    framed = tuple(t for _, t in masks)
    guesses = classifier.classify([m for m, _ in masks])
    shapes = tuple(_one_or_seven(m, gs, settings) for (m, _), gs in zip(masks, guesses))
    digits = iter(guesses)
    text = " ".join("".join(next(digits).digit if ch == "D" else ch for ch in r) for r in runs)
    pos = [k for k, ch in enumerate(text) if ch.isdigit()]
    alts = tuple(
        text[:p] + gs.runner_up + text[p + 1 :] for gs, p in zip(guesses, pos) if gs.runner_up_probability >= settings.digit_alt_probability
    )
    conf = min(gs.probability for gs in guesses)
    parse = normalise_label(text, item_ids, document_items, settings=settings)
    if parse.status == "read" and conf < settings.digit_min_probability:  # too weak to count as a vote
        parse = LabelParse((), (), "uncertain", parse.ids, f"digit read with probability {conf:.2f}")
    return LineReading("digits", text, conf, alts, parse, tuple(gs.probabilities for gs in guesses), shapes=shapes, framed=framed)


def _one_or_seven(mask: NDArray[np.uint8], guess: DigitGuess, settings: LabelSettings = LABEL_SETTINGS) -> str | None:
    """Whether the glyph is a 1 or a 7 by the shape of the glyph's top stroke (digits.top_stroke_share), when the classifier weighs the two."""
    from pipeline.reading.digits import top_stroke_share

    p = guess.probabilities
    if len(p) < 10 or p[1] + p[7] < 0.2:
        return None
    share = top_stroke_share(mask)
    if share is None:
        return None
    return "1" if share <= settings.one_flag_max else ("7" if share >= settings.seven_bar_min else None)


def _whole_runs(compact: str, one: str) -> bool:
    """Whether ``compact`` is ``one`` (the pattern of one id, D-D-D) repeated, once or more."""
    return bool(compact) and not len(compact) % len(one) and compact == one * (len(compact) // len(one))


_M = TypeVar("_M")  # a digit's mask, or the mask with what else is known of the glyph


def _brackets_out(pattern: str, masks: list[_M], one: str) -> tuple[str, list[_M]]:
    """A digit-sized glyph at each end of whole runs, as 'X' with their masks dropped: a bracket pair.

    『7-5-2』 at 150 dpi comes out DD-D-DD — 『 and 』 are as tall as digits. Only a pair is taken
    (one glyph more at both ends); anything else is left as it was, and stays unread.
    """
    core = pattern.strip("X ")
    if len(core) < 3 or not (core.startswith("D") and core.endswith("D")):
        return pattern, masks
    inner = core[1:-1].strip("X ")
    if inner.startswith("-") or inner.endswith("-") or not _whole_runs(re.sub(r"[X ]+", "", inner), one):
        return pattern, masks
    start = pattern.index(core)
    end = start + len(core) - 1
    out = pattern[:start] + "X" + pattern[start + 1 : end] + "X" + pattern[end + 1 :]
    return out, masks[1:-1]


def _prefix_out(pattern: str, masks: list[_M], one: str) -> tuple[str, list[_M]]:
    """Digit-sized glyphs before a prefix (項目番号：), as 'X' with their masks dropped, when whole runs follow the prefix.

    A 7-pt 項 at 150 dpi can come out as tall and narrow as a digit: 『項目番号：4-2-3』 was DXXXXXD-D-D and no
    label to the classifier. Only glyphs before the first 'X' that touch no dash are taken.
    """
    m = re.match(r"^([D ]+)(X[X ]*)(.*)$", pattern)
    if m is None or "-" in m.group(1) or m.group(3).startswith("-") or not _whole_runs(re.sub(r"[X ]+", "", m.group(3)), one):
        return pattern, masks
    lead = m.group(1).count("D")
    return m.group(1).replace("D", "X") + m.group(2) + m.group(3), masks[lead:]


def _separators_out(pattern: str, masks: list[_M], one: str) -> tuple[str, list[_M]]:
    """A digit-shaped glyph standing between two whole runs, touching no dash, as 'X' with its mask dropped.

    The / of 1-1-1/1-1-2 is as tall and thin as a 1 (D-D-DDD-D-D); a digit there would leave the line
    malformed anyway, so nothing that could be read otherwise is lost.
    """
    out, drop, k_digit = list(pattern), set(), -1
    for k, ch in enumerate(pattern):
        if ch != "D":
            continue
        k_digit += 1
        before = re.sub(r"[X ]+", "", "".join(out[:k]))
        after = pattern[k + 1 :]
        if _whole_runs(before, one) and not after.startswith("-") and after.lstrip("X ").startswith("D") and not before.endswith("-"):
            out[k] = "X"
            drop.add(k_digit)
    return "".join(out), [m for i, m in enumerate(masks) if i not in drop]
