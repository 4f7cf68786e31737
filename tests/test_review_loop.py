"""The reviewer's loop through real runs: a bad review.yaml changes nothing and says why; a good one is applied, signed and attributed; certificates follow the sign-off."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.form.definition import load_form
from pipeline.rules.review_check import check_review
from pipeline.run.batch import RunOptions, run_batch
from samples.demo import build_demo
from samples.fill import fill_acroform

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SCORED = "items:\n  7-1-1: {points: 5}\n  7-1-2: {points: 4}\n  7-1-3: {points: 5}\n"
SIGNED = "reviewer: 山田 太郎\nsignoff:\n  first: {name: 山田 太郎, date: 2026-12-07}\n"

pytestmark = pytest.mark.slow


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of an outbox folder but the reviewer's own and the problems written for them, by hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("review.yaml", "review_errors.txt")
    }


def result(out: Path) -> dict:
    return json.loads((out / "result.json").read_text(encoding="utf-8"))


def summary_rows(outbox: Path) -> list[dict[str, str]]:
    with (outbox / "summary.csv").open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def licences(outbox: Path) -> list[dict[str, str]]:
    with (outbox / "licenses.csv").open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def options(root: Path, *, render: bool = True) -> RunOptions:
    return RunOptions(inbox=root / "inbox", outbox=root / "outbox", form=FORM_DIR, jobs=1, render=render)


def demo_inbox(root: Path, keep: int = 1) -> None:
    """The demo's first submission (a filled AcroForm with its documents: needs_review until 7-1-x are scored)."""
    entries = build_demo(root / "inbox", FORM_DIR)
    for extra in entries[keep:]:
        shutil.rmtree(extra) if extra.is_dir() else extra.unlink()


def set_review(out: Path, body: str) -> None:
    (out / "review.yaml").write_text(body, encoding="utf-8")


@pytest.fixture(scope="module")
def passed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo submission run twice: first as read, then scored and signed, so it passed with a certificate."""
    root = tmp_path_factory.mktemp("passed")
    demo_inbox(root)
    [first] = run_batch(options(root))
    out = root / "outbox" / first.name
    blank = (out / "review.yaml").read_text(encoding="utf-8")
    set_review(
        out,
        blank.replace("items:\n", SCORED, 1)
        .replace("reviewer:\n", "reviewer: 山田 太郎\n", 1)
        .replace(
            "  first:       # 一次審査\n    name:\n    date:\n", "  first:       # 一次審査\n    name: 山田 太郎\n    date: 2026-12-07\n", 1
        ),
    )
    [second] = run_batch(options(root))
    assert (second.status, second.decision) == ("done", "pass")
    assert (out / "certificate.pdf").is_file()
    return root


def copy_of(passed: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "copy"
    shutil.copytree(passed, root)
    [name] = [p.name for p in (root / "outbox").iterdir() if p.is_dir()]
    return root, root / "outbox" / name


# --- a bad review.yaml changes nothing ---------------------------------------------------------------------

MISTAKES = {
    # the issue's list: what a reviewer really wrote
    "extra_space_before_a_key": (SCORED.replace("  7-1-2:", "   7-1-2:") + SIGNED, 3, "字下げ"),
    "unknown_item": (SCORED + "  5-1-5: {answer: はい}\n" + SIGNED, 5, "5-1-5 という項目はこの様式にありません"),
    "points_out_of_range": (SCORED.replace("{points: 4}", "{points: 8}") + SIGNED, 3, "0〜5 の整数"),
    "items_written_twice": ("items: {}\n" + SCORED + SIGNED, 2, "2 回書かれています"),
    "answer_not_a_word": (SCORED + "  2-1-2: {answer: だめ}\n" + SIGNED, 5, "はい・いいえ・未回答"),
    # bad files
    "python_object_tag": (SCORED + SIGNED + "certificate: !!python/object/apply:os.system [echo hi]\n", 8, "タグ"),
    "alias_bomb": ('a: &a ["x","x"]\nb: &b [*a,*a]\n' + SCORED, 1, "アンカー"),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_a_mistake_is_refused_with_its_line_and_the_outputs_stay(case: str, passed: Path, tmp_path: Path) -> None:
    """Ensures that each real review.yaml mistake is a review_error naming its line in Japanese, and result, dossier and certificate stay byte-identical."""
    body, line, words = MISTAKES[case]
    root, out = copy_of(passed, tmp_path)
    before = snapshot(out)
    registry = (root / "outbox" / "licenses.csv").read_bytes()
    set_review(out, body)
    [outcome] = run_batch(options(root))
    assert (outcome.status, outcome.decision) == ("review_error", "review_error")
    assert snapshot(out) == before, "nothing of the previous outputs may change"
    assert (root / "outbox" / "licenses.csv").read_bytes() == registry, "no licence number taken or withdrawn"
    errors = (out / "review_errors.txt").read_text(encoding="utf-8").splitlines()
    assert any(f"review.yaml {line}行目" in e and words in e for e in errors), errors
    assert all(JAPANESE.search(e) for e in errors)
    [row] = summary_rows(root / "outbox")
    assert "review_error" in row.values() or "訂正エラー" in row.values(), row


def test_the_command_exits_2_prints_the_problems_and_finishes_the_others(passed: Path, tmp_path: Path, capsys) -> None:
    """Ensures that `run` prints a bad review.yaml's problems on stderr, still processes the other submissions, and exits 2."""
    root, out = copy_of(passed, tmp_path)
    other = root / "inbox" / "その他の申請.pdf"
    other.write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True}))
    set_review(out, SCORED.replace("{points: 4}", "{points: 8}") + SIGNED)
    before = snapshot(out)
    code = main(
        ["run", "--inbox", str(root / "inbox"), "--outbox", str(root / "outbox"), "--form", str(FORM_DIR), "-j", "1", "--no-render"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"{out.name}/review.yaml 3行目: 7-1-2 の points は 0〜5 の整数で書いてください（書かれた値: 8）" in err
    assert snapshot(out) == before
    assert (root / "outbox" / "その他の申請" / "result.json").is_file(), "the other submission was processed"
    # Fixed: it is decided again and the problems file goes.
    set_review(out, SCORED + SIGNED)
    assert (
        main(["run", "--inbox", str(root / "inbox"), "--outbox", str(root / "outbox"), "--form", str(FORM_DIR), "-j", "1", "--no-render"])
        == 0
    )
    assert not (out / "review_errors.txt").exists()
    assert result(out)["score"]["decision"] == "pass"


def test_a_bad_review_yaml_before_any_result_decides_nothing(tmp_path: Path) -> None:
    """Ensures that a submission with no previous result and a bad review.yaml copied in gets a review_error and no result.json."""
    root = tmp_path
    (root / "inbox").mkdir()
    (root / "inbox" / "申請X.pdf").write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True}))
    out = root / "outbox" / "申請X"
    out.mkdir(parents=True)
    set_review(out, "items:\n  2-1-2: {answer: だめ}\n")
    [outcome] = run_batch(options(root, render=False))
    assert outcome.status == "review_error"
    assert sorted(p.name for p in out.iterdir()) == ["review.yaml", "review_errors.txt"]


# --- what a reviewer naturally writes is applied, signed and attributed --------------------------------------


def test_natural_japanese_spellings_are_applied_and_attributed(passed: Path, tmp_path: Path) -> None:
    """Ensures that いいえ, ４, a full-width colon and 3点 are applied, each override recording before, reviewer and date."""
    root, out = copy_of(passed, tmp_path)
    body = (
        "items:\n"
        "  7-1-1: {points: ４}\n"
        "  7-1-2：{points: 3点}\n"
        "  7-1-3: {points: 5}\n"
        "  2-1-2: {answer: いいえ}\n"
        "reviewer: 山田 太郎\n"
        "signoff:\n"
        "  first: {name: 山田 太郎, date: 2026-12-07}\n"
        "  second: {name: 佐藤 花子, date: 令和8年12月10日}\n"
    )
    set_review(out, body)
    [outcome] = run_batch(options(root, render=False))
    assert outcome.status == "done"
    data = result(out)
    assert (data["items"]["7-1-1"]["points"], data["items"]["7-1-2"]["points"]) == (4, 3)
    assert data["items"]["2-1-2"]["answer"] == "no"
    assert data["score"]["decision"] == "fail", "a 必須 item failed by the reviewer fails the application"
    entries = {e["target"]: e for e in data["overrides"]}
    answer = entries["items.2-1-2.answer"]
    assert (answer["value"], answer["before"], answer["applied"]) == ("no", "yes", True)
    assert (answer["reviewer"], answer["date"]) == ("山田 太郎", "2026-12-10"), "the latest sign-off's date"
    assert data["review"]["signoff"] == {
        "first": {"name": "山田 太郎", "date": "2026-12-07"},
        "second": {"name": "佐藤 花子", "date": "2026-12-10"},
    }
    assert data["review"]["file_sha256"] == hashlib.sha256((out / "review.yaml").read_bytes()).hexdigest()


def test_the_first_applied_date_stays_across_re_runs(passed: Path, tmp_path: Path) -> None:
    """Ensures that an override without a sign-off date is dated the day a run first applied it, and a re-run keeps that date."""
    root, out = copy_of(passed, tmp_path)
    set_review(out, SCORED + "  1-1-1: {answer: はい}\n")
    run_batch(options(root, render=False))
    data = result(out)
    entry = next(e for e in data["overrides"] if e["target"] == "items.1-1-1.answer")
    assert entry["date"] == entry["applied_on"] == dt.date.today().isoformat() and entry["reviewer"] is None
    # A run on another day: the date comes from the previous result, not from the clock.
    for e in data["overrides"]:
        e["applied_on"] = e["date"] = "2026-01-02"
    (out / "result.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    set_review(out, SCORED + "  1-1-1: {answer: はい}\n  1-1-2: {answer: はい}\n")
    run_batch(options(root, render=False))
    dates = {e["target"]: e["applied_on"] for e in result(out)["overrides"]}
    assert dates["items.1-1-1.answer"] == "2026-01-02"
    assert dates["items.1-1-2.answer"] == dt.date.today().isoformat()


def test_the_blank_review_yaml_survives_a_file_name_with_a_newline(tmp_path: Path) -> None:
    """Ensures that an attachment file named with a newline, `#` and `:` cannot break the blank review.yaml, which checks ok."""
    from reportlab.pdfgen import canvas

    demo_inbox(tmp_path)
    [entry] = list((tmp_path / "inbox").iterdir())
    hostile = entry / "x\nitems: {1-1-1: {answer: no}} #: y.pdf"
    pdf = canvas.Canvas(str(hostile))
    pdf.drawString(72, 400, "Network diagram, no label in the corner")
    pdf.save()
    [outcome] = run_batch(options(tmp_path, render=False))
    out = tmp_path / "outbox" / outcome.name
    data = result(out)
    assert any("x\nitems" in f["message"] for f in data["flags"]), "the hostile name reaches a flag, so the blank lists it"
    text = (out / "review.yaml").read_text(encoding="utf-8")
    assert "x[U+000A]items: {1-1-1: {answer: no}} #: y.pdf" in text
    checked = check_review(out / "review.yaml", load_form(FORM_DIR), [a["id"] for a in data["attachments"]])
    assert checked.ok and checked.corrections.empty, checked.problems
    keys = re.compile(r"^(items|declarations|attachments|fields|certificate|reviewer|signoff):|^  ")
    assert all(line.startswith("#") or not line.strip() or keys.match(line) for line in text.splitlines()), text


# --- the certificate follows the sign-off --------------------------------------------------------------------


def test_a_pass_without_a_reviewer_gets_no_certificate(passed: Path, tmp_path: Path) -> None:
    """Ensures that a pass whose review.yaml names no reviewer stays pass but gets no certificate, with a Japanese reason, and its number is withdrawn."""
    root, out = copy_of(passed, tmp_path)
    number = licences(root / "outbox")[0]["license_number"]
    set_review(out, SCORED)
    [outcome] = run_batch(options(root))
    assert (outcome.status, outcome.decision) == ("done", "pass")
    data = result(out)
    assert data["review"]["certificate"]["issue"] is False
    assert any("審査者の氏名がないため合格証は発行していません" in r for r in data["score"]["reasons"])
    assert not (out / "certificate.pdf").exists()
    [row] = licences(root / "outbox")
    assert (row["license_number"], row["status"]) == (number, "void")
    [summary] = summary_rows(root / "outbox")
    assert any("審査者の氏名がない" in v for v in summary.values()), summary


def test_a_pass_without_an_issue_date_gets_no_certificate(passed: Path, tmp_path: Path) -> None:
    """Ensures that a named reviewer without any date gives no certificate (never silently today) and says what to write."""
    root, out = copy_of(passed, tmp_path)
    set_review(out, SCORED + "reviewer: 山田 太郎\n")
    run_batch(options(root))
    data = result(out)
    assert data["score"]["decision"] == "pass" and not (out / "certificate.pdf").exists()
    assert any("certificate: {issued: 2026-12-07}" in r for r in data["score"]["reasons"])


def test_the_issue_date_comes_from_review_yaml(passed: Path, tmp_path: Path) -> None:
    """Ensures that the certificate's issue date is the sign-off date, or certificate.issued when given, not the run's date."""
    root, out = copy_of(passed, tmp_path)
    data = result(out)
    assert (data["review"]["certificate"]["issued"], data["review"]["certificate"]["issued_from"]) == ("2026-12-07", "signoff.first")
    assert licences(root / "outbox")[0]["issued"] == "2026-12-07"
    set_review(out, SCORED + SIGNED + "certificate: {issued: 令和8年12月20日}\n")
    run_batch(options(root))
    assert result(out)["review"]["certificate"]["issued"] == "2026-12-20"
    [row] = [r for r in licences(root / "outbox") if r["status"] != "void"]
    assert row["issued"] == "2026-12-20"


def test_a_pass_turned_fail_withdraws_its_number_for_good(passed: Path, tmp_path: Path) -> None:
    """Ensures that a licence number is withdrawn (void) when its pass turns into a fail, and neither that submission nor another gets it again."""
    root, out = copy_of(passed, tmp_path)
    [held] = licences(root / "outbox")
    set_review(out, SCORED.replace("{points: 4}", "{points: 0}") + SIGNED)
    [outcome] = run_batch(options(root))
    assert outcome.decision == "fail" and not (out / "certificate.pdf").exists()
    [row] = licences(root / "outbox")
    assert (row["license_number"], row["status"]) == (held["license_number"], "void") and "不合格" in row["void_reason"]
    # Back to pass: a new number; the void one stays void and is never given again.
    set_review(out, SCORED + SIGNED)
    run_batch(options(root))
    rows = licences(root / "outbox")
    assert [r["status"] for r in rows] == ["void", ""]
    assert rows[1]["license_number"] != held["license_number"]
    assert (out / "certificate.pdf").is_file()


# --- cover fields confirmed or corrected (fields:) ------------------------------------------------------


def test_a_corrected_cover_field_reaches_result_dossier_and_certificate(passed: Path, tmp_path: Path) -> None:
    """Ensures that `fields: {会社名: …, 電話番号: ０３ー…}` is applied: result.json records who and what was read, the dossier's 審査者による訂正 shows both, the certificate prints the corrected name."""
    import zipfile

    from pypdf import PdfReader

    root, out = copy_of(passed, tmp_path)
    read_name = result(out)["applicant"]["company_name"]["value"]
    set_review(out, SCORED + SIGNED + "fields:\n  会社名: 株式会社 訂正ネット\n  電話番号：０３ー１０１１ー２６５０\n")
    [outcome] = run_batch(options(root))
    assert (outcome.status, outcome.decision) == ("done", "pass")
    data = result(out)
    company = data["applicant"]["company_name"]
    assert (company["value"], company["status"], company["overridden"]) == ("株式会社 訂正ネット", "read", True)
    assert (company["reviewed"]["reviewer"], company["reviewed"]["read_value"]) == ("山田 太郎", read_name)
    assert data["applicant"]["tel"]["value"] == "03-1011-2650"
    with zipfile.ZipFile(out / "certificate.docx") as docx:
        xml = docx.read("word/document.xml").decode("utf-8")
    assert "株式会社 訂正ネット" in xml and read_name not in xml
    review_text = re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in PdfReader(str(out / "dossier.pdf")).pages[:8]))
    assert "審査者による訂正" in review_text and "株式会社訂正ネット" in review_text and re.sub(r"\s+", "", read_name) in review_text
    assert "審査者確認" in review_text
    [summary] = summary_rows(root / "outbox")
    assert summary["事業者名"] == "株式会社 訂正ネット"


def test_a_bad_cover_field_line_changes_nothing(passed: Path, tmp_path: Path) -> None:
    """Ensures that a TEL off its pattern is a review_error at its line in Japanese, the outputs byte-identical."""
    root, out = copy_of(passed, tmp_path)
    before = snapshot(out)
    set_review(out, SCORED + SIGNED + "fields:\n  TEL: 03-1011-26\n")
    [outcome] = run_batch(options(root))
    assert outcome.status == "review_error"
    assert snapshot(out) == before
    errors = (out / "review_errors.txt").read_text(encoding="utf-8")
    assert "review.yaml 9行目" in errors and "電話番号の形" in errors, errors
