"""The council's rules on hand-built readings: answers, evidence, points, flags, decision."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.model.records import Attachment, FieldReading, MarkReading, PageRef
from pipeline.output.result import to_json
from pipeline.rules.review_check import Corrections, ItemPatch, check_review_text
from tests.readings import decide, perfect, set_field, set_mark

REVIEWER_FULL = {"7-1-1": ItemPatch(points=5), "7-1-2": ItemPatch(points=5), "7-1-3": ItemPatch(points=5)}


def Review(items=None, attachments=None):  # noqa: N802 - reads as the corrections it builds
    return Corrections(items=items or {}, attachments=attachments or {})


def run(form, marks, fields, attachments, review=None, pages=None):
    return decide(form, marks, fields, attachments, review, pages)


def codes(result, item=None):
    return {f.code for f in result.flags if item is None or f.item == item}


def test_perfect_applicant_waits_for_reviewer_scores(form):
    """Ensures that an all-yes applicant with every document is needs_review until 7-1-x are scored."""
    result = run(form, *perfect(form))
    assert result.score.decision == "needs_review"
    assert result.score.required_met == form.rule.required_total
    assert result.item_scores["7-1-1"].points is None
    assert any("審査者の採点待ち: 7-1-1、7-1-2、7-1-3" in r for r in result.score.reasons)
    top = form.rule.points_max
    assert result.score.points_low == top - 15 and result.score.points_high == top
    assert any(f"得点 {top - 15}〜{top} 点" in r for r in result.score.reasons)


def test_reviewer_scores_make_a_pass(form):
    """Ensures that review.yaml's points for 7-1-1..7-1-3 turn a perfect applicant into a pass."""
    result = run(form, *perfect(form), review=Review(items=REVIEWER_FULL))
    assert result.score.decision == "pass", result.score.reasons
    assert result.score.points == form.rule.points_max
    assert all(e["applied"] for e in result.overrides)


def test_zero_on_7_1_x_fails_regardless(form):
    """Ensures that a reviewer's 0 on 7-1-2 fails the application and raises zero_point_item."""
    review = Review(items={**REVIEWER_FULL, "7-1-2": ItemPatch(points=0)})
    result = run(form, *perfect(form), review=review)
    assert result.score.decision == "fail"
    assert "zero_point_item" in codes(result, "7-1-2")


def test_required_no_fails(form):
    """Ensures that a 必須 item answered no (its no box alone) fails with required_not_met."""
    marks, fields, atts = perfect(form)
    item = next(it for it in form.items if it.required and it.negative)
    marks = set_mark(set_mark(marks, item.id, "yes", "empty"), item.id, "no", "checked")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers[item.id].answer == "no"
    assert result.score.decision == "fail"
    assert "required_not_met" in codes(result, item.id)


def test_required_blank_fails(form):
    """Ensures that a 必須 item left blank fails with required_not_met."""
    marks, fields, atts = perfect(form)
    marks = set_mark(marks, "1-1-1", "yes", "empty")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers["1-1-1"].answer == "blank"
    assert result.score.decision == "fail"
    assert "required_not_met" in codes(result, "1-1-1")


def test_points_below_threshold_fail(form):
    """Ensures that losing enough recommended points fails even with every 必須 met."""
    marks, fields, atts = perfect(form)
    lost = 0
    for item in form.items:
        if item.scoring == "fixed" and lost <= form.rule.points_max - form.rule.threshold:
            marks = set_mark(marks, item.id, "yes", "empty")
            lost += item.points_max
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.score.points_high < form.rule.threshold
    assert result.score.decision == "fail"
    assert any("合格点" in r and "届きません" in r for r in result.score.reasons)


def test_conflict_needs_review(form):
    """Ensures that yes and no both marked is a conflict, flagged, and the decision waits."""
    marks, fields, atts = perfect(form)
    item = next(it for it in form.items if it.scoring == "fixed" and it.negative)
    marks = set_mark(marks, item.id, "no", "checked")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers[item.id].answer == "conflict"
    assert "conflicting_answer" in codes(result, item.id)
    assert result.score.decision == "needs_review"


def test_uncertain_mark_is_never_a_silent_answer(form):
    """Ensures that an uncertain box makes the answer uncertain and raises uncertain_mark."""
    marks, fields, atts = perfect(form)
    marks = set_mark(marks, "2-1-2", "yes", "uncertain")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers["2-1-2"].answer == "uncertain"
    assert "uncertain_mark" in codes(result, "2-1-2")
    assert result.score.decision == "needs_review"


@pytest.mark.parametrize(
    ("item_id", "field_name", "code"),
    [
        ("2-1-2", "2-1-2.signature", "missing_signature"),
        ("2-1-2", "2-1-2.seal", "missing_seal"),
        ("7-4-1", "7-4-1.url_target", "missing_url_path"),
        ("1-1-3", "1-1-3.name", "missing_text"),
    ],
)
def test_missing_field_evidence(form, item_id, field_name, code):
    """Ensures that each field evidence kind, missing on a yes item, raises its flag and costs the item."""
    marks, fields, atts = perfect(form)
    fields = set_field(fields, field_name, None, "empty")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert code in codes(result, item_id)
    item = form.item(item_id)
    ev = {e.kind: e.status for e in result.evidence[item_id]}
    assert "missing" in ev.values()
    if item.required:
        assert result.score.decision == "fail"
    else:
        assert result.item_scores[item_id].points == 0


def test_missing_document_is_never_missed(form):
    """Ensures that a doc item without its labelled attachment raises missing_document."""
    marks, fields, atts = perfect(form)
    atts = [a for a in atts if "1-1-2" not in a.labels]
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert "missing_document" in codes(result, "1-1-2")
    assert result.score.decision == "fail"


def test_unlabeled_attachment_keeps_a_missing_document_open(form):
    """Ensures that an unlabelled document could be the missing one: no missing_document, an unconfirmed_document review flag naming it, needs_review, not fail."""
    marks, fields, atts = perfect(form)
    atts = [replace(a, labels=(), label_status="missing", label_text=None) if "1-1-2" in a.labels else a for a in atts]
    unlabelled = next(a.id for a in atts if a.label_status == "missing")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert "missing_document" not in codes(result)
    assert {"unconfirmed_document", "unlabeled_attachment"} <= codes(result)
    flag = next(f for f in result.flags if f.code == "unconfirmed_document" and f.item == "1-1-2")
    assert unlabelled in flag.message
    doc = next(e for e in result.evidence["1-1-2"] if e.kind == "document")
    assert doc.status == "uncertain" and unlabelled in doc.attachments
    assert result.score.decision == "needs_review"


def test_an_unsettled_answer_still_says_its_document_is_unconfirmed(form):
    """Ensures that an item whose tick is uncertain, whose only possible document is unlabelled, says so as an "if yes" unconfirmed_document (seed 86900-03 7-1-2: no document flag at all before)."""
    marks, fields, atts = perfect(form)
    marks = set_mark(marks, "1-1-2", "yes", "uncertain")
    atts = [replace(a, labels=(), label_status="missing", label_text=None) if "1-1-2" in a.labels else a for a in atts]
    unlabelled = next(a.id for a in atts if a.label_status == "missing")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers["1-1-2"].answer == "uncertain"
    flag = next(f for f in result.flags if f.code == "unconfirmed_document" and f.item == "1-1-2")
    assert flag.severity == "warning" and "「はい」であれば" in flag.message and unlabelled in flag.message
    assert "missing_document" not in codes(result, "1-1-2")


def test_uncertain_label_is_not_missing_document(form):
    """Ensures that an attachment whose label reads uncertainly as the item is a review flag, not missing_document."""
    marks, fields, atts = perfect(form)
    atts = [replace(a, labels=(), label_status="uncertain", candidates=("1-1-2", "1-1-1")) if "1-1-2" in a.labels else a for a in atts]
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert "missing_document" not in codes(result, "1-1-2")
    assert "unconfirmed_document" in codes(result, "1-1-2")
    assert result.score.decision == "needs_review"


def test_an_uncertain_label_one_digit_off_or_no_item_at_all_could_be_the_document(form):
    """Ensures that a handwritten 「1-1-2」 read uncertainly as 「1-7-2」 or as 「0-1-2」 (no such item) keeps 1-1-2 open, while one read as a far label does not."""
    marks, fields, atts = perfect(form)
    for guess in ("1-7-2", "0-1-2"):
        changed = [replace(a, labels=(), label_status="uncertain", label_text=guess, candidates=(guess,)) if "1-1-2" in a.labels else a for a in atts]
        result = run(form, marks, fields, changed, review=Review(items=REVIEWER_FULL))
        assert "missing_document" not in codes(result, "1-1-2"), guess
        assert "unconfirmed_document" in codes(result, "1-1-2"), guess
    far = [replace(a, labels=(), label_status="uncertain", label_text="7-6-3", candidates=("7-6-3",)) if "1-1-2" in a.labels else a for a in atts]
    assert "missing_document" in codes(run(form, marks, fields, far, review=Review(items=REVIEWER_FULL)), "1-1-2")


def _doc_flags(form, atts, item):
    marks, fields, _ = perfect(form)
    return codes(run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL)), item)


def test_an_uncertain_label_naming_an_item_that_wants_it_is_not_its_neighbours_document(form):
    """Ensures that an attachment read uncertainly as 7-6-1, whose document is otherwise missing, stands for 7-6-1 only: 7-6-3, one digit off, with no document, is missing_document.

    Seed 87100-06 (hand_scan): A15's handwritten 7-6-1 read uncertain (candidates 7-6-1) made the
    missing 7-6-3 unconfirmed; 87100-11: A14 (7-1-1 7-1-2, candidates 1-1-1 7-1-1 7-1-2) made
    3-1-1 and 7-6-1 unconfirmed.
    """
    _, _, atts = perfect(form)
    unsure = [replace(a, labels=(), label_status="uncertain", label_text="7-6-1", candidates=("7-6-1",)) if a.labels == ("7-6-1",) else a for a in atts]
    without = [a for a in unsure if a.labels != ("7-6-3",)]
    assert "unconfirmed_document" in _doc_flags(form, without, "7-6-1")
    assert "missing_document" in _doc_flags(form, without, "7-6-3")
    pair = [
        replace(a, labels=(), label_status="uncertain", label_text="7-1-1 7-1-2", candidates=("1-1-1", "7-1-1", "7-1-2")) if a.labels == ("7-1-1",) else a
        for a in atts
        if a.labels not in (("7-1-2",), ("3-1-1",), ("7-6-1",))
    ]
    assert {"missing_document"} & _doc_flags(form, pair, "3-1-1") and {"missing_document"} & _doc_flags(form, pair, "7-6-1")
    # 7-6-1 has its own document read: the uncertain one stands for nothing wanted, so it may be 7-6-3's
    read_too = [*without, replace(atts[0], id="att-99", labels=("7-6-1",), label_text="7-6-1")]
    assert "unconfirmed_document" in _doc_flags(form, read_too, "7-6-3")


def test_an_uncertain_label_read_as_an_id_without_candidates_could_be_its_neighbours_only(form):
    """Ensures that an attachment whose label's raw text reads 「7-2-3」 with no candidate keeps only ids one character off it open (7-2-2), while 1-1-2 and 3-1-1 without a document are missing_document, and a raw text with nothing id-shaped (「47--2」) could still be any document.

    Seed 87100-03 (project_hand_scan): A11's handwritten 7-2-2 read 「7-2-3」, uncertain with no
    candidates, was taken as unlabelled: the missing 1-1-2 and 4-2-2 became unconfirmed.
    """
    _, _, atts = perfect(form)
    kept = [a for a in atts if a.labels not in (("1-1-2",), ("3-1-1",))]
    misread = [replace(a, labels=(), label_status="uncertain", label_text="【7-2-3】", candidates=()) if a.labels == ("7-2-2",) else a for a in kept]
    assert "unconfirmed_document" in _doc_flags(form, misread, "7-2-2")
    assert "missing_document" in _doc_flags(form, misread, "1-1-2") and "missing_document" in _doc_flags(form, misread, "3-1-1")
    garbled = [replace(a, labels=(), label_status="uncertain", label_text="47--2", candidates=()) if a.labels == ("7-2-2",) else a for a in kept]
    assert "unconfirmed_document" in _doc_flags(form, garbled, "1-1-2") and "unconfirmed_document" in _doc_flags(form, garbled, "3-1-1")


def test_an_unlabelled_page_in_a_missing_form_pages_place_is_not_a_document_that_could_be_any_item(form):
    """Ensures that a page with no label that page_order flags as maybe a missing form page leaves a missing document missing_document, while an unlabelled page elsewhere keeps it unconfirmed.

    Seed 87160-06 (word_scan): form page p10 (the scan's p10) was not read as a form page, had no
    label, and made 1-1-1, 3-1-6, 3-2-1 and 7-1-2's missing documents unconfirmed.
    """
    from pipeline.model.records import Flag
    from pipeline.rules.apply import apply_rules

    marks, fields, atts = perfect(form)
    kept = [a for a in atts if a.labels != ("1-1-1",)]
    page = PageRef("form.pdf", 10)
    blank = Attachment("att-99", (), "missing", None, (page,))
    pages = {p.number: PageRef("form.pdf", p.number) for p in form.pages}

    def item_codes(flags):
        result = apply_rules(
            form, submission="case", sources=(), marks=marks, fields=fields, attachments=[*kept, blank], dropped_pages=(),
            reading_flags=flags, form_pages=pages, corrections=Review(items=REVIEWER_FULL), version="test",
        )
        return codes(result, "1-1-1")

    maybe_form = Flag("missing_form_page", "warning", None, "form.pdf p10: 様式の p10 かもしれません", (page,))
    assert "missing_document" in item_codes([maybe_form])
    assert "unconfirmed_document" in item_codes([])


def test_handwritten_url_path_counts_as_written(form):
    """Ensures that a URL path written by hand but unreadable (uncertain or handwritten, shown with its crop) is present: no missing flag, the item not left unresolved."""
    marks, fields, atts = perfect(form)
    no_doc = [a for a in atts if "4-1-1" not in a.labels]
    for status in ("uncertain", "handwritten"):
        hand = set_field(set_field(fields, "4-1-1.url_target", None, status), "4-1-1.url_top", None, status)
        result = run(form, marks, hand, no_doc, review=Review(items=REVIEWER_FULL))
        assert "4-1-1" not in {f.item for f in result.flags}, status
        url = next(e for e in result.evidence["4-1-1"] if e.kind == "url_path")
        assert url.status == "present"
        assert result.item_scores["4-1-1"].points == form.item("4-1-1").points_max
    printed_only = set_field(fields, "4-1-1.url_target", "http://", "read")
    assert "missing_document" in codes(run(form, marks, printed_only, no_doc), "4-1-1")


def test_field_not_located_is_never_silently_missing(form):
    """Ensures that a field the printing's layout could not place (not_located) is uncertain evidence, not a missing_* flag, and the decision waits."""
    marks, fields, atts = perfect(form)
    fields = set_field(fields, "2-1-2.signature", None, "not_located")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert "missing_signature" not in codes(result, "2-1-2")
    sign = next(e for e in result.evidence["2-1-2"] if e.kind == "signature")
    assert sign.status == "uncertain"
    assert result.score.decision == "needs_review"


def test_doc_or_url_either_suffices(form):
    """Ensures that a doc|url item is satisfied by the URL alone, or the document alone."""
    marks, fields, atts = perfect(form)
    no_url = set_field(set_field(fields, "4-1-1.url_target", "http://", "read"), "4-1-1.url_top", None, "empty")
    assert "4-1-1" not in {f.item for f in run(form, marks, no_url, atts).flags}
    no_doc = [a for a in atts if "4-1-1" not in a.labels]
    assert "4-1-1" not in {f.item for f in run(form, marks, fields, no_doc).flags}
    neither = run(form, marks, no_url, no_doc)
    assert "missing_document" in codes(neither, "4-1-1")


def test_choice_points_and_missing_choice(form):
    """Ensures that 3-1-7 scores by its bracket and flags a yes without any bracket."""
    marks, fields, atts = perfect(form)
    item = form.item("3-1-7")
    for c in item.choices:
        marks = set_mark(marks, "3-1-7", c.key, "checked" if c.key == "other_building" else "empty")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers["3-1-7"].choice == "other_building"
    assert result.item_scores["3-1-7"].points == next(c.points for c in item.choices if c.key == "other_building")
    for c in item.choices:
        marks = set_mark(marks, "3-1-7", c.key, "empty")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert "missing_choice" in codes(result, "3-1-7")
    assert result.item_scores["3-1-7"].points == 0


def test_two_brackets_chosen_are_said_while_the_evidence_is_in_doubt(form):
    """Ensures that two ○ on 3-1-7's brackets are flagged even when its signature is uncertain: the reviewer learns both at once (seed 86500-02)."""
    marks, fields, atts = perfect(form)
    for key in ("other_building", "other_floor"):
        marks = set_mark(marks, "3-1-7", key, "checked")
    fields = set_field(fields, "3-1-7.signature", None, "uncertain")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert "conflicting_answer" in codes(result, "3-1-7")
    assert result.item_scores["3-1-7"].points == 0 and result.item_scores["3-1-7"].high == 5  # unresolved until the signature is settled


def test_declarations(form):
    """Ensures that a dependent provider raises declaration_requires_document and a blank one is flagged."""
    marks, fields, atts = perfect(form)
    marks = set_mark(set_mark(marks, "upstream_provider", "independent", "empty"), "upstream_provider", "dependent", "checked")
    marks = set_mark(marks, "security_outage", "none", "empty")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.declarations["upstream_provider"].choice == "dependent"
    assert "declaration_requires_document" in codes(result, "upstream_provider")
    assert result.declarations["security_outage"].answer == "blank"
    assert "missing_choice" in codes(result, "security_outage")


def test_overrides_correct_answers_and_are_recorded(form):
    """Ensures that review.yaml answer, choice, evidence and label corrections win and are recorded."""
    marks, fields, atts = perfect(form)
    marks = set_mark(marks, "1-1-3", "yes", "uncertain")
    fields = set_field(fields, "2-1-2.signature", None, "empty")
    atts = [replace(a, labels=(), label_status="missing") if "3-1-6" in a.labels else a for a in atts]
    bad_att = next(a.id for a in atts if a.label_status == "missing")
    review = Review(
        items={**REVIEWER_FULL, "1-1-3": ItemPatch(answer="yes"), "2-1-2": ItemPatch(evidence={"signature": "present"})},
        attachments={bad_att: ("3-1-6",)},
    )
    result = run(form, marks, fields, atts, review=review)
    assert result.answers["1-1-3"].answer == "yes" and result.answers["1-1-3"].overridden
    assert "missing_signature" not in codes(result, "2-1-2")
    assert result.score.decision == "pass", result.score.reasons
    entries = {e["target"]: e for e in result.overrides}
    assert entries["items.1-1-3.answer"]["applied"] and entries[f"attachments.{bad_att}.labels"]["applied"]
    assert entries["items.1-1-3.answer"]["before"] == "uncertain"
    assert entries["items.2-1-2.evidence.signature"]["before"] == "missing"
    assert entries[f"attachments.{bad_att}.labels"] == entries[f"attachments.{bad_att}.labels"] | {"value": ["3-1-6"], "before": []}
    assert entries["items.7-1-1.points"]["before"] is None, "a reviewer-scored item has no machine reading"


def test_missing_form_page_leaves_items_unresolved(form):
    """Ensures that items on a missing form page are not failed outright: the decision waits."""
    if not form.pages:
        pytest.skip("layout not generated yet")
    marks, fields, atts = perfect(form)
    page = next(p for p in form.pages if p.item_ids)
    gone = set(page.item_ids)
    marks = [m for m in marks if m.owner not in gone]
    fields = [f for f in fields if f.owner not in gone]
    pages = {p.number: PageRef("form.pdf", p.number) for p in form.pages if p.number != page.number}
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL), pages=pages)
    assert result.score.decision == "needs_review"
    assert all(result.answers[i].answer == "uncertain" for i in gone)  # nobody saw their boxes: not a blank
    assert not any(f.code == "required_not_met" and f.item in gone for f in result.flags)


def test_an_item_whose_boxes_were_not_read_on_a_found_page_is_uncertain_and_flagged(form):
    """Ensures that boxes a reader skipped (a moved page's tail it did not reach) never read as a blank answer."""
    if not form.pages:
        pytest.skip("layout not generated yet")
    marks, fields, atts = perfect(form)
    page = next(p for p in form.pages if p.item_ids)
    skipped = page.item_ids[0]
    marks = [m for m in marks if m.owner != skipped]
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers[skipped].answer == "uncertain"
    assert "を見つけられませんでした" in " ".join(f.message for f in result.flags if f.item == skipped)
    assert f"yes（p{page.number}）" in " ".join(f.message for f in result.flags if f.item == skipped)
    assert not any(f.code == "required_not_met" and f.item == skipped for f in result.flags)
    assert result.score.decision == "needs_review"


def test_a_box_or_place_no_reader_reached_is_never_a_blank_or_a_missing_signature(form):
    """Ensures that a yes box not read beside an empty no box is uncertain (not blank), and a signature place not read is uncertain with unread_field (not missing_signature)."""
    if not form.pages:
        pytest.skip("layout not generated yet")
    marks, fields, atts = perfect(form)
    two = next(i for i in form.items if {o.key for o in i.options} >= {"yes", "no"})
    signed = next(i for i in form.items if "sign" in i.evidence and i.id != two.id)
    marks = [m for m in marks if (m.owner, m.option) != (two.id, "yes")]  # the no box read empty, the yes box never
    fields = [f for f in fields if f.name != f"{signed.id}.signature"]
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers[two.id].answer == "uncertain"
    assert not any(f.code == "required_not_met" and f.item == two.id for f in result.flags)
    codes_of_signed = {f.code for f in result.flags if f.item == signed.id}
    assert "unread_field" in codes_of_signed and "missing_signature" not in codes_of_signed
    assert next(e for e in result.evidence[signed.id] if e.kind == "signature").status == "uncertain"
    assert result.score.decision == "needs_review"


def test_a_reading_found_on_another_page_beats_a_placeholder_and_two_that_disagree_are_uncertain(form):
    """Ensures that the result does not depend on page order: a box or place found on one page beats the placeholder another page left for it, and two pages reading one box differently make it uncertain."""
    if not form.pages:
        pytest.skip("layout not generated yet")
    marks, fields, atts = perfect(form)
    signed = next(i for i in form.items if "sign" in i.evidence)
    two = next(i for i in form.items if {o.key for o in i.options} >= {"yes", "no"} and i.id != signed.id)
    placeholder = MarkReading(signed.id, "yes", "uncertain", None, PageRef("form.pdf", 5), (0.0, 0.0, 10.0, 10.0), "scan", "見つかりません")
    not_located = FieldReading(f"{signed.id}.signature", signed.id, "signature", None, "not_located", None, PageRef("form.pdf", 5), None)
    disagreeing = MarkReading(two.id, "no", "checked", 0.5, PageRef("form.pdf", 6), (0.0, 0.0, 10.0, 10.0), "scan")
    for ordered in ([placeholder, *marks, disagreeing], [*marks, placeholder, disagreeing]):
        result = run(form, ordered, [not_located, *fields], atts, review=Review(items=REVIEWER_FULL))
        assert result.answers[signed.id].answer == "yes"
        assert next(e for e in result.evidence[signed.id] if e.kind == "signature").status == "present"
        assert result.answers[two.id].answer == "uncertain"  # yes checked, and no read empty on one page and checked on another
    # a URL line read as a path on one page and empty on another: neither page's reading stands (model/two_readings.py)
    url_item = next(i for i in form.items if "url" in i.evidence)
    url = next(f for f in fields if f.name == f"{url_item.id}.url_target")
    empty_there = replace(url, value=None, status="empty", page=PageRef("form.pdf", 9))
    for ordered in ([*fields, empty_there], [empty_there, *fields]):
        result = run(form, marks, ordered, atts, review=Review(items=REVIEWER_FULL))
        assert next(e for e in result.evidence[url_item.id] if e.kind == "url_path").status == "uncertain"


def test_result_json_follows_the_contract(form, schema_validator):
    """Ensures that the result of the rules serialises to a schema-valid result.json with every item."""
    marks, fields, atts = perfect(form)
    marks = set_mark(marks, "2-1-2", "yes", "uncertain")
    data = to_json(run(form, marks, fields, atts))
    errors = list(schema_validator.iter_errors(data))
    assert not errors, errors[0].message
    assert list(data["items"]) == list(form.item_ids)
    keys = [(f["code"], f["item"]) for f in data["flags"]]
    assert len(keys) == len(set(keys))


def test_a_label_read_as_no_item_but_one_misread_from_a_missing_document_is_not_a_missing_document(form):
    """Ensures that a document whose written 7-2-2 was read 「7-9-2」 (no item) makes 7-2-2's document unconfirmed, not missing, while still flagged as an unknown label."""
    marks, fields, atts = perfect(form)
    item = next(i for i in form.items if "doc" in i.evidence and i.required)
    x, y, z = item.id.split("-")
    misread = f"{x}-{y}-{'9' if z != '9' else '8'}"
    assert misread not in form.item_ids
    kept = [a for a in atts if item.id not in a.labels]
    stray = Attachment("att-99", (), "read", misread, (PageRef("docs.pdf", 9),), unknown_labels=(misread,))
    result = run(form, marks, fields, kept + [stray], review=Review(items=REVIEWER_FULL))
    codes = {f.code for f in result.flags if f.item == item.id}
    assert "missing_document" not in codes and "unconfirmed_document" in codes
    assert any(f.code == "unknown_label" and misread in f.message for f in result.flags)
    assert next(e for e in result.evidence[item.id] if e.kind == "document").attachments == ("att-99",)
    result = run(form, marks, fields, kept, review=Review(items=REVIEWER_FULL))  # without it, missing
    assert "missing_document" in {f.code for f in result.flags if f.item == item.id}


def test_a_missing_document_is_said_as_a_warning_when_the_answer_is_not_settled(form):
    """Ensures that an item read uncertain keeps its evidence's real state and warns that its document is missing (staff ask for it if the paper says yes), while an item answered no needs nothing."""
    marks, fields, atts = perfect(form)
    item = next(i for i in form.items if i.evidence == ("doc",) and {o.key for o in i.options} >= {"yes", "no"})
    kept = [a for a in atts if item.id not in a.labels]
    unsure = set_mark(marks, item.id, "yes", "uncertain")
    result = run(form, unsure, fields, kept, review=Review(items=REVIEWER_FULL))
    assert result.answers[item.id].answer == "uncertain"
    assert next(e for e in result.evidence[item.id] if e.kind == "document").status == "missing"
    said = [f for f in result.flags if f.code == "missing_document_if_yes" and f.item == item.id]
    assert not any(f.code == "missing_document" and f.item == item.id for f in result.flags)  # the contract's code says the answer needs it
    assert [f.severity for f in said] == ["warning"] and "「はい」であれば" in said[0].message
    assert result.score.decision == "needs_review"
    answered_no = set_mark(set_mark(marks, item.id, "yes", "empty"), item.id, "no", "checked")
    result = run(form, answered_no, fields, kept, review=Review(items=REVIEWER_FULL))
    assert not any(f.code.startswith("missing_document") and f.item == item.id for f in result.flags)
    assert next(e for e in result.evidence[item.id] if e.kind == "document").status == "not_required"


def test_a_document_is_not_called_missing_while_the_url_that_would_replace_it_is_in_doubt(form):
    """Ensures that a doc|url item with no document and a URL place not found (or read in doubt) gets missing_document_unless_url, not missing_document; with the URL surely empty, missing_document (seed 86600-01 4-3-2)."""
    marks, fields, atts = perfect(form)
    item = form.item("4-3-2")
    assert item.evidence == ("doc|url",)
    kept = [a for a in atts if item.id not in a.labels]
    from pipeline.model.words import ERASED_FIELD_NOTE

    for status, note in (("not_located", None), ("uncertain", ERASED_FIELD_NOTE)):  # its place not found; read empty on a bw scan
        unsure = [replace(f, note=note) if f.name == "4-3-2.url_target" else f for f in set_field(fields, "4-3-2.url_target", None, status)]
        result = run(form, marks, unsure, kept, review=Review(items=REVIEWER_FULL))
        said = {f.code: f for f in result.flags if f.item == item.id}
        assert "missing_document" not in said and "missing_document_unless_url" in said, status
        assert said["missing_document_unless_url"].severity == "warning" and "URL 経路" in said["missing_document_unless_url"].message
        score = result.item_scores[item.id]
        assert (score.low, score.high) == (0, item.points_max)  # unresolved until a person looks
    empty = set_field(set_field(fields, "4-3-2.url_target", None, "empty"), "4-3-2.url_top", None, "empty")
    result = run(form, marks, empty, kept, review=Review(items=REVIEWER_FULL))
    assert "missing_document" in codes(result, item.id) and "missing_document_unless_url" not in codes(result, item.id)


def test_unknown_label_is_flagged(form):
    """Ensures that a document labelled with a non-item, or an item that takes no document, raises unknown_label."""
    marks, fields, atts = perfect(form)
    stray = Attachment("att-99", (), "read", "8-8-8 / 2-1-2", (PageRef("docs.pdf", 99),), unknown_labels=("8-8-8", "2-1-2"))
    result = run(form, marks, fields, atts + [stray], review=Review(items=REVIEWER_FULL))
    flag = next(f for f in result.flags if f.code == "unknown_label")
    assert "8-8-8" in flag.message and "2-1-2" in flag.message
    assert flag.pages == (PageRef("docs.pdf", 99),)
    assert result.score.decision == "pass"


def test_reviewer_score_out_of_range_never_reaches_the_rules(form):
    """Ensures that a review.yaml score outside 0..max is refused by the check, so no correction of that file is applied."""
    checked = check_review_text("items:\n  7-1-1: {points: 9}\n  7-1-2: {points: 5}\n", form)
    assert [p.code for p in checked.problems] == ["bad_points"] and checked.corrections.empty
    result = run(form, *perfect(form), review=checked.corrections)
    assert result.overrides == () and result.score.decision == "needs_review"


def test_evidence_filed_under_an_item_answered_no_is_flagged(form):
    """Ensures that a document labelled with an item answered いいえ raises evidence_for_no_answer (a warning, in Japanese)."""
    marks, fields, atts = perfect(form)
    item = next(it for it in form.items if it.needs_document and not it.required and it.points_max)
    assert any(item.id in a.labels for a in atts)
    marks = set_mark(set_mark(marks, item.id, "yes", "empty"), item.id, "no", "checked")
    result = run(form, marks, fields, atts, review=Review(items=REVIEWER_FULL))
    assert result.answers[item.id].answer == "no"
    flag = next(f for f in result.flags if f.code == "evidence_for_no_answer")
    assert flag.item == item.id and flag.severity == "warning" and "「いいえ」" in flag.message
    assert "evidence_for_no_answer" not in codes(run(form, *perfect(form), review=Review(items=REVIEWER_FULL)))
