"""Japanese for every person-facing word: reasons, summary.csv, the run's table and messages (issue 13, part 4)."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.output.result import MACHINE_COLUMNS, SUMMARY_COLUMNS_JA, RowFacts, open_questions_text, summary_row
from pipeline.run.batch import Outcome, closing_table
from samples.demo import build_demo

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"
NEEDS_REVIEW = "01_サンプルネット（AcroForm）"  # all yes, documents filed; 7-1-1..7-1-3 wait for the reviewer's score
FAILS = "03_incomplete"  # 1-1-2 answered no
ENGLISH = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Runs of three or more Latin letters in `text` once file names and other allowed words are taken out."""
    for word in allowed:
        text = text.replace(word, "")
    return ENGLISH.findall(text)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo's needs_review and fail submissions, run by the command line as an operator runs it (rendering included)."""
    root = tmp_path_factory.mktemp("ja")
    inbox, outbox = root / "inbox", root / "outbox"
    for entry in build_demo(inbox, FORM_DIR):
        if entry.name.split(".")[0] not in (NEEDS_REVIEW, FAILS):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    args = [sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox", str(outbox), "--force", "-j", "1"]
    if shutil.which("soffice") is None:
        args.append("--no-render")
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done, outbox


def result_of(outbox: Path, name: str) -> dict:
    return json.loads((outbox / name / "result.json").read_text(encoding="utf-8"))


def test_decision_reasons_are_japanese(demo_run):
    """Ensures that result.json's reasons say 必須, points, pending scores and open flags in Japanese (keys stay English)."""
    _, outbox = demo_run
    review = result_of(outbox, NEEDS_REVIEW)["score"]
    fail = result_of(outbox, FAILS)["score"]
    assert review["decision"] == "needs_review" and fail["decision"] == "fail"
    for reason in review["reasons"] + fail["reasons"]:
        assert not english_words(reason), reason
    assert "必須項目を満たしていません: 1-1-2" in fail["reasons"]
    assert any(r.startswith("得点 ") and "合格点 92 点" in r and "審査者の採点待ち: 7-1-1、7-1-2、7-1-3" in r for r in review["reasons"])
    assert any("最低でも" in r for r in review["reasons"]), "the reviewer is told the minimum already clears the pass mark"
    assert set(review) >= {"decision", "reasons", "required_met", "points_range"}


def test_flag_messages_are_japanese(demo_run):
    """Ensures that every flag message the rules wrote for the demo is Japanese but for file names and ids."""
    _, outbox = demo_run
    for name in (NEEDS_REVIEW, FAILS):
        data = result_of(outbox, name)
        files = tuple(sorted((s["file"] for s in data["sources"]), key=len, reverse=True))
        atts = tuple(a["id"] for a in data["attachments"])
        for flag in data["flags"]:
            assert not english_words(flag["message"], files + atts), flag


def test_summary_csv_opens_in_japanese(demo_run):
    """Ensures that summary.csv has a BOM, the Japanese columns first (values in Japanese), then the machine columns unchanged."""
    _, outbox = demo_run
    raw = (outbox / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    assert tuple(reader.fieldnames or ()) == SUMMARY_COLUMNS_JA + MACHINE_COLUMNS
    rows = {r["申請"]: r for r in reader}
    review, fail = rows[NEEDS_REVIEW], rows[FAILS]
    assert (review["判定"], review["decision"]) == ("要確認", "needs_review")
    assert (fail["判定"], fail["decision"]) == ("不合格", "fail")
    assert review["事業者名"] == "株式会社サンプルネット" and review["サービス名"]
    assert review["必須"] == "29/29 項目" and review["得点"] == "104〜119"
    assert review["未確定の項目"].startswith("審査者の採点 3 件（7-1-1、7-1-2、7-1-3）")
    assert fail["未確定の項目"] == "" and "必須項目を満たしていません" in fail["判定理由"]
    assert review["登録番号"] == review["発行日"] == ""
    if (outbox / NEEDS_REVIEW / "dossier.pdf").is_file():
        assert review["調書"] == f"{NEEDS_REVIEW}/dossier.pdf"


def test_closing_table_says_who_waits_and_why(demo_run):
    """Ensures that stdout's table is Japanese and names, under a needs_review row, what the reviewer must do."""
    done, outbox = demo_run
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["申請", "状態", "判定"]
    row = next(i for i, line in enumerate(lines) if line.startswith(NEEDS_REVIEW))
    assert "要確認" in lines[row] and "処理済" in lines[row]
    assert lines[row + 1].strip().startswith("審査者の確認待ち: 審査者の採点 3 件（7-1-1、7-1-2、7-1-3）")
    assert any(line.startswith(FAILS) and "不合格" in line for line in lines)
    assert lines[-1].startswith("2 件: 処理 2、前回のまま 0、エラー 0、審査者の確認待ち 1。")


def test_no_library_noise_on_the_terminal(demo_run):
    """Ensures that stderr holds neither pikepdf's logger line nor LibreOffice's conversion mode nor English level names."""
    done, _ = demo_run
    assert "pikepdf" not in done.stderr and "logger bridge" not in done.stderr
    assert "conversion mode" not in done.stderr
    assert not re.search(r"^(INFO|WARNING|ERROR) ", done.stderr, re.M), done.stderr
    for line in done.stderr.splitlines():
        assert not english_words(line, (NEEDS_REVIEW, FAILS, "AcroForm", "ISP")), line


def test_error_and_review_error_rows_are_named_in_japanese(tmp_path):
    """Ensures that a crashed submission is an エラー row and a review.yaml with problems a 訂正エラー row that keeps the previous result."""
    previous = {
        "submission": "申請B",
        "applicant": {"company_name": {"value": "見本ネット"}, "service_name": {"value": "見本光"}},
        "score": {"decision": "pass", "required_met": 29, "required_total": 29, "points": 110, "points_max": 119, "threshold": 92,
                  "points_range": [110, 110], "reasons": ["必須 29／29 項目を満たしています"]},
        "flags": [], "attachments": [], "sources": [], "items": {},
    }
    message = "申請B/review.yaml 3 行目: 「7-1-2」の点数は 0〜5 で書いてください"
    row = summary_row("申請B", previous, RowFacts(license_number="ISP-2026-0001", issued="2026-12-01"), outcome="review_error", message=message)
    assert (row["判定"], row["decision"], row["判定理由"]) == ("訂正エラー", "review_error", message)
    assert row["事業者名"] == "見本ネット" and row["得点"] == "110"
    assert row["登録番号"] == "" and row["発行日"] == "", "a number stays only with a pass"
    crashed = summary_row("申請C", None, outcome="error", message="RuntimeError: simulated")
    assert (crashed["判定"], crashed["decision"], crashed["必須"]) == ("エラー", "error", "")
    passed = summary_row("申請B", previous, RowFacts(license_number="ISP-2026-0001", issued="2026-12-01", reviewer="審査 花子"))
    assert (passed["判定"], passed["登録番号"], passed["発行日"], passed["審査者"]) == ("合格", "ISP-2026-0001", "2026-12-01", "審査 花子")

    outcomes = [Outcome("申請B", "review_error", "review_error", 0.1, message=message), Outcome("申請C", "error", "error", 0.2, message="RuntimeError: simulated")]
    lines = closing_table(outcomes, tmp_path)
    assert any(line.startswith("申請B") and "訂正エラー" in line for line in lines)
    assert f"    訂正エラー: {message}" in lines
    assert "    エラー: RuntimeError: simulated（申請C/error.log を参照）" in lines
    assert lines[-1].startswith("2 件: 処理 0、前回のまま 0、エラー 2、")


def test_open_questions_count_by_kind():
    """Ensures that 未確定の項目 counts what waits for the reviewer by kind: scores, blocking flags, open ranges."""
    data = {
        "items": {
            "7-1-1": {"scoring": "reviewer", "points": None, "points_range": [0, 5]},
            "2-3-1": {"scoring": "fixed", "points": 0, "points_range": [0, 2]},
            "3-1-1": {"scoring": "fixed", "points": 0, "points_range": [0, 3]},
        },
        "flags": [
            {"code": "uncertain_mark", "severity": "warning", "item": "3-1-1"},
            {"code": "unlabeled_attachment", "severity": "warning", "item": None},
            {"code": "missing_document", "severity": "error", "item": "1-1-2"},
        ],
    }
    assert open_questions_text(data) == "審査者の採点 1 件（7-1-1）／判読不確実な印 1 件（3-1-1）／書類なし 1 件（1-1-2）／判定未確定 1 件（2-3-1）"


def test_log_lines_for_the_operator(monkeypatch):
    """Ensures that information is a plain line, trouble starts with 警告:/エラー:, and a library's INFO stays off the terminal."""
    from pipeline.cli import setup_logging

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("pipeline").level)
    try:
        setup_logging(stream=stream)
        logging.getLogger("pikepdf._core").info("pikepdf C++ to Python logger bridge initialized")
        logging.getLogger("pipeline.run.batch").info("1/2 申請A: 合格（1.0 秒）")
        logging.getLogger("pipeline.output.certificate").warning("申請A/review.yaml: 日付ではありません")
        logging.getLogger("pipeline.run.batch").error("申請B: 処理できませんでした")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("pipeline").setLevel(saved[2])
    assert stream.getvalue().splitlines() == [
        "1/2 申請A: 合格（1.0 秒）",
        "警告: 申請A/review.yaml: 日付ではありません",
        "エラー: 申請B: 処理できませんでした",
    ]
