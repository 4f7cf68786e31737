"""Check review.yaml before it is used: the reviewer's corrections, normalised, or every problem in Japanese.

The file a reviewer edits (outbox/<name>/review.yaml)::

    items:
      7-1-1: {points: 4}                  # 審査者の採点: 0〜その項目の点数 (4, ４, 4点)
      2-1-2: {answer: いいえ}              # はい・いいえ・未回答 (yes・no・blank)
      3-1-7: {choice: 異なる建物}           # 様式に印刷された選択肢の文言、またはキー (other_building)
      1-1-3: {evidence: {signature: present, seal: あり}}
    declarations:
      upstream_provider: {choice: independent}
    attachments:
      att-03: {labels: ["3-1-6"]}
    fields:                                # 表紙の欄の確認・訂正（様式の欄名か applicant.tel）
      電話番号: 03-1011-2650
      applicant.company_name: 株式会社さくらネット
    certificate: {license_number: "ISP-2026-0001", issued: 2026-12-01}
    reviewer: 山田 太郎                     # 訂正を書いた審査者
    signoff:                               # 様式の事務局欄（一次審査・二次審査）の署名
      first: {name: 山田 太郎, date: 2026-12-07}
      second: {name: 佐藤 花子, date: 令和8年12月10日}

The sign-off is the contract's shape; `reviews: {一次審査: {reviewer: …, date: …}}` (the form's
own words) is accepted as another spelling of it. A round left with neither name nor date
(as the blank file shows it) is simply not signed yet.

Every section may be absent or empty (`items: {}`). A file that is absent or empty holds no
corrections. Anything else that cannot be read exactly is a problem; a file with any problem
yields no corrections at all, so a bad file changes nothing.

Safety (review_yaml): nothing but a small regular UTF-8 file is read, and YAML is read as
parser events only: no object is constructed, anchors, aliases and tags are refused, and every
duplicate key is refused (not last-wins).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from pipeline.model.records import Declaration, EvidenceKind, EvidenceStatus, FormDef, Item
from pipeline.rules import review_fields as cover
from pipeline.rules import review_spelling as spell
from pipeline.rules.review_records import CertificatePatch, CheckedReview, Corrections, ItemPatch, ReviewRound
from pipeline.rules.review_spelling import MAX_PROBLEMS, ReviewProblem
from pipeline.rules.review_yaml import MAX_BYTES, YamlNode, decode, parse_tree, read_bytes

__all__ = [
    "MAX_BYTES",
    "CertificatePatch",
    "CheckedReview",
    "Corrections",
    "ItemPatch",
    "ReviewProblem",
    "ReviewRound",
    "check_review",
    "check_review_text",
    "format_problems",
]

TOP_KEYS = ("items", "declarations", "attachments", "fields", "certificate", "reviewer", "signoff")
TOP_ALIASES = {"reviews": "signoff"}  # the first spelling of the sign-off, kept
ITEM_KEYS = ("answer", "choice", "points", "evidence")
ROUND_KEYS = ("name", "date")
ROUND_ALIASES = {"reviewer": "name"}  # the first spelling of a round's name, kept
CERTIFICATE_KEYS = ("license_number", "issued")
# Problems whose column helps (where the parser stopped); the others are found by their line.
_COLUMN_CODES = frozenset({"yaml_syntax", "too_deep", "control_char", "colon_space", "tag", "anchor", "alias"})


def check_review(path: Path, form: FormDef, known_attachments: Collection[str] = ()) -> CheckedReview:
    """Read and check review.yaml against the form and the submission's attachment ids; writes nothing.

    An absent or empty file is ok with no corrections. A directory, FIFO, link or a file over
    MAX_BYTES is refused before it is opened or read; a file not in UTF-8 (a UTF-8 BOM is fine)
    is refused saying which encoding it seems to be.
    """
    data, problem = read_bytes(path)
    if problem is not None:
        return CheckedReview(problems=(problem,))
    text, problem = decode(data or b"")
    if problem is not None:
        return CheckedReview(problems=(problem,))
    return check_review_text(text, form, known_attachments)


def check_review_text(text: str, form: FormDef, known_attachments: Collection[str] = ()) -> CheckedReview:
    """Check review.yaml's text (already decoded): every problem found in one pass, or the corrections."""
    folded, inserted = spell.fold_width(text.removeprefix("\ufeff"))
    problems: list[ReviewProblem] = []
    root = parse_tree(folded, inserted, problems)
    if problems:
        return CheckedReview(problems=_sorted(problems))
    checker = _Checker(form, tuple(known_attachments))
    try:
        corrections = checker.check(root)
    except _Enough:
        corrections = Corrections()
    if checker.problems:
        return CheckedReview(problems=_sorted(checker.problems))
    return CheckedReview(corrections=corrections)


def format_problems(path_label: str, problems: Sequence[ReviewProblem]) -> list[str]:
    """The Japanese lines the run prints: 「<path_label> 12行目: …」 per problem, then one closing line."""
    lines = []
    for p in problems:
        if p.line is None:
            lines.append(f"{path_label}: {p.message}")
        elif p.column is not None and p.code in _COLUMN_CODES:
            lines.append(f"{path_label} {p.line}行目 {p.column}文字目: {p.message}")
        else:
            lines.append(f"{path_label} {p.line}行目: {p.message}")
    if lines:
        more = any(p.code == "too_many" for p in problems)
        count = f"{len(lines) - 1} 件以上" if more else f"{len(lines)} 件"
        lines.append(f"{path_label}: {spell.message('summary', count=count)}")
    return lines


def _sorted(problems: list[ReviewProblem]) -> tuple[ReviewProblem, ...]:
    ordered = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
    if len(ordered) <= MAX_PROBLEMS:
        return tuple(ordered)
    last = ordered[MAX_PROBLEMS - 1]
    more = ReviewProblem("too_many", spell.message("too_many", count=len(ordered)), last.line)
    return (*ordered[:MAX_PROBLEMS], more)


# --- what the tree says, against the form -------------------------------------------------------


class _Enough(Exception):
    """More problems than anyone will read: the walk stops."""


class _Checker:
    """Walks the tree once, collecting every problem and the corrections."""

    def __init__(self, form: FormDef, known_attachments: tuple[str, ...]) -> None:
        self.items: dict[str, Item] = {it.id: it for it in form.items}
        self.declarations: dict[str, Declaration] = {d.id: d for d in form.declarations}
        self.known_attachments = known_attachments
        self.fields = cover.confirmable_fields(form)
        self.problems: list[ReviewProblem] = []

    def add(self, node: YamlNode, path: str, code: str, **fields: object) -> None:
        self.problems.append(ReviewProblem(code, spell.message(code, **fields), node.line, node.column, path))
        if len(self.problems) > MAX_PROBLEMS:
            raise _Enough  # the rest would not be read: one closing line says there is more

    def check(self, root: YamlNode | None) -> Corrections:
        if root is None or root.null:
            return Corrections()
        if root.kind != "map":
            self.add(root, "", "top_not_mapping", kind=root.shape())
            return Corrections()
        sections: dict[str, list[YamlNode]] = {}

        def top_key(text: str) -> str:
            return TOP_ALIASES.get(spell.key_word(text), spell.key_word(text))

        for name, key, value in self.keyed(root, "", top_key):
            if top_key(name) not in TOP_KEYS and (fld := cover.field_name(name, self.fields)) is not None:
                self.add(key, name, "field_at_top", key=spell.shown(name), example=self.field_example(self.fields[fld]))
            elif top_key(name) in TOP_KEYS or self.known_key(name, key, TOP_KEYS, "ファイルの一番外側", "", value):
                sections.setdefault(top_key(name), []).append(value)
        items: dict[str, ItemPatch] = {}
        declarations: dict[str, str] = {}
        attachments: dict[str, tuple[str, ...]] = {}
        for node in sections.get("items", []):
            items.update(self.items_section(node))
        for node in sections.get("declarations", []):
            declarations.update(self.declarations_section(node))
        for node in sections.get("attachments", []):
            attachments.update(self.attachments_section(node))
        fields: dict[str, str] = {}
        for node in sections.get("fields", []):
            fields.update(self.fields_section(node))
        certificates = [self.certificate(node) for node in sections.get("certificate", [])]
        reviewers = [self.name(node, "reviewer") for node in sections.get("reviewer", []) if not node.null]
        signoff = sorted(
            (r for node in sections.get("signoff", []) for r in self.signoff(node)), key=lambda r: spell.ROUND_ORDER.index(r.round)
        )
        return Corrections(
            items=items,
            declarations=declarations,
            attachments=attachments,
            fields=fields,
            certificate=certificates[0] if certificates else CertificatePatch(),
            reviewer=reviewers[0] if reviewers else None,
            signoff=tuple(signoff),
        )

    # --- keys ---

    def keyed(self, node: YamlNode, path: str, normalise: Callable[[str], str]) -> Iterator[tuple[str, YamlNode, YamlNode]]:
        """A map's (typed key, key node, value node); a key written twice (after normalising) is a problem."""
        seen: dict[str, tuple[YamlNode, YamlNode]] = {}
        for key, value in node.pairs():
            if key.kind != "scalar":
                self.add(key, path, "complex_key", kind=key.shape())
                continue
            name = normalise(key.text)
            if name in seen:
                first_key, first_value = seen[name]
                hint = ""
                if first_value.blank != value.blank:
                    empty_key = first_key if first_value.blank else key
                    hint = f"。中身が空の方（{empty_key.line}行目の {empty_key.text}:）を消してください"
                self.add(key, _join(path, name), "duplicate_key", key=key.text, first=first_key.line, line=key.line, hint=hint)
            else:
                seen[name] = (key, value)
            yield key.text, key, value

    def known_key(self, typed: str, node: YamlNode, allowed: tuple[str, ...], where: str, path: str, value: YamlNode | None = None) -> bool:
        """True if `typed` is one of `allowed`; otherwise a problem saying what it may have meant."""
        word = spell.key_word(typed)
        if word in allowed:
            return True
        listed = "・".join(allowed)
        key = _join(path, typed)
        if ":" in typed:
            before, _, after = typed.partition(":")
            rest = f": {value.text}" if value is not None and value.kind == "scalar" and not value.null else ""
            self.add(node, key, "colon_space", key=spell.shown(typed), example=spell.shown(f"{before}: {after}{rest}"))
        elif spell.JAPANESE_KEYS.get(word) in allowed:
            self.add(node, key, "japanese_key", key=typed, suggest=spell.JAPANESE_KEYS[word], where=where, allowed=listed)
        elif suggest := spell.suggestion(word, allowed):
            self.add(node, key, "typo_key", key=typed, suggest=suggest, where=where, allowed=listed)
        else:
            self.add(node, key, "unknown_key", key=spell.shown(typed), where=where, allowed=listed)
        return False

    def mapping(self, node: YamlNode, key: str, example: str) -> bool:
        """True if the node is a non-empty map; otherwise a problem showing the shape to write."""
        if node.kind == "map" and node.children:
            return True
        code = "empty_entry" if node.blank else "not_mapping"
        self.add(node, key, code, key=key, example=example, kind=node.shape())
        return False

    def scalar(self, node: YamlNode, key: str, example: str) -> str | None:
        """The text of a one-value node; None (and a problem) for a map, a list or nothing."""
        if node.kind != "scalar":
            self.add(node, key, "not_scalar", key=key, kind=node.shape())
            return None
        if node.null:
            self.add(node, key, "empty_value", key=key, example=example)
            return None
        return node.text

    def section(self, node: YamlNode, key: str, example: str) -> bool:
        """A top-level section: may be empty; must be a map if not."""
        if node.blank:
            return False
        if node.kind != "map":
            self.add(node, key, "not_mapping", key=key, example=example, kind=node.shape())
            return False
        return True

    # --- items ---

    def items_section(self, node: YamlNode) -> dict[str, ItemPatch]:
        patches: dict[str, ItemPatch] = {}
        if not self.section(node, "items", "items: の次の行に字下げして 7-1-2: {points: 3}"):
            return patches
        for typed, key, value in self.keyed(node, "items", spell.item_id):
            item_id = spell.item_id(typed)
            item = self.items.get(item_id)
            if item is None:
                self.unknown_item(typed, key, value)
            elif (patch := self.item_patch(item, value, f"items.{item_id}")) is not None:
                patches[item_id] = patch
        return patches

    def unknown_item(self, typed: str, node: YamlNode, value: YamlNode) -> None:
        if ":" in typed:
            self.known_key(typed, node, (), "items の中", "items", value)
            return
        self.add(node, _join("items", typed), "unknown_item", key=spell.shown(typed), hint=self.item_hint(spell.item_id(typed)))

    def item_hint(self, typed: str) -> str:
        """Where the reviewer may have meant: the items of the same group, or the nearest ids."""
        group = [i for i in self.items if i.rsplit("-", 1)[0] == typed.rsplit("-", 1)[0]]
        if group and "-" in typed:
            return f"（{typed.rsplit('-', 1)[0]} の項目は {'・'.join(group)} です）"
        near = spell.suggestions(typed, self.items, 3)
        return f"（近い項目: {'・'.join(near)}）" if near else "（項目番号は 7-1-2 のように書きます）"

    def item_patch(self, item: Item, node: YamlNode, path: str) -> ItemPatch | None:
        if not self.mapping(node, path, f"{item.id}: {{answer: いいえ}}"):
            return None
        fields: dict[str, Any] = {}
        for typed, key, value in self.keyed(node, path, spell.key_word):
            if not self.known_key(typed, key, ITEM_KEYS, f"{item.id} の訂正", path, value):
                continue
            name = spell.key_word(typed)
            if name == "evidence":
                fields[name] = self.evidence(item, value, f"{path}.evidence")
                continue
            example = f"choice: {item.choices[0].text}" if name == "choice" and item.choices else _EXAMPLES[name]
            text = self.scalar(value, f"{path}.{name}", example)
            if text is not None:
                fields[name] = self.item_value(item, name, text, value, f"{path}.{name}")
        if any(v is None or v == {} for v in fields.values()):
            return None
        return ItemPatch(**fields)

    def item_value(self, item: Item, name: str, text: str, node: YamlNode, key: str) -> Any:
        """answer / choice / points as the form spells them; None (and a problem) if not allowed."""
        value: Any = None
        if name == "answer":
            if (value := spell.answer(text)) is None:
                self.add(node, key, "bad_answer", item=item.id, value=spell.shown(text))
        elif name == "choice":
            if not item.choices:
                self.add(node, key, "no_choices", item=item.id)
            elif (value := spell.option_key(text, item.choices)) is None:
                self.add(node, key, "bad_choice", item=item.id, allowed=spell.describe_options(item.choices), value=spell.shown(text))
        elif item.points_max == 0:
            self.add(node, key, "no_points", item=item.id)
        elif (value := spell.points(text, item.points_max)) is None:
            self.add(node, key, "bad_points", item=item.id, top=item.points_max, value=spell.shown(text))
        return value

    def evidence(self, item: Item, node: YamlNode, path: str) -> dict[EvidenceKind, EvidenceStatus]:
        kinds = spell.evidence_kinds(item)
        found: dict[EvidenceKind, EvidenceStatus] = {}
        if not self.mapping(node, path, "evidence: {signature: present, seal: present}"):
            return found
        bad = False
        for typed, key, value in self.keyed(node, path, lambda s: spell.EVIDENCE_KIND_WORDS.get(spell.key_word(s), spell.key_word(s))):
            kind = spell.EVIDENCE_KIND_WORDS.get(spell.key_word(typed))
            if kind is None and spell.suggestion(typed, kinds):
                self.known_key(typed, key, kinds, f"{item.id} の evidence の中", path, value)  # a typo: says which kind
                bad = True
                continue
            if kind is None or kind not in kinds:
                bad = True
                self.add(key, _join(path, typed), "bad_evidence_kind", item=item.id, kind=spell.shown(typed), allowed="・".join(kinds))
                continue
            text = self.scalar(value, f"{path}.{kind}", f"{kind}: present")
            status = spell.EVIDENCE_STATUS_WORDS.get(spell.key_word(text)) if text is not None else None
            if text is not None and status is None:
                self.add(value, f"{path}.{kind}", "bad_evidence_status", item=item.id, kind=kind, value=spell.shown(text))
            if status is None:
                bad = True
            else:
                found[kind] = status
        return {} if bad else found

    # --- declarations and attachments ---

    def declarations_section(self, node: YamlNode) -> dict[str, str]:
        chosen: dict[str, str] = {}
        if not self.section(node, "declarations", "declarations: の次の行に字下げして upstream_provider: {choice: independent}"):
            return chosen
        for typed, key, value in self.keyed(node, "declarations", spell.key_word):
            decl = self.declarations.get(spell.key_word(typed))
            if decl is None:
                if ":" in typed or spell.suggestion(typed, self.declarations):
                    self.known_key(typed, key, tuple(self.declarations), "declarations の中", "declarations", value)
                else:
                    allowed = "・".join(self.declarations)
                    self.add(key, _join("declarations", typed), "unknown_declaration", key=spell.shown(typed), allowed=allowed)
                continue
            path = f"declarations.{decl.id}"
            mains = [o for o in decl.options if o.role == "main"]
            if not self.mapping(value, path, f"{decl.id}: {{choice: {mains[0].key if mains else '…'}}}"):
                continue
            for field_typed, field_key, field_value in self.keyed(value, path, spell.key_word):
                if not self.known_key(field_typed, field_key, ("choice",), f"{decl.id} の訂正", path, field_value):
                    continue
                text = self.scalar(field_value, f"{path}.choice", f"choice: {mains[0].key if mains else '…'}")
                if text is not None and (choice := spell.option_key(text, mains)) is not None:
                    chosen[decl.id] = choice
                elif text is not None:
                    self.add(
                        field_value,
                        f"{path}.choice",
                        "bad_choice",
                        item=decl.id,
                        allowed=spell.describe_options(mains),
                        value=spell.shown(text),
                    )
        return chosen

    def attachments_section(self, node: YamlNode) -> dict[str, tuple[str, ...]]:
        labelled: dict[str, tuple[str, ...]] = {}
        if not self.section(node, "attachments", 'attachments: の次の行に字下げして att-03: {labels: ["3-1-6"]}'):
            return labelled
        known = self.known_attachments

        def normalise(text: str) -> str:
            return spell.attachment_id(text, known) or spell.key_word(text)

        for typed, key, value in self.keyed(node, "attachments", normalise):
            att_id = spell.attachment_id(typed, known)
            if att_id is None:
                code = "unknown_attachment" if known else "no_attachments"
                self.add(key, _join("attachments", typed), code, key=spell.shown(typed), allowed="・".join(known))
                continue
            path = f"attachments.{att_id}"
            if not self.mapping(value, path, f'{att_id}: {{labels: ["3-1-6"]}}'):
                continue
            for field_typed, field_key, field_value in self.keyed(value, path, spell.key_word):
                if self.known_key(field_typed, field_key, ("labels",), f"{att_id} の訂正", path, field_value):
                    labels = self.labels(att_id, field_value, f"{path}.labels")
                    if labels is not None:
                        labelled[att_id] = labels
        return labelled

    def labels(self, att_id: str, node: YamlNode, key: str) -> tuple[str, ...] | None:
        """Item ids, as a list (`["3-1-6", "3-1-7"]`, `[]`) or one id alone; None if any is wrong."""
        entries = node.children if node.kind == "seq" else [node] if node.kind == "scalar" and not node.null else None
        if entries is None:
            self.add(node, key, "bad_labels", att=att_id, kind=node.shape())
            return None
        labels: list[str] = []
        bad = False
        for entry in entries:
            label = spell.item_id(entry.text) if entry.kind == "scalar" and not entry.null else None
            if label is None:
                self.add(entry, key, "bad_labels", att=att_id, kind=entry.shape())
            elif label not in self.items:
                self.add(entry, key, "bad_label", att=att_id, value=spell.shown(entry.text), hint=self.item_hint(label))
            elif label not in labels:
                labels.append(label)
                continue
            else:
                continue  # the same label twice: once is what was meant
            bad = True
        return None if bad else tuple(labels)

    # --- the cover's fields ---

    def fields_section(self, node: YamlNode) -> dict[str, str]:
        """`fields:` — each cover field's confirmed value ("" for confirmed empty), as its result.json name."""
        values: dict[str, str] = {}
        if not self.section(node, "fields", "fields: の次の行に字下げして 電話番号: 03-1234-5678"):
            return values
        allowed = cover.allowed_text(self.fields.values())

        def normalise(text: str) -> str:
            return cover.field_name(text, self.fields) or spell.key_word(text)

        for typed, key, value in self.keyed(node, "fields", normalise):
            name = cover.field_name(typed, self.fields)
            if name is None:
                if ":" in typed:
                    self.known_key(typed, key, (), "fields の中", "fields", value)
                elif suggest := cover.suggestion(typed, self.fields):
                    self.add(key, _join("fields", typed), "typo_field", key=spell.shown(typed), suggest=suggest, allowed=allowed)
                else:
                    self.add(key, _join("fields", typed), "unknown_field", key=spell.shown(typed), allowed=allowed)
                continue
            fld = self.fields[name]
            if value.kind != "scalar":
                self.add(value, f"fields.{name}", "not_scalar", key=typed, kind=value.shape())
                continue
            if value.null:
                self.add(value, f"fields.{name}", "empty_field", field=fld.shown, example=self.field_example(fld))
                continue
            checked = cover.field_value(value.text, fld)
            if checked.value is not None:
                values[name] = checked.value
            elif checked.problem == "bad_field_pattern" and fld.pattern is not None:
                kind = fld.pattern.label
                self.add(
                    value,
                    f"fields.{name}",
                    "bad_field_pattern",
                    field=fld.shown,
                    kind=kind,
                    example=checked.example,
                    value=spell.shown(value.text),
                )
            else:
                self.add(
                    value, f"fields.{name}", "bad_field_text", field=fld.shown, limit=cover.MAX_VALUE_CHARS, value=spell.shown(value.text)
                )
        return values

    def field_example(self, fld: cover.ConfirmableField) -> str:
        return cover.PATTERN_EXAMPLES.get(fld.pattern.name, "…") if fld.pattern else "…"

    # --- certificate and sign-off ---

    def certificate(self, node: YamlNode) -> CertificatePatch:
        number: str | None = None
        issued: dt.date | None = None
        if not self.section(node, "certificate", 'certificate: {license_number: "ISP-2026-0001", issued: 2026-12-01}'):
            return CertificatePatch()
        for typed, key, value in self.keyed(node, "certificate", spell.key_word):
            if not self.known_key(typed, key, CERTIFICATE_KEYS, "certificate の中", "certificate", value):
                continue
            name = spell.key_word(typed)
            text = self.scalar(value, f"certificate.{name}", _EXAMPLES[name])
            if text is None:
                continue
            if name == "issued":
                issued = self.date(text, value, "certificate.issued")
            elif (number := spell.one_line(text, 40)) is None:
                self.add(value, "certificate.license_number", "bad_license", value=spell.shown(text))
        return CertificatePatch(license_number=number, issued=issued)

    def name(self, node: YamlNode, key: str) -> str | None:
        text = self.scalar(node, key, _EXAMPLES["reviewer"])
        if text is None:
            return None
        if (name := spell.one_line(text)) is None:
            self.add(node, key, "bad_name", key=key, value=spell.shown(text))
        return name

    def date(self, text: str, node: YamlNode, key: str) -> dt.date | None:
        if (value := spell.parse_date(text)) is None:
            self.add(node, key, "bad_date", key=key, value=spell.shown(text))
        return value

    def signoff(self, node: YamlNode) -> list[ReviewRound]:
        """The signed rounds; a round with neither name nor date written is not signed yet (no problem)."""
        rounds: list[ReviewRound] = []
        if not self.section(node, "signoff", _EXAMPLES["signoff"]):
            return rounds
        allowed = "・".join(f"{r}（{spell.ROUND_WORDS[r]}）" for r in spell.ROUND_ORDER)

        def normalise(text: str) -> str:
            return spell.ROUNDS.get(spell.key_word(text).replace(" ", ""), spell.key_word(text))

        for typed, key, value in self.keyed(node, "signoff", normalise):
            name = normalise(typed)
            if name not in spell.ROUND_ORDER:
                self.add(key, _join("signoff", typed), "unknown_round", allowed=allowed, value=spell.shown(typed))
                continue
            example = f"{name}: {{name: 山田 太郎, date: 2026-12-07}}"
            if value.null:
                continue  # `first:` alone: not signed yet
            if not self.mapping(value, f"signoff.{name}", example):
                continue
            signed = self.round_fields(value, f"signoff.{name}", example)
            if signed.get("name") and signed.get("date"):
                rounds.append(ReviewRound(round=name, name=signed["name"], date=signed["date"]))  # type: ignore[arg-type]
        return rounds

    def round_fields(self, node: YamlNode, path: str, example: str) -> dict[str, Any]:
        """A round's name and date; both or neither (an unsigned round) must be written."""
        signed: dict[str, Any] = {}
        written: list[str] = []
        empty: dict[str, YamlNode] = {}

        def field_key(text: str) -> str:
            return ROUND_ALIASES.get(spell.key_word(text), spell.key_word(text))

        for typed, key, value in self.keyed(node, path, field_key):
            field_name = field_key(typed)
            if field_name not in ROUND_KEYS and not self.known_key(typed, key, ROUND_KEYS, f"{path} の中", path, value):
                continue
            if value.null and not value.quoted:
                empty.setdefault(field_name, value)  # left empty: reported below only if the other is written
                continue
            written.append(field_name)
            signed[field_name] = None  # written, even if wrong: reported as wrong, not as missing
            if field_name == "name":
                signed[field_name] = self.name(value, f"{path}.name")
            elif (text := self.scalar(value, f"{path}.date", _EXAMPLES["date"])) is not None:
                signed[field_name] = self.date(text, value, f"{path}.date")
        if written:
            for missing in (k for k in ROUND_KEYS if k not in written):
                if missing in empty:
                    self.add(
                        empty[missing], f"{path}.{missing}", "empty_value", key=f"{path}.{missing}", example=_EXAMPLES[f"round_{missing}"]
                    )
                else:
                    self.add(node, path, "missing_field", key=path, field=missing, example=example)
        return signed


_EXAMPLES = {
    "answer": "answer: いいえ",
    "choice": "choice: 異なる建物",
    "points": "points: 3",
    "license_number": 'license_number: "ISP-2026-0001"',
    "issued": "issued: 2026-12-01",
    "reviewer": "reviewer: 山田 太郎",
    "date": "date: 2026-12-07",
    "signoff": "signoff: の次の行に字下げして first: {name: 山田 太郎, date: 2026-12-07}",
    "round_name": "name: 山田 太郎",
    "round_date": "date: 2026-12-07",
}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
