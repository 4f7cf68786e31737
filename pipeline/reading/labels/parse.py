"""What a label's text means: the one dash class, the item-id grammar, unify_dashes, and whether a text could hold a label."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pipeline.model.records import LabelStatus
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings

# Every character taken for the dash of an item id (1-1-1): ASCII, Unicode dashes and minus, the
# katakana long vowel and kanji 一 (jpn OCR of a dash), full-width forms, tildes and wave dashes.
DASHES = "-‐‑‒–—―−ー一－ｰ~〜～"
CONFUSABLE = {"1": "7", "7": "1"}  # digit pairs Tesseract swaps on typed labels (bench)
_DASH_BETWEEN = re.compile(rf"(?<=\d)\s*[{re.escape(DASHES)}]+\s*(?=\d)")
_RUN = re.compile(r"\d+(?:-\d+)+")
_STRIP = re.compile(r"項目番号|項目|番号|No\.?|[「」『』【】()\[\]{}:・/、,\s]")


@dataclass(frozen=True, slots=True)
class LabelParse:
    """What a label's text means against the form: ids that take a document, and the rest."""

    ids: tuple[str, ...]  # known item ids that take a document
    unknown: tuple[str, ...]  # read, but not an item id, or an item that takes no document
    status: LabelStatus  # read / uncertain / missing
    candidates: tuple[str, ...] = ()  # for an uncertain read: the document ids it could be
    note: str | None = None  # why it is uncertain, in words


MISSING = LabelParse((), (), "missing")


def id_shape(item_ids: Collection[str]) -> tuple[int, int]:
    """(groups per id, most digits per group) of the form's ids, e.g. (3, 1) for 1-1-1."""
    if not item_ids:
        return 3, 1
    groups = Counter(len(i.split("-")) for i in item_ids).most_common(1)[0][0]
    return groups, max(len(g) for i in item_ids for g in i.split("-"))


def _split_run(run: str, n: int, width: int) -> list[str] | None:
    """'1-1-1' → ['1-1-1']; '3-3-17-5-2' (two ids whose space was lost) → ['3-3-1', '7-5-2']; None if malformed."""
    groups = run.split("-")
    ids: list[list[str]] = []
    cur: list[str] = []
    for k, g in enumerate(groups):
        if len(cur) == n - 1 and len(g) == 2 * width and k + 1 < len(groups):
            ids.append([*cur, g[:width]])
            cur = [g[width:]]
            continue
        if len(g) > width:
            return None
        cur.append(g)
        if len(cur) == n:
            ids.append(cur)
            cur = []
    return None if cur else ["-".join(c) for c in ids]


def _repairs(run: str, n: int, width: int, document_items: Collection[str]) -> set[str]:
    """Document ids reachable by deleting one digit of a malformed run (「→1, |→1 misreads)."""
    out: set[str] = set()
    for k, ch in enumerate(run):
        if ch.isdigit():
            ids = _split_run(run[:k] + run[k + 1 :], n, width)
            if ids and all(i in document_items for i in ids):
                out.update(ids)
    return out


def swaps(item: str) -> set[str]:
    """Ids one confusable digit away (1↔7)."""
    return {item[:k] + CONFUSABLE[ch] + item[k + 1 :] for k, ch in enumerate(item) if ch in CONFUSABLE}


def unify_dashes(raw: str) -> str:
    """NFKC, then every dash-like character between digits → '-', with spaces around it dropped."""
    s = unicodedata.normalize("NFKC", raw)
    return _DASH_BETWEEN.sub("-", s)


def could_hold_label(text: str) -> bool:
    """Whether plain text could hold an item id: two digits joined by dashes of DASHES (after NFKC, spaces allowed).

    The run asks this of a born-digital page's top band before it takes the page's words (boxes for
    every word of a long manual cost ~0.1 s a page). It is what unify_dashes makes a '-' between
    digits, so normalise_label can find a label in no text this turns away.
    """
    return _DASH_BETWEEN.search(unicodedata.normalize("NFKC", text)) is not None


def normalise_label(
    raw: str | None,
    item_ids: Collection[str],
    document_items: Collection[str],
    *,
    confidence: float | None = None,
    alternates: Iterable[str] = (),
    settings: LabelSettings = LABEL_SETTINGS,
) -> LabelParse:
    """Parse what was written at the top right into item ids, without ever guessing.

    Handles full-width digits, every dash, brackets, prefixes (項目, No., 番号), spaces and several
    labels on one line (「1-1-1」「7-2-2」, 1-1-1・1-1-2, 1-1-1/1-1-2). ``confidence`` (0..1) is the
    OCR's; None means the text is exact (a text layer). ``alternates`` are other plausible readings
    of the same ink (runner-up digits); if one names other document ids the read is uncertain.
    ``settings`` holds the confidences that make an OCR read uncertain.

    Returns ``missing`` when nothing label-like is there, ``uncertain`` (with ``candidates``) when
    the read is malformed, unconfident or could name another id, else ``read``. Ids that are not
    items, or items that take no document, are ``unknown`` of a ``read``.
    """
    if not raw or not raw.strip():
        return MISSING
    n, width = id_shape(item_ids)
    s = unify_dashes(raw)
    # runs of dash-joined numbers; one with a long number (a year: 2024-04-01, SEC-2024-01) is text, not a label
    runs = [r for r in _RUN.findall(s) if all(len(g) <= 2 * width for g in r.split("-"))]
    ids: list[str] = []
    candidates: set[str] = set()
    notes: list[str] = []
    for run in runs:
        split = _split_run(run, n, width)
        if split is None:
            notes.append(f"'{run}' is not shaped like an item id")
            candidates |= _repairs(run, n, width, document_items)
        else:
            ids.extend(i for i in split if i not in ids)
    if not runs:
        bare = _STRIP.sub("", s)
        if confidence is None or not (bare.isdigit() and len(bare) == n * width):
            return MISSING
        guess = "-".join(bare[k : k + width] for k in range(0, len(bare), width))
        cands = (guess,) if guess in document_items else ()
        return LabelParse((), (), "uncertain", cands, f"'{raw.strip()}' has no dashes")
    known = tuple(i for i in ids if i in document_items)
    unknown = tuple(i for i in ids if i not in document_items)
    if confidence is not None:
        if confidence < settings.min_confidence:
            notes.append(f"OCR confidence {confidence:.2f}")
        if confidence < settings.sure_confidence:
            for i in ids:
                for alt in sorted(swaps(i)):
                    if alt in document_items and alt not in ids:
                        candidates.add(alt)
                        notes.append(f"{i} could be {alt} (confidence {confidence:.2f})")
    for alt_raw in alternates:
        other = normalise_label(alt_raw, item_ids, document_items, settings=settings)
        if other.status == "read" and set(other.ids) - set(known):  # the runner-up names another document
            candidates |= set(other.ids)
            notes.append(f"could also read '{alt_raw}'")
    if notes:
        candidates |= set(known)
        return LabelParse((), (), "uncertain", tuple(sorted(candidates)), "; ".join(dict.fromkeys(notes)))
    return LabelParse(known, unknown, "read")


def runs_digits(text: str) -> list[str]:
    """The digits of each dash-joined run of ``text`` after unify_dashes: '「3-1-1」' → ['311']."""
    return ["".join(ch for ch in run if ch.isdigit()) for run in _RUN.findall(unify_dashes(text))]
