"""Safety limits for reading input files: sizes, pages, pixels and time, with why each value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """What ingest will read before it gives up on a file or page.

    A file over a limit becomes a SourceFile with status "error" and a message naming the limit;
    a page over the pixel limit is rendered at a reduced dpi when that stays >= `min_dpi`,
    otherwise that page (and, if it is the only kind of page, the file) is an error.
    """

    # A 500-page 300-dpi colour JPEG scan is ~150 MB; anything bigger is not an application.
    max_file_bytes: int = 300 * 1024 * 1024
    # The application plus attachments runs to ~100 pages; 500 leaves room for big manuals
    # (the 206-page IRS booklet in the corpus opens and classifies in ~1 s).
    max_pages: int = 500
    # Files in one inbox folder, counted before anything is opened.
    max_files_per_entry: int = 2000
    # Output raster per page: A4 at 600 dpi is 35 Mpx, A3 at 400 dpi 31 Mpx; 60 Mpx grey is
    # 60 MB (RGB 180 MB), which keeps one page well under the 250 MB we measured per step.
    max_page_pixels: int = 60_000_000
    # Below 100 dpi ticks and 8-pt text are no longer readable (measured.md: 100-150 dpi is the
    # least we register at), so a page that only fits the pixel limit below this is an error.
    min_dpi: float = 100.0
    # Decoded size of one embedded or stand-alone image before reduction: A4 at 1200 dpi is
    # 140 Mpx. Pillow's own bomb guard errors at 179 Mpx; this keeps us below it with a clear text.
    max_source_pixels: int = 150_000_000
    # Rendering one page; pdfium checks the deadline between page objects (a single huge image
    # decode cannot be interrupted, which max_source_pixels bounds instead).
    page_seconds: float = 20.0
    # Opening a file and classifying its pages (text layer, images, form fields).
    file_seconds: float = 60.0
    # The qpdf command-line repair of a PDF that pikepdf could not open.
    repair_seconds: float = 30.0
    # Images without a usable resolution tag (phone photos say 1x1 or nothing) are taken to be
    # 200 dpi, the usual office-scanner default; tags outside the plausible range are ignored.
    default_image_dpi: float = 200.0
    min_image_dpi: float = 50.0  # fax "normal" mode is 204 x 98 dpi, so 98 must stay plausible
    max_image_dpi: float = 2400.0
    # A tag that makes the page longer than this is a camera's placeholder (phones write 72 dpi:
    # a 2000-px photo would be a 28-inch page), so the default is used instead. A2 is 23.4 in.
    max_image_page_inches: float = 24.0
    # AcroForm fields walked per file (the IRS 1040 has 236); a bound against looping field trees.
    max_form_fields: int = 20_000
    # What pdfium may be asked to draw, checked with pikepdf before it loads a page (pdf_guard).
    # One content stream once inflated: a dense vector map page runs to a few MB, a CAD sheet to
    # tens; a 3 GiB Flate content stream took pdfium 4.5 GB (issue 15).
    max_content_bytes: int = 100 * 1024 * 1024
    # Content bytes one page makes pdfium parse, every repeat of a Form XObject counted.
    max_page_parse_bytes: int = 256 * 1024 * 1024
    # Form XObject draws one page expands to, repeats counted: a drawing that reuses a symbol
    # a few thousand times stays far under; a chain of 20 forms each drawing the next twice is
    # a million draws (41 s, 3 GB in pdfium).
    max_form_draws: int = 100_000
    # Form XObjects inside Form XObjects: exports from Word and Illustrator nest a few levels;
    # pdfium itself only stops at 40, far past the point where doubling forms explode.
    max_form_depth: int = 16
    # One form field's value once decoded (/V, /DV, /RV): a filled answer is a few KB; a 3 GiB
    # Flate stream as a value took > 14 GB (issue 15).
    max_field_value_bytes: int = 1024 * 1024
