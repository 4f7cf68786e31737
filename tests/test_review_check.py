"""review.yaml checked before use: each real mistake of issue 13 refused with its line in Japanese, each natural spelling accepted."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.form.definition import load_form
from pipeline.rules import review_yaml
from pipeline.rules.review_check import (
    MAX_BYTES,
    CheckedReview,
    ItemPatch,
    ReviewProblem,
    ReviewRound,
    check_review,
    check_review_text,
    format_problems,
)
from pipeline.rules.review_spelling import MAX_PROBLEMS, MESSAGES
from pipeline.rules.review_text import blank_review_text

ROOT = Path(__file__).resolve().parents[1]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def form():
    return load_form(ROOT / "forms" / "renewal")


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "review.yaml"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def the_problem(result: CheckedReview, code: str) -> ReviewProblem:
    """The one problem of `result`, which must have `code`, a Japanese message and no corrections."""
    assert not result.ok
    assert [p.code for p in result.problems] == [code], result.problems
    assert result.corrections.empty, "a file with a problem must change nothing"
    problem = result.problems[0]
    assert JAPANESE.search(problem.message), problem.message
    return problem


def blank(name: str = "申請A") -> str:
    return blank_review_text(load_form(ROOT / "forms" / "renewal"), name, ["missing_document: 3-1-6 の書類が見つかりません"])


def line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based number of the first line at or after `start` (1-based) that contains `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start and needle in line:
            return number
    raise AssertionError(needle)


# --- the real mistakes of issue 13 ------------------------------------------------------------


def test_extra_space_before_an_item_is_a_syntax_problem_on_its_line(tmp_path, form):
    """Ensures that one extra space before `7-1-2:` is reported as YAML syntax at that line and column, and nothing is applied."""
    text = "items:\n  7-1-1: {points: 4}\n   7-1-2: {points: 3}\n  7-1-3: {points: 2}\n  2-1-2: {answer: いいえ}\n"
    problem = the_problem(check_review(write(tmp_path, text), form), "yaml_syntax")
    assert (problem.line, problem.column) == (3, 4)
    assert "字下げ" in problem.message
    assert format_problems("申請A/review.yaml", [problem])[0].startswith("申請A/review.yaml 3行目 4文字目: YAML の書き方に誤りがあります")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("いいえ", "no"),
        ("はい", "yes"),
        ("未回答", "blank"),
        ('"no"', "no"),
        ("yes", "yes"),
        ("NO", "no"),
        ("blank", "blank"),
        ("ｉｉｅ", None),
    ],
)
def test_answer_spelled_in_japanese_or_english_is_accepted(tmp_path, form, typed, meant):
    """Ensures that `2-1-2: {answer: いいえ}` means no (and はい／未回答, yes/no/blank likewise), while other words are refused."""
    result = check_review(write(tmp_path, f"items:\n  2-1-2: {{answer: {typed}}}\n"), form)
    if meant is None:
        problem = the_problem(result, "bad_answer")
        assert problem.line == 2 and problem.key == "items.2-1-2.answer"
        assert "はい・いいえ・未回答" in problem.message
    else:
        assert result.ok, result.problems
        assert result.corrections.items == {"2-1-2": ItemPatch(answer=meant)}


def test_unknown_item_is_refused_naming_the_items_of_its_group(tmp_path, form):
    """Ensures that `5-1-5` (no such item) is refused at its line, listing 5-1's real items."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  5-1-1: {answer: はい}\n  5-1-5: {answer: はい}\n"), form), "unknown_item")
    assert problem.line == 3 and problem.key == "items.5-1-5"
    assert problem.message == "5-1-5 という項目はこの様式にありません（5-1 の項目は 5-1-1・5-1-2・5-1-3・5-1-4 です）"


def test_points_out_of_the_items_range_are_refused(tmp_path, form):
    """Ensures that `points: 8` on a 0–5 reviewer-scored item is refused with the item's own range and the value written."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  7-1-1: {points: 4}\n  7-1-2: {points: 8}\n"), form), "bad_points")
    assert problem.line == 3 and problem.key == "items.7-1-2.points"
    assert problem.message == "7-1-2 の points は 0〜5 の整数で書いてください（書かれた値: 8）"
    assert (
        format_problems("review.yaml", [problem])[0] == "review.yaml 3行目: 7-1-2 の points は 0〜5 の整数で書いてください（書かれた値: 8）"
    )


@pytest.mark.parametrize("typed", ["４", "4点", "４点", "4 点", '"4"'])
def test_points_in_full_width_digits_or_with_ten_are_accepted(tmp_path, form, typed):
    """Ensures that `points: ４` and `4点` are read as 4."""
    result = check_review(write(tmp_path, f"items:\n  7-1-2: {{points: {typed}}}\n"), form)
    assert result.ok, result.problems
    assert result.corrections.items["7-1-2"].points == 4


@pytest.mark.parametrize("typed", ["4.5", "-1", "四", "4点数", "[4]"])
def test_points_that_are_not_a_whole_number_are_refused(tmp_path, form, typed):
    """Ensures that anything but a whole number of points is refused, not rounded or dropped."""
    problem = the_problem(
        check_review(write(tmp_path, f"items:\n  7-1-2: {{points: {typed}}}\n"), form),
        "not_scalar" if typed.startswith("[") else "bad_points",
    )
    assert problem.line == 2


def test_full_width_colon_and_spaces_are_accepted(tmp_path, form):
    """Ensures that `7-1-2：{points: 3}` and full-width spaces in the indent read as the reviewer meant."""
    result = check_review(write(tmp_path, "items:\n\u3000\u30007-1-2：{points: 3}\n  7-1-3： {points：５}\n"), form)
    assert result.ok, result.problems
    assert result.corrections.items == {"7-1-2": ItemPatch(points=3), "7-1-3": ItemPatch(points=5)}


def test_columns_stay_the_reviewers_after_a_full_width_colon(tmp_path, form):
    """Ensures that a problem after a full-width colon is placed at the column the reviewer's editor shows."""
    line = "  7-1-2：{points：9}"
    problem = the_problem(check_review(write(tmp_path, "items:\n" + line + "\n"), form), "bad_points")
    assert (problem.line, problem.column) == (2, line.index("9") + 1)


def test_uncommented_example_items_line_beside_the_empty_one_is_a_duplicate(tmp_path, form):
    """Ensures that an `items:` written again above the empty one (the old blank's trap) is refused, naming both lines."""
    text = "items:\n  7-1-1: {points: 4}\nitems: {}\n"
    first, second = line_of(text, "items:"), line_of(text, "items: {}")
    problem = the_problem(check_review(write(tmp_path, text), form), "duplicate_key")
    assert problem.line == second and problem.key == "items"
    assert (
        problem.message
        == f"items が 2 回書かれています（{first}行目と{second}行目）。1 つにまとめてください。中身が空の方（{second}行目の items:）を消してください"
    )


def test_the_blank_template_checks_ok(tmp_path, form):
    """Ensures that the review.yaml the pipeline writes for a submission checks ok and holds no corrections."""
    for result in (check_review(write(tmp_path, blank("申請B（再申請）")), form), check_review_text(blank("申請B（再申請）"), form)):
        assert result.ok, result.problems
        assert result.corrections.empty


def test_the_blank_templates_examples_check_ok_once_uncommented(tmp_path, form):
    """Ensures that every example line the template shows is a valid correction when the reviewer deletes its "#"."""
    lines = blank().splitlines()
    start = lines.index("items:")
    text = "\n".join(lines[:start] + [s[1:] if s.startswith("#  ") else s for s in lines[start:]]) + "\n"
    assert text.count("\n  ") > 8, "the examples were un-commented"
    result = check_review(write(tmp_path, text), form, known_attachments=["att-01", "att-03"])
    assert result.ok, format_problems("review.yaml", result.problems)
    plain = result.corrections.as_plain()
    scored = [it for it in form.items if it.scoring == "reviewer"]
    assert {i: plain["items"][i] for i in (it.id for it in scored)} == {it.id: {"points": it.points_max} for it in scored}
    assert {"answer": "yes"} in plain["items"].values() and any("choice" in v for v in plain["items"].values())
    assert {"evidence": {"signature": "present", "seal": "present"}} in plain["items"].values()
    assert len(plain["declarations"]) == 1 and len(plain["attachments"]) == 1
    assert plain["certificate"] == {"license_number": "ISP-2026-0001", "issued": dt.date(2026, 12, 1)}
    assert plain["fields"] == {"applicant.company_name": "株式会社〇〇", "applicant.tel": "03-1234-5678"}


def test_ten_after_points_is_accepted_and_other_suffixes_refused(tmp_path, form):
    """Ensures that `4点` is 4 while `4点くらい` is refused at its line."""
    assert check_review(write(tmp_path, "items:\n  7-1-1: {points: 4点}\n"), form).corrections.items["7-1-1"].points == 4
    problem = the_problem(check_review(write(tmp_path, "items:\n  7-1-1: {points: 4点くらい}\n"), form), "bad_points")
    assert problem.line == 2 and "書かれた値: 4点くらい" in problem.message


# --- the file itself ------------------------------------------------------------------------------


def test_shift_jis_file_is_refused_saying_so(tmp_path, form):
    """Ensures that a review.yaml saved as Shift_JIS by Notepad is refused with advice to save it as UTF-8."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  2-1-2: {answer: いいえ}\n".encode("cp932")), form), "shift_jis")
    assert problem.line is None
    assert "Shift_JIS で保存されているようです。UTF-8 で保存し直してください" in problem.message


def test_utf16_and_broken_utf8_are_refused(tmp_path, form):
    """Ensures that UTF-16 and a stray non-UTF-8 byte are refused, the latter at its line."""
    the_problem(check_review(write(tmp_path, "items: {}\n".encode("utf-16")), form), "utf16")
    problem = the_problem(check_review(write(tmp_path, b"items: {}\nreviewer: \xff\xfe\xfd\n"), form), "not_utf8")
    assert problem.line == 2


def test_bom_is_accepted_and_lines_stay_right(tmp_path, form):
    """Ensures that a UTF-8 BOM is accepted, and a problem after it is still on its own line."""
    ok = check_review(write(tmp_path, "\ufeffitems:\n  7-1-2: {points: 3}\n"), form)
    assert ok.ok and ok.corrections.items["7-1-2"].points == 3
    problem = the_problem(check_review(write(tmp_path, "\ufeffitems:\n  7-1-2: {points: 8}\n"), form), "bad_points")
    assert (problem.line, problem.column) == (2, 19)


@pytest.mark.parametrize("content", ["", "\n\n", "# 何も訂正しない\n", "\ufeff", "~\n"])
def test_empty_file_is_ok_with_no_corrections(tmp_path, form, content):
    """Ensures that an empty (or comments-only) review.yaml is ok and corrects nothing."""
    result = check_review(write(tmp_path, content), form)
    assert result.ok and result.corrections.empty


def test_absent_file_is_ok_with_no_corrections(tmp_path, form):
    """Ensures that no review.yaml means no corrections and no problem (the first run)."""
    result = check_review(tmp_path / "review.yaml", form)
    assert result.ok and result.corrections.empty


def test_directory_is_a_problem(tmp_path, form):
    """Ensures that a folder named review.yaml is a problem, not a crash."""
    (tmp_path / "review.yaml").mkdir()
    problem = the_problem(check_review(tmp_path / "review.yaml", form), "is_directory")
    assert problem.line is None and "フォルダー" in problem.message


def test_ten_mb_file_is_refused_before_it_is_opened(tmp_path, form, monkeypatch):
    """Ensures that a 10 MB review.yaml is refused from its size alone: never opened, never read."""
    path = tmp_path / "review.yaml"
    with path.open("wb") as fh:
        fh.truncate(10 * 1024 * 1024)  # sparse: no 10 MB written to the disk

    def never(*args, **kwargs):
        raise AssertionError("opened a file that is too big")

    monkeypatch.setattr(review_yaml.os, "open", never)
    problem = the_problem(check_review(path, form), "too_large")
    assert "10,485,760 バイト" in problem.message and f"{MAX_BYTES:,} バイト" in problem.message


def test_fifo_is_refused_without_opening_it(tmp_path, form, monkeypatch):
    """Ensures that a FIFO named review.yaml is refused at once: opening it would wait for a writer forever."""
    path = tmp_path / "review.yaml"
    os.mkfifo(path)
    opened: list[str] = []
    real_open = os.open

    def recording_open(name, *args, **kwargs):
        opened.append(str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(review_yaml.os, "open", recording_open)
    results: list[CheckedReview] = []
    worker = threading.Thread(target=lambda: results.append(check_review(path, form)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "check_review blocked on a FIFO"
    problem = the_problem(results[0], "not_a_file")
    assert "FIFO" in problem.message and opened == []


def test_symlink_is_refused_not_followed(tmp_path, form):
    """Ensures that a review.yaml that is a link (to a valid file even) is refused, not followed."""
    target = tmp_path / "elsewhere.yaml"
    target.write_text("items: {}\n", encoding="utf-8")
    (tmp_path / "review.yaml").symlink_to(target)
    the_problem(check_review(tmp_path / "review.yaml", form), "is_symlink")


# --- safe loading ----------------------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
items: *i
"""

_UNDER_A_MEMORY_LIMIT = """
import json, resource, sys, time
from pathlib import Path
from pipeline.form.definition import load_form
from pipeline.rules.review_check import check_review
form = load_form(Path("forms/renewal"))
resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20))
start = time.perf_counter()
result = check_review(Path(sys.argv[1]), form)
print(json.dumps({"codes": [p.code for p in result.problems], "lines": [p.line for p in result.problems], "seconds": time.perf_counter() - start}))
"""


def test_billion_laughs_is_refused_fast_under_a_memory_limit(tmp_path):
    """Ensures that YAML aliases are refused before anything expands: the check runs in a process limited to 768 MB."""
    path = write(tmp_path, BILLION_LAUGHS)
    done = subprocess.run(
        [sys.executable, "-c", _UNDER_A_MEMORY_LIMIT, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["codes"] == ["anchor", "alias"] and report["lines"] == [1, 2]
    assert report["seconds"] < 5


def test_python_object_tag_is_refused_and_nothing_runs(tmp_path, form):
    """Ensures that `!!python/object/apply:os.system` is refused as a tag and the command never runs."""
    marker = tmp_path / "ran"
    text = f'items:\n  7-1-2: {{points: 3}}\ncertificate: !!python/object/apply:os.system ["touch {marker}"]\n'
    problem = the_problem(check_review(write(tmp_path, text), form), "tag")
    assert problem.line == 3 and "!!python/object/apply:os.system" in problem.message
    assert not marker.exists()


@pytest.mark.parametrize("tagged", ["!!str 4", "!custom x", "!!python/name:os.system ''", "!<tag:yaml.org,2002:int> 4"])
def test_every_explicit_tag_is_refused(tmp_path, form, tagged):
    """Ensures that any explicit tag, harmless-looking or not, is refused."""
    problem = the_problem(check_review(write(tmp_path, f"items:\n  7-1-2: {{points: {tagged}}}\n"), form), "tag")
    assert problem.line == 2


def test_deep_nesting_is_refused_before_the_parser_sees_it(tmp_path, form):
    """Ensures that 300,000 nested brackets (which the YAML scanner would take hours over) are refused at once."""
    start = time.perf_counter()
    problem = the_problem(check_review(write(tmp_path, "reviewer: " + "[" * 300_000 + "\n"), form), "too_deep")
    assert problem.line == 1 and time.perf_counter() - start < 5


def test_deep_block_nesting_is_refused_as_the_parser_reaches_it(tmp_path, form):
    """Ensures that `- - - …` nested 300,000 deep is refused fast, at the line where it passes the limit."""
    start = time.perf_counter()
    problem = the_problem(check_review(write(tmp_path, "reviewer:\n" + "- " * 300_000 + "x\n"), form), "too_deep")
    assert problem.line == 2 and time.perf_counter() - start < 5


# --- typos, labels, several problems -------------------------------------------------------------------


def test_typo_of_a_key_suggests_the_real_one(tmp_path, form):
    """Ensures that `pionts` is refused with 「points」 suggested, at its line."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  7-1-2: {pionts: 3}\n"), form), "typo_key")
    assert problem.line == 2 and problem.key == "items.7-1-2.pionts"
    assert problem.message.startswith("「pionts」は「points」の書き間違いではありませんか")


def test_japanese_key_is_told_its_english_name(tmp_path, form):
    """Ensures that `点数: 3` is refused telling the reviewer to write `points`."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  7-1-2: {点数: 3}\n"), form), "japanese_key")
    assert "「点数」ではなく「points」と書いてください" in problem.message


@pytest.mark.parametrize(
    ("item", "typed", "key"),
    [
        ("3-1-7", "異なる建物", "other_building"),
        ("3-1-7", "１００ｋｍ 以上", "over_100km"),
        ("3-1-7", "100km以内", "within_100km"),
        ("3-1-7", "other_rack", "other_rack"),
        ("7-0-2", "行政指導等を受けていない", "no_guidance"),
    ],
)
def test_choice_by_the_label_printed_on_the_form_is_accepted(tmp_path, form, item, typed, key):
    """Ensures that a choice is accepted by its printed Japanese label (full-width and spacing aside) as well as its key."""
    result = check_review(write(tmp_path, f"items:\n  {item}: {{choice: {typed}}}\n"), form)
    assert result.ok, result.problems
    assert result.corrections.items[item].choice == key


def test_unknown_choice_lists_the_printed_labels(tmp_path, form):
    """Ensures that a choice the form does not print is refused, listing the labels and keys it does."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  3-1-7: {choice: 隣の建物}\n"), form), "bad_choice")
    assert "異なる建物（other_building）" in problem.message and "書かれた値: 隣の建物" in problem.message


def test_several_problems_are_all_reported_in_one_pass(tmp_path, form):
    """Ensures that every problem of a file is reported together, in line order, each with its own line."""
    text = (
        "itmes: {}\n"  # 1 typo of a top-level key
        "items:\n"
        "  5-1-5: {answer: はい}\n"  # 3 unknown item
        "  7-1-2: {points: 8}\n"  # 4 out of range
        "  2-1-2: {answer: だめ}\n"  # 5 unknown answer
        "  1-1-3: {evidence: {document: present}}\n"  # 6 evidence the item does not take
        "declarations:\n"
        "  upstream_provider: {choice: maybe}\n"  # 8 unknown option
        "attachments:\n"
        "  att-09: {labels: [3-1-6]}\n"  # 10 unknown attachment
        "certificate: {issued: 2026-02-30}\n"  # 11 no such day
        "signoff:\n"
        "  first: {name: 山田 太郎}\n"  # 13 date missing
    )
    result = check_review(write(tmp_path, text), form, known_attachments=["att-01", "att-02"])
    assert [(p.line, p.code) for p in result.problems] == [
        (1, "typo_key"),
        (3, "unknown_item"),
        (4, "bad_points"),
        (5, "bad_answer"),
        (6, "bad_evidence_kind"),
        (8, "bad_choice"),
        (10, "unknown_attachment"),
        (11, "bad_date"),
        (13, "missing_field"),
    ]
    assert result.corrections.empty
    lines = format_problems("申請A/review.yaml", result.problems)
    assert len(lines) == 10 and all(JAPANESE.search(line) for line in lines)
    assert (
        lines[-1]
        == "申請A/review.yaml: 問題が 9 件あります。直すまで、このファイルの訂正はどれも使われません。直してから、もう一度実行してください"
    )


def test_a_flood_of_problems_stops_with_one_closing_line(tmp_path, form):
    """Ensures that a file with hundreds of mistakes reports the first ones and says there are more."""
    text = "items:\n" + "".join(f"  9-9-{i}: {{points: 1}}\n" for i in range(150))
    result = check_review(write(tmp_path, text), form)
    assert len(result.problems) == MAX_PROBLEMS + 1 and result.problems[-1].code == "too_many"
    assert format_problems("r", result.problems)[-1].startswith(f"r: 問題が {MAX_PROBLEMS} 件以上あります")


# --- the sign-off and the other sections ------------------------------------------------------------------


def test_sign_off_and_every_section_are_read_and_normalised(tmp_path, form):
    """Ensures that the reviewer, the review rounds (令和 dates too), labels and the certificate are read as the form spells them."""
    text = (
        "items:\n"
        "  ７－１－１: {points: ３点}\n"
        "  2-1-2: {evidence: {署名: あり, 押印: なし}}\n"
        "declarations:\n"
        "  security_outage: {choice: occurred}\n"
        "attachments:\n"
        "  ATT-3: {labels: [3-1-6, ３－１－７]}\n"
        "  att-01: {labels: []}\n"
        "certificate: {license_number: ISP-2026-0007, issued: 2026/12/01}\n"
        "reviewer: 山田\u3000太郎\n"
        "signoff:\n"
        "  first: {name: 山田 太郎, date: 2026-12-07}\n"
        "  ２次: {name: 佐藤 花子, date: 令和8年12月10日}\n"
    )
    result = check_review(write(tmp_path, text), form, known_attachments=["att-01", "att-03"])
    assert result.ok, format_problems("review.yaml", result.problems)
    c = result.corrections
    assert c.items == {"7-1-1": ItemPatch(points=3), "2-1-2": ItemPatch(evidence={"signature": "present", "seal": "missing"})}
    assert c.declarations == {"security_outage": "occurred"}
    assert c.attachments == {"att-03": ("3-1-6", "3-1-7"), "att-01": ()}
    assert (c.certificate.license_number, c.certificate.issued) == ("ISP-2026-0007", dt.date(2026, 12, 1))
    assert c.reviewer == "山田 太郎"
    assert c.signoff == (
        ReviewRound("first", "山田 太郎", dt.date(2026, 12, 7)),
        ReviewRound("second", "佐藤 花子", dt.date(2026, 12, 10)),
    )


def test_the_form_words_for_the_sign_off_are_another_spelling(tmp_path, form):
    """Ensures that `reviews: {一次審査: {reviewer, date}}` (the form's own words) reads as the contract's signoff."""
    text = "reviews:\n  二次審査: {reviewer: 佐藤 花子, date: 2026-12-10}\n  一次審査: {reviewer: 山田 太郎, date: 2026-12-07}\n"
    result = check_review(write(tmp_path, text), form)
    assert result.ok, result.problems
    assert result.corrections.signoff == (
        ReviewRound("first", "山田 太郎", dt.date(2026, 12, 7)),
        ReviewRound("second", "佐藤 花子", dt.date(2026, 12, 10)),
    )
    assert result.corrections.latest_signoff == ReviewRound("second", "佐藤 花子", dt.date(2026, 12, 10))
    problem = the_problem(check_review(write(tmp_path, "reviews: {}\nsignoff: {}\n"), form), "duplicate_key")
    assert problem.line == 2


def test_an_unsigned_round_left_blank_is_no_problem(tmp_path, form):
    """Ensures that a round whose name and date are both left empty (as the blank shows it) is simply not signed."""
    text = "signoff:\n  first:\n    name:\n    date:\n  second:\n"
    result = check_review(write(tmp_path, text), form)
    assert result.ok and result.corrections.signoff == ()


def test_a_round_with_an_empty_date_is_one_problem_and_a_missing_one_another(tmp_path, form):
    """Ensures that `date:` left empty is reported as empty (not also as missing), and an absent reviewer as missing."""
    text = "signoff:\n  first: {name: 山田 太郎, date: }\n  second: {date: 2026-12-10}\n  三次審査: {name: 佐藤, date: 2026-12-11}\n"
    result = check_review(write(tmp_path, text), form)
    assert [(p.line, p.code, p.key) for p in result.problems] == [
        (2, "empty_value", "signoff.first.date"),
        (3, "missing_field", "signoff.second"),
        (4, "unknown_round", "signoff.三次審査"),
    ]
    assert result.problems[1].message == "signoff.second に name がありません（例: second: {name: 山田 太郎, date: 2026-12-07}）"


def test_same_item_written_twice_in_two_spellings_is_a_duplicate(tmp_path, form):
    """Ensures that `7-1-2` and `７－１－２` in one file are one item written twice, not last-wins."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  7-1-2: {points: 3}\n  ７－１－２: {points: 4}\n"), form), "duplicate_key")
    assert problem.line == 3 and "2行目と3行目" in problem.message


def test_an_entry_without_a_correction_is_a_problem(tmp_path, form):
    """Ensures that `7-1-2:` with nothing after it is reported, not silently skipped."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  7-1-2:\n"), form), "empty_entry")
    assert problem.line == 2


def test_points_for_a_required_item_are_refused(tmp_path, form):
    """Ensures that points on a 必須 item (which has none) are refused with advice to correct the answer instead."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  1-1-1: {points: 0}\n"), form), "no_points")
    assert "必須項目" in problem.message


def test_missing_space_after_an_ascii_colon_is_explained(tmp_path, form):
    """Ensures that `7-1-2:{points: 3}` (no space after the colon) is explained as such, not as an unknown item."""
    problem = the_problem(check_review(write(tmp_path, "items:\n  7-1-2:{points: 3}\n"), form), "colon_space")
    assert problem.line == 2 and "半角スペース" in problem.message and "7-1-2: {points: 3}" in problem.message


def test_tab_indent_is_explained(tmp_path, form):
    """Ensures that a tab in the indent is reported in Japanese at its line."""
    problem = the_problem(check_review(write(tmp_path, "items:\n\t7-1-2: {points: 3}\n"), form), "yaml_syntax")
    assert problem.line == 2 and "タブ文字は使えません" in problem.message


def test_every_message_is_japanese():
    """Ensures that every text a reviewer can see for a bad review.yaml is Japanese."""
    assert all(JAPANESE.search(text) for text in MESSAGES.values())


# --- the cover's fields (fields:) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("applicant.tel", "applicant.tel"),
        ("tel", "applicant.tel"),
        ("TEL", "applicant.tel"),
        ("ＴＥＬ", "applicant.tel"),
        ("電話番号", "applicant.tel"),
        ("会社名", "applicant.company_name"),
        ("事業者名", "applicant.company_name"),
        ("代表者", "applicant.representative"),
        ("電気通信事業者 許可、登録又は届出番号", "applicant.registration_number"),
        ("登録番号", "applicant.registration_number"),
        ("申請日", "applicant.date"),
    ],
)
def test_a_cover_field_is_named_by_its_key_printed_label_or_usual_word(tmp_path, form, typed, name):
    """Ensures that `fields:` takes a cover field by its result.json name, its key, the label printed on the form or the usual Japanese word."""
    value = {"applicant.tel": "03-1011-2650", "applicant.registration_number": "A-11-5340", "applicant.date": "令和7年3月18日"}.get(
        name, "株式会社さくら"
    )
    result = check_review(write(tmp_path, f"fields:\n  {typed}: {value}\n"), form)
    assert result.ok, format_problems("review.yaml", result.problems)
    assert dict(result.corrections.fields) == {name: value}
    assert result.corrections.has_changes


def test_full_width_field_values_are_nfkc_and_dashes_between_digits_are_hyphens(tmp_path, form):
    """Ensures that ０３ー１０１１ー２６５０ (full-width, a long-vowel mark for a dash) is 03-1011-2650 and a full-width colon is a colon."""
    text = "fields:\n  電話番号：０３ー１０１１ー２６５０\n  ユーザー数: 約１２，０００\n  会社名: 株式会社　さくら　ネット\n"
    result = check_review(write(tmp_path, text), form)
    assert result.ok, format_problems("review.yaml", result.problems)
    assert dict(result.corrections.fields) == {
        "applicant.tel": "03-1011-2650",
        "applicant.user_count": "約12,000",
        "applicant.company_name": "株式会社 さくら ネット",
    }


@pytest.mark.parametrize("typed", ['""', "空欄", "なし"])
def test_a_field_confirmed_empty_is_an_empty_value(tmp_path, form, typed):
    """Ensures that "" (or 空欄・なし) confirms a field empty, while a key with nothing after it is refused."""
    assert check_review(write(tmp_path, f"fields:\n  FAX: {typed}\n"), form).corrections.fields == {"applicant.fax": ""}
    problem = the_problem(check_review(write(tmp_path, "fields:\n  FAX:\n"), form), "empty_field")
    assert problem.line == 2 and '""' in problem.message


@pytest.mark.parametrize(
    ("line", "code", "shown"),
    [
        ("TEL: 03-1011-26", "bad_field_pattern", "電話番号の形"),  # too few digits for a telephone number
        ("ユーザー数: たくさん", "bad_field_pattern", "数の形"),
        ("URL: http://exa mple.jp", "bad_field_pattern", "URLの形"),
        ("登録番号: 1-2-3-4-5", "bad_field_pattern", "例: A-26-1352"),
        ("電話番後: 03-1011-2650", "typo_field", "「電話番号」の書き間違い"),
        ("applicant.tell: 03-1011-2650", "typo_field", "「applicant.tel」の書き間違い"),
        ("まぐろ: 3", "unknown_field", "fields に書ける欄は"),
        ("会社名: [株式会社, さくら]", "not_scalar", "値を 1 つだけ"),
    ],
)
def test_a_bad_field_line_is_refused_at_its_line_saying_what_is_allowed(tmp_path, form, line, code, shown):
    """Ensures that a value off the field's pattern, an unknown field or a typo of one is refused in Japanese at its line, changing nothing."""
    problem = the_problem(check_review(write(tmp_path, f"reviewer: 山田 太郎\nfields:\n  {line}\n"), form), code)
    assert problem.line == 3 and shown in problem.message, problem.message


def test_a_field_written_twice_in_two_spellings_is_a_duplicate(tmp_path, form):
    """Ensures that `TEL:` and `電話番号:` in one file are one field written twice (not last-wins)."""
    problem = the_problem(check_review(write(tmp_path, "fields:\n  TEL: 03-1011-2650\n  電話番号: 03-1011-2651\n"), form), "duplicate_key")
    assert problem.line == 3 and "2行目と3行目" in problem.message


def test_a_cover_field_at_the_top_level_is_told_to_go_under_fields(tmp_path, form):
    """Ensures that `会社名: …` written at the top level is refused with a message that says to put it under fields:."""
    problem = the_problem(check_review(write(tmp_path, "会社名: 株式会社さくら\n"), form), "field_at_top")
    assert problem.line == 1 and "fields:" in problem.message
    problem = the_problem(check_review(write(tmp_path, "表紙:\n  会社名: 株式会社さくら\n"), form), "japanese_key")
    assert "「fields」" in problem.message


# --- a confirmed field applied, and the certificate's fields -------------------------------------------

SCORED_AND_SIGNED = (
    "items:\n  7-1-1: {points: 5}\n  7-1-2: {points: 5}\n  7-1-3: {points: 5}\n"
    "reviewer: 山田 太郎\nsignoff:\n  first: {name: 山田 太郎, date: 2026-12-07}\n"
)


def decided(form, fields_text: str = "", **changes: tuple[str | None, str]):
    """A perfect applicant whose cover fields are changed (name -> (value, status)), decided with review.yaml's scores, sign-off and `fields_text`."""
    from tests.readings import decide, perfect, set_field

    marks, fields, attachments = perfect(form)
    for key, (value, status) in changes.items():
        fields = set_field(fields, f"applicant.{key}", value, status)
    checked = check_review_text(SCORED_AND_SIGNED + fields_text, form)
    assert checked.ok, format_problems("review.yaml", checked.problems)
    result = decide(form, marks, fields, attachments, checked.corrections)
    return result, checked.corrections


def test_a_confirmed_field_takes_the_reviewers_value_and_keeps_the_machines_in_the_record(form):
    """Ensures that `電話番号: ０３ー１０１１ー２６５０` over a TEL read uncertain as 03-1911-2650 is read, and result.json keeps who, when and what was read."""
    from pipeline.output.result import to_json

    result, _ = decided(form, "fields:\n  電話番号: ０３ー１０１１ー２６５０\n", tel=("03-1911-2650", "uncertain"))
    tel = result.applicant["tel"]
    assert (tel.value, tel.status) == ("03-1011-2650", "read")
    data = to_json(result)
    entry = data["applicant"]["tel"]
    assert entry["value"] == "03-1011-2650" and entry["overridden"] is True
    assert entry["reviewed"] == {
        "reviewer": "山田 太郎",
        "date": "2026-12-07",
        "read_value": "03-1911-2650",
        "read_status": "uncertain",
        "read_confidence": 0.9,  # tests/readings.field's
    }
    [override] = [o for o in data["overrides"] if o["target"] == "applicant.tel.value"]
    assert (override["value"], override["before"], override["before_status"]) == ("03-1011-2650", "03-1911-2650", "uncertain")
    assert "overridden" not in data["applicant"]["fax"], "only the confirmed field is marked"


def test_an_unconfirmed_printed_field_holds_the_certificate_back_until_confirmed(form):
    """Ensures that a pass whose company name read uncertain says so in Japanese and gets no certificate, and that confirming it issues one."""
    from pipeline.rules.signoff import review_block

    result, corrections = decided(form, company_name=("株式会社テスト", "uncertain"))
    assert result.score.decision == "pass", "the decision is the questionnaire's; only the certificate waits"
    [why] = [r for r in result.score.reasons if "合格証に印字する表紙の欄" in r]
    assert "会社名: 要確認" in why and "fields" in why
    block, reason = review_block(corrections, None, "pass", applicant=result.applicant)
    assert block["certificate"]["issue"] is False and block["certificate"]["unconfirmed_fields"] == ["company_name"]
    assert reason is None, "the reason is already among the decision's"

    result, corrections = decided(form, "fields:\n  会社名: 株式会社テスト\n", company_name=("株式会社テスト", "uncertain"))
    assert not [r for r in result.score.reasons if "合格証に印字する表紙の欄" in r]
    block, _ = review_block(corrections, None, "pass", applicant=result.applicant)
    assert block["certificate"]["issue"] is True and block["certificate"]["unconfirmed_fields"] == []


def test_an_unsure_field_the_certificate_does_not_print_does_not_hold_it_back(form):
    """Ensures that an uncertain ユーザー数 (not on the certificate) leaves a signed pass's certificate due."""
    from pipeline.rules.signoff import review_block

    result, corrections = decided(form, user_count=("約12,000", "uncertain"))
    block, reason = review_block(corrections, None, "pass", applicant=result.applicant)
    assert block["certificate"]["issue"] is True and reason is None
