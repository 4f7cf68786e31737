"""A page the readers did not take for the form's, but whose place in its file says it may be: never an attachment's evidence unasked.

A scanned form filled in Word moves its content, and a page of it can fail registration; it then
went on to attachments, and its top-right corner — where the form's own text may print an item
id (「右肩に「2-1-1」と記入して下さい」) — was read as a label: the form page stood as the document
of 2-1-1, silently (seed 84500-00 p4). Where such a page sits says what it probably is:

- between two form pages of one file, when a form page numbered between theirs is missing,
- right after the last form page of a file (or right before the first), in the place of a form
  page that is missing.

Such a page keeps its place among the attachments (it may really be one, put in the pile), but
its label is only a candidate (`uncertain`): an item it names gets `unconfirmed_document`, never
`present`, and a `missing_form_page` warning names the page and the form pages it may be.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from pipeline.model.records import Flag, PageRef
from pipeline.reading.labels import LabelledPage, LabelParse, LabelRead


def place_of_form_pages(
    pages: Sequence[LabelledPage], form_pages: Mapping[int, PageRef], numbers: Collection[int]
) -> tuple[list[LabelledPage], list[Flag]]:
    """The non-form pages with those that may be missing form pages made label candidates, and a flag for each."""
    by_file: dict[str, list[tuple[int, int]]] = {}  # file → (file page, form page number), in file order
    for number, ref in form_pages.items():
        by_file.setdefault(ref.file, []).append((ref.page, number))
    for found in by_file.values():
        found.sort()
    missing = {n for n in numbers if n not in form_pages}
    out: list[LabelledPage] = []
    flags: list[Flag] = []
    for page in pages:
        could_be = _could_be(page.ref, by_file.get(page.ref.file, []), missing)
        if page.blank or not could_be:
            out.append(page)
            continue
        out.append(replace(page, label=_only_candidate(page.label)))
        flags.append(Flag("missing_form_page", "warning", None, _message(page.ref, could_be), (page.ref,)))
    return out, flags


def _could_be(ref: PageRef, found: list[tuple[int, int]], missing: set[int]) -> list[int]:
    """The missing form page numbers this page's place in its file allows (empty: an attachment as far as its place tells)."""
    if not found or not missing:
        return []
    before = [(p, n) for p, n in found if p < ref.page]
    after = [(p, n) for p, n in found if p > ref.page]
    if before and after:
        low, high = before[-1][1], after[0][1]
        return [n for n in range(low + 1, high) if n in missing]
    if before:  # after the file's last form page: only in the place of the pages that would follow it
        page, number = before[-1]
        guess = number + (ref.page - page)
        return [guess] if guess in missing and _run_missing(number + 1, guess, missing) else []
    page, number = after[0]
    guess = number - (page - ref.page)
    return [guess] if guess in missing and _run_missing(guess, number - 1, missing) else []


def _run_missing(first: int, last: int, missing: set[int]) -> bool:
    return all(n in missing for n in range(first, last + 1))


def _only_candidate(label: LabelRead | None) -> LabelRead | None:
    """The page's label made a candidate: what it names may be the document, not that it is (no label stays none)."""
    if label is None or label.parse.status == "missing":
        return label
    note = "様式の頁の位置にある頁のため、ラベルは確定していません"
    parse = LabelParse((), label.parse.unknown, "uncertain", label.parse.ids + label.parse.candidates, note)
    return replace(label, parse=parse)


def _message(ref: PageRef, could_be: list[int]) -> str:
    numbers = "、".join(f"p{n}" for n in could_be)
    return (
        f"{ref.file} p{ref.page}: 様式の頁の並びの中にありますが、様式の頁として読み取れませんでした（様式の {numbers} かもしれません）。"
        "添付書類としても確定していません。頁を目視で確認してください"
    )
