"""The dossier shows the evidence and the corrections: page images and overlays, crops, 訂正, sign-off, what to write, and the smaller defects."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.model.records import PageRef
from pipeline.output.dossier.attention import attention_rows
from pipeline.output.dossier.corrections import correction_rows
from pipeline.output.dossier.cover import flag_count_rows, flag_totals, outlook_lines, signoff_rows
from pipeline.output.dossier.crops import CropStrip
from pipeline.output.dossier.facts import gather_facts
from pipeline.output.dossier.filing import file_attachments, separators
from pipeline.output.dossier.item_table import item_rows
from pipeline.output.dossier.overlay import answer_sheet_pages, page_shapes, write_debug_overlays
from pipeline.output.dossier.wording import load_form_words
from pipeline.run.crops import FormPageImage, cut_missing_crops, save_page_images

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"
LONG_TITLE = "セキュリティポリシーについて、経営層の承認を受けた内部規程が定められ、全従業員に周知され、年に一度以上見直されている。" * 2


def ref(page: int = 3) -> dict[str, Any]:
    return {"file": "form.pdf", "page": page}


def mark(option: str, state: str, top: float, crop: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {
        "option": option,
        "state": state,
        "score": 0.3 if state == "checked" else 0.05,
        "page": ref(),
        "bbox": [86.0, top, 97.0, top + 11.0],
    }
    if crop:
        m["crop"] = crop
    return m


def item(answer: str = "yes", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "answer": answer,
        "choice": None,
        "marks": [mark("yes", "checked" if answer == "yes" else "empty", 84.0), mark("no", "empty", 248.0)],
        "required": False,
        "points_max": 3,
        "points": 3 if answer == "yes" else 0,
        "points_range": [3, 3],
        "evidence": [],
        "title": "短い題",
        "section": "1",
        "section_title": "節",
        "scoring": "fixed",
        "flags": [],
    }
    base.update(extra)
    return base


def result(**extra: Any) -> dict[str, Any]:
    """A small hand-made result.json: the shapes of the contract, none of the questionnaire's numbers."""
    data: dict[str, Any] = {
        "schema": "isp-mark-review/1",
        "submission": "手作り",
        "form": "renewal",
        "sources": [{"file": "form.pdf", "pages": 3, "kind": "scanned", "status": "ok"}],
        "applicant": {
            "company_name": {
                "value": "株式会社見本",
                "status": "read",
                "confidence": 1.0,
                "page": ref(1),
                "bbox": [150.0, 300.0, 400.0, 320.0],
            },
        },
        "declarations": {},
        "items": {"9-1-1": item(), "9-1-2": item()},
        "attachments": [],
        "flags": [],
        "overrides": [],
        "score": {
            "required_met": 0,
            "required_total": 0,
            "points": 6,
            "points_max": 20,
            "threshold": 10,
            "decision": "needs_review",
            "points_range": [6, 20],
        },
    }
    data.update(extra)
    return data


def facts_of(data: dict[str, Any], out_dir: Path) -> Any:
    return gather_facts(data, out_dir=out_dir, inbox_entry=out_dir, review_pages=5, words=load_form_words())


def png(path: Path, shape: tuple[int, int] = (40, 120)) -> str:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    picture = np.full(shape, 255, np.uint8)
    picture[10:30, 10:40] = 0
    cv2.imwrite(str(path), picture)
    return str(path.relative_to(path.parent.parent))


# --- smaller defects ----------------------------------------------------------------------------


def test_flag_count_rows_add_up_to_the_totals_per_severity(tmp_path: Path) -> None:
    """Ensures that a code raised as an error on one item and a warning on another gives one row per severity, so the rows add up to the header."""
    flags = [
        {"code": "missing_document", "severity": "error", "item": "9-1-1", "message": "x"},
        {"code": "missing_document", "severity": "warning", "item": "9-1-2", "message": "y"},
        {"code": "uncertain_mark", "severity": "warning", "item": "9-1-2", "message": "z"},
    ]
    facts = facts_of(result(flags=flags), tmp_path)
    rows, totals = flag_count_rows(facts), flag_totals(facts)
    assert sum(r["count"] for r in rows if r["severity"] == "エラー") == totals["error"] == 1
    assert sum(r["count"] for r in rows if r["severity"] == "警告") == totals["warning"] == 2
    assert [(r["label"], r["severity"], r["item_ids"]) for r in rows][0] == ("書類なし", "エラー", "9-1-1")


def test_item_titles_are_wrapped_not_cut(tmp_path: Path) -> None:
    """Ensures that a long item title reaches the item table and the attachment's header band whole, without an ellipsis."""
    data = result(
        items={"9-1-1": item(title=LONG_TITLE, evidence=[{"kind": "document", "status": "present", "attachments": ["att-01"]}])},
        attachments=[{"id": "att-01", "labels": ["9-1-1"], "label_status": "read", "label_text": "9-1-1", "pages": [ref(5)]}],
    )
    [row] = item_rows(facts_of(data, tmp_path))
    assert row["title"] == LONG_TITLE and "…" not in row["title"]
    filed, _ = file_attachments(data, tmp_path)
    from pipeline.output.merge import plan_pages

    [band] = separators(data["items"], filed, tmp_path, plan_pages(5, [("att-01", 1)]))
    assert LONG_TITLE in band.separator.subheading and "…" not in band.separator.subheading


def test_the_same_text_in_two_blanks_is_written_once(tmp_path: Path) -> None:
    """Ensures that two blanks of an item read as the same text give one 記入 line in the item table, and different texts give two."""
    same = [
        {
            "kind": "text",
            "status": "present",
            "page": 3,
            "file": "form.pdf",
            "bbox": [168.6, 137.2, 541.3, 156.7],
            "text": "情報システム部長 見本花子",
        },
        {
            "kind": "text",
            "status": "present",
            "page": 3,
            "file": "form.pdf",
            "bbox": [168.6, 158.8, 541.3, 178.3],
            "text": "情報システム部長 見本花子",
        },
    ]
    [row] = item_rows(facts_of(result(items={"9-1-1": item(evidence=same)}), tmp_path))
    assert [e["label"] for e in row["evidence"]] == ["記入"]
    other = copy.deepcopy(same)
    other[1]["text"] = "見本花子"
    [row] = item_rows(facts_of(result(items={"9-1-1": item(evidence=other)}), tmp_path))
    assert [e["text"] for e in row["evidence"]] == ["情報システム部長 見本花子", "見本花子"]


# --- cover: can the decision change, sign-off -----------------------------------------------------


def test_cover_says_whether_the_decision_can_still_change(tmp_path: Path) -> None:
    """Ensures that the cover says the minimum already clears the pass mark, that the reviewer's score decides, or that even the maximum falls short."""
    above = result(score={**result()["score"], "points": 14, "points_range": [14, 20]})
    assert "最低でも 14 点で、合格基準 10 点に達しています" in " ".join(outlook_lines(facts_of(above, tmp_path)))
    between = result(score={**result()["score"], "points_range": [6, 20]})
    assert "審査者の採点次第で合否が変わります（6〜20 点、合格基準 10 点）" in " ".join(outlook_lines(facts_of(between, tmp_path)))
    below = result(score={**result()["score"], "points_range": [2, 8]})
    assert "最高でも 8 点で、合格基準 10 点に届きません" in " ".join(outlook_lines(facts_of(below, tmp_path)))


def test_signoff_block_filled_from_the_review_block_or_left_to_sign(tmp_path: Path) -> None:
    """Ensures that 一次審査・二次審査 carry the names and dates of result.json's review block, in either shape, and stay blank to sign by hand when absent."""
    listed = {"reviewer": "山田 太郎", "reviews": [{"round": "一次審査", "reviewer": "山田 太郎", "date": "2026-12-07"}]}
    rows = signoff_rows(facts_of(result(review=listed), tmp_path))
    assert rows == [{"round": "一次審査", "reviewer": "山田 太郎", "date": "2026-12-07"}, {"round": "二次審査", "reviewer": "", "date": ""}]
    mapped = {"signoff": {"first": {"name": "山田 太郎", "date": "2026-12-07"}, "second": {"name": "佐藤 花子", "date": "2026-12-10"}}}
    rows = signoff_rows(facts_of(result(review=mapped), tmp_path))
    assert [(r["reviewer"], r["date"]) for r in rows] == [("山田 太郎", "2026-12-07"), ("佐藤 花子", "2026-12-10")]
    assert [r["reviewer"] for r in signoff_rows(facts_of(result(), tmp_path))] == ["", ""]
    unsigned = {"reviewer": None, "signoff": {"first": None, "second": None}}  # as a fresh review.yaml gives it
    assert [r["reviewer"] for r in signoff_rows(facts_of(result(review=unsigned), tmp_path))] == ["", ""]


# --- 要確認事項: what to do -------------------------------------------------------------------------


def test_reviewer_scored_items_are_listed_with_the_line_to_write(tmp_path: Path) -> None:
    """Ensures that every item the form leaves to the reviewer's score (scoring: reviewer, not scored) is a 要確認事項 with its review.yaml line, whatever its id."""
    items = {
        "9-1-1": item(),
        "8-2-5": item(scoring="reviewer", points=None, points_max=5),
        "8-2-6": item(scoring="reviewer", points=4, points_max=5),
    }
    rows = attention_rows(facts_of(result(items=items), tmp_path))
    scored = [r for r in rows if r["kind"] == "審査者の採点"]
    assert [r["item"] for r in scored] == ["8-2-5"]  # 8-2-6 is scored already
    assert scored[0]["todo_section"] == "items:" and scored[0]["todo"].startswith("8-2-5: {points: 5}")
    assert "0〜5 点で採点" in scored[0]["message"]


def test_flags_carry_the_exact_review_yaml_line(tmp_path: Path) -> None:
    """Ensures that an uncertain mark, a missing seal and an unlabelled document each say the line that settles them."""
    items = {
        "9-1-1": item("uncertain", marks=[mark("yes", "uncertain", 84.0), mark("no", "empty", 248.0)]),
        "9-1-2": item(
            evidence=[{"kind": "seal", "status": "missing", "page": 3, "file": "form.pdf", "bbox": [500.0, 180.0, 540.0, 220.0]}]
        ),
    }
    flags = [
        {"code": "uncertain_mark", "severity": "warning", "item": "9-1-1", "message": "印を判定できません"},
        {"code": "missing_seal", "severity": "error", "item": "9-1-2", "message": "押印がありません"},
        {"code": "unlabeled_attachment", "severity": "warning", "item": None, "message": "右肩表示なし", "pages": [ref(9)]},
    ]
    atts = [{"id": "att-07", "labels": [], "label_status": "missing", "pages": [ref(9)]}]
    rows = {r["kind"]: r for r in attention_rows(facts_of(result(items=items, flags=flags, attachments=atts), tmp_path))}
    assert rows["判読不確実な印"]["todo"].startswith("9-1-1: {answer: はい}")
    assert rows["押印なし"]["todo"].startswith("9-1-2: {evidence: {seal: あり}}")
    assert (rows["右肩表示なし"]["todo_section"], rows["右肩表示なし"]["todo"]) == ("attachments:", 'att-07: {labels: ["項目番号"]}')


def test_a_cover_field_without_a_value_says_the_readers_reason(tmp_path: Path) -> None:
    """Ensures that a cover field made uncertain with a reason (a black-and-white scan may have erased it) shows that reason, and one without says it could not be read."""
    from pipeline.model.words import ERASED_FIELD_NOTE

    data = result()
    data["applicant"]["company_name"] = {"value": None, "status": "uncertain", "confidence": None, "page": ref(1), "note": ERASED_FIELD_NOTE}
    data["applicant"]["tel"] = {"value": None, "status": "uncertain", "confidence": None, "page": ref(1)}
    rows = {r["item"]: r for r in attention_rows(facts_of(data, tmp_path)) if r["kind"].startswith("申請者欄")}
    assert rows["会社名"]["message"] == ERASED_FIELD_NOTE
    assert rows["TEL"]["message"] == "機械読取できません。画像で確認してください"


# --- 審査者による訂正 ---------------------------------------------------------------------------------


def test_corrections_show_machine_reading_reviewer_value_who_and_when(tmp_path: Path) -> None:
    """Ensures that each applied correction shows what the machine read (with its crop), the reviewer's value, who and when; a refused one says why."""
    crop = png(tmp_path / "crops" / "p3_9-1-1.yes.png")
    items = {"9-1-1": item(marks=[mark("yes", "checked", 84.0, crop), mark("no", "empty", 248.0)])}
    overrides = [
        {"target": "items.9-1-1.answer", "value": "no", "applied": True, "before": "yes", "reviewer": "山田 太郎", "date": "2026-12-07"},
        {"target": "items.9-1-2.points", "value": 9, "applied": False, "reason": "点数は 0〜3 です"},
    ]
    rows = correction_rows(facts_of(result(items=items, overrides=overrides), tmp_path))
    first, refused = rows
    assert (first["target"], first["what"], first["before"], first["after"], first["who"], first["when"]) == (
        "9-1-1",
        "回答",
        "はい",
        "いいえ",
        "山田 太郎",
        "2026-12-07",
    )
    assert isinstance(first["image"], CropStrip) and first["image"].crops[0].path.name == "p3_9-1-1.yes.png"
    assert not refused["applied"] and refused["reason"] == "点数は 0〜3 です"


def test_corrections_fall_back_to_the_review_block_and_the_marks(tmp_path: Path) -> None:
    """Ensures that without a per-correction record the reviewer comes from the review block and the machine's answer from its checked marks."""
    overrides = [{"target": "items.9-1-1.answer", "value": "no", "applied": True}]
    review = {"reviewer": "佐藤 花子", "reviews": [{"round": "一次審査", "reviewer": "佐藤 花子", "date": "2026-12-09"}]}
    [row] = correction_rows(facts_of(result(overrides=overrides, review=review), tmp_path))
    assert (row["before"], row["who"], row["when"]) == ("はい", "佐藤 花子", "2026-12-09")


# --- page images, crops and overlays ----------------------------------------------------------------


def page_image(number: int = 3, dpi: float = 200.0) -> FormPageImage:
    h, w = round(841.89 * dpi / 72), round(595.28 * dpi / 72)
    image = np.full((h, w), 250, np.uint8)
    s = dpi / 72
    image[int(100 * s) : int(110 * s), int(170 * s) : int(260 * s)] = 20  # writing in the field at y 95–115 pt
    image[int(114 * s) : int(115 * s), int(168 * s) : int(540 * s)] = 0  # the field's ruled line
    return FormPageImage(number, PageRef("form.pdf", number), image, dpi, 595.28, 841.89)


def test_page_images_saved_once_at_modest_resolution(tmp_path: Path) -> None:
    """Ensures that each form page is saved as pages/<n>.png at 100 dpi grey (a 200 dpi reading is reduced), listed for result.json, and a stale page removed."""
    import cv2

    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "9.png").write_bytes(b"old")
    entries = save_page_images({3: page_image(3, 200.0)}, tmp_path)
    assert entries == [{"form_page": 3, "page": ref(3), "image": "pages/3.png", "dpi": 100.0, "width_pt": 595.28, "height_pt": 841.89}]
    saved = cv2.imread(str(tmp_path / "pages" / "3.png"), cv2.IMREAD_UNCHANGED)
    assert saved.ndim == 2 and abs(saved.shape[1] - 827) <= 1
    assert not (tmp_path / "pages" / "9.png").exists()


def test_missing_crops_are_cut_for_unsure_marks_fields_and_places(tmp_path: Path) -> None:
    """Ensures that an uncertain mark, a cover field and a text blank get a crop cut from their page, and a sure mark does not."""
    ev = {"kind": "text", "status": "present", "page": 3, "file": "form.pdf", "bbox": [168.0, 95.0, 541.0, 115.0], "text": "x"}
    data = result(
        items={
            "9-1-1": item("uncertain", marks=[mark("yes", "uncertain", 84.0), mark("no", "empty", 248.0)]),
            "9-1-2": item(evidence=[ev]),
        },
        applicant={"company_name": {"value": "x", "status": "read", "page": ref(3), "bbox": [168.0, 95.0, 541.0, 115.0]}},
    )
    data["items"]["9-1-1"]["answer"] = "yes"  # only the uncertain mark needs its crop
    cut_missing_crops(data, {3: page_image(3, 100.0)}, tmp_path)
    marks = data["items"]["9-1-1"]["marks"]
    assert marks[0]["crop"] == "crops/p3_9-1-1.yes.png" and "crop" not in marks[1]
    assert (tmp_path / marks[0]["crop"]).is_file()
    field_crop = tmp_path / data["applicant"]["company_name"]["crop"]
    assert (tmp_path / data["items"]["9-1-2"]["evidence"][0]["crop"]).is_file()
    from PIL import Image

    with Image.open(field_crop) as im:  # trimmed to the writing (~90 pt), not the whole 373 pt line
        assert im.width < 373 * 100 / 72 * 0.5


def test_overlay_frames_marks_by_state_fields_and_corrections(tmp_path: Path) -> None:
    """Ensures that each mark is framed in its state's style with its letter, fields and seal places framed, and a corrected item double-framed with the new value."""
    ev = {"kind": "seal", "status": "present", "page": 3, "file": "form.pdf", "bbox": [500.0, 180.0, 540.0, 220.0]}
    items = {"9-1-1": item(marks=[mark("yes", "checked", 84.0), mark("no", "uncertain", 248.0)], evidence=[ev])}
    overrides = [{"target": "items.9-1-1.answer", "value": "no", "applied": True}]
    shapes = page_shapes(result(items=items, overrides=overrides))[("form.pdf", 3)]
    styles = [(s.style, s.tag) for s in shapes]
    assert ("checked", "有") in styles and ("uncertain", "？") in styles and ("sign", "押印有") in styles
    corrected = [s for s in shapes if s.style == "corrected"]
    assert len(corrected) == 1 and corrected[0].tag == "訂 9-1-1→いいえ"
    assert corrected[0].bbox[1] < 84.0 and corrected[0].bbox[3] > 259.0  # around both boxes
    assert page_shapes(result())[("form.pdf", 1)][0].style == "field"


def test_appendix_and_debug_overlays_from_saved_pages(tmp_path: Path) -> None:
    """Ensures that every saved page becomes an appendix page with its frames, and --debug's PNG shows the state colours over the page."""
    from PIL import Image

    data = result()
    data["page_images"] = save_page_images({3: page_image(3, 100.0)}, tmp_path)
    [sheet] = answer_sheet_pages(data, tmp_path)
    assert sheet.title.startswith("回答書 p.3") and len(sheet.shapes) == 4  # two items × two marks
    [written] = write_debug_overlays(data, tmp_path)
    assert written.name == "page-3.png"
    with Image.open(written) as im:
        colours = {c for _, c in im.convert("RGB").getcolors(1 << 20) or []}
    assert (0x15, 0x65, 0xC0) in colours  # the checked boxes' blue
    data["page_images"][0]["image"] = "../../etc/passwd"
    assert answer_sheet_pages(data, tmp_path) == []  # a path outside the outbox folder is never drawn


def test_merge_appends_answer_sheets_with_vector_frames(tmp_path: Path) -> None:
    """Ensures that the merged dossier ends with one page per answer sheet, bookmarked under 付録, its frames drawn as PDF rectangles."""
    import pikepdf
    from reportlab.pdfgen.canvas import Canvas

    from pipeline.output.merge import AnswerSheetPage, Shape, merge_dossier

    review = tmp_path / "review.pdf"
    c = Canvas(str(review))
    c.drawString(100, 700, "review")
    c.showPage()
    c.save()
    image = tmp_path / "pages" / "3.png"
    png(image, (1170, 827))
    sheet = AnswerSheetPage(image, 595.28, 841.89, "回答書 p.3（form.pdf p.3）", (Shape((86.0, 84.0, 97.0, 95.0), "checked", "有"),))
    report = merge_dossier(review, [], [], footer_name="x", title="t", out=tmp_path / "out.pdf", appendix=[sheet])
    assert (report.total_pages, report.appendix_pages) == (2, 1)
    assert "付録　回答書の読取結果" in report.outline and sheet.title in report.outline
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        ops = [str(op) for _, op in pikepdf.parse_content_stream(pdf.pages[1])]
        assert ops.count("re") >= 3  # the page's frame, the box, the legend's swatches
        assert "Do" in ops  # the page image


# --- end to end: the demo's scan-free submission through the reader ----------------------------------


@pytest.mark.slow
def test_run_saves_page_images_crops_and_debug_overlays(tmp_path: Path) -> None:
    """Ensures that reading a submission saves every form page once, lists them in result.json, gives every field a crop, and --debug writes the overlays."""
    from pipeline.run.submission import process_submission
    from samples.demo import build_demo

    entries = build_demo(tmp_path / "inbox", FORM_DIR)
    entry = next(e for e in entries if "incomplete" in e.name)
    out = tmp_path / "outbox" / "x"
    data = process_submission(entry, FORM_DIR, out, debug=True)
    assert len(data["page_images"]) == len(data["form_pages"]) > 1
    for entry_image in data["page_images"]:
        assert (out / entry_image["image"]).is_file() and entry_image["dpi"] == 100.0
    assert sorted(p.name for p in (out / "debug").glob("*.png")) == sorted(f"page-{e['form_page']}.png" for e in data["page_images"])
    for key, fld in data["applicant"].items():
        assert fld.get("crop") or fld["status"] == "missing", key
    saved = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert saved["page_images"] == data["page_images"]


def test_a_declarations_flags_name_it_by_its_japanese_title(tmp_path: Path) -> None:
    """Ensures that the 要確認事項 and the flag counts name a declaration by its title from the form, never by its key (upstream_provider)."""
    flags = [{"code": "declaration_requires_document", "severity": "warning", "item": "upstream_provider", "message": "m"}]
    declarations = {"upstream_provider": {"answer": "yes", "choice": "dependent", "marks": []}}
    facts = facts_of(result(flags=flags, declarations=declarations), tmp_path)
    title = load_form_words().declaration("upstream_provider")
    assert title != "upstream_provider" and "上位" in title
    assert [r["item"] for r in attention_rows(facts) if r["kind"] == "申告に伴う書類"] == [title]
    assert [r["item_ids"] for r in flag_count_rows(facts)] == [title[:60] if len(title) <= 60 else title[:59] + "…"]


def test_an_unsettled_item_shows_its_points_range_not_a_final_zero(tmp_path: Path) -> None:
    """Ensures that an item whose answer or evidence is in doubt shows 0〜3/3 in the points column, a settled one 3/3 or 0/3."""
    unsure = item(points=0, points_range=[0, 3], evidence=[{"kind": "url_path", "status": "uncertain", "page": 3, "file": "form.pdf"}])
    rows = item_rows(facts_of(result(items={"9-1-1": unsure, "9-1-2": item(), "9-1-3": item("no")}), tmp_path))
    assert [r["points"] for r in rows] == ["0〜3/3", "3/3", "0/3"]
