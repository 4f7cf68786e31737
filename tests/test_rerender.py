"""Re-rendering: review.yaml changes flow through `run` into result.json, the dossier and the certificate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pdfplumber
import pytest

from pipeline.run.batch import RunOptions, run_batch
from samples.demo import build_demo

REPO = Path(__file__).resolve().parents[1]
FORM_DIR = REPO / "forms" / "renewal"

pytestmark = pytest.mark.slow


def dossier_text(out: Path) -> str:
    with pdfplumber.open(out / "dossier.pdf") as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages[:2])


def test_review_yaml_turns_needs_review_into_pass_and_back(tmp_path):
    """Ensures that scoring 7-1-x in review.yaml issues the certificate, and a 0 later removes it."""
    inbox = tmp_path / "inbox"
    entries = build_demo(inbox, FORM_DIR)
    for extra in entries[1:]:  # one submission is enough here
        shutil.rmtree(extra) if extra.is_dir() else extra.unlink()
    options = RunOptions(inbox=inbox, outbox=tmp_path / "outbox", form=FORM_DIR, jobs=1)
    [first] = run_batch(options)
    out = tmp_path / "outbox" / first.name
    assert first.decision == "needs_review"
    assert (out / "dossier.pdf").exists() and not (out / "certificate.pdf").exists()
    assert "要確認" in dossier_text(out)

    review = out / "review.yaml"
    scores = "items: {7-1-1: {points: 5}, 7-1-2: {points: 4}, 7-1-3: {points: 5}}"
    signed = "reviewer: 山田 太郎\nsignoff: {first: {name: 山田 太郎, date: 2026-12-07}}\n"  # a certificate needs its reviewer
    text = review.read_text(encoding="utf-8").replace("\nitems:\n", f"\n{scores}\n", 1).replace("\nreviewer:\n", "\n", 1)
    text = text[: text.index("\nsignoff:\n") + 1] + signed
    review.write_text(text, encoding="utf-8")
    [second] = run_batch(options)
    assert second.status == "done" and second.decision == "pass"
    assert (out / "certificate.pdf").exists() and (out / "certificate.docx").exists()
    assert "合格" in dossier_text(out)
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert data["items"]["7-1-2"]["points"] == 4

    review.write_text(text.replace("7-1-2: {points: 4}", "7-1-2: {points: 0}"), encoding="utf-8")
    [third] = run_batch(options)
    assert third.decision == "fail"
    assert not (out / "certificate.pdf").exists() and not (out / "certificate.docx").exists()
    assert "不合格" in dossier_text(out)
