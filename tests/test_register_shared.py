"""What registration prepares once and shares: the blank pages' features on first use, one darkness measure of a page."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.form.definition import load_form
from pipeline.reading.references import features, prepare_features, references
from pipeline.reading.register import Registration, darkness, levels, register
from pipeline.reading.settings import REGISTER
from pipeline.sources.resample import shrink
from samples.synth.scans import GenOptions, generate

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def own_form(tmp_path: Path):
    """The renewal form from a copy of its folder: its blank pages are prepared anew (another blank PDF, another cache entry)."""
    shutil.copytree(REPO / "forms" / "renewal", tmp_path / "renewal")
    return load_form(tmp_path / "renewal")


def test_blank_features_are_found_for_the_pages_a_scan_is_matched_to_only(own_form) -> None:
    """Ensures that registering one scanned page finds the ORB features of the blank pages it was matched to, not of all 15, and that they are the rendering's own."""
    pages, _ = generate(own_form, 88401, GenOptions(dpi=200, mode="gray", pages=(4,), upside_down=0))
    gray = shrink(pages[0].image, REGISTER.work_dpi / 200)
    refs = references(own_form)
    assert not any("orb" in r.cache for r in refs), "features were found before any scan asked for them"
    reg = register(gray, own_form)
    assert isinstance(reg, Registration) and reg.layout.number == 4
    found = [r.layout.number for r in refs if "orb" in r.cache]
    assert 4 in found and len(found) < len(refs), found
    page4 = next(r for r in refs if r.layout.number == 4)
    points, desc = features(page4.gray, REGISTER)
    assert np.array_equal(page4.points, points) and np.array_equal(page4.desc, desc)


def test_prepare_features_finds_every_pages_features(own_form) -> None:
    """Ensures that prepare_features (a pool's parent, before forking) leaves every blank page's features found."""
    refs = references(own_form)
    prepare_features(refs)
    assert all("orb" in r.cache and len(r.points) > 100 for r in refs)


@pytest.mark.parametrize(("paper", "ink"), [(230.0, 40.0), (201.0, 121.0), (255.0, 0.0), (180.0, 100.0), (100.0, 99.5)])
def test_darkness_table_is_the_float_formula_bit_for_bit(paper: float, ink: float) -> None:
    """Ensures that darkness through its table of 256 levels is exactly what the float32 formula gives every pixel."""
    gray = np.random.default_rng(88402).integers(0, 256, (117, 83), dtype=np.uint8)
    scale = np.float32(1.0 / max(paper - ink, 1.0))
    want = np.clip((np.float32(paper) - gray.astype(np.float32)) * scale, 0.0, 1.0)
    got = darkness(gray, paper, ink)
    assert got.dtype == np.float32 and got.shape == gray.shape
    assert np.array_equal(got.view(np.int32), want.view(np.int32))
    assert np.array_equal(darkness(gray.astype(np.float32), paper, ink), want)  # not grey bytes: the formula itself


def test_levels_of_a_page_are_read_once_for_register(own_form) -> None:
    """Ensures that register given the page's darkness reads the page as it does when it measures it itself."""
    pages, _ = generate(own_form, 88403, GenOptions(dpi=200, mode="gray", pages=(2,), upside_down=0))
    gray = shrink(pages[0].image, REGISTER.work_dpi / 200)
    a = register(gray, own_form)
    b = register(gray, own_form, REGISTER, darkness(gray, *levels(gray)))
    assert isinstance(a, Registration) and isinstance(b, Registration)
    assert a.layout.number == b.layout.number == 2 and np.array_equal(a.matrix, b.matrix) and a.quality == b.quality
