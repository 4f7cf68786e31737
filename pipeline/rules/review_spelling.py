"""How a reviewer may spell things in review.yaml, and every message a bad one earns, in Japanese.

The words here are the one source of the texts a reviewer sees for a bad review.yaml (the run's
terminal lines now, a web page later): `MESSAGES` maps a problem code to its template.
The spellings accepted are what a Japanese reviewer types in Notepad: はい／いいえ／未回答,
the option labels printed on the form, full-width digits, colons and spaces, `4点`, 令和 dates.
Anything else is refused by the caller with one of these messages.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.model.records import EvidenceKind, EvidenceStatus, Item, Option


@dataclass(frozen=True, slots=True)
class ReviewProblem:
    """One thing wrong in review.yaml: where (1-based line and column), which key, and what to do, in Japanese."""

    code: str  # a key of review_spelling.MESSAGES
    message: str
    line: int | None = None
    column: int | None = None
    key: str = ""  # path such as "items.7-1-2.points"; "" for the file itself


# Problem code -> message template; `{…}` are filled by `message()`. The location
# (「review.yaml 12行目: 」) is added by format_problems, never written here.
MESSAGES: dict[str, str] = {
    # the file itself
    "is_directory": "review.yaml という名前のフォルダーがあります。ファイルではないので読めません。フォルダーを別の名前に変えてください",
    "is_symlink": "review.yaml がシンボリックリンク（ショートカット）になっています。中身をコピーした普通のファイルにしてください",
    "not_a_file": "review.yaml が普通のファイルではありません（{what}）。普通のテキストファイルにしてください",
    "unreadable": "ファイルを開けません（{reason}）",
    "too_large": "ファイルが大きすぎます（{size:,} バイト）。review.yaml は {limit:,} バイト（1 MB）までです。読まずに止めました",
    "shift_jis": "Shift_JIS で保存されているようです。UTF-8 で保存し直してください（メモ帳なら「名前を付けて保存」の「エンコード」で UTF-8 を選びます）",
    "utf16": "UTF-16 で保存されているようです。UTF-8 で保存し直してください（メモ帳なら「名前を付けて保存」の「エンコード」で UTF-8 を選びます）",
    "not_utf8": "UTF-8 として読めない文字があります。UTF-8 で保存し直してください",
    "control_char": "使えない制御文字（{char}）が含まれています。消してください",
    # YAML as YAML
    "yaml_syntax": "YAML の書き方に誤りがあります: {detail}",
    "too_deep": "入れ子（字下げ、{{ }}、[ ]）が深すぎます（{limit} 段まで）。review.yaml では 4 段あれば足ります",
    "multiple_documents": "「---」で区切って複数の文書を書くことはできません。1 つにまとめてください",
    "anchor": "アンカー（&{name}）は使えません。値はそれぞれの場所にそのまま書いてください",
    "alias": "エイリアス（*{name}）は使えません。値はそれぞれの場所にそのまま書いてください",
    "tag": "タグ（{tag}）は使えません。「!」で始まる指定を消して、値だけを書いてください",
    "top_not_mapping": "ファイル全体を「items:」「reviewer:」のような見出しの形で書いてください（書かれた形: {kind}）",
    "duplicate_key": "{key} が 2 回書かれています（{first}行目と{line}行目）。1 つにまとめてください{hint}",
    "complex_key": "見出しには項目番号や名前を 1 つだけ書いてください（書かれた形: {kind}）",
    # keys
    "unknown_key": "{where}に「{key}」は書けません。書けるのは {allowed} です",
    "typo_key": "「{key}」は「{suggest}」の書き間違いではありませんか（{where}に書けるのは {allowed} です）",
    "japanese_key": "「{key}」ではなく「{suggest}」と書いてください（{where}に書けるのは {allowed} です）",
    "colon_space": "「{key}」の「:」のあとに半角スペースを入れてください（例: {example}）",
    "unknown_item": "{key} という項目はこの様式にありません{hint}",
    "unknown_declaration": "{key} という前提質問はありません。書けるのは {allowed} です",
    "unknown_attachment": "{key} という添付書類はこの申請にありません。書けるのは {allowed} です",
    "no_attachments": "{key} という添付書類はこの申請にありません（この申請には添付書類がありません）",
    # shapes
    "not_mapping": "{key} は「見出し: 値」の形で書いてください（例: {example}。書かれた形: {kind}）",
    "not_scalar": "{key} には値を 1 つだけ書いてください（書かれた形: {kind}）",
    "empty_value": "{key} に値が書かれていません（例: {example}）",
    "empty_entry": "{key} に訂正の内容が書かれていません（例: {example}）。訂正しないなら、この行を消してください",
    # values
    "bad_answer": "{item} の answer は はい・いいえ・未回答（yes・no・blank）のどれかで書いてください（書かれた値: {value}）",
    "bad_choice": "{item} の choice は {allowed} のどれかで書いてください（書かれた値: {value}）",
    "no_choices": "{item} には選択肢がありません。はい・いいえの訂正は answer に書いてください",
    "bad_points": "{item} の points は 0〜{top} の整数で書いてください（書かれた値: {value}）",
    "no_points": "{item} は必須項目なので点数がありません。はい・いいえの訂正は answer に書いてください",
    "bad_evidence_kind": "{item} の evidence に「{kind}」は書けません。この項目で書けるのは {allowed} です",
    "bad_evidence_status": "{item} の evidence の {kind} は present・missing・not_required・uncertain（あり・なし・不要・要確認）のどれかで書いてください（書かれた値: {value}）",
    "bad_labels": '{att} の labels は ["3-1-6"] のように項目番号を [ ] の中に並べて書いてください（書かれた形: {kind}）',
    "bad_label": "{att} の labels の {value} はこの様式の項目番号ではありません{hint}",
    "bad_date": "{key} は 2026-12-07 か 令和8年12月7日 のような日付で書いてください（書かれた値: {value}）",
    "bad_name": "{key} には氏名を 1 行で書いてください（書かれた値: {value}）",
    "bad_license": "certificate の license_number には使用許諾番号を 1 行で書いてください（書かれた値: {value}）",
    "unknown_round": "signoff に書ける審査は {allowed} です（書かれた値: {value}）",
    "missing_field": "{key} に {field} がありません（例: {example}）",
    # the cover's fields (fields:)
    "unknown_field": "「{key}」という欄は表紙にありません。fields に書ける欄は {allowed} です（様式の欄名か applicant.tel のような名前で書きます）",
    "typo_field": "「{key}」は「{suggest}」の書き間違いではありませんか（fields に書ける欄は {allowed} です）",
    "field_at_top": "「{key}」は表紙の欄です。fields: の次の行に字下げして書いてください（例: fields: の下に「  {key}: {example}」）",
    "bad_field_pattern": '{field}は{kind}の形で書いてください（例: {example}。書かれた値: {value}）。空欄と確かめたなら "" と書きます',
    "bad_field_text": "{field}には値を 1 行（{limit} 文字まで、制御文字なし）で書いてください（書かれた値: {value}）",
    "empty_field": '{field}に値が書かれていません（例: {example}）。空欄と確かめたなら "" と書きます。訂正しないなら、この行を消してください',
    # the closing line
    "too_many": "ほかにも問題があります（全部で {count} 件以上）。上の問題を直してから、もう一度確かめてください",
    "summary": "問題が {count}あります。直すまで、このファイルの訂正はどれも使われません。直してから、もう一度実行してください",
}

# The parser's English, said in Japanese (matched on the start of ruamel's `problem` text).
SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("expected <block end>", "字下げ（行頭の空白の数）がそろっていません。この行か、その前の行の字下げを、同じ並びの行に合わせてください"),
    ("mapping values are not allowed", 'ここに「:」は書けません。字下げがずれているか、値の中の「:」を "…" で囲む必要があります'),
    ("could not find expected ':'", "「:」が見つかりません。「項目: 値」の形で、「:」のあとに半角スペースを入れてください"),
    ("found character '\\t'", "タブ文字は使えません。字下げには半角スペースを使ってください"),
    ("found unexpected end of stream", "引用符（\" や '）か括弧が閉じられていません"),
    ("expected ',' or '}'", "{ } の中の区切りが正しくありません。「,」で区切り、「}」で閉じてください"),
    ("expected ',' or ']'", "[ ] の中の区切りが正しくありません。「,」で区切り、「]」で閉じてください"),
    ("did not find expected key", "字下げがそろっていないか、「- 」の位置がずれています"),
    ("did not find expected '-' indicator", "字下げがそろっていないか、「- 」の位置がずれています"),
    ("found undefined tag handle", "「!」で始まるタグは使えません"),
    ("found unknown escape character", "\"…\" の中の「\\」の使い方が正しくありません。「\\」を消すか '…' で囲んでください"),
)
SYNTAX_FALLBACK = "字下げ・「:」・括弧・引用符を確かめてください"

ANSWER_WORDS: dict[str, str] = {"はい": "yes", "いいえ": "no", "未回答": "blank", "yes": "yes", "no": "no", "blank": "blank"}

# Evidence kinds as result.json names them, the items file's rule words that ask for them,
# and the Japanese a reviewer writes for each.
EVIDENCE_KIND_WORDS: dict[str, EvidenceKind] = {
    "document": "document", "書類": "document", "文書": "document",
    "signature": "signature", "署名": "signature",
    "seal": "seal", "押印": "seal", "印": "seal", "印影": "seal",
    "url_path": "url_path", "url": "url_path",
    "text": "text", "記入": "text",
}  # fmt: skip
EVIDENCE_STATUS_WORDS: dict[str, EvidenceStatus] = {
    "present": "present", "あり": "present", "有り": "present", "有": "present",
    "missing": "missing", "なし": "missing", "無し": "missing", "無": "missing",
    "not_required": "not_required", "不要": "not_required",
    "uncertain": "uncertain", "要確認": "uncertain", "不明": "uncertain",
}  # fmt: skip
_RULE_KINDS: dict[str, tuple[EvidenceKind, ...]] = {
    "doc": ("document",), "url": ("url_path",), "doc|url": ("document", "url_path"),
    "sign": ("signature",), "seal": ("seal",), "text": ("text",),
}  # fmt: skip

# The office box of the printed form: the review rounds a reviewer signs for.
# The contract's keys are first / second; the form's own words are accepted for them.
ROUND_ORDER: tuple[str, ...] = ("first", "second")
ROUND_WORDS: dict[str, str] = {"first": "一次審査", "second": "二次審査"}
ROUNDS: dict[str, str] = {"first": "first", "1st": "first", "一次審査": "first", "一次": "first", "1次審査": "first", "1次": "first",
                          "second": "second", "2nd": "second", "二次審査": "second", "二次": "second", "2次審査": "second",
                          "2次": "second"}  # fmt: skip

# Japanese a reviewer may write for an English key: told the right key, not accepted silently.
JAPANESE_KEYS: dict[str, str] = {
    "回答": "answer", "答え": "answer", "選択": "choice", "選択肢": "choice", "点数": "points", "点": "points",
    "得点": "points", "採点": "points", "証拠": "evidence", "エビデンス": "evidence", "ラベル": "labels",
    "審査者": "reviewer", "審査員": "reviewer", "氏名": "reviewer", "日付": "date", "審査日": "date",
    "発行日": "issued", "使用許諾番号": "license_number", "登録番号": "license_number", "項目": "items",
    "前提質問": "declarations", "添付": "attachments", "添付書類": "attachments", "証明書": "certificate", "合格証": "certificate", "審査": "signoff",
    "表紙": "fields", "記入欄": "fields", "欄": "fields", "申請者": "fields",
}  # fmt: skip

# Full-width ASCII (！..～) to ASCII, the ideographic space to a space: one character for one,
# so lines and columns stay where the reviewer sees them. Unicode line separators become
# spaces, since Notepad does not break a line there and YAML would.
_WIDTH_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x85: 0x20, 0x2028: 0x20, 0x2029: 0x20}
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−ーｰ－"), "-")
_DATE_WESTERN = re.compile(r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日)")
_DATE_REIWA = re.compile(r"(?:令和|R)(\d{1,2}|元)[年.](\d{1,2})[月.](\d{1,2})日?", re.IGNORECASE)
_REIWA_YEAR_ZERO = 2018  # 令和元年 is 2019
_POINTS = re.compile(r"(\d+)点?")
SHOWN_CHARS = 40  # a value quoted back in a message is cut here
MAX_PROBLEMS = 100  # past this the check stops; one closing line says there are more


def message(code: str, **fields: object) -> str:
    """The Japanese text for a problem code, filled in."""
    return MESSAGES[code].format(**fields)


def syntax_detail(problem: str) -> str:
    """ruamel's English parse problem as Japanese advice."""
    for start, advice in SYNTAX_HINTS:
        if problem.strip().startswith(start):
            return advice
    return SYNTAX_FALLBACK


def fold_width(text: str) -> tuple[str, dict[int, list[int]]]:
    """Full-width ASCII and spaces folded for the YAML parser, lines kept.

    A full-width colon becomes `: ` when a character follows it (`7-1-2：{points: 3}`), the one
    change that adds a character; returns the text and, per 0-based line, the 0-based columns
    of the added spaces so `original_column` can undo the shift.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    inserted: dict[int, list[int]] = {}
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if "：" not in line:
            continue
        out: list[str] = []
        for i, char in enumerate(line):
            out.append(char)
            if char == "：" and i + 1 < len(line) and line[i + 1] not in " \t　":
                inserted.setdefault(number, []).append(len(out))
                out.append(" ")
        lines[number] = "".join(out)
    return "\n".join(lines).translate(_WIDTH_FOLD), inserted


def original_column(inserted: dict[int, list[int]], line0: int, column0: int) -> int:
    """The 1-based column in the reviewer's file of a 0-based column of the folded text."""
    return column0 - sum(1 for c in inserted.get(line0, ()) if c < column0) + 1


def plain(text: str) -> str:
    """NFKC, trimmed: the form every typed value is compared in."""
    return unicodedata.normalize("NFKC", text).strip()


def key_word(text: str) -> str:
    """A key as compared: NFKC, trimmed, lower case."""
    return plain(text).lower()


def item_id(text: str) -> str:
    """An item id as typed (`７－１－２`, `7ー1ー2`, ` 7-1-2 `) in the form's spelling."""
    return re.sub(r"\s+", "", plain(text).translate(_DASHES))


def attachment_id(text: str, known: Iterable[str]) -> str | None:
    """The known attachment id a typed one names (`ATT-3`, `att-03`), or None."""
    typed = re.fullmatch(r"([a-z]+)-?0*(\d+)", item_id(text).lower())
    for candidate in known:
        if candidate.lower() == item_id(text).lower():
            return candidate
        ours = re.fullmatch(r"([a-z]+)-?0*(\d+)", candidate.lower())
        if typed and ours and typed.groups() == ours.groups():
            return candidate
    return None


def answer(text: str) -> str | None:
    """yes / no / blank for はい・いいえ・未回答 (or the English words, any case); None otherwise."""
    return ANSWER_WORDS.get(key_word(text))


def points(text: str, top: int) -> int | None:
    """A whole number of points from 0 to `top` (`4`, `４`, `4点`, `4 点`); None otherwise."""
    found = _POINTS.fullmatch(re.sub(r"\s+", "", plain(text)))
    if not found:
        return None
    value = int(found.group(1))
    return value if 0 <= value <= top else None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", plain(text)).lower()


def option_key(text: str, options: Sequence[Option]) -> str | None:
    """The option a reviewer names by its key or by the label printed on the form (spaces ignored)."""
    typed = _squash(text)
    for option in options:
        if typed in (_squash(option.key), _squash(option.text)):
            return option.key
    return None


def describe_options(options: Sequence[Option]) -> str:
    """`異なる建物（other_building）・…` for a message."""
    return "・".join(f"{o.text}（{o.key}）" if o.text and len(o.text) <= SHOWN_CHARS else o.key for o in options)


def evidence_kinds(item: Item) -> tuple[EvidenceKind, ...]:
    """The evidence kinds the item asks for (as result.json names them), from its rule words."""
    kinds: list[EvidenceKind] = []
    for rule in item.evidence:
        for kind in _RULE_KINDS.get(rule, ()):
            if kind == "text" and not any(b.required for b in item.blanks):
                continue
            if kind not in kinds:
                kinds.append(kind)
    return tuple(kinds)


def parse_date(text: str) -> dt.date | None:
    """2026-12-07, 2026/12/7, 2026年12月7日 or 令和8年12月7日 as a date; None if not a real day."""
    typed = re.sub(r"\s+", "", plain(text))
    try:
        if found := _DATE_WESTERN.fullmatch(typed):
            year, month, day = found.group(1), found.group(2) or found.group(4), found.group(3) or found.group(5)
            return dt.date(int(year), int(month), int(day))
        if found := _DATE_REIWA.fullmatch(typed):
            era_year = 1 if found.group(1) == "元" else int(found.group(1))
            return dt.date(_REIWA_YEAR_ZERO + era_year, int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None
    return None


def one_line(text: str, limit: int = 60) -> str | None:
    """A name or number as one trimmed line (NFKC, inner runs of spaces made one); None if empty or too long."""
    value = re.sub(r"\s+", " ", plain(text))
    if not value or len(value) > limit or any(unicodedata.category(c) == "Cc" for c in value):
        return None
    return value


def suggestion(typed: str, allowed: Iterable[str]) -> str | None:
    """The allowed word a typo most resembles (difflib, ratio ≥ 0.6), or None."""
    found = difflib.get_close_matches(key_word(typed), list(allowed), n=1, cutoff=0.6)
    return found[0] if found else None


def suggestions(typed: str, allowed: Iterable[str], count: int) -> list[str]:
    """Up to `count` allowed words near what was typed (difflib, ratio ≥ 0.6)."""
    return difflib.get_close_matches(typed, list(allowed), n=count, cutoff=0.6)


def shown(text: str) -> str:
    """A typed value quoted back in a message, cut to a readable length."""
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
