"""Field patterns: loaded from items.yaml and checked when they load; a value read off its pattern is uncertain."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.form.definition import load_form
from pipeline.model.errors import FormDefinitionError
from pipeline.model.records import FieldReading, PageRef
from pipeline.reading.field_text import DISAGREE_NOTE, agreement_key, cross_check
from pipeline.reading.fields import fit_pattern
from pipeline.tools.ppocr import LineRead

REPO = Path(__file__).resolve().parents[1]
RENEWAL = REPO / "forms" / "renewal"


def _fields(form):
    return {f.name: f for p in form.pages for f in p.fields}


def test_the_form_gives_each_field_kind_its_pattern(form):
    """Ensures that TEL, FAX, e-mail, URL, date, ユーザー数 and 登録番号 fields carry their items.yaml pattern, and free text none."""
    fields = _fields(form)
    want = {
        "applicant.tel": "telephone",
        "applicant.fax": "telephone",
        "respondent.email": "email",
        "applicant.url": "url",
        "2-1-5.url_target": "url",
        "applicant.date": "date",
        "applicant.registration_date": "date",
        "applicant.registration_number": "registration_number",
        "applicant.user_count": "number",
    }
    for name, pattern in want.items():
        assert fields[name].pattern is not None and fields[name].pattern.name == pattern, name
    for name in ("applicant.company_name", "applicant.address", "1-1-3.name", "1-1-3.signature"):
        assert fields[name].pattern is None, name


CASES = {
    "applicant.tel": (
        ["03-1234-5678", "0120-123-456", "090-1234-5678", "(03) 1234-5678", "0312345678", "０３－１２３４－５６７８", "+81-3-1234-5678"],
        ["03-1 234-5678", "03-71 46.8383", "03-1234-567", "03-1234-56789", "株式会社テスト", "None", "3-1234-5678"],
    ),
    "respondent.email": (
        ["info@toto-net.example.co.jp", "a.b+c@example.jp"],
        ["info@toto-net.example.Co. jp", "info@@example.jp", "info@example", "情報システム部 見本 花子"],
    ),
    "applicant.url": (
        ["https://www.sample-net.example.jp/", "www.toto-net.example.co.jp/terms/", "http://example.jp:8080/a/b.html?x=1"],
        ["support/5-1 -1 .html", "https://www,toto-net.example,co,jp/", "https://www.example.jp/a b", "トップ → 会社概要", "None"],
    ),
    "applicant.date": (
        ["令和7年3月18日", "7年3月18日", "2012年12月6日", "令和 7 年 3 月 18 日", "2025/3/18", "R7.3.18", "令和元年5月1日"],
        ["?年8月17日", "7年13月1日", "7年3月32日", "None", "7 3 18"],
    ),
    "applicant.user_count": (
        ["12,000", "12000", "約 12,000", "約12,000", "1.2万", "12,000人", "5,000以上"],
        ["#9) 12,000", "000", "0", "93 28,600 7", "12,00", "None"],
    ),
    "applicant.registration_number": (
        ["A-12-3456", "A-26-1352", "第123号", "第 45 号"],
        ["A-1 2-3456", "A-1G-7995", "None", "株式会社テスト"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_on_and_off_their_pattern(form, name):
    """Ensures that real spellings of a field's kind stay read and the misreadings seen in the field become uncertain with a note."""
    fld = _fields(form)[name]
    good, bad = CASES[name]
    for value in good:
        reading = FieldReading(name, fld.owner, fld.kind, value, "read", 1.0, PageRef("a.pdf", 1), fld.bbox)
        assert fit_pattern(reading, fld) is reading, value
    for value in bad:
        reading = FieldReading(name, fld.owner, fld.kind, value, "read", 1.0, PageRef("a.pdf", 1), fld.bbox)
        got = fit_pattern(reading, fld)
        assert got.status == "uncertain" and got.value == value, value
        assert fld.pattern is not None and fld.pattern.label in (got.note or ""), value


def test_only_read_values_are_checked(form):
    """Ensures that an empty, handwritten or already uncertain reading is left as it is by the pattern check."""
    fld = _fields(form)["applicant.tel"]
    for status, value in (("empty", None), ("handwritten", None), ("uncertain", "03-1 234")):
        reading = FieldReading(fld.name, fld.owner, fld.kind, value, status, None, None, fld.bbox)  # type: ignore[arg-type]
        assert fit_pattern(reading, fld) is reading


def _read(fld, value):
    return FieldReading(fld.name, fld.owner, fld.kind, value, "read", 0.99, PageRef("a.pdf", 1), fld.bbox)


# (field, first reading, second reading, value kept): the three handwritten misreadings of the
# independent set that Tesseract read confidently in the field's shape, and two that are not
# the field's shape at all.
DISAGREEMENTS = [
    ("applicant.registration_number", "A-11-5349", "A-11-5340", "A-11-5340"),
    ("applicant.tel", "03-1911-2650", "03-1011-2650", "03-1011-2650"),
    ("applicant.company_name", "さくら66", "さくらBB", "さくらBB"),
    ("applicant.company_name", "みとり通信株式会社", "みどり通信株式会社", "みどり通信株式会社"),  # a voicing mark is no tolerance
    ("respondent.email", "info@example.co.jp", "info@example.co.ip", "info@example.co.ip"),  # latin: no tolerance either
    ("applicant.tel", "03-1011-2650", "03-1O11-265O", "03-1011-2650"),  # the second off the pattern: the first is kept
    ("applicant.tel", "03-1O11-265O", "O3-1011-2650", None),  # neither fits: no value, only the crop
]


@pytest.mark.parametrize(("name", "first", "second", "kept"), DISAGREEMENTS)
def test_two_readings_that_differ_make_the_field_uncertain(form, name, first, second, kept):
    """Ensures that a read field whose second reading differs becomes uncertain, names both readings, and keeps the one in the field's shape."""
    fld = _fields(form)[name]
    got = cross_check(_read(fld, first), LineRead(second, 0.99, (0.99,) * len(second)), fld)
    assert got.status == "uncertain"
    assert got.value == kept
    assert got.note == DISAGREE_NOTE.format(first, second)


def test_two_readings_that_agree_keep_the_field_read(form):
    """Ensures that readings differing only in width of characters, spacing or a date's printed glyphs agree, and an empty second reading does not."""
    fields = _fields(form)
    same = [
        ("applicant.tel", "03-1011-2650", "０３－１０１１－２６５０"),
        ("applicant.company_name", "東都ネットワーク 株式会社", "東都ネットワーク株式会社"),
        ("respondent.email", "info@example.co.jp", " info@example.co.jp "),
        ("applicant.date", "令和7年3月18日", "7 3 18"),  # the second reader sees the written digits alone
        ("applicant.registration_date", "2008年8月24日", "2008824"),  # its groups run together (seed 85700)
        ("applicant.registration_date", "2008年8月24日", "2008 824"),
        ("applicant.company_name", "有限会社さくらインターネット", "有限会社さくらィンターネット"),  # a small kana as its full size
    ]
    for name, first, second in same:
        reading = _read(fields[name], first)
        assert cross_check(reading, LineRead(second, 0.9, ()), fields[name]) is reading, (first, second)
    reading = _read(fields["applicant.company_name"], "さくらBB")
    got = cross_check(reading, LineRead("", 0.0, ()), fields["applicant.company_name"])
    assert got.status == "uncertain" and got.value == "さくらBB" and "（読めず）" in (got.note or "")
    date = fields["applicant.date"]
    assert agreement_key("7年3月18日", date) != agreement_key("7 3 19", date)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("6年5月1日", "6 5 ?1"),  # seed 85000: 21 written, Tesseract read 1, PP-OCR ?1 (the digits alone would agree)
        ("令和1年11月1日", "11 1 1"),  # the same digits in other groups
        ("令和7年3月18日", "7 3 1B"),  # a stroke read as a letter
        ("令和8年5月1日", "8"),  # a group not seen by the second reader
        ("令和8年5月1日", "85"),
        ("令和8年5月1日", "8 5 1 1"),
        ("令和8年5月11日", "85 11 1"),
    ],
)
def test_a_date_agrees_only_group_by_group(form, first, second):
    """Ensures that a date's two readings agree only when the second holds the same groups of digits in order and nothing else."""
    fld = _fields(form)["applicant.date"]
    assert cross_check(_read(fld, first), LineRead(second, 0.9, ()), fld).status == "uncertain"


def _form_copy(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "renewal"
    folder.mkdir()
    for name in ("form.yaml", "layout.yaml", "blank.pdf"):
        shutil.copy(RENEWAL / name, folder / name)
    text = (RENEWAL / "items.yaml").read_text(encoding="utf-8")
    (folder / "items.yaml").write_text(edit(text), encoding="utf-8")
    return folder


def test_a_pattern_that_does_not_compile_stops_the_form(tmp_path):
    """Ensures that a field pattern that is not a valid regular expression is refused at load, naming the file and the key."""
    folder = _form_copy(
        tmp_path,
        lambda t: t.replace(
            "  registration_number:\n    label: 登録・届出番号\n    # 届出番号 A-26-1352, 登録番号 第123号\n    regex: '",
            "  registration_number:\n    label: 登録・届出番号\n    regex: '(unclosed",
            1,
        ),
    )
    with pytest.raises(FormDefinitionError) as err:
        load_form(folder)
    message = str(err.value)
    assert str(folder / "items.yaml") in message and "field_patterns.registration_number.regex" in message


def test_a_field_naming_an_unknown_pattern_stops_the_form(tmp_path):
    """Ensures that a cover field naming a pattern that field_patterns lacks is refused at load, naming the file and the field."""
    folder = _form_copy(
        tmp_path,
        lambda t: t.replace(
            '{key: tel, label: "TEL", script: latin, pattern: telephone}', '{key: tel, label: "TEL", script: latin, pattern: phone}', 1
        ),
    )
    with pytest.raises(FormDefinitionError) as err:
        load_form(folder)
    assert "cover_fields tel.pattern" in str(err.value) and "'phone'" in str(err.value) and "items.yaml" in str(err.value)


def test_a_pattern_without_its_regex_stops_the_form(tmp_path):
    """Ensures that a field pattern lacking its regex is refused at load, naming the pattern."""
    folder = _form_copy(tmp_path, lambda t: t.replace("field_patterns:\n", "field_patterns:\n  broken: {label: 壊れた}\n", 1))
    with pytest.raises(FormDefinitionError, match=r"field_patterns\.broken"):
        load_form(folder)


def test_faint_small_writing_is_uncertain_not_empty_and_its_url_line_is_not_taken_as_filled() -> None:
    """Ensures that a field holding a few faint thin strokes (under the written threshold) is uncertain with a Japanese note, a clean one empty, and that such a URL line is not counted as a path filled in."""
    import numpy as np

    from pipeline.model.records import FieldLayout, FieldReading, PageRef
    from pipeline.model.words import FAINT_FIELD_NOTE
    from pipeline.reading.fields import read_text
    from pipeline.reading.marks import InkView
    from pipeline.rules.evidence import _field_status

    blank = np.zeros((300, 800), np.float32)
    blank[120, 100:700] = 1.0  # the field's underline
    scan = blank.copy()
    view_empty = InkView(100.0, scan.copy(), blank, blank, None, blank)
    for x in range(220, 300, 8):  # 「03-2790」 written 6 pt high in a thin, light pen: ten short strokes
        scan[108:114, x] = 0.22
    view_faint = InkView(100.0, scan, blank, blank, None, blank)
    fld = FieldLayout(name="applicant.fax", owner="applicant", kind="text", bbox=(72.0, 72.0, 504.0, 90.0))
    ref = PageRef("scan.pdf", 1)
    assert read_text(view_empty, fld, ref, None, None)[0].status == "empty"
    faint, _, _ = read_text(view_faint, fld, ref, None, None)
    assert faint.status == "uncertain" and faint.note == FAINT_FIELD_NOTE
    url = FieldReading("4-1-1.url_target", "4-1-1", "url", None, "uncertain", None, ref, fld.bbox, note=FAINT_FIELD_NOTE)
    assert _field_status(url, page_missing=False) == "uncertain"
    assert _field_status(FieldReading("4-1-1.url_target", "4-1-1", "url", None, "handwritten", None, ref, fld.bbox), page_missing=False) == "present"


def test_an_empty_signature_place_with_writing_just_below_it_is_uncertain() -> None:
    """Ensures that a signature written a line lower than its place (typing moved the line) is not read as no signature, while a name written in the place above it does not count."""
    import numpy as np

    from pipeline.model.records import FieldLayout, PageRef
    from pipeline.model.words import STRAY_SIGNATURE_NOTE
    from pipeline.reading.fields import read_signature
    from pipeline.reading.marks import InkView

    k = 100.0 / 72.0  # px per pt at 100 dpi
    blank = np.zeros((400, 800), np.float32)
    sig = FieldLayout(name="1-1-3.signature", owner="1-1-3", kind="signature", bbox=(208.0, 150.0, 313.0, 178.0))
    name_place = (114.0, 125.0, 315.0, 145.0)  # the 氏名 line right above the place
    ref = PageRef("scan.pdf", 2)

    def written(top_pt: float) -> np.ndarray:  # four kanji, 11 pt tall, strokes 2 px wide
        scan = blank.copy()
        y0, y1 = int(top_pt * k), int((top_pt + 11) * k)
        for x in range(int(220 * k), int(290 * k), 12):
            scan[y0:y1, x : x + 2] = 0.9
            scan[y0 + 4 : y0 + 6, x : x + 9] = 0.9
        return scan

    others = [name_place]
    clean = read_signature(InkView(100.0, blank.copy(), blank, blank, None, blank), sig, ref, others=others)[0]
    assert clean.status == "empty"
    below = read_signature(InkView(100.0, written(186.0), blank, blank, None, blank), sig, ref, others=others)[0]
    assert below.status == "uncertain" and below.note == STRAY_SIGNATURE_NOTE
    inside = read_signature(InkView(100.0, written(158.0), blank, blank, None, blank), sig, ref, others=others)[0]
    assert inside.status == "handwritten"
    name_only = read_signature(InkView(100.0, written(130.0), blank, blank, None, blank), sig, ref, others=others)[0]
    assert name_only.status == "empty"  # the name in its own place above is that place's writing
    # a Word printing's signature line, calibrated 9.5 pt tall, with the pasted name's line grown: written 10 pt below it
    line = FieldLayout(name="1-1-3.signature", owner="1-1-3", kind="signature", bbox=(208.0, 150.0, 313.0, 159.5))
    lower = read_signature(InkView(100.0, written(170.0), blank, blank, None, blank), line, ref, others=others)[0]
    assert lower.status == "uncertain" and lower.note == STRAY_SIGNATURE_NOTE


def test_a_stamp_on_a_seal_place_squeezed_between_lines_is_a_seal() -> None:
    """Ensures that a seal place calibrated only 24 pt tall (another printing) still reads a full stamp as present, not uncertain, and an empty one as empty."""
    import cv2
    import numpy as np

    from pipeline.model.records import FieldLayout, PageRef
    from pipeline.reading.fields import read_seal
    from pipeline.reading.marks import InkView

    k = 100.0 / 72.0
    blank = np.zeros((400, 800), np.float32)
    seal = FieldLayout(name="2-1-2.seal", owner="2-1-2", kind="seal", bbox=(432.0, 168.0, 472.0, 192.0))
    stamped = blank.copy()
    centre = (int(452 * k), int(190 * k))  # stamped low: its lower half below the squeezed place
    cv2.circle(stamped, centre, int(14 * k), 1.0, 2)  # a 28 pt ring, 2 px of ink
    cv2.line(stamped, (centre[0] - 6, centre[1] - 8), (centre[0] - 6, centre[1] + 8), 1.0, 2)  # the name inside
    cv2.line(stamped, (centre[0] + 5, centre[1] - 8), (centre[0] + 5, centre[1] + 8), 1.0, 2)
    ref = PageRef("scan.pdf", 4)
    assert read_seal(InkView(100.0, stamped, blank, blank, None, blank), None, seal, ref)[0].status == "handwritten"
    assert read_seal(InkView(100.0, blank.copy(), blank, blank, None, blank), None, seal, ref)[0].status == "empty"


def test_a_seal_pasted_beside_its_place_is_uncertain_not_missing() -> None:
    """Ensures that a stamp pasted right of and above the printed 印 (Word printings), outside the seal place, is not read as no seal, while a signature in its own place beside an empty seal place does not count."""
    import cv2
    import numpy as np

    from pipeline.model.records import FieldLayout, PageRef
    from pipeline.model.words import STRAY_SEAL_NOTE
    from pipeline.reading.fields import read_seal
    from pipeline.reading.marks import InkView
    from pipeline.reading.sign_seal import around

    k = 100.0 / 72.0
    blank = np.zeros((500, 800), np.float32)
    seal = FieldLayout(name="1-1-3.seal", owner="1-1-3", kind="seal", bbox=(320.0, 200.0, 360.0, 240.0))
    signature_place = (208.0, 200.0, 313.0, 228.0)
    ref = PageRef("scan.pdf", 3)

    def view(scan: np.ndarray) -> InkView:
        return InkView(100.0, scan, blank, blank, None, blank)

    pasted = blank.copy()
    cv2.circle(pasted, (int(385 * k), int(185 * k)), int(14 * k), 1.0, 2)  # right of and above the place
    signed = blank.copy()
    cv2.line(signed, (int(220 * k), int(214 * k)), (int(300 * k), int(212 * k)), 1.0, 3)  # a signature in its own place
    others = [signature_place]
    assert read_seal(view(blank.copy()), None, seal, ref, others=others)[0].status == "empty"
    beside = read_seal(view(pasted), None, seal, ref, others=others)[0]
    assert beside.status == "uncertain" and beside.note == STRAY_SEAL_NOTE
    x0, y0, x1, y1 = around(seal, beside).bbox  # the reviewer's crop shows the stamp found beside the place
    assert x0 <= 371 and x1 >= 399 and y0 <= 171 and y1 >= 240
    assert around(seal, read_seal(view(blank.copy()), None, seal, ref, others=others)[0]) == seal
    assert read_seal(view(signed), None, seal, ref, others=others)[0].status == "empty"


def test_a_short_value_in_a_wide_row_that_no_reader_makes_out_is_uncertain_not_empty() -> None:
    """Ensures that writing too small a share of a wide field (a table row from the label's end to the row's end) to count as written, which OCR reads nothing in, is uncertain with its crop, not empty (seed 86700-04: eight contact values read empty); a clean field stays empty."""
    import numpy as np

    from pipeline.model.records import FieldLayout, PageRef
    from pipeline.reading.fields import read_text
    from pipeline.reading.marks import InkView
    from tests.fakes import FakeOcr

    blank = np.zeros((300, 800), np.float32)
    scan = blank.copy()
    for x in range(130, 160, 6):  # 「03-18」 written 9 pt high in pen: five strokes at the row's start
        scan[104:116, x : x + 1] = 0.8
    fld = FieldLayout(name="contact.tel", owner="contact", kind="text", bbox=(80.0, 70.0, 551.0, 88.0))
    ref = PageRef("scan.pdf", 9)
    engine = FakeOcr()  # reads nothing at all

    def hires(f: FieldLayout, dpi: float) -> np.ndarray:
        return np.full((int((f.bbox[3] - f.bbox[1]) * dpi / 72), int((f.bbox[2] - f.bbox[0]) * dpi / 72)), 255, np.uint8)

    written, m, crop = read_text(InkView(100.0, scan, blank, blank, None, blank), fld, ref, hires, engine)
    assert 0.0015 < m.ink < 0.004  # between the field's empty and written bounds
    assert written.status == "uncertain" and crop is not None
    clean, _, _ = read_text(InkView(100.0, blank.copy(), blank, blank, None, blank), fld, ref, hires, engine)
    assert clean.status == "empty"


def test_a_url_or_email_whose_top_level_domain_lost_its_dot_is_uncertain(form) -> None:
    """Ensures that a URL or e-mail read with a top-level domain that does not exist (a dot lost: 「example.nejp」) is uncertain with the pattern's note, while real ones (.ne.jp, .com, .tokyo, capitals) stay read."""
    fields = {f.name: f for p in form.pages for f in p.fields}
    ref = PageRef("scan.pdf", 1)

    def status(name: str, value: str) -> str:
        fld = fields[name]
        return fit_pattern(FieldReading(fld.name, fld.owner, fld.kind, value, "read", 0.97, ref, fld.bbox), fld).status

    assert status("applicant.url", "https://www.midori.example.nejp/") == "uncertain"
    assert status("applicant.url", "https://www.example.cojp") == "uncertain"
    for good in ("https://www.midori.example.ne.jp/", "http://example.com", "https://EXAMPLE.CO.JP/x", "example.tokyo/abc"):
        assert status("applicant.url", good) == "read", good
    email = next(n for n in fields if n.endswith(".email"))
    assert status(email, "info@midori.example.nejp") == "uncertain"
    assert status(email, "info@midori.example.ne.jp") == "read"


def test_a_value_read_starting_with_a_small_kana_is_uncertain(form) -> None:
    """Ensures that a value read beginning with a character no value begins with (a small kana, ー, 、) is uncertain with a note, in a field with or without a pattern, and that ordinary values stay read."""
    fields = {f.name: f for p in form.pages for f in p.fields}
    ref = PageRef("scan.pdf", 12)

    def read(name: str, value: str) -> FieldReading:
        fld = fields[name]
        return fit_pattern(FieldReading(fld.name, fld.owner, fld.kind, value, "read", 0.98, ref, fld.bbox), fld)

    dept = next(n for n in fields if n.endswith("dept_title"))
    for bad in ("ュネットワーク運用課主任", "ｭネットワーク運用課", "ー総務部", "、総務部 部長"):
        got = read(dept, bad)
        assert got.status == "uncertain" and "語の頭に来ない文字" in (got.note or ""), bad
    for good in ("ネットワーク運用課 主任", "ユーザーサポート部 課長", "総務部 部長"):
        assert read(dept, good).status == "read", good
    assert read("applicant.tel", "ッ03-1234-5678").status == "uncertain"
