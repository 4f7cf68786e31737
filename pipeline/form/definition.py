"""Load and cross-check forms/<name>/ into a FormDef; the only reader of form files."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline.model.errors import FormDefinitionError
from pipeline.model.records import (
    Blank,
    BoxLayout,
    Contact,
    ContactField,
    CoverField,
    CoverTexts,
    Declaration,
    FieldLayout,
    FieldPattern,
    FormDef,
    FormTexts,
    Item,
    Option,
    PageLayout,
    PassRule,
)

EVIDENCE_WORDS = {"doc", "url", "doc|url", "sign", "seal", "text"}
SCORING = {"required", "fixed", "choice", "reviewer"}


# libyaml's loader reads the 70 KB items file ~10x faster than the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Loader)  # noqa: S506 - a safe loader
    except FileNotFoundError as exc:
        raise FormDefinitionError(f"{path}: file is missing") from exc
    except yaml.YAMLError as exc:
        raise FormDefinitionError(f"{path}: not valid YAML: {exc}") from exc


def _need(mapping: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise FormDefinitionError(f"{where}: key '{key}' is missing")
    return mapping[key]


def load_form(folder: Path | str, *, with_layout: bool = True) -> FormDef:
    """Load forms/<name>/ (form.yaml, its items file, layout.yaml if present) and check it.

    with_layout=False leaves layout.yaml unread (the form has no pages): print-form draws a
    new layout, and an old one may disagree with an edited items.yaml.

    Raises FormDefinitionError naming the file and key at the first inconsistency.
    """
    folder = Path(folder)
    form_path = folder / "form.yaml"
    form = _read_yaml(form_path)
    where = str(form_path)
    items_path = (folder / str(form.get("items", "items.yaml"))).resolve()
    raw_items = _read_yaml(items_path)
    overrides = form.get("overrides") or {}

    items = tuple(_item(raw, overrides, f"{items_path} item {raw.get('id')}") for raw in _need(raw_items, "items", str(items_path)))
    declarations = tuple(_declaration(raw, f"{items_path} declaration {raw.get('id')}") for raw in raw_items.get("declarations", []))
    cover_fields = tuple(_cover_field(c) for c in raw_items.get("cover_fields", []))

    rule_raw = _need(form, "rule", where)
    rule = PassRule(
        required_total=int(_need(rule_raw, "required_total", where + " rule")),
        points_max=int(_need(rule_raw, "points_max", where + " rule")),
        threshold=int(_need(rule_raw, "threshold", where + " rule")),
        fail_at_zero=tuple(str(x) for x in rule_raw.get("fail_at_zero", [])),
    )

    texts = _texts(raw_items)
    patterns = _field_patterns(raw_items, cover_fields, texts.contacts, str(items_path))  # checked even without a layout
    layout_path = folder / "layout.yaml"
    read = [form_path, items_path]  # the files the fingerprint covers
    pages: tuple[PageLayout, ...] = ()
    if with_layout:
        read.append(layout_path)
        if layout_path.exists():
            pages = tuple(_page(p, f"{layout_path} page {p.get('number')}") for p in _need(_read_yaml(layout_path), "pages", str(layout_path)))
            pages = _with_scripts(pages, _latin_fields(cover_fields, texts.contacts))
            pages = _with_patterns(pages, patterns)

    formdef = FormDef(
        name=folder.resolve().name,
        title=str(_need(form, "title", where)),
        kind=form.get("kind", "renewal"),
        rule=rule,
        items=items,
        declarations=declarations,
        cover_fields=cover_fields,
        pages=pages,
        fingerprint=_fingerprint(read),
        folder=str(folder.resolve()),
        sections=tuple((str(sec["id"]), str(sec.get("title", ""))) for sec in raw_items.get("sections") or []),
        texts=texts,
    )
    check_form(formdef, where)
    return formdef


def _fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _item(raw: dict[str, Any], overrides: dict[str, Any], where: str) -> Item:
    item_id = str(_need(raw, "id", where))
    patch = overrides.get(item_id) or {}
    required = bool(patch.get("required", _need(raw, "required", where)))
    points = int(patch.get("points", raw.get("points", 0) or 0))
    scoring = str(patch.get("scoring", raw.get("scoring", "required" if required else "fixed")))
    if required and scoring != "required":
        scoring = "required"
    if not required and scoring == "required":
        scoring = "fixed"
    if scoring not in SCORING:
        raise FormDefinitionError(f"{where}: scoring '{scoring}' is not one of {sorted(SCORING)}")
    evidence = tuple(str(e) for e in _need(raw, "evidence", where))
    unknown = [e for e in evidence if e not in EVIDENCE_WORDS]
    if unknown or not evidence:
        raise FormDefinitionError(f"{where}: evidence {list(evidence)} must be drawn from {sorted(EVIDENCE_WORDS)}")
    options = [Option(key="yes", text=str(raw.get("statement", "")), role="answer")]
    if raw.get("negative"):
        options.append(Option(key="no", text=str(raw["negative"]), role="answer"))
    for choice in raw.get("choices") or []:
        options.append(Option(key=str(choice["key"]), text=str(choice["text"]), points=int(choice["points"]), role="choice"))
    blanks = tuple(
        Blank(name=str(b["name"]), label=str(b["label"]), required=bool(b.get("required", True))) for b in raw.get("blanks") or []
    )
    return Item(
        id=item_id,
        section=str(raw.get("section", item_id.split("-")[0])),
        group=str(raw.get("group", "-".join(item_id.split("-")[:2]))),
        title=str(raw.get("title") or raw.get("statement") or ""),
        statement=str(raw.get("statement", "")),
        negative=str(raw["negative"]) if raw.get("negative") else None,
        required=required,
        points_max=0 if required else points,
        scoring=scoring,  # type: ignore[arg-type]
        options=tuple(options),
        evidence=evidence,
        blanks=blanks,
        instructions=str(raw.get("instructions") or ""),
        signer=str(raw.get("signer") or "担当者"),
        scale_note=raw.get("scale_note"),
        bullets=tuple(str(b) for b in raw.get("bullets") or []),
        report=str(raw.get("report") or ""),
        choice_prompt=str(raw.get("choice_prompt") or ""),
        sign_note=str(raw.get("sign_note") or ""),
        url_path=bool(raw.get("url_path")),
    )


def _declaration(raw: dict[str, Any], where: str) -> Declaration:
    options = tuple(
        Option(key=str(o["key"]), text=str(o.get("text", "")), role=o.get("role", "main")) for o in _need(raw, "options", where)
    )
    return Declaration(
        id=str(_need(raw, "id", where)),
        title=str(raw.get("title", "")),
        options=options,
        requires_document=tuple(str(x) for x in raw.get("requires_document", [])),
        notes=tuple(str(n) for n in raw.get("notes") or []),
    )


def _script(raw: dict[str, Any]) -> Literal["any", "latin"]:
    return "latin" if raw.get("script") == "latin" else "any"


def _cover_field(raw: dict[str, Any]) -> CoverField:
    return CoverField(
        key=str(raw["key"]),
        label=str(raw["label"]),
        prefix=str(raw.get("prefix") or ""),
        suffix=str(raw.get("suffix") or ""),
        sealed=bool(raw.get("sealed")),
        script=_script(raw),
        pattern=str(raw["pattern"]) if raw.get("pattern") else None,
    )


def _texts(raw_items: dict[str, Any]) -> FormTexts:
    """The items file's fixed texts beyond items and declarations: cover, answer-sheet note, closing, contacts."""
    cover = dict(raw_items.get("cover") or {})
    office = cover.get("office_use") or {}
    contacts = tuple(
        Contact(
            id=str(c["id"]),
            title=str(c.get("title") or ""),
            intro=str(c.get("intro") or ""),
            date_line=str(c.get("date_line") or ""),
            fields=tuple(
                ContactField(
                    key=str(f["key"]),
                    label=str(f["label"]),
                    prefix=str(f.get("prefix") or ""),
                    note=str(f.get("note") or ""),
                    sealed=bool(f.get("sealed")),
                    script=_script(f),
                    pattern=str(f["pattern"]) if f.get("pattern") else None,
                )
                for f in c.get("fields", [])
            ),
        )
        for c in raw_items.get("contacts", [])
    )
    return FormTexts(
        cover=CoverTexts(
            title=str(cover.get("title") or ""),
            intro=str(cover.get("intro") or ""),
            addressee=tuple(str(line) for line in cover.get("addressee") or []),
            address_prefix=str(cover.get("address_prefix") or ""),
            user_count_note=str(cover.get("user_count_note") or ""),
            office_header=str(office.get("header") or ""),
            office_cells=tuple(str(c) for c in office.get("cells") or []),
        ),
        answer_sheet_note=str(raw_items.get("answer_sheet_note") or ""),
        closing_text=str(raw_items.get("closing_text") or ""),
        contacts=contacts,
    )


def _bbox(value: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise FormDefinitionError(f"{where}: bbox must be [x0, y0, x1, y1], got {value!r}")
    x0, y0, x1, y1 = (float(v) for v in value)
    if x1 <= x0 or y1 <= y0:
        raise FormDefinitionError(f"{where}: bbox {value!r} is empty or inverted")
    return (x0, y0, x1, y1)


def _page(raw: dict[str, Any], where: str) -> PageLayout:
    width, height = (float(v) for v in _need(raw, "size", where))
    boxes = tuple(
        BoxLayout(
            owner=str(b["owner"]),
            option=str(b["option"]),
            bbox=_bbox(b["bbox"], where),
            shape=b.get("shape", "box"),
            located=b.get("located", True) is not False,
        )
        for b in raw.get("boxes") or []
    )
    fields = tuple(
        FieldLayout(
            name=str(f["name"]), owner=f.get("owner"), kind=f["kind"], bbox=_bbox(f["bbox"], where), located=f.get("located", True) is not False
        )
        for f in raw.get("fields") or []
    )
    unlocated = tuple(b for b in boxes if not b.located) + tuple(f for f in fields if not f.located)
    return PageLayout(
        number=int(_need(raw, "number", where)),
        role=raw.get("role", "answer"),
        width_pt=width,
        height_pt=height,
        code=raw.get("code"),
        anchors=tuple(_bbox(a, where) for a in raw.get("anchors") or []),
        boxes=tuple(b for b in boxes if b.located),
        fields=tuple(f for f in fields if f.located),
        item_ids=tuple(str(i) for i in raw.get("items") or []),
        unlocated=unlocated,
    )


def _latin_fields(cover_fields: tuple[CoverField, ...], contacts: tuple[Contact, ...]) -> frozenset[str]:
    """Names of the fields the items file marks `script: latin` (cover fields are the applicant's)."""
    names = {f"applicant.{c.key}" for c in cover_fields if c.script == "latin"}
    for contact in contacts:
        names.update(f"{contact.id}.{f.key}" for f in contact.fields if f.script == "latin")
    return frozenset(names)


def _with_scripts(pages: tuple[PageLayout, ...], latin: frozenset[str]) -> tuple[PageLayout, ...]:
    """The layout's fields with the script the items file gives them (the layout knows places only)."""
    return tuple(
        replace(page, fields=tuple(replace(f, script="latin") if f.name in latin else f for f in page.fields)) for page in pages
    )


def _field_patterns(
    raw_items: dict[str, Any], cover_fields: tuple[CoverField, ...], contacts: tuple[Contact, ...], where: str
) -> tuple[dict[str, FieldPattern], dict[str, FieldPattern]]:
    """(pattern by field name, pattern by layout kind) from the items file's `field_patterns` and `pattern_by_kind`.

    Raises FormDefinitionError naming the file and key when a pattern does not compile, lacks
    its regex or label, or a field or kind names a pattern that is not defined.
    """
    raw = raw_items.get("field_patterns") or {}
    if not isinstance(raw, dict):
        raise FormDefinitionError(f"{where}: field_patterns must map a pattern name to {{label, regex}}")
    patterns: dict[str, FieldPattern] = {}
    for name, spec in raw.items():
        key = f"{where}: field_patterns.{name}"
        if not isinstance(spec, dict) or not isinstance(spec.get("regex"), str) or not spec.get("label"):
            raise FormDefinitionError(f"{key}: needs a `regex` (a string) and a `label`")
        try:
            re.compile(spec["regex"])
        except re.error as exc:
            raise FormDefinitionError(f"{key}.regex: does not compile: {exc}") from exc
        patterns[str(name)] = FieldPattern(str(name), spec["regex"], str(spec["label"]))

    def known(name: str, key: str) -> FieldPattern:
        if name not in patterns:
            raise FormDefinitionError(f"{where}: {key}: pattern '{name}' is not in field_patterns ({', '.join(sorted(patterns)) or 'none'})")
        return patterns[name]

    by_name = {f"applicant.{c.key}": known(c.pattern, f"cover_fields {c.key}.pattern") for c in cover_fields if c.pattern}
    for contact in contacts:
        for f in contact.fields:
            if f.pattern:
                by_name[f"{contact.id}.{f.key}"] = known(f.pattern, f"contacts {contact.id}.{f.key}.pattern")
    by_kind = {str(kind): known(str(name), f"pattern_by_kind.{kind}") for kind, name in (raw_items.get("pattern_by_kind") or {}).items()}
    return by_name, by_kind


def _with_patterns(pages: tuple[PageLayout, ...], patterns: tuple[dict[str, FieldPattern], dict[str, FieldPattern]]) -> tuple[PageLayout, ...]:
    """The layout's fields with the pattern the items file gives them: by field name first, else by kind."""
    by_name, by_kind = patterns
    return tuple(
        replace(page, fields=tuple(replace(f, pattern=by_name.get(f.name) or by_kind.get(f.kind)) for f in page.fields)) for page in pages
    )


def check_form(form: FormDef, where: str) -> None:
    """Cross-check a loaded form: ids unique, totals agree with the rule, layout names known."""
    ids = [it.id for it in form.items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise FormDefinitionError(f"{where}: duplicate item ids {dupes}")
    required = sum(1 for it in form.items if it.required)
    if required != form.rule.required_total:
        raise FormDefinitionError(f"{where}: rule.required_total is {form.rule.required_total} but the items have {required} 必須 items")
    points = sum(it.points_max for it in form.items)
    if points != form.rule.points_max:
        raise FormDefinitionError(f"{where}: rule.points_max is {form.rule.points_max} but the items' points add up to {points}")
    for item_id in form.rule.fail_at_zero:
        if item_id not in ids:
            raise FormDefinitionError(f"{where}: rule.fail_at_zero names unknown item {item_id}")
    options = {it.id: {o.key for o in it.options} for it in form.items}
    options.update({d.id: {o.key for o in d.options} for d in form.declarations})
    for page in form.pages:
        for box in page.boxes + tuple(b for b in page.unlocated if isinstance(b, BoxLayout)):
            if box.owner not in options:
                raise FormDefinitionError(f"{where}: layout page {page.number} has a box for unknown item '{box.owner}'")
            if box.option not in options[box.owner]:
                raise FormDefinitionError(f"{where}: layout page {page.number} box {box.owner}/{box.option}: no such option")
    if form.pages:
        placed = {(b.owner, b.option) for p in form.pages for b in p.boxes + p.unlocated if isinstance(b, BoxLayout)}
        unplaced = [f"{owner}/{key}" for owner, keys in options.items() for key in sorted(keys) if (owner, key) not in placed]
        if unplaced:
            raise FormDefinitionError(f"{where}: layout has no box for {', '.join(unplaced[:10])}")
