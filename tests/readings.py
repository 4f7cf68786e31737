"""Hand-built readings of a synthetic applicant, for the rules' unit tests."""

from __future__ import annotations

from dataclasses import replace

from pipeline.model.records import Attachment, FieldReading, FormDef, MarkReading, PageRef

PAGE = PageRef("form.pdf", 2)


def mark(owner: str, option: str, state: str = "checked") -> MarkReading:
    return MarkReading(owner, option, state, 0.5 if state == "checked" else 0.0, PAGE, (10, 10, 20, 20), "scan")  # type: ignore[arg-type]


def field(name: str, value: str | None = "記入あり", status: str = "read", kind: str = "text") -> FieldReading:
    return FieldReading(name, name.split(".")[0], kind, value, status, 0.9, PAGE, (10, 10, 100, 20))  # type: ignore[arg-type]


def perfect(form: FormDef) -> tuple[list[MarkReading], list[FieldReading], list[Attachment]]:
    """An applicant who answers yes everywhere with all evidence: marks, fields and documents."""
    marks, fields, attachments = [], [], []
    for item in form.items:
        for option in item.options:
            if option.key == "yes":
                marks.append(mark(item.id, "yes"))
            elif option.key == "no":
                marks.append(mark(item.id, "no", "empty"))
        if item.choices:
            best = max(item.choices, key=lambda c: c.points or 0)
            for c in item.choices:
                marks.append(mark(item.id, c.key, "checked" if c is best else "empty"))
        for blank in item.blanks:
            fields.append(field(f"{item.id}.{blank.name}"))
        if "sign" in item.evidence:
            fields.append(field(f"{item.id}.signature", None, "handwritten", "signature"))
        if "seal" in item.evidence:
            fields.append(field(f"{item.id}.seal", None, "handwritten", "seal"))
        if any(e in ("url", "doc|url") for e in item.evidence):
            fields.append(field(f"{item.id}.url_top", "http://www.example.jp/", kind="url"))
            fields.append(field(f"{item.id}.url_target", "http://www.example.jp/policy.html", kind="url"))
        if item.needs_document:
            n = len(attachments) + 1
            attachments.append(Attachment(f"att-{n:02d}", (item.id,), "read", item.id, (PageRef("docs.pdf", n),)))
    for decl in form.declarations:
        main = [o for o in decl.options if o.role == "main"]
        marks.append(mark(decl.id, main[0].key))
        for o in main[1:]:
            marks.append(mark(decl.id, o.key, "empty"))
        for o in decl.options:  # the sub-options (already reported, attached): read, and empty
            if o.role != "main":
                marks.append(mark(decl.id, o.key, "empty"))
    for cover in form.cover_fields:
        fields.append(field(f"applicant.{cover.key}", "株式会社テスト"))
    return marks, fields, attachments


def set_mark(marks: list[MarkReading], owner: str, option: str, state: str) -> list[MarkReading]:
    out = [m for m in marks if not (m.owner == owner and m.option == option)]
    return out + [mark(owner, option, state)]


def set_field(fields: list[FieldReading], name: str, value: str | None, status: str) -> list[FieldReading]:
    return [replace(f, value=value, status=status) if f.name == name else f for f in fields]  # type: ignore[arg-type]


def decide(form: FormDef, marks, fields, attachments, corrections=None, pages=None):  # noqa: ANN001, ANN201 - test helper
    """apply_rules on readings, every form page found unless `pages` says otherwise (the rules' tests' one call)."""
    from pipeline.rules.apply import apply_rules
    from pipeline.rules.review_check import Corrections

    pages = pages if pages is not None else {p.number: PageRef("form.pdf", p.number) for p in form.pages} or {1: PageRef("form.pdf", 1)}
    return apply_rules(
        form,
        submission="case",
        sources=(),
        marks=marks,
        fields=fields,
        attachments=attachments,
        dropped_pages=(),
        reading_flags=(),
        form_pages=pages,
        corrections=corrections or Corrections(),
        version="test",
    )
