"""PP-OCR, a reader that errs apart from Tesseract and the digit classifier, checking a line's verdict: vetoing a read,
settling a digit in doubt, or reading a line the others left unread only when it agrees with them."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence

import numpy as np

from pipeline.reading.labels.parse import CONFUSABLE, DASHES, LabelParse, id_shape, normalise_label, runs_digits
from pipeline.reading.labels.records import LineReading
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings

CLOSING = "」』】〕）)]］}｝>＞。.,、，"  # closing brackets and stops PP-OCR may read after a label's last digit
JOINING = "・·･,，、.。:：;；"  # what stands between two labels or for a dash (not '/': PP-OCR reads a handwritten 1 so)
# Letters PP-OCR reads for a handwritten digit's usual shape (bench_handwritten_labels validation rows, seed 86100: 2 read
# 'd' or 'a', 1 read '!' or '/'; seeds 88200 #5, 88204 #72, 88205 #179: 5 read 'S'; with the CNN, seeds 88702-88703: 6
# read '(' four times, 7 read 'フ'): read there, they agree with that digit. Kept to shapes seen; another letter vetoes.
LOOKALIKES = {"0": "oO", "1": "!/|lIi", "2": "dazZ", "5": "Ss", "6": "(", "7": "フ"}


def _plain_ids(r: LineReading, item_ids: Collection[str], document_items: Collection[str], settings: LabelSettings) -> LabelParse:
    """What a reader's text spells, whatever its confidence: read (ids, unknown), or missing / uncertain when malformed."""
    return normalise_label(r.text, item_ids, document_items, settings=settings)


def _spells(
    r: LineReading,
    spelled: tuple[tuple[str, ...], tuple[str, ...]],
    item_ids: Collection[str],
    document_items: Collection[str],
    settings: LabelSettings,
) -> bool:
    """Whether a reader's text spells exactly these (ids, unknown)."""
    p = _plain_ids(r, item_ids, document_items, settings)
    return p.status == "read" and (p.ids, p.unknown) == spelled


def _shape_against(dig: LineReading | None, spelled: Sequence[str]) -> bool:
    """Whether a digit of ``spelled`` is a 1 or 7 the classifier's glyph shape (top stroke) says is the other."""
    if dig is None:
        return False
    digits = [ch for i in spelled for ch in i if ch.isdigit()]
    if len(digits) != len(dig.shapes):
        return bool(dig.shapes) and any(s is not None for s in dig.shapes)  # no alignment: a shape verdict cannot be checked
    return any(s is not None and d in CONFUSABLE and s != d for d, s in zip(digits, dig.shapes))


def _partly_spells(r: LineReading, spelled: tuple[tuple[str, ...], tuple[str, ...]]) -> bool:
    """Whether an OCR reading's dash-separated groups spell one id of one-digit groups but for at most one group it saw no
    digit in ('No.3-2-]' for 3-2-1: Tesseract reads a 1 as ']' or '/')."""
    ids, unknown = spelled
    if len(ids) != 1 or unknown or r.source != "ocr":
        return False
    digits = ids[0].split("-")
    if len(r.slots) != len(digits) or any(len(d) != 1 for d in digits):
        return False
    seen = [(sl, d) for sl, d in zip(r.slots, digits) if sl is not None]
    return len(seen) >= len(digits) - 1 and all(int(np.argmax(sl)) == int(d) for sl, d in seen)


def _places(pp: LineReading) -> list[tuple[str, tuple[float, ...]]]:
    """PP-OCR's characters standing where a label's digits stand: dashes and spaces dropped, and closing brackets at the
    end; each with how likely each digit was there (() when not known)."""
    spelled = pp.spelled or tuple((ch, ()) for ch in unicodedata.normalize("NFKC", pp.text))
    out = [(ch, p) for ch, p in spelled if ch.strip() and not all(c in DASHES or c in JOINING for c in ch)]
    while out and all(c in CLOSING for c in out[-1][0]):
        out.pop()
    return out


def ppocr_vetoes(parse: LabelParse, pp: LineReading, mine: LabelParse, settings: LabelSettings = LABEL_SETTINGS) -> bool:
    """Whether PP-OCR's reading ``pp`` (``mine``: what its text spells) speaks against the read ``parse``.

    PP-OCR's digits all the read's agree, whatever stands between them. Otherwise the read's digits are set against
    PP-OCR's last as many characters (a prefix such as No. before them; dashes, spaces and joiners such as ・ or 、
    dropped: '2-3-17-1-3' is 2-3-1 7-1-3). It speaks against the read where it read another character
    and gave the read's digit less than settings.ppocr_veto_probability there (a 4 read '$' when 4 was unlikely
    to it), unless the character is a letter it reads for that digit's handwritten shape (LOOKALIKES: a 2 read 'd').
    With fewer characters than the read has digits, it speaks
    against the read only when its text spells other ids.
    """
    ours = [ch for i in (*parse.ids, *parse.unknown) for ch in i if ch.isdigit()]
    if [ch for ch in unicodedata.normalize("NFKC", pp.text) if ch.isdigit()] == ours:
        return False  # every digit alike, whatever stands between them ('6-2-2·1-1-2', '2.3-1')
    places = _places(pp)
    if len(places) >= len(ours):
        return any(
            ch != d and ch not in LOOKALIKES.get(d, "") and (p[int(d)] if p else 0.0) < settings.ppocr_veto_probability
            for (ch, p), d in zip(places[-len(ours) :], ours)
        )
    return mine.status == "read" and (mine.ids, mine.unknown) != (parse.ids, parse.unknown)


def overruled_alone(
    parse: LabelParse,
    dig: LineReading | None,
    pp: LineReading,
    ocrs: Sequence[LineReading],
    item_ids: Collection[str],
    document_items: Collection[str],
    settings: LabelSettings = LABEL_SETTINGS,
) -> bool:
    """Whether a read overrules the classifier on a digit (its likeliest is another) without both OCR readers behind it.

    The fusion lets Tesseract outweigh a classifier unsure of a digit; a Tesseract reading that saw only that digit
    ('6-/-') and PP-OCR reading it alike made two silent mislabels (validation rows seeds 86102 #292 and 86103 #123:
    5-1-1 and 7-5-2, the 5 read 6 by both, the classifier 5 at 0.80 and 0.51). Overruling it takes a Tesseract
    reading that spells the whole read and PP-OCR's digits all the same (seeds 86100-86101: 5 such, all right).
    """
    ours = [ch for i in (*parse.ids, *parse.unknown) for ch in i if ch.isdigit()]
    if dig is None or len(dig.per_digit) != len(ours):
        return False
    if all(int(np.argmax(p)) == int(d) for p, d in zip(dig.per_digit, ours)):
        return False
    spelled = (parse.ids, parse.unknown)
    tesseract = any(r.source == "ocr" and _spells(r, spelled, item_ids, document_items, settings) for r in ocrs)
    return not (tesseract and [ch for ch in unicodedata.normalize("NFKC", pp.text) if ch.isdigit()] == ours)


def _digits_of(parse: LabelParse) -> list[str]:
    return [ch for i in (*parse.ids, *parse.unknown) for ch in i if ch.isdigit()]


def overrules_classifier(parse: LabelParse, dig: LineReading, settings: LabelSettings = LABEL_SETTINGS) -> bool:
    """Whether a read PP-OCR witnessed overrules the classifier too far: a digit it held at least settings.overrule_max,
    or more than one digit.

    PP-OCR as a third witness settles one digit the classifier doubted (validation rows seeds 88203-88207: 18 such reads
    right, the classifier's own digit ≤ 0.78). Beyond that the readers disagree: 7-1-1 read 2-1-1 against the
    classifier's 7 at 0.92 and its 7-shaped top (88207 #145), 7-5-1 read 7-6-1 against its 5 at 0.85 (88209 #13),
    4-2-3 7-5-2 read 4-2-3 7-6-2 over two of its digits (0.56, 0.63; 88207 #206), all silently.
    """
    ours = _digits_of(parse)
    if len(ours) != len(dig.per_digit):
        return False
    over = [max(q) for q, d in zip(dig.per_digit, ours) if int(np.argmax(q)) != int(d)]
    return len(over) > 1 or any(q >= settings.overrule_max for q in over)


def weak_digit_unseen(parse: LabelParse, dig: LineReading, pp: LineReading, settings: LabelSettings = LABEL_SETTINGS) -> bool:
    """Whether a read holds a digit the classifier gives less than settings.agree_classifier_floor that PP-OCR did not
    read in its place at least settings.unseen_ppocr_floor likely (the places aligned as ppocr_vetoes aligns them; a
    lookalike letter counts as read).

    Tesseract at 0.3 outweighed the classifier's 0.25 on a 3 and made 3-3-1 3-2-1, PP-OCR '3--1' seeing no digit there
    (validation rows seed 88207 #286, silent); 7-1-2 read 1-1-2, the classifier's 1 at 0.48, PP-OCR's at 0.49 (88209
    #293). The reads of seeds 88203-88207 resting on so weak a classifier digit and right (6) all had PP-OCR reading it
    at >= 0.97.
    """
    ours = _digits_of(parse)
    if len(ours) != len(dig.per_digit):
        return False
    weak = [k for k, (q, d) in enumerate(zip(dig.per_digit, ours)) if q[int(d)] < settings.agree_classifier_floor]
    if not weak:
        return False
    places = _places(pp)
    if len(places) < len(ours):
        return True
    tail = places[-len(ours) :]
    for k in weak:
        ch, seen = tail[k]
        if ch not in (ours[k], *LOOKALIKES.get(ours[k], "")):
            return True
        if (seen[int(ours[k])] if seen else pp.confidence) < settings.unseen_ppocr_floor:
            return True
    return False


def agreed_with_ppocr(
    dig: LineReading,
    pp: LineReading,
    ocrs: Sequence[LineReading],
    item_ids: Collection[str],
    document_items: Collection[str],
    settings: LabelSettings = LABEL_SETTINGS,
) -> LabelParse | None:
    """A line the fusion left unread, read when the classifier and PP-OCR, two readers that err apart, agree digit by digit.

    Every digit the classifier's likeliest is what PP-OCR read in its place (its last characters, as ppocr_vetoes
    aligns them). A 1 or a 7 the classifier gives at least settings.agree_digit_probability and PP-OCR at least
    settings.ppocr_min_confidence; any other digit each gives at least its floor (settings.agree_classifier_floor,
    agree_ppocr_floor) and the two together (_joint) at least settings.agree_joint. The ids they spell all take a
    document, no Tesseract reading spells another document id and no digit touches an erased frame line. The 1-or-7 shape of a top stroke is overruled here:
    MNIST writers' 7s with a short bar measure as 1s. None when they do not agree so.
    """
    n, width = id_shape(item_ids)
    places = _places(pp)
    k = len(dig.per_digit)
    runs = runs_digits(dig.text)
    if width != 1 or not k or len(places) < k or any(len(r) != n for r in runs) or any(dig.framed):
        return None
    best = [int(np.argmax(p)) for p in dig.per_digit]
    shapes = dig.shapes if len(dig.shapes) == k else (None,) * k
    for (ch, seen), d, probs, shape in zip(places[-k:], best, dig.per_digit, shapes):
        sure = seen[d] if seen else pp.confidence  # a digit PP-OCR read: its probability there is its confidence
        if ch != str(d):
            if not _lookalike_agrees(ch, d, probs, shape, settings):
                return None
            continue
        if probs[d] >= settings.agree_sure_classifier and shape in (None, str(d)):
            continue  # the classifier this sure of a digit PP-OCR reads alike: PP-OCR's own certainty adds nothing needed
        if str(d) in CONFUSABLE:  # a 1 or a 7: both readers sure of it (MNIST 7s with a short bar are 1s to both)
            if probs[d] < settings.agree_digit_probability or sure < settings.ppocr_min_confidence:
                return None
        elif probs[d] < settings.agree_classifier_floor or sure < settings.agree_ppocr_floor or _joint(probs, seen, d, sure) < settings.agree_joint:
            return None
    spelled = "".join(map(str, best))
    ids = tuple("-".join(spelled[j : j + n]) for j in range(0, k, n))
    if not all(i in document_items for i in ids):
        return None
    # Tesseract spelling another document id speaks against them, unless it is itself unsure of its words (validation rows
    # seed 88205 #48: 3-1-6 4-2-3, Tesseract '3-1-—64-2-2' at 0.36 against the classifier and PP-OCR's 3 at 0.76 and 1.00)
    if any(r.parse.status == "read" and set(r.parse.ids) - set(ids) and r.confidence >= settings.min_confidence for r in ocrs):
        return None
    return LabelParse(ids, (), "read")


def _lookalike_agrees(ch: str, d: int, probs: Sequence[float], shape: str | None, settings: LabelSettings) -> bool:
    """Whether PP-OCR's letter ``ch`` in digit ``d``'s place agrees with the classifier's ``d`` (``probs``: its 0-9).

    A letter PP-OCR reads for the digit's handwritten shape ('!' for a 1, 'S' for a 5, LOOKALIKES) agrees with a classifier
    sure of the digit (settings.digit_sure_probability), or at least settings.lookalike_classifier_min sure of it with its
    runner-up at most settings.lookalike_rival_max and no digit the letter also looks like; a 1 so only when its top stroke
    is not a 7's bar, a 7 only when it is not a 1's flag.
    """
    if ch not in LOOKALIKES.get(str(d), "") or (d == 1 and shape == "7") or (d == 7 and shape == "1"):
        return False
    if probs[d] >= settings.digit_sure_probability:
        return True
    rival = max((k for k in range(10) if k != d), key=lambda k: probs[k])
    return (
        probs[d] >= settings.lookalike_classifier_min
        and probs[rival] <= settings.lookalike_rival_max
        and ch not in LOOKALIKES.get(str(rival), "")
    )


def _joint(probs: Sequence[float], seen: Sequence[float], d: int, sure: float) -> float:
    """How likely digit ``d`` is to the classifier (``probs``) and PP-OCR (``seen``: its digit probabilities there, or
    () with ``sure`` its confidence in ``d``) taken together as independent witnesses (each floored at 1e-3)."""
    a = np.maximum(np.asarray(probs, np.float64), 1e-3)
    if len(seen) == 10:
        b = np.maximum(np.asarray(seen, np.float64), 1e-3)
    else:
        b = np.full(10, max(1.0 - sure, 1e-3) / 9.0)
        b[d] = sure
    joint = a * b
    return float(joint[d] / joint.sum())


def unknown_doubted(
    parse: LabelParse,
    pp: LineReading | None,
    ocrs: Sequence[LineReading],
    item_ids: Collection[str],
    document_items: Collection[str],
    settings: LabelSettings = LABEL_SETTINGS,
) -> LabelParse:
    """A scanned line read as an id that takes no document, made uncertain unless Tesseract spells it surely and PP-OCR
    reads the same digits (or is not asked); the candidates are the document ids one digit away from it.

    Handwriting misread by one digit names no document far oftener than an applicant writes a wrong id, and such a
    read took the page from its document (its own then missing): 4-2-3 read 4-9-3 by the classifier (0.90, its 3 at
    0.57) and PP-OCR, Tesseract '-2-3' (independent tuning set seed 86500-04, A13); 3-1-6 read 3-1-0 and 2-1-5 read
    2-1-6 (validation rows seeds 88203 #106, 88204 #117); 7-2-2 read 7-2-8 by Tesseract alone at 0.91, PP-OCR '7-2-2'
    (its 8 there 0.12, no veto; 88204 #88); 6-2-2 read 6-1-9 by Tesseract alone at 0.92, PP-OCR '6-.-2' (88210 #168).
    A typed 9-1-1 Tesseract reads surely, PP-OCR alike or not asked, stays unknown.
    """
    if parse.status != "read" or not parse.unknown:
        return parse
    spelled = (parse.ids, parse.unknown)
    sure = any(r.source == "ocr" and r.confidence >= settings.sure_confidence and _spells(r, spelled, item_ids, document_items, settings) for r in ocrs)
    if sure and (pp is None or [ch for ch in unicodedata.normalize("NFKC", pp.text) if ch.isdigit()] == _digits_of(parse)):
        return parse
    near = {i for u in parse.unknown for i in document_items if len(i) == len(u) and sum(a != b for a, b in zip(i, u)) == 1}
    note = f"{' '.join(parse.unknown)} names no document item, and no reader spells it surely" + (
        f"; could be {', '.join(sorted(near))}" if near else ""
    )
    return LabelParse((), (), "uncertain", tuple(sorted(near | set(parse.ids))), note)


def with_ppocr(
    parse: LabelParse,
    chosen: LineReading | None,
    pp: LineReading,
    dig: LineReading | None,
    ocrs: Sequence[LineReading],
    item_ids: Collection[str],
    document_items: Collection[str],
    settings: LabelSettings = LABEL_SETTINGS,
) -> tuple[LabelParse, LineReading | None]:
    """A line's verdict (from Tesseract and the classifier) checked by PP-OCR, a reader that errs apart from them.

    A read stays a read when PP-OCR spells the same ids or spells nothing label-like; PP-OCR spelling
    other ids makes it uncertain with both. An unread line becomes a read only when PP-OCR, sure of its
    digits (≥ settings.ppocr_min_confidence), spells the same ids as the classifier (its every digit
    ≥ settings.digit_min_probability) or as a Tesseract reading (at ≥ settings.ppocr_partial_confidence: one whose
    groups spell it but for one it saw no digit in), no reader sure of itself spells another
    document id, and no glyph is shaped against a 1 or 7 it spells. PP-OCR alone naming a document id
    where the others saw nothing makes the line uncertain, never a read.
    """
    mine = _plain_ids(pp, item_ids, document_items, settings)
    if parse.status == "read":
        if not ppocr_vetoes(parse, pp, mine, settings):
            return parse, chosen
        near = {i for i in mine.candidates if i in document_items}
        cands = tuple(sorted(({*parse.ids, *mine.ids} | near) & set(document_items)))
        note = f"readers disagree: '{chosen.text if chosen else ''}' / PP-OCR '{pp.text}'"
        return LabelParse((), (), "uncertain", cands, note), chosen
    if mine.status != "read" or not mine.ids:
        return parse, chosen
    spelled = (mine.ids, mine.unknown)
    others = [r for r in (*ocrs, *([dig] if dig is not None else [])) if r.source != "ppocr"]
    backers = [
        r
        for r in others
        if _spells(r, spelled, item_ids, document_items, settings)
        and (r.source != "digits" or r.confidence >= settings.digit_min_probability)
    ]
    if pp.confidence >= settings.ppocr_partial_confidence:  # PP-OCR very sure: Tesseract's groups may back it, one unread
        backers += [r for r in others if r not in backers and _partly_spells(r, spelled)]
    against = [r for r in others if r.parse.status == "read" and (r.parse.ids, r.parse.unknown) != spelled and r.parse.ids]
    if pp.confidence >= settings.ppocr_min_confidence and backers and not against and not _shape_against(dig, mine.ids + mine.unknown):
        return LabelParse(mine.ids, mine.unknown, "read"), LineReading(
            "ppocr", pp.text, min(pp.confidence, *(r.confidence for r in backers)), (), mine
        )
    cands = tuple(sorted({*parse.candidates, *mine.ids}))
    note = "; ".join(n for n in (parse.note, f"PP-OCR read '{pp.text}' at {pp.confidence:.2f}") if n)
    return LabelParse((), (), "uncertain", cands, note), chosen or pp


def _tesseract_places(r: LineReading, k: int) -> list[str] | None:
    """What a Tesseract reading read in each of ``k`` digits' places: its dash-separated groups when it has ``k`` of them
    (the closing brackets after the last dropped; '-[-2' is '', '[', '2'), else its characters other than dashes and
    spaces when there are ``k`` ('77-3' is 7, 7, 3); None when neither lines up."""
    text = unicodedata.normalize("NFKC", r.text).strip().rstrip(CLOSING)
    groups = [g.strip() for g in text.translate({ord(c): "-" for c in DASHES}).split("-")]
    if len(groups) == k:
        return groups
    chars = [ch for ch in text if ch not in DASHES and not ch.isspace()]
    return chars if len(chars) == k else None


def tie_unsettled(
    parse: LabelParse,
    dig: LineReading,
    ocrs: Sequence[LineReading],
    settings: LabelSettings = LABEL_SETTINGS,
) -> bool:
    """Whether a read holds a digit the classifier reads two ways (its two likeliest digits each at least
    settings.tie_probability) that no Tesseract reading reads in its place: one spelling the read's digits, or one at least
    settings.min_confidence sure with the digit in its place (_tesseract_places); or one it holds less firmly (its
    runner-up at least settings.tie_contradicted_probability) that a Tesseract reading reads as another digit in its place.

    PP-OCR is sure of nearly every digit it reads, right or wrong, so between two digits the classifier holds alike it is
    no judge on its own: 7-5-1 with a 5 closed like a 6 (classifier 6 at 0.51, 5 at 0.47) read 7-6-1 by PP-OCR at 1.00,
    Tesseract '7-8]' (validation rows seed 88700 #82, silent); the same 5 at another size, 6 at 0.69 / 5 at 0.31, Tesseract
    '7-8-2' at 0.36 and 'ー6ー' at 0.32 (88705 #276, silent). A 2 at 0.53 / 7 at 0.31 that Tesseract saw no digit in
    ('7—--2', PP-OCR '7-2-2') is read (independent tuning set seed 87400-05, att_14: right).
    """
    ours = _digits_of(parse)
    k = len(dig.per_digit)
    if len(ours) != k:
        return False
    placed = [(r, p) for r in ocrs if r.source == "ocr" and (p := _tesseract_places(r, k))]
    witness = [p for r, p in placed if r.confidence >= settings.min_confidence]
    witness += [ours for r in ocrs if r.source == "ocr" and [ch for ch in unicodedata.normalize("NFKC", r.text) if ch.isdigit()] == ours]
    for q, probs in enumerate(dig.per_digit):
        second = sorted(probs)[-2]
        if second >= settings.tie_probability and not any(p[q] == ours[q] for p in witness):
            return True
        if second >= settings.tie_contradicted_probability and any(p[q].isdigit() and p[q] != ours[q] for _, p in placed):
            return True
    return False
