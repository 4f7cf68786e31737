"""End to end on the demo submissions: build them, process them, compare with the golden results."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline.run.submission import process_submission
from samples.demo import build_demo, seed_reviews
from tests.golden import dump, golden_path

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    inbox, outbox = tmp / "inbox", tmp / "outbox"
    entries = build_demo(inbox, REPO / "forms" / "renewal")
    seed_reviews(outbox)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.rglob("*") if p.is_file()}
    results = {}
    for entry in entries:
        name = entry.stem if entry.is_file() else entry.name
        results[name] = process_submission(entry, REPO / "forms" / "renewal", outbox / name)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.rglob("*") if p.is_file()}
    return results, before, after, outbox


def test_demo_results_are_valid_and_match_goldens(demo_results, schema_validator):
    """Ensures that every demo submission gives a schema-valid result.json equal to its golden file."""
    results, *_ = demo_results
    assert len(results) == 3
    for name, data in results.items():
        errors = list(schema_validator.iter_errors(data))
        assert not errors, f"{name}: {errors[0].message}"
        golden = golden_path(f"demo_{name}")
        assert golden.exists(), f"{golden} missing: run `make golden` and read the diff"
        assert dump(data) == golden.read_text(encoding="utf-8"), f"{name} differs from {golden.name}: run `make golden` and read the diff"


def test_demo_decisions(demo_results):
    """Ensures that the three demo cases reach the decisions a reviewer would: pass, needs_review, fail."""
    results, *_ = demo_results
    by_prefix = {name[:2]: data for name, data in results.items()}
    assert by_prefix["01"]["score"]["decision"] == "pass"
    assert by_prefix["02"]["score"]["decision"] == "needs_review"
    third = by_prefix["03"]
    assert third["score"]["decision"] == "fail"
    codes = {(f["code"], f["item"]) for f in third["flags"]}
    assert ("required_not_met", "1-1-2") in codes
    assert ("missing_signature", "3-1-5") in codes
    # one document is unlabelled: it could be either missing one, so a person looks (not missing_document)
    assert ("unconfirmed_document", "7-2-2") in codes and ("unconfirmed_document", "2-3-1") in codes
    assert not any(code == "missing_document" for code, _ in codes)
    assert ("unlabeled_attachment", None) in codes
    assert third["items"]["3-1-6"]["answer"] == "no"


def test_demo_inbox_untouched_and_review_written_once(demo_results):
    """Ensures that processing leaves the inbox byte-identical and writes review.yaml only when absent."""
    results, before, after, outbox = demo_results
    assert before == after
    seeded = (outbox / "01_サンプルネット（AcroForm）" / "review.yaml").read_text(encoding="utf-8")
    assert "7-1-2: {points: 4}" in seeded
    assert (outbox / "03_incomplete" / "review.yaml").exists()
