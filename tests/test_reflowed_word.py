"""A form filled in Word moves its text: boxes and fields are found where the blank's print went.

Unit tests build character streams by hand (a blank line, the same line pushed down, moved to the
next page, a value typed and wrapped); the end-to-end test fills another printing of the
questionnaire in Word (samples.independent, a generator that never read the readers; seed 87500
is outside the held-out range and was not used to tune anything), calibrates its blank, runs the
submission and compares every box with the generator's truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.reading.text_anchor import align, placed_stream, shift_of, typed_in
from pipeline.sources.textlayer import Char

SEED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seed"


def line(text: str, x: float, y: float, size: float = 10.0) -> list[Char]:
    return [Char(ch, (x + i * size, y, x + (i + 1) * size, y + size)) for i, ch in enumerate(text)]


BLANK = [
    (1, line("1-1-1□以下の内容が盛り込まれている", 60, 100) + line("部署・役職：", 80, 130) + line("氏名：", 80, 150) + line("1-1-2□監査報告書がある", 60, 200)),
    (2, line("1-2-1□従業員に対し、セキュリティに関する啓発活動を行っている。", 60, 100)),
]


def test_a_box_pushed_down_by_typing_is_found_by_its_own_glyph() -> None:
    doc = [
        (0, line("1-1-1■以下の内容が盛り込まれている", 60, 100) + line("部署・役職：総務部長", 80, 130) + line("氏名：山田", 80, 150) + line("1-1-2□監査報告書がある", 60, 236)),
        (1, line("1-2-1■従業員に対し、セキュリティに関する啓発活動を行っている。", 60, 100)),
    ]
    al = align(placed_stream(BLANK), placed_stream(doc))
    box_112 = (110.0, 200.0, 120.0, 210.0)  # the □ of 1-1-2 on the blank
    shift = shift_of(al, 1, box_112)
    assert shift is not None and shift.page == 0 and shift.dy == pytest.approx(36.0) and shift.dx == pytest.approx(0.0)
    assert al.form_pages(2) == {0: 1, 1: 2}
    assert not al.in_place()


def test_a_box_moved_onto_the_next_page_is_read_there() -> None:
    doc = [
        (0, line("1-1-1■以下の内容が盛り込まれている", 60, 100) + line("部署・役職：総務部長", 80, 130) + line("氏名：山田", 80, 150)),
        (1, line("1-1-2■監査報告書がある", 60, 40) + line("1-2-1■従業員に対し、セキュリティに関する啓発活動を行っている。", 60, 140)),
    ]
    al = align(placed_stream(BLANK), placed_stream(doc))
    shift = shift_of(al, 1, (110.0, 200.0, 120.0, 210.0))
    assert shift is not None and shift.page == 1 and shift.dy == pytest.approx(-160.0)


def test_typed_values_are_read_from_the_stream_even_when_wrapped() -> None:
    doc = [
        (0, line("1-1-1■以下の内容が盛り込まれている", 60, 100) + line("部署・役職：情報システム部", 80, 130) + line("長", 80, 142) + line("氏名：山田", 80, 162)),
        (1, line("1-2-1■従業員に対し、セキュリティに関する啓発活動を行っている。", 60, 100)),
    ]
    al = align(placed_stream(BLANK), placed_stream(doc))
    title = typed_in(al, 1, (140.0, 128.0, 300.0, 142.0))  # the blank after 部署・役職：
    name = typed_in(al, 1, (110.0, 148.0, 300.0, 162.0))  # the blank after 氏名：
    assert title is not None and "".join(c.text for c in title) == "情報システム部長"  # the print 「氏名：」 ends it
    assert name is not None and "".join(c.text for c in name) == "山田"


def test_a_seal_spot_printed_in_a_name_place_is_not_part_of_the_typed_name() -> None:
    """Ensures that the blank's 印 inside a name's place, which Word moves to after the typed name, is left out of the name (seed 86900-08 respondent.name read 「佐藤拓也印」), while a date keeps its own printed 年 月 日."""
    blank = [(1, line("氏名：", 80, 130) + line("印", 280, 130) + line("日付：", 80, 160) + line("年", 140, 160) + line("月", 180, 160) + line("日", 220, 160) + line("1-2-1□従業員に対し、啓発活動を行っている。", 60, 200))]
    doc = [(0, line("氏名：佐藤拓也印", 80, 130) + line("日付：2025年4月1日", 80, 160) + line("1-2-1■従業員に対し、啓発活動を行っている。", 60, 200))]
    al = align(placed_stream(blank), placed_stream(doc))
    name = typed_in(al, 1, (110.0, 128.0, 300.0, 142.0))
    assert name is not None and "".join(c.text for c in name) == "佐藤拓也"
    date = typed_in(al, 1, (110.0, 158.0, 300.0, 172.0))
    assert date is not None and "".join(c.text for c in date) == "2025年4月1日"


def test_the_blank_itself_is_in_place() -> None:
    al = align(placed_stream(BLANK), placed_stream([(0, BLANK[0][1]), (1, BLANK[1][1])]))
    assert al.in_place()


def test_an_unrelated_document_is_not_the_form() -> None:
    doc = [(0, line("当社の情報セキュリティ基本方針は以下のとおりである。以下の内容を定める", 60, 100))]
    al = align(placed_stream(BLANK), placed_stream(doc))
    assert al.form_pages(1) == {}


@pytest.mark.slow
@pytest.mark.skipif(not any(SEED_DIR.glob("*.txt")), reason="../shared/seed is absent (the independent set is built from it)")
def test_a_word_filled_form_of_another_printing_reads_every_box_right_or_uncertain(tmp_path: Path) -> None:
    from pipeline.form.calibrate.api import calibrate
    from pipeline.form.definition import load_form
    from pipeline.run.submission import process_submission
    from samples.independent.generate import generate

    mapping = generate(tmp_path / "set", 87500, 1, ways=("word",), max_attachments=3)
    (submission, printing), *_ = mapping.items()
    form_dir = tmp_path / "form"
    form_dir.mkdir()
    repo = Path(__file__).resolve().parents[1]
    for name in ("items.yaml", "form.yaml"):
        (form_dir / name).write_bytes((repo / "forms" / "renewal" / name).read_bytes())
    calibrate(tmp_path / "set" / "printings" / printing / "blank.pdf", form_dir, load_form(repo / "forms" / "renewal", with_layout=False))
    result = process_submission(tmp_path / "set" / "inbox" / submission, form_dir, tmp_path / "out")
    truth = json.loads((tmp_path / "set" / "truth" / f"{submission}.json").read_text(encoding="utf-8"))

    right = silent = total = 0
    for group in ("items", "declarations"):
        for key, want in truth[group].items():
            read = {m["option"]: m["state"] for m in result[group].get(key, {}).get("marks", [])}
            for option, state in want.get("marks", {}).items():
                total += 1
                got = read.get(option)
                right += got == state
                silent += got in ("checked", "empty") and got != state
    assert total > 80  # every box of the 56 items and the declarations
    print(f"boxes: {right}/{total} right, {silent} silently wrong")
    assert silent == 0
    assert right >= 0.97 * total
    urls = [
        (key, want["url_path"] is not None, ev["status"] == "present")
        for key, want in truth["items"].items()
        for ev in result["items"].get(key, {}).get("evidence", [])
        if ev["kind"] == "url_path" and ev["status"] in ("present", "missing")
    ]
    assert urls and [u for u in urls if u[1] != u[2]] == [], "a URL line typed in or left empty is told right"
    assert any(f["code"] == "reflowed_form" for f in result["flags"])
    assert not [f for f in result["flags"] if f["code"] == "missing_form_page" and f["severity"] == "error"]


def test_a_short_label_alone_on_its_line_places_its_field() -> None:
    """Ensures that 「氏名：」 (three characters, under the strong-run length) at the top of a blank page still places the field after it, where the file moved it."""
    blank = [
        (1, line("1-1-1□以下の内容が盛り込まれている", 60, 100) + line("部署・役職：", 80, 130)),
        (2, line("氏名：", 80, 40) + line("1-2-1□従業員に対し、セキュリティに関する啓発活動を行っている。", 60, 100)),
    ]
    doc = [
        (0, line("1-1-1■以下の内容が盛り込まれている", 60, 100) + line("部署・役職：総務部長", 80, 130)),
        (1, line("氏名：高橋", 80, 70) + line("1-2-1■従業員に対し、セキュリティに関する啓発活動を行っている。", 60, 130)),
    ]
    al = align(placed_stream(blank), placed_stream(doc))
    shift = shift_of(al, 2, (110.0, 38.0, 300.0, 52.0))
    assert shift is not None and (shift.page, shift.dy) == (1, pytest.approx(30.0))
    name = typed_in(al, 2, (110.0, 38.0, 300.0, 52.0))
    assert name is not None and "".join(c.text for c in name) == "高橋"


def test_a_page_holding_only_the_forms_last_line_is_the_forms() -> None:
    """Ensures that a page typing pushed the blank's last line onto (「e-mail：」 alone) is the form's, and a short page of other text after the form is not."""
    blank = [(1, line("1-1-1□以下の内容が盛り込まれている", 60, 100) + line("部署・役職：", 80, 130) + line("e-mail：", 80, 700))]
    pushed = [
        (0, line("1-1-1■以下の内容が盛り込まれている", 60, 100) + line("部署・役職：情報システム部長", 80, 130)),
        (1, line("e-mail：", 80, 40)),
    ]
    al = align(placed_stream(blank), placed_stream(pushed))
    found = al.form_pages(2)
    assert found == {0: 1} and al.tail_pages(2, found) == {1}
    other = [(0, pushed[0][1] + line("e-mail：", 80, 700)), (1, line("別紙のとおり", 80, 40))]
    al = align(placed_stream(blank), placed_stream(other))
    assert al.tail_pages(2, al.form_pages(2)) == set()


def test_an_underline_of_the_file_is_print_and_a_pasted_stroke_is_ink() -> None:
    """Ensures that the witness image of a Word file loses its own ruled lines (an underline as long as the typed spaces) but keeps a curved pen stroke."""
    import cv2
    import numpy as np

    from pipeline.reading.reflowed import _rules_removed

    page = np.full((200, 600), 255, np.uint8)
    cv2.line(page, (100, 60), (520, 60), 0, 1)  # an underline
    cv2.line(page, (40, 20), (40, 180), 0, 2)  # a frame's side
    cv2.circle(page, (300, 140), 28, 0, 2)  # a seal's ring (40 pt at 100 dpi)
    xs = np.arange(380, 560)
    cv2.polylines(page, [np.stack([xs, 150 + 12 * np.sin(xs / 9.0)], axis=1).astype(np.int32)], False, 0, 2)  # a signature's stroke
    out = _rules_removed(page)
    assert (out[55:66, 100:521] < 160).sum() == 0 and (out[20:181, 36:45] < 160).sum() == 0
    for region in (np.s_[105:175, 265:336], np.s_[130:170, 380:560]):
        assert (out[region] < 160).sum() > 0.9 * (page[region] < 160).sum()


def test_a_tall_place_is_placed_by_its_own_line_not_the_sentence_end_above() -> None:
    """Ensures that a signature place reaching up over the end of the sentence above (its 「。」) is placed by its label's row when the two lines moved apart."""

    def sentence(y: float) -> list[Char]:  # a 「。」 sits low in its square: its middle is lower than its line's
        return line("当社では対応している", 60, y) + [Char("。", (160.0, y + 6.0, 170.0, y + 10.0))]

    blank = [(1, sentence(96) + line("署名押印：", 60, 112) + line("1-1-2□監査報告書がある", 60, 160))]
    doc = [(0, sentence(96) + line("（追記した行）", 60, 130) + line("署名押印：", 60, 150) + line("1-1-2□監査報告書がある", 60, 198))]
    al = align(placed_stream(blank), placed_stream(doc))
    shift = shift_of(al, 1, (115.0, 104.0, 300.0, 124.0))  # from above the 。's middle down past the label's line
    assert shift is not None and shift.dy == pytest.approx(38.0)
    shift = shift_of(al, 1, (115.0, 95.0, 300.0, 125.0))  # the whole sentence in, its 。 nearer the middle than the label
    assert shift is not None and shift.dy == pytest.approx(38.0)


def test_a_seal_square_over_three_rows_follows_its_own_row_when_the_next_went_to_the_next_page() -> None:
    """Ensures that a seal's square (over the rows above and below its 印) is placed by the 印's row when the row below was pushed onto the next page."""
    blank = [(1, line("対策方法：", 60, 100) + line("署名押印：", 60, 116) + line("印", 240, 116) + line("（部署名・役職も明記して下さい）", 60, 132))]
    doc = [
        (0, line("対策方法：毎日確認する", 60, 700) + line("署名押印：", 60, 760) + line("印", 240, 760)),
        (1, line("（部署名・役職も明記して下さい）", 60, 40)),
    ]
    al = align(placed_stream(blank), placed_stream(doc))
    shift = shift_of(al, 1, (225.0, 101.0, 265.0, 141.0))  # the seal's square around the 印
    assert shift is not None and (shift.page, shift.dy) == (0, pytest.approx(644.0))
