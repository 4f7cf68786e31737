"""The cover's fields a reviewer may confirm or correct in review.yaml's `fields:`, and how each may be spelled.

A cover field (会社名, TEL, 登録番号, …: items.yaml's `cover_fields` and the layout's other
`applicant.*` places that hold writing) whose reading is uncertain, handwritten or wrong is
settled by the reviewer::

    fields:
      applicant.tel: 03-1011-2650        # the result.json name,
      電話番号: 03-1011-2650              # or the label printed on the form, or a usual word for it
      FAX: ""                            # "" (or 空欄): confirmed empty

A value is read as a typed value is compared everywhere (NFKC, white space made one space) and
must fit the field's pattern (items.yaml `field_patterns`), as a value read by the machine must
to count as read; a dash typed between digits as ー or － is a hyphen.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipeline.model.records import FieldPattern, FormDef
from pipeline.rules import review_spelling as spell

OWNER = "applicant"  # the cover's fields are the applicant's
VALUE_KINDS = ("text", "url", "date")  # places that hold writing (not a seal or signature place)
MAX_VALUE_CHARS = 200  # an address is the longest cover field
EMPTY_WORDS = frozenset({"", "空欄", "なし", "記入なし"})  # a field confirmed empty

# Usual words for the contract's cover keys (result.json `applicant`), besides the printed
# label: a reviewer types 電話番号 where the form prints TEL. Only keys the form has are used.
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "service_name": ("サービス名", "サービス名称"),
    "url": ("ホームページ", "ウェブサイト", "サイト"),
    "company_name": ("会社名", "事業者名", "社名", "法人名", "会社"),
    "representative": ("代表者", "代表者名", "代表者氏名", "代表"),
    "address": ("住所", "所在地"),
    "tel": ("電話番号", "電話", "TEL番号"),
    "fax": ("ファックス", "ファクス", "FAX番号", "ファックス番号", "ファクシミリ"),
    "registration_date": ("登録年月日", "届出年月日", "許可年月日", "登録日", "届出日", "許可日", "許可、登録又は届出年月日"),
    "registration_number": ("登録番号", "届出番号", "許可番号", "許可、登録又は届出番号"),
    "user_count": ("ユーザ数", "利用者数", "会員数", "ユーザー数"),
    "date": ("申請日", "提出日", "申請年月日", "提出年月日", "日付"),
}
# A value to show in a message when the pattern refuses one, by pattern name.
PATTERN_EXAMPLES = {
    "telephone": "03-1234-5678",
    "email": "info@example.jp",
    "url": "https://www.example.jp/",
    "date": "令和7年3月18日",
    "number": "12,000",
    "registration_number": "A-26-1352",
}
_DASH_BETWEEN = re.compile(r"(?<=[0-9A-Za-z])\s*[‐‑‒–—―−ーｰ－]\s*(?=[0-9A-Za-z])")


@dataclass(frozen=True, slots=True)
class ConfirmableField:
    """One cover field a reviewer may settle: its result.json name, printed label and pattern."""

    name: str  # applicant.tel
    label: str  # as printed (TEL); the short word for the date line (申請日)
    pattern: FieldPattern | None = None
    cover: bool = True  # a cover_fields entry (result.json `applicant`); else a layout place (`contacts`)

    @property
    def key(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def shown(self) -> str:
        """How a message names it: 「TEL（applicant.tel）」."""
        return f"{self.label}（{self.name}）"


def confirmable_fields(form: FormDef) -> dict[str, ConfirmableField]:
    """The form's cover fields that hold writing, by result.json name, in the form's order."""
    layout = {f.name: f for page in form.pages for f in (*page.fields, *page.unlocated) if hasattr(f, "name")}
    found: dict[str, ConfirmableField] = {}
    for cover in form.cover_fields:
        name = f"{OWNER}.{cover.key}"
        place = layout.get(name)
        found[name] = ConfirmableField(name, cover.label, getattr(place, "pattern", None))
    for name, place in layout.items():
        if name in found or getattr(place, "owner", None) != OWNER or getattr(place, "kind", None) not in VALUE_KINDS:
            continue
        key = name.split(".", 1)[1]
        found[name] = ConfirmableField(name, FIELD_WORDS.get(key, (key,))[0], getattr(place, "pattern", None), cover=False)
    return found


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", spell.key_word(text))


def spellings(fields: Mapping[str, ConfirmableField]) -> dict[str, str]:
    """Every accepted spelling of a field's key (squashed: NFKC, lower case, no spaces) → its name."""
    words: dict[str, str] = {}
    for name, fld in fields.items():
        label_tail = fld.label.split()[-1] if fld.label.split() else fld.label
        for word in (name, fld.key, fld.label, label_tail, *FIELD_WORDS.get(fld.key, ())):
            words.setdefault(_squash(word), name)
    return words


def field_name(typed: str, fields: Mapping[str, ConfirmableField]) -> str | None:
    """The field a typed key names (`applicant.tel`, `tel`, `TEL`, `電話番号`, `ＴＥＬ`), or None."""
    return spellings(fields).get(_squash(typed))


def suggestion(typed: str, fields: Mapping[str, ConfirmableField]) -> str | None:
    """The spelling a typo most resembles (電話番後 → 電話番号, applicant.tell → applicant.tel), as written in this module."""
    words = {_squash(w): w for name, fld in fields.items() for w in (name, fld.label, *FIELD_WORDS.get(fld.key, ()))}
    found = spell.suggestion(_squash(typed), list(words))
    return words[found] if found else None


def allowed_text(fields: Iterable[ConfirmableField]) -> str:
    return "・".join(f.label.split()[-1] if f.label.split() else f.label for f in fields)


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A typed value checked against its field: the value to use ("" for empty), or the problem code."""

    value: str | None
    problem: str | None = None
    example: str = ""


def field_value(text: str, fld: ConfirmableField) -> FieldValue:
    """The value a reviewer typed for `fld`, normalised (NFKC, one space), or why it is refused.

    "" and 空欄・なし confirm the field empty. A value must fit the field's pattern; a dash
    typed between digits or letters as ー, － or — is taken as a hyphen first.
    """
    value = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    if value in EMPTY_WORDS:
        return FieldValue("")
    if len(value) > MAX_VALUE_CHARS or any(unicodedata.category(c) in ("Cc", "Cf", "Co") for c in value):
        return FieldValue(None, "bad_field_text")
    if fld.pattern is None:
        return FieldValue(value)
    for candidate in (value, _DASH_BETWEEN.sub("-", value)):
        if re.fullmatch(fld.pattern.regex, candidate):
            return FieldValue(candidate)
    return FieldValue(None, "bad_field_pattern", PATTERN_EXAMPLES.get(fld.pattern.name, ""))
