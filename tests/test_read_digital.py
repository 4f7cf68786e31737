"""The AcroForm and text-layer readers on our blank form filled programmatically in several ways."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pikepdf
import pytest

from pipeline.run.submission import read_submission
from samples.fill import fill_acroform, print_filled

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"


def random_answers(form, seed: int):
    """A seeded applicant: each box checked or not, at random, texts in some fields."""
    rng = random.Random(seed)
    marks = set()
    for page in form.pages:
        for box in page.boxes:
            if rng.random() < 0.45:
                marks.add((box.owner, box.option))
    texts = {}
    for page in form.pages:
        for f in page.fields:
            if f.kind in ("text", "url") and rng.random() < 0.5:
                texts[f.name] = rng.choice(["株式会社テスト", "https://example.jp/a/b.html", "情報システム部 山田", "A&B <C>"])
    return marks, texts


def states(collected):
    return {(m.owner, m.option): m.state for m in collected.marks}


def all_boxes(form):
    return {(b.owner, b.option) for p in form.pages for b in p.boxes}


@pytest.mark.parametrize("seed", [1, 2])
def test_acroform_reader_reads_every_box(tmp_path, form, seed):
    """Ensures that a fillable.pdf filled at random reads back box for box, and its texts too."""
    marks, texts = random_answers(form, seed)
    values = {f"{o}.{k}": ((o, k) in marks) for o, k in all_boxes(form)}
    values.update(texts)
    path = tmp_path / "filled.pdf"
    path.write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", values))
    got = read_submission(path, form)
    assert got.sources[0].kind == "acroform"
    assert sorted(got.form_pages) == [p.number for p in form.pages]
    expected = {box: ("checked" if box in marks else "empty") for box in all_boxes(form)}
    assert states(got) == expected
    read = {f.name: f.value for f in got.fields if f.value}
    for name, text in texts.items():
        assert read.get(name) == text, name


@pytest.mark.parametrize("style", ["glyph", "drawn"])
def test_text_layer_reader_reads_word_style_fills(tmp_path, form, style):
    """Ensures that a Word-style filled PDF (■ glyphs, or ✓ drawn) reads back box for box with its typed texts."""
    marks, texts = random_answers(form, 7 if style == "glyph" else 8)
    path = tmp_path / f"{style}.pdf"
    print_filled(FORM_DIR, marks, texts, style, path)
    got = read_submission(path, form)
    assert got.sources[0].kind == "born_digital"
    expected = {box: ("checked" if box in marks else "empty") for box in all_boxes(form)}
    wrong = {k: (v, expected[k]) for k, v in states(got).items() if v != expected[k]}
    assert not wrong
    read = {f.name: f.value for f in got.fields if f.value}
    for name, text in texts.items():
        assert read.get(name, "").replace(" ", "") == text.replace(" ", ""), name


def test_text_layer_against_drawn_page_disagreement_is_uncertain(tmp_path, form):
    """Ensures that a ■ glyph that does not show on the page (white text) makes the box uncertain, not checked."""
    path = tmp_path / "ghost.pdf"
    print_filled(FORM_DIR, {("1-1-1", "yes")}, {}, "glyph", path)
    # Paint the ■ white: the text layer still says checked, the page shows an empty box.
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            page.contents_add(pikepdf.Stream(pdf, b""), prepend=True)
            stream = page.Resources.XObject["/FilledIn"]
            stream.write(b"1 1 1 rg 1 1 1 RG " + stream.read_bytes())
        pdf.save(path)
    got = read_submission(path, form)
    mark = next(m for m in got.marks if (m.owner, m.option) == ("1-1-1", "yes"))
    assert mark.state == "uncertain"
    assert "text layer says checked" in (mark.note or "")


def test_unknown_acroform_values_are_reported(tmp_path, form):
    """Ensures that AcroForm values on fields no box knows become a flag with the field's name."""
    filled = fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True})
    with pikepdf.open(io.BytesIO(filled)) as pdf:
        field = pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String("mystery_field"), V=pikepdf.String("hello"),
                                   Rect=[0, 0, 10, 10], Subtype=pikepdf.Name.Widget, Type=pikepdf.Name.Annot)
        ref = pdf.make_indirect(field)
        pdf.Root.AcroForm.Fields.append(ref)
        pdf.pages[1].Annots.append(ref)
        pdf.save(tmp_path / "odd.pdf")
    got = read_submission(tmp_path / "odd.pdf", form)
    assert any("mystery_field" in f.message for f in got.flags)
    assert states(got)[("1-1-1", "yes")] == "checked"


def test_a_pdf_of_another_form_is_attachments(tmp_path, form):
    """Ensures that a PDF that is not our form gives no form pages: its pages go on to attachments."""
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "other.pdf"
    c = Canvas(str(path))
    c.drawString(72, 720, "Application for something else entirely. Item 1: [ ] yes [ ] no")
    c.showPage()
    c.save()
    got = read_submission(path, form)
    assert got.form_pages == {}
    assert len(got.other_pages) == 1


def test_a_missing_form_page_is_flagged_by_number(tmp_path, form):
    """Ensures that a submission without one answer-sheet page says which page and items are missing."""
    from pipeline.run.submission import process_submission

    marks = {(b.owner, "yes") for p in form.pages for b in p.boxes if b.option == "yes"}
    path = tmp_path / "short.pdf"
    print_filled(FORM_DIR, marks, {}, "glyph", path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        del pdf.pages[4]
        pdf.save(path)
    data = process_submission(path, FORM_DIR, tmp_path / "out")
    flag = next(f for f in data["flags"] if f["code"] == "missing_form_page")
    gone = form.pages[4]
    assert f"p{gone.number}" in flag["message"] and gone.item_ids[0] in flag["message"]
    assert data["score"]["decision"] != "pass"
    assert all(data["items"][i]["answer"] == "blank" for i in gone.item_ids)
