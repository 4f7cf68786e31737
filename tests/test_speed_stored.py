"""What a process keeps on disk for the next one: the blank pages' ORB features, found once and read back bit for bit."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.form.definition import load_form
from pipeline.reading import references
from pipeline.reading.settings import REGISTER

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(folder))
    monkeypatch.setattr(references, "_CACHE", {})  # a new process: nothing prepared yet
    return folder


@pytest.fixture()
def own_form(tmp_path: Path):
    """The renewal form from a copy of its folder (its own blank PDF path, so nothing prepared before is reused)."""
    shutil.copytree(REPO / "forms" / "renewal", tmp_path / "renewal")
    return load_form(tmp_path / "renewal")


def _no_finding(*_: object) -> object:
    raise AssertionError("features found again although they were kept")


def test_blank_features_kept_are_the_features_found(own_form, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that a blank page's ORB features are kept on first use only, and that a later process reads back exactly what ORB finds."""
    refs = references.references(own_form)
    assert not list(cache.glob("blank-orb-*")), "features kept before any scan asked for them"
    page3 = refs[2]
    points, desc = page3.points, page3.desc
    fresh = references.features(page3.gray, REGISTER)
    assert np.array_equal(points, fresh[0]) and np.array_equal(desc, fresh[1]) and len(points) > 100
    kept = list(cache.glob("blank-orb-*.npz"))
    assert len(kept) == 1 and kept[0].name.endswith("-p3.npz") and not list(cache.glob("*.tmp*"))

    monkeypatch.setattr(references, "_CACHE", {})  # the next process
    monkeypatch.setattr(references, "features", _no_finding)
    again = references.references(own_form)[2]
    assert again is not page3 and "orb" not in again.cache
    assert np.array_equal(again.points, fresh[0]) and np.array_equal(again.desc, fresh[1])
    assert again.points.dtype == np.float32 and again.desc.dtype == np.uint8


def test_an_unreadable_features_file_is_logged_and_found_again(own_form, cache: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """Ensures that a damaged or foreign features file is never used: the features are found again (and kept again), with a warning."""
    ref = references.references(own_form)[0]
    fresh = (ref.points.copy(), ref.desc.copy())
    (path,) = cache.glob("blank-orb-*.npz")
    for bad in (b"PK\x03\x04 not a zip", None):
        if bad is None:  # a readable file that does not hold a page's features
            np.savez(path, points=np.zeros((5, 3), np.float32), desc=np.zeros((5, 32), np.uint8))
        else:
            path.write_bytes(bad)
        monkeypatch.setattr(references, "_CACHE", {})
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipeline.reading.references"):
            again = references.references(own_form)[0]
            assert np.array_equal(again.points, fresh[0]) and np.array_equal(again.desc, fresh[1])
        assert "unreadable" in caplog.text
    monkeypatch.setattr(references, "_CACHE", {})
    monkeypatch.setattr(references, "features", _no_finding)
    assert np.array_equal(references.references(own_form)[0].desc, fresh[1])  # kept again, good


def test_features_go_with_their_blank_when_it_is_pruned(cache: Path) -> None:
    """Ensures that pruning the stored blanks also removes the features kept for a blank no longer kept, and keeps the others'."""
    cache.mkdir()
    keys = [f"{k:024d}" for k in range(3)]
    for age, key in enumerate(keys):
        page = cache / f"blank-pages-{key}.npz"
        page.write_bytes(b"x")
        os.utime(page, (1_000_000 + age, 1_000_000 + age))
        (cache / f"blank-orb-{key}-abcdef012345-p1.npz").write_bytes(b"y")
    references._prune(cache, 2)  # noqa: SLF001 - the pruning rule itself
    left = sorted(p.name for p in cache.glob("blank-orb-*"))
    assert left == [f"blank-orb-{keys[1]}-abcdef012345-p1.npz", f"blank-orb-{keys[2]}-abcdef012345-p1.npz"]
