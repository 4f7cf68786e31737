"""One submission end to end, as the list of its stages: sources → pages → form readings or labels → rules → outbox files."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pipeline import __version__
from pipeline.model.errors import PipelineError
from pipeline.model.records import FieldReading, Flag, FormDef, MarkReading, PageLayout, PageRef, SourceFile
from pipeline.output.result import to_json, write_json_atomic
from pipeline.reading import labels
from pipeline.reading.digital_page import prints_the_form, read_digital_page
from pipeline.reading.engines import Engines
from pipeline.reading.erased import settled_across_pages, unsure_where_erased
from pipeline.reading.identify import identify_text_page
from pipeline.reading.marks import unlocated_readings
from pipeline.reading.page_merge import merge_page_readings
from pipeline.reading.page_order import place_of_form_pages
from pipeline.reading.read_digital import DIGITAL_DPI, PageReading
from pipeline.reading.reflowed import read_reflowed
from pipeline.reading.scan import read_scan
from pipeline.rules.apply import apply_rules
from pipeline.rules.overrides import Attribution
from pipeline.rules.signoff import review_block
from pipeline.run.crops import FormPageImage, cut_missing_crops, link_mark_crops, save_field_crops, save_label_crops, save_page_images
from pipeline.run.forms import loaded_form
from pipeline.run.inbox import submission_name
from pipeline.run.review import checked_review, previous_overrides, review_sha256, write_blank_review
from pipeline.sources import ingest
from pipeline.sources.limits import Limits
from pipeline.sources.page import OpenedSource, Page

log = logging.getLogger(__name__)

# Scanned attachment pages are decoded at this resolution to find and read their label.
LABEL_DPI = 200
# Labels read aside (Engines.aside_pool) waiting at most: each holds its page's picture (A4 at
# LABEL_DPI, grey: 3.9 MB). A label read takes ~40 ms, the test that a page is not the form's ~70:
# the aside thread keeps up, this only bounds a submission of many such pages on a busy machine.
ASIDE_AT_MOST = 4

# A scanner's black-and-white mode erases faint pencil before any reader sees it (seed 85900: 12
# faint ticks, nothing left on the scan): said once per file, so that empty boxes are checked.
BILEVEL_MESSAGE = (
    "{file} p{page}: 白黒2値でスキャンされています。薄い鉛筆の印や記入は2値化で消えることがあるため、"
    "どの枠も空欄と読めた項目と空欄と読めた記入欄は要確認にしました。原本で確認してください（グレースケールでのスキャンを推奨します）"
)

# A filled copy of our fillable form: its AcroForm values by field name.
AcroValues = dict[str, str | bool | None]


@dataclass(slots=True)
class Collected:
    """What the pages of a submission gave, gathered as they stream past."""

    sources: list[SourceFile] = field(default_factory=list)
    marks: list[MarkReading] = field(default_factory=list)
    fields: list[FieldReading] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    form_pages: dict[int, PageRef] = field(default_factory=dict)
    other_pages: list[labels.LabelledPage] = field(default_factory=list)  # in submission order
    crops: dict[str, NDArray[np.uint8]] = field(default_factory=dict)
    page_images: dict[int, FormPageImage] = field(default_factory=dict)  # by form page, as the reader saw it
    # labels being read aside (Engines.aside_pool) while the next pages are read: (place in other_pages, the read, the page)
    later: list[tuple[int, Future[labels.LabelledPage], PageRef]] = field(default_factory=list)


def process_submission(
    entry: Path, form_dir: Path, out_dir: Path, *, debug: bool = False, engines: Engines | None = None
) -> dict[str, Any]:
    """Read one inbox entry and write outbox/<name>/result.json (and review.yaml once); returns the JSON dict.

    `engines`: the process's OCR engines and digit classifier (None: process_engines()).

    Raises:
        ReviewFileError: review.yaml has a problem; nothing in out_dir but review_errors.txt changed.
    """
    form = loaded_form(form_dir)  # the run's process loaded it before forking this worker
    out_dir.mkdir(parents=True, exist_ok=True)
    # Sources → pages: each form page read, every other page's label read.
    collected = read_submission(entry, form, engines)
    collected.marks = settled_across_pages(collected.marks, form)
    # Labels → documents, and the corners of those whose label could not be read.
    others, placed = place_of_form_pages(collected.other_pages, collected.form_pages, [p.number for p in form.pages])
    attachments, dropped = labels.group_attachments(others)
    # The reviewer's corrections, checked before any file is written: a bad review.yaml changes nothing.
    checked = checked_review(out_dir, form, [a.id for a in attachments])
    attachments = save_label_crops(entry, list(attachments), out_dir)
    fields = save_field_crops(collected.crops, collected.fields, out_dir)
    # Rules, with the reviewer's corrections, attributed.
    result = apply_rules(
        form,
        submission=submission_name(entry),
        sources=tuple(collected.sources),
        marks=collected.marks,
        fields=fields,
        attachments=attachments,
        dropped_pages=tuple(dropped),
        reading_flags=collected.flags + placed + missing_page_flags(form, collected.form_pages),
        form_pages=collected.form_pages,
        corrections=checked.corrections,
        attribution=Attribution.of(checked.corrections, previous_overrides(out_dir)),
        version=__version__,
    )
    # Who signed, and whether a pass gets its certificate (a reason in the result when not).
    block, no_certificate = review_block(checked.corrections, review_sha256(out_dir), result.score.decision)
    if no_certificate:
        result = replace(result, score=replace(result.score, reasons=(*result.score.reasons, no_certificate)))
    # The outbox: result.json, and review.yaml the first time.
    data = to_json(result)
    data["review"] = block
    link_mark_crops(data, collected.crops)
    threads = engines.field_threads(2) if engines is not None else 1
    data["page_images"] = save_page_images(collected.page_images, out_dir, engines.field_pool(threads) if engines is not None and threads > 1 else None)
    cut_missing_crops(data, collected.page_images, out_dir)
    write_json_atomic(out_dir / "result.json", data)
    if debug:  # the answer-sheet pages with what was read drawn over them, for tuning
        from pipeline.output.dossier.overlay import write_debug_overlays  # ~0.2 s of imports a run without --debug skips

        write_debug_overlays(data, out_dir)
    write_blank_review(out_dir, form, result.submission, [f"{f.code}: {f.message}" for f in result.flags], result.score.reasons)
    return data


@lru_cache(maxsize=1)
def process_engines() -> Engines:
    """The readers of this process (OCR engines, digit classifier): created once, each built on first use."""
    return Engines()


def read_submission(entry: Path, form: FormDef, engines: Engines | None = None) -> Collected:
    """Stream every page of every file of the entry once: form pages are read, the rest kept for labels."""
    engines = process_engines() if engines is None else engines
    limits = Limits()
    collected = Collected()
    try:
        _read_files(entry, form, engines, limits, collected)
    finally:
        _labels_read(collected)
    return collected


def _read_files(entry: Path, form: FormDef, engines: Engines, limits: Limits, collected: Collected) -> None:
    for path in ingest.scan_entry(entry, limits):
        rel = ingest.relative_name(entry, path)  # non-UTF-8 bytes shown as %XX
        with ingest.open_source(path, rel, limits) as opened:
            collected.sources.append(opened.source)
            collected.flags.extend(Flag("repaired_file", "warning", None, f"{rel}: {note}") for note in opened.source.notes)
            if opened.source.status == "error":
                collected.flags.append(
                    Flag(
                        "unreadable_file", "error", None, f"{rel}: {opened.source.error}", (PageRef(rel, 1),) if opened.source.pages else ()
                    )
                )
                continue
            acro = _acroform_values(opened, form, rel, collected.flags)
            done = _read_reflowed_form(opened, form, collected) if acro is None else set()
            for index, page in enumerate(opened.pages):
                if index in done:
                    continue
                try:
                    _read_page(page, form, acro, collected, engines)
                except PipelineError as exc:  # one bad page stays that page's problem
                    log.warning("%s p%d: %s", rel, page.ref.page, exc)
                    collected.flags.append(Flag("unreadable_file", "error", None, f"{rel} p{page.ref.page}: {exc}", (page.ref,)))
                except MemoryError:
                    raise  # the worker reports it and is replaced
                except Exception as exc:  # a reader's own fault: the page is reported, the other pages still read
                    message = page_fault_message(rel, page.ref.page, exc)
                    log.warning("%s", message)
                    log.debug("%s p%d", rel, page.ref.page, exc_info=True)  # the traceback, with -v
                    collected.flags.append(Flag("unreadable_file", "error", None, message, (page.ref,)))


def _labels_read(collected: Collected) -> None:
    """The labels read aside put in their pages' places; a label whose read failed is that page's flag, as when read in line.

    Also on the way out of a failed read: every label still read aside is waited for, none outlives its submission.
    """
    failed = set()
    for place, later, ref in collected.later:
        try:
            collected.other_pages[place] = later.result()
        except PipelineError as exc:  # one bad page stays that page's problem
            log.warning("%s p%d: %s", ref.file, ref.page, exc)
            collected.flags.append(Flag("unreadable_file", "error", None, f"{ref.file} p{ref.page}: {exc}", (ref,)))
            failed.add(place)
        except MemoryError:
            raise  # the worker reports it and is replaced
        except Exception as exc:  # a reader's own fault: the page is reported, the other pages still read
            message = page_fault_message(ref.file, ref.page, exc)
            log.warning("%s", message)
            log.debug("%s p%d", ref.file, ref.page, exc_info=exc)
            collected.flags.append(Flag("unreadable_file", "error", None, message, (ref,)))
            failed.add(place)
    collected.later = []
    if failed:
        collected.other_pages = [p for k, p in enumerate(collected.other_pages) if k not in failed]


def page_fault_message(rel: str, page: int, exc: Exception) -> str:
    """The reviewer's words for a page the readers failed on (the traceback goes to the log)."""
    return (
        f"{rel} p{page}: この頁の読み取り中にプログラムの不具合が起きました（{type(exc).__name__}）。"
        "この頁は読み取っていません。頁を目視で確認し、不具合として報告してください"
    )


def _acroform_values(opened: OpenedSource, form: FormDef, rel: str, flags: list[Flag]) -> AcroValues | None:
    """AcroForm values by field name, when the file is a filled copy of our fillable form.

    A file whose fields match none of ours is another form: its pages go on to attachments.
    Values set on fields no box knows are reported, not dropped.
    """
    if opened.source.kind != "acroform":
        return None
    values = opened.acroform_fields()
    known = {f"{b.owner}.{b.option}" for p in form.pages for b in p.boxes} | {f.name for p in form.pages for f in p.fields}
    ours = {k: v for k, v in values.items() if k in known}
    if not ours:
        return None
    strays = {k: v for k, v in values.items() if k not in known and v not in (None, "", "/Off", "Off", False)}
    for name, value in sorted(strays.items()):
        flags.append(
            Flag(
                "uncertain_mark",
                "warning",
                None,
                f"{rel}: 入力フォームの欄「{name}」の値「{value}」は、様式のどの枠・記入欄にも当たりません",
            )
        )
    return ours


def _read_page(page: Page, form: FormDef, acro: AcroValues | None, collected: Collected, engines: Engines) -> None:
    """A page of the form is read into marks and fields; any other page has its label read."""
    if page.scanned or not page.has_text:
        engines.preload()  # the scan readers' models load beside this page's registration (once a process)
    found = _read_if_form_page(page, form, acro, engines)
    if found is None:
        label = _label_page(page, form, engines, engines.aside_pool())
        if isinstance(label, Future):  # read aside while the next page is read; its place kept (_labels_read)
            waiting = [f for _, f, _ in collected.later if not f.done()]
            if len(waiting) >= ASIDE_AT_MOST:  # each holds its page's picture: the reading waits for the oldest
                wait(waiting[:1])
            collected.later.append((len(collected.other_pages), label, page.ref))
            label = labels.LabelledPage(page.ref, None, blank=False)
        collected.other_pages.append(label)
        return
    layout, reading = found
    _keep_form_page(layout, page.ref, reading, collected)


def _keep_form_page(layout: PageLayout, ref: PageRef, reading: PageReading, collected: Collected) -> None:
    """A form page's readings into the submission's; a second page for the same form page is merged in (page_merge)."""
    reading = unsure_where_erased(reading, layout)
    if layout.number in collected.form_pages:
        _merge_second_page(layout, ref, reading, collected)
        return
    collected.form_pages[layout.number] = ref
    if reading.bilevel and not any(f.code == "bilevel_scan" and f.pages and f.pages[0].file == ref.file for f in collected.flags):
        collected.flags.append(Flag("bilevel_scan", "warning", None, BILEVEL_MESSAGE.format(file=ref.file, page=ref.page), (ref,)))
    collected.marks += reading.marks
    collected.fields += reading.fields
    lost_marks, lost_fields = unlocated_readings(layout, ref)  # what the printing's calibration could not place
    collected.marks += lost_marks
    collected.fields += lost_fields
    for name, picture in reading.crops.items():
        collected.crops[f"p{layout.number}_{name}"] = picture
    if reading.page_image is not None:
        collected.page_images[layout.number] = FormPageImage(
            layout.number, ref, reading.page_image, reading.page_dpi, layout.width_pt, layout.height_pt
        )


def _merge_second_page(layout: PageLayout, ref: PageRef, reading: PageReading, collected: Collected) -> None:
    """A second page read as the same form page: a tail pushed onto its own page, or the page twice. Never a silent choice."""
    first = collected.form_pages[layout.number]
    merged = merge_page_readings(collected.marks, collected.fields, reading.marks, reading.fields, reading.crops)
    collected.marks, collected.fields = merged.marks, merged.fields
    for name, picture in merged.crops.items():
        collected.crops[f"p{layout.number}_{name}"] = picture
    where = f"{ref.file} p{ref.page}: 様式の {layout.number} ページ目が {first.file} p{first.page} と二つあります。"
    if merged.added and not (merged.disagreed or merged.agreed):  # the tail typing pushed over the page end
        said = f"記入で押し出された続きとして、{merged.added} 箇所をこの頁から読み取りました"
        collected.flags.append(Flag("reflowed_form", "info", None, where + said, (first, ref)))
        return
    doubt = "（食い違った箇所は要確認にしました）" if merged.disagreed else ""
    said = f"読み取りが一致 {merged.agreed} 件、食い違い {merged.disagreed} 件{doubt}、この頁だけにあるもの {merged.added} 件。どちらが正しい頁か確認してください"
    collected.flags.append(Flag("missing_form_page", "warning", None, where + said, (first, ref)))


def _read_reflowed_form(opened: OpenedSource, form: FormDef, collected: Collected) -> set[int]:
    """A born-digital form whose text moved (typed into in Word): read by where its print went; the indices of its form pages.

    Empty when the file is not the form, or prints it where the blank has it: its pages are then read one by one.
    """
    text_pages = [(i, p) for i, p in enumerate(opened.pages) if p.has_text and not p.scanned and p.error is None]
    if not text_pages or not Path(form.blank_pdf).exists():
        return set()
    doc = read_reflowed([p for _, p in text_pages], form)
    if doc is None:
        return set()
    layouts = {p.number: p for p in form.pages}
    for number, (ref, reading) in sorted(doc.readings.items()):
        ref_image = doc.images.get(number)
        if ref_image is not None:
            reading = replace(reading, page_image=ref_image[1], page_dpi=float(DIGITAL_DPI))
        _keep_form_page(layouts[number], ref, reading, collected)
    first = text_pages[min(doc.form_page_indices)][1].ref
    collected.flags.append(
        Flag(
            "reflowed_form",
            "info",
            None,
            f"{first.file}: 記入で様式の文字の位置がずれています（Word などで入力）。各欄は様式の文字の並びから位置を求めて読み取りました",
            (first,),
        )
    )
    return {text_pages[k][0] for k in doc.form_page_indices}


def _read_if_form_page(page: Page, form: FormDef, acro: AcroValues | None, engines: Engines) -> tuple[PageLayout, PageReading] | None:
    """(layout page, reading) when the page is a page of the form, else None (an attachment page)."""
    # A scan with a hidden OCR layer is still a scan: its ink is read, not its guessed text.
    if page.has_text and not page.scanned:
        match = identify_text_page(page.text(), form)
        if match is None:
            return None
        if match.by != "code" and acro is None and not prints_the_form(page, match.layout, Path(form.blank_pdf)):
            return None  # names the form's items but is not its page: a document quoting them
        return match.layout, read_digital_page(page, match.layout, acro, Path(form.blank_pdf))
    return read_scan(page, form, engines)


def _label_page(page: Page, form: FormDef, engines: Engines, aside: Executor | None = None) -> labels.LabelledPage | Future[labels.LabelledPage]:
    """A non-form page with its top-right label read (text layer, else the scan's corner).

    With `aside`, a scanned corner is read on it (the page's picture taken here: pdfium is not
    thread-safe) and the read's Future returned: the label read of one page overlaps the next
    page's reading, on a second core (own-scan, 13 pages not the form's: 40 ms CPU each).
    """
    documents = {it.id for it in form.items if it.needs_document}
    if page.has_text and not page.scanned:
        # Boxes for every word of a long manual cost ~0.1 s a page: look at the top band's
        # plain text first, and take the words only when something there could be a label.
        band = page.text_in((0.0, 0.0, page.width_pt, page.height_pt * labels.LABEL_SETTINGS.region_top))
        if not labels.could_hold_label(band):
            return labels.LabelledPage(page.ref, labels.LabelRead(labels.MISSING, None, None, "none"), blank=False)
        read = labels.read_text_label(page.words(), page.width_pt, page.height_pt, form.item_ids, documents)
        return labels.LabelledPage(page.ref, read, blank=False)
    dpi = page.fit_dpi(LABEL_DPI)
    gray = page.image(dpi)
    if labels.is_blank_image(gray, dpi):
        return labels.LabelledPage(page.ref, None, blank=True)
    reading = partial(
        labels.read_scanned_label, gray, dpi, form.item_ids, documents, engine=engines.ocr(), classifier=engines.classifier(), ppocr=engines.ppocr
    )  # the engines loaded here, in this thread: a load that fails is this page's, as before
    if aside is None:
        return labels.LabelledPage(page.ref, reading(), blank=False)
    return aside.submit(_labelled, page.ref, reading)


def _labelled(ref: PageRef, read: partial[labels.LabelRead]) -> labels.LabelledPage:
    return labels.LabelledPage(ref, read(), blank=False)


def missing_page_flags(form: FormDef, found: dict[int, PageRef]) -> list[Flag]:
    """A `missing_form_page` error naming the form's pages (and their items) that no page matched."""
    missing = [p for p in form.pages if p.number not in found]
    if not missing or len(missing) == len(form.pages):
        if missing:
            return [
                Flag(
                    "missing_form_page",
                    "error",
                    None,
                    f"申請書・回答書のページが見つかりません（全 {len(form.pages)} ページ）。別の様式か、読み取れないスキャンです",
                )
            ]
        return []
    parts = []
    for p in missing:
        items = f"（{p.item_ids[0]}–{p.item_ids[-1]}）" if p.item_ids else "（表紙）" if p.role == "cover" else ""
        parts.append(f"p{p.number}{items}")
    return [Flag("missing_form_page", "error", None, f"様式のページがありません: {', '.join(parts)}")]
