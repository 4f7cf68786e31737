"""Batch runs: bad files reported and the batch goes on, reruns are incremental, the inbox is untouched."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pipeline.run import inbox as inbox_listing
from pipeline.run.batch import RunOptions, run_batch
from pipeline.run.inbox import OutboxLocked, outbox_lock
from samples.fill import fill_acroform

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def inbox(tmp_path):
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "申請 A (2026).pdf").write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-1.yes": True}))
    (box / "not a pdf.pdf").write_text("this is a plain text file, not a PDF\n")
    (box / "empty.pdf").write_bytes(b"")
    folder = box / "folder_sub"
    folder.mkdir()
    (folder / "form.pdf").write_bytes(fill_acroform(FORM_DIR / "fillable.pdf", {"1-1-2.yes": True}))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage")
    (box / ".hidden").write_text("ignored")
    return box


def options(inbox: Path, tmp_path: Path, **kw) -> RunOptions:
    return RunOptions(inbox=inbox, outbox=tmp_path / "outbox", form=FORM_DIR, jobs=1, render=False, **kw)


def test_bad_files_become_flags_and_the_batch_goes_on(inbox, tmp_path, schema_validator):
    """Ensures that every submission gets a valid result.json, bad files as unreadable_file flags, inbox untouched."""
    before = snapshot(inbox)
    outcomes = run_batch(options(inbox, tmp_path))
    assert snapshot(inbox) == before
    assert {o.name: o.status for o in outcomes} == {"申請 A (2026)": "done", "not a pdf": "done", "empty": "done", "folder_sub": "done"}
    out = tmp_path / "outbox"
    for o in outcomes:
        data = json.loads((out / o.name / "result.json").read_text(encoding="utf-8"))
        assert not list(schema_validator.iter_errors(data)), o.name
    bad = json.loads((out / "not a pdf" / "result.json").read_text(encoding="utf-8"))
    assert bad["sources"][0]["status"] == "error" and "not a PDF" in bad["sources"][0]["error"]
    assert any(f["code"] == "unreadable_file" for f in bad["flags"])
    mixed = json.loads((out / "folder_sub" / "result.json").read_text(encoding="utf-8"))
    assert {s["file"]: s["status"] for s in mixed["sources"]} == {"broken.pdf": "error", "form.pdf": "ok"}
    assert mixed["items"]["1-1-2"]["answer"] == "yes"
    assert not list(out.glob("*/debug"))  # no profile unless asked for
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        assert fh.read(1) == "\ufeff"
    with (out / "summary.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["submission"] for r in rows) == sorted(o.name for o in outcomes)


def test_rerun_is_incremental(inbox, tmp_path):
    """Ensures that a rerun skips unchanged submissions and redoes one whose review.yaml changed."""
    run_batch(options(inbox, tmp_path))
    again = {o.name: o.status for o in run_batch(options(inbox, tmp_path))}
    assert set(again.values()) == {"skipped"}
    review = tmp_path / "outbox" / "申請 A (2026)" / "review.yaml"
    review.write_text(review.read_text(encoding="utf-8").replace("\nitems:\n", "\nitems: {7-1-1: {points: 3}}\n", 1), encoding="utf-8")
    third = {o.name: o.status for o in run_batch(options(inbox, tmp_path))}
    assert third["申請 A (2026)"] == "done" and third["empty"] == "skipped"
    data = json.loads((tmp_path / "outbox" / "申請 A (2026)" / "result.json").read_text(encoding="utf-8"))
    assert data["items"]["7-1-1"]["points"] == 3
    assert {o.name: o.status for o in run_batch(options(inbox, tmp_path, force=True))} == dict.fromkeys(third, "done")


def test_a_new_pipeline_redoes_everything(inbox, tmp_path, monkeypatch):
    """Ensures that changed pipeline code or templates (another pipeline fingerprint) redo every submission."""
    first = {o.name: o.status for o in run_batch(options(inbox, tmp_path))}
    monkeypatch.setattr(inbox_listing, "pipeline_fingerprint", lambda: "an upgraded pipeline")
    assert {o.name: o.status for o in run_batch(options(inbox, tmp_path))} == first


def test_a_crash_is_that_submissions_error(inbox, tmp_path, monkeypatch):
    """Ensures that an unexpected exception becomes error.log and an error row, and the others finish."""
    from pipeline.run import submission as process

    real = process.process_submission

    def flaky(entry, form_dir, out_dir, **kw):
        if entry.name == "empty.pdf":
            raise RuntimeError("simulated crash")
        return real(entry, form_dir, out_dir, **kw)

    monkeypatch.setattr(process, "process_submission", flaky)
    outcomes = {o.name: o for o in run_batch(options(inbox, tmp_path))}
    assert outcomes["empty"].status == "error"
    assert "simulated crash" in (tmp_path / "outbox" / "empty" / "error.log").read_text(encoding="utf-8")
    assert outcomes["not a pdf"].status == "done"
    with (tmp_path / "outbox" / "summary.csv").open(encoding="utf-8-sig") as fh:
        rows = {r["submission"]: r for r in csv.DictReader(fh)}
    assert rows["empty"]["decision"] == "error"


def test_a_worker_that_dies_costs_only_its_submission(inbox, tmp_path, monkeypatch):
    """Ensures that a worker process killed mid-submission (native crash, OOM) is that submission's error; the rest finish."""
    import os

    from pipeline.run import submission as process

    real = process.process_submission

    def deadly(entry, form_dir, out_dir, **kw):
        if entry.name == "empty.pdf":
            os._exit(70)  # what a segfault in a native library looks like to the pool
        return real(entry, form_dir, out_dir, **kw)

    monkeypatch.setattr(process, "process_submission", deadly)  # workers are forked: they inherit it
    outcomes = {o.name: o for o in run_batch(RunOptions(inbox=inbox, outbox=tmp_path / "outbox", form=FORM_DIR, jobs=2, render=False))}
    assert outcomes["empty"].status == "error" and "worker process died" in outcomes["empty"].message
    assert {n: o.status for n, o in outcomes.items() if n != "empty"} == {
        "申請 A (2026)": "done",
        "not a pdf": "done",
        "folder_sub": "done",
    }
    assert (tmp_path / "outbox" / "empty" / "error.log").is_file()
    with (tmp_path / "outbox" / "summary.csv").open(encoding="utf-8-sig") as fh:
        assert {r["submission"]: r["decision"] for r in csv.DictReader(fh)}["empty"] == "error"


def test_a_second_run_on_the_same_outbox_is_refused(inbox, tmp_path):
    """Ensures that two runs cannot collide on one outbox: the second says so and stops."""
    with outbox_lock(tmp_path / "outbox"):
        with pytest.raises(OutboxLocked, match="another run"):
            run_batch(options(inbox, tmp_path))


def test_submission_names_are_sanitised():
    """Ensures that names keep Japanese, spaces and parentheses but lose path separators and control characters."""
    assert inbox_listing.submission_name(Path("申請 A (2026).pdf")) == "申請 A (2026)"
    assert inbox_listing.submission_name(Path("a:b*c?.pdf")) == "a_b_c_"
    assert inbox_listing.submission_name(Path("..pdf")) == "submission"


def test_cli_exit_codes(inbox, tmp_path):
    """Ensures that the command line answers 0 for a processed batch and 1 for a missing inbox."""
    from pipeline.cli import main

    assert (
        main(["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "o"), "--form", str(FORM_DIR), "-j", "1", "--no-render", "-q"]) == 0
    )
    assert main(["run", "--inbox", str(tmp_path / "nowhere"), "--outbox", str(tmp_path / "o"), "-q"]) == 1
    shutil.rmtree(tmp_path / "o")


def test_a_batch_after_this_process_used_opencv_threads_finishes(inbox, tmp_path):
    """Ensures that forked workers do not hang on OpenCV threads the parent started (a page decoded before the batch)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import cv2, numpy as np
        from pathlib import Path
        from pipeline.run.batch import RunOptions, run_batch
        cv2.setNumThreads(2)
        cv2.resize(np.zeros((3000, 3000), np.uint8), (1000, 1000), interpolation=cv2.INTER_AREA)  # starts the pool
        out = run_batch(RunOptions(inbox=Path({str(inbox)!r}), outbox=Path({str(tmp_path / "outbox")!r}), form=Path({str(FORM_DIR)!r}), jobs=2, render=False))
        print(sorted(o.status for o in out))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "done" in done.stdout


def test_a_run_of_one_worker_leaves_the_readers_to_the_worker(inbox, tmp_path):
    """Ensures that the run's own process imports neither OpenCV nor the readers when one worker reads (start-up paid once, issue 16)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from pipeline.run.batch import RunOptions, run_batch
        out = run_batch(RunOptions(inbox=Path({str(inbox)!r}), outbox=Path({str(tmp_path / "outbox")!r}), form=Path({str(FORM_DIR)!r}), jobs=1, render=False))
        print(sorted(o.status for o in out), "cv2" in sys.modules, "pipeline.run.submission" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("]")[-1].split() == ["False", "False"]
    assert "done" in done.stdout


def test_profile_writes_each_submissions_timings(inbox, tmp_path):
    """Ensures that run --profile leaves a loadable cProfile and moments in order (process start, job, first file opened, end)."""
    import pstats

    run_batch(options(inbox, tmp_path, profile=True))
    debug = tmp_path / "outbox" / "folder_sub" / "debug"
    moments = json.loads((debug / "profile.json").read_text(encoding="utf-8"))
    assert moments["run_started"] <= moments["job_started"] <= moments["first_open"] <= moments["job_ended"]
    assert 0 <= moments["first_open_cpu_s"] <= moments["cpu_s"] and moments["run_cpu_s"] > 0
    functions = {func for (_, _, func) in pstats.Stats(str(debug / "profile.pstats")).stats}  # type: ignore[attr-defined]
    assert "process_submission" in functions
    assert sorted(p.parent.parent.name for p in (tmp_path / "outbox").glob("*/debug/profile.json")) == [
        "empty",
        "folder_sub",
        "not a pdf",
        "申請 A (2026)",
    ]


def test_a_pool_of_workers_shares_the_blank_pages_and_the_classifier_loaded_before_the_fork(tmp_path):
    """Ensures that with several workers the form's blank pages and the digit classifier are prepared once, in the run's process (issue 16): no worker renders the blank or loads the model, and both submissions are read."""
    import pstats

    from pipeline.form.definition import load_form
    from samples.synth.scans import GenOptions, write_submission

    form = load_form(FORM_DIR)
    box = tmp_path / "inbox"
    for n, seed in (("s1", 89011), ("s2", 89012)):
        folder = box / n
        folder.mkdir(parents=True)
        write_submission(form, folder, seed, GenOptions(dpi=150, mode="gray", pages=(3,), upside_down=0, extra_pages=("text",)), name="scan")
        for truth in folder.glob("*.json"):
            truth.unlink()
    outcomes = run_batch(RunOptions(inbox=box, outbox=tmp_path / "outbox", form=FORM_DIR, jobs=2, render=False, profile=True))
    assert {o.name: o.status for o in outcomes} == {"s1": "done", "s2": "done"}
    for n in ("s1", "s2"):
        calls = {(Path(path).name, func): nc for (path, _, func), (_, nc, *_) in pstats.Stats(str(tmp_path / "outbox" / n / "debug" / "profile.pstats")).stats.items()}  # type: ignore[attr-defined]
        assert calls.get(("references.py", "references"), 0) >= 1, "the worker did not register its scan"
        assert calls.get(("references.py", "_find_qr"), 0) == 0, "a worker prepared the blank pages itself"
        assert calls.get(("engines.py", "classifier"), 0) >= 1, "the worker read no scanned label"
        assert calls.get(("digits.py", "load"), 0) == 0, "a worker loaded the digit classifier itself"
