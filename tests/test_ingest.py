"""Unit tests for pipeline/sources (ingest and the modules it drives) on small files built in tmp_path."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from pipeline.model.errors import LimitExceededError, PipelineError, UnreadableFileError
from pipeline.sources.ingest import iter_sources, open_source, relative_name, scan_entry
from pipeline.sources.limits import Limits
from pipeline.sources.page import OpenedSource

LIMITS = Limits()
A4 = (595.0, 842.0)


# --- builders ------------------------------------------------------------------------------


def text_pdf(path: Path, pages: int = 1, size: tuple[float, float] = A4) -> Path:
    """Born-digital PDF: 'Hello World' at (72, 700) in 12-pt Helvetica and a Japanese line."""
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    c = canvas.Canvas(str(path), pagesize=size)
    for n in range(pages):
        c.setFont("Helvetica", 12)
        c.drawString(72, 700, "Hello World")
        c.drawString(72, 100, f"page {n + 1}")
        c.setFont("HeiseiKakuGo-W5", 14)
        c.drawString(72, 600, "審査項目回答書 1-1-1")
        c.showPage()
    c.save()
    return path


def pattern(width: int = 600, height: int = 800) -> Image.Image:
    """A grey page with a black block near the top-left corner, so orientation is visible."""
    arr = np.full((height, width), 230, np.uint8)
    arr[40:140, 40:200] = 0  # top-left block (wider than tall)
    arr[height - 60 : height - 40, width // 2 - 10 : width // 2 + 10] = 100
    return Image.fromarray(arr, "L")


def image_pdf(path: Path, img: Image.Image, size: tuple[float, float] = A4, *, rotate: int = 0, matrix: str | None = None) -> Path:
    """Image-only PDF: one JPEG drawn over the whole page (pikepdf, like a scanner writes it)."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    pdf = pikepdf.new()
    w, h = size
    image = pikepdf.Stream(pdf, buf.getvalue())
    image.Type = pikepdf.Name.XObject
    image.Subtype = pikepdf.Name.Image
    image.Width, image.Height = img.width, img.height
    image.ColorSpace = pikepdf.Name.DeviceGray if img.mode == "L" else pikepdf.Name.DeviceRGB
    image.BitsPerComponent = 8
    image.Filter = pikepdf.Name.DCTDecode
    cm = matrix or f"{w} 0 0 {h} 0 0"
    content = pikepdf.Stream(pdf, f"q {cm} cm /Im0 Do Q".encode())
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, w, h],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
        Contents=content,
    )
    if rotate:
        page.Rotate = rotate
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path


def acroform_pdf(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawString(72, 760, "Form")
    form = c.acroForm
    form.checkbox(name="1-1-1.yes", x=72, y=500, size=20, checked=True, buttonStyle="check")
    form.checkbox(name="1-1-1.no", x=120, y=500, size=20, checked=False)
    form.textfield(name="applicant.company_name", x=72, y=400, width=200, height=20, value="Example ISP")
    form.radio(name="3-1-7", value="over_100km", selected=False, x=72, y=300, size=15)
    form.radio(name="3-1-7", value="within_100km", selected=True, x=100, y=300, size=15)
    c.save()
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def opened(path: Path, limits: Limits = LIMITS) -> OpenedSource:
    return open_source(path, path.name, limits)


def dark_bbox(img: np.ndarray, threshold: int = 128) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(img < threshold)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


# --- born-digital PDFs -----------------------------------------------------------------


def test_born_digital_kind_pages_and_words(tmp_path: Path) -> None:
    """Ensures that a text PDF is born_digital with its pages, words and top-left bboxes in points."""
    path = text_pdf(tmp_path / "申請 書 (1).pdf", pages=2)
    with opened(path) as src:
        assert src.source.status == "ok" and src.source.kind == "born_digital"
        assert src.source.pages == 2 and src.source.file == "申請 書 (1).pdf"
        assert src.source.sha256 == sha(path)
        page = src.pages[1]
        assert page.ref.page == 2 and page.has_text and not page.scanned
        assert (page.width_pt, page.height_pt) == pytest.approx(A4)
        words = {w.text: w.bbox for w in page.words()}
        assert {"Hello", "World", "page", "2", "審査項目回答書", "1-1-1"} <= set(words)
        x0, y0, x1, y1 = words["Hello"]
        assert x0 == pytest.approx(72, abs=1.0)
        assert y0 < 842 - 700 < y1 and y1 - y0 < 16  # the baseline lies inside the box
        assert words["World"][0] > x1
        assert src.flags == ()


def test_words_line_up_with_the_rendered_page_on_rotated_pages(tmp_path: Path) -> None:
    """Ensures that word bboxes follow /Rotate and the CropBox exactly as the page image does."""
    base = text_pdf(tmp_path / "base.pdf")
    for rotate in (0, 90, 180, 270):
        path = tmp_path / f"rot{rotate}.pdf"
        with pikepdf.open(base) as pdf:
            pdf.pages[0].Rotate = rotate
            pdf.pages[0].CropBox = [20, 30, 560, 800]
            pdf.save(path)
        with opened(path) as src:
            page = src.pages[0]
            assert page.rotation == rotate
            expected = (540, 770) if rotate in (0, 180) else (770, 540)
            assert (page.width_pt, page.height_pt) == pytest.approx(expected)
            img = page.image(72)
            assert img.shape == (round(page.height_pt), round(page.width_pt))
            hello = next(w.bbox for w in page.words() if w.text == "Hello")
            x0, y0, x1, y1 = (round(v) for v in hello)
            crop = img[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2]
            assert crop.min() < 100, f"no ink inside the word box at rotate {rotate}"
            # and the box is tight: ink fills most of its long side
            ix0, iy0, ix1, iy1 = dark_bbox(crop, 160)
            long_box = max(x1 - x0, y1 - y0)
            assert max(ix1 - ix0, iy1 - iy0) > 0.7 * long_box
            chars = page.chars()
            assert "HelloWorld" in "".join(c.text for c in chars)


def test_image_sizes_gray_rgb_and_pixel_limit(tmp_path: Path) -> None:
    """Ensures that image() honours dpi and gray, and drops to a lower dpi under the pixel limit."""
    path = text_pdf(tmp_path / "a.pdf")
    with opened(path) as src:
        page = src.pages[0]
        gray = page.image(100)
        assert gray.dtype == np.uint8 and gray.shape == (round(842 * 100 / 72), round(595 * 100 / 72))
        rgb = page.image(50, gray=False)
        assert rgb.shape == (round(842 * 50 / 72), round(595 * 50 / 72), 3)
    small = Limits(max_page_pixels=3_000_000)  # A4 at 300 dpi is 8.7 Mpx
    with opened(path, small) as src:
        page = src.pages[0]
        dpi = page.fit_dpi(300)
        assert 100 <= dpi < 300
        img = page.image(300)
        assert img.shape[0] * img.shape[1] <= 3_000_000 * 1.01
    tiny = Limits(max_page_pixels=500_000)  # A4 fits only at ~59 dpi: below min_dpi
    with opened(path, tiny) as src:
        assert src.source.status == "error" and "too large" in (src.source.error or "")
        with pytest.raises(LimitExceededError):
            src.pages[0].image(100)


def test_huge_page_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """Ensures that an 8400 x 8400 pt page is reported as too large to rasterise."""
    path = tmp_path / "huge.pdf"
    c = canvas.Canvas(str(path), pagesize=(8400, 8400))
    c.drawString(100, 100, "big")
    c.save()
    with opened(path) as src:
        assert src.source.status == "error"
        assert "page 1 is 8400 x 8400 pt, too large to rasterise safely" in (src.source.error or "")
        assert src.flags[0].code == "unreadable_file"


def test_render_deadline_stops_a_slow_page(tmp_path: Path) -> None:
    """Ensures that limits.page_seconds stops pdfium's progressive render with a clear error."""
    path = tmp_path / "lines.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    for i in range(3000):
        c.line(10 + i % 500, 10 + i * 0.25, 500, 800 - i % 300)
    c.save()
    with opened(path, Limits(page_seconds=0.0)) as src:
        with pytest.raises(LimitExceededError, match="rendering took longer"):
            src.pages[0].image(100)


def test_page_and_file_limits(tmp_path: Path) -> None:
    """Ensures that too many pages and an exhausted file deadline give errors naming the limit."""
    path = text_pdf(tmp_path / "three.pdf", pages=3)
    with opened(path, Limits(max_pages=2)) as src:
        assert src.source.status == "error" and src.source.error == "too many pages (3 > 2 limit)"
    with opened(path, Limits(file_seconds=0.0)) as src:
        assert src.source.status == "error" and "gave up after" in (src.source.error or "")
    with opened(path, Limits(max_file_bytes=100)) as src:
        assert src.source.status == "error" and "file too large" in (src.source.error or "")


# --- scanned PDFs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rotate", "matrix", "size"),
    [
        (0, None, A4),
        (90, None, A4),
        (180, None, A4),
        (270, None, A4),
        (0, "0 -842 595 0 0 842", A4),  # image drawn turned a quarter inside an unrotated page
        (0, "-595 0 0 842 595 0", A4),  # mirrored
        (90, "0 842 -595 0 595 0", A4),
    ],
)
def test_scanned_page_pulled_image_matches_rendering(tmp_path: Path, rotate: int, matrix: str | None, size: tuple[float, float]) -> None:
    """Ensures that a JPEG-only page decoded directly looks exactly like pdfium's rendering of it."""
    img = pattern(600, 800) if matrix is None or matrix.startswith("-") else pattern(800, 600)
    path = image_pdf(tmp_path / "scan.pdf", img, size, rotate=rotate, matrix=matrix)
    with opened(path) as src:
        assert src.source.kind == "scanned"
        page = src.pages[0]
        assert page.scanned and not page.has_text and page.words() == []
        assert src._backend.infos[0].pull is not None  # type: ignore[union-attr]  # the fast path is taken
        pulled = page.image(100)
    doc = pdfium.PdfDocument(str(path))
    rendered = doc[0].render(scale=100 / 72, grayscale=True).to_numpy()
    rendered = rendered.reshape(rendered.shape[0], rendered.shape[1])
    doc.close()
    h = min(pulled.shape[0], rendered.shape[0])
    w = min(pulled.shape[1], rendered.shape[1])
    assert abs(pulled.shape[0] - rendered.shape[0]) <= 1 and abs(pulled.shape[1] - rendered.shape[1]) <= 1
    diff = np.abs(pulled[:h, :w].astype(int) - rendered[:h, :w].astype(int))
    assert diff.mean() < 6, f"pulled image differs from the rendering (mean {diff.mean():.1f})"
    assert dark_bbox(pulled[:h, :w], 50) == pytest.approx(dark_bbox(rendered[:h, :w], 50), abs=3)


def test_mixed_pdf(tmp_path: Path) -> None:
    """Ensures that a PDF with a text page and a scanned page is 'mixed' with per-page kinds."""
    text = text_pdf(tmp_path / "t.pdf")
    scan = image_pdf(tmp_path / "s.pdf", pattern())
    path = tmp_path / "mixed.pdf"
    with pikepdf.open(text) as a, pikepdf.open(scan) as b:
        a.pages.extend(b.pages)
        a.save(path)
    with opened(path) as src:
        assert src.source.kind == "mixed" and src.source.pages == 2
        assert [p.scanned for p in src.pages] == [False, True]
        assert [p.has_text for p in src.pages] == [True, False]


# --- images ----------------------------------------------------------------------------


def test_multipage_tiff_with_dpi(tmp_path: Path) -> None:
    """Ensures that every TIFF frame is a page, sized from its dpi tag, and decodes at any dpi."""
    path = tmp_path / "fax.tif"
    frames = [pattern(1240, 1754).convert("1") for _ in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(150, 150), compression="group4")
    with opened(path) as src:
        assert (src.source.kind, src.source.pages, src.source.status) == ("image", 3, "ok")
        page = src.pages[2]
        assert page.ref.page == 3 and page.scanned and page.words() == []
        assert page.source_bilevel() and page.source_gray()  # a fax: one bit a pixel
        assert (page.width_pt, page.height_pt) == pytest.approx((1240 / 150 * 72, 1754 / 150 * 72))
        img = page.image(100)
        assert img.shape == (round(1754 * 100 / 150), round(1240 * 100 / 150))
        x0, y0, _, _ = dark_bbox(img, 100)
        assert (x0, y0) == pytest.approx((40 * 100 / 150, 40 * 100 / 150), abs=2)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    """Ensures that an EXIF-rotated JPEG is turned upright: size, dpi axes and content."""
    path = tmp_path / "photo.jpg"
    stored = pattern(800, 600).convert("RGB")  # landscape as stored; block at stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored turned 90 degrees clockwise
    stored.save(path, "JPEG", exif=exif, dpi=(100, 100))
    with opened(path) as src:
        page = src.pages[0]
        assert page.rotation == 90 and not page.source_bilevel()
        assert (page.width_pt, page.height_pt) == pytest.approx((600 * 72 / 100, 800 * 72 / 100))
        img = page.image(100)
        assert img.shape == (800, 600)
        x0, y0, x1, y1 = dark_bbox(img, 50)
        # the stored top-left block (160 wide, 100 tall) is now at the top right, 100 wide, 160 tall
        assert (x0, y0, x1, y1) == pytest.approx((600 - 140, 40, 600 - 40, 200), abs=3)
        assert "EXIF orientation applied" in src.notes


def test_image_without_dpi_uses_default(tmp_path: Path) -> None:
    """Ensures that a PNG without (or with an absurd) resolution is taken to be 200 dpi."""
    path = tmp_path / "scan.png"
    pattern(1000, 1400).save(path)
    with opened(path) as src:
        assert (src.pages[0].width_pt, src.pages[0].height_pt) == pytest.approx((1000 / 200 * 72, 1400 / 200 * 72))
    path2 = tmp_path / "phone.jpg"
    pattern(1000, 2000).convert("RGB").save(path2, dpi=(72, 72))  # 28 inches tall at 72 dpi: a placeholder
    with opened(path2) as src:
        assert src.pages[0].height_pt == pytest.approx(2000 / 200 * 72)


def test_truncated_and_garbage_images(tmp_path: Path) -> None:
    """Ensures that a cut JPEG or PNG is a clear 'damaged image' error."""
    good = tmp_path / "good.jpg"
    pattern().convert("RGB").save(good, quality=95)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with opened(cut) as src:
        assert src.source.status == "error" and "truncated JPEG" in (src.source.error or "")
    png = tmp_path / "scan.png"
    pattern().save(png)
    cut_png = tmp_path / "cut.png"
    cut_png.write_bytes(png.read_bytes()[:-200])
    with opened(cut_png) as src:
        assert src.source.status == "error" and "damaged image" in (src.source.error or "")


# --- AcroForm ------------------------------------------------------------------------------


def test_acroform_values_and_widgets(tmp_path: Path) -> None:
    """Ensures that checkbox, radio and text values are read, with widget page and bbox."""
    path = acroform_pdf(tmp_path / "fillable.pdf")
    with opened(path) as src:
        assert src.source.kind == "acroform"
        values = src.acroform_fields()
        assert values["1-1-1.yes"] is True and values["1-1-1.no"] is False
        assert values["applicant.company_name"] == "Example ISP"
        assert values["3-1-7"] == "within_100km"
        box = src.acroform_details()["1-1-1.yes"]
        assert box.kind == "checkbox" and box.page is not None and box.page.page == 1
        assert box.bbox == pytest.approx((72, 842 - 520, 92, 842 - 500), abs=0.5)
        assert set(src.pages[0].acroform_fields()) == set(values)


def test_checkbox_without_appearance_trusts_v(tmp_path: Path) -> None:
    """Ensures that a checkbox with /V but no /AP is read from /V and noted."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    on = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Btn, T="cbOn", V=pikepdf.Name.Yes, Rect=[30, 140, 70, 180]
        )
    )
    off = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            FT=pikepdf.Name.Btn,
            T="cbOff",
            V=pikepdf.Name.Off,
            Rect=[90, 140, 130, 180],
        )
    )
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[on, off])
    path = tmp_path / "noap.pdf"
    pdf.save(path)
    with opened(path) as src:
        assert src.acroform_fields() == {"cbOn": True, "cbOff": False}
        details = src.acroform_details()["cbOn"]
        assert details.note is not None and "no appearance" in details.note
        assert details.bbox == pytest.approx((30, 20, 70, 60))


# --- broken, encrypted, not-a-PDF ------------------------------------------------------------


def test_encryption(tmp_path: Path) -> None:
    """Ensures that a user password is an 'encrypted' error and an owner-only password opens."""
    base = text_pdf(tmp_path / "base.pdf")
    locked, owner_only = tmp_path / "locked.pdf", tmp_path / "owner.pdf"
    with pikepdf.open(base) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(user="secret", owner="boss"))
        pdf.save(owner_only, encryption=pikepdf.Encryption(user="", owner="boss", allow=pikepdf.Permissions(extract=False)))
    with opened(locked) as src:
        assert src.source.status == "error" and src.source.kind == "unreadable"
        assert src.source.error is not None and src.source.error.startswith("パスワードで保護された PDF です")
        assert src.flags[0].code == "unreadable_file" and "locked.pdf" in src.flags[0].message
    with opened(owner_only) as src:
        assert src.source.status == "ok" and any("owner password" in n for n in src.notes)
        assert "Hello" in [w.text for w in src.pages[0].words()]


def test_not_a_pdf(tmp_path: Path) -> None:
    """Ensures that empty, Word, text and object-less files named .pdf are named for what they are."""
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    docx = tmp_path / "申請書.pdf"
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    text = tmp_path / "note.pdf"
    text.write_text("potato salad\n")
    hollow = tmp_path / "hollow.pdf"
    hollow.write_bytes(b"%PDF-1.3\nThis is not really a PDF at all.\n%%EOF\n")
    expected = {
        empty: "empty file (0 bytes)",
        docx: "not a PDF (it is a Word .docx file named .pdf)",
        text: "not a PDF (it is a plain-text file named .pdf)",
        hollow: "not a PDF (it starts like a PDF but holds no PDF objects)",
    }
    for path, message in expected.items():
        with opened(path) as src:
            assert (src.source.status, src.source.kind, src.source.error) == ("error", "unreadable", message)
            assert src.pages == ()


def test_damaged_pdfs_are_repaired_or_reported(tmp_path: Path) -> None:
    """Ensures that leading junk and a broken xref are repaired; a gutted PDF is 'damaged PDF'."""
    good = text_pdf(tmp_path / "good.pdf").read_bytes()
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"GPL Ghostscript 10.0 banner\n" * 5 + good)
    no_xref = tmp_path / "noxref.pdf"
    no_xref.write_bytes(good[: good.rindex(b"xref")] + b"%%EOF\n")
    gutted = tmp_path / "gutted.pdf"
    gutted.write_bytes(good[:200] + b"\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF")
    for path in (junk, no_xref):
        with opened(path) as src:
            assert src.source.status == "ok" and src.source.pages == 1, src.source.error
            assert any("damaged PDF" in n or "junk" in n for n in src.notes)
            assert "Hello" in [w.text for w in src.pages[0].words()]
            assert src.pages[0].image(72).shape[0] == 842
    with opened(gutted) as src:
        assert src.source.status == "error" and "damaged PDF" in (src.source.error or "")


def test_dynamic_xfa_is_reported(tmp_path: Path) -> None:
    """Ensures that a dynamic XFA form with only a placeholder page is an error naming XFA."""
    path = text_pdf(tmp_path / "xfa.pdf")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[], XFA=pikepdf.Stream(pdf, b"<xdp:xdp/>"))
        pdf.Root.NeedsRendering = True
        pdf.save(path)
    with opened(path) as src:
        assert src.source.status == "error" and "dynamic XFA form not supported" in (src.source.error or "")


def test_page_errors_raise_pipeline_errors_after_close(tmp_path: Path) -> None:
    """Ensures that using a page after its source was closed raises a PipelineError, not a crash."""
    src = opened(text_pdf(tmp_path / "a.pdf"))
    page = src.pages[0]
    src.close()
    with pytest.raises(PipelineError):
        page.words()


# --- inbox entries ---------------------------------------------------------------------------


def test_scan_entry_folder_order_names_and_read_only(tmp_path: Path) -> None:
    """Ensures that a folder entry lists its files recursively in natural order and is left untouched."""
    entry = tmp_path / "inbox" / "株式会社テスト (申請)"
    (entry / "添付 資料").mkdir(parents=True)
    text_pdf(entry / "p10.pdf")
    text_pdf(entry / "p2.pdf")
    pattern().save(entry / "添付 資料" / "3-1-6 (写し).png")
    (entry / "添付 資料" / "memo.docx").write_bytes(b"PK\x03\x04not really")
    (entry / ".DS_Store").write_bytes(b"junk")
    (entry / "~$lock.docx").write_bytes(b"junk")
    before = {p: (sha(p), p.stat().st_mtime_ns) for p in entry.rglob("*") if p.is_file()}
    files = scan_entry(entry, LIMITS)
    rels = [relative_name(entry, p) for p in files]
    assert rels == ["p2.pdf", "p10.pdf", "添付 資料/3-1-6 (写し).png", "添付 資料/memo.docx"]
    sources = []
    for path, rel in zip(files, rels, strict=True):
        with open_source(path, rel, LIMITS) as src:
            sources.append(src.source)
            for page in src.pages:
                page.image(72)
                page.words()
    assert [s.status for s in sources] == ["ok", "ok", "ok", "error"]
    assert sources[2].kind == "image" and sources[2].file == "添付 資料/3-1-6 (写し).png"
    assert "not an image" not in (sources[3].error or "") and "not a PDF" in (sources[3].error or "")
    after = {p: (sha(p), p.stat().st_mtime_ns) for p in entry.rglob("*") if p.is_file()}
    assert after == before  # nothing changed, nothing added (repaired copies live in a temp dir)
    single = tmp_path / "inbox" / "one.pdf"
    text_pdf(single)
    assert scan_entry(single, LIMITS) == [single] and relative_name(single, single) == "one.pdf"


def test_too_many_files_in_an_entry(tmp_path: Path) -> None:
    """Ensures that a folder with more files than the limit raises LimitExceededError."""
    for i in range(4):
        (tmp_path / f"{i}.pdf").write_bytes(b"")
    with pytest.raises(LimitExceededError):
        scan_entry(tmp_path, Limits(max_files_per_entry=3))
    with pytest.raises(UnreadableFileError):
        scan_entry(tmp_path / "absent", LIMITS)


def test_qpdf_repair_writes_only_to_the_temp_dir(tmp_path: Path) -> None:
    """Ensures that the qpdf fallback rewrites a damaged PDF into the given folder, original untouched."""
    from pipeline.tools.qpdf import qpdf_repair

    good = text_pdf(tmp_path / "good.pdf").read_bytes()
    damaged = tmp_path / "inbox" / "damaged.pdf"
    damaged.parent.mkdir()
    damaged.write_bytes(good[: good.rindex(b"xref")] + b"%%EOF\n")
    before = sha(damaged)
    out_dir = tmp_path / "tmp"
    out_dir.mkdir()
    repaired = qpdf_repair(damaged, out_dir / "repaired.pdf", LIMITS.repair_seconds)
    assert repaired is not None and repaired.parent == out_dir
    with pikepdf.open(repaired) as pdf:
        assert len(pdf.pages) == 1
    assert sha(damaged) == before and sorted(p.name for p in damaged.parent.iterdir()) == ["damaged.pdf"]


def test_iter_sources_closes_each_source(tmp_path: Path) -> None:
    """Ensures that iter_sources yields one open source per file and closes it when moving on."""
    entry = tmp_path / "entry"
    entry.mkdir()
    text_pdf(entry / "a.pdf")
    (entry / "b.pdf").write_bytes(b"")
    seen = []
    for src in iter_sources(entry, LIMITS):
        seen.append((src.source.file, src.source.status, len(src.pages)))
        if src.pages:
            first = src.pages[0]
            assert first.words()
    assert seen == [("a.pdf", "ok", 1), ("b.pdf", "error", 0)]
    with pytest.raises(PipelineError):
        first.words()  # the source was closed when the iteration moved on


def test_a_page_decoded_twice_at_one_size_is_decoded_once_and_each_caller_owns_its_copy(tmp_path):
    """Ensures that the scan reader and the label reader asking for one page at the same size cost one decode, and that one changing its picture does not change the other's."""
    import numpy as np

    from pipeline.sources.page import LastImage

    class Counting:
        calls = 0

        def image(self, index, width_px, height_px, gray):
            Counting.calls += 1
            return np.full((height_px, width_px), index, np.uint8)

        def close(self):
            pass

    memo = LastImage(Counting())  # type: ignore[arg-type]
    first = memo.image(0, 30, 20, True)
    first[:] = 255  # a reader whitening its copy
    again = memo.image(0, 30, 20, True)
    assert Counting.calls == 1 and again.shape == (20, 30) and int(again.max()) == 0
    memo.image(0, 40, 20, True)  # another size: decoded
    memo.image(1, 40, 20, True)  # another page: decoded
    assert Counting.calls == 3
