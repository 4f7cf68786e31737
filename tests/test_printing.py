"""Our printing: blank.pdf, fillable.pdf and layout.yaml agree with each other and with the form."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
RENEWAL = REPO / "forms" / "renewal"
NEW = REPO / "forms" / "new"
DPI = 150


@pytest.fixture(scope="module")
def layout():
    return yaml.safe_load((RENEWAL / "layout.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def renders():
    """Every page of blank.pdf as a grey image at 150 dpi."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(RENEWAL / "blank.pdf"))
    images = [np.asarray(page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L")) for page in doc]
    doc.close()
    return images


@pytest.fixture(scope="module")
def texts():
    """The text layer of every page of blank.pdf (pdfium: fast), whitespace removed."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(RENEWAL / "blank.pdf"))
    out = [re.sub(r"\s", "", page.get_textpage().get_text_bounded()) for page in doc]
    doc.close()
    return out


def _px(v: float) -> int:
    return int(round(v * DPI / 72))


def test_committed_files_are_what_the_code_draws(layout):
    """Ensures that forms/renewal's blank.pdf and layout.yaml are current: re-drawing gives the same bytes and layout."""
    from pipeline.form.printing.api import render_form
    from pipeline.form.printing.layoutio import compare_layouts, layout_dict

    printed = render_form(RENEWAL)
    assert printed.pdf == (RENEWAL / "blank.pdf").read_bytes(), "re-run: python -m pipeline print-form forms/renewal"
    assert compare_layouts(layout_dict("renewal", "ours", printed.pages), layout, 0.001) == []


def test_page_count_and_roles(layout):
    """Ensures that the printing is a cover page plus an answer sheet of about 15 pages, as the layout says."""
    from pypdf import PdfReader

    pages = layout["pages"]
    assert len(PdfReader(str(RENEWAL / "blank.pdf")).pages) == len(pages)
    assert 12 <= len(pages) <= 18
    assert [p["role"] for p in pages] == ["cover"] + ["answer"] * (len(pages) - 1)
    assert all(p["size"] == [595.28, 841.89] for p in pages)


def test_fonts_are_embedded():
    """Ensures that every font of blank.pdf is embedded, and the body and headings use IPAex Mincho and Gothic."""
    out = subprocess.run(["pdffonts", str(RENEWAL / "blank.pdf")], capture_output=True, text=True, check=True, timeout=60).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows and all(row[-5] == "yes" for row in rows), out
    names = " ".join(row[0] for row in rows)
    assert "IPAexMincho" in names and "IPAexGothic" in names


def test_every_item_is_on_its_page_and_never_split(layout, form, texts):
    """Ensures that each item id is printed on the page that lists it, and all its boxes and fields are on that page."""
    pages_of: dict[str, set[int]] = {}
    for p in layout["pages"]:
        for rec in p["boxes"] + p["fields"]:
            pages_of.setdefault(rec.get("owner"), set()).add(p["number"])
    listed = [i for p in layout["pages"] for i in p["items"]]
    assert listed == list(form.item_ids)
    for p in layout["pages"]:
        for item_id in p["items"]:
            assert item_id in texts[p["number"] - 1]
            assert pages_of[item_id] == {p["number"]}, f"{item_id} is split over pages {pages_of[item_id]}"


def test_qr_codes_and_page_codes(layout, renders, texts):
    """Ensures that each page's QR code decodes to its page code, which is also in the text layer."""
    import cv2

    detector = cv2.QRCodeDetector()
    for p, image, text in zip(layout["pages"], renders, texts, strict=True):
        assert p["code"] == f"ISPMARK-renewal-P{p['number']:02d}"
        top_right = image[: image.shape[0] // 6, image.shape[1] // 2 :]
        value, _, _ = detector.detectAndDecode(top_right)
        assert value == p["code"]
        assert p["code"] in text


def test_layout_sits_on_the_drawn_boxes_and_lines(layout, renders):
    """Ensures that every layout box has ink on its four edges and none inside, anchors are solid, and text fields sit on their underline."""
    for p, image in zip(layout["pages"], renders, strict=True):
        for a in p["anchors"]:
            x0, y0, x1, y1 = (_px(v) for v in a)
            assert image[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].mean() < 40
        for b in p["boxes"]:
            x0, y0, x1, y1 = (_px(v) for v in b["bbox"])
            where = f"page {p['number']} {b['owner']}/{b['option']}"
            if b["shape"] == "box":
                edges = [
                    image[y0 - 1 : y0 + 2, x0:x1].min(axis=0),
                    image[y1 - 1 : y1 + 2, x0:x1].min(axis=0),
                    image[y0:y1, x0 - 1 : x0 + 2].min(axis=1),
                    image[y0:y1, x1 - 1 : x1 + 2].min(axis=1),
                ]
                assert all((e < 160).mean() > 0.9 for e in edges), where
                assert image[y0 + 3 : y1 - 2, x0 + 3 : x1 - 2].min() > 200, where
            else:  # bracket: ink at both ends, white in the middle
                third = (x1 - x0) // 4
                assert image[y0:y1, x0 : x0 + third].min() < 128 and image[y0:y1, x1 - third : x1].min() < 128, where
                assert image[y0 + 2 : y1 - 2, x0 + third + 2 : x1 - third - 2].min() > 200, where
        for f in p["fields"]:
            x0, y0, x1, y1 = (_px(v) for v in f["bbox"])
            if f["kind"] in ("text", "url"):  # from the label's end (people write right after the colon) to the underline's end
                rows = image[y0 : y1 + 1, (x0 + x1) // 2 : x1 - 2]
                inked = (rows < 160).mean(axis=1) > 0.95
                assert inked.any(), f"page {p['number']} {f['name']}: no underline"
                above = image[y0 + 2 : y0 + int(inked.argmax()) - 1, x0 + 1 : x1 - 2]
                assert above.size == 0 or above.min() > 160, f"page {p['number']} {f['name']}: print inside the field"
            if f["kind"] == "seal":  # 印 at the centre of the spot
                cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
                assert image[cy - 5 : cy + 5, cx - 5 : cx + 5].min() < 128, f["name"]


def test_fillable_has_a_widget_per_box_and_text_field(layout):
    """Ensures that fillable.pdf has a checkbox per box and a text field per text/url/date field, at the layout's bbox, and none for signature or seal."""
    from pypdf import PdfReader

    from samples.fill import field_type, qualified_name

    reader = PdfReader(str(RENEWAL / "fillable.pdf"))
    assert bool(reader.trailer["/Root"]["/AcroForm"]["/NeedAppearances"])
    for p, page in zip(layout["pages"], reader.pages, strict=True):
        height = float(page.mediabox.height)
        widgets = {}
        for ref in page.get("/Annots") or []:
            w = ref.get_object()
            x0, y0, x1, y1 = (float(v) for v in w["/Rect"])
            widgets[qualified_name(w)] = (field_type(w), [x0, height - y1, x1, height - y0], w)
        expected = {f"{b['owner']}.{b['option']}": ("/Btn", b["bbox"]) for b in p["boxes"]}
        expected |= {f["name"]: ("/Tx", f["bbox"]) for f in p["fields"] if f["kind"] in ("text", "url", "date")}
        assert set(widgets) == set(expected), f"page {p['number']}"
        for name, (kind, bbox) in expected.items():
            assert widgets[name][0] == kind
            assert max(abs(a - b) for a, b in zip(widgets[name][1], bbox, strict=True)) < 0.01, name
            if kind == "/Btn":
                assert "/Yes" in widgets[name][2]["/AP"]["/N"]


def test_fill_acroform_round_trips(tmp_path):
    """Ensures that fill_acroform sets checkboxes to /Yes or /Off and Japanese text values that read back unchanged."""
    from pypdf import PdfReader

    from samples.fill import fill_acroform

    values = {
        "1-1-1.yes": True,
        "1-1-3.no": False,
        "3-1-7.over_100km": True,
        "upstream_provider.independent": True,
        "applicant.company_name": "株式会社テスト通信",
        "2-1-5.url_top": "https://www.example.jp/",
        "1-1-3.dept_title": "情報システム部 部長",
    }
    data = fill_acroform(RENEWAL / "fillable.pdf", values)
    assert data == fill_acroform(RENEWAL / "fillable.pdf", values)  # deterministic
    out = tmp_path / "filled.pdf"
    out.write_bytes(data)
    fields = PdfReader(str(out)).get_fields()
    assert fields["1-1-1.yes"]["/V"] == "/Yes" and fields["1-1-3.no"]["/V"] == "/Off"
    assert fields["3-1-7.over_100km"]["/V"] == "/Yes" and fields["upstream_provider.independent"]["/V"] == "/Yes"
    assert fields["applicant.company_name"]["/V"] == "株式会社テスト通信"
    assert fields["2-1-5.url_top"]["/V"] == "https://www.example.jp/"
    assert fields["1-1-2.yes"].get("/V") in (None, "/Off")
    with pytest.raises(KeyError):
        fill_acroform(RENEWAL / "fillable.pdf", {"9-9-9.yes": True})


def test_filled_value_displays_in_japanese(tmp_path):
    """Ensures that a Japanese value typed into fillable.pdf is drawn (with an embedded font) where the field is."""
    from samples.fill import fill_acroform

    out = tmp_path / "filled.pdf"
    out.write_bytes(fill_acroform(RENEWAL / "fillable.pdf", {"applicant.company_name": "株式会社テスト通信"}))
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(out))
    doc.init_forms()
    image = np.asarray(doc[0].render(scale=DPI / 72, grayscale=True, may_draw_forms=True).to_pil().convert("L"))
    doc.close()
    lay = yaml.safe_load((RENEWAL / "layout.yaml").read_text(encoding="utf-8"))
    bbox = next(f["bbox"] for f in lay["pages"][0]["fields"] if f["name"] == "applicant.company_name")
    x0, y0, x1, y1 = (_px(v) for v in bbox)
    inside = image[y0 : y1 - 4, x0 : x0 + (x1 - x0) // 3]
    assert (inside < 128).sum() > 200  # the typed characters, not just the underline


@pytest.mark.parametrize("style", ["glyph", "drawn"])
def test_print_filled(tmp_path, layout, style):
    """Ensures that print_filled marks exactly the chosen boxes (■ in the text layer, or a drawn ✓ with no text) and types field texts into their bboxes."""
    import pdfplumber
    import pypdfium2 as pdfium

    from samples.fill import print_filled

    marks = {("1-1-1", "yes"), ("1-1-3", "no"), ("3-1-7", "yes"), ("3-1-7", "within_100km"), ("security_outage", "occurred")}
    fields = {
        "applicant.company_name": "株式会社テスト通信",
        "1-1-3.dept_title": "情報システム部 部長",
        "2-1-5.url_top": "https://isp.example.jp/",
    }
    out = tmp_path / f"{style}.pdf"
    print_filled(RENEWAL, marks, fields, style, out)
    first = out.read_bytes()
    print_filled(RENEWAL, marks, fields, style, out)
    assert out.read_bytes() == first  # deterministic
    doc = pdfium.PdfDocument(str(out))
    touched = {p["number"] for p in layout["pages"] for b in p["boxes"] if (b["owner"], b["option"]) in marks}
    touched |= {p["number"] for p in layout["pages"] for f in p["fields"] if f["name"] in fields}
    for p in layout["pages"]:
        if p["number"] not in touched:
            assert "■" not in doc[p["number"] - 1].get_textpage().get_text_bounded()
    with pdfplumber.open(str(out)) as pdf:
        for p in (p for p in layout["pages"] if p["number"] in touched):
            page = pdf.pages[p["number"] - 1]
            squares = [c for c in page.chars if c["text"] == "■"]
            image = None
            for b in p["boxes"]:
                x0, y0, x1, y1 = b["bbox"]
                hit = [c for c in squares if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and y0 - 2 <= (c["top"] + c["bottom"]) / 2 <= y1 + 2]
                marked = (b["owner"], b["option"]) in marks
                if style == "glyph" and b["shape"] == "box":
                    assert bool(hit) == marked, (b["owner"], b["option"])
                else:
                    assert not hit
                    if marked:
                        image = (
                            image
                            if image is not None
                            else np.asarray(doc[p["number"] - 1].render(scale=DPI / 72, grayscale=True).to_pil().convert("L"))
                        )
                        px = [_px(v) for v in b["bbox"]]
                        assert (image[px[1] + 3 : px[3] - 2, px[0] + 3 : px[2] - 2] < 128).sum() > 10
            for f in p["fields"]:
                if f["name"] in fields:
                    words = page.within_bbox(tuple(f["bbox"])).extract_text()
                    assert re.sub(r"\s", "", fields[f["name"]]) in re.sub(r"\s", "", words)
    doc.close()


def test_new_form_has_its_own_title_and_loads():
    """Ensures that forms/new prints its own title and intro, its own page codes, and both forms load with their layouts."""
    import pdfplumber

    from pipeline.form.definition import load_form

    for folder in (RENEWAL, NEW):
        form = load_form(folder)
        assert form.pages and sum(len(p.boxes) for p in form.pages) > 0
    with pdfplumber.open(str(NEW / "blank.pdf")) as pdf:
        text = re.sub(r"\s", "", pdf.pages[0].extract_text())
    assert "安全・安心マーク使用許諾申請書" in text and "使用許諾更新" not in text
    assert "使用許諾申請を行います" in text and "ISPMARK-new-P01" in text


def test_wrap_keeps_kinsoku_and_ascii_words():
    """Ensures that line breaking never starts a line with 。、） and never breaks inside an ASCII word."""
    from pipeline.form.printing.sheet import wrap
    from pipeline.form.printing.style import OURS

    text = "当社では、管理者権限（root, administrator 等）を持ってサーバ類へのアクセスができるのは、適切な者のみに限定されていることを報告します。"
    for width in range(60, 300, 7):
        lines = wrap(text, OURS.body, 9.5, float(width))
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert not any(line[0] in "、。）" for line in lines[1:])
        assert not any(line.endswith(("admin", "roo")) for line in lines)


def test_a_stale_layout_is_skipped_without_touching_it(tmp_path):
    """Ensures that a form whose old layout.yaml names an unknown item still loads for printing, and the folder is left as it was."""
    import shutil

    from pipeline.form.definition import load_form
    from pipeline.form.printing.api import load_definition
    from pipeline.model.errors import FormDefinitionError

    folder = tmp_path / "renewal"
    shutil.copytree(RENEWAL, folder)
    layout = folder / "layout.yaml"
    layout.write_text(layout.read_text(encoding="utf-8").replace("owner: 1-1-1,", "owner: 9-9-9,", 1), encoding="utf-8")
    stale = layout.read_bytes()
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(FormDefinitionError, match="9-9-9"):
        load_form(folder)
    form = load_definition(folder)
    assert form.pages == () and form.items == load_form(RENEWAL).items
    assert form.texts.contacts and form.texts.closing_text
    assert layout.read_bytes() == stale and sorted(p.name for p in folder.iterdir()) == before
