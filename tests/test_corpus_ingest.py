"""Every real odd/broken file of shared/corpus/real through ingest, as its MANIFEST.tsv says.

The expectations are read from MANIFEST.tsv's `expected_pipeline_behaviour` column at test time:
"error '<phrase>'" must give status error with the phrase in the message, "process …" must give
status ok with the manifest's page count, and "process … or error '<phrase>'" allows either.
Where the manifest allows both, PINNED records which one ingest chose, so a change is noticed.
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.model.errors import PipelineError
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "real"
MANIFEST = CORPUS / "MANIFEST.tsv"
FILE_SECONDS = 60.0  # per file, opening plus image(100) and words() of every page (206 pages: ~8 s idle)
TOTAL_SECONDS = 120.0

# Our choice where the manifest allows "process … or error …": (status, words the error names,
# page count when the manifest's pdfinfo/file columns cannot say it).
PINNED: dict[str, tuple[str, str | None, int | None]] = {
    "box_huge-8400pt-ccitt.pdf": ("error", "page 1 is 8400 x 8400 pt, too large", None),
    "broken_xref-command-missing.pdf": ("ok", None, None),
    "broken_missing-xref-trailer-dict.pdf": ("ok", None, 1),  # poppler refuses it; qpdf rebuilds it
    "broken_truncated-scan.pdf": ("ok", None, None),
    "broken_ghostscript-banner-before-header.pdf": ("ok", None, None),
    "broken_pdfbox-4352-bad-hex-xref.pdf": ("error", "damaged PDF", None),  # its /Encrypt is garbage
    "pages_206-irs-1040-instructions.pdf": ("ok", None, None),
    "pages_lying-count-9999999999.pdf": ("ok", None, 1),  # /Count lies; one real page
    "scan-jpx_lichtenstein.pdf": ("ok", None, None),
    "jpg_truncated.jpg": ("error", "truncated JPEG", None),
    "notpdf_pdf-header-then-text.pdf": ("error", "not a PDF", None),
    "xfa_dynamic-only.pdf": ("error", "XFA form without usable pages", None),
}


@dataclass(frozen=True)
class Expect:
    statuses: frozenset[str]
    phrases: tuple[str, ...]  # the error message must contain every word of one of them
    pages: int | None


def read_manifest() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def expectation(row: dict[str, str]) -> Expect:
    """What the manifest's `expected_pipeline_behaviour` (and page columns) ask of ingest."""
    text = row["expected_pipeline_behaviour"]
    phrases = tuple(re.findall(r"""['"]([^'"]+)['"]""", text))
    if text.startswith("error"):
        either = text.startswith("error or warning") or "or process" in text
        statuses = frozenset({"error", "ok"} if either else {"error"})
    else:
        assert text.startswith("process"), text
        either = re.search(r"\b(or|else) (error|reject)\b", text) is not None
        statuses = frozenset({"ok", "error"} if either else {"ok"})
    pages = None
    for column, pattern in (("pdfinfo", r"^rc=0; Pages=(\d+)"), ("file_type", r"(\d+) pages"), ("image_probe", r"frames=(\d+)")):
        found = re.search(pattern, row.get(column) or "")
        if found:
            pages = int(found.group(1))
            break
    return Expect(statuses, phrases, pages)


def names_all_words(message: str, phrase: str) -> bool:
    words = re.findall(r"\w+", phrase.casefold())
    have = set(re.findall(r"\w+", message.casefold()))
    return all(w in have for w in words)


ROWS = read_manifest()
TIMES: dict[str, float] = {}
pytestmark = pytest.mark.skipif(not ROWS, reason=f"corpus not found at {CORPUS}")


def test_manifest_and_table_agree() -> None:
    """Ensures that every manifest row has its file and every pinned choice is one the manifest allows."""
    names = {row["file"] for row in ROWS}
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "MANIFEST.tsv"}
    assert names == on_disk
    for name, (status, _, _) in PINNED.items():
        row = next(r for r in ROWS if r["file"] == name)
        assert status in expectation(row).statuses, name


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_corpus_file(row: dict[str, str]) -> None:
    """Ensures that a corpus file ends as the manifest says, every page streams, and the file is unchanged."""
    name = row["file"]
    path = CORPUS / name
    expect = expectation(row)
    pinned = PINNED.get(name)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert before == row["sha256"], f"{name}: the corpus file differs from its manifest"

    start = time.perf_counter()
    page_errors: list[str] = []
    with open_source(path, name, Limits(file_seconds=FILE_SECONDS, page_seconds=FILE_SECONDS)) as opened:
        source = opened.source
        for page in opened.pages:
            try:
                image = page.image(100)
                assert image.ndim == 2 and image.shape[0] > 0 and image.shape[1] > 0
                page.words()
            except PipelineError as exc:  # a page that cannot be read says so; nothing else escapes
                page_errors.append(exc.message)
    elapsed = time.perf_counter() - start
    TIMES[name] = elapsed

    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, f"{name} was modified"
    assert source.sha256 == before and source.file == name
    assert source.status in expect.statuses, f"{name}: {source.status} ({source.error})"
    if pinned is not None:
        assert source.status == pinned[0], f"{name}: {source.status} ({source.error})"
    if source.status == "error":
        message = source.error or ""
        assert message and source.kind == "unreadable"
        if expect.phrases:
            assert any(names_all_words(message, p) for p in expect.phrases), f"{name}: {message!r} names none of {expect.phrases}"
        if pinned is not None and pinned[1] is not None:
            assert pinned[1] in message, f"{name}: {message!r}"
        assert len(opened.flags) >= 1 and opened.flags[0].code == "unreadable_file"
    else:
        pages = pinned[2] if pinned is not None and pinned[2] is not None else expect.pages
        assert pages is not None, f"{name}: the manifest gives no page count"
        assert source.pages == pages == len(opened.pages)
        assert source.kind != "unreadable" and source.error is None
        assert page_errors == [], f"{name}: {page_errors}"
    assert elapsed < FILE_SECONDS, f"{name} took {elapsed:.1f} s"


# AcroForm values as the files store them (checked against the form filled in Acrobat and the same
# form left empty by LibreOffice; /V without an appearance stream is trusted and noted).
FIELD_VALUES: dict[str, dict[str, str | bool | None]] = {
    "form_checkbox-no-appearance.pdf": {"cbOn": True, "cbOff": False},
    "form_acroform-filled-by-acrobat.pdf": {"Text Box 1": "abc potato", "Check Box 2": True, "Check Box 3": False, "r1": "1"},
    "form_acroform-empty-from-odt.pdf": {"Text Box 1": None, "Check Box 1": False},
}


@pytest.mark.parametrize("name", sorted(FIELD_VALUES))
def test_corpus_acroform_values(name: str) -> None:
    """Ensures that AcroForm values of the corpus forms are read as stored, oddities noted."""
    if not (CORPUS / name).is_file():
        pytest.skip(f"{name} not in the corpus")
    with open_source(CORPUS / name, name, Limits()) as opened:
        assert opened.source.kind == "acroform"
        values = opened.acroform_fields()
        assert {k: values.get(k, "absent") for k in FIELD_VALUES[name]} == FIELD_VALUES[name]
        if name == "form_checkbox-no-appearance.pdf":
            assert any("no appearance stream" in n for n in opened.notes)


def test_corpus_total_time() -> None:
    """Ensures that the whole corpus (open + image(100) + words() of every page) takes < 120 s."""
    if len(TIMES) < len(ROWS):
        pytest.skip("runs after the whole corpus")
    assert sum(TIMES.values()) < TOTAL_SECONDS


def test_display_coordinates_match_pdfium_on_odd_boxes() -> None:
    """Ensures that the page → displayed-page mapping equals pdfium's own on rotated, cropped and offset boxes."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from pipeline.sources.display import display_affine

    for name in (
        "rotate_boxes-crop-trim-bleed.pdf",
        "rotate_90-180-270-360_arabic.pdf",
        "ja-form_hihokensha-shutoku-todoke-offset-mediabox.pdf",
        "box_inverted-mediabox.pdf",
        "scan-ccitt_rotate270.pdf",
    ):
        doc = pdfium.PdfDocument(str(CORPUS / name))
        try:
            for i in range(len(doc)):
                page = doc[i]
                width, height = page.get_size()
                a, b, c, d, e, f = display_affine(tuple(page.get_bbox()), page.get_rotation() % 360)
                for x, y in ((0.0, 0.0), (100.0, 50.0), (300.0, 700.0), (-8.0, 8.0)):
                    dx, dy = ctypes.c_int(), ctypes.c_int()
                    pdfium_c.FPDF_PageToDevice(page, 0, 0, round(width * 100), round(height * 100), 0, x, y, dx, dy)
                    assert (a * x + c * y + e, b * x + d * y + f) == pytest.approx((dx.value / 100, dy.value / 100), abs=0.02), (name, i)
                page.close()
        finally:
            doc.close()
