"""Applicant text made safe for people: control and bidi characters shown, spreadsheet formulas neutralised (issue 15)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.model.text_safety import BIDI_CONTROLS, csv_cell, neutralise_formula, visible_text
from pipeline.run.batch import RunOptions, run_batch
from samples.fill import fill_acroform

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"
RLO = "\u202e"
FORMULA_NAMES = ("=1+1", "+1+1", "-2+3", "@SUM(A1)")


def read_summary(outbox: Path) -> list[dict[str, str]]:
    with (outbox / "summary.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bidi_overrides_and_controls_are_shown_not_obeyed():
    """Ensures that every bidi control, C0/C1 control, zero-width and BOM character becomes a visible [U+XXXX], in logical order."""
    assert visible_text(f"{RLO}gnp.exe") == "[U+202E]gnp.exe"
    for ch in BIDI_CONTROLS:
        assert visible_text(f"a{ch}b") == f"a[U+{ord(ch):04X}]b"
    assert visible_text("a\x00b\x1b[2Jc\x7f\x85") == "a[U+0000]b[U+001B][2Jc[U+007F][U+0085]"
    assert visible_text("見本\u200bネット\ufeff") == "見本[U+200B]ネット[U+FEFF]"
    assert visible_text("line\u2028sep") == "line[U+2028]sep"


def test_ordinary_text_is_left_alone():
    """Ensures that Japanese, full-width forms, emoji with joiners and spaces pass through unchanged."""
    text = "株式会社サンプルネット　ＡＢＣ 1-1-2 👩\u200d💻 https://example.jp/?q=1&r=2"
    assert visible_text(text) == text
    assert visible_text(text, multiline=True) == text


def test_newlines_and_tabs_kept_only_where_text_has_lines():
    """Ensures that multi-line text keeps newlines and tabs (CR LF folded), single-line text shows them."""
    assert visible_text("一行目\r\n二行目\r三行目\tx", multiline=True) == "一行目\n二行目\n三行目\tx"
    assert visible_text("a\nb\tc\rd") == "a[U+000A]b[U+0009]c[U+000D]d"


@pytest.mark.parametrize("cell", [*FORMULA_NAMES, "\t=1", "\r=1", "=HYPERLINK(\"http://x\")", "-"])
def test_cells_that_would_be_formulas_get_an_apostrophe(cell):
    """Ensures that a cell starting with = + - @ tab or CR is prefixed with ' (OWASP CSV injection)."""
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["1-1-2", "合格", "29/29 項目", "104〜119", "", "a=1", "'already"])
def test_ordinary_cells_are_unchanged(cell):
    """Ensures that cells that are not formulas are written as they are."""
    assert neutralise_formula(cell) == cell
    assert csv_cell(cell) == cell


def test_a_hidden_character_cannot_carry_a_formula_past_the_check():
    """Ensures that csv_cell shows control characters before checking, and turns a leading tab/CR into a visible mark."""
    assert csv_cell("\u200b=1+1") == "[U+200B]=1+1"
    assert csv_cell("\t=1+1") == "[U+0009]=1+1"
    assert csv_cell(f"{RLO}=1+1") == "[U+202E]=1+1"
    assert csv_cell(None) == ""
    assert csv_cell(-3) == "'-3"


@pytest.fixture()
def hostile_inbox(tmp_path):
    """Entries named like formulas, and one whose applicant typed a formula and a right-to-left override."""
    box = tmp_path / "inbox"
    box.mkdir()
    plain = fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True})
    for name in FORMULA_NAMES:
        (box / f"{name}.pdf").write_bytes(plain)
    typed = {
        "1-1-1.yes": True,
        "applicant.company_name": '=HYPERLINK("http://evil.example/","請求書")',
        "applicant.service_name": f"{RLO}gnp.exe",
    }
    (box / "typed.pdf").write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", typed))
    return box


def test_summary_csv_neutralises_formulas_and_shows_bidi_from_real_entries(hostile_inbox, tmp_path):
    """Ensures that entry names and applicant text that Excel would run, or that reorder on screen, are written inert to summary.csv."""
    outbox = tmp_path / "outbox"
    run_batch(RunOptions(inbox=hostile_inbox, outbox=outbox, form=FORM_DIR, jobs=1, render=False))
    rows = read_summary(outbox)
    assert len(rows) == len(FORMULA_NAMES) + 1
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
            assert RLO not in cell, (column, cell)
    names = {r["申請"] for r in rows}
    assert {"'" + n for n in FORMULA_NAMES} <= names
    assert {r["submission"] for r in rows} >= {"'" + n for n in FORMULA_NAMES}
    typed = next(r for r in rows if r["申請"] == "typed")
    data = json.loads((outbox / "typed" / "result.json").read_text(encoding="utf-8"))
    assert data["applicant"]["service_name"]["value"] == f"{RLO}gnp.exe", "result.json keeps what was read"
    assert typed["事業者名"] == '\'=HYPERLINK("http://evil.example/","請求書")'
    assert typed["サービス名"] == "[U+202E]gnp.exe"


def test_the_certificate_shows_a_bidi_override_instead_of_obeying_it():
    """Ensures that the certificate's context (company, service, URL) passes applicant text through visible_text."""
    import datetime as dt

    from pipeline.output.certificate import CertificateTerms, CouncilConfig
    from pipeline.output.dossier.certificate_doc import certificate_context

    day = dt.date(2026, 4, 1)
    terms = CertificateTerms("ISP-2026-0001", day, day, dt.date(2028, 3, 31), "counter")
    council = CouncilConfig(name="協議会", president_title="会長", president_name="見本 一郎")
    result = {"applicant": {"company_name": {"value": f"見本{RLO}ten.elpmaxe"}, "service_name": {"value": "ネット\x1b[31m"}}}
    context = certificate_context(result, terms, council)
    assert context["company"] == "見本[U+202E]ten.elpmaxe"
    assert context["service"] == "ネット[U+001B][31m"


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None, reason="needs LibreOffice and pdftotext")
def test_the_dossier_shows_a_bidi_override_in_a_file_name_and_a_field(tmp_path):
    """Ensures that an attachment named "‮gnp.exe.pdf" and a service name with U+202E appear in the dossier as [U+202E]…, and the file is still filed."""
    from reportlab.pdfgen.canvas import Canvas

    box = tmp_path / "inbox"
    entry = box / "bidi"
    entry.mkdir(parents=True)
    (entry / "form.pdf").write_bytes(
        fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True, "applicant.service_name": f"{RLO}gnp.exe"})
    )
    canvas = Canvas(str(entry / f"{RLO}gnp.exe.pdf"))
    canvas.drawString(450, 800, "2-1-1")
    canvas.drawString(72, 700, "Access log retention policy, page 1")
    canvas.save()
    outbox = tmp_path / "outbox"
    outcomes = run_batch(RunOptions(inbox=box, outbox=outbox, form=FORM_DIR, jobs=1, render=True))
    assert [o.status for o in outcomes] == ["done"], outcomes
    text = subprocess.run(["pdftotext", "-layout", str(outbox / "bidi" / "dossier.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert RLO not in text
    assert "[U+202E]gnp.exe" in text
