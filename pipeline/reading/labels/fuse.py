"""One candidate line's readers (Tesseract eng and jpn, the digit classifier) fused or voted into one parse, never by a guess."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray

from pipeline.reading.labels.parse import CONFUSABLE, MISSING, LabelParse, id_shape, normalise_label, runs_digits, swaps
from pipeline.reading.labels.records import LineReading
from pipeline.reading.labels.settings import LABEL_SETTINGS, LabelSettings


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
