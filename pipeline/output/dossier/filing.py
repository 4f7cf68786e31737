"""Filing the attachments behind the items they belong to: their order, header bands and outline groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.output.dossier.text import clean, dossier_range, id_key, item_title, pagerefs_text
from pipeline.output.dossier.wording import LABEL_STATUS
from pipeline.output.merge import FiledAttachment, OutlineGroup, PagePlan, SeparatorPage, SourcePage


@dataclass(slots=True)
class Filed:
    """One attachment of result.json where the dossier files it."""

    att: dict[str, Any]
    item: str | None  # the item it is filed behind; None = unlabelled / unknown label, at the end
    pages: list[SourcePage]


def resolve_source(inbox_entry: Path, file: str) -> Path:
    """The original file behind a page reference (the entry itself when it is a file)."""
    if inbox_entry.is_file():
        return inbox_entry
    base = inbox_entry.resolve()
    path = (base / file).resolve()
    if not path.exists():
        # The name came through text.clean, which shows control characters as [U+XXXX]: the
        # original is the file whose name, shown the same way, is this one.
        path = next((q.resolve() for q in sorted(base.rglob("*")) if clean(str(q.relative_to(base))) == file), path)
    if base not in path.parents:
        return base / "__outside_the_submission__" / Path(file).name
    return path


def file_attachments(result: dict[str, Any], inbox_entry: Path) -> tuple[list[Filed], dict[str, list[str]]]:
    """Attachments in dossier order, and for each item the attachments it cites."""
    items = result.get("items") or {}
    order = sorted(items, key=id_key)
    atts = {a["id"]: a for a in result.get("attachments") or []}
    cites: dict[str, list[str]] = {}
    for item_id in order:
        ids: list[str] = []
        for ev in items[item_id].get("evidence") or []:
            if ev.get("kind") == "document":
                ids += [a for a in ev.get("attachments") or [] if a in atts]
        ids += [a_id for a_id, a in atts.items() if item_id in (a.get("labels") or [])]
        if ids:
            cites[item_id] = list(dict.fromkeys(ids))
    filed: list[Filed] = []
    placed: set[str] = set()

    def pages_of(att: dict[str, Any]) -> list[SourcePage]:
        return [
            SourcePage(resolve_source(inbox_entry, str(p["file"])), int(p["page"]), f"{p['file']} p.{p['page']}")
            for p in att.get("pages") or []
        ]

    for item_id in order:
        for a_id in cites.get(item_id, []):
            if a_id not in placed:
                placed.add(a_id)
                filed.append(Filed(atts[a_id], item_id, pages_of(atts[a_id])))
    for a_id, att in atts.items():
        if a_id not in placed:
            filed.append(Filed(att, None, pages_of(att)))
    return filed, cites


def separators(items: dict[str, Any], filed: Sequence[Filed], out_dir: Path, plans: dict[str, PagePlan]) -> list[FiledAttachment]:
    """Each filed attachment with what introduces it in the dossier (the header band on its first page)."""
    out: list[FiledAttachment] = []
    for f in filed:
        att = f.att
        a_id = str(att["id"])
        plan = plans.get(a_id)
        labels = att.get("labels") or []
        also = [i for i in labels if i != f.item]
        if f.item is not None:
            sub = f"審査項目 {f.item}　{item_title(items.get(f.item, {}), 400)}"
            note = ""
        elif labels or att.get("label_text"):
            sub = "右肩表示が審査項目として認識できない資料"
            note = (
                "右肩表示を項目番号として確定できませんでした。該当する項目は review.yaml の "
                f"attachments: {a_id}: {{labels: [...]}} で指定できます。"
            )
        else:
            sub = "右肩表示のない資料"
            note = f"右肩に項目番号の記載が見つかりませんでした。review.yaml の attachments: {a_id} で項目を指定できます。"
        rows = [
            ("右肩表示", str(att.get("label_text") or "（なし）")),
            ("読取結果", f"{', '.join(labels) or '—'}（{LABEL_STATUS.get(att.get('label_status', ''), '—')}）"),
            ("元ファイル", pagerefs_text(att.get("pages") or []) or "（ページなし）"),
            ("本調書", f"{dossier_range(plan)}（{len(f.pages)} ページ）"),
        ]
        if also:
            rows.append(("他の該当項目", ", ".join(also)))
        crop = None
        if att.get("crop"):
            c = (out_dir / str(att["crop"])).resolve()
            crop = c if c.is_file() else None
        title = f"{a_id}　{pagerefs_text(att.get('pages') or [])}"
        out.append(FiledAttachment(a_id, title, SeparatorPage(f"添付資料　{a_id}", sub, tuple(rows), note, crop), tuple(f.pages)))
    return out


def outline_groups(result: dict[str, Any], filed: list[Filed], cites: dict[str, list[str]]) -> list[OutlineGroup]:
    """The bookmarks under 添付資料: one per item citing attachments, then the unfiled ones."""
    items = result.get("items") or {}
    where = {str(f.att["id"]): f.item for f in filed}
    source = {str(f.att["id"]): pagerefs_text(f.att.get("pages") or []) for f in filed}
    groups = []
    for item_id in sorted(cites, key=id_key):
        keys = tuple(cites[item_id])
        titles = tuple(f"{k}　{source.get(k, '')}" + ("" if where.get(k) == item_id else f"（{where.get(k)} に綴込み）") for k in keys)
        groups.append(OutlineGroup(f"{item_id}　{item_title(items.get(item_id, {}), 30)}", keys, titles))
    rest = tuple(str(f.att["id"]) for f in filed if f.item is None)
    if rest:
        groups.append(OutlineGroup("右肩表示なし・不明の資料", rest))
    return groups
