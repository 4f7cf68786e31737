"""reading/labels: normalising what applicants write, reading it from text layers and scans, grouping pages."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from pipeline.model.geometry import pt_to_px, px_per_pt
from pipeline.model.records import PageRef
from pipeline.reading import labels as L
from pipeline.reading.labels import fuse, glyphs, ink, ppocr_check, records
from pipeline.reading.labels import text as label_text
from pipeline.tools.ppocr import LineRead
from pipeline.tools.tesseract import OcrLine, OcrSymbol
from samples.synth import attachments as A
from tests.fakes import FakeOcr

DOCS, OTHERS = A.FALLBACK_DOCUMENT_ITEMS, A.FALLBACK_OTHER_ITEMS
ITEMS = DOCS + OTHERS


def parse(raw: str, **kw: object) -> L.LabelParse:
    return L.normalise_label(raw, ITEMS, DOCS, **kw)  # type: ignore[arg-type]


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        ("1-1-1", ("1-1-1",)),
        ("１－１－１", ("1-1-1",)),  # full width
        ("1一1一1", ("1-1-1",)),  # what jpn OCR makes of １－１－１
        ("1‐1‐1", ("1-1-1",)),
        ("1−1−1", ("1-1-1",)),
        ("1–1–1", ("1-1-1",)),
        ("1—1—1", ("1-1-1",)),
        ("1ー1ー1", ("1-1-1",)),
        ("1ｰ1ｰ1", ("1-1-1",)),
        ("1―1―1", ("1-1-1",)),
        ("1 - 1 - 1", ("1-1-1",)),
        ("「7-2-2」", ("7-2-2",)),
        ("『3-1-6』", ("3-1-6",)),
        ("【4-1-4】", ("4-1-4",)),
        ("(2-3-1)", ("2-3-1",)),
        ("（２－３－１）", ("2-3-1",)),
        ("[7-6-3]", ("7-6-3",)),
        ("項目1-1-2", ("1-1-2",)),
        ("項目 1-1-2", ("1-1-2",)),
        ("項目番号：1-1-2", ("1-1-2",)),
        ("No.7-5-1", ("7-5-1",)),
        ("No. 7-5-1", ("7-5-1",)),
        ("No7-5-1", ("7-5-1",)),
        ("番号5-2-1", ("5-2-1",)),
        ("「1-1-1」「7-2-2」", ("1-1-1", "7-2-2")),
        ("1-1-1・1-1-2", ("1-1-1", "1-1-2")),
        ("1-1-1/1-1-2", ("1-1-1", "1-1-2")),
        ("1-1-1、1-1-2", ("1-1-1", "1-1-2")),
        ("1-1-1, 1-1-2", ("1-1-1", "1-1-2")),
        ("1-1-1 1-1-2", ("1-1-1", "1-1-2")),
        ("3-3-17-5-2", ("3-3-1", "7-5-2")),  # two labels whose space the OCR lost
        ("  ７ー６ー１ ", ("7-6-1",)),
    ],
)
def test_normalise_every_style(raw: str, ids: tuple[str, ...]) -> None:
    """Ensures that every way people write a label comes out as the same normalised ids."""
    got = parse(raw)
    assert (got.status, got.ids, got.unknown) == ("read", ids, ())


@pytest.mark.parametrize(
    ("raw", "unknown"),
    [("9-1-1", ("9-1-1",)), ("1-1-3", ("1-1-3",)), ("「7-4-1」", ("7-4-1",)), ("1-1-1・8-2-1", ("8-2-1",))],
)
def test_ids_that_take_no_document_are_unknown(raw: str, unknown: tuple[str, ...]) -> None:
    """Ensures that an id that is no item, or an item needing no document, is read but kept apart as unknown."""
    got = parse(raw)
    assert got.status == "read"
    assert got.unknown == unknown
    assert set(got.ids) <= {"1-1-1"}


@pytest.mark.parametrize(
    "raw", ["", "   ", "社外秘", "令和6年4月1日", "2024年4月1日", "2024-04-01", "文書番号：SEC-2024-01", "第2版", "111"]
)
def test_text_that_is_not_a_label_is_missing(raw: str) -> None:
    """Ensures that dates, headers and document numbers in the corner are not taken for labels."""
    assert parse(raw).status == "missing"


def test_malformed_runs_are_uncertain_with_repairs() -> None:
    """Ensures that a run not shaped like an id is uncertain, with the ids one deleted digit away."""
    got = parse("17-2-2")  # 「 read as 1
    assert got.status == "uncertain"
    assert "7-2-2" in got.candidates
    assert parse("5-1").status == "uncertain"


def test_low_confidence_and_one_seven_ambiguity_are_uncertain_never_a_guess() -> None:
    """Ensures that 7-1-1 read unsurely could be 1-1-1: uncertain with both as candidates."""
    sure = parse("7-1-1", confidence=0.95)
    assert (sure.status, sure.ids) == ("read", ("7-1-1",))
    unsure = parse("7-1-1", confidence=0.7)
    assert unsure.status == "uncertain"
    assert {"7-1-1", "1-1-1"} <= set(unsure.candidates)
    assert parse("2-3-1", confidence=0.3).status == "uncertain"
    runner_up = parse("7-1-1", confidence=0.95, alternates=["1-1-1"])
    assert runner_up.status == "uncertain" and set(runner_up.candidates) == {"1-1-1", "7-1-1"}
    assert parse("111", confidence=0.9).candidates == ("1-1-1",)


# --- born-digital pages ----------------------------------------------------------------------


def test_text_label_in_the_corner_wins_over_dates_and_titles() -> None:
    """Ensures that the text-layer reader takes the label from the top-right words, not the date or the title."""
    words = [
        ("【", (470.0, 30.0, 480.0, 42.0)),
        ("3-1-6", (480.0, 30.0, 515.0, 42.0)),
        ("】", (515.0, 30.0, 525.0, 42.0)),
        ("令和6年4月1日", (450.0, 80.0, 535.0, 92.0)),
        ("情報セキュリティ基本方針", (200.0, 120.0, 390.0, 136.0)),
    ]
    read = L.read_text_label(words, 595.0, 842.0, ITEMS, DOCS)
    assert (read.parse.status, read.parse.ids, read.source) == ("read", ("3-1-6",), "text_layer")
    assert read.text == "【 3-1-6 】"
    assert read.bbox is not None and read.bbox[0] == 470.0


def test_text_label_on_the_first_line_at_the_left_is_found() -> None:
    """Ensures that a label typed on the first line of the page, left side, is still found."""
    words = [("項目 7-2-2", (60.0, 40.0, 140.0, 52.0)), ("本文", (60.0, 200.0, 100.0, 212.0))]
    assert L.read_text_label(words, 595.0, 842.0, ITEMS, DOCS).parse.ids == ("7-2-2",)
    assert L.read_text_label([("本文", (60.0, 200.0, 100.0, 212.0))], 595.0, 842.0, ITEMS, DOCS).parse.status == "missing"


def test_born_digital_pages_read_from_their_text_layer(tmp_path: Path) -> None:
    """Ensures that generated born-digital attachments read back their labels, in every typed style."""
    import pypdfium2 as pdfium

    styles = (*A.TYPED_STYLES, "unknown_id", "no_doc_item", "unlabelled")
    docs = A.make_documents(5, 2 * len(styles), document_items=DOCS, other_items=OTHERS, styles=styles, blank_rate=0.0)  # type: ignore[arg-type]
    pages = A.write_pdf(docs, tmp_path / "a.pdf", seed=5)
    first = {i: next(k for k, sp in enumerate(pages) if sp.doc == d.index) for i, d in enumerate(docs)}
    pdf = pdfium.PdfDocument(str(tmp_path / "a.pdf"))
    try:
        for i, d in enumerate(docs):
            page = pdf[first[i]]
            w, h = page.get_size()
            read = L.read_text_label(L.words_from_pdfium(page), w, h, ITEMS, DOCS)
            want = ("missing", (), ()) if d.label is None else ("read", d.label.ids, d.label.unknown)
            assert (read.parse.status, read.parse.ids, read.parse.unknown) == want, d.label
    finally:
        pdf.close()


# --- scanned pages -----------------------------------------------------------------------------


def _scanned(styles: tuple[str, ...], seed: int, dpi: int = 200, n: int | None = None) -> list[tuple[A.DocSpec, np.ndarray]]:
    """First pages of generated documents, scanned (grey JPEG, skew, noise) and decoded."""
    docs = A.make_documents(seed, n or len(styles), document_items=DOCS, other_items=OTHERS, styles=styles, blank_rate=0.0)  # type: ignore[arg-type]
    docs = [A.DocSpec(d.index, d.kind, d.font, d.pages[:1], d.label, d.date_line) for d in docs]
    buf = io.BytesIO()
    A.write_pdf(docs, buf, seed=seed)
    rng = np.random.default_rng(seed)
    return [(d, A.scan(g, rng, dpi, "grey").gray()) for d, g in zip(docs, A.render_gray(buf.getvalue(), dpi))]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from pipeline.reading.digits import DigitClassifier

    return DigitClassifier.load(tmp_path_factory.mktemp("digits-cache"))


def test_scanned_reader_with_a_scripted_engine() -> None:
    """Ensures that the scan path finds the corner line, asks OCR with the label whitelist, and parses the answer."""
    ((doc, gray),) = _scanned(("typed",), seed=3)
    fake = FakeOcr({"label": OcrLine(doc.label.text, 0.95)})  # type: ignore[union-attr]
    read = L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=fake, use_digits=False)
    assert (read.parse.status, read.parse.ids) == ("read", doc.label.ids)  # type: ignore[union-attr]
    region, lang, whitelist, psm, shape = fake.calls[0]
    assert (region, psm) == ("label", 7) and whitelist == L.OCR_WHITELIST and lang in L.LABEL_SETTINGS.ocr_langs
    assert read.bbox is not None and read.bbox[0] > 595 * (1 - L.LABEL_SETTINGS.region_right) - 1

    # one reader, unsure of a 7 that could be a 1: both ids stay candidates
    unsure = L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=FakeOcr([OcrLine("7-1-1", 0.6)]), use_digits=False)
    assert unsure.parse.status == "uncertain" and {"1-1-1", "7-1-1"} <= set(unsure.parse.candidates)
    # two readers agreeing, but neither sure, on an id a 1↔7 slip away from another: still uncertain
    both = L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=FakeOcr({"label": OcrLine("7-1-1", 0.6)}), use_digits=False)
    assert both.parse.status == "uncertain"
    # agreement with confidence is a read
    sure = L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=FakeOcr({"label": OcrLine("7-1-1", 0.9)}), use_digits=False)
    assert sure.parse.ids == ("7-1-1",)


class _PPOcrInTurn:
    """A PP-OCR recognizer reading the given texts in call order (each character at 0.99)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.calls = 0

    def read(self, img: np.ndarray) -> LineRead:
        text = self.texts[min(self.calls, len(self.texts) - 1)]
        self.calls += 1
        return LineRead(text, 0.99 if text else 0.0, (0.99,) * len(text))


def test_an_unread_label_beside_a_read_one_makes_the_line_uncertain() -> None:
    """Ensures that a run beside a read label on its line, unread by Tesseract but holding digits and dashes to PP-OCR
    (a faint 7: '-5-1'), makes the line uncertain instead of being dropped (validation rows seed 88709 #147: 2-3-1 7-5-1
    read 2-3-1 alone, silently), and that a run PP-OCR sees no label in leaves the read as it was."""
    from PIL import Image, ImageDraw, ImageFont

    dpi = 200
    im = Image.new("L", (int(595 * dpi / 72), int(842 * dpi / 72)), 255)
    font = ImageFont.truetype("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", int(16 * dpi / 72))
    draw = ImageDraw.Draw(im)
    draw.text((int(380 * dpi / 72), int(30 * dpi / 72)), "2-3-1", font=font, fill=0)
    draw.text((int(480 * dpi / 72), int(30 * dpi / 72)), "7-5-1", font=font, fill=0)
    gray = np.asarray(im)
    script = [OcrLine("2-3-1", 0.95), OcrLine("2-3-1", 0.95), OcrLine("o", 0.1), OcrLine("・ーー』", 0.5)]
    pp = _PPOcrInTurn(["2-3-1", "-5-1"])
    read = L.read_scanned_label(gray, dpi, ITEMS, DOCS, engine=FakeOcr(list(script)), use_digits=False, ppocr=lambda: pp)
    assert read.parse.status == "uncertain" and "2-3-1" in read.parse.candidates
    assert "second label" in (read.parse.note or "")
    pp = _PPOcrInTurn(["2-3-1", "o"])
    read = L.read_scanned_label(gray, dpi, ITEMS, DOCS, engine=FakeOcr(list(script)), use_digits=False, ppocr=lambda: pp)
    assert (read.parse.status, read.parse.ids) == ("read", ("2-3-1",))


@pytest.mark.ocr
def test_scanned_typed_labels_are_read(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that typed, full-width, bracketed, prefixed, boxed, rotated and two-label scans read right."""
    styles = ("typed", "fullwidth", "dash", "bracket", "prefix", "two", "boxed", "rotated", "spaced")
    for doc, gray in _scanned(styles, seed=8):
        read = L.read_scanned_label(gray, 200, ITEMS, DOCS, classifier=classifier)
        assert (read.parse.status, read.parse.ids) == ("read", doc.label.ids), (doc.label, read)  # type: ignore[union-attr]


@pytest.mark.ocr
def test_scanned_handwritten_labels_are_read_or_uncertain_never_wrong(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that pen-stroke labels are read by OCR and the digit classifier together, and never misread silently."""
    got = []
    for doc, gray in _scanned(("handwritten", "handwritten_boxed"), seed=4, n=8):
        read = L.read_scanned_label(gray, 200, ITEMS, DOCS, classifier=classifier)
        if read.parse.status == "read":
            assert (read.parse.ids, read.parse.unknown) == (doc.label.ids, doc.label.unknown), (doc.label, read)  # type: ignore[union-attr]
        else:
            assert read.parse.status == "uncertain" and read.parse.candidates
        got.append(read.parse.status)
    assert got.count("read") >= 5


@pytest.mark.ocr
def test_unlabelled_and_continuation_scans_have_no_label(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that a page with a date, header or title but no label reads as missing."""
    docs = A.make_documents(6, 4, document_items=DOCS, other_items=OTHERS, styles=("unlabelled",), blank_rate=0.0)
    buf = io.BytesIO()
    A.write_pdf(docs, buf, seed=6)
    rng = np.random.default_rng(6)
    for g in list(A.render_gray(buf.getvalue(), 150))[:6]:
        read = L.read_scanned_label(A.scan(g, rng, 150, "grey").gray(), 150, ITEMS, DOCS, classifier=classifier)
        assert read.parse.status == "missing", read


def test_blank_pages_are_told_apart_from_sparse_ones() -> None:
    """Ensures that a scanned separator with specks is blank and a page with a few lines is not."""
    rng = np.random.default_rng(1)
    blank = A.scan(np.full((1754, 1240), 255, np.uint8), rng, 150, "grey").gray()
    assert L.is_blank_image(blank, 150)
    ((_, page),) = _scanned(("unlabelled",), seed=2, dpi=150)
    assert not L.is_blank_image(page, 150)
    assert L.is_blank_text([]) and L.is_blank_text([(" ", (0.0, 0.0, 1.0, 1.0))])
    assert not L.is_blank_text([("本文", (0.0, 0.0, 1.0, 1.0))])


def test_digit_classifier_on_held_out_handwriting(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that the classifier trained on load_digits and fonts reads generated pen-stroke digits (≥ 95 %)."""
    rng = np.random.default_rng(77)
    truth = [str(int(rng.integers(10))) for _ in range(300)]
    guesses = classifier.classify([A.render_handwritten_digit(d, rng, int(rng.integers(20, 50))) < 128 for d in truth])
    assert sum(g.digit == t for g, t in zip(guesses, truth)) / len(truth) >= 0.95
    assert all(abs(sum(g.probabilities) - 1.0) < 1e-6 and g.probability >= g.runner_up_probability for g in guesses)


def test_flagged_ones_are_not_weighed_as_sevens(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that generated pen-stroke 1s (a third with a flag, a third with a flag and a foot) are rarely a 7 to the classifier, and 7s seldom a 1.

    The v3 model, without drawn 1s and 7s, gave 10 of these 300 1s a 7 at p ≥ FUSED_RIVAL and read 4 of them 7; v4
    (drawn 1s and 7s) at most 4 and 1. v5 also learns MNIST's 7s, some of whose bars are as short as a long flag, and
    gives 7 of them p(7) ≥ FUSED_RIVAL, reads 2 of them 7 and 1 a 9, and 1 of the 300 7s something else; the label
    readers check a 1 or 7 by its top stroke (test_scanned_flagged_ones_read_by_tesseract_as_seven_are_read_as_one).
    The CNN (digit_cnn.onnx, 3,000 drawn 1s and 7s each not enough: 14) gives 12 of the 1s p(7) ≥ FUSED_RIVAL and reads
    3 of them otherwise, every 7 a 7.
    """
    rng = np.random.default_rng(71)
    ones = classifier.classify([A.render_handwritten_digit("1", rng, int(rng.integers(20, 50))) < 128 for _ in range(300)])
    sevens = classifier.classify([A.render_handwritten_digit("7", rng, int(rng.integers(20, 50))) < 128 for _ in range(300)])
    assert sum(g.probabilities[7] >= L.LABEL_SETTINGS.fused_rival for g in ones) <= 14
    assert sum(g.digit != "1" for g in ones) <= 4
    assert sum(g.digit != "7" for g in sevens) <= 2 and not any(g.digit == "1" for g in sevens)


def _fused(text: str, probs: list[dict[int, float]], shapes: tuple[str | None, ...], ocr_text: str) -> L.LabelParse:
    """The fused parse of a classifier reading (per digit: the named probabilities, the rest shared) and eng + jpn reading ``ocr_text``."""
    per_digit = tuple(tuple(p.get(d, (1.0 - sum(p.values())) / (10 - len(p))) for d in range(10)) for p in probs)
    dig = records.LineReading(
        "digits", text, min(max(v) for v in per_digit), (), L.normalise_label(text, ITEMS, DOCS), per_digit, shapes=shapes
    )
    ocr = label_text.ocr_reading(OcrLine(ocr_text, 0.9, tuple(OcrSymbol(ch, 0.9) for ch in ocr_text)), ITEMS, DOCS)
    return fuse.fuse_readings(dig, [ocr, ocr], ITEMS, DOCS)[0]


def test_a_one_shaped_and_classified_one_overrules_the_ocr_seven_but_never_makes_a_guess() -> None:
    """Ensures that Tesseract's 7 for a flagged 1 gives way when the top stroke and the classifier both say 1, and only then.

    Counted at its own confidence the OCR's 7 outweighed a classifier sure of the 1 (p 0.96, p(7) 0.03) and the label
    stayed uncertain; it must still stay uncertain when the shape says nothing, when the classifier has doubts
    about the 7 (also where the other spelling, 3-1-7, is no document item), and when the classifier reads a 7.
    """
    one, doubtful_one, seven, four, three = {1: 0.96, 7: 0.03}, {1: 0.84, 7: 0.15}, {7: 0.7, 1: 0.29}, {4: 0.99}, {3: 0.99}
    read = _fused("1-1-1", [one, one, one], ("1", "1", "1"), "7-1-1")
    assert (read.status, read.ids) == ("read", ("1-1-1",))
    read = _fused("4-1-1", [four, one, one], (None, "1", "1"), "4-7-7")
    assert (read.status, read.ids) == ("read", ("4-1-1",))
    unsure = _fused("1-1-1", [one, one, one], (None, "1", "1"), "7-1-1")  # the shape says nothing of the first digit
    assert unsure.status == "uncertain" and {"1-1-1", "7-1-1"} <= set(unsure.candidates)
    unsure = _fused("1-1-1", [doubtful_one, one, one], ("1", "1", "1"), "7-1-1")
    assert unsure.status == "uncertain" and {"1-1-1", "7-1-1"} <= set(unsure.candidates)
    unsure = _fused("3-1-1", [three, one, doubtful_one], (None, "1", "1"), "3-1-7")  # 3-1-7 takes no document
    assert unsure.status == "uncertain" and "3-1-1" in unsure.candidates
    unsure = _fused("7-1-1", [seven, one, one], ("1", "1", "1"), "7-1-1")  # the classifier against the shape
    assert unsure.status == "uncertain"
    # an OCR reader agreeing with the classifier still counts: doubtful 1s it confirms are read
    assert _fused("1-1-1", [doubtful_one] * 3, ("1", "1", "1"), "1-1-1").ids == ("1-1-1",)


def _reading(source: str, text: str, conf: float) -> records.LineReading:
    """A reader's opinion of ``text``: every digit ``conf`` likely, the rest shared by the other digits."""
    digits = [int(ch) for ch in text if ch.isdigit()]
    per_digit = tuple(tuple(conf if d == k else (1.0 - conf) / 9 for k in range(10)) for d in digits)
    return records.LineReading(source, text, conf, (), L.normalise_label(text, ITEMS, DOCS, confidence=conf), per_digit)  # type: ignore[arg-type]


def test_ppocr_checks_a_line_in_doubt_and_never_reads_it_alone() -> None:
    """Ensures that PP-OCR, the second reader of a line in doubt, turns it into a read only with another reader spelling the same ids.

    A read that PP-OCR spells as another id becomes uncertain with both; an unread line PP-OCR and the classifier
    (sure of every digit) spell alike becomes a read; PP-OCR alone, unsure, or against the glyph's shape leaves it uncertain.
    """
    unsure = L.LabelParse((), (), "uncertain", ("4-1-2",), "4-1-2 at probability 0.55")
    ocr, dig = _reading("ocr", "4-1-2", 0.9), _reading("digits", "4-1-2", 0.97)
    read, _ = ppocr_check.with_ppocr(ocr.parse, ocr, _reading("ppocr", "4-1-4", 0.95), None, [ocr], ITEMS, DOCS)
    assert read.status == "uncertain" and {"4-1-2", "4-1-4"} <= set(read.candidates)
    read, _ = ppocr_check.with_ppocr(ocr.parse, ocr, _reading("ppocr", "4-1-2", 0.95), None, [ocr], ITEMS, DOCS)
    assert (read.status, read.ids) == ("read", ("4-1-2",))
    read, chosen = ppocr_check.with_ppocr(unsure, None, _reading("ppocr", "4-1-2", 0.95), dig, [], ITEMS, DOCS)
    assert (read.status, read.ids) == ("read", ("4-1-2",)) and chosen is not None and chosen.source == "ppocr"
    assert ppocr_check.with_ppocr(unsure, None, _reading("ppocr", "4-1-2", 0.95), None, [], ITEMS, DOCS)[0].status == "uncertain"
    assert ppocr_check.with_ppocr(unsure, None, _reading("ppocr", "4-1-2", 0.6), dig, [], ITEMS, DOCS)[0].status == "uncertain"
    doubtful = _reading("digits", "4-1-2", 0.5)  # below digit_min_probability
    assert ppocr_check.with_ppocr(unsure, None, _reading("ppocr", "4-1-2", 0.95), doubtful, [], ITEMS, DOCS)[0].status == "uncertain"
    seven = _reading("digits", "7-1-1", 0.97)
    shaped = records.LineReading("digits", "7-1-1", 0.97, (), seven.parse, seven.per_digit, shapes=("1", None, None))
    unsure7 = L.LabelParse((), (), "uncertain", ("7-1-1",))
    assert ppocr_check.with_ppocr(unsure7, None, _reading("ppocr", "7-1-1", 0.95), shaped, [], ITEMS, DOCS)[0].status == "uncertain"
    assert ppocr_check.with_ppocr(unsure7, None, _reading("ppocr", "7-1-1", 0.95), seven, [], ITEMS, DOCS)[0].status == "read"


def test_ppocr_very_sure_is_backed_by_tesseract_missing_one_digit() -> None:
    """Ensures that a typed label Tesseract read but for one digit ('No.3-2-]') is read when PP-OCR, very sure, spells it,
    and stays uncertain when PP-OCR is less sure, Tesseract saw two digits fewer, or one it saw differs (bench_labels seed 86002)."""

    def tess(text: str) -> records.LineReading:
        return label_text.ocr_reading(OcrLine(text, 0.9, tuple(OcrSymbol(ch, 0.9) for ch in text)), ITEMS, DOCS)

    def judged(ocr_text: str, pp_conf: float) -> L.LabelParse:
        ocr = tess(ocr_text)
        return ppocr_check.with_ppocr(ocr.parse, ocr, _reading("ppocr", "No.3-2-1", pp_conf), None, [ocr], ITEMS, DOCS)[0]

    assert tess("No.3-2-]").parse.status != "read"
    assert (judged("No.3-2-]", 0.99).status, judged("No.3-2-]", 0.99).ids) == ("read", ("3-2-1",))
    assert judged("No.3-2-]", 0.9).status == "uncertain"
    assert judged("No.3-]-]", 0.99).status == "uncertain"
    assert judged("No.3-7-]", 0.99).status == "uncertain"


def test_ppocr_is_a_witness_of_its_own_in_the_fusion() -> None:
    """Ensures that PP-OCR, sure of its digits, weighs as a witness apart from Tesseract: it settles a digit the classifier
    doubted, and never outvotes a classifier sure of another id.

    bench_handwritten_labels seed 86000 #91: 3-3-1, the classifier 2-3-1 at 0.67 with 3 next, PP-OCR 3-3-1 at 0.99.
    """
    two_or_three = tuple(0.6 if d == 2 else 0.35 if d == 3 else 0.05 / 8 for d in range(10))
    per_digit = (two_or_three, *_reading("digits", "3-1", 0.98).per_digit)
    dig = records.LineReading("digits", "2-3-1", 0.6, (), L.normalise_label("2-3-1", ITEMS, DOCS), per_digit)
    ocr = _reading("ocr", "", 0.0)
    alone = fuse.fuse_readings(dig, [ocr], ITEMS, DOCS)[0]
    assert alone.status == "uncertain"
    read = fuse.fuse_readings(dig, [ocr], ITEMS, DOCS, apart=[_reading("ppocr", "3-3-1", 0.99)])[0]
    assert (read.status, read.ids) == ("read", ("3-3-1",))
    sure = records.LineReading("digits", "2-3-1", 0.98, (), dig.parse, _reading("digits", "2-3-1", 0.98).per_digit)
    against = fuse.fuse_readings(sure, [ocr], ITEMS, DOCS, apart=[_reading("ppocr", "3-3-1", 0.99)])[0]
    assert against.status == "uncertain" and {"2-3-1", "3-3-1"} <= set(against.candidates)


class _ScriptedPPOcr:
    """A PP-OCR recognizer answering ``text`` for every line, each digit's probabilities as given (others 0)."""

    def __init__(self, text: str, digit_probs: dict[int, dict[int, float]] | None = None) -> None:
        self.text, self.calls = text, 0
        probs = digit_probs or {}
        self.digit_probs = tuple(
            tuple(probs.get(k, {}).get(d, 1.0 if ch == str(d) else 0.0) for d in range(10)) for k, ch in enumerate(text)
        )

    def read(self, img: np.ndarray) -> LineRead:
        self.calls += 1
        return LineRead(self.text, 0.99, (0.99,) * len(self.text), self.digit_probs)


def test_ppocr_vetoes_a_sure_read_it_spells_otherwise() -> None:
    """Ensures that a label Tesseract is sure of is still shown to PP-OCR, and is uncertain, with its place for the crop,
    when PP-OCR read another character where a digit stands and held that digit unlikely.

    The silent case it stops (bench_handwritten_labels, validation rows seed 86100 #151): a 7 with a cross stroke read 4
    by Tesseract and the classifier alike (4-1-3 for 7-1-3), PP-OCR '$-1-3' with 4 at 0.017 there. A letter PP-OCR reads
    for a digit's usual shape ('d' for a 2) or a runner-up digit it kept likely does not veto.
    """
    ((doc, gray),) = _scanned(("typed",), seed=3)
    label = doc.label
    assert label is not None and len(label.ids) == 1
    ident = label.ids[0]
    engine = FakeOcr({"label": OcrLine(ident, 0.99)})

    def read(pp: _ScriptedPPOcr) -> L.LabelRead:
        return L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=engine, use_digits=False, ppocr=lambda: pp)

    agree = _ScriptedPPOcr(ident)
    assert (read(agree).parse.status, read(agree).parse.ids) == ("read", label.ids) and agree.calls
    wrong_digit = str((int(ident[0]) + 3) % 10)
    against = read(_ScriptedPPOcr("$" + ident[1:]))
    assert against.parse.status == "uncertain" and ident in against.parse.candidates
    assert against.bbox is not None  # the corner's crop is cut from the label's place
    assert read(_ScriptedPPOcr(wrong_digit + ident[1:])).parse.status == "uncertain"
    # PP-OCR's own top choice differs, but it kept the read's digit likely there: the read stands
    kept = _ScriptedPPOcr(wrong_digit + ident[1:], {0: {int(wrong_digit): 0.55, int(ident[0]): 0.4}})
    assert read(kept).parse.ids == label.ids
    if ident[0] == "2":
        assert read(_ScriptedPPOcr("d" + ident[1:])).parse.ids == label.ids
    # two labels run together by PP-OCR, or a prefix before them, agree digit by digit
    assert read(_ScriptedPPOcr("No." + ident + "。")).parse.ids == label.ids


def test_a_line_tesseract_saw_only_dashes_in_is_uncertain_when_ppocr_spells_an_id() -> None:
    """Ensures that a label Tesseract made nothing of but a dash ('-.' for a handwritten 2-1-1 whose last 1 the scan
    broke, validation rows seed 86101 #70: it read missing) is uncertain with PP-OCR's id as candidate, never a read,
    and that a line Tesseract saw neither a digit nor a dash in is not shown to PP-OCR."""
    ((doc, gray),) = _scanned(("typed",), seed=3)
    label = doc.label
    assert label is not None and len(label.ids) == 1

    def read(tesseract: str, pp: _ScriptedPPOcr) -> L.LabelRead:
        engine = FakeOcr({"label": OcrLine(tesseract, 0.5)})
        return L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=engine, use_digits=False, ppocr=lambda: pp)

    spelled = read("-.", _ScriptedPPOcr(label.ids[0]))
    assert spelled.parse.status == "uncertain" and label.ids[0] in spelled.parse.candidates and spelled.bbox is not None
    assert read("-.", _ScriptedPPOcr("当社")).parse.status == "missing"
    unasked = _ScriptedPPOcr(label.ids[0])
    assert read("", unasked).parse.status == "missing" and unasked.calls == 0


def test_ppocr_vetoes_by_digit_places() -> None:
    """Ensures that PP-OCR's characters are set against a read's digits place by place from the end: run-together
    labels and prefixes agree, a strange character where a digit stands vetoes, a handwriting lookalike does not."""
    two = L.normalise_label("2-3-1 7-1-3", ITEMS, DOCS)
    assert two.status == "read"

    def vetoes(parse: L.LabelParse, text: str) -> bool:
        pp = _reading("ppocr", text, 0.9)
        return ppocr_check.ppocr_vetoes(parse, pp, pp.parse)

    assert not vetoes(two, "2-3-17-1-3") and not vetoes(two, "2-3-1 7-1-3")
    assert vetoes(two, "2-3-14-1-3") and vetoes(two, "2-3-1 $-1-3")
    one = L.normalise_label("2-1-1", ITEMS, DOCS)
    assert not vetoes(one, "d-1-1") and not vetoes(one, "2-/-1") and not vetoes(one, "項目番号：2-1-1】")
    assert vetoes(one, "x-1-1") and vetoes(one, "2-1-7")
    assert not vetoes(one, "2-1") and not vetoes(one, "")  # PP-OCR saw less: it says nothing
    assert vetoes(two, "4-1-3")  # … unless it spells other ids


def test_classifier_and_ppocr_agreeing_digit_by_digit_read_a_line_the_fusion_left_unread() -> None:
    """Ensures that the classifier and PP-OCR, each sure of every digit and spelling the same document ids, read a line
    the fusion left uncertain (a 7 whose short bar measures as a 1: validation rows seeds 86100-86102, 7 labels), and
    that a doubtful classifier digit, another PP-OCR digit, Tesseract spelling another id or a digit on the frame do not.

    Validation rows, seeds 86100-86101: the classifier and PP-OCR agreed on three wrong labels (7s read 1), the
    classifier at most 0.64 sure of those digits.
    """
    def dig(text: str, p: float, **kw: object) -> records.LineReading:
        r = _reading("digits", text, p)
        return records.LineReading("digits", text, p, (), r.parse, r.per_digit, **kw)  # type: ignore[arg-type]

    shaped = dig("7-1-1", 0.95, shapes=("1", None, None))
    pp = _reading("ppocr", "7-1-1", 0.95)
    got = ppocr_check.agreed_with_ppocr(shaped, pp, [], ITEMS, DOCS)
    assert got is not None and (got.status, got.ids) == ("read", ("7-1-1",))
    two = ppocr_check.agreed_with_ppocr(dig("2-3-1 7-1-3", 0.9), _reading("ppocr", "2-3-17-1-3", 0.9), [], ITEMS, DOCS)
    assert two is not None and two.ids == ("2-3-1", "7-1-3")
    assert ppocr_check.agreed_with_ppocr(dig("1-6-3", 0.64), _reading("ppocr", "1-6-3", 0.98), [], ITEMS, DOCS) is None
    assert ppocr_check.agreed_with_ppocr(shaped, _reading("ppocr", "7-1-1", 0.7), [], ITEMS, DOCS) is None
    assert ppocr_check.agreed_with_ppocr(shaped, _reading("ppocr", "1-1-1", 0.95), [], ITEMS, DOCS) is None
    assert ppocr_check.agreed_with_ppocr(shaped, pp, [_reading("ocr", "1-1-1", 0.9)], ITEMS, DOCS) is None
    framed = dig("7-1-1", 0.95, framed=(True, False, False))
    assert ppocr_check.agreed_with_ppocr(framed, pp, [], ITEMS, DOCS) is None


def test_classifier_and_ppocr_agree_on_digits_other_than_one_and_seven_less_surely() -> None:
    """Ensures that a digit other than 1 or 7 the classifier and PP-OCR read alike is taken on their joint likelihood
    (classifier 0.65, PP-OCR 0.7: a read), while a 1 or a 7 so weakly held is not (a 7 with a short bar is a 1 to both:
    validation rows seed 88203 #254, 7-5-1 read 1-5-1 at 0.69 / 0.78); that a letter PP-OCR reads for a digit's shape
    ('S' for a 5) agrees only with a classifier fairly sure of the digit; and that Tesseract spelling another id stops the
    read only when it is not itself unsure (seed 88205 #48: '3-1-—64-2-2' at 0.36)."""

    def dig(text: str, probs: list[float], **kw: object) -> records.LineReading:
        digits = [int(ch) for ch in text if ch.isdigit()]
        per_digit = tuple(tuple(p if d == k else (1.0 - p) / 9 for k in range(10)) for d, p in zip(digits, probs))
        return records.LineReading("digits", text, min(probs), (), L.normalise_label(text, ITEMS, DOCS), per_digit, **kw)  # type: ignore[arg-type]

    got = ppocr_check.agreed_with_ppocr(dig("4-2-3", [0.99, 0.65, 0.99]), _reading("ppocr", "4-2-3", 0.7), [], ITEMS, DOCS)
    assert got is not None and got.ids == ("4-2-3",)
    assert ppocr_check.agreed_with_ppocr(dig("4-2-3", [0.99, 0.45, 0.99]), _reading("ppocr", "4-2-3", 0.7), [], ITEMS, DOCS) is None
    assert ppocr_check.agreed_with_ppocr(dig("4-2-3", [0.99, 0.65, 0.99]), _reading("ppocr", "4-2-3", 0.45), [], ITEMS, DOCS) is None
    assert ppocr_check.agreed_with_ppocr(dig("1-5-1", [0.69, 0.99, 0.99]), _reading("ppocr", "1-5-1", 0.78), [], ITEMS, DOCS) is None
    five = _reading("ppocr", "S-2-1", 0.95)
    got = ppocr_check.agreed_with_ppocr(dig("5-2-1", [0.95, 0.99, 0.99]), five, [], ITEMS, DOCS)
    assert got is not None and got.ids == ("5-2-1",)
    assert ppocr_check.agreed_with_ppocr(dig("5-2-1", [0.65, 0.99, 0.99]), five, [], ITEMS, DOCS) is None
    bar = dig("6-1-1", [0.99, 0.99, 0.95], shapes=(None, None, "7"))  # a '!' where the glyph's top is a 7's bar
    assert ppocr_check.agreed_with_ppocr(bar, _reading("ppocr", "6-1-!", 0.95), [], ITEMS, DOCS) is None
    assert ppocr_check.agreed_with_ppocr(dig("6-1-1", [0.99, 0.99, 0.95]), _reading("ppocr", "6-1-!", 0.95), [], ITEMS, DOCS) is not None
    two = dig("3-1-6 4-2-3", [0.99, 0.99, 0.99, 0.99, 0.99, 0.76])
    pp = _reading("ppocr", "3-1-64-2-3", 0.99)
    assert ppocr_check.agreed_with_ppocr(two, pp, [_reading("ocr", "3-1-6 4-2-2", 0.36)], ITEMS, DOCS) is not None
    assert ppocr_check.agreed_with_ppocr(two, pp, [_reading("ocr", "3-1-6 4-2-2", 0.9)], ITEMS, DOCS) is None


def _split_digits(text: str, probs: list[dict[int, float]], **kw: object) -> records.LineReading:
    """The classifier's reading of ``text`` with each digit's probabilities as given (the rest shared by the other digits)."""
    per_digit = tuple(tuple(p.get(k, (1.0 - sum(p.values())) / (10 - len(p))) for k in range(10)) for p in probs)
    conf = min(max(p) for p in per_digit)
    return records.LineReading("digits", text, conf, (), L.normalise_label(text, ITEMS, DOCS), per_digit, **kw)  # type: ignore[arg-type]


def test_a_lookalike_letter_agrees_with_a_fairly_sure_classifier_without_a_rival() -> None:
    """Ensures that a letter PP-OCR reads for a digit's handwritten shape ('(' for a 6, 'フ' for a 7, '!' for a 1) agrees
    with the CNN's digit at 0.7-0.9 when no other digit is near (validation rows seeds 88702 #64, #77, #206: 6-2-1 and
    6-1-1, the 6 at 0.72-0.82 and PP-OCR '(-2-1', left uncertain), and not when the classifier's runner-up is at 0.2 or
    more, below 0.7, or the letter is also the runner-up's look (88703 #211: 4-3-2 read 4-3-4 at 0.61, PP-OCR 'd')."""
    sure = {1: 0.99}
    six = _split_digits("6-2-1", [{6: 0.75, 0: 0.1}, {2: 0.99}, sure])
    got = ppocr_check.agreed_with_ppocr(six, _reading("ppocr", "(-2-1", 0.95), [], ITEMS, DOCS)
    assert got is not None and got.ids == ("6-2-1",)
    rival = _split_digits("6-2-1", [{6: 0.72, 5: 0.25}, {2: 0.99}, sure])
    assert ppocr_check.agreed_with_ppocr(rival, _reading("ppocr", "(-2-1", 0.95), [], ITEMS, DOCS) is None
    weak = _split_digits("6-2-1", [{6: 0.65, 0: 0.1}, {2: 0.99}, sure])
    assert ppocr_check.agreed_with_ppocr(weak, _reading("ppocr", "(-2-1", 0.95), [], ITEMS, DOCS) is None
    four = _split_digits("4-3-4", [{4: 0.99}, {3: 0.99}, {4: 0.75, 2: 0.18}])  # 'd' is a 2's look: the runner-up's
    assert ppocr_check.agreed_with_ppocr(four, _reading("ppocr", "4-3-d", 0.9), [], ITEMS, DOCS) is None
    seven = _split_digits("7-6-2", [{7: 0.97}, {6: 0.99}, {2: 0.99}], shapes=("7", None, None))
    got = ppocr_check.agreed_with_ppocr(seven, _reading("ppocr", "フ-6-2", 0.9), [], ITEMS, DOCS)
    assert got is not None and got.ids == ("7-6-2",)
    flagged = _split_digits("7-6-2", [{7: 0.97}, {6: 0.99}, {2: 0.99}], shapes=("1", None, None))  # a 1's flag
    assert ppocr_check.agreed_with_ppocr(flagged, _reading("ppocr", "フ-6-2", 0.9), [], ITEMS, DOCS) is None


def test_a_digit_the_classifier_is_sure_of_needs_ppocr_only_to_read_it_alike() -> None:
    """Ensures that where the classifier holds a digit at 0.9 or more, PP-OCR reading the same digit agrees however unsure
    it is of it (validation rows seed 88701 #8: 6-2-2, the last 2 at 0.99 to the CNN and 0.51 to PP-OCR, left unread),
    but not where the glyph's top stroke says otherwise, and a digit the classifier doubts still needs PP-OCR sure."""
    pp = records.LineReading("ppocr", "6-2-2", 0.51, (), L.normalise_label("6-2-2", ITEMS, DOCS), spelled=(
        ("6", tuple(1.0 if k == 6 else 0.0 for k in range(10))), ("-", ()),
        ("2", tuple(0.77 if k == 2 else 0.023 for k in range(10))), ("-", ()),
        ("2", tuple(0.51 if k == 2 else 0.049 for k in range(10)))))
    sure = _split_digits("6-2-2", [{6: 0.99}, {2: 0.83, 1: 0.16}, {2: 0.99}])
    got = ppocr_check.agreed_with_ppocr(sure, pp, [], ITEMS, DOCS)
    assert got is not None and got.ids == ("6-2-2",)
    doubted = _split_digits("6-2-2", [{6: 0.99}, {2: 0.83, 1: 0.16}, {2: 0.85, 1: 0.1}])
    unsure = records.LineReading("ppocr", "6-2-2", 0.45, (), pp.parse, spelled=(*pp.spelled[:4], ("2", tuple(0.45 if k == 2 else 0.061 for k in range(10)))))
    assert ppocr_check.agreed_with_ppocr(sure, unsure, [], ITEMS, DOCS) is not None
    assert ppocr_check.agreed_with_ppocr(doubted, unsure, [], ITEMS, DOCS) is None
    ones = records.LineReading("ppocr", "1-1-1", 0.43, (), L.normalise_label("1-1-1", ITEMS, DOCS), spelled=(
        ("1", tuple(0.99 if k == 1 else 0.001 for k in range(10))), ("-", ()),
        ("1", tuple(0.97 if k == 1 else 0.003 for k in range(10))), ("-", ()),
        ("1", tuple(0.43 if k == 1 else 0.063 for k in range(10)))))
    one = _split_digits("1-1-1", [{1: 0.8}, {1: 0.99}, {1: 0.99}], shapes=("1", "1", None))
    assert ppocr_check.agreed_with_ppocr(one, ones, [], ITEMS, DOCS) is not None
    barred = _split_digits("1-1-1", [{1: 0.8}, {1: 0.99}, {1: 0.99}], shapes=("1", "1", "7"))  # a 7's bar on the last
    assert ppocr_check.agreed_with_ppocr(barred, ones, [], ITEMS, DOCS) is None


def test_a_digit_the_classifier_reads_two_ways_needs_tesseract_behind_it() -> None:
    """Ensures that a read resting on a digit the classifier holds two ways (both at 0.3 or more) is uncertain unless a
    Tesseract reading, not unsure of itself, reads that digit in its place: PP-OCR is sure of its guess there (validation
    rows seed 88700 #82: 7-5-1 with a 5 closed like a 6, the CNN 6 at 0.51 and 5 at 0.47, PP-OCR '7-6-1' at 0.98 and
    Tesseract '7-8]': read 7-6-1, silently; 88701 #56 and 88700 #41, right: Tesseract '77-3' and '-[-2')."""
    tied = _split_digits("7-6-1", [{7: 0.99}, {6: 0.51, 5: 0.47}, {1: 0.99}])
    read = L.normalise_label("7-6-1", ITEMS, DOCS)
    assert ppocr_check.tie_unsettled(read, tied, [_reading("ocr", "7-8]", 0.9)])
    assert ppocr_check.tie_unsettled(read, tied, [_reading("ocr", "7-8-1", 0.9)])
    assert ppocr_check.tie_unsettled(read, tied, [_reading("ocr", "ー6ー", 0.32)])  # in place, but unsure of itself
    assert not ppocr_check.tie_unsettled(read, tied, [_reading("ocr", "ー6ー", 0.7)])
    assert not ppocr_check.tie_unsettled(read, tied, [_reading("ocr", "76-1", 0.7)])
    apart = _split_digits("7-6-1", [{7: 0.99}, {6: 0.75, 5: 0.2}, {1: 0.99}])
    assert not ppocr_check.tie_unsettled(read, apart, [])
    # held less firmly two ways (runner-up 0.31): uncertain only when Tesseract reads another digit in its place
    # (seed 88705 #276, '7-8-2'; seed 87400-05 att_14, a 2 at 0.53 / 7 at 0.31, Tesseract '7—--2': read, right)
    leaning = _split_digits("7-6-2", [{7: 0.99}, {6: 0.69, 5: 0.31}, {2: 0.99}])
    read = L.normalise_label("7-6-2", ITEMS, DOCS)
    assert ppocr_check.tie_unsettled(read, leaning, [_reading("ocr", "7-8-2", 0.36)])
    assert not ppocr_check.tie_unsettled(read, leaning, [_reading("ocr", "7—--2", 0.72)])


def test_ppocr_settles_one_doubted_digit_never_a_sure_one_nor_two() -> None:
    """Ensures that a read PP-OCR witnessed may overrule one classifier digit held below 0.9, not one held surely (7-1-1
    read 2-1-1 against the classifier's 7 at 0.92, validation rows seed 88207 #145; 0.8 and up) nor two (4-2-3 7-5-2 read
    4-2-3 7-6-2, #206); and that a read resting on a digit the classifier gives < 0.5 needs PP-OCR to have read that
    digit in its place, at least 0.6 likely (3-3-1 read 3-2-1 on Tesseract's '-2-1' at 0.3, PP-OCR '3--1': #286)."""

    def dig(text: str, probs: list[float]) -> records.LineReading:
        digits = [int(ch) for ch in text if ch.isdigit()]
        per_digit = tuple(tuple(p if d == k else (1.0 - p) / 9 for k in range(10)) for d, p in zip(digits, probs))
        return records.LineReading("digits", text, min(probs), (), L.normalise_label(text, ITEMS, DOCS), per_digit)

    read = L.normalise_label("2-1-1", ITEMS, DOCS)
    assert not ppocr_check.overrules_classifier(read, dig("7-1-1", [0.78, 0.99, 0.99]))
    assert ppocr_check.overrules_classifier(read, dig("7-1-1", [0.92, 0.99, 0.99]))
    assert ppocr_check.overrules_classifier(L.normalise_label("7-6-1", ITEMS, DOCS), dig("7-5-1", [0.99, 0.85, 0.99]))  # 88209 #13
    two = L.normalise_label("4-2-3 7-6-2", ITEMS, DOCS)
    assert ppocr_check.overrules_classifier(two, dig("4-2-1 7-5-2", [0.99, 0.99, 0.56, 0.99, 0.63, 0.99]))
    assert not ppocr_check.overrules_classifier(two, dig("4-2-3 7-6-2", [0.99] * 6))
    weak = dig("3-2-1", [0.99, 0.25, 0.99])
    got = L.normalise_label("3-2-1", ITEMS, DOCS)
    assert ppocr_check.weak_digit_unseen(got, weak, _reading("ppocr", "3--1", 0.99))
    assert ppocr_check.weak_digit_unseen(got, weak, _reading("ppocr", "3-3-1", 0.99))
    assert not ppocr_check.weak_digit_unseen(got, weak, _reading("ppocr", "3-2-1", 0.99))
    assert ppocr_check.weak_digit_unseen(got, weak, _reading("ppocr", "3-2-1", 0.49))  # read, but not surely (88209 #293)
    assert not ppocr_check.weak_digit_unseen(got, dig("3-2-1", [0.99, 0.55, 0.99]), _reading("ppocr", "3--1", 0.99))


def test_an_id_that_takes_no_document_stands_only_when_tesseract_spells_it_surely() -> None:
    """Ensures that a scanned line read as an id that takes no document is uncertain, with the document ids one digit
    away as candidates, unless Tesseract spells it surely and PP-OCR spells no other digits: 4-2-3 read 4-9-3 by the
    classifier and PP-OCR, Tesseract '-2-3' (independent tuning set 86500-04, A13, counted a silent mislabel), and
    7-2-2 read 7-2-8 by Tesseract alone at 0.91, PP-OCR '7-2-2' (validation rows seed 88204 #88)."""
    nine = L.normalise_label("4-9-3", ITEMS, DOCS)
    assert (nine.status, nine.unknown) == ("read", ("4-9-3",))
    got = ppocr_check.unknown_doubted(nine, _reading("ppocr", "4-9-3", 0.96), [_reading("ocr", "-2-3", 0.62)], ITEMS, DOCS)
    assert got.status == "uncertain" and "4-2-3" in got.candidates and "4-9-3" not in got.candidates
    eight = L.normalise_label("7-2-8", ITEMS, DOCS)
    got = ppocr_check.unknown_doubted(eight, _reading("ppocr", "7-2-2", 0.77), [_reading("ocr", "7-2-8", 0.91)], ITEMS, DOCS)
    assert got.status == "uncertain" and got.candidates == ("7-2-2",)
    nine = L.normalise_label("6-1-9", ITEMS, DOCS)  # PP-OCR seeing fewer digits, one of them other (seed 88210 #168)
    got = ppocr_check.unknown_doubted(nine, _reading("ppocr", "6-.-2", 0.99), [_reading("ocr", "6-1-9", 0.92)], ITEMS, DOCS)
    assert got.status == "uncertain" and "6-1-1" in got.candidates
    typed = L.normalise_label("9-1-1", ITEMS, DOCS)  # a typed id Tesseract is sure of: the applicant's own slip, flagged
    assert ppocr_check.unknown_doubted(typed, _reading("ppocr", "9-1-1", 0.99), [_reading("ocr", "9-1-1", 0.95)], ITEMS, DOCS) == typed
    assert ppocr_check.unknown_doubted(typed, None, [_reading("ocr", "9-1-1", 0.95)], ITEMS, DOCS) == typed
    assert ppocr_check.unknown_doubted(typed, None, [_reading("ocr", "9-1-1", 0.6)], ITEMS, DOCS).status == "uncertain"
    known = L.normalise_label("4-2-3", ITEMS, DOCS)
    assert ppocr_check.unknown_doubted(known, None, [], ITEMS, DOCS) == known


def test_a_thin_open_four_is_no_frame() -> None:
    """Ensures that a handwritten 4, wide, thin and open, is not taken for a frame and erased (validation rows seed 88203
    #47: this 4, binarised at 200 dpi, was erased and 4-1-3 7-1-1 went unread), while a frame round a label still is."""
    four = [
        ".........................###", "........................####", ".......................####.",
        ".........###..........####..", ".........###.........####...", ".......####..........####...",
        "......####..........####....", ".....####..........####.....", "....####..........####......",
        "...####..........#####......", "..####..........#######.....", ".#####....#############.....",
        "#####################.......", "##################..........", "#######..#######............",
        "...........####.............", "..........####..............", "..........####..............",
        ".........####...............", "........#####...............", "........####................",
        "........###.................", ".........##.................",
    ]
    crop = np.full((100, 300), 235, np.uint8)
    crop[30:53, 40:68][np.array([[ch == "#" for ch in row] for row in four])] = 40
    crop[44:48, 75:95] = 40  # the dash, a 1, a dash, a 1
    crop[28:54, 104:108] = 40
    crop[44:48, 115:135] = 40
    crop[28:54, 144:148] = 40
    lab, stats, idx, erased = ink.corner_ink(crop, px_per_pt(200))
    assert erased is None and any(stats[i, 2] == 28 and stats[i, 3] == 23 for i in idx)
    framed = crop.copy()
    framed[18:20, 30:160] = framed[62:64, 30:160] = framed[18:64, 30:32] = framed[18:64, 158:160] = 40
    assert ink.corner_ink(framed, px_per_pt(200))[3] is not None


def test_a_read_overruling_the_classifier_needs_both_ocr_readers_behind_it() -> None:
    """Ensures that a read whose digit the classifier holds less likely than another is kept only when a Tesseract
    reading spells the whole read and PP-OCR reads the same digits; Tesseract seeing that digit alone ('6-/-'), with
    PP-OCR agreeing, is not enough (validation rows seed 86102 #292: 5-1-1 read 6-1-1, the classifier 5 at 0.80)."""
    five = tuple(0.8 if d == 5 else 0.15 if d == 6 else 0.05 / 8 for d in range(10))
    per_digit = (five, *_reading("digits", "1-1", 0.99).per_digit)
    dig = records.LineReading("digits", "5-1-1", 0.8, (), L.normalise_label("5-1-1", ITEMS, DOCS), per_digit)
    read = L.normalise_label("6-1-1", ITEMS, DOCS)
    pp = _reading("ppocr", "6-1-1", 0.99)
    partial = label_text.ocr_reading(OcrLine("6-/-", 0.9, tuple(OcrSymbol(ch, 0.9) for ch in "6-/-")), ITEMS, DOCS)
    assert ppocr_check.overruled_alone(read, dig, pp, [partial], ITEMS, DOCS)
    whole = _reading("ocr", "6-1-1", 0.9)
    assert not ppocr_check.overruled_alone(read, dig, pp, [whole], ITEMS, DOCS)
    assert ppocr_check.overruled_alone(read, dig, _reading("ppocr", "5-1-1", 0.99), [whole], ITEMS, DOCS)
    agreeing = L.normalise_label("5-1-1", ITEMS, DOCS)  # the classifier's own digits: nothing overruled
    assert not ppocr_check.overruled_alone(agreeing, dig, _reading("ppocr", "", 0.0), [], ITEMS, DOCS)


def _first_line_ocr(text: str) -> FakeOcr:
    """Scripted OCR answering ``text`` for the first line it is shown (the label's run) and nothing for other ink."""
    seen: list[tuple[int, ...]] = []

    def read(img: np.ndarray, region: str | None) -> OcrLine:
        seen.append(img.shape)
        return OcrLine(text, 0.9) if img.shape == seen[0] else OcrLine("", 0.0)

    return FakeOcr(read)


def test_scanned_flagged_ones_read_by_tesseract_as_seven_are_read_as_one(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that pen-stroke labels holding 1s are read right, never wrong, when both OCR readers turn every 1 into 7.

    Tesseract's usual slip on a flagged 1 (bench seed 202: 13 of the 20 handwritten labels not read). With the v3
    classifier and the OCR's 7 counted in full, 19 of these 24 labels were read; the v5 SVC 23 (5-1-2 stays uncertain);
    the CNN 21 (a 1 it gives p(7) ≥ FUSED_RIVAL is doubted: fuse._doubts), none wrong.
    """
    docs = [(d, g) for d, g in _scanned(("handwritten", "handwritten_boxed"), seed=21, n=30) if "1" in d.label.text]  # type: ignore[union-attr]
    got = []
    for doc, gray in docs:
        label = doc.label
        assert label is not None
        engine = _first_line_ocr(label.text.replace("1", "7"))
        read = L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=engine, classifier=classifier)
        if read.parse.status == "read":
            assert (read.parse.ids, read.parse.unknown) == (label.ids, label.unknown), (label, read)
        got.append(read.parse.status)
    assert len(got) >= 20 and got.count("read") >= 0.85 * len(got)


def _label_run(gray: np.ndarray, dpi: float) -> tuple[int, list[tuple[int, int, int, int]]]:
    """(x offset of the corner, the boxes x, y, w, h of the first label-like run's components, left to right) as the reader sees them."""
    pt_px = px_per_pt(dpi)
    x_off = int(gray.shape[1] * (1 - L.LABEL_SETTINGS.region_right))
    _, stats, idx = ink.components(ink.binarise(gray[: int(gray.shape[0] * L.LABEL_SETTINGS.region_top), x_off:]), pt_px)
    run = min((g for g in ink.chain_lines(stats, idx, L.LABEL_SETTINGS.line_gap) if ink.label_like(g, pt_px)), key=lambda g: g.box[1])
    return x_off, sorted((int(x), int(y), int(w), int(h)) for x, y, w, h, _ in (stats[c] for c in run.comps))


def test_a_speck_over_a_digit_leaves_the_label_to_the_classifier(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that a scan speck above a handwritten 1 does not hide the label from the classifier, so OCR alone cannot misread it.

    Bench seed 404: a speck at the top of 3-1-1's middle 1 made the line D-XD-D, the classifier stood aside, and
    eng and jpn agreeing on 3-7-7 (sure of both 7s, an id that is no item) made a silent mislabel.
    """
    checked = 0
    for doc, gray in _scanned(("handwritten",), seed=31, n=12):
        label = doc.label
        assert label is not None
        if label.text[2] != "1":
            continue
        x_off, boxes = _label_run(gray, 200)
        if len(boxes) != 5:  # one stroke per digit and dash: the middle 1 is the third box
            continue
        x, y, _, h = boxes[2]
        size = max(3, round(0.15 * h))
        if x - size - 1 <= boxes[1][0] + boxes[1][2]:  # no room between the dash and the 1
            continue
        specked = gray.copy()
        specked[y : y + size, x_off + x - size - 1 : x_off + x - 1] = 0  # a speck at the 1's top left, apart from it
        read = L.read_scanned_label(specked, 200, ITEMS, DOCS, engine=_first_line_ocr(label.text.replace("1", "7")), classifier=classifier)
        assert read.source in ("digits", "ocr+digits"), (label, read)
        if read.parse.status == "read":
            assert (read.parse.ids, read.parse.unknown) == (label.ids, label.unknown), (label, read)
        checked += 1
    assert checked >= 2


def _handwritten_page(parts: list[tuple[str, float]], seed: int, dpi: int = 200) -> np.ndarray:
    """An A4 page (grey, ink dark) with the generator's pen strokes at the top right: each (text, height in pt) written after the other."""
    import cv2

    rng = np.random.default_rng(seed)
    page = np.full((round(pt_to_px(842, dpi)), round(pt_to_px(595, dpi))), 255, np.uint8)
    x = 0.0
    drawn = []
    for text, height_pt in parts:
        strokes, width = A.handwritten_strokes(text, rng, pt_to_px(height_pt, dpi))
        drawn += [s + np.array([x, 0.0]) for s in strokes]
        x += width
    x0, y0 = page.shape[1] - pt_to_px(60, dpi) - x, pt_to_px(30, dpi)
    for s in drawn:
        pts = np.round((s + np.array([x0, y0])) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(page, [pts], False, 0, max(2, round(pt_to_px(0.09 * parts[0][1], dpi))), cv2.LINE_AA, shift=4)
    return page


def test_a_big_digit_after_a_dash_is_a_digit_not_a_kanji(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that a last digit written larger than the others stays a digit, so OCR alone cannot misread the label.

    Bench seed 707: the 5 of 2-1-5, drawn with a long bar, was taller and wider than the other digits and taken for a
    kanji (D-D-X); the classifier stood aside, and eng and jpn agreeing on 2-7-5 (no item) made a silent mislabel.
    """
    checked = 0
    for seed in range(6):
        gray = _handwritten_page([("2-1-", 18.0), ("5", 18.0 * 1.2)], seed)
        read = L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=_first_line_ocr("2-7-5"), classifier=classifier)
        assert read.source in ("digits", "ocr+digits"), read
        if read.parse.status == "read":
            assert (read.parse.ids, read.parse.unknown) == (("2-1-5",), ()), read
        checked += read.parse.status == "read"
    assert checked >= 3  # the 1 read 7 by both OCR readers is overruled where the 1 is shaped like one


def test_a_digit_written_low_beside_a_dash_is_a_digit(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that a last digit written lower than the others (as MNIST's 3s and 7s reach below the line) stays a digit.

    bench_handwritten_labels seed 86000 #88: the 3 of 7-1-3 reached 0.07 line heights too low, was taken for X, the
    classifier stood aside and the label was missing (13 of 300 labels missing, 5 after).
    """
    import cv2

    checked = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        page = np.full((round(pt_to_px(842, 200)), round(pt_to_px(595, 200))), 255, np.uint8)
        h = pt_to_px(18.0, 200)
        head, w_head = A.handwritten_strokes("2-1-", rng, h)
        last, w_last = A.handwritten_strokes("5", rng, h)
        x0, y0 = page.shape[1] - pt_to_px(60, 200) - w_head - w_last, pt_to_px(40, 200)
        for s, dx, dy in [(s, 0.0, 0.0) for s in head] + [(s, w_head, 0.4 * h) for s in last]:
            pts = np.round((s + np.array([x0 + dx, y0 + dy])) * 16).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(page, [pts], False, 0, round(0.09 * h), cv2.LINE_AA, shift=4)
        read = L.read_scanned_label(page, 200, ITEMS, DOCS, engine=_first_line_ocr("2-1-"), classifier=classifier)
        assert read.source in ("digits", "ocr+digits"), read
        if read.parse.status == "read":
            assert (read.parse.ids, read.parse.unknown) == (("2-1-5",), ()), read
        checked += read.parse.status == "read"
    assert checked >= 3


def _boxed_seven_page(seed: int, line_px: int, dpi: int = 200) -> np.ndarray:
    """A page with 7-1-1 in pen strokes at the top right, framed so that the frame's top line runs along the 7's bar.

    The 7 is written a little higher than the 1s (as on bench seed 404), and the line of ``line_px`` pixels is drawn
    along the middle of the bar: thinner than the pen (4 px), the bar stands out of it; thicker, it hides the bar.
    """
    import cv2

    rng = np.random.default_rng(seed)
    page = np.full((round(pt_to_px(842, dpi)), round(pt_to_px(595, dpi))), 255, np.uint8)
    h = pt_to_px(18.0, dpi)
    seven, w7 = A.handwritten_strokes("7", rng, h)
    rest, w_rest = A.handwritten_strokes("-1-1", rng, h)
    x0, y0, lift = page.shape[1] - pt_to_px(60, dpi) - w7 - w_rest, pt_to_px(40, dpi), 0.12 * h
    for s, dx, dy in [(s, 0.0, -lift) for s in seven] + [(s, w7, 0.0) for s in rest]:
        pts = np.round((s + np.array([x0 + dx, y0 + dy])) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(page, [pts], False, 0, round(0.09 * h), cv2.LINE_AA, shift=4)
    bar = y0 - lift + float(np.vstack(seven)[:, 1].min())  # the pen's path along the bar, the 7's top
    pad = 0.4 * h
    cv2.rectangle(page, (round(x0 - pad), round(bar)), (round(x0 + w7 + w_rest + pad), round(y0 + h + pad)), 0, line_px)
    return page


def test_a_seven_whose_bar_runs_into_the_frame_is_never_read_as_a_one(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that a boxed 7 whose bar lies along the frame's top line is read 7 or left uncertain, never read 1.

    Bench seed 404: erasing the frame erased the bar of 7-6-2's 7 with it, and both OCR readers and the classifier
    read 1-6-2 (uncertain only because 1-6-2 is no item; 7-1-1 read 1-1-1 would have been silent). Here both OCR
    readers say 1-1-1. Where the bar stands out of a thin line, what stands out is kept and the 7 is read; where a
    thick line hides it, the 1s that touch the line may be 7s too. Before, 24 of these 32 labels were read 1-1-1; now none, and all 16 on thin lines read 7-1-1.
    On a 3 px line the v5 classifier reads what is left of a crossed 7 as 4 (seed 6): 7-1-1 stays a candidate.
    """
    got = []
    for line_px in (1, 2, 3, 6):
        for seed in range(8):
            gray = _boxed_seven_page(seed, line_px)
            read = L.read_scanned_label(gray, 200, ITEMS, DOCS, engine=_first_line_ocr("1-1-1"), classifier=classifier)
            if read.parse.status == "read":
                assert read.parse.ids == ("7-1-1",), (line_px, seed, read)
            else:
                assert read.parse.status == "uncertain" and "7-1-1" in read.parse.candidates, (line_px, seed, read)
            got.append((line_px, read.parse.status))
    assert sum(1 for w, st in got if w <= 2 and st == "read") >= 12  # the bar kept where it stands out of the line


# --- grouping --------------------------------------------------------------------------------------


def _page(file: str, page: int, raw: str | None = None, *, blank: bool = False, status: str | None = None) -> L.LabelledPage:
    if blank:
        return L.LabelledPage(PageRef(file, page), None, blank=True)
    if raw is None:
        return L.LabelledPage(PageRef(file, page), L.LabelRead(L.MISSING, None, None, "none"))
    p = parse(raw)
    if status == "uncertain":
        p = L.LabelParse((), (), "uncertain", ("1-1-1", "7-1-1"), "test")
    return L.LabelledPage(PageRef(file, page), L.LabelRead(p, raw, 0.9, "ocr"))


def test_grouping_follows_the_issue_rules() -> None:
    """Ensures that labels start documents, unlabelled pages continue them, and blanks are dropped but returned."""
    pages = [
        _page("s.pdf", 4),  # after the form pages: nothing before it in this file → an unlabelled document
        _page("s.pdf", 5, "1-1-1"),
        _page("s.pdf", 6),
        _page("s.pdf", 7),
        _page("s.pdf", 8, blank=True),
        _page("s.pdf", 9, "「7-2-2」「1-1-2」"),
        _page("s.pdf", 10, "7-2-2・1-1-2"),  # the same labels on every page: one document
        _page("s.pdf", 12),  # a form page (11) in between: not a continuation
        _page("s.pdf", 13, "9-9-9"),
        _page("s.pdf", 14, "7-1-1", status="uncertain"),
        _page("b.pdf", 1),  # a new file
        _page("b.pdf", 2, blank=True),
        _page("b.pdf", 3),  # after a separator sheet
    ]
    atts, blanks = L.group_attachments(pages)
    assert [a.id for a in atts] == [f"att-{k:02d}" for k in range(1, 9)]
    assert [[p.page for p in a.pages] for a in atts] == [[4], [5, 6, 7], [9, 10], [12], [13], [14], [1], [3]]
    assert [a.label_status for a in atts] == ["missing", "read", "read", "missing", "read", "uncertain", "missing", "missing"]
    assert atts[1].labels == ("1-1-1",) and atts[2].labels == ("7-2-2", "1-1-2")
    assert atts[4].unknown_labels == ("9-9-9",) and atts[4].labels == ()
    assert atts[5].candidates == ("1-1-1", "7-1-1") and atts[5].labels == ()
    assert blanks == [PageRef("s.pdf", 8), PageRef("b.pdf", 2)]
    every = [p for a in atts for p in a.pages] + blanks
    assert sorted(every, key=lambda r: (r.file, r.page)) == sorted((p.ref for p in pages), key=lambda r: (r.file, r.page))


def test_grouping_can_let_unlabelled_pages_run_across_a_blank_back_side() -> None:
    """Ensures that with blank_separates=False a blank back side does not split a document."""
    atts, blanks = L.group_attachments(
        [_page("d.pdf", 1, "2-1-1"), _page("d.pdf", 2, blank=True), _page("d.pdf", 3)], blank_separates=False
    )
    assert [[p.page for p in a.pages] for a in atts] == [[1, 3]]
    assert blanks == [PageRef("d.pdf", 2)]


def test_generated_stack_groups_as_its_truth(tmp_path: Path) -> None:
    """Ensures that the generator's truth and the grouping rule agree on a born-digital stack with separators."""
    import pypdfium2 as pdfium

    docs = A.make_documents(
        9, 14, document_items=DOCS, other_items=OTHERS, styles=("typed", "every_page", "unlabelled", "two"), blank_rate=0.3
    )
    order = A.write_pdf(docs, tmp_path / "s.pdf", seed=9)
    truth = A.truth(docs, order, "s.pdf")
    pdf = pdfium.PdfDocument(str(tmp_path / "s.pdf"))
    pages = []
    for k, page in enumerate(pdf, start=1):
        w, h = page.get_size()
        words = L.words_from_pdfium(page)
        blank = L.is_blank_text(words)
        pages.append(L.LabelledPage(PageRef("s.pdf", k), None if blank else L.read_text_label(words, w, h, ITEMS, DOCS), blank))
    pdf.close()
    atts, blanks = L.group_attachments(pages)
    assert [[p.page for p in a.pages] for a in atts] == [[p["page"] for p in t["pages"]] for t in truth["attachments"]]
    assert [list(a.labels) for a in atts] == [t["labels"] for t in truth["attachments"]]
    assert [b.page for b in blanks] == [p["page"] for p in truth["blank_pages"]]


# --- generator ---------------------------------------------------------------------------------------


def test_generator_is_deterministic_and_writes_image_pdfs(tmp_path: Path) -> None:
    """Ensures that the same seed gives the same documents and that scans wrap into an image-only PDF."""
    assert A.make_documents(11, 6) == A.make_documents(11, 6)
    docs = A.make_documents(11, 3, styles=("handwritten", "fullwidth", "unlabelled"), blank_rate=0.0)
    buf = io.BytesIO()
    A.write_pdf(docs, buf, seed=11)
    scans = A.scan_pdf(buf.getvalue(), seed=11, dpi_choices=(150,))
    A.write_image_pdf(scans, tmp_path / "scan.pdf")
    import pikepdf

    with pikepdf.open(tmp_path / "scan.pdf") as pdf:
        assert len(pdf.pages) == sum(len(d.pages) for d in docs)
        assert all(len(p.get_images()) == 1 for p in pdf.pages)


def test_ocr_slots_witness_the_digits_they_saw() -> None:
    """Ensures that an OCR read of a handwritten label with a 1 read as '/' still lines up group by group."""
    line = OcrLine("3-/-1", 0.9, tuple(OcrSymbol(ch, 0.95) for ch in "3-/-1"))
    slots = label_text._slots(line)
    assert len(slots) == 3 and slots[1] is None
    assert slots[0] is not None and max(slots[0]) == slots[0][3]
    assert slots[2] is not None and max(slots[2]) == slots[2][1]
    assert label_text._slots(OcrLine("31-1", 0.9, tuple(OcrSymbol(ch, 0.95) for ch in "31-1"))) == ()


def test_split_dash_written_into_a_digit() -> None:
    """Ensures that a dash drawn in one stroke with the digit before it is split off, and a plain digit is not."""
    digit = np.zeros((40, 20), np.uint8)
    digit[:, 8:12] = 1  # a 1
    joined = np.hstack([digit, np.zeros((40, 14), np.uint8)])
    joined[19:23, 10:] = 1  # its dash, touching
    cut = glyphs._split_dash(joined, 40.0, 0.0)
    assert cut is not None and cut[0] == "D-" and cut[1].shape[1] < joined.shape[1]
    four = np.zeros((40, 24), np.uint8)
    four[:, 14:18] = 1
    four[26:30, 0:20] = 1  # the bar of a 4 stands out past its stem by less than a dash …
    for y in range(28):
        four[y, max(0, 14 - y // 2) : 17 - y // 2] = 1  # … and its diagonal meets the bar's left end
    assert glyphs._split_dash(four, 40.0, 0.0) is None
    assert glyphs._split_dash(digit, 40.0, 0.0) is None


def test_top_stroke_tells_a_flagged_one_from_a_seven() -> None:
    """Ensures that the top stroke's sideways reach separates a 1 with a 45° flag from a 7's bar."""
    import cv2

    from pipeline.reading.digits import top_stroke_share

    one = np.zeros((60, 40), np.uint8)
    cv2.line(one, (22, 4), (22, 56), 255, 4)
    cv2.line(one, (22, 4), (12, 14), 255, 4)  # the flag, sloping down to the left
    seven = np.zeros((60, 40), np.uint8)
    cv2.line(seven, (4, 4), (34, 4), 255, 4)  # the bar
    cv2.line(seven, (34, 4), (16, 56), 255, 4)
    assert top_stroke_share(one) <= L.LABEL_SETTINGS.one_flag_max < L.LABEL_SETTINGS.seven_bar_min <= top_stroke_share(seven)
    assert top_stroke_share(np.ones((6, 4), np.uint8)) is None  # too small to tell


def test_a_slash_between_two_labels_is_a_separator() -> None:
    """Ensures that the / of 1-1-1/1-1-2, as tall and thin as a 1, is dropped as a separator and its glyph not read."""
    masks = [np.full((3, 3), k, np.uint8) for k in range(7)]
    pattern, kept = glyphs._separators_out("D-D-DDD-D-D", masks, "D-D-D")
    assert pattern == "D-D-DXD-D-D"
    assert [int(m[0, 0]) for m in kept] == [0, 1, 2, 4, 5, 6]
    assert glyphs._separators_out("D-D-D", masks[:3], "D-D-D")[0] == "D-D-D"  # nothing to drop in one label


def test_glyphs_before_a_prefix_are_dropped_when_whole_runs_follow() -> None:
    """Ensures that a 項 segmented as a digit before 項目番号： is dropped, and nothing next to a dash is."""
    masks = [np.full((3, 3), k, np.uint8) for k in range(4)]
    pattern, kept = glyphs._prefix_out("DXXXXXD-D-D", masks, "D-D-D")
    assert pattern == "XXXXXXD-D-D" and [int(m[0, 0]) for m in kept] == [1, 2, 3]
    assert glyphs._prefix_out("D-DXD-D-D", masks, "D-D-D")[0] == "D-DXD-D-D"  # a dash in the lead: a run, not a prefix
    assert glyphs._prefix_out("DXD-D", masks[:3], "D-D-D")[0] == "DXD-D"  # what follows is no whole run


def test_only_ink_running_all_round_its_box_is_a_frame() -> None:
    """Ensures that a frame is told from a sparse glyph as wide (a 5 with its dash written into it): only the frame is erased."""
    import cv2

    def ring_of(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        box = cv2.boxPoints(cv2.minAreaRect(cv2.findNonZero(img))).astype(np.int32)
        ring = np.zeros_like(img)
        cv2.drawContours(ring, [box], 0, 1, thickness=6)
        return (ring & img) > 0, box

    frame = np.zeros((40, 120), np.uint8)
    cv2.rectangle(frame, (2, 2), (117, 37), 1, 1)
    cv2.line(frame, (30, 3), (30, 30), 1, 3)  # a digit touching the top line
    five = np.zeros((40, 120), np.uint8)
    cv2.polylines(five, [np.array([[40, 3], [10, 3], [8, 18], [30, 16], [38, 28], [20, 37], [5, 33]])], False, 1, 2)
    cv2.line(five, (38, 20), (110, 20), 1, 2)  # its dash
    assert ink._outlined(*ring_of(frame), 1.0)
    assert not ink._outlined(*ring_of(five), 1.0)


def test_a_piece_of_a_digit_inside_a_line_joins_the_line() -> None:
    """Ensures that a piece of a digit the scan broke off, chained to nothing (its rows overlap no neighbour's enough),
    joins the line it lies inside: the foot of a 5 (validation rows seed 88206 #211, 5-2-1 read as '--D-D', unread)."""
    stats = np.array(
        [[0, 0, 0, 0, 0], [411, 89, 23, 13, 66], [438, 96, 24, 7, 91], [473, 83, 32, 30, 213], [510, 95, 20, 6, 63],
         [544, 78, 17, 36, 186], [413, 104, 6, 10, 27]],
        np.int32,
    )
    lines = ink.chain_lines(stats, [1, 2, 3, 4, 5, 6], 1.5)
    assert len(lines) == 1 and sorted(lines[0].comps) == [1, 2, 3, 4, 5, 6]
    apart = stats.copy()
    apart[6] = [413, 130, 6, 10, 27]  # under the line: not inside it
    assert len(ink.chain_lines(apart, [1, 2, 3, 4, 5, 6], 1.5)) == 2


def test_a_piece_of_a_digit_just_under_the_line_joins_the_line() -> None:
    """Ensures that a piece of a digit sticking out of the line's rows by a little (a 3's lower arc, 1 px under the line's
    box: validation rows seed 88700 #105, 7-1-3 read 7-1-2 by every reader, silently) joins the line, and that one
    further down, or a speck sticking out, does not."""
    stats = np.array(
        [[0, 0, 0, 0, 0], [405, 43, 6, 21, 91], [449, 42, 13, 15, 62], [363, 45, 16, 19, 103], [426, 51, 12, 3, 27],
         [384, 52, 11, 3, 16], [448, 60, 14, 5, 28]],
        np.int32,
    )
    lines = ink.chain_lines(stats, [1, 2, 3, 4, 5, 6], 1.5)
    assert len(lines) == 1 and sorted(lines[0].comps) == [1, 2, 3, 4, 5, 6]
    low = stats.copy()
    low[6] = [448, 66, 14, 5, 28]  # 7 px under the line's box: more than a quarter of its 21 px
    assert len(ink.chain_lines(low, [1, 2, 3, 4, 5, 6], 1.5)) == 2
    speck = stats.copy()
    speck[6] = [406, 38, 4, 4, 12]  # a speck over the 1 (seed 88703 #125: with it the 1 was a 7 to the classifier)
    assert len(ink.chain_lines(speck, [1, 2, 3, 4, 5, 6], 1.5)) == 2


def test_a_bracket_pair_as_tall_as_digits_is_dropped() -> None:
    """Ensures that 『7-5-2』 segmented as DD-D-DD is read as D-D-D between brackets, and nothing lopsided is touched."""
    masks = [np.full((3, 3), k, np.uint8) for k in range(7)]
    pattern, kept = glyphs._brackets_out("DD-D-DD", masks, "D-D-D")
    assert pattern == "XD-D-DX" and [int(m[0, 0]) for m in kept] == [1, 2, 3, 4, 5]
    assert glyphs._brackets_out("DD-D-D", masks[:4], "D-D-D")[0] == "DD-D-D"  # one extra glyph: not a pair
    assert glyphs._brackets_out("D-D-D-D", masks[:4], "D-D-D")[0] == "D-D-D-D"  # a dash at the end: not ours


def test_every_dash_the_parser_takes_lets_a_text_be_looked_at() -> None:
    """Ensures that the run's first look at a text page (could_hold_label) lets through every dash that normalise_label reads."""
    for dash in L.DASHES:
        for text in (f"3{dash}1{dash}1", f"３{dash}１{dash}１", f"「3 {dash} 1 {dash} 1」"):
            assert L.could_hold_label(text), text
            assert parse(text).ids == ("3-1-1",), text
    assert not L.could_hold_label("令和6年4月1日 第2版") and not L.could_hold_label("3 1 1")


@pytest.mark.parametrize("written", ["3〜1〜1", "３～１～１"])
def test_a_born_digital_label_with_wave_dashes_is_read_by_the_run(tmp_path: Path, written: str) -> None:
    """Ensures that a born-digital attachment labelled with 〜 or ～ between its digits ends with that label read.

    The run looks at a text page's words only when its top band could hold a label; that check once knew a
    dash class of its own without 〜 and ～, so 3〜1〜1 was never read and 3-1-1 was flagged missing_document.
    """
    import json

    from pipeline.run.batch import RunOptions, run_batch
    from samples.fill import fill_acroform

    form_dir = Path(__file__).resolve().parents[1] / "forms" / "renewal"
    label = A.LabelSpec(style="dash", text=written, ids=("3-1-1",), unknown=())
    doc = A.DocSpec(index=0, kind="連絡体制", font="IPAexGothic", pages=(("障害発生時の連絡体制",),), label=label)
    entry = tmp_path / "inbox" / "申請"
    entry.mkdir(parents=True)
    (entry / "申請書.pdf").write_bytes(fill_acroform(form_dir / "fillable.pdf", {"3-1-1.yes": True}))
    A.write_pdf([doc], entry / "連絡体制.pdf", seed=3)
    run_batch(RunOptions(inbox=tmp_path / "inbox", outbox=tmp_path / "outbox", form=form_dir, jobs=1, render=False))
    result = json.loads((tmp_path / "outbox" / "申請" / "result.json").read_text(encoding="utf-8"))
    ((att),) = result["attachments"]
    assert (att["labels"], att["label_status"], att["label_text"]) == (["3-1-1"], "read", written)
    assert result["items"]["3-1-1"]["answer"] == "yes"
    assert not [f for f in result["flags"] if f["code"] == "missing_document"], result["flags"]


def _pen_pattern(strokes: list[list[tuple[float, float]]], split: bool = False, h: int = 40) -> str:
    """The glyph pattern (glyphs._glyphs) of pen strokes drawn 0.12 ``h`` wide, each a polyline in line heights (x, y)."""
    import cv2

    canvas = np.zeros((4 * h, 20 * h), np.uint8)
    for s in strokes:
        pts = np.round((np.array(s) * h + np.array([h, 1.5 * h])) * 16).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [pts], False, 1, max(2, round(0.12 * h)), cv2.LINE_8, shift=4)
    pt_px = h / 18.0  # an 18-pt pen height
    lab, stats, idx = ink.components(canvas, pt_px, frames=False)
    run = max(ink.chain_lines(stats, idx, L.LABEL_SETTINGS.line_gap), key=lambda g: len(g.comps))
    found = glyphs._glyphs(lab, stats, run, split)
    assert found is not None
    return found[0].replace(" ", "")


_ONE = [[(0.1, 0.0), (0.0, 1.0)]]
_TWO = [[(0.0, 0.2), (0.3, 0.0), (0.6, 0.2), (0.0, 1.0), (0.7, 1.0)]]


def _at(strokes: list[list[tuple[float, float]]], dx: float, dy: float = 0.0) -> list[list[tuple[float, float]]]:
    return [[(x + dx, y + dy) for x, y in s] for s in strokes]


def _dash(x: float, y: float = 0.5) -> list[tuple[float, float]]:
    return [(x, y), (x + 0.45, y)]


def test_a_bar_the_scan_broke_off_a_five_joins_it() -> None:
    """Ensures that a 5's bar apart from its body, overlapping it by under half its width, is joined to it, not an 'X'.

    bench_handwritten_labels validation rows seed 86200 #1 and #209: 5-2-1's bar, 6 of the body's 13 columns over it,
    was 'X' (DX-D-D) and the classifier never read the line.
    """
    body = [(0.1, 0.1), (0.0, 0.45), (0.3, 0.4), (0.45, 0.7), (0.3, 1.0), (0.0, 0.9)]
    bar = [(0.35, 0.0), (0.85, 0.0)]
    line = [body, bar, _dash(1.0), *_at(_TWO, 1.7), _dash(2.6), *_at(_ONE, 3.3)]
    assert _pen_pattern(line) == "D-D-D"
    dash_under = [(0.25, 0.5), (0.75, 0.5)]  # a flat stroke at mid-height is no bar: a dash, apart
    assert _pen_pattern([*_at(_ONE, 0.0), dash_under, *_at(_ONE, 1.0), _dash(1.5), *_at(_ONE, 2.3)]) == "D-D-D"


def test_a_digit_written_off_the_line_is_a_digit_where_the_dash_beside_it_meets_its_middle() -> None:
    """Ensures that a digit written 0.55 line heights low is a digit when the dash beside it meets its middle.

    Validation rows seed 86200 #72: the 4 of 4-3-1 reached 0.03 px past the 0.45 bound and was an 'X'.
    """
    line = [*_at(_ONE, 0.0, 0.55), [(0.35, 0.75), (0.8, 0.75)], *_at(_TWO, 1.1), _dash(2.0), *_at(_ONE, 2.7)]
    assert _pen_pattern(line) == "D-D-D"
    far = [*_at(_ONE, 0.0, 1.0), _dash(0.4), *_at(_TWO, 1.1), _dash(2.0), *_at(_ONE, 2.7)]  # the dash at its top: off the line
    assert _pen_pattern(far) != "D-D-D"
    wide = [[(0.0, 0.2), (0.3, 0.0), (0.6, 0.2), (0.0, 1.0), (1.55, 1.0)]]  # a 2 with a long foot (seed 86202 #190: D-D-X)
    assert _pen_pattern([*_at(_ONE, 0.0), _dash(0.4), *_at(_TWO, 1.1), _dash(2.0), *_at(wide, 2.7)]) == "D-D-D"
    # the dash written into the 2 after it (split off) is a dash beside the low digit too (seed 86200 #90: 3-3-1 was X-D-D)
    joined = [*_at(_ONE, 0.0, 0.4), [(0.45, 0.5), (1.5, 0.5)], *_at(_TWO, 1.1), _dash(2.0), *_at(_ONE, 2.7)]
    assert _pen_pattern(joined, split=True) == "D-D-D"


def test_a_tall_digit_with_the_dash_written_into_it_is_split() -> None:
    """Ensures that a last digit written taller than the others, its dash in the same stroke, is split into dash and
    digit (validation rows seed 88206 #266: 4-1-3's '-3', 1.27 line heights tall, was D-DX and the line unread)."""
    three = [(2.2, -0.1), (2.7, 0.0), (2.4, 0.5), (2.7, 0.8), (2.2, 1.1)]  # 1.3 line heights, its dash ending at its cusp
    short_one = [[(0.1, 0.2), (0.0, 1.0)]]
    line = [*short_one, _dash(0.4), *_at(_ONE, 1.1), [(1.5, 0.5), (2.4, 0.5)], three]
    assert _pen_pattern(line) != "D-D-D"
    assert _pen_pattern(line, split=True) == "D-D-D"


def test_a_speck_between_a_digit_and_its_dash_leaves_the_digit_beside_the_dash() -> None:
    """Ensures that a scan speck between a low-written digit and the dash after it does not make the digit an 'X'.

    Validation rows seed 86200 #98: a speck by the 7 of 7-2-2 made 'X -D-D'.
    """
    line = [*_at(_ONE, 0.0, 0.4), [(0.32, 0.3), (0.33, 0.31)], _dash(0.5, 0.7), *_at(_TWO, 1.2), _dash(2.1), *_at(_ONE, 2.8)]
    assert _pen_pattern(line) == "D-D-D"
    # a speck high by a dash, 0.3 off the line's middle, is no 'X' either (seed 86202 #17: 4-˙1-4 was D-XD-D once the
    # dash's neighbour was looked for past specks)
    high = [*_at(_TWO, 0.0), _dash(0.9), [(1.45, 0.13), (1.46, 0.14)], *_at(_ONE, 1.7), _dash(2.1), *_at(_TWO, 2.8)]
    assert _pen_pattern(high) == "D-D-D"


def test_a_one_the_scan_broke_beside_a_dash_is_a_digit_and_a_colon_is_not() -> None:
    """Ensures that a 1 broken into a stroke and a dot ('!') between dashes is a digit, and two dots are still a colon.

    Validation rows seed 86201 #26: 4-!-1 was D-XD-D, the stacked parts taken for a colon.
    """
    broken = [[(0.05, 0.0), (0.0, 0.45)], [(0.0, 0.93), (0.0, 1.0)]]
    line = [*_at(_TWO, 0.0), _dash(0.9), *_at(broken, 1.6), _dash(1.9), *_at(_TWO, 2.6)]
    assert _pen_pattern(line) == "D-D-D"
    # a slanting 1 whose foot broke off beside its stroke's columns (seed 86202 #42: 7-5-1's last 1, D-D-XD)
    footed = [[(0.3, 0.0), (0.2, 0.45)], [(0.0, 0.7), (0.02, 0.85)]]
    assert _pen_pattern([*_at(_TWO, 0.0), _dash(0.9), *_at(_ONE, 1.6), _dash(2.0), *_at(footed, 2.7)]) == "D-D-D"
    colon = [[(0.0, 0.25), (0.02, 0.27)], [(0.0, 0.8), (0.02, 0.82)]]
    assert "X" in _pen_pattern([*_at(_TWO, 0.0), *_at(colon, 1.0), *_at(_TWO, 1.4), _dash(2.3), *_at(_ONE, 3.0)])


def test_a_dash_written_low_between_two_digits_that_reach_it_is_a_dash() -> None:
    """Ensures that a dash written at the digits' feet is a dash when both digits beside it reach its height, and not under a
    digit that ends above it.

    Validation rows seed 86200 #93: 6-2-2's first dash, its middle 0.91 line heights down, was an 'X' (DXD-D); #271: a
    dash under a 6 whose loop the scan lost stays no dash (that 6 was read 1 by every reader).
    """
    low = [*_at(_TWO, 0.0), _dash(0.9, 1.0), *_at(_ONE, 1.6), _dash(2.0), *_at(_TWO, 2.7)]
    assert _pen_pattern(low) == "D-D-D"
    short = [[(0.1, 0.0), (0.0, 0.75)]]
    assert _pen_pattern([*_at(short, 0.0), _dash(0.4, 1.0), *_at(_ONE, 1.2), _dash(1.6), *_at(_TWO, 2.3)]) != "D-D-D"


def test_a_stroke_the_scan_cut_off_a_digit_beside_it_is_joined_to_it() -> None:
    """Ensures that a 4 broken into its left stroke and its stem is one glyph, not an 'X' and a 1 for the classifier.

    Validation rows seed 86202 #251: at 200 dpi black-and-white 4-1-1's 4 came out as two strokes side by side, 'XD-D-D';
    the stem alone was read 1 by every reader and the label 1-1-1, silently.
    """
    four = [[(0.0, 0.1), (0.0, 0.55)], [(0.35, 0.0), (0.35, 1.0)]]
    assert _pen_pattern([*_at(four, 0.0), _dash(0.7), *_at(_ONE, 1.4), _dash(1.8), *_at(_ONE, 2.5)]) == "D-D-D"


@pytest.mark.ocr
def test_a_typed_label_with_a_prefix_tesseract_reads_nothing_on_is_read_by_its_id(classifier) -> None:  # type: ignore[no-untyped-def]
    """Ensures that 「添付資料 7-1-1」 typed 12-20 pt at a scan's top right is read, or uncertain with 7-1-1 among its candidates, at every size: never missing (Tesseract 5.5 read nothing on the whole line at 13 pt; seed 86200-05 p22 was then taken for the previous document's page)."""
    from PIL import Image, ImageDraw, ImageFont

    font = "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf"
    if not Path(font).exists():
        pytest.skip("IPAex Mincho is not installed")
    dpi = 200
    for size_pt in range(12, 21):
        page = Image.new("L", (round(595 * dpi / 72), round(842 * dpi / 72)), 250)
        draw = ImageDraw.Draw(page)
        face = ImageFont.truetype(font, round(size_pt * dpi / 72))
        text = "添付資料 7-1-1"
        width = draw.textlength(text, font=face)
        draw.text((page.width - round(50 * dpi / 72) - width, round(24 * dpi / 72)), text, font=face, fill=20)
        draw.text((round(72 * dpi / 72), round(90 * dpi / 72)), "監査報告書", font=ImageFont.truetype(font, round(14 * dpi / 72)), fill=20)
        read = L.read_scanned_label(np.asarray(page), dpi, ITEMS, DOCS, classifier=classifier)
        assert read.parse.ids == ("7-1-1",) or (read.parse.status == "uncertain" and "7-1-1" in read.parse.candidates), (size_pt, read)
