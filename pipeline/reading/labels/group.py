"""Non-form pages, each with its label read, grouped into attachments in submission order."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.model.records import Attachment, PageRef
from pipeline.reading.labels.parse import MISSING, LabelParse
from pipeline.reading.labels.records import LabelledPage, LabelRead


def group_attachments(pages: Sequence[LabelledPage], *, blank_separates: bool = True) -> tuple[list[Attachment], list[PageRef]]:
    """Group non-form pages (in submission order) into attachments; returns (attachments, blank pages).

    A page with a label (read or uncertain) starts a document; an unlabelled page continues the
    document before it, as long as it directly follows it in the same file. A new file, a form
    page in between (a gap in page numbers) or, with ``blank_separates``, a blank separator starts
    a new, unlabelled document. A labelled page repeating the current document's label continues
    it (labels written on every page). Blank pages belong to no attachment and are returned apart.
    Attachment ids run att-01, att-02, … in order.
    """
    docs: list[tuple[LabelRead | None, list[PageRef]]] = []
    blanks: list[PageRef] = []
    prev: PageRef | None = None
    broken = True
    for p in pages:
        follows = prev is not None and p.ref.file == prev.file and p.ref.page == prev.page + 1
        prev = p.ref
        if p.blank:
            blanks.append(p.ref)
            broken = broken or blank_separates or not follows
            continue
        parse = p.label.parse if p.label else MISSING
        cont = docs and follows and not broken
        if parse.status == "missing" and cont:
            docs[-1][1].append(p.ref)
        elif cont and parse.status == "read" and docs[-1][0] is not None and _same(docs[-1][0].parse, parse):
            docs[-1][1].append(p.ref)
        else:
            docs.append((p.label if parse.status != "missing" else None, [p.ref]))
        broken = False
    out = []
    for k, (read, refs) in enumerate(docs, start=1):
        parse = read.parse if read else MISSING
        out.append(
            Attachment(
                id=f"att-{k:02d}",
                labels=parse.ids,
                label_status=parse.status,
                label_text=read.text if read else None,
                pages=tuple(refs),
                unknown_labels=parse.unknown,
                candidates=parse.candidates,
            )
        )
    return out, blanks


def _same(a: LabelParse, b: LabelParse) -> bool:
    """Whether two reads name the same ids: a labelled page repeating its document's label."""
    return a.status == "read" and b.status == "read" and (a.ids, a.unknown) == (b.ids, b.unknown) and bool(a.ids or a.unknown)
