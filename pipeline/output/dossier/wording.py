"""The dossier's words: short labels for the contract's codes, and for the form's keys as templates/labels.yaml gives them.

The contract's codes (answers, flag codes, statuses) are the same for every form, so their
labels live here. What a form names by key (its declarations, options, cover fields) is the
form's data: the dossier's short words for those are read from templates/labels.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.output.dossier.template import TEMPLATES, RenderError

ANSWER = {"yes": "はい", "no": "いいえ", "blank": "未回答", "conflict": "重複（両方に印）", "uncertain": "判読不確実"}
FIELD_STATUS = {"read": "読取済", "uncertain": "要確認", "handwritten": "手書き（画像参照）", "empty": "空欄", "missing": "該当頁なし"}
SEVERITY = {"error": "エラー", "warning": "警告", "info": "情報"}
EVIDENCE = {"document": "書類", "signature": "署名", "seal": "押印", "url_path": "URL", "text": "記入"}
EVIDENCE_PRESENCE = {"present": "あり", "missing": "なし", "uncertain": "要確認"}  # of a signature or seal
SOURCE_KIND = {
    "scanned": "スキャン",
    "born_digital": "電子文書",
    "acroform": "入力フォーム",
    "image": "画像",
    "mixed": "混在",
    "unreadable": "読込不可",
}
LABEL_STATUS = {"read": "読取済", "uncertain": "要確認", "missing": "表示なし"}
SHADE = {"error": "FBE4E4", "warning": "FFF4D6", "ok": "FFFFFF"}  # item-table rows by state
DECISION_SHADE = {"pass": "E8F5E9", "fail": "FDECEA", "needs_review": "FFF4E5"}
EYES_CODES = {
    "uncertain_mark",
    "conflicting_answer",
    "missing_signature",
    "missing_seal",
    "unreadable_file",
    "unlabeled_attachment",
    "unknown_label",
}
FORM_WORDS = TEMPLATES / "labels.yaml"


@dataclass(frozen=True, slots=True)
class FormWords:
    """The dossier's short words for a form's keys (templates/labels.yaml); an unlisted key shows as itself."""

    forms: Mapping[str, str] = field(default_factory=dict)  # form name -> word before the title (更新)
    declarations: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    applicant: Mapping[str, str] = field(default_factory=dict)
    noted_options: frozenset[str] = frozenset()  # declaration options noted beside the answer when checked

    def form_kind(self, name: str) -> str:
        return self.forms.get(name, "")

    def declaration(self, key: str) -> str:
        return self.declarations.get(key, key)

    def option(self, key: str) -> str:
        return self.options.get(key, key)

    def field_label(self, key: str) -> str:
        return self.applicant.get(key, key)


def load_form_words(path: Path = FORM_WORDS) -> FormWords:
    """Read templates/labels.yaml; raises RenderError naming the file and the section."""
    return _load_form_words(str(path))


@lru_cache(maxsize=4)
def _load_form_words(path: str) -> FormWords:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RenderError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise RenderError(f"{path}: expected a mapping at the top level")

    def words(section: str) -> dict[str, str]:
        value = data.get(section) or {}
        # A bare yes/no/on/off key would load as a boolean: it must be quoted.
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise RenderError(f"{path}: '{section}' must map keys (quoted if yes/no) to words")
        return {k: "" if v is None else str(v) for k, v in value.items()}

    noted = data.get("noted_options") or []
    if not isinstance(noted, list):
        raise RenderError(f"{path}: 'noted_options' must be a list of option keys")
    return FormWords(
        forms=words("forms"),
        declarations=words("declarations"),
        options=words("options"),
        applicant=words("applicant"),
        noted_options=frozenset(str(k) for k in noted),
    )
