"""Detection defaults for labels: the label region, reader confidences, fusion bounds and glyph shapes, with units and provenance.

Every bound was measured with bench/bench_labels.py on generated stacks (typed and handwritten
labels, born-digital and scanned at 150–300 dpi), placing it where the silent mislabels stay at
none; the note by each field says what the bench showed. Re-measure before moving one.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.model.records import BBox


@dataclass(frozen=True, slots=True)
class LabelSettings:
    """Finding and reading the label at a non-form page's top right (右肩), and trusting what was read."""

    # --- where a label is looked for ---
    region_right: float = 0.45  # share of the page width: the label region is its right 45 % …
    region_top: float = 0.15  # … share of the page height: by its top 15 % (labels sat 18–60 pt from the top edge)

    # --- Tesseract's reading (confidences 0..1, per symbol) ---
    min_confidence: float = 0.55  # the weakest word below this → uncertain
    sure_confidence: float = 0.80  # below this, a 1↔7 swap that gives another document id → uncertain
    alt_symbol_confidence: float = 0.15  # a runner-up digit at least this likely is a real alternative
    # An OCR digit counts at most this much in the fusion (Tesseract is sure of wrong handwriting).
    ocr_digit_trust: float = 0.85

    # --- the digit classifier's reading (probabilities 0..1, per digit) ---
    digit_min_probability: float = 0.60  # a digit less likely than this is not a reading to count
    digit_sure_probability: float = 0.90  # classifier alone, against Tesseract: every digit at least this likely
    digit_unseen_probability: float = 0.80  # digits no OCR reader saw, when OCR saw the rest of the label
    digit_alt_probability: float = 0.12  # a runner-up at least this likely is a real alternative

    # --- fusing the classifier with Tesseract (probability of a label's spelling, 0..1) ---
    # Needed for a read, with OCR agreeing (bench: 0.6–0.8 gave no silent mislabel).
    fused_accept: float = 0.60
    fused_rival: float = 0.10  # another document id at least this likely makes the read uncertain
    fused_skip: float = 0.97  # fused this sure after eng: jpn is not asked (PP-OCR still is: scanned._checked)

    # --- PP-OCR (tools/ppocr.py), the second reader of a line the others are not sure of (per-character probability, 0..1) ---
    # Its read counts as a vote, or as a witness in the fusion, only when its least sure digit or dash is at least this
    # likely. Set equal to sure_confidence, not tuned: bench_handwritten_labels.py validation rows (MNIST positions
    # 300-349), seeds 86000 and 86001, 600 pages: right 90.3 / 90.0 %, 1 silent (a 2 broken by the scan, read 4 by
    # Tesseract and the classifier, PP-OCR not asked at fused ≥ fused_skip).
    ppocr_min_confidence: float = 0.80
    # At least this sure, PP-OCR is backed by a Tesseract reading that spells its id but for one group with no digit
    # ('No.3-2-]'): bench_labels seed 86002 typed scans, 1 of 2 uncertain labels; not tuned.
    ppocr_partial_confidence: float = 0.95
    # A read (Tesseract and the classifier agreeing, however sure) is uncertain when PP-OCR read another character in
    # a digit's place and gave that digit less than this (ppocr_check.ppocr_vetoes). bench_handwritten_labels validation rows,
    # seeds 86100-86101 (600 pages, every read shown to PP-OCR): the 2 wrong reads (7-1-3 and 7-1-2 read 4-…, PP-OCR '$'
    # and '1' there, 4 at 0.017 and 0.010) are vetoed from 0.02 up; right reads vetoed: 1 at 0.02, 2 at 0.05-0.1, 6 at 0.2.
    ppocr_veto_probability: float = 0.05
    # A line the fusion left unread is read when the classifier's likeliest digits, each at least this likely, are what
    # PP-OCR read (each ≥ ppocr_min_confidence): ppocr_check.agreed_with_ppocr. Validation rows, seeds 86100-86102: the
    # classifier and PP-OCR agreed on 3 wrong labels (7s read 1), the classifier's digits there ≤ 0.64 (0.36, 0.56, 0.64).
    # Lines this rule reads (900 pages): 0.8 → 35 right, 0.7 → 46, 0.6 → 53, none wrong (the 0.64 one had Tesseract
    # reading another id); 0.7 keeps a margin over 0.64. Seeds 86100-86103 replayed, 0.8 → 0.7: right +2, silent +0.
    agree_digit_probability: float = 0.70
    # … a 1 or a 7 so (a 7 with a short bar is a 1 to both); any other digit when the classifier gives it at least
    # agree_classifier_floor, PP-OCR at least agree_ppocr_floor and both together (ppocr_check._joint) at least agree_joint.
    # bench_handwritten_labels validation rows seeds 88203-88205 (900 pages, tuned there): of 779 lines the two read
    # alike, 6 wrong: two 7s read 1 (1-5-1 at 0.69 / 0.78, 1-1-2 at 0.75 / 0.40, caught by the 1-or-7 bounds), an MNIST 5
    # that is a 6 to the eye twice (read already, joint 1.0), 2-1-6 and 3-1-0 (ids that take no document:
    # ppocr_check.unknown_doubted). The 9 right lines left uncertain had joint 0.979-0.999, classifier >= 0.57, PP-OCR >= 0.62.
    agree_classifier_floor: float = 0.50
    # (0.60 with the SVC; with the CNN, validation rows seeds 88700-88705 replayed: 0.50 read 5 more lines, PP-OCR's digit
    # at 0.51-0.59 and the joint >= 0.97, all right; 0.40 read none more)
    agree_ppocr_floor: float = 0.50
    agree_joint: float = 0.97
    # … and a digit the classifier holds at least this (its top stroke not against it) only needs PP-OCR to read it
    # alike, however unsure PP-OCR is of it: the CNN's digits at >= 0.9 were 0 wrong of 1,994 (validation rows seeds
    # 88702-88703); PP-OCR's per-character probability was the only bar to 6-2-2 (its last 2: CNN 0.99, PP-OCR 0.51)
    # and 1-1-1 (CNN 1.00, PP-OCR 0.43), seeds 88701 #8, 88700 #69.
    agree_sure_classifier: float = 0.90
    # A letter PP-OCR reads for a digit's handwritten shape (ppocr_check.LOOKALIKES: '(' for a 6, '!' for a 1) agrees with the
    # classifier's digit when the classifier gives it digit_sure_probability, or at least lookalike_classifier_min with
    # its runner-up at most lookalike_rival_max (ppocr_check._lookalike_agrees). The CNN's digits are calibrated (its
    # temperature): validation rows seeds 88702-88703, of 2,058 digits, 0 wrong at >= 0.9, 1 of 29 at 0.8-0.9, 2 of 17
    # at 0.7-0.8; the lines left uncertain with a lookalike there had the digit at 0.72-0.84, the runner-up <= 0.16.
    lookalike_classifier_min: float = 0.70
    lookalike_rival_max: float = 0.20
    # A read resting on a digit the classifier gives less than agree_classifier_floor needs PP-OCR to read that digit
    # in its place at least this likely (ppocr_check.weak_digit_unseen; validation rows seeds 88203-88207, see there).
    unseen_ppocr_floor: float = 0.60
    # A digit the classifier holds two ways, its two likeliest each at least tie_probability, is read only when a
    # Tesseract reading (at least min_confidence, or spelling the read's digits) reads it so in its place; one whose
    # runner-up is at least tie_contradicted_probability, not when a Tesseract reading reads another digit there
    # (ppocr_check.tie_unsettled): PP-OCR gives 1.00 to its guess there. Validation rows seeds 88700-88705 (CNN): 2 such
    # reads wrong, one MNIST 5 closed like a 6 (88700 #82, 6 at 0.51 / 5 at 0.47, Tesseract '7-8]'; 88705 #276, 6 at
    # 0.69 / 5 at 0.31, Tesseract '7-8-2'); 0.30 for both left a right 2 at 0.53 / 7 at 0.31 unread (independent tuning
    # set seed 87400-05 att_14, Tesseract '7—--2'); below 0.30 (0.71 / 0.27, 0.69 / 0.29) every read was right.
    tie_probability: float = 0.40
    tie_contradicted_probability: float = 0.30
    # PP-OCR as a third witness (scanned._checked_by_ppocr) never overrules a classifier digit held at least this likely
    # (ppocr_check.overrules_classifier): validation rows seeds 88203-88209, right overrules had the classifier's own digit at
    # <= 0.78, the silent ones at 0.85 and 0.92.
    overrule_max: float = 0.80

    # --- 1 or 7 by the top stroke's sideways reach (digits.top_stroke_share, share of the glyph height) ---
    # A 45° flag ≈ 0.1, a bar ≈ 0.5. Generated digits: 97 % of 1s ≤ 0.20, 98 % of 7s ≥ 0.32, none across.
    # load_digits upsampled from 8×8: 16 % of its 7s ≤ 0.20 (bars sloping, coarse), so the shape never
    # makes a read alone: against the classifier it vetoes one (→ uncertain); agreeing with the classifier
    # it sets aside the OCR's 1↔7 (fuse._shape_overrules), the classifier still deciding.
    one_flag_max: float = 0.20  # at most this: shaped like a 1
    seven_bar_min: float = 0.32  # at least this: shaped like a 7; in between the shape says nothing

    # --- blank pages ---
    # Dark share of ~50-dpi samples: blank scans with specks ≤ 1.8e-4, pages of 8+ lines ≥ 1.4e-2, one line ≈ 1.5e-3.
    blank_ink_fraction: float = 6e-4

    # --- the scanned corner ---
    max_candidates: int = 3  # ink groups (count) in the region tried by OCR, top first
    # Tesseract languages, in the order asked: eng reads Mincho digits better; jpn reads 項目, 番号, 「」 and ・ (bench).
    ocr_langs: tuple[str, ...] = ("eng", "jpn")
    line_gap: float = 1.5  # glyph heights between two runs of one line (「3-1-1」 「4-1-3」, 項目番号：2-3-1 need 1.4)
    ocr_target_height_px: int = 34  # digit height (pixels) the line is scaled to before OCR
    work_dpi: int = 200  # dots per inch: scans above this are reduced to it before the corner is analysed


LABEL_SETTINGS = LabelSettings()


def label_region_pt(width_pt: float, height_pt: float, settings: LabelSettings = LABEL_SETTINGS) -> BBox:
    """The region searched for a label, in points (origin top left): the dossier's crop of an unlabelled page."""
    return (width_pt * (1 - settings.region_right), 0.0, width_pt, height_pt * settings.region_top)
