"""Small text helpers of the dossier: XML-safe text, item-id order, shortening, page ranges and references."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline.model.text_safety import visible_text
from pipeline.output.merge import PagePlan

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def id_key(item_id: str) -> tuple[Any, ...]:
    """Sort key of an item id: 1-2-10 after 1-2-9."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[-_.]", str(item_id)))


def clean(value: Any) -> Any:
    """Applicant text made safe to show, recursively: control and bidirectional-override characters
    shown as [U+XXXX] (model.text_safety.visible_text: "\u202egnp.exe" must not read "exe.png"),
    then what XML cannot hold dropped. The one door of result.json's values into the dossier and
    the certificate (facts.gather_facts, certificate_doc.certificate_context)."""
    if isinstance(value, str):
        return _XML_BAD.sub("", visible_text(value, multiline=True))
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def short(text: Any, limit: int) -> str:
    """Whitespace collapsed, cut to `limit` characters with an ellipsis."""
    s = " ".join(str(text or "").split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def ranges(pages: Sequence[int]) -> str:
    """[5, 6, 7, 9] → '5–7, 9'."""
    runs: list[list[int]] = []
    for p in sorted(set(pages)):
        if runs and runs[-1][1] == p - 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"{a}–{b}" if a != b else f"{a}" for a, b in runs)


def pagerefs_text(refs: Sequence[dict[str, Any]]) -> str:
    """result.json page references as 'scan.pdf p.3–5、form.pdf p.2'."""
    by_file: dict[str, list[int]] = {}
    for ref in refs:
        if ref and ref.get("file") is not None:
            by_file.setdefault(str(ref["file"]), []).append(int(ref.get("page") or 0))
    return "、".join(f"{f} p.{ranges(p)}" for f, p in by_file.items())


def dossier_range(plan: PagePlan | None) -> str:
    """The dossier pages an attachment occupies ('p.12–14'), its separator's when it has no page."""
    if plan is None:
        return ""
    if plan.first is None:
        return f"p.{plan.separator}"
    return f"p.{plan.first}" if plan.first == plan.last else f"p.{plan.first}–{plan.last}"


def item_title(item: dict[str, Any], limit: int = 60) -> str:
    """An item's title from result.json, shortened."""
    return short(item.get("title") or item.get("statement") or "", limit)
