"""Hostile and odd files (issue 15, the file-level part): each generated here, tiny, and opened in a
subprocess under a memory limit wherever a regression could take the machine down.

Encrypted PDFs that open with an empty password; PDFs that would make pdfium draw without end
(a Form XObject that draws itself, chains of forms, huge Flate streams as content or as a field
value); LibreOffice and its temp folders after a run is killed; repairs noted in result.json.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pikepdf
import pytest

from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"
MEMORY_LIMIT_MB = 1024


# --- generators ----------------------------------------------------------------------------------


def _text_page(pdf: pikepdf.Pdf, content: bytes = b"BT /F1 24 Tf 20 100 Td (Hello) Tj ET", xobjects: dict[str, object] | None = None) -> pikepdf.Dictionary:
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    if xobjects:
        resources.XObject = pikepdf.Dictionary(xobjects)
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 200, 200], Contents=pdf.make_stream(content), Resources=resources)
    pdf.pages.append(pikepdf.Page(page))
    return pdf.pages[-1].obj


def _form(pdf: pikepdf.Pdf, body: bytes, xobjects: dict[str, object] | None = None) -> pikepdf.Stream:
    form = pdf.make_stream(body)
    form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 100, 100]
    form.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(xobjects or {}))
    return form


def _flate(n_bytes: int, fill: bytes) -> bytes:
    """zlib data that inflates to n_bytes of `fill` (1 MiB of it compresses to ~1 KB)."""
    comp = zlib.compressobj(9)
    chunk = fill * (1 << 20)
    return b"".join([comp.compress(chunk) for _ in range(n_bytes >> 20)] + [comp.flush()])


def self_drawing(path: Path) -> Path:
    """792 bytes: a Form XObject that draws itself twice (pdfium: > 10 GB in 96 s before)."""
    pdf = pikepdf.new()
    form = _form(pdf, b"0 0 m 10 10 l S /X Do /X Do")
    form.Resources.XObject.X = form
    _text_page(pdf, b"q /X Do Q", {"/X": form})
    pdf.save(path)
    return path


def chain(path: Path, depth: int = 20, fan_out: int = 2) -> Path:
    """A chain of `depth` Form XObjects, each drawing the next `fan_out` times."""
    pdf = pikepdf.new()
    nxt = _form(pdf, b"0 0 m 10 10 l S")
    for _ in range(depth - 1):
        nxt = _form(pdf, b"q 0.9 0 0 0.9 1 1 cm /N Do Q " * fan_out, {"/N": nxt})
    _text_page(pdf, b"/N Do", {"/N": nxt})
    pdf.save(path)
    return path


def self_drawing_appearance(path: Path, times: int = 2) -> Path:
    """An annotation whose appearance stream draws itself `times` over: pdfium draws annotations too."""
    pdf = pikepdf.new()
    page = _text_page(pdf)
    ap = _form(pdf, b"0 0 m 5 5 l S " + b"/A Do " * times)
    ap.Resources.XObject.A = ap
    annot = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Square, Rect=[10, 10, 50, 50], AP=pikepdf.Dictionary(N=ap)))
    page.Annots = pikepdf.Array([annot])
    pdf.save(path)
    return path


def big_field_value(path: Path, n_bytes: int = 64 << 20) -> Path:
    """An AcroForm text field whose value is a Flate stream of n_bytes (~64 KB on disk)."""
    pdf = pikepdf.new()
    page = _text_page(pdf)
    value = pikepdf.Stream(pdf, b"")
    value.write(_flate(n_bytes, b"A"), filter=pikepdf.Name.FlateDecode)
    widget = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T=pikepdf.String("name"), V=value, Rect=[10, 10, 190, 40], P=page)
    )
    page.Annots = pikepdf.Array([widget])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[widget], NeedAppearances=True)
    pdf.save(path)
    return path


def big_content(path: Path, n_bytes: int = 128 << 20) -> Path:
    """A page whose content stream inflates to n_bytes of spaces (~128 KB on disk)."""
    pdf = pikepdf.new()
    page = _text_page(pdf)
    page.Contents.write(_flate(n_bytes, b" "), filter=pikepdf.Name.FlateDecode)
    pdf.save(path)
    return path


def busy_but_fair(path: Path) -> Path:
    """What real drawings do: a symbol form drawn 2000 times, forms nested 6 deep, a 2 MB content stream."""
    pdf = pikepdf.new()
    symbol = _form(pdf, b"0 0 m 5 5 l S")
    nested = symbol
    for _ in range(5):
        nested = _form(pdf, b"q /N Do Q", {"/N": nested})
    body = b"".join(b"q 1 0 0 1 %d %d cm /S Do Q\n" % (i % 50 * 4, i // 50 * 4) for i in range(2000)) + b"/D Do\n"
    _text_page(pdf, body + b" " * (2 << 20) + b"BT /F1 24 Tf 20 100 Td (Hello) Tj ET", {"/S": symbol, "/D": nested})
    pdf.save(path)
    return path


# --- opening in a subprocess under a memory limit ---------------------------------------------------

_CHILD = """
import json, resource, sys, time
limit = int(sys.argv[2]) << 20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from pathlib import Path
from pipeline.sources.ingest import open_source
from pipeline.sources.limits import Limits
path = Path(sys.argv[1])
t0 = time.monotonic()
with open_source(path, path.name, Limits()) as src:
    words = []
    for page in src.pages:
        words += [w.text for w in page.words()]
        page.image(100)
    out = {"status": src.source.status, "error": src.source.error, "flags": [f.message for f in src.flags], "words": words}
out["seconds"] = time.monotonic() - t0
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a large pytest process
# reported the parent's size (413 MB after the PP-OCR tests had run in it)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
out["peak_mb"] = int(hwm.split()[1]) / 1024
print(json.dumps(out, ensure_ascii=False))
"""


def open_in_child(path: Path, timeout_s: float = 120.0) -> dict[str, object]:
    """open_source and every page's words and image, in a child limited to MEMORY_LIMIT_MB of address space."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(MEMORY_LIMIT_MB)], capture_output=True, text=True, timeout=timeout_s, cwd=REPO, check=False
    )
    assert proc.returncode == 0, f"{path.name}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


HOSTILE = [
    (self_drawing, "自分自身を繰り返し描く循環"),
    (chain, "入れ子が 16 段を超えて"),
    (lambda p: chain(p, depth=8, fan_out=8), "描画回数が上限"),
    (self_drawing_appearance, "自分自身を繰り返し描く循環"),
    (big_field_value, "フォーム欄「name」の値が展開すると上限（1 MB）を超えます"),
    (big_content, "1ページ目の描画内容が展開すると上限（100 MB）を超えます"),
]


@pytest.mark.parametrize(("make", "said"), HOSTILE, ids=["self_drawing", "chain20", "chain8x8", "appearance", "field_value", "content"])
def test_hostile_pdfs_are_refused_cheaply_with_a_japanese_reason(tmp_path: Path, make, said: str) -> None:
    """Ensures that a PDF that would make pdfium draw or inflate without end is that file's unreadable_file, in seconds and little memory."""
    path = make(tmp_path / "hostile.pdf")
    assert path.stat().st_size < 300_000
    out = open_in_child(path)
    assert out["status"] == "error", out
    assert said in str(out["error"]) and "安全のため読み込みませんでした" in str(out["error"])
    assert out["flags"] == [f"hostile.pdf: {out['error']}"]
    assert float(out["seconds"]) < 20 and float(out["peak_mb"]) < 400, out  # type: ignore[arg-type]


def test_a_form_that_draws_itself_once_still_opens(tmp_path: Path) -> None:
    """Ensures that a simple loop (a form drawing itself once), which pdfium stops at its own depth limit, is not refused."""
    out = open_in_child(self_drawing_appearance(tmp_path / "loop.pdf", times=1))
    assert out["status"] == "ok", out
    assert "Hello" in out["words"]  # type: ignore[operator]


def test_busy_but_fair_drawings_still_open(tmp_path: Path) -> None:
    """Ensures that the limits leave real drawings alone: a symbol drawn 2000 times, forms 6 deep, a 2 MB content stream."""
    out = open_in_child(busy_but_fair(tmp_path / "drawing.pdf"))
    assert out["status"] == "ok", out
    assert "Hello" in out["words"]  # type: ignore[operator]


def test_a_field_value_just_under_the_limit_is_read(tmp_path: Path) -> None:
    """Ensures that a field value under limits.max_field_value_bytes is still read (only the excess is refused)."""
    pdf = pikepdf.new()
    page = _text_page(pdf)
    value = pikepdf.Stream(pdf, b"")
    value.write(zlib.compress("回答".encode() * 1000), filter=pikepdf.Name.FlateDecode)
    widget = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T=pikepdf.String("answer"), V=value, Rect=[10, 10, 190, 40], P=page))
    page.Annots = pikepdf.Array([widget])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[widget])
    pdf.save(tmp_path / "field.pdf")
    with open_source(tmp_path / "field.pdf", "field.pdf", Limits()) as src:
        assert src.source.status == "ok", src.source.error
        assert src.acroform_fields() == {"answer": "回答" * 1000}
    with open_source(tmp_path / "field.pdf", "field.pdf", Limits(max_field_value_bytes=5000)) as src:
        assert src.source.status == "error" and "フォーム欄「answer」" in (src.source.error or "")


# --- encryption ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "owner"), [("", ""), ("", "secret"), ("secret", "")], ids=["both_empty", "owner_only", "empty_owner"])
def test_aes256_pdfs_that_open_with_an_empty_password_open(tmp_path: Path, user: str, owner: str) -> None:
    """Ensures that an AES-256 PDF whose user or owner password is empty opens and reads (pdfium once refused the empty owner password)."""
    pdf = pikepdf.new()
    _text_page(pdf)
    path = tmp_path / "locked.pdf"
    pdf.save(path, encryption=pikepdf.Encryption(user=user, owner=owner, R=6, aes=True))
    with pikepdf.open(path) as check:
        assert check.is_encrypted and check.encryption.R == 6
    before = path.read_bytes()
    with open_source(path, "locked.pdf", Limits()) as src:
        assert src.source.status == "ok", src.source.error
        assert "Hello" in [w.text for w in src.pages[0].words()]
        assert src.pages[0].image(72).shape[:2] == (200, 200)
    assert path.read_bytes() == before  # the decrypted copy is ours, the original untouched


def test_a_pdf_that_needs_a_password_is_refused_in_plain_japanese(tmp_path: Path) -> None:
    """Ensures that a PDF that truly needs a password is that file's error, said in Japanese."""
    pdf = pikepdf.new()
    _text_page(pdf)
    path = tmp_path / "secret.pdf"
    pdf.save(path, encryption=pikepdf.Encryption(user="secret", owner="boss", R=6, aes=True))
    with open_source(path, "secret.pdf", Limits()) as src:
        assert src.source.status == "error" and src.pages == ()
        assert (src.source.error or "").startswith("パスワードで保護された PDF です。開くにはパスワードが必要")
        assert src.flags[0].code == "unreadable_file" and src.flags[0].message.startswith("secret.pdf: パスワード")


# --- LibreOffice and temp folders after a killed run ------------------------------------------------

_RENDER_CHILD = """
import shutil, sys, time
from pathlib import Path
from docx import Document
from pipeline.tools.libreoffice import Converter
out = Path(sys.argv[1])
doc = out / "dossier.docx"
d = Document(); d.add_paragraph("審査調書"); d.save(doc)
with Converter() as conv:
    conv.remove_on_crash(out / ".render-*")
    work = out / ".render-abc123"  # what render_docx keeps beside the outputs while converting
    work.mkdir()
    print(conv._work, flush=True)
    try:
        while True:  # a render in progress when the signal arrives
            conv.convert(doc)
    finally:  # as finish_pdf and render_batch do; kill -9 and SIGTERM skip this, the watchdog does it
        shutil.rmtree(work)
"""


def _naming(text: str) -> list[int]:
    """Processes whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return check()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["kill-9", "ctrl-c", "term"])
def test_a_killed_render_leaves_no_libreoffice_and_no_temp_folders(tmp_path: Path, how: signal.Signals) -> None:
    """Ensures that kill -9, Ctrl-C or SIGTERM of a run while LibreOffice converts leaves no soffice process and no work folder."""
    # A user's shell starts a run with Ctrl-C's default action; an ignored SIGINT survives exec, and
    # in the full suite the child did not stop at Ctrl-C (2 of 3 runs, never alone): start it as a shell would.
    child = subprocess.Popen(
        [sys.executable, "-c", _RENDER_CHILD, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert child.stdout is not None
        work = child.stdout.readline().strip()
        assert work, child.stderr.read() if child.stderr else ""
        assert _wait_for(lambda: len([p for p in _naming(work) if "soffice" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")]) > 0, 30)
        time.sleep(1.0)  # conversions under way
        child.send_signal(how)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert _wait_for(lambda: not _naming(work), 30), f"still running: {_naming(work)}"
    assert _wait_for(lambda: not Path(work).exists() and not (tmp_path / ".render-abc123").exists(), 10)
    assert (tmp_path / "dossier.docx").exists()  # only the registered work folders go


def test_the_next_start_sweeps_what_a_dead_run_left(tmp_path: Path) -> None:
    """Ensures that the work folder of a run that is gone is swept at the next start, its processes killed; a live run's is left alone."""
    from pipeline.tools.libreoffice import CLEANUP_LIST, sweep_stale

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f"isp-convert-{dead_pid}-abcd1234"
    live = tmp_path / f"isp-convert-{os.getpid()}-efgh5678"
    render = tmp_path / "outbox" / "申請A" / ".render-xyz"
    for folder in (stale / "profile", live / "profile", render):
        folder.mkdir(parents=True)
    (stale / CLEANUP_LIST).write_text(f"{tmp_path / 'outbox' / '申請A' / '.render-*'}\n", encoding="utf-8")
    # A process left behind by the dead run (as soffice.bin would be), naming its profile folder.
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", f"-env:UserInstallation={(stale / 'profile').as_uri()}"], start_new_session=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", str(live / "profile")], start_new_session=True)
    try:
        assert sweep_stale(tmp_path) == [stale]
        assert orphan.wait(timeout=10) == -signal.SIGKILL
        assert not stale.exists() and not render.exists()
        assert live.exists() and bystander.poll() is None
    finally:
        for proc in (orphan, bystander):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_repaired_copies_of_killed_workers_are_swept(tmp_path: Path) -> None:
    """Ensures that the temp folder of a repaired PDF's copy is removed once its process is gone, never a live one's."""
    from pipeline.sources.pdf_open import sweep_stale_copies

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = tmp_path / f"ingest-{int(gone.stdout)}-abcd"
    live = tmp_path / f"ingest-{os.getpid()}-efgh"
    for folder in (dead, live):
        folder.mkdir()
        (folder / "repaired.pdf").write_bytes(b"%PDF-1.4")
    assert sweep_stale_copies(tmp_path) == 1
    assert not dead.exists() and live.exists()


# --- repairs in result.json ---------------------------------------------------------------------


def test_a_repaired_pdf_is_noted_in_result_json(tmp_path: Path, schema_validator) -> None:
    """Ensures that a PDF repaired on opening is a repaired_file warning and a Japanese note on its source in result.json."""
    from pipeline.run.batch import RunOptions, run_batch

    pdf = pikepdf.new()
    _text_page(pdf)
    pdf.save(tmp_path / "good.pdf")
    good = (tmp_path / "good.pdf").read_bytes()
    inbox = tmp_path / "inbox"
    (inbox / "申請A").mkdir(parents=True)
    (inbox / "申請A" / "scan.pdf").write_bytes(good[: good.rindex(b"xref")] + b"%%EOF\n")  # no cross-reference table
    (inbox / "申請A" / "clean.pdf").write_bytes(good)
    run_batch(RunOptions(inbox=inbox, outbox=tmp_path / "outbox", form=FORM_DIR, jobs=1, render=False))
    data = json.loads((tmp_path / "outbox" / "申請A" / "result.json").read_text(encoding="utf-8"))
    assert not list(schema_validator.iter_errors(data))
    sources = {s["file"]: s for s in data["sources"]}
    assert sources["scan.pdf"]["status"] == "ok"
    assert sources["scan.pdf"]["notes"] and sources["scan.pdf"]["notes"][0].startswith("破損した PDF を開く際に修復して読みました")
    assert "notes" not in sources["clean.pdf"]
    repaired = [f for f in data["flags"] if f["code"] == "repaired_file"]
    assert [(f["severity"], f["message"].split(":")[0]) for f in repaired] == [("warning", "scan.pdf")]
    assert "原本と見比べてください" in repaired[0]["message"]
