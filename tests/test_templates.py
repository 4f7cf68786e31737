"""Tests of templates/dossier.docx and templates/certificate.docx against render.py's contexts."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import zipfile
from pathlib import Path
from typing import Any

import pytest

try:  # tests/ may become a package
    from tests.test_render import HOSTILE, ROOT, build_submission, council, docx_text
except ImportError:  # pragma: no cover - rootdir-relative import when tests/ is not a package
    from test_render import HOSTILE, ROOT, build_submission, council, docx_text  # type: ignore[no-redef]

TEMPLATES = ROOT / "templates"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Dossier contexts for the three decisions and an empty submission, plus a certificate context."""
    from pipeline.output.certificate import certificate_terms
    from pipeline.output.dossier import certificate_context, dossier_context

    root = tmp_path_factory.mktemp("tpl")
    cfg = council()
    out: dict[str, Any] = {"root": root}
    subs = {d: build_submission(root, f"t_{d}", decision=d, doc_pages=1) for d in ("pass", "needs_review", "fail")}
    empty = copy.deepcopy(subs["pass"].result)
    empty.update(attachments=[], flags=[], sources=[], applicant={}, declarations={})
    empty["score"]["reasons"] = []
    for item in empty["items"].values():
        item.update(evidence=[], marks=[])
    variants = {**{d: (s.result, s) for d, s in subs.items()}, "empty": (empty, subs["pass"])}
    for key, (result, sub) in variants.items():
        out[key] = dossier_context(
            result, out_dir=sub.out_dir, inbox_entry=sub.inbox_entry, council=cfg, review_pages=7, today=dt.date(2026, 4, 1)
        )
    terms = certificate_terms("t_pass", None, cfg, root / "outbox", dt.date(2026, 4, 1))
    out["certificate"] = certificate_context(subs["pass"].result, terms, cfg)
    out["subs"] = subs
    return out


def _variables(path: Path) -> set[str]:
    from docxtpl import DocxTemplate

    return set(DocxTemplate(str(path)).get_undeclared_template_variables())


def test_dossier_variables_are_all_supplied(contexts: dict[str, Any]) -> None:
    """Ensures that every variable dossier.docx uses is supplied by render's context builder."""
    used = _variables(TEMPLATES / "dossier.docx")
    assert {"applicant", "items", "attention", "attachments", "score", "decision"} <= used
    for key in ("pass", "needs_review", "fail", "empty"):
        missing = used - set(contexts[key])
        assert not missing, f"{key}: the template uses {sorted(missing)} which the context lacks"


def test_certificate_variables_are_all_supplied(contexts: dict[str, Any]) -> None:
    """Ensures that every variable certificate.docx uses is supplied by render's certificate context."""
    used = _variables(TEMPLATES / "certificate.docx")
    assert {"company", "service", "license_number", "issued", "valid_until", "council_name"} <= used
    assert not used - set(contexts["certificate"])


@pytest.mark.parametrize("key", ["pass", "needs_review", "fail", "empty"])
def test_dossier_renders_with_strict_undefined(contexts: dict[str, Any], key: str, tmp_path: Path) -> None:
    """Ensures that no attribute the template reads is missing (StrictUndefined), for every kind of result."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined

    from pipeline.output.dossier.template import materialise

    tpl = DocxTemplate(str(TEMPLATES / "dossier.docx"))
    env = Environment(undefined=StrictUndefined, autoescape=True)
    tpl.render(materialise(contexts[key], tpl), jinja_env=env, autoescape=True)
    tpl.save(str(tmp_path / "d.docx"))
    text = docx_text(tmp_path / "d.docx")
    assert "審査結果" in text and "審査項目一覧" in text
    assert "{{" not in text and "{%" not in text
    if key == "empty":
        assert "要確認事項はありません。" in text and "添付資料はありません。" in text


def test_certificate_renders_with_strict_undefined(contexts: dict[str, Any], tmp_path: Path) -> None:
    """Ensures that the certificate renders with StrictUndefined and shows its terms."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment, StrictUndefined

    tpl = DocxTemplate(str(TEMPLATES / "certificate.docx"))
    tpl.render(contexts["certificate"], jinja_env=Environment(undefined=StrictUndefined, autoescape=True), autoescape=True)
    tpl.save(str(tmp_path / "c.docx"))
    text = docx_text(tmp_path / "c.docx")
    for needle in ("合　格　証", "ISP-2026-0001", "株式会社テスト通信", "令和8年4月1日", "令和10年3月31日", "会長　会田 容弘"):
        assert needle in text, needle


def test_hostile_text_everywhere_stays_literal(contexts: dict[str, Any], tmp_path: Path) -> None:
    """Ensures that applicant text with <, &, {{ }}, quotes and control characters never breaks the DOCX."""
    import docx
    from lxml import etree

    from pipeline.output.dossier import dossier_context
    from pipeline.output.dossier.template import render_template

    sub = contexts["subs"]["needs_review"]
    result = copy.deepcopy(sub.result)
    nasty = HOSTILE + "\x0b\x00{% if %}"
    for field in result["applicant"].values():
        field["value"] = nasty
    for flag in result["flags"]:
        flag["message"] = nasty
    for att in result["attachments"]:
        att["label_text"] = nasty
    for item in result["items"].values():
        item["title"] = nasty
    result["score"]["reasons"] = [nasty]
    ctx = dossier_context(result, out_dir=sub.out_dir, inbox_entry=sub.inbox_entry, council=council(), review_pages=7)
    render_template(TEMPLATES / "dossier.docx", ctx, tmp_path / "h.docx")
    with zipfile.ZipFile(tmp_path / "h.docx") as zf:
        etree.fromstring(zf.read("word/document.xml"))  # well-formed
    text = docx_text(tmp_path / "h.docx")
    # Control characters are shown, not kept and not silently dropped (dossier.text.clean, issue 15).
    assert text.count(HOSTILE + "[U+000B][U+0000]{% if %}") >= 10
    docx.Document(str(tmp_path / "h.docx"))


def test_templates_are_a4_with_east_asian_fonts() -> None:
    """Ensures that both templates are A4 and set IPAex fonts for East Asian text in their styles."""
    import docx
    from docx.shared import Mm

    for name in ("dossier.docx", "certificate.docx"):
        d = docx.Document(str(TEMPLATES / name))
        sec = d.sections[0]
        assert abs(sec.page_width - Mm(210)) < Mm(1) and abs(sec.page_height - Mm(297)) < Mm(1), name
        styles = d.styles.element
        defaults = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
        assert defaults is not None and defaults.get(f"{W}eastAsia", "").startswith("IPAex"), name
        for style_name in ("Normal", "Heading 1", "Title"):
            fonts = d.styles[style_name].element.find(f"{W}rPr/{W}rFonts")
            assert fonts is not None, (name, style_name)
            assert fonts.get(f"{W}eastAsia", "").startswith("IPAex"), (name, style_name)
            assert fonts.get(f"{W}asciiTheme") is None, (name, style_name)


def test_make_templates_rebuilds_the_same_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that templates/make_templates.py reproduces templates with the committed templates' variables."""
    spec = importlib.util.spec_from_file_location("make_templates", TEMPLATES / "make_templates.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build_dossier(tmp_path / "dossier.docx")
    module.build_certificate(tmp_path / "certificate.docx")
    for name in ("dossier.docx", "certificate.docx"):
        assert _variables(tmp_path / name) == _variables(TEMPLATES / name), name


def _order_problems(xml: bytes) -> list[str]:
    from lxml import etree

    from pipeline.output.dossier.template import SCHEMA_ORDER

    root = etree.fromstring(xml)
    problems = []
    for tag, seq in SCHEMA_ORDER.items():
        rank = {f"{W}{n}": i for i, n in enumerate(seq.split())}
        for props in root.iter(f"{W}{tag}"):
            tags = [el.tag for el in props]
            ranks = [rank.get(t, len(rank)) for t in tags]
            if ranks != sorted(ranks) or len(set(tags)) != len(tags):
                problems.append(f"{tag}: {[t.split('}')[1] for t in tags]}")
    return problems


def test_rendered_docx_keeps_schema_order(contexts: dict[str, Any], tmp_path: Path) -> None:
    """Ensures that property elements stay in schema order after rendering (Word reports corruption otherwise)."""
    from pipeline.output.dossier.template import render_template

    for name, ctx in (("dossier.docx", contexts["needs_review"]), ("certificate.docx", contexts["certificate"])):
        for path in (TEMPLATES / name, tmp_path / name):
            if path.parent == tmp_path:
                render_template(TEMPLATES / name, ctx, path)
            with zipfile.ZipFile(path) as zf:
                for part in ("word/document.xml", "word/styles.xml"):
                    assert not _order_problems(zf.read(part)), (path, part, _order_problems(zf.read(part))[:3])
