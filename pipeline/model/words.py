"""Japanese words for the contract's codes (decisions, flag codes), for the texts people read outside the dossier's templates.

result.json keeps the English codes (the machine contract); the decision's reasons, summary.csv
and the run's table say them in these words. An unknown code (a new flag code) shows as itself.
"""

from __future__ import annotations

DECISION = {
    "pass": "合格",
    "fail": "不合格",
    "needs_review": "要確認",
    "error": "エラー",
    "review_error": "訂正エラー",  # review.yaml has problems: nothing was re-decided
}
# The short label of every flag code, for summary.csv, the run's table and the dossier alike.
FLAG = {
    "required_not_met": "必須未充足",
    "missing_document": "書類なし",
    "missing_signature": "署名なし",
    "missing_seal": "押印なし",
    "missing_url_path": "URL記入なし",
    "missing_text": "記入なし",
    "missing_choice": "選択なし",
    "conflicting_answer": "回答の矛盾",
    "uncertain_mark": "判読不確実な印",
    "unlabeled_attachment": "右肩表示なし",
    "unknown_label": "不明な右肩表示",
    "missing_form_page": "様式の頁なし",
    "unreadable_file": "読込不可ファイル",
    "zero_point_item": "0点（不合格項目）",
    "declaration_requires_document": "申告に伴う書類",
    "unconfirmed_document": "書類の確認が必要",
    "missing_document_if_yes": "回答未確定・書類なし",
    "missing_document_unless_url": "書類なし・URL要確認",
    "evidence_for_no_answer": "「いいえ」の項目に書類",
    "repaired_file": "修復して読んだファイル",
    "reflowed_form": "記入で位置がずれた様式",
    "unread_field": "見つからない記入欄",
    "bilevel_scan": "白黒2値のスキャン",
}


def decision_word(code: str) -> str:
    """合格／不合格／要確認／エラー／訂正エラー for a decision or outcome code; an unknown code as itself."""
    return DECISION.get(code, code)


def flag_word(code: str) -> str:
    """The short Japanese label of a flag code; an unknown code as itself."""
    return FLAG.get(code, code)

# A field whose faint strokes may be writing: neither read nor empty (reading.fields.faint_writing);
# the rules do not take such a URL line as filled in.
FAINT_FIELD_NOTE = "欄に薄い記入があるようですが、読み取れません。原本を確認してください"
# A text, date or URL place read empty on a black-and-white scan (reading.erased): pencil may have
# been erased by the scanner; the rules do not take such a URL line as filled in either.
# Two pages read as one form page that read a box or place differently (model.two_readings); such a
# URL line is not taken as filled in either.
TWO_PAGES_NOTE = "同じ様式の頁が二つあり、読み取りが食い違います。両方の頁を目視で確認してください"
ERASED_FIELD_NOTE = "白黒2値のスキャンで空欄と読めました。薄い鉛筆の記入は2値化で消えることがあるため、原本で確認してください"
# The notes of a place read uncertain that do not show writing there: such a URL line is not a path
# filled in (rules.evidence); a new note of that kind belongs here.
# A text, date or URL place read empty with writing just beside it, over its label or above its line
# (reading.fields): the writing may be its value, or may not; such a URL line is not taken as filled in.
STRAY_FIELD_NOTE = "欄は空ですが、すぐ左か上に書き込みがあります（欄の外に書かれたかもしれません）。原本を確認してください"
# A URL place on a page whose content moved (a Word filling) holding ink that is not a line of text:
# print moved into the place as likely as a path written by hand (reading.scan); not filled in either.
MOVED_URL_NOTE = "記入で位置がずれた頁の URL 欄に、文字として読めない書き込みか印刷があります。原本を確認してください"
# A place below where a page's content moved, read at the blank's place because the move could not be
# followed (reading.reflow_scan.unsure_below): what it holds may be another line's; such a URL line is
# not taken as filled in (an empty one became uncertain and counted as a path given).
UNFOLLOWED_NOTE = "記入で位置がずれた部分にあり、ずれを追えなかったため様式どおりの位置で読みました。頁を目視で確認してください"
NOT_WRITTEN_NOTES = frozenset({FAINT_FIELD_NOTE, ERASED_FIELD_NOTE, TWO_PAGES_NOTE, STRAY_FIELD_NOTE, MOVED_URL_NOTE, UNFOLLOWED_NOTE})
STRAY_SIGNATURE_NOTE = "署名欄は空ですが、すぐ上か下に筆跡があります（記入で位置がずれたかもしれません）。原本を確認してください"
STRAY_SEAL_NOTE = "押印欄は空ですが、すぐそばに印影のようなものがあります（枠の外に押されたかもしれません）。原本を確認してください"
