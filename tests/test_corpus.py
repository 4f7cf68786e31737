"""Every real file of the corpus, processed as a submission, ends as a result or a clear unreadable_file flag."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from pipeline.run.batch import RunOptions, run_batch
from pipeline.run.inbox import submission_name

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "real"


def manifest() -> dict[str, dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is not here")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in CORPUS.iterdir() if p.is_file()}
    outbox = tmp_path_factory.mktemp("corpus") / "outbox"
    outcomes = run_batch(RunOptions(inbox=CORPUS, outbox=outbox, form=REPO / "forms" / "renewal", jobs=2, render=False))
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in CORPUS.iterdir() if p.is_file()}
    return outcomes, outbox, before, after


def test_every_corpus_file_ends_as_a_result(corpus_run, schema_validator):
    """Ensures that no corpus file crashes the pipeline: each gets a schema-valid result.json and no error.log."""
    outcomes, outbox, *_ = corpus_run
    rows = manifest()
    assert {o.name for o in outcomes} == {submission_name(CORPUS / f) for f in rows}
    for o in outcomes:
        assert o.status == "done", f"{o.name}: {o.message}"
        data = json.loads((outbox / o.name / "result.json").read_text(encoding="utf-8"))
        errors = list(schema_validator.iter_errors(data))
        assert not errors, f"{o.name}: {errors[0].message}"
        assert not (outbox / o.name / "error.log").exists()


def test_corpus_errors_are_said_in_plain_words(corpus_run):
    """Ensures that each file the manifest expects to fail is an unreadable_file flag naming what is wrong."""
    _, outbox, *_ = corpus_run
    words = {"encrypted": "encrypted", "not a PDF": "not a PDF", "0 bytes": "empty", "truncated": "truncated", "too large": "too large"}
    for name, row in manifest().items():
        expected = row["expected_pipeline_behaviour"].lower()
        data = json.loads((outbox / submission_name(CORPUS / name) / "result.json").read_text(encoding="utf-8"))
        flags = [f["message"] for f in data["flags"] if f["code"] == "unreadable_file"]
        if expected.startswith("error"):
            assert flags, f"{name}: the manifest expects an error, none was flagged"
            for key, said in words.items():
                if key.lower() in expected and key != "too large":
                    assert any(said in m for m in flags), f"{name}: {flags}"
        elif expected.startswith("process") and "error" not in expected:
            source = data["sources"][0]
            assert source["status"] == "ok", f"{name}: {source.get('error')}"


def test_the_corpus_is_untouched(corpus_run):
    """Ensures that a run never changes the files it reads."""
    *_, before, after = corpus_run
    assert before == after
