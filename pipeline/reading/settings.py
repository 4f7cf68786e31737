"""Detection defaults for scanned pages: registration, marks, signatures, seals and field OCR, with units and provenance.

Every threshold says its unit and how it was measured. "Measured" means: on the output of
pipeline/synth/scans.py (both printings, 150/200/300 dpi, colour/grey/bw, skew ±3°) through
bench/bench_scans.py, looking at the distribution of the measure for boxes/fields whose truth
is known, and placing the bound in the gap with room on both sides. Re-measure before moving
one; `python bench/bench_scans.py --dump-scores` prints the distributions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RegisterDefaults:
    """Finding which form page a scan shows and where (register.py)."""

    # Registration, boxes and the ink measures run at this resolution; ORB + a similarity
    # transform at ~100 dpi gave 0.05-0.15 mm error in 18 ms (notes/measured.md).
    work_dpi: float = 100.0
    # Page thumbnails for identification and orientation: 12 dpi keeps the layout of text
    # blocks, boxes and frames (a line is ~2 px) and costs < 0.3 ms per comparison.
    thumb_dpi: float = 12.0
    thumb_blur_px: float = 1.0  # absorbs 5 % scale and the skew estimate's error at thumbnail size
    # Skew is estimated from text-line projection profiles at this resolution (lines 4 px apart).
    skew_dpi: float = 25.0
    # Angles tried (±search in steps, refined by a parabola): scans come within ±3°; a page
    # skewed more is still caught, the matching gates absorb the estimate's error.
    skew_search_deg: float = 4.0
    skew_step_deg: float = 0.8
    thumb_pad_px: int = 10  # search ±10 thumbnail px (±21 mm) of shift
    # Pages are tried in the order of their thumbnail correlation (the right page came first
    # for 189 of 192 generated pages, never lower than 4th), at most thumb_max_candidates of
    # them and none scoring more than the margin below the best.
    thumb_candidates_margin: float = 0.15
    thumb_max_candidates: int = 5
    # The way up whose thumbnail correlates best with the average blank page is tried first;
    # the other way only when it is within this margin (measured: 0.2-0.5 apart for text pages).
    turn_margin: float = 0.1
    thumb_min_score: float = 0.2  # below this no page is tried: not a page of this form
    # ORB features on the scan and on each blank page (FAST corners on text and frames).
    orb_features: int = 1500
    coarse_features: int = 600  # the strongest ones, for the first (wide-gated) fit
    min_coarse_inliers: int = 12  # the first fit only seeds the second
    # Matching is gated by position: first within this radius (px at work_dpi) of where the
    # coarse transform (turn, deskew, thumbnail shift) puts a blank keypoint (covers ±0.3° of
    # skew estimate and ±2.5 % scale at the page corners), then within the second radius
    # around the first fit.
    gate_coarse_px: float = 30.0
    prior_scale: float = 0.975  # scanners' fit-to-page shrinks A4 by 0-5 %
    gate_fine_px: float = 5.0
    max_hamming: int = 70  # of 256 bits: a match worse than this is not the same corner
    ransac_px: float = 3.0
    min_inliers: int = 40  # a form page at 100 dpi gives 150-900; other documents < 30
    # Normalised correlation of the aligned page with the blank at quality_dpi. Measured on
    # 192 generated pages of both printings, every candidate registered: the right page,
    # filled in, 0.69-0.97 (median 0.90); a wrong page of the same printing at most 0.58
    # (median 0.33); other documents lower. The first page reaching confident_quality ends
    # the search; below min_quality the scan is not taken for a form page.
    quality_dpi: float = 25.0  # must equal skew_dpi (one reduced image serves both)
    min_quality: float = 0.62
    confident_quality: float = 0.66
    # When two pages align within this quality of each other (or the best is within it of
    # min_quality), our printing's QR page code decides (decoding costs ~10-30 ms).
    code_check_margin: float = 0.1
    # Local refinement after the fit: blank squares of patch_px with print in both directions
    # (mean gradient ≥ patch_min_edges) are found on the aligned scan within ±refine_search_px
    # (correlation ≥ patch_min_corr), and an affine correction is fitted to at least
    # patch_min_count of them.
    # Only fits aligning below refine_below_quality are refined (~15 ms a page): a fit 1 % off
    # in scale measured 0.64 before and 0.81 after; good fits score 0.75-0.97 and are within
    # ~1 px, which the ±3 px search around each box and field absorbs.
    refine_below_quality: float = 0.75
    patch_px: int = 64
    patch_min_edges: float = 0.012  # 40-50 squares on a text page
    refine_search_px: int = 8
    patch_min_corr: float = 0.6
    patch_min_count: int = 8
    # Allowed transform: scan scale vs the blank (fit-to-page 0.95-1.0, Letter/A4 mix-ups)
    # and residual rotation after the 90° turn.
    scale_range: tuple[float, float] = (0.85, 1.12)
    max_skew_deg: float = 6.0
    # Cheap rejections before any matching: a page with less dark ink than this share of its
    # pixels is blank; a page with more mid-tone pixels than this share is a photo.
    blank_ink_share: float = 0.002
    photo_midtone_share: float = 0.3
    # Work budget per page (seconds): written fields not yet read when it runs out stay
    # `uncertain` without OCR, and the page is logged. Registration itself is bounded (a few
    # fits of at most a few thousand features), and ingest bounds pixels and decoding time.
    page_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class MarkDefaults:
    """Box and bracket states (marks.py). Ink measures are darkness 0..1 beyond the blank."""

    # Interior of a box: its bbox shrunk by this many points on each side, so that the
    # printed frame (±1 px of registration) never counts as ink.
    inner_inset_pt: float = 2.0
    # Per-pixel darkness beyond the blank below this is noise (JPEG ringing, paper grain,
    # 1 px misregistration of the blank's own ink after a 3x3 max filter).
    noise_floor: float = 0.12
    # Mean ink over the interior (darkness units, 0..1), beyond the blank's ink grown by 2 px.
    # Measured on 16 generated submissions (1584 boxes, both printings, 150-300 dpi, colour/
    # grey/bw): empty boxes 0.0 (p99 and max); faint pencil 0.016-0.31, 0.2 mm pen 0.06-0.4,
    # ✓ 0.11-0.6, × and ■ higher. Between the bounds a box is uncertain. Ink only along the
    # inside of the frame (none in the middle fifth) is a frame printed bolder on a bw scan —
    # a bw □ glyph shifted 1 px gave 0.031 — unless the edge band shows a mark straying over
    # the frame (stray_edge): then it is checked, else uncertain.
    inner_checked: float = 0.025
    inner_empty: float = 0.006
    # Faint specks inside: a light pencil ✓ on a 150-300 dpi bw scan survives as a few dots,
    # which at work_dpi are grey pixels, many below noise_floor. Their ink from speck_floor up
    # (darkness × px at work_dpi) makes an otherwise empty box uncertain, never a confident
    # empty. Measured with samples/people_marks.py (seeds 300-329, 400-459: pencil grey 80-150,
    # bw threshold 140-180): ticks with 2-10 dots left 0.2-6 (0.49-0.6 for 2-7 dots at 200-300
    # dpi; 0.2 for 2 dots at 300 dpi, not told from dust); one black dust pixel of a bw scan
    # leaves (100/dpi)² — 0.44 at 150 dpi — so the bound sits just above it; empty boxes 0.0.
    speck_floor: float = 0.05
    speck_uncertain: float = 0.48
    # On a grey or colour scan a light pencil ✓ keeps some pixels above noise_floor (inner > 0)
    # and faint ink around them: such a box with specks from speck_faint up is uncertain too.
    # Independent set 86700-04 (150 dpi colour, JPEG 90): a visible faint ✓ measured inner
    # 0.005, specks 0.31, and read empty; over 556 truly empty boxes of tuning seeds 86400,
    # 86500 and 86700 (scans, every way) none had inner > 0, and specks reached 0.11. The ink
    # must spread over more than one pixel (specks ≥ speck_spread × peak: the ✓ 1.75, another
    # 2.9): one dust pixel of a 150 dpi bw scan is specks = peak = 0.44. A lighter ✓ leaves no pixel
    # above noise_floor at all (inner 0, peak 0): seed 86900-02 2-2-1, a colour scan, specks 0.45,
    # read empty, silently; ticks of 86500/86700 at 0.18-0.20 likewise. So the bound holds
    # whatever inner is, lowered to 0.17: of the 1,280 truly empty scanned boxes and brackets of
    # 86400-86900 one bracket reached 0.162 (86400-03 3-1-7), the next 0.11.
    speck_faint: float = 0.17
    speck_spread: float = 1.5
    # Ring around the box (catches a ○ drawn around it): from ring_gap_pt inside the box edge
    # (the frame itself is masked by the blank's ink grown by 2 px) out to ring_pt beyond it,
    # split into ring_sectors angular sectors; a sector is inked when its ink reaches
    # sector_ink (darkness × px at work_dpi, ~1.5 px of stroke crossing it). Pixels under the
    # blank's printed text and inside other boxes are not counted, nor sectors mostly hidden.
    ring_gap_pt: float = -1.0
    ring_pt: float = 7.0
    ring_sectors: int = 16
    sector_ink: float = 2.0
    # Share of available sectors inked. Measured: a drawn ○ 0.69-1.0 (tight ones, hugging the
    # frame, down to 0.25: see tight_ring); empty boxes 0.0 (p99 0.13, max 0.25 where a
    # neighbour's ○ passes); ticks and crosses ≤ 0.44; strays ≤ 0.38.
    ring_checked: float = 0.6
    ring_empty: float = 0.45
    # ... but a box with nothing inside whose ring is inked from ring_unsure up is uncertain, not
    # empty: a large ○ drawn well away from the frame crosses only part of the ring (seed 87000-02
    # 7-2-2: 0.44, no ink at the frame, read empty, silently; 86500-10 4-1-4 and 7-1-1: 0.3, 0.4).
    # Empty boxes of tuning seeds 86400-86900 reached 0.33 where a neighbour's ○ passes (then
    # read_marks' neighbour rules make them empty again), 0.25 otherwise.
    ring_unsure: float = 0.3
    # Edge band: from the inner measure's edge out to edge_pt beyond the box, ink darker than
    # edge_floor beyond the blank's ink ±1 px. A mark that strays over the edge puts 0.019-0.18
    # here; an empty box 0.0 (p99 0.004), up to 0.016 where a bw scan thickens a □ glyph, and
    # up to 0.12 where a neighbour's ○ passes (then the neighbour explains it: marks.py).
    # With little inside and no ring, edge ink makes the box uncertain.
    edge_pt: float = 3.0
    edge_floor: float = 0.35
    edge_uncertain: float = 0.018
    # A mark straying over the edge: some ink inside (empty boxes have none) and a lot at the
    # edge. Measured: strays 0.0-0.5 inside and 0.006-0.18 at the edge; a neighbour's circle
    # passing by puts up to 0.09 at the edge but nothing inside.
    # Re-measured on 60 submissions (5,940 boxes): every empty box with edge ink ≥ 0.04 had
    # exactly 0.0 inside (a neighbour's ○) or was a struck-out mark; strays 0.005-0.5 inside.
    stray_inner: float = 0.004
    stray_edge: float = 0.04
    # A ○ drawn tight around the box hugs the frame, where the ring cannot see it: 40 % of the
    # ring sectors and much edge ink (measured 0.17-0.6 at the edge for circles; a neighbour's
    # circle inks at most a quarter of the sectors and 0.09 at the edge).
    tight_ring: float = 0.4
    tight_edge: float = 0.2
    # ...or, surer, its edge band inked on three or four sides of the box (edge_sides): of 630
    # drawn ○ (two runs of 30 + 30 submissions, seeds 5000 and 7000) 625 inked four sides and 5
    # three; of 3,885 empty boxes (struck-out marks aside) none inked more than two — a
    # neighbour's ○ or a stray reaches one or two sides.
    circle_sides: int = 3
    # (Ink only in the outermost pixel of the inside, none in the middle or at the edge, is
    # usually the frame printed bolder — but a stray ✓ just inside the frame looked the same
    # once in 800 checked boxes (seed 9103): on inner, core and edge alone it stays uncertain.)
    # What tells them apart is the shape of the ink and whether any goes on outside the frame.
    # A frame printed bolder than the blank's is a halo along the line: inside the box
    # (rim_run, marks.py) it inks whole sides of the outermost pixel ring (0.6-1.0 of a side),
    # grey (darkest pixel 0.13-0.25 beyond the blank on grey/colour scans, 0.34-0.45 on bw),
    # and outside it thickens the line itself, nothing 2 px or more out (edge_reach 0; edge
    # up to 0.029, one or two sides). A stroke crossing the frame goes on outside (edge_reach
    # 0.07-0.89 for strays); the one stray of 5,374 (seeds 5000/7000, every mark a stray)
    # whose ink was all inside and away from the frame clipped the rim at a point (rim_run 0)
    # and was dark (0.58). So: ink only in the outermost pixels, along at least bleed_run of
    # each inked side, lighter than bleed_peak, with nothing 2 px out, no ring sector and less
    # edge ink than edge_uncertain, is the frame (empty).
    bleed_peak: float = 0.5
    bleed_run: float = 0.5
    bleed_ring: float = 0.07
    # Outside alone: edge ink hugging the line (edge_reach 0) and below frame_edge_max, on one
    # or two sides, nothing inside and no ring, is the frame printed bolder (empty): measured
    # 0.018-0.029 on bw scans of the alt printing.
    frame_edge_max: float = 0.04
    # Edge ink below edge_uncertain is still a stroke when a good part of it lies 2 px or more
    # outside the box (edge_reach): a stray ✓ that only grazes the frame left 0.016-0.017 at
    # the edge with reach 0.27-0.36 and was read empty (two silent errors among 5,374 strays
    # generated on seeds 5000/7000 with every mark a stray). Empty boxes with that much ink
    # reaching out all had a neighbour's ○ nearby (which explains it: marks.py) or a frame
    # misregistered by 2 px (uncertain is right for that).
    reach_edge: float = 0.012
    reach_share: float = 0.2
    # Edge ink all 2 px or more outside the box, nothing inside, next to a checked box, is that
    # box's mark: a neighbour's ✓ reaching over (renewal#7010 p2 upstream_provider.dependent,
    # 5 pt below a stray ✓: reach 0.98-1.0 in every such case on seeds 5000/7000). A mark of
    # the box's own touches its frame: strays with only edge ink measured reach ≤ 0.89.
    away_reach: float = 0.95
    # A box read as hugged by a ○ on three sides (circle_sides) with little edge ink, beside a box
    # circled by its ring, may hold only that neighbour's ○: uncertain, not checked. A ○ of its
    # own inks its edge 0.17-0.6 (tight_edge); seed 87700-10 (project printing, 300 dpi grey)
    # upstream_provider: the ○ around "independent" crossed "dependent"'s top-left corner, three
    # sides and 0.037 of edge, and "dependent" read checked (the answer a conflict).
    neighbour_hug_edge: float = 0.09
    # A checked box whose every stroke inside runs on across its frame, for arc_reach_pt of ink
    # or more, into the band round a neighbour circled by its ring, holds that ○'s arc: uncertain
    # (tests/test_marks_neighbour.py: a ○ of 10-12 pt radius crossing the neighbour's top).
    arc_reach_pt: float = 6.0
    # … and only while its inside holds less ink than this: one arc crossing measured inner
    # 0.019-0.061 (that test), a ✓ of its own whose stroke ran on into the band of a ○ drawn round
    # the next item's box 0.126 (seed 87700-06 4-3-2 "no", checked: it is that box's answer).
    arc_inner_max: float = 0.1
    # A stray ✓ across a corner of a box, nothing inside: edge ink ≥ edge_uncertain on exactly
    # two sides, ≥ corner_sectors ring sectors and some edge ink 2 px out (the stroke goes
    # on), some of it at the frame (edge_reach ≤ corner_reach_max). Measured on seeds
    # 5000/7000 (normal and stress, 19,800 boxes): 51 such strays, 0.041-0.134 at the edge,
    # 2-5 sectors, reach 0.11-0.89; the only empty boxes like that (6) had another box 5 pt
    # away, whose ✓ or ○ it was — so only a box with no other box or field within alone_pt is
    # read checked this way. (The same stray re-read in another process measured 0.035: the
    # registration is not bit-for-bit repeatable, so the floor is edge_uncertain, not the
    # lowest stray seen.)
    corner_sectors: int = 2
    corner_reach_max: float = 0.85
    alone_pt: float = 14.0
    # A faint mark in the middle of the box (pencil pressed lightly): the middle fifth alone
    # holds as much ink as a checked box (core ≥ inner_checked) though the whole inside is
    # below inner_checked, and most of the inside's ink is there (centre): nothing from the
    # frame or from outside reaches the middle. Empty boxes: core ≤ 0.0083 (seeds 5000/7000,
    # 9,900 boxes); the faint pencil ✓ alt#7003 2-1-3.yes: inner 0.019, core 0.037.
    faint_centre: float = 0.5
    # 二重線 over a box: a row band through the box where ink runs across the box and at
    # least strike_reach_pt beyond both sides, over strike_cover of the visible columns.
    strike_reach_pt: float = 4.0
    strike_cover: float = 0.7
    # Local refinement: search ±refine_px around the registered position for the box frame.
    refine_px: int = 3
    refine_min_corr: float = 0.5


@dataclass(frozen=True, slots=True)
class FieldDefaults:
    """Signatures, seals and written fields (fields.py)."""

    # Share of the place's pixels inked beyond the blank (darkness > field_ink at work_dpi).
    field_ink: float = 0.3
    # …not counting flat runs one pixel tall and at least line_residue_px long: a printed line
    # the registration left a pixel off (a 0.4° skew on a bw scan: one row of the underline,
    # 89 px, 0.006 of an empty name field, read uncertain). Specks stay counted (faint pencil
    # on a bw scan survives as dots).
    line_residue_px: int = 4
    # Signature boxes (1.5 pt inside the frame): a written name covers 1-14 % of the box
    # (measured minimum 0.0095, a short name in a thin pen); no signature 0.0 (a seal stamped
    # across the frame stays outside the measured area).
    signature_present: float = 0.008
    signature_empty: float = 0.003
    # Seal places (40 x 40 pt around 印): ink beyond the blank's printed (印) circle, as a
    # share of the place. Measured: a stamp (even pale and grainy, on grey or bw scans)
    # 0.04-0.3; no stamp < 0.002 (a stray stroke from the signature box < 0.01).
    seal_present: float = 0.02
    seal_empty: float = 0.008
    # ...and its inked extent must span this many points in both directions (a seal is
    # 10-18 mm; the printed (印) is 5 mm and is subtracted anyway).
    seal_min_extent_pt: float = 18.0
    # Red on colour scans: hue within ±red_hue_deg of red, saturation > red_min_sat.
    red_hue_deg: float = 18.0
    red_min_sat: float = 0.25
    red_min_excess: int = 40  # and red exceeding green by this many grey levels (warm paper is not red)
    red_present: float = 0.04  # share of the place that is red
    red_empty: float = 0.008
    # A text field holds writing when this share of its pixels is inked (an 8 pt word is > 1 %).
    text_present: float = 0.004
    text_empty: float = 0.0015
    # Under text_empty, a field with strokes of faint ink (darkness > faint_ink at work dpi) at
    # least faint_stroke_pt tall, faint_min_pt2 in all, is uncertain, not empty. Seed 87200-00:
    # writing begun left of the field crossed in by 12-19 px in strokes 8-9 px tall (6-10 pt²);
    # an empty field's noise on a 150 dpi bw scan (tests/test_scan mixed) was 13 runs 1 px tall.
    faint_ink: float = 0.15
    faint_stroke_pt: float = 2.0
    faint_min_pt2: float = 3.0
    # A signature place read empty is uncertain when, within stray_grow (× its height) above or
    # below it and outside every other place of the page, the scan has writing the blank does
    # not: strokes at least stray_stroke_pt tall, stray_min_pt2 in all. Seed 84500-01 p2: typing
    # moved the signature line 26 pt down and the name written there fell below the place
    # (read empty, silently); a signature's strokes are 8-14 pt tall, ~100 pt² for four kanji.
    stray_grow: float = 1.0
    # … and at least this far: a Word printing's signature line is a 9.5-13 pt place (calibrate),
    # and a name pasted there grows the line: seed 86300-01 p3, 2-1-4's signature 3-21 pt below
    # its 9.5 pt place, read empty with a band of 9.5 pt (silently, in 2 of 4 word_scan sets).
    stray_min_grow_pt: float = 20.0
    stray_stroke_pt: float = 4.0
    stray_min_pt2: float = 20.0
    # A text, URL or date field read empty is uncertain when the same band, reaching this far
    # left of it too (over the end of its label), holds such writing: seed 87500-07 wrote
    # 「5000」 after 「ユーザー数：」, above and left of the underline, and 87500-02/06/10 wrote
    # the registration date over the label's 「年月日」; all four read empty, silently.
    stray_left_pt: float = 60.0
    # … not counting ink within this many work-dpi px of the blank's print: seed 87500-10 p13, an
    # empty page registered 2-3 px off at its labels, left label-edge strokes 5-8 pt tall,
    # 23-72 pt² in a band (all four places of a blank block read uncertain).
    stray_off_print_px: int = 3
    # … nor ink within this of a seal place: a 15-18 mm stamp spills 3-8 pt out of its 40 pt
    # place (tests/test_scan mixed seed 11: the applicant's seal made the address uncertain).
    stray_seal_spill_pt: float = 8.0
    # Resolution of the page decode that field crops are cut from (and, reduced, the work
    # image): 150 dpi gave 1.0 % typed CER, 200 dpi 0.85 %, at the same time per page.
    ocr_dpi: float = 200.0
    # A scan is decoded at its own resolution halved while that stays at or above this
    # (scan.decode_dpi): 300 dpi → 150, 200 → 200, 150 → 150. Field crops are then cut at
    # ocr_dpi from that decode. Set it to ocr_dpi to decode 300 dpi scans in full.
    min_decode_dpi: float = 140.0
    # Tesseract page segmentation for one field line: 7 (single line). On 440 generated typed
    # fields, psm 7 gave 2.2 % CER and psm 13 (raw line) 7.6 %; the few lines psm 7 returns
    # empty are re-read at 24 px text height (fields.py).
    ocr_psm: int = 7
    # Tesseract character confidences (0..1) of a field line: a line whose mean is at least
    # ocr_sure_mean and whose weakest character is at least ocr_sure_least is read. Otherwise
    # it is read again at another size and taken only if both reads agree (and the mean is at
    # least ocr_agree_mean); else it is `handwritten` (no text, crop kept) or `uncertain`.
    # Measured on 484 generated lines: typed lines mean 0.96-0.995 (median 0.99); garbage
    # read from handwriting-like lines mean 0.66-0.99 (median 0.93) — confidence alone let 56
    # of 73 garbage reads through; confidence, or agreement on a line that does not wander
    # like handwriting, let 1 through while holding back 15 of 395 typed lines (uncertain).
    ocr_sure_mean: float = 0.985
    ocr_sure_least: float = 0.9
    ocr_agree_mean: float = 0.9
    ocr_handwritten: float = 0.75
    # Written fields of a page are read on this many threads, each with its own loaded
    # Tesseract (it releases the GIL): on this 2-core machine 40 lines took 0.49 s on two
    # threads, 0.85 s on one. Use 1 when pages are already read in parallel processes.
    ocr_threads: int = 2
    # A prepared line shorter than this (px at ocr_dpi; 6 pt at 200 dpi) is a dot or a speck.
    min_text_px: int = 16


REGISTER = RegisterDefaults()
MARKS = MarkDefaults()
FIELDS = FieldDefaults()


@dataclass(frozen=True, slots=True)
class SecondReadDefaults:
    """The second reader of written fields (PP-OCRv6; fields.py, field_text.py)."""

    # Every written line that would be `read` is read again by PP-OCRv6 and stays `read` only
    # when both readings agree (field_text.agreement_key); otherwise it is `uncertain` with its
    # crop. Independent set, scanned fillings (word_scan, hand_scan, project_hand_scan, 3 each),
    # bench/bench_independent.py, cover and contact fields, off -> on:
    #   seed 85500 (an earlier cut of the rule): read 77 -> 69, right 96.1 % -> 100 % (3 wrong -> 0)
    #   seed 85700 (looked at only after; before merged_groups): read 60 -> 42, right 86.7 % -> 100 % (8 wrong -> 0)
    # With the answer sheets' text and URL lines (truth from the set's items, /tmp script), seed
    # 85700: read 123 -> 77, right 69.1 % -> 96.1 % (the 3 left: a space in "UPS (30分)" and two
    # closing dates the set holds no truth for). Cost: read_fields CPU x1.3-1.5 per form page,
    # the whole submission +3-5 % CPU (seed 85700, one word_scan and one hand_scan; loaded machine).
    enabled: bool = True


# PIPELINE_SECOND_READER=off turns it off for a run (to measure what it adds; bench/bench_independent.py).
SECOND_READ = SecondReadDefaults(enabled=os.environ.get("PIPELINE_SECOND_READER", "on") != "off")
