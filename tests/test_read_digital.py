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
    assert "文字情報ではチェックあり" in (mark.note or "")


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
    assert all(data["items"][i]["answer"] == "uncertain" for i in gone.item_ids)  # unseen, not blank


# --- fields: spacing, empty AcroForm values, the page's own text, clipping, reflow -----------------


def _fields(got):
    return {f.name: f for f in got.fields}


def _draw_on_page(pdf_bytes: bytes, page_index: int, texts: list[tuple[float, float, str]]) -> bytes:
    """`pdf_bytes` with `texts` (x, baseline y from the top, text; PDF points) drawn into one page's content (not as fields)."""
    from reportlab.pdfgen.canvas import Canvas

    from pipeline.form.printing.style import IPAEX_GOTHIC, register_font

    font = register_font(IPAEX_GOTHIC)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        page = pdf.pages[page_index]
        width, height = float(page.mediabox[2]), float(page.mediabox[3])
        buf = io.BytesIO()
        canvas = Canvas(buf, pagesize=(width, height), invariant=1)
        canvas.setFont(font, 10)
        for x, y, text in texts:
            canvas.drawString(x, height - y, text)
        canvas.showPage()
        canvas.save()
        with pikepdf.open(io.BytesIO(buf.getvalue())) as over:
            page.add_overlay(over.pages[0])
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def _cover_field(form, name):
    return next(f for f in form.pages[0].fields if f.name == name)


def test_spacing_comes_from_glyph_positions(tmp_path, form):
    """Ensures that typed Latin text reads with exactly its own spaces: no space after a narrow '1' or before a '.', the typed ones kept."""
    texts = {
        "applicant.tel": "03-1234-5678",
        "applicant.registration_number": "A-12-3456",
        "applicant.user_count": "約 12,000",
        "2-1-5.url_target": "https://www.sample-net.example.jp/support/5-1-1.html",
        "applicant.representative": "Taro Mihon 1.1",
    }
    path = tmp_path / "typed.pdf"
    print_filled(FORM_DIR, set(), texts, "glyph", path)
    fields = _fields(read_submission(path, form))
    for name, text in texts.items():
        assert (fields[name].value, fields[name].status) == (text, "read"), name


def test_an_empty_acroform_field_is_empty_never_none(tmp_path, form):
    """Ensures that AcroForm text fields without a value (the date among them) read as empty with no value, never the string 'None'."""
    path = tmp_path / "boxes_only.pdf"
    path.write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True}))
    got = read_submission(path, form)
    texts = [f for f in got.fields if f.kind in ("text", "url", "date")]
    assert texts and all((f.status, f.value) == ("empty", None) for f in texts), [(f.name, f.status, f.value) for f in texts if f.status != "empty"]


def test_text_drawn_on_the_page_of_an_empty_acroform_field_is_read(tmp_path, form):
    """Ensures that where a PDF reader drew the applicant's text as page content and left the AcroForm field empty, that text is read."""
    values = {"applicant.company_name": "株式会社ページ描画", "applicant.tel": "03-5555-0101", "applicant.url": "https://www.drawn.example.jp/"}
    filled = fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True})
    drawn = [(_cover_field(form, n).bbox[0] + 3, _cover_field(form, n).bbox[3] - 6, t) for n, t in values.items()]
    path = tmp_path / "drawn.pdf"
    path.write_bytes(_draw_on_page(filled, 0, drawn))
    got = read_submission(path, form)
    assert got.sources[0].kind == "acroform"
    fields = _fields(got)
    for name, text in values.items():
        assert (fields[name].value, fields[name].status) == (text, "read"), name
    assert fields["applicant.fax"].status == "empty" and fields["applicant.fax"].value is None


def test_text_running_past_its_field_is_not_read_as_certain(tmp_path, form):
    """Ensures that typed text crossing a field's edge makes it uncertain (with a crop), and never lands in the neighbouring field."""
    company = _cover_field(form, "applicant.company_name")
    tel, fax = _cover_field(form, "applicant.tel"), _cover_field(form, "applicant.fax")
    long_name = "株式会社とても長い名前のインターネットサービスプロバイダー東日本"  # 10 pt: about 310 pt wide
    start = company.bbox[2] - 200  # runs ~110 pt past the box's right edge
    # TEL typed low, its glyphs mostly below the TEL line: they belong to neither TEL nor FAX.
    low = (tel.bbox[3] + fax.bbox[1]) / 2 + 5
    path = tmp_path / "overrun.pdf"
    base = (FORM_DIR / "blank.pdf").read_bytes()
    path.write_bytes(_draw_on_page(base, 0, [(start, company.bbox[3] - 6, long_name), (tel.bbox[0] + 3, low, "03-1234-5678")]))
    got = read_submission(path, form)
    fields = _fields(got)
    assert fields["applicant.company_name"].status == "uncertain"
    assert "p1_applicant.company_name" in got.crops
    assert fields["applicant.fax"].value != "03-1234-5678" and fields["applicant.fax"].status != "read"
    assert fields["applicant.tel"].status != "read"


def test_two_copies_of_a_form_page_are_a_warning_naming_both(tmp_path, form):
    """Ensures that a form page sent twice (a re-filled page added to the file) is flagged with both pages, not chosen silently."""
    entry = tmp_path / "entry"
    entry.mkdir()
    print_filled(FORM_DIR, {(b.owner, "yes") for b in form.pages[1].boxes if b.option == "yes"}, {}, "glyph", entry / "a.pdf")
    print_filled(FORM_DIR, set(), {}, "glyph", tmp_path / "b.pdf")
    with pikepdf.open(tmp_path / "b.pdf") as src, pikepdf.new() as out:
        out.pages.append(src.pages[1])  # the same answer-sheet page once more, filled otherwise
        out.save(entry / "b.pdf")
    collected = read_submission(entry, form)
    twice = [f for f in collected.flags if f.code == "missing_form_page"]
    assert len(twice) == 1 and twice[0].severity == "warning"
    assert {(r.file, r.page) for r in twice[0].pages} == {("a.pdf", 2), ("b.pdf", 1)}
    assert "二つ" in twice[0].message


def test_a_page_whose_print_moved_is_read_where_the_print_went(tmp_path, form):
    """Ensures that a page whose print sits 14 pt lower than the blank's (a Word reflow) has its fields read at their new place, exactly.

    (Before the reflowed reader, such a page could at best read every field uncertain.)
    """
    texts = {"applicant.company_name": "株式会社サンプル", "applicant.tel": "03-1234-5678", "applicant.user_count": "12,000"}
    path = tmp_path / "reflowed.pdf"
    print_filled(FORM_DIR, set(), texts, "glyph", path)
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].contents_add(pikepdf.Stream(pdf, b"1 0 0 1 0 -14 cm"), prepend=True)  # everything 14 pt lower
        pdf.save(path)
    fields = _fields(read_submission(path, form))
    for name, value in texts.items():
        assert (fields[name].status, fields[name].value) == ("read", value), name
        assert fields[name].bbox[1] == pytest.approx(form.pages[0].fields[[f.name for f in form.pages[0].fields].index(name)].bbox[1] + 14, abs=0.6)
    others = [f for f in fields.values() if f.page and f.page.page == 1 and f.kind in ("text", "url") and f.name not in texts]
    assert others and all(f.status == "empty" for f in others)


def test_a_value_off_its_pattern_is_uncertain_with_its_crop(tmp_path):
    """Ensures that a typed TEL with a digit missing, and a ユーザー数 of '000', go to the reviewer as uncertain with a saved crop."""
    from pipeline.run.submission import process_submission

    texts = {"applicant.tel": "03-1234-567", "applicant.user_count": "000", "applicant.fax": "03-1234-5679"}
    path = tmp_path / "off.pdf"
    print_filled(FORM_DIR, set(), texts, "glyph", path)
    out = tmp_path / "out"
    data = process_submission(path, FORM_DIR, out)
    for key in ("tel", "user_count"):
        got = data["applicant"][key]
        assert got["status"] == "uncertain" and got["value"] == texts[f"applicant.{key}"], key
        assert "形に合いません" in got["note"]
        assert (out / got["crop"]).is_file(), key
    assert data["applicant"]["fax"]["status"] == "read"
