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


def _split_dash(mask: NDArray[np.uint8], line_h: float, top: float) -> tuple[str, NDArray[np.uint8]] | None:
    """A glyph with a dash written into it (4- or -3 in one stroke): ('D-' or '-D', the digit's mask), else None.

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
            return ("D-" if side == "right" else "-D"), digit
    return None


def _glyphs(
    lab: NDArray[np.int32], stats: NDArray[np.int32], g: Group, split: bool = False, erased: NDArray[np.uint8] | None = None
) -> tuple[str, list[tuple[NDArray[np.uint8], bool]]] | None:
    """The line as a pattern of 'D' (digit), '-' (dash), 'X' (anything else) and ' ' (gap), with each digit's mask.

    With ``split``, a digit-sized or odd glyph that carries a dash written into it is read as the two.
    Each mask comes with whether the digit's top touches the ``erased`` frame lines (touches_frame_top).
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
            if min(m[0] + m[2], x + w) - max(m[0], x) > 0.5 * min(m[2], w) and not apart:
                nx0, ny0 = min(m[0], x), min(m[1], y)
                m[2], m[3] = max(m[0] + m[2], x + w) - nx0, max(m[1] + m[3], y + h) - ny0
                m[0], m[1] = nx0, ny0
                m.append(c)
                continue
        merged.append([x, y, w, h, c])
    # the digits' own line: glyphs beside a flat dash, else the tall ones (項目 and brackets stand taller)
    flat = [k for k, m in enumerate(merged) if m[3] <= 0.3 * g.height and m[2] >= 1.1 * m[3]]
    refs = [merged[k] for f in flat for k in (f - 1, f + 1) if 0 <= k < len(merged) and k not in flat]
    tall = refs or [m for m in merged if m[3] >= 0.55 * g.height]
    if not tall:
        return None
    line_h = float(np.median([m[3] for m in tall]))
    top = float(np.median([m[1] for m in tall]))
    beside = {k for f in flat for k in (f - 1, f + 1)} - set(flat)  # a dash's neighbours: digits by their place
    pattern, masks, last_x1 = "", [], None
    for k, m in enumerate(merged):
        x, y, w, h = m[:4]
        if last_x1 is not None and x - last_x1 > 0.9 * line_h:
            pattern += " "
        cy = (y + h / 2.0 - top) / line_h
        # a glyph beside a dash is a digit by its place: it may stand taller or lower than the others, as written
        # digits do (MNIST's 3s and 7s reach below the line: 7-1-3 was X-D-D and no label to the classifier)
        off = 0.45 if k in beside else 0.3
        cut = _split_dash(np.isin(lab[y : y + h, x : x + w], m[4:]).astype(np.uint8), line_h, top - y) if split else None
        if cut is not None and 0.55 * line_h <= h <= (1.25 + off - 0.3) * line_h and abs(cy - 0.5) <= off:
            pattern += cut[0]
            masks.append((cut[1], touches_frame_top(lab, m, erased, line_h)))
        elif h <= 0.45 * line_h and w >= 1.1 * h and w >= 0.2 * line_h and 0.15 <= cy <= 0.9:
            pattern += "-"
        elif len(m) > 5 and _stacked(stats, m[4:], 0.2 * line_h):
            pattern += "X"  # parts one above the other with a gap: a colon (項目番号：), not a digit
        elif max(w, h) < 0.3 * line_h and not (0.15 <= cy <= 0.9):
            pattern += " "  # a speck above or below the digits (scan noise over a 1: 3-˙1-1 was no label to the classifier)
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
            masks.append((np.isin(lab[y : y + h, x : x + w], m[4:]).astype(np.uint8), touches_frame_top(lab, m, erased, line_h)))
        elif max(w, h) < 0.3 * line_h:  # a speck, or a ・ between two labels
            pattern += " "
        else:
            pattern += "X"
        last_x1 = x + w
    return pattern, masks


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
