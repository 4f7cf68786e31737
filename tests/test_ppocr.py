"""tools/ppocr.py: the PP-OCRv6 line recognizer on lines rendered in a Japanese font and in two handwriting fonts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from pipeline.model.errors import OcrError
from pipeline.reading.engines import Engines
from pipeline.tools import ppocr
from pipeline.tools.ppocr import LineRead, PPOcrRecognizer

pytestmark = pytest.mark.ocr

# fc-list: fonts-ipaexfont, fonts-klee (Klee One), fonts-kiloji (きろ字)
FONTS = {
    "ipaex": "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "klee": "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
    "kiloji": "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
}
LINES = ["東都ネットワーク株式会社", "A-11-5340", "さくらBB", "03-1011-2650", "info@example.co.jp", "令和6年4月1日"]


def _line(text: str, font: str, size: int = 40) -> NDArray[np.uint8]:
    """`text` rendered in `font`, ink dark on white, with a margin."""
    from PIL import Image, ImageDraw, ImageFont

    f = ImageFont.truetype(font, size)
    x0, y0, x1, y1 = f.getbbox(text)
    img = Image.new("L", (x1 - x0 + 40, y1 - y0 + 30), 255)
    ImageDraw.Draw(img).text((20 - x0, 15 - y0), text, font=f, fill=0)
    return np.asarray(img, dtype=np.uint8)


@pytest.fixture(scope="module")
def reader() -> PPOcrRecognizer:
    return PPOcrRecognizer.load()


@pytest.mark.parametrize("font", sorted(FONTS))
def test_reads_rendered_lines_exactly(reader: PPOcrRecognizer, font: str) -> None:
    """Ensures that lines in a typed Japanese font and in two handwriting fonts read exactly, with high confidence."""
    if not Path(FONTS[font]).is_file():
        pytest.skip(f"font not installed: {FONTS[font]}")
    for text in LINES:
        got = reader.read(_line(text, FONTS[font]))
        assert got.text == text, (font, text, got)
        assert len(got.char_confidences) == len(got.text)
        assert got.confidence == pytest.approx(float(np.mean(got.char_confidences)), abs=1e-4)
        assert got.confidence > 0.9


def test_reads_small_and_tall_lines(reader: PPOcrRecognizer) -> None:
    """Ensures that the line is read at any height (it is resized to the model's 48 px)."""
    for size in (18, 90):
        assert reader.read(_line("A-11-5340", FONTS["ipaex"], size)).text == "A-11-5340"


def test_blank_line_reads_empty(reader: PPOcrRecognizer) -> None:
    """Ensures that a white line, a faint smudge and an empty array read "" with confidence 0."""
    faint = np.full((40, 300), 255, np.uint8)
    faint[18:22, 100:140] = 235
    for gray in (np.full((40, 300), 255, np.uint8), faint, np.zeros((0, 0), np.uint8)):
        assert reader.read(gray) == LineRead("", 0.0, ())


def test_read_many_equals_read(reader: PPOcrRecognizer) -> None:
    """Ensures that a batch of lines (of mixed widths, with a blank among them) reads as each line alone."""
    lines = [_line(t, FONTS[f]) for f in ("ipaex", "klee") for t in LINES] + [np.full((30, 200), 255, np.uint8)]
    many = reader.read_many(lines)
    assert many == [reader.read(g) for g in lines]
    assert many[0].text == LINES[0] and many[-1].text == ""
    assert reader.read_many([]) == []


def test_each_character_carries_how_likely_each_digit_was(reader: PPOcrRecognizer) -> None:
    """Ensures that every character read comes with the ten digits' probabilities where it was read: a digit read is its
    own likeliest digit, a letter or dash holds no digit likely (what the label reader weighs a disagreement by)."""
    read = reader.read(_line("No.3-2-1", FONTS["ipaex"]))
    assert read.text == "No.3-2-1" and len(read.digit_probabilities) == len(read.text)
    for ch, probs in zip(read.text, read.digit_probabilities):
        assert len(probs) == 10
        if ch.isdigit():
            assert int(np.argmax(probs)) == int(ch) and max(probs) > 0.9
        else:
            assert max(probs) < 0.1


def test_rejects_colour_input(reader: PPOcrRecognizer) -> None:
    """Ensures that a colour image is refused (the stages pass grey lines)."""
    with pytest.raises(ValueError):
        reader.read(np.full((40, 100, 3), 255, np.uint8))


def test_missing_model_is_an_ocr_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that a missing model file surfaces as OcrError, which callers turn into uncertain readings."""
    monkeypatch.setattr(ppocr, "MODEL_NAME", "no-such-model.onnx")
    with pytest.raises(OcrError, match="model file missing"):
        PPOcrRecognizer.load()


def test_engines_load_ppocr_once() -> None:
    """Ensures that a process loads one PP-OCR recognizer, shared by every view of its engines."""
    engines = Engines()
    first = engines.ppocr()
    assert isinstance(first, PPOcrRecognizer)
    assert engines.capped(1).ppocr() is first


def test_second_reader_catches_a_misreading_of_handwriting(reader: PPOcrRecognizer, form) -> None:
    """Ensures that a handwritten line read wrongly in the field's shape becomes uncertain with PP-OCR's right value, and a right one stays read."""
    from pipeline.model.records import FieldReading, PageRef
    from pipeline.reading.field_text import Pending, second_read

    fld = next(f for p in form.pages for f in p.fields if f.name == "applicant.registration_number")
    line = _line("A-11-5340", FONTS["kiloji"])
    wrong, right = (
        FieldReading(fld.name, fld.owner, fld.kind, v, "read", 0.99, PageRef("a.pdf", 1), fld.bbox) for v in ("A-11-5349", "A-11-5340")
    )
    got = second_read([Pending(fld, wrong, line), Pending(fld, right, line)], reader)
    assert (got[0].status, got[0].value) == ("uncertain", "A-11-5340")
    assert got[0].note == "二つの読み取りが一致しません：A-11-5349／A-11-5340"
    assert got[1] is right


class _Unavailable:
    """A PP-OCR that cannot run (its model missing): every read raises OcrError."""

    def read_many(self, lines: list[NDArray[np.uint8]]) -> list[LineRead]:
        raise OcrError("PP-OCR model missing (test)")


def test_a_scanned_field_misread_by_tesseract_is_caught(form, tmp_path: Path) -> None:
    """Ensures that on a scanned page a field the first reader misreads confidently ends uncertain with its crop and the right value, that typed fields the first reader alone leaves read stay read, and that without PP-OCR the readings are the first reader's."""
    import json
    from dataclasses import replace

    from pipeline.reading.scan import read_scan_detail
    from pipeline.reading.settings import REGISTER
    from pipeline.sources.ingest import open_source
    from pipeline.sources.limits import Limits
    from samples.synth.scans import GenOptions, write_submission
    from tests.fakes import FakeOcr

    name = "applicant.registration_number"
    page = next(p for p in form.pages if any(f.name == name for f in p.fields))
    opts = GenOptions(dpi=200, mode="gray", pages=(page.number,), upside_down=0, handwriting_rate=0.0)
    truth = json.loads(write_submission(form, tmp_path, 81010, opts, name="r").read_text(encoding="utf-8"))["fields"]
    want = truth[name]["text"]
    wrong = want[:-1] + ("9" if want[-1] != "9" else "8")  # in the field's shape, one digit off

    def first_reader(gray: NDArray[np.uint8], region: str | None) -> str:
        return wrong if region == name else truth.get(region or "", {}).get("text") or ""

    def fields(second: object) -> dict:
        with open_source(tmp_path / "r.pdf", "r.pdf", Limits()) as opened:
            slow_ok = replace(REGISTER, page_seconds=300.0)  # the 10 s page budget is not what is tested (loaded machines)
            engines = Engines.using(FakeOcr(first_reader, confidence=0.99), ppocr=second)  # type: ignore[arg-type]
            d = read_scan_detail(opened.pages[0], form, engines, register_cfg=slow_ok)
        assert d.reading is not None
        return {f.name: (f, f.name in d.reading.crops) for f in d.reading.fields}

    alone = fields(_Unavailable())  # the first reader alone: the misreading goes through as `read`
    assert (alone[name][0].status, alone[name][0].value) == ("read", wrong)
    got = fields(PPOcrRecognizer.load())
    assert (got[name][0].status, got[name][0].value) == ("uncertain", want), got[name]
    assert got[name][0].note == f"二つの読み取りが一致しません：{wrong}／{want}"
    assert got[name][1]  # its crop is kept for the reviewer
    typed = [n for n, t in truth.items() if t.get("present") and t.get("kind") in ("text", "url") and n != name and n in alone]
    first_read = [n for n in typed if alone[n][0].status == "read"]
    assert len(first_read) >= 4, {n: (alone[n][0].status, alone[n][0].note) for n in typed}
    assert all(got[n][0] == alone[n][0] for n in typed), {n: (got[n][0].status, got[n][0].note) for n in typed if got[n][0] != alone[n][0]}


def test_the_second_readers_line_keeps_descenders_across_the_underline(reader: PPOcrRecognizer) -> None:
    """Ensures that a typed URL sitting on its field's printed underline keeps its descenders in the second reader's line (read .jp), while the first reader's line loses them where they cross it."""
    from pipeline.reading.fields import prepare_line

    text = _line("www.example.jp/", FONTS["ipaex"], size=36)
    h, w = text.shape
    crop = np.full((h + 10, w + 200), 255, np.uint8)
    crop[5 : 5 + h, 20 : 20 + w] = text
    dark_rows = np.nonzero((text < 128).any(axis=1))[0]
    base = 5 + int(dark_rows[0] + 0.8 * (dark_rows[-1] - dark_rows[0]))  # through the descenders of p and j
    blank = np.zeros(crop.shape, np.float32)
    blank[base : base + 3] = 1.0  # the printed underline, as the blank shows it
    crop[base : base + 3] = 0
    kept = prepare_line(crop, blank, crossings=True)
    cut = prepare_line(crop, blank)
    assert kept is not None and cut is not None
    assert reader.read(kept).text == "www.example.jp/"
    assert int((kept < 128).sum()) > int((cut < 128).sum())  # the strokes across the line are there only in the second's


def test_fields_read_on_two_threads_are_read_again_as_on_one(form, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Ensures that a scanned page's fields read on two threads, each `read` field read again by PP-OCR as soon as it is
    read, end exactly as on one thread with the page's lines read again in one batch; and that without PP-OCR both keep
    the first reader's readings and say so once for the page."""
    import logging
    from dataclasses import replace

    from pipeline.reading.scan import read_scan_detail
    from pipeline.reading.settings import REGISTER
    from pipeline.sources.ingest import open_source
    from pipeline.sources.limits import Limits
    from pipeline.tools.tesseract import TesserocrEngine
    from samples.synth.scans import GenOptions, write_submission

    page = max(form.pages, key=lambda p: sum(f.kind in ("text", "url", "date") for f in p.fields))
    opts = GenOptions(dpi=200, mode="gray", pages=(page.number,), upside_down=0, handwriting_rate=0.5)
    write_submission(form, tmp_path, 88102, opts, name="r")  # Tesseract misreads one typed value of it (部明 for 部長)
    first = TesserocrEngine()

    def fields(second: object, threads: int) -> list:
        with open_source(tmp_path / "r.pdf", "r.pdf", Limits()) as opened:
            slow_ok = replace(REGISTER, page_seconds=300.0)  # the 10 s page budget is not what is tested (loaded machines)
            engines = Engines.using(first, ppocr=second, ocr_threads=threads)  # type: ignore[arg-type]
            d = read_scan_detail(opened.pages[0], form, engines, register_cfg=slow_ok)
        assert d.reading is not None
        return [(f, f.name in d.reading.crops) for f in d.reading.fields]

    pp = PPOcrRecognizer.load()
    one, two = fields(pp, 1), fields(pp, 2)
    assert two == one
    statuses = [f.status for f, _ in one]
    assert statuses.count("read") >= 4 and any(f.note and "二つの読み取り" in f.note for f, _ in one), statuses  # both readers had work
    with caplog.at_level(logging.WARNING, logger="pipeline.reading.fields"):
        alone_one, alone_two = fields(_Unavailable(), 1), fields(_Unavailable(), 2)
    assert alone_two == alone_one
    assert [r.message.count("second reader unavailable") for r in caplog.records] == [1, 1]
    assert [f.status for f, _ in alone_one].count("read") > statuses.count("read")  # the check did something with PP-OCR
