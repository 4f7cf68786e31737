"""layout.yaml as data: build it from drawn pages, write it atomically, compare two layouts."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from pipeline.form.printing.sheet import PageRecord
from pipeline.model.records import BoxLayout, FieldLayout


def box_entry(b: BoxLayout) -> dict[str, Any]:
    """A box as layout.yaml writes it."""
    return {"owner": b.owner, "option": b.option, "bbox": list(b.bbox), "shape": b.shape}


def field_entry(f: FieldLayout) -> dict[str, Any]:
    """A field as layout.yaml writes it (its script comes from the items file when the form loads)."""
    return {"name": f.name, "owner": f.owner, "kind": f.kind, "bbox": list(f.bbox)}


def layout_dict(form_name: str, printing: str, pages: Iterable[PageRecord], source: str | None = None) -> dict[str, Any]:
    """layout.yaml's content (forms/README.md): per page its size, code, anchors, items, boxes, fields."""
    out: dict[str, Any] = {"form": form_name, "printing": printing}
    if source:
        out["source"] = source
    out["pages"] = [
        {
            "number": p.number,
            "role": p.role,
            "size": [round(p.size[0], 2), round(p.size[1], 2)],
            "code": p.code,
            "anchors": [list(a) for a in p.anchors],
            "items": list(p.items),
            "boxes": [box_entry(b) for b in p.boxes],
            "fields": [field_entry(f) for f in p.fields],
        }
        for p in pages
    ]
    return out


class _Dumper(yaml.SafeDumper):
    """Block style for pages, flow style for the small records (one box per line)."""


def _flow_list(dumper: yaml.SafeDumper, data: list[Any]) -> Any:
    flow = all(not isinstance(v, (dict, list)) for v in data) or all(isinstance(v, list) for v in data) and len(data) <= 4
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _flow_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> Any:
    flow = "bbox" in data
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(list, _flow_list)
_Dumper.add_representer(dict, _flow_dict)


def dump_layout(layout: dict[str, Any], header: str = "") -> str:
    text = yaml.dump(layout, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=200)
    return header + text


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write to a temporary name in the same folder, then rename over `path`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compare_layouts(truth: dict[str, Any], found: dict[str, Any], tol_pt: float) -> list[str]:
    """Differences between two layouts (as data), in words; [] when they agree within tol_pt.

    Pages are compared by number: role, code, items, anchors; boxes by (owner, option) with
    their shape; fields by name with their kind. Order within a page does not matter.
    """
    out: list[str] = []
    tp, fp = truth.get("pages") or [], found.get("pages") or []
    if len(tp) != len(fp):
        out.append(f"{len(tp)} pages vs {len(fp)}")

    def far(a: list[float], b: list[float]) -> bool:
        return max(abs(x - y) for x, y in zip(a, b, strict=True)) > tol_pt

    for a, b in zip(tp, fp, strict=False):
        n = a["number"]
        for key in ("role", "code", "items"):
            if a.get(key) != b.get(key):
                out.append(f"page {n} {key}: {a.get(key)} vs {b.get(key)}")
        anchors_a, anchors_b = sorted(a.get("anchors") or []), sorted(b.get("anchors") or [])
        if len(anchors_a) != len(anchors_b) or any(far(x, y) for x, y in zip(anchors_a, anchors_b, strict=False)):
            out.append(f"page {n} anchors: {anchors_a} vs {anchors_b}")
        for what, key_of, extra in (
            ("box", lambda r: f"{r['owner']}/{r['option']}", "shape"),
            ("field", lambda r: r["name"], "kind"),
        ):
            ra = {key_of(r): r for r in a.get(what + "es" if what == "box" else "fields") or []}
            rb = {key_of(r): r for r in b.get(what + "es" if what == "box" else "fields") or []}
            for k in sorted(ra.keys() - rb.keys()):
                out.append(f"page {n} {what} {k}: missing")
            for k in sorted(rb.keys() - ra.keys()):
                out.append(f"page {n} {what} {k}: unexpected")
            for k in sorted(ra.keys() & rb.keys()):
                if ra[k][extra] != rb[k][extra] or far(ra[k]["bbox"], rb[k]["bbox"]):
                    out.append(f"page {n} {what} {k}: {ra[k][extra]} {ra[k]['bbox']} vs {rb[k][extra]} {rb[k]['bbox']}")
    return out
