"""The cost of drawing a PDF, checked with pikepdf before pdfium loads a page or a value is decoded.

pdfium has no budget of its own: a Form XObject that draws itself twice, a chain of forms each
drawing the next twice, a 3 GiB Flate content stream or a form field whose value is one took
gigabytes and minutes (issue 15). Here each content stream is inflated in bounded chunks only
to count its `/Name Do` operators, and the graph of Form XObjects (page contents and the
annotations' appearances) is walked once, memoised, for cycles, depth, the number of form draws
the page expands to and the bytes pdfium would parse. A file over a limit is refused with a
plain message naming the page, so it becomes that file's `unreadable_file` flag.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pikepdf

from pipeline.model.errors import LimitExceededError
from pipeline.sources.limits import Limits

_DELIM = rb"\s/\[\]()<>{}%"
_DO = re.compile(rb"/([^" + _DELIM + rb"]+)\s*Do(?=[" + _DELIM + rb"]|$)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_CHUNK = 1 << 20
_OVERLAP = 300  # a name is at most 127 bytes; a match that spans two chunks is found in the overlap
# The most one input byte can become under each filter (LZW: 12-bit codes, strings up to the
# table size; Flate: 1032:1 is deflate's ceiling), for streams not inflated chunk by chunk.
_EXPANSION = {"/FlateDecode": 1032, "/Fl": 1032, "/LZWDecode": 1300, "/LZW": 1300, "/RunLengthDecode": 128, "/RL": 128, "/ASCII85Decode": 5, "/A85": 5}


class _Unchecked(Exception):
    """A stream whose decoded size cannot be bounded cheaply (an unusual filter chain)."""


def _filters(stream: pikepdf.Stream) -> list[str]:
    f = stream.get("/Filter")
    if isinstance(f, pikepdf.Name):
        return [str(f)]
    if isinstance(f, pikepdf.Array):
        return [str(x) for x in f]
    return []


def decoded_chunks(stream: pikepdf.Stream, cap_bytes: int, what: str) -> Iterator[bytes]:
    """The stream's decoded bytes in chunks, never more than `cap_bytes` in all.

    Unfiltered and Flate streams are inflated chunk by chunk; other filters are decoded whole only
    when their worst-case expansion stays under the cap.

    Raises:
        LimitExceededError: the decoded stream is longer than cap_bytes (`what` names it).
        _Unchecked: an unusual filter chain whose size cannot be bounded cheaply.
    """
    filters = _filters(stream)
    too_big = LimitExceededError(f"{what}が展開すると上限（{cap_bytes / 2**20:.0f} MB）を超えます。安全のため読み込みませんでした")
    if not filters or filters in (["/FlateDecode"], ["/Fl"]):
        raw = stream.read_raw_bytes()
        if not filters:
            if len(raw) > cap_bytes:
                raise too_big
            yield raw
            return
        inflate = zlib.decompressobj()
        total = 0
        for start in range(0, len(raw), _CHUNK):
            data = raw[start : start + _CHUNK]
            while data:
                try:
                    out = inflate.decompress(data, _CHUNK)
                except zlib.error as exc:
                    raise _Unchecked(str(exc)) from exc  # damaged: pdfium decodes what it can
                total += len(out)
                if total > cap_bytes:
                    raise too_big
                yield out
                data = inflate.unconsumed_tail
                if inflate.eof:
                    return
        return
    bound = len(stream.read_raw_bytes())
    for name in filters:
        if name not in _EXPANSION and name not in ("/ASCIIHexDecode", "/AHx"):
            raise _Unchecked(name)
        bound *= _EXPANSION.get(name, 1)
    if bound > cap_bytes:
        raise _Unchecked(" ".join(filters))
    try:
        yield stream.read_bytes()
    except pikepdf.PdfError as exc:
        raise _Unchecked(str(exc)) from exc


def decoded_size(stream: pikepdf.Stream, cap_bytes: int, what: str) -> int:
    """How long the stream is once decoded, within cap_bytes (see decoded_chunks); -1 if unknown."""
    try:
        return sum(len(c) for c in decoded_chunks(stream, cap_bytes, what))
    except _Unchecked:
        return -1


def bounded_bytes(stream: pikepdf.Stream, cap_bytes: int, what: str) -> bytes:
    """The stream's decoded bytes, refusing (LimitExceededError) past cap_bytes; b"" if undecodable."""
    try:
        return b"".join(decoded_chunks(stream, cap_bytes, what))
    except _Unchecked:
        return b""


def _do_names(stream: pikepdf.Stream, cap_bytes: int, what: str) -> tuple[Counter[str], int]:
    """The names a content stream draws with `Do` (with how often) and its decoded length."""
    names: Counter[str] = Counter()
    total = 0
    carry = b""
    try:
        for chunk in decoded_chunks(stream, cap_bytes, what):
            total += len(chunk)
            buf = carry + chunk
            cut = max(0, len(buf) - _OVERLAP)
            for m in _DO.finditer(buf):
                if m.start() < cut:
                    names["/" + _HEX_ESCAPE.sub(lambda h: bytes([int(h.group(1), 16)]), m.group(1)).decode("latin-1")] += 1
            carry = buf[cut:]
        for m in _DO.finditer(carry):
            names["/" + _HEX_ESCAPE.sub(lambda h: bytes([int(h.group(1), 16)]), m.group(1)).decode("latin-1")] += 1
    except _Unchecked:
        pass  # counted as far as it could be read
    return names, total


# pdfium stops following nested forms at this depth (kMaxFormLevel, cpdf_streamcontentparser.cpp).
_PDFIUM_MAX_FORM_LEVEL = 40
# The forms being drawn, outermost first: (object id, times its parent's content draws it).
_Stack = tuple[tuple[tuple[int, int], int], ...]


@dataclass(frozen=True, slots=True)
class _Cost:
    draws: int  # form XObjects drawn, counting every repeat
    parsed: int  # content bytes pdfium parses, counting every repeat


class _Walk:
    """One page's walk of its drawing graph; forms already costed are remembered across pages."""

    def __init__(self, limits: Limits, page_no: int, memo: dict[tuple[tuple[int, int], tuple[int, int]], _Cost], deadline: float) -> None:
        self.limits = limits
        self.page_no = page_no
        self.where = f"{page_no}ページ目"
        self.memo = memo
        self.deadline = deadline

    def refuse(self, why: str) -> LimitExceededError:
        return LimitExceededError(f"{self.where}: {why}。安全のため読み込みませんでした")

    def content(self, stream: pikepdf.Stream, resources: object, stack: _Stack) -> _Cost:
        """The cost of drawing `stream` (page contents or a form) with `resources`."""
        if time.monotonic() > self.deadline:  # worded as pdf_open's own deadline
            raise LimitExceededError(f"gave up after {self.limits.file_seconds:.0f} s reading the page structure (page {self.page_no})")
        names, size = _do_names(stream, self.limits.max_content_bytes, f"{self.where}の描画内容")
        draws, parsed = 0, size
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        for name, times in names.items():
            child = xobjects.get(name) if isinstance(xobjects, pikepdf.Dictionary) else None
            if not isinstance(child, pikepdf.Stream) or child.get("/Subtype") != "/Form":
                continue
            cost = self.form(child, resources, stack, times)
            draws += times * (1 + cost.draws)
            parsed += times * cost.parsed
            self.check(draws, parsed)
        return _Cost(draws, parsed)

    def form(self, form: pikepdf.Stream, inherited: object, stack: _Stack, times: int = 1) -> _Cost:
        """The cost of one draw of `form`, drawn `times` by the content at the top of `stack`.

        A loop back to a form being drawn that draws it once per turn is what pdfium follows to
        its own depth limit and no further (a few dozen draws); a loop that draws it more than
        once per turn doubles at every level and is refused.
        """
        own = form.get("/Resources")
        resources = own if isinstance(own, pikepdf.Dictionary) else inherited
        res_key = resources.objgen if isinstance(resources, pikepdf.Object) and resources.is_indirect else (0, id(resources))
        key = (form.objgen, res_key if not isinstance(own, pikepdf.Dictionary) else (0, 0))
        ids = [objgen for objgen, _ in stack]
        if form.objgen in ids:
            per_turn = math.prod([t for _, t in stack[ids.index(form.objgen) + 1 :]], start=times)
            if per_turn > 1:
                raise self.refuse("図形（Form XObject）が自分自身を繰り返し描く循環があります")
            return _Cost(_PDFIUM_MAX_FORM_LEVEL, 0)
        if len(stack) >= self.limits.max_form_depth:
            raise self.refuse(f"図形（Form XObject）の入れ子が {self.limits.max_form_depth} 段を超えています")
        if key not in self.memo:
            self.memo[key] = self.content(form, resources, (*stack, (form.objgen, times)))
        return self.memo[key]

    def check(self, draws: int, parsed: int) -> None:
        if draws > self.limits.max_form_draws:
            raise self.refuse(f"図形（Form XObject）の描画回数が上限（{self.limits.max_form_draws:,} 回）を超えます")
        if parsed > self.limits.max_page_parse_bytes:
            raise self.refuse(f"描画内容が展開すると上限（{self.limits.max_page_parse_bytes / 2**20:.0f} MB）を超えます")


def _page_resources(page: pikepdf.Dictionary) -> object:
    """The page's /Resources, inherited from the page tree when the page has none."""
    node: object = page
    for _ in range(64):
        if not isinstance(node, pikepdf.Dictionary):
            return None
        res = node.get("/Resources")
        if isinstance(res, pikepdf.Dictionary):
            return res
        node = node.get("/Parent")
    return None


def _appearances(page: pikepdf.Dictionary) -> Iterator[pikepdf.Stream]:
    """The normal appearance streams of the page's annotations (what pdfium draws with FPDF_ANNOT)."""
    annots = page.get("/Annots")
    if not isinstance(annots, pikepdf.Array):
        return
    for annot in list(annots)[:10_000]:
        ap = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
        normal = ap.get("/N") if isinstance(ap, pikepdf.Dictionary) else None
        if isinstance(normal, pikepdf.Stream):
            yield normal
        elif isinstance(normal, pikepdf.Dictionary):
            yield from (s for s in list(normal.values())[:16] if isinstance(s, pikepdf.Stream))


def check_drawing_cost(pike: pikepdf.Pdf, n_pages: int, limits: Limits, deadline: float) -> None:
    """Refuse a PDF whose first `n_pages` pages would cost pdfium unbounded time or memory.

    Raises:
        LimitExceededError: a Form XObject cycle, nesting deeper than limits.max_form_depth, more
            than limits.max_form_draws form draws or limits.max_page_parse_bytes of content on a
            page, or a content stream over limits.max_content_bytes once inflated.
    """
    memo: dict[tuple[tuple[int, int], tuple[int, int]], _Cost] = {}
    for index, page in enumerate(pike.pages[:n_pages]):
        walk = _Walk(limits, index + 1, memo, deadline)
        obj = page.obj
        resources = _page_resources(obj)
        contents = obj.get("/Contents")
        streams = [contents] if isinstance(contents, pikepdf.Stream) else list(contents)[:10_000] if isinstance(contents, pikepdf.Array) else []
        draws, parsed = 0, 0
        for stream in streams:
            if isinstance(stream, pikepdf.Stream):
                cost = walk.content(stream, resources, ())
                draws, parsed = draws + cost.draws, parsed + cost.parsed
                walk.check(draws, parsed)
        for appearance in _appearances(obj):
            cost = walk.form(appearance, resources, ())
            draws, parsed = draws + 1 + cost.draws, parsed + cost.parsed
            walk.check(draws, parsed)


def check_field_values(pike: pikepdf.Pdf, limits: Limits) -> None:
    """Refuse a PDF whose form field values (/V, /DV, /RV) are longer than limits.max_field_value_bytes.

    pdfium decodes the values when it draws the fields, so this runs before it opens the file.
    """
    acroform = pike.Root.get("/AcroForm")
    fields = acroform.get("/Fields") if isinstance(acroform, pikepdf.Dictionary) else None
    if not isinstance(fields, pikepdf.Array):
        return
    cap = limits.max_field_value_bytes
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[object, int]] = [(f, 0) for f in list(fields)[: limits.max_form_fields]]
    while stack and len(seen) <= limits.max_form_fields:
        node, depth = stack.pop()
        if not isinstance(node, pikepdf.Dictionary) or depth > 32 or (node.is_indirect and node.objgen in seen):
            continue
        if node.is_indirect:
            seen.add(node.objgen)
        name = str(node.get("/T", "")) or "（名前なし）"
        for key in ("/V", "/DV", "/RV"):
            value = node.get(key)
            what = f"フォーム欄「{name[:40]}」の値"
            if isinstance(value, pikepdf.Stream):
                decoded_size(value, cap, what)
            elif isinstance(value, pikepdf.String) and len(bytes(value)) > cap:
                raise LimitExceededError(f"{what}が上限（{cap / 2**20:.0f} MB）を超えています。安全のため読み込みませんでした")
        kids = node.get("/Kids")
        if isinstance(kids, pikepdf.Array):
            stack.extend((k, depth + 1) for k in list(kids)[: limits.max_form_fields])
