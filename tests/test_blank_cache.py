"""The blank pages kept on disk (references.stored): read back bit for bit, rebuilt when unreadable, never needed to run."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import numpy as np
import pytest

from pipeline.reading import references
from pipeline.reading.settings import REGISTER


def _same(a: list[references.Prepared], b: list[references.Prepared]) -> bool:
    return len(a) == len(b) and all(
        na == nb and all(x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y) for x, y in zip(pa, pb))
        for (na, *pa), (nb, *pb) in zip(a, b)
    )


def _no_rendering(*_: object) -> list[references.Prepared]:
    raise AssertionError("rendered again although the cache file was good")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(folder))
    return folder


def test_stored_pages_are_the_rendered_pages_read_back(form, cache, monkeypatch):
    fresh = references.rendered(form)
    first = references.stored(form)
    files = list(cache.glob("blank-pages-*.npz"))
    assert len(files) == 1 and not list(cache.glob("*.tmp*"))
    assert _same(first, fresh)
    monkeypatch.setattr(references, "rendered", _no_rendering)
    again = references.stored(form)
    assert _same(again, fresh)
    assert [n for n, *_ in again] == [p.number for p in form.pages]


def test_an_unreadable_or_foreign_file_is_logged_and_made_again(form, cache, caplog):
    fresh = references.stored(form)
    (path,) = cache.glob("blank-pages-*.npz")
    path.write_bytes(b"PK\x03\x04 not a zip at all")
    with caplog.at_level(logging.WARNING, logger="pipeline.reading.references"):
        assert _same(references.stored(form), fresh)
    assert "unreadable" in caplog.text
    assert _same(references.stored(form), fresh)  # written again, good
    # a file under this key holding another key's pages (copied by hand, a key clash) is not taken
    other = cache / f"blank-pages-{'0' * 24}.npz"
    path.replace(other)
    np.savez(path, key=np.array("0" * 24), numbers=np.array([], np.int32))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipeline.reading.references"):
        assert _same(references.stored(form), fresh)
    assert "holds key" in caplog.text


def test_a_cache_folder_that_cannot_be_written_only_costs_the_rendering(form, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(blocker / "cache"))
    with caplog.at_level(logging.WARNING, logger="pipeline.reading.references"):
        pages = references.stored(form)
    assert _same(pages, references.rendered(form))
    assert "could not keep the blank pages" in caplog.text


def test_the_key_follows_the_blank_the_layout_and_the_settings(form, tmp_path):
    key = references.store_key(form)
    assert references.store_key(form) == key
    assert references.store_key(replace(form, fingerprint="another layout.yaml")) != key
    assert references.store_key(form, replace(REGISTER, work_dpi=REGISTER.work_dpi + 1)) != key
    assert references.store_key(form, replace(REGISTER, thumb_blur_px=REGISTER.thumb_blur_px + 0.5)) != key
    folder = tmp_path / "form"
    folder.mkdir()
    (folder / "blank.pdf").write_bytes(open(form.blank_pdf, "rb").read() + b"\n% one more comment\n")
    assert references.store_key(replace(form, folder=str(folder))) != key


def test_only_the_most_recently_used_stored_blanks_are_kept(form, cache):
    cache.mkdir()
    old = []
    for k in range(references.KEEP_STORED + 2):
        path = cache / f"blank-pages-old{k:02d}.npz"
        path.write_bytes(b"a stored blank of another printing")
        os.utime(path, (1_000_000 + k, 1_000_000 + k))
        old.append(path)
    references.stored(form)
    left = sorted(cache.glob("blank-pages-*.npz"))
    assert len(left) == references.KEEP_STORED
    assert cache / f"blank-pages-{references.store_key(form)}.npz" in left
    assert all(p in left for p in old[-(references.KEEP_STORED - 1) :])  # the newest of the others stay
    assert not any(p in left for p in old[: 3])
