"""One candidate line's readers (Tesseract eng and jpn, the digit classifier) fused or voted into one parse, never by a guess."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray

from pipeline.reading.labels.parse import CONFUSABLE, DASHES, MISSING, LabelParse, id_shape, normalise_label, runs_digits, swaps
from pipeline.reading.labels.records import LineReading
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings

CLOSING = "」』】〕）)]］}｝>＞。.,、，"  # closing brackets and stops PP-OCR may read after a label's last digit
JOINING = "・·･,，、.。:：;；"  # what stands between two labels or for a dash (not '/': PP-OCR reads a handwritten 1 so)
# Letters PP-OCR reads for a handwritten digit's usual shape (bench_handwritten_labels validation rows, seed 86100: 2 read
# 'd' or 'a', 1 read '!' or '/'; seeds 88200 #5, 88204 #72, 88205 #179: 5 read 'S'): read there, they agree with that
# digit. Kept to shapes seen; another letter vetoes.
LOOKALIKES = {"0": "oO", "1": "!/|lIi", "2": "dazZ", "5": "Ss"}


def _aligned(
    dig: LineReading, ocrs: Sequence[LineReading], partial: bool
) -> tuple[list[LineReading], list[tuple[NDArray[np.float64], NDArray[np.bool_]]]]:
    """The OCR readings that witness the classifier's digits, each as (likelihoods per digit, whether it saw a digit there).

    A reading with exactly the classifier's digits witnesses all of them; with ``partial`` (one run of
    one-digit groups), one with as many dash-separated groups, some without a digit (3-/-1), witnesses
    the digits it saw and is silent (flat likelihoods) on the rest.
    """
    k = len(dig.per_digit)
    used: list[LineReading] = []
    witness: list[tuple[NDArray[np.float64], NDArray[np.bool_]]] = []
    for r in ocrs:
        if len(r.per_digit) == k and sum(map(len, runs_digits(r.text))) == k:
            used.append(r)
            witness.append((np.array(r.per_digit, dtype=np.float64), np.ones(k, bool)))
        elif partial and len(r.slots) == k and any(sl is not None for sl in r.slots):
            used.append(r)
            flat = (0.1,) * 10
            witness.append((np.array([sl or flat for sl in r.slots], dtype=np.float64), np.array([sl is not None for sl in r.slots])))
    return used, witness


def _shape_overrules(dig: LineReading, witness: Sequence[tuple[NDArray[np.float64], NDArray[np.bool_]]]) -> NDArray[np.bool_]:
    """Per digit: whether the OCR's 1-or-7 is set aside, because the classifier and the top stroke's shape agree on the other.

    Tesseract reads a handwritten 1 with a flag as 7 (bench seeds 7 and 202: 48 of 597 handwritten 1s, while the v3
    classifier read 592 of them 1 and their top strokes all measured ≤ 0.29 of the height, every 7's ≥ 0.32). Counted at its own
    confidence, that 7 outweighed the classifier's 1 and the read ended uncertain. Only where the two shape-aware
    judges agree (the shape clearly 1 or clearly 7, the classifier's best the same) does the OCR's word on that pair
    go; the digit then rests on the classifier alone, like a digit no OCR reader saw.
    """
    out = np.zeros(len(dig.per_digit), bool)
    for k, (probs, shape) in enumerate(zip(dig.per_digit, dig.shapes)):
        if shape not in CONFUSABLE or int(np.argmax(probs)) != int(shape):
            continue
        other = int(CONFUSABLE[shape])
        out[k] = any(saw[k] and int(np.argmax(w[k])) == other for w, saw in witness)
    return out


def _posterior(
    dig: LineReading, ocrs: Sequence[LineReading], partial: bool, apart: Sequence[LineReading] = ()
) -> tuple[NDArray[np.float64], list[LineReading], NDArray[np.bool_], NDArray[np.bool_]]:
    """Per digit, how likely each of 0–9 is after every witness; with the OCR readings used, the digits an OCR reader
    saw, and the digits whose 1-or-7 the OCR was overruled on (_shape_overrules). ``apart``: readers that err apart
    from Tesseract (PP-OCR), each a witness of its own when it read exactly the classifier's number of digits."""
    post = np.maximum(np.array(dig.per_digit, dtype=np.float64), 1e-3)
    used, witness = _aligned(dig, ocrs, partial)
    own_used, own = _aligned(dig, apart, False)
    seen = np.zeros(len(dig.per_digit), bool)
    overruled = _shape_overrules(dig, witness + own)
    for w, _ in witness + own:  # where the shape and the classifier agree against a reader, it says only "1 or 7"
        w[overruled, 1] = w[overruled, 7] = np.maximum(w[overruled, 1], w[overruled, 7])
    if used:  # eng and jpn err together on handwriting (a flagged 1 is 7 to both): one witness, not two
        post *= np.mean([w for w, _ in witness], axis=0)
        seen = np.any([s for _, s in witness], axis=0) & ~overruled
    for w, saw in own:
        post *= w
        seen |= saw & ~overruled
    post /= post.sum(axis=1, keepdims=True)
    return post, used + own_used, seen, overruled


def _swapped(best: str, q: int) -> str:
    """The spelling ``best`` with its q-th digit turned into its confusable (1↔7)."""
    swapped = best.split("-")
    swapped[q] = CONFUSABLE[swapped[q]]
    return "-".join(swapped)


def _rivals(
    best: str,
    p: NDArray[np.float64],
    dig: LineReading,
    base: int,
    width: int,
    shaped: Sequence[str],
    item_ids: Collection[str],
    document_items: Collection[str],
    settings: LabelSettings,
) -> set[str]:
    """Other document ids the run's likelihoods ``p`` (its first digit at ``base``) keep in play beside ``best``."""
    n = len(p)
    rivals = {i for i in shaped if i != best and float(np.prod([p[q][int(i[2 * q])] for q in range(n)])) >= settings.fused_rival}
    if best not in document_items and width == 1:  # 7-1-1 or 1-1-1? a doubtful 1/7 keeps both ids in play
        # … and so does any 1/7 of a spelling that is no item at all: a handwritten 1 with a long flag is a 7
        # to every reader (3-3-1 read 3-3-7, both sure), and a label naming no item is rarer than that slip
        for q, d in enumerate(best.split("-")):
            if d in CONFUSABLE and (best not in item_ids or dig.per_digit[base + q][int(d)] < settings.digit_sure_probability):
                if _swapped(best, q) in document_items:
                    rivals.add(_swapped(best, q))
    return rivals


def _doubts(
    best: str, base: int, n: int, dig: LineReading, overruled: NDArray[np.bool_], document_items: Collection[str], settings: LabelSettings
) -> tuple[set[str], list[str], bool]:
    """What speaks against single 1s and 7s of the run's best spelling (its first digit at ``base``).

    Returns the document ids the other reading of those digits would make, the notes saying why,
    and whether any digit is in doubt (the run is then no read).
    """
    rivals: set[str] = set()
    notes: list[str] = []
    digits = best.split("-")
    # a digit read 1 or 7 against the shape of its top stroke (a flagged 1 is a 7 to every reader): not a read
    shapes = dig.shapes[base : base + n]
    against = [q for q, d in enumerate(digits) if d in CONFUSABLE and q < len(shapes) and shapes[q] not in (None, d)]
    for q in against:
        rivals |= {_swapped(best, q)} & set(document_items)
    if against:
        notes.append(f"{best}: digit {against[0] + 1} is shaped like {CONFUSABLE[digits[against[0]]]}")
    # a 1/7 the OCR was overruled on rests on the classifier: its other reading must be unlikely, whatever id it makes
    shaky = [
        q
        for q, d in enumerate(digits)
        if overruled[base + q] and d in CONFUSABLE and dig.per_digit[base + q][int(CONFUSABLE[d])] >= settings.fused_rival
    ]
    for q in shaky:
        rivals |= {_swapped(best, q)} & set(document_items)
        notes.append(f"{best}: digit {q + 1} could be {CONFUSABLE[digits[q]]}")
    # a digit whose top touches an erased frame line may be a 7 whose bar went with the line: never a read; a 7 there
    # only with its bar seen (shaped like a 7). What is left of a 7 with a cross stroke reads 4 to the classifier
    # trained on MNIST (test_a_seven_whose_bar_runs_into_the_frame_is_never_read_as_a_one), so not only a 1 is in doubt.
    framed = dig.framed[base : base + n]
    hidden = [q for q, d in enumerate(digits) if q < len(framed) and framed[q] and (d != "7" or q >= len(shapes) or shapes[q] != "7")]
    for q in hidden:
        other = CONFUSABLE[digits[q]] if digits[q] == "7" else "7"
        rivals |= {"-".join([*digits[:q], other, *digits[q + 1 :]])} & set(document_items)
        notes.append(f"{best}: digit {q + 1} touches the frame, could be {other}")
    return rivals, notes, bool(against or shaky or hidden)


def fuse_readings(
    dig: LineReading,
    ocrs: Sequence[LineReading],
    item_ids: Collection[str],
    document_items: Collection[str],
    settings: LabelSettings = LABEL_SETTINGS,
    apart: Sequence[LineReading] = (),
) -> tuple[LabelParse, float, bool]:
    """Combine the classifier's per-digit probabilities with every OCR reading of the same digits (``apart``: PP-OCR's, a witness of its own).

    Readers are taken as independent witnesses of each digit (an OCR digit read with confidence c
    counts c for that digit and (1-c)/9 for each other), so one sure reader outweighs a doubtful one
    and two agreeing readers outweigh a third. A run becomes an id only if its most likely spelling
    has probability ≥ settings.fused_accept and no other document id reaches settings.fused_rival;
    otherwise the run is uncertain with those ids as candidates. Returns (parse, lowest run
    probability, OCR used).
    """
    n, width = id_shape(item_ids)
    runs = runs_digits(dig.text)
    post, used, seen, overruled = _posterior(dig, ocrs, len(runs) == 1 and width == 1, apart)
    accept = settings.fused_accept if used else settings.digit_sure_probability
    own = runs_digits(dig.text)
    shaped = [i for i in document_items if len(i.split("-")) == n and all(len(g) == 1 for g in i.split("-"))]
    ids: list[str] = []
    unknown: list[str] = []
    cands: set[str] = set()
    notes: list[str] = []
    lowest = 1.0
    for j in range(len(runs)):
        base = j * n
        p = post[base : base + n]
        best = "-".join(str(int(np.argmax(p[q]))) for q in range(n))
        p_best = float(np.prod(p.max(axis=1)))
        lowest = min(lowest, p_best)
        rivals = _rivals(best, p, dig, base, width, shaped, item_ids, document_items, settings)
        # an id that takes no document needs the classifier's own reading too: OCR alone turning a 1 into 7
        # (2-1-1 → 2-7-1) must not pass as a wrong label
        lone_unknown = best not in document_items and best.replace("-", "") != own[j]
        # digits no OCR reader saw (3-/-1) rest on the classifier alone
        unseen = [base + q for q in range(n) if used and not seen[base + q]]
        alone = float(np.prod([max(dig.per_digit[k]) for k in unseen])) if unseen else 1.0
        doubted_ids, doubts, doubted = _doubts(best, base, n, dig, overruled, document_items, settings)
        rivals |= doubted_ids
        notes += doubts
        if width == 1 and p_best >= accept and alone >= settings.digit_unseen_probability and not (rivals or lone_unknown or doubted):
            (ids if best in document_items else unknown).append(best)
        else:
            near = {i for i in shaped if i.replace("-", "") == own[j]} | {a for a in swaps(best) if a in document_items}
            cands |= rivals | near | ({best} & set(document_items))
            notes.append(f"{best} at probability {p_best:.2f}" + (f", or {', '.join(sorted(rivals))}" if rivals else ""))
    for r in ocrs:  # a reader that could not be aligned digit by digit may still name another document
        if r not in used and r.parse.status == "read" and set(r.parse.ids) - set(ids):
            cands |= set(r.parse.ids) | set(ids)
            notes.append(f"OCR read '{r.text}'")
    if notes or not runs:
        return LabelParse((), (), "uncertain", tuple(sorted(cands)), "; ".join(notes) or "no digits"), lowest, bool(used)
    return LabelParse(tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(unknown)), "read"), lowest, bool(used)


def _sure(r: LineReading, item_ids: Collection[str], document_items: Collection[str], settings: LabelSettings) -> LabelParse:
    """A lone reader's parse judged on its own confidence and runner-ups (uncertain unless it is sure)."""
    if r.source == "digits":
        parse = normalise_label(r.text, item_ids, document_items, alternates=r.alternates, settings=settings)
        if parse.status == "read" and r.confidence < settings.digit_sure_probability:
            return LabelParse((), (), "uncertain", parse.ids, f"handwritten digit read with probability {r.confidence:.2f}")
        return parse
    return normalise_label(r.text, item_ids, document_items, confidence=r.confidence, alternates=r.alternates, settings=settings)


def vote_readings(
    readings: Sequence[LineReading], item_ids: Collection[str], document_items: Collection[str], settings: LabelSettings = LABEL_SETTINGS
) -> tuple[LabelParse, LineReading | None]:
    """Decide a line from its readers (Tesseract eng, jpn, the digit classifier), never by a guess.

    Two readers agreeing make a read, unless another reader names a different document id. A lone
    reader naming a document id makes a read only if it is sure of itself and the others name none
    (Tesseract turns a handwritten 1 into 7 or 4: 3-1-4 against the classifier's sure 3-1-1).
    Readers naming different document ids, or split without a sure reader, leave it uncertain.
    """
    reads = [r for r in readings if r.parse.status == "read"]
    pool = {i for r in readings for i in (*r.parse.ids, *r.parse.candidates)}
    support: dict[tuple[tuple[str, ...], tuple[str, ...]], list[LineReading]] = {}
    for r in reads:
        support.setdefault((r.parse.ids, r.parse.unknown), []).append(r)

    def unsure(note: str, parse: LabelParse | None = None) -> tuple[LabelParse, LineReading | None]:
        cands = pool | set(parse.candidates if parse else ())
        first = reads[0] if reads else (readings[0] if readings else None)
        return LabelParse((), (), "uncertain", tuple(sorted(cands)), note), first

    if not support:
        unclear = [r for r in readings if r.parse.status == "uncertain"]
        return unsure("; ".join(r.parse.note or "" for r in unclear)) if unclear else (MISSING, None)
    disagree = "readers disagree: " + " / ".join(dict.fromkeys(r.text for r in reads))
    doc_keys = [k for k in support if k[0]]
    if len(doc_keys) > 1:
        return unsure(disagree)
    best = max(support, key=lambda k: (len(support[k]), bool(k[0])))
    votes, chosen = len(support[best]), support[best][0]
    rivals = [k for k in support if k != best]
    if votes >= 2:
        if any(len(support[k]) >= 2 or k[0] for k in rivals):
            return unsure(disagree)
        surest = max(r.confidence for r in support[best])
        slips = {a for i in (*best[0], *best[1]) for a in swaps(i) if a in document_items} - set(best[0])
        if slips and surest < settings.sure_confidence:  # two unsure readers can share a 1↔7 slip; other agreement stands
            return unsure(
                f"'{chosen.text}' agreed, but at confidence {surest:.2f}", LabelParse((), (), "uncertain", tuple(slips | set(best[0])))
            )
        if best[1] and any(r.source == "digits" for r in reads):
            # agreeing on an id that takes no document, when a runner-up digit or a 1↔7 swap would name one
            # that does, is the classic handwriting slip (6-2-1 read 6-2-7): not a verdict
            near = {
                a for r in readings for alt in r.alternates for a in normalise_label(alt, item_ids, document_items, settings=settings).ids
            }
            near |= {a for i in best[1] for a in swaps(i) if a in document_items}
            if near - set(best[0]):
                return unsure(f"'{chosen.text}' names no document item, but could be {', '.join(sorted(near))}")
        return chosen.parse, chosen
    if rivals and not best[0]:
        return unsure(disagree)
    parse = _sure(chosen, item_ids, document_items, settings)
    if parse.status != "read":
        return unsure(parse.note or disagree, parse)
    return parse, chosen


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
    read in its place at least settings.agree_ppocr_floor likely (the places aligned as ppocr_vetoes aligns them; a
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
        if (seen[int(ours[k])] if seen else pp.confidence) < settings.agree_ppocr_floor:
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
            # a letter PP-OCR reads for the digit's handwritten shape ('!' for a 1, 'S' for a 5) agrees only with a classifier
            # sure of the digit on its own, and a 1 so only when its top stroke is not a 7's bar
            if ch not in LOOKALIKES.get(str(d), "") or probs[d] < settings.digit_sure_probability or (d == 1 and shape == "7"):
                return None
            continue
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
