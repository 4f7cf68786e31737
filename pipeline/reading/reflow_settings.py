"""Thresholds for reading a scanned form page whose content moved (a Word filling that reflowed) and for letting non-form pages go early.

Measured on the independent set's `word_scan` and `hand_scan` submissions of debugging seeds
84000-84007 (never the held-out 80000-80999) and on the project's own scans
(bench/bench_scans.py, seed 9300): each bound sits in the gap between what the form's own
lines and boxes gave and what attachment pages gave. Pixels are at the registration's work
resolution (100 dpi).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReflowDefaults:
    """Text lines, their alignment to the blank's flow, and the placement of boxes and fields (reflow.py)."""

    # A pixel is ink above this darkness (0..1).
    ink: float = 0.5
    # A straight run of ink this long (px) is a printed rule (a table's border): left out of
    # the lines, whose rows it would otherwise join into one band.
    rule_px: int = 25
    # A row belongs to a text line with at least this many ink pixels; bands closer than
    # gap_px rows are one line; a band lower than min_height_px is dust.
    row_min_ink: int = 2
    gap_px: int = 1
    min_height_px: int = 4
    # A band taller than this (px; three lines of 11 pt text) is cut at its emptiest rows.
    max_height_px: int = 40
    # On a page of a few lines that nothing else showed as the form's (reflow.locate), a band at
    # least split_height_px tall (two lines: one is 13-17 px) is cut at its emptiest row, at
    # least split_min_px from either end, when that row holds at most valley_share of the band's
    # median row ink. Not on every page: cut everywhere, a page's bands no longer matched the
    # blank's as before (tuning set 87120: 87120-00 p6 stopped aligning at blank p5's end, two
    # cover pages lost their fields). Seed 87120-06 p3 (word_scan, 300 dpi black-and-white): the
    # brackets of 「(担当者は部署名・役職も明記して下さい)」 reached into the 2-row gap below
    # (rows of 5 and 2 pixels against ~140), the line and the next were one band of 31 px and
    # the sheet (1-2-1's pushed end) went to the attachments.
    split_height_px: int = 24
    split_min_px: int = 8
    valley_share: float = 0.05
    # The line's descriptor: ink per column in bins of bin_px, sqrt, smoothed.
    bin_px: int = 3
    # The characters' pattern along a line: the descriptor less keep_plateau of its local
    # mean over detail_bins (~1.5 characters). Where the ink is (the rough descriptor) tells a
    # text line from any other only by its ends: an attachment's lines matched the form's at
    # 0.75-0.85, the same line 0.9-0.99; with the pattern, 0.6-0.8 against 0.85-0.99.
    detail_bins: int = 7
    keep_plateau: float = 0.3
    # Similarity (cosine of the descriptors, 0..1) from which two lines may be the same line:
    # the same printed line on a scan gave 0.80-0.99 (a typed blank or ■ for □ 0.7-0.9);
    # two different lines of the form 0.1-0.75 (full-width paragraph lines up to 0.85).
    match_floor: float = 0.7
    detail_floor: float = 0.75
    # The frame is corrected in x by the line ends: shifts up to frame_search_px, scales
    # 1 ± frame_scale_range (fit-to-page, a wrong fit); kept when the ends of frame_min_share
    # of the page's lines land on the blank's (a text page of the form: 0.6-0.9).
    frame_search_px: int = 60
    frame_scale_range: float = 0.05
    frame_min_share: float = 0.35
    # The page's own skew (plain_frame): the sharpest row projection of its ink within
    # ±skew_max_deg in steps of skew_step_deg (scans are fed within ±3°; a 0.5° error leaves
    # lines aligning, 1° not: seed 84151 p5 aligned 33 lines at 0.5° off, 9 at 1.5°).
    skew_max_deg: float = 3.0
    skew_step_deg: float = 0.25
    # The plain frame is tried at these scales about the page's centre (scanners fit a page
    # to 0.95-1.0; seed 84150 p5 aligned 28 lines at 0.97, 2 at 1.0, the x correction
    # notwithstanding).
    plain_scales: tuple[float, ...] = (1.0, 0.97)
    # A frame whose rows sit further than this (px) from the page's centred rows was fitted to
    # content that moved (or to few lines): its rows are taken about the page centre, the
    # whole scanned page in view. Scanners place a page within a few mm (the project's scans
    # shift by up to 2 mm, 8 px); a line of reflow moves content 15-20 px.
    frame_keep_px: float = 12.0
    # Alignment (order kept, offset varying smoothly): a pair scores sim - match_floor; a
    # skipped scan line (typed text, a pasted signature) costs skip_scan, a skipped blank
    # line skip_blank; a change of the vertical offset between consecutive pairs costs
    # drift_cost per px pushed down and shrink_cost per px pulled up.
    skip_scan: float = 0.02
    skip_blank: float = 0.08
    drift_cost: float = 0.002
    shrink_cost: float = 0.01
    max_skip: int = 4
    # A page is the form's when at least min_lines of its lines align, covering min_share of
    # its text lines, with mean similarity mean_sim.
    min_lines: int = 6
    min_share: float = 0.5
    mean_sim: float = 0.82
    # ... or at least many_lines of them align, whatever else the page holds (typed answers
    # pushed in: seed 84004-00 p7 aligned 19 of its 40 lines at 0.96; another document's
    # pages 0-2 lines).
    many_lines: int = 12
    # A page of at least let_go_lines text lines none of which aligns in the first frame tried
    # is not the form's (another document's page: ~80 % of its reading was the three further
    # frames' alignments); measured as form pages taken as attachments, unchanged, on seeds
    # 84102, 84500 and 84160-84162 (word_scan).
    let_go_lines: int = 12
    # A page of at least let_go_few_pairs_lines text lines of which at most one aligns in the
    # first frame and at most one in the page's own frame (its text lines' slope, centred) is
    # let go after those two frames: a single pair is a line paired with a look-alike. Form
    # content aligned 2 or more in one of them: its pages found in the first frame, 10-37 pairs;
    # a fit to the wrong page (1 pair) in its own frame, 30; a pushed end of 3-6 lines has fewer
    # lines than this (tests/test_reflow_*.py). On 396 scanned pages (own-scan seed 87900;
    # independent word_scan, hand_scan and project_hand_scan seeds 87900-87902: 133 form pages, 60
    # of them read where they moved, 263 not the form) every page was found or let go as with 4-6
    # frames, in 0.58 of the CPU.
    let_go_few_pairs_lines: int = 7
    # A page of fewer lines (what reflow pushed past a page's end: two lines on a page) is
    # the form's when two of its lines align at few_lines_sim or more, few_lines_share of its
    # text lines are the form's, and the alignment beats any elsewhere in the flow by
    # few_lines_margin (the repeated 「担当者は部署名・役職も明記」 line matches 20 places
    # equally; the ■ line after it was 0.92 against 0.85 elsewhere: the pair scored 0.34, the
    # best elsewhere 0.24). The two printed lines after a signed line gave 0.875 and 0.92
    # (seed 84018, 200 dpi grey); another document's lines 0.6-0.8.
    few_lines_sim: float = 0.86
    few_lines_share: float = 0.8
    few_lines_margin: float = 0.05
    # On such a page only bands this tall count as text lines (px; 10.5 pt text is 14 px, the
    # top of a seal above its line 5 px); a line written over (signature and seal) counts
    # when it overlaps the blank's line next to the aligned ones (seed 84000-00 p5: the
    # signed line, then two lines aligned at 0.95).
    few_lines_min_height_px: int = 8
    # The alignment is carried past its ends (a table written over stops it) by a pair within
    # extend_lines lines of its end, alike at extend_sim or more (and no other of the blank's
    # lines within 0.05), its offset at most extend_drift_px further (seed 84004 p6: the
    # line after a signed table, five lines on, at 0.96, 20 px further).
    extend_lines: int = 8
    extend_sim: float = 0.9
    extend_drift_px: float = 60.0
    # A scan line just past the aligned run, and the blank's line just past it, are one label
    # line with a value typed after it when they start within label_x_px of each other, the
    # scan's reaches the blank's end, its offset is the run's (±label_drift_px; any across a
    # page's end) and over the blank's columns (label_end_px of its end left out) they are
    # alike at label_sim or more. Seed 84500-01 p13: the right label lines 0.99 and more, the
    # blank's line before or after 0.73-0.96.
    label_x_px: int = 3
    label_drift_px: float = 4.0
    label_end_px: int = 6
    label_sim: float = 0.975
    # ... on the run's own blank page, where the offset pins the line (a neighbour sits a line's
    # height off), label_sim_same is enough: seed 86400-02 p14 (grey 300 dpi, noise 6.6, JPEG 75;
    # the closing contacts page, every label with its value typed after it) measured the right
    # label lines 0.87-0.98, and only 3 of its 19 lines aligned (taken for an attachment).
    label_sim_same: float = 0.85
    # ... and across a page's end, a block of label_block_lines or more such lines one to one with
    # the other blank page's, at one offset, each alike at label_block_least or more and their
    # median at label_sim_same (seed 86900-05 p14: 8 label lines 0.81-0.98 across the end of
    # blank page 11, offsets within 2 px, where one line alone needs label_sim).
    label_block_lines: int = 3
    label_block_least: float = 0.78
    # A registered page counts as moved when at least moved_lines consecutive aligned lines sit
    # moved_px or more from where the registration put them, within moved_agree_px of each
    # other (a Word reflow moves what follows by a line, 15-20 px). On unmoved scans of both
    # printings (150-300 dpi, bw to colour, seeds 11-13, 21, 5010, 84100-84101) no two
    # consecutive pairs sat 5 px off; single pairs did, up to 9 px (a line paired with a
    # look-alike or written over).
    moved_px: float = 5.0
    moved_agree_px: float = 3.0
    moved_lines: int = 2
    # Placing a box or field: its neighbourhood on the blank (pad_x_px either side, the line's
    # rows ± pad_y_px) is matched on the scan within ±search_x_px, ±search_y_px of where its
    # line went; below place_min_corr (TM_CCOEFF_NORMED) it is not placed.
    pad_x_px: int = 60
    pad_y_px: int = 3
    search_x_px: int = 10
    search_y_px: int = 6
    place_min_corr: float = 0.55
    # Where that fails (a mark or handwriting over the line), the blank's print alone (±1 px)
    # is compared (TM_CCORR_NORMED under a mask): the right place gave 0.9-0.98.
    place_min_masked: float = 0.88
    # A field's own columns are left out of both comparisons (what is typed there touches its
    # underline: the right place of a typed address's line gave 0.33, masked 0.67, with them;
    # seed 84012); with fewer print pixels than this left the masked one is not tried.
    place_min_mask_px: int = 40
    # A line of the blank just past the aligned run may be on the page when unaligned text
    # lines sit there: within beyond_margin_px (a line and a half) below the lowest of them.
    beyond_margin_px: int = 25
    # Two tries of one element (its line's neighbours disagree) that match at different
    # places within placement_margin of each other leave it unplaced (uncertain).
    placement_margin: float = 0.05
    # A signature or seal place whose next line below sits grown_px or more further down than
    # the place moved had its table row grown around what was pasted there (Word): not read
    # where its label puts it unless its row is found by its rules (below). A reflow moves
    # whole lines (15-20 px); a line's own offset wavers by 2-3 px.
    grown_px: int = 6
    # A signature or seal place in a table row (a Word printing, reflow_place.py): the blank's
    # rules within row_reach_px above and below it. A rule is a row (±1) whose ink darker than
    # rule_ink covers rule_cover of the rule's columns (less row_inset_px each end): a scanned
    # 0.5 pt rule is 0.4-0.55 dark at 100 dpi (seed 86500-09), a text line covers far less.
    row_reach_px: int = 8
    rule_ink: float = 0.2
    rule_cover: float = 0.9
    row_inset_px: int = 5
    # On the scan the row's top is the one rule with the label under it (within
    # row_label_search_px of its place): the label matched 0.62-0.9 under the right rule and
    # 0.05-0.46 under a grown row's bottom rule (seeds 86500-01, -05, -09, printings p0 and p1).
    row_label_search_px: int = 3
    row_label_min: float = 0.55
    # Its bottom is the first such rule below its blank height, within row_max_growth_px (a
    # pasted seal grew a row 31-64 px at 100 dpi); a row grown less than row_grown_px is not.
    row_max_growth_px: int = 120
    row_grown_px: int = 3
    # A placed field whose rows on the scan reach more than intrude_px into another aligned
    # line's (one its place did not hold on the blank) is not read there (reflow_place.intrudes).
    # URL places at a blank page's end reached 16 px into the next page's first line (seed
    # 86500-01 4-3-1); a rightly placed contact field 2.5 px into the line above (seed 84500-01).
    intrude_px: int = 4
    # The blank's ink around a placed box or field (what marks and fields subtract) is carried
    # along over this margin (px; a box's ring reaches 7 pt out).
    carry_px: int = 16


REFLOW = ReflowDefaults()
