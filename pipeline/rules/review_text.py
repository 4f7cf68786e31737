"""review.yaml as text: the blank one a submission gets, and a checked edit of a reviewer's file that keeps its comments.

Both go through ruamel.yaml's round-trip emitter, never through string formatting: whatever an
applicant wrote (a file name with a newline, a flag's text with `#` or `:`) can only ever land
in a comment line, made one visible line first, and the file a reviewer gets always passes
`check_review_text`. The page that lets a reviewer edit review.yaml calls `updated_review_text`
and writes the text only when the check it returns is ok.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pipeline.model.records import FormDef
from pipeline.model.text_safety import visible_text
from pipeline.rules import review_fields as cover
from pipeline.rules import review_spelling as spell
from pipeline.rules.review_check import ROUND_ALIASES, TOP_ALIASES, CheckedReview, ReviewProblem, check_review_text

# The fixed part of every blank review.yaml. Nothing here comes from an application; the
# examples for the form's own items are added as comments by `blank_review_text`.
BLANK_TEMPLATE = """\
# 審査者による訂正（review.yaml）
#
# 使い方: 訂正や採点をするときは、例の行の先頭の「#」を消して値を書き換え、保存してから
# もう一度 make run を実行してください。書き方に誤りがあると、このファイルの訂正はどれも
# 使われず（前回の結果がそのまま残ります）、何行目の何が誤りかが表示されます。
# 書ける値: answer は はい・いいえ・未回答、points は 0〜その項目の点数（４ や 4点 でも可）、
#           choice は様式に印刷された選択肢の文言、日付は 2026-12-07 か 令和8年12月7日。
# このファイルはパイプラインが最初に一度だけ作り、以後は書き換えません。
#
items:
declarations:
attachments:
fields:
certificate:
#  issued: 2026-12-01                # 合格証の発行日（書かなければ最後の署名の日付）
#  license_number: "ISP-2026-0001"   # 使用許諾番号（書かなければ協議会の番号を順に付けます）

# 審査者の氏名。合格証は、合格で、ここに氏名が書かれているときだけ発行されます。
reviewer:
# 様式の事務局欄の署名: 審査を終えたら、その回の氏名と日付を書いてください。
signoff:
  first:       # 一次審査
    name:
    date:
  second:      # 二次審査
    name:
    date:
"""

MAX_TODO = 60  # flags listed in the blank; the rest are in result.json and the dossier


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096  # never fold a long value onto a second line
    yaml.allow_unicode = True
    return yaml


def _dump(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def comment_line(text: str) -> str:
    """Applicant text as one visible comment line: line breaks and controls shown as [U+000A], never a new line."""
    return visible_text(str(text))


def _examples(form: FormDef) -> dict[str, list[str]]:
    """Commented example lines per section, from the form's own items (uncommented, each is a valid correction)."""
    scored = [it for it in form.items if it.scoring == "reviewer"]
    items = [f"{it.id}: {{points: {it.points_max}}}".ljust(28) + f"# 審査者の採点（0〜{it.points_max} 点）" for it in scored]
    yes_no = next((it for it in form.items if it.scoring != "reviewer"), None)
    if yes_no is not None:
        items.append(f"{yes_no.id}: {{answer: はい}}".ljust(28) + "# 読み取りの訂正: はい・いいえ・未回答")
    chooser = next((it for it in form.items if it.choices), None)
    if chooser is not None:
        label = chooser.choices[0].text
        word = label if label and not any(c in label for c in ":{}[],#&*!|>'\"%@`") else chooser.choices[0].key
        items.append(f"{chooser.id}: {{choice: {word}}}".ljust(28) + "# 選択肢の訂正（様式の文言でも可）")
    signed = next((it for it in form.items if "sign" in it.evidence and "seal" in it.evidence), None)
    if signed is not None:
        items.append(f"{signed.id}: {{evidence: {{signature: あり, seal: あり}}}}  # 署名・押印の確認: あり・なし")
    declarations = []
    for decl in form.declarations[:1]:
        mains = [o for o in decl.options if o.role == "main"]
        if mains:
            declarations.append(f"{decl.id}: {{choice: {mains[0].key}}}".ljust(40) + "  # 前提質問の訂正")
    document = next((it for it in form.items if it.needs_document), None)
    attachments = (
        [f'att-01: {{labels: ["{document.id}"]}}'.ljust(28) + "# 右肩ラベルの訂正（添付の番号は調書の添付一覧）"] if document else []
    )
    fields = []
    known = cover.confirmable_fields(form)
    for name in ("applicant.company_name", "applicant.tel"):
        if name in known:
            fld = known[name]
            example = cover.PATTERN_EXAMPLES.get(fld.pattern.name, "…") if fld.pattern else "株式会社〇〇"
            fields.append(f"{fld.label}: {example}".ljust(28) + '# 表紙の欄の確認・訂正（様式の欄名で。空欄なら ""）')
    return {"items": items, "declarations": declarations, "attachments": attachments, "fields": fields}


def blank_review_text(form: FormDef, submission: str, todo: Sequence[str], reasons: Sequence[str] = ()) -> str:
    """The review.yaml a submission gets on its first run: Japanese comments, the form's examples, the flags to check.

    `submission`, `todo` (flag texts) and `reasons` (the decision's) may hold applicant text:
    each becomes one comment line.
    """
    data = _yaml().load(BLANK_TEMPLATE)
    examples = _examples(form)
    keys = list(data)
    for section, lines in examples.items():
        if lines:
            following = keys[keys.index(section) + 1]
            data.yaml_set_comment_before_after_key(following, before="\n".join(f" {line}" for line in lines))
    listed = [f"  - {comment_line(t)}" for t in todo[:MAX_TODO]]
    if len(todo) > MAX_TODO:
        listed.append(f"  （ほか {len(todo) - MAX_TODO} 件は調書の要確認事項を見てください）")
    why = [f"  - {comment_line(r)}" for r in reasons]
    head = [
        f"申請: {comment_line(submission)}",
        *(["判定の理由:", *why] if why else []),
        "確認が必要な点（result.json の flags より）:",
        *(listed or ["  （なし）"]),
        "",
    ]
    data.yaml_set_comment_before_after_key("items", before="\n".join(head))
    text = _dump(data)
    if not check_review_text(text, form).ok:  # cannot happen by construction; a blank must never be refused
        text = BLANK_TEMPLATE
    return text


# --- a checked edit of the reviewer's file --------------------------------------------------------

# Problems that mean the text cannot be loaded faithfully to be edited (the reviewer fixes those by hand).
_UNEDITABLE = frozenset(
    {
        "yaml_syntax",
        "too_deep",
        "control_char",
        "anchor",
        "alias",
        "tag",
        "multiple_documents",
        "top_not_mapping",
        "duplicate_key",
        "complex_key",
    }
)


def _norm(key: object) -> str:
    word = spell.item_id(str(key)).lower()
    return spell.ROUNDS.get(word, TOP_ALIASES.get(word, ROUND_ALIASES.get(word, word)))


def _find(mapping: CommentedMap, key: str) -> Any:
    """The key as the file spells it (`７-1-2`, `reviews`), or `key` itself when absent."""
    return next((k for k in mapping if _norm(k) == _norm(key)), key)


def _field_key(root: CommentedMap, name: str, form: FormDef) -> str:
    """The key under `fields:` that names the cover field `name` as the file spells it (電話番号, TEL), else `name`."""
    known = cover.confirmable_fields(form)
    section = root.get(_find(root, "fields"))
    if isinstance(section, CommentedMap):
        for key in section:
            if cover.field_name(str(key), known) == name:
                return str(key)
    return name


def _scalar(value: object) -> object:
    if isinstance(value, (list, tuple)):
        seq = CommentedSeq(str(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    return value


def _apply_edit(root: CommentedMap, path: Sequence[str], value: object) -> None:
    node = root
    for depth, part in enumerate(path[:-1]):
        key = _find(node, part)
        child = node.get(key)
        if not isinstance(child, CommentedMap):
            if value is None:
                return  # removing under something that is not there
            child = CommentedMap()
            if depth >= 1:  # `7-1-2: {points: 3}` on one line, as the examples show
                child.fa.set_flow_style()
            node[key] = child
        node = child
    last = _find(node, path[-1])
    if value is None:
        node.pop(last, None)
    else:
        node[last] = _scalar(value)


def updated_review_text(
    text: str, form: FormDef, edits: Mapping[str, object], known_attachments: Collection[str] = ()
) -> tuple[str, CheckedReview]:
    """review.yaml's text with `edits` applied (comments kept), and the check of the new text.

    `edits` maps a dotted path to a value, None removing it: ``{"items.7-1-2.points": 3,
    "reviewer": "山田 太郎", "signoff.first.date": "2026-12-07", "items.1-1-3": None}``. Keys
    are matched as the check reads them (`７-1-2`, `reviews` for `signoff`). The caller writes
    the new text only when the returned check is ok; a text that cannot be loaded faithfully
    (a YAML syntax error, an alias, a duplicate key) comes back unchanged with its problems.
    """
    before = check_review_text(text, form, known_attachments)
    if any(p.code in _UNEDITABLE for p in before.problems):
        return text, before
    source = text.removeprefix("\ufeff")
    if "：" in source:  # a full-width colon is YAML only once folded, as the check reads it
        source = spell.fold_width(source)[0]
    root = _yaml().load(source) if source.strip() else None
    if root is None:
        root = CommentedMap()
    if not isinstance(root, CommentedMap):
        return text, CheckedReview(problems=(ReviewProblem("top_not_mapping", spell.message("top_not_mapping", kind="値")),))
    for dotted, value in edits.items():
        path = [p for p in dotted.split(".") if p]
        if len(path) > 2 and _norm(path[0]) == "fields":  # fields.applicant.tel: one key, as the file spells it
            path = [path[0], _field_key(root, ".".join(path[1:]), form)]
        if path:
            _apply_edit(root, path, value)
    new_text = _dump(root)
    return new_text, check_review_text(new_text, form, known_attachments)
