"""Load and cross-check forms/<name>/ into a FormDef; the only reader of form files."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from pipeline.model.errors import FormDefinitionError
from pipeline.model.records import (
    Blank,
    BoxLayout,
    CoverField,
    Declaration,
    FieldLayout,
    FormDef,
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


def load_form(folder: Path | str) -> FormDef:
    """Load forms/<name>/ (form.yaml, its items file, layout.yaml if present) and check it.

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
    cover_fields = tuple(CoverField(key=str(c["key"]), label=str(c["label"])) for c in raw_items.get("cover_fields", []))

    rule_raw = _need(form, "rule", where)
    rule = PassRule(
        required_total=int(_need(rule_raw, "required_total", where + " rule")),
        points_max=int(_need(rule_raw, "points_max", where + " rule")),
        threshold=int(_need(rule_raw, "threshold", where + " rule")),
        fail_at_zero=tuple(str(x) for x in rule_raw.get("fail_at_zero", [])),
    )

    layout_path = folder / "layout.yaml"
    pages: tuple[PageLayout, ...] = ()
    if layout_path.exists():
        pages = tuple(_page(p, f"{layout_path} page {p.get('number')}") for p in _need(_read_yaml(layout_path), "pages", str(layout_path)))
        pages = _with_scripts(pages, _latin_fields(raw_items))

    formdef = FormDef(
        name=folder.resolve().name,
        title=str(_need(form, "title", where)),
        kind=form.get("kind", "renewal"),
        rule=rule,
        items=items,
        declarations=declarations,
        cover_fields=cover_fields,
        pages=pages,
        fingerprint=_fingerprint([form_path, items_path, layout_path]),
        folder=str(folder.resolve()),
        sections=tuple((str(sec["id"]), str(sec.get("title", ""))) for sec in raw_items.get("sections") or []),
    )
    check_form(formdef, where)
    return formdef


def load_items_raw(folder: Path | str) -> dict[str, Any]:
    """The items file as plain data, for the printers that need its fixed texts (cover, contacts)."""
    folder = Path(folder)
    form = _read_yaml(folder / "form.yaml")
    data: dict[str, Any] = _read_yaml((folder / str(form.get("items", "items.yaml"))).resolve())
    return data


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
        BoxLayout(owner=str(b["owner"]), option=str(b["option"]), bbox=_bbox(b["bbox"], where), shape=b.get("shape", "box"))
        for b in raw.get("boxes") or []
    )
    fields = tuple(
        FieldLayout(name=str(f["name"]), owner=f.get("owner"), kind=f["kind"], bbox=_bbox(f["bbox"], where))
        for f in raw.get("fields") or []
    )
    return PageLayout(
        number=int(_need(raw, "number", where)),
        role=raw.get("role", "answer"),
        width_pt=width,
        height_pt=height,
        code=raw.get("code"),
        anchors=tuple(_bbox(a, where) for a in raw.get("anchors") or []),
        boxes=boxes,
        fields=fields,
        item_ids=tuple(str(i) for i in raw.get("items") or []),
    )


def _latin_fields(raw_items: dict[str, Any]) -> frozenset[str]:
    """Names of the fields the items file marks `script: latin` (cover fields are the applicant's)."""
    names = {f"applicant.{c['key']}" for c in raw_items.get("cover_fields", []) if c.get("script") == "latin"}
    for contact in raw_items.get("contacts", []):
        names.update(f"{contact['id']}.{f['key']}" for f in contact.get("fields", []) if f.get("script") == "latin")
    return frozenset(names)


def _with_scripts(pages: tuple[PageLayout, ...], latin: frozenset[str]) -> tuple[PageLayout, ...]:
    """The layout's fields with the script the items file gives them (the layout knows places only)."""
    return tuple(
        replace(page, fields=tuple(replace(f, script="latin") if f.name in latin else f for f in page.fields)) for page in pages
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
        for box in page.boxes:
            if box.owner not in options:
                raise FormDefinitionError(f"{where}: layout page {page.number} has a box for unknown item '{box.owner}'")
            if box.option not in options[box.owner]:
                raise FormDefinitionError(f"{where}: layout page {page.number} box {box.owner}/{box.option}: no such option")
    if form.pages:
        placed = {(b.owner, b.option) for p in form.pages for b in p.boxes}
        unplaced = [f"{owner}/{key}" for owner, keys in options.items() for key in sorted(keys) if (owner, key) not in placed]
        if unplaced:
            raise FormDefinitionError(f"{where}: layout has no box for {', '.join(unplaced[:10])}")
