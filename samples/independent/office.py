"""DOCX to PDF with LibreOffice headless, cached by content hash (conversions are the slow part)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

CACHE = Path(os.environ.get("INDEPENDENT_CACHE", "/tmp/independent-soffice-cache"))


def content_hash(docx: bytes) -> str:
    """Hash of the zip members, not the zip: python-docx stamps times into the archive."""
    h = hashlib.sha256()
    with zipfile.ZipFile(BytesIO(docx)) as z:
        for name in sorted(z.namelist()):
            h.update(name.encode())
            h.update(z.read(name))
    return h.hexdigest()


def to_pdf_many(docs: list[bytes], timeout: float = 240) -> list[bytes]:
    """Convert several DOCX in one LibreOffice start (each start costs seconds)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    keys = [content_hash(d) for d in docs]
    todo = {k: d for k, d in zip(keys, docs) if not (CACHE / f"{k}.pdf").exists()}
    if todo:
        with tempfile.TemporaryDirectory(prefix="indep-soffice-") as tmp:
            t = Path(tmp)
            for k, d in todo.items():
                (t / f"{k}.docx").write_bytes(d)
            profile = t / "profile"
            cmd = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(t / "out")] + [str(t / f"{k}.docx") for k in todo]
            subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for k in todo:
                produced = t / "out" / f"{k}.pdf"
                if not produced.exists():
                    raise RuntimeError(f"LibreOffice did not convert {k}.docx")
                shutil.move(str(produced), CACHE / f"{k}.pdf")
    return [(CACHE / f"{k}.pdf").read_bytes() for k in keys]


def to_pdf(docx: bytes) -> bytes:
    return to_pdf_many([docx])[0]
