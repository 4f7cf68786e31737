"""The form's item data (forms/renewal/items.yaml) as plain records: ids, option keys, evidence.

Only data is read here; it gives the truth its vocabulary (option keys, evidence rules) and lets
the seed parser tell a negative statement from ordinary text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from samples.independent.paths import FORM_YAML, ITEMS_YAML


@dataclass(frozen=True)
class Item:
    id: str
    required: bool
    points: int
    scoring: str
    statement: str
    negative: str | None
    evidence: tuple[str, ...]
    url_path: bool
    blanks: tuple[tuple[str, str], ...]  # (name, label)
    choices: tuple[tuple[str, str], ...] = ()  # (key, text)

    @property
    def needs_doc(self) -> bool:
        return "doc" in self.evidence

    @property
    def doc_or_url(self) -> bool:
        return "doc|url" in self.evidence

    @property
    def needs_sign(self) -> bool:
        return "sign" in self.evidence


@dataclass(frozen=True)
class Declaration:
    id: str
    options: tuple[tuple[str, str, str], ...]  # (key, role, text)


@dataclass(frozen=True)
class ItemsData:
    items: dict[str, Item]
    declarations: dict[str, Declaration]
    cover_fields: tuple[tuple[str, str], ...]
    contacts: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default=())


@lru_cache(maxsize=1)
def load() -> ItemsData:
    raw = yaml.safe_load(ITEMS_YAML.read_text(encoding="utf-8"))
    items: dict[str, Item] = {}
    for it in raw["items"]:
        items[str(it["id"])] = Item(
            id=str(it["id"]),
            required=bool(it["required"]),
            points=int(it["points"]),
            scoring=str(it["scoring"]),
            statement=str(it["statement"]),
            negative=it.get("negative"),
            evidence=tuple(it["evidence"]),
            url_path=bool(it["url_path"]),
            blanks=tuple((b["name"], b["label"]) for b in it.get("blanks") or []),
            choices=tuple((c["key"], c["text"]) for c in it.get("choices") or []),
        )
    decls = {
        d["id"]: Declaration(d["id"], tuple((o["key"], o["role"], o["text"]) for o in d["options"]))
        for d in raw["declarations"]
    }
    cover = tuple((f["key"], f["label"]) for f in raw["cover_fields"])
    contacts = tuple((c["id"], tuple((f["key"], f["label"]) for f in c["fields"])) for c in raw["contacts"])
    return ItemsData(items, decls, cover, contacts)


def rule() -> dict:
    return dict(yaml.safe_load(FORM_YAML.read_text(encoding="utf-8"))["rule"])
