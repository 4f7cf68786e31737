"""What an input file is, from its first bytes: a PDF, an image, or something else named in words."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".png", ".jpg", ".jpeg"})
ACCEPTED_SUFFIXES = IMAGE_SUFFIXES | {".pdf"}

HEAD_BYTES = 64 * 1024


def hash_and_head(path: Path, max_bytes: int | None = None) -> tuple[str, bytes, int]:
    """(sha256 hex of the whole file, its first HEAD_BYTES, its size in bytes), in one read.

    The size is taken from the opened file before anything is read: a file over `max_bytes`
    comes back unread, as ("", b"", size), in a few microseconds however large it is (a 20 GB
    sparse file took 48 s to hash before). A file that grows while it is read (a device, a
    file still being copied) stops being read one byte past `max_bytes`.
    """
    digest = hashlib.sha256()
    head = b""
    size = 0
    with open(path, "rb") as fh:
        declared = os.fstat(fh.fileno()).st_size
        if max_bytes is not None and declared > max_bytes:
            return "", b"", declared
        budget = max_bytes + 1 if max_bytes is not None else None
        while chunk := fh.read(1 << 20 if budget is None else min(1 << 20, budget - size)):
            if not head:
                head = chunk[:HEAD_BYTES]
            digest.update(chunk)
            size += len(chunk)
            if budget is not None and size >= budget:
                return "", b"", size
    return digest.hexdigest(), head, size


def _describe_zip(path: Path) -> str:
    """What a ZIP file is in words: a Word, Excel, PowerPoint or OpenDocument file, or just an archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            mimetype = ""
            if "mimetype" in names:
                with zf.open("mimetype") as fh:
                    mimetype = fh.read(200).decode("ascii", "replace")
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return "a ZIP archive"
    if any(n.startswith("word/") for n in names):
        return "a Word .docx file"
    if any(n.startswith("xl/") for n in names):
        return "an Excel .xlsx file"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint .pptx file"
    if "opendocument" in mimetype:
        return "an OpenDocument file (.odt/.ods)"
    return "a ZIP archive"


def sniff(path: Path, head: bytes) -> tuple[str, str | None]:
    """(kind, detail): kind is pdf, image or other; detail is the garbage length or a description."""
    pdf_at = head.find(b"%PDF-")
    if pdf_at == 0:
        return "pdf", None
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"II+\x00")):
        return "image", None
    if head.startswith((b"GIF87a", b"GIF89a")) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image", None
    if head[:2] == b"BM" and head[6:10] == b"\0\0\0\0":  # BMP: its reserved bytes are zero
        return "image", None
    if pdf_at > 0:
        return "pdf", f"{pdf_at} bytes of junk before the %PDF header (skipped)"
    if head.startswith(b"PK\x03\x04"):
        return "other", _describe_zip(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "other", "an old Microsoft Office file (.doc/.xls)"
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "other", "an HTML page"
    if lowered.startswith(b"{\\rtf"):
        return "other", "an RTF document"
    sample = head[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the sample is fine
        text = sample[: exc.start].decode("utf-8") if exc.start >= len(sample) - 3 else ""
    if text and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text):
        return "other", "a plain-text file"
    return "other", "unrecognised content"
