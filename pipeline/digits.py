"""A small handwritten-digit classifier for label digits Tesseract cannot read, with per-class probabilities.

Trained on first use from data that installs with the packages: scikit-learn's bundled
``load_digits()`` (1,797 handwritten digits, 8×8, 0..16 grey levels) plus digits rendered from
the system's fonts with random slant, rotation, scale and stroke weight. Every glyph is brought
to the load_digits format (ink box fitted into 32×32 keeping its aspect, stroke weight
normalised, 4×4 blocks counted → 8×8 of 0..16), and an RBF SVC with Platt probabilities is
fitted (about 2 s).

The fitted model is pickled to ``$PIPELINE_CACHE_DIR`` (default ``$XDG_CACHE_HOME/isp-mark-review``,
else ``~/.cache/isp-mark-review``) as ``digits-<key>.pkl``; the key changes with the training
recipe, the scikit-learn version and the fonts found, so a stale model is never loaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

RECIPE = "v2:load_digits+fonts*60:svc-rbf-C3-platt"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf",
)
INK_SHARE = 0.25  # strokes thickened to this share of the 32×32 box (0.22–0.30 measured alike; 0.25 best)
FONT_SAMPLES_PER_FONT = 60  # per digit and font; 150 was no better on held-out handwriting


@dataclass(frozen=True, slots=True)
class DigitGuess:
    """The classifier's verdict on one glyph: best digit, its probability and the runner-up."""

    digit: str
    probability: float
    runner_up: str
    runner_up_probability: float
    probabilities: tuple[float, ...] = ()  # of "0" … "9", in that order

    @property
    def margin(self) -> float:
        return self.probability - self.runner_up_probability


def cache_dir() -> Path:
    env = os.environ.get("PIPELINE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "isp-mark-review"


def features(ink: NDArray[Any]) -> NDArray[np.float32]:
    """load_digits-style features (64 values 0..1) of one glyph; ``ink`` is a 2-D mask or image, non-zero = ink.

    Like the bundled set: the glyph's box is scaled to 32 px high (aspect kept), centred in 32×32,
    its strokes thickened until about a quarter of the box is ink (load_digits is 0.30 for every
    class), and each 4×4 block's ink counted.
    """
    import cv2

    mask = (np.asarray(ink) > 0).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return np.zeros(64, np.float32)
    mask = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = mask.shape
    scale = min(32.0 / h, 32.0 / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = (cv2.resize(mask * 255, (nw, nh), interpolation=cv2.INTER_AREA) > 96).astype(np.uint8)
    box: NDArray[Any] = np.zeros((32, 32), np.uint8)
    y0, x0 = (32 - nh) // 2, (32 - nw) // 2
    box[y0 : y0 + nh, x0 : x0 + nw] = small
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(8):
        if box.mean() >= INK_SHARE:
            break
        box = cv2.dilate(box, kernel)
    blocks = box.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float32)
    return (blocks.reshape(64) / 16.0).astype(np.float32)


def _font_digits(rng: np.random.Generator) -> tuple[list[NDArray[np.float32]], list[int]]:
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    fonts = [f for f in FONT_CANDIDATES if Path(f).is_file()]
    xs: list[NDArray[np.float32]] = []
    ys: list[int] = []
    per_font = FONT_SAMPLES_PER_FONT
    for path in fonts:
        font = ImageFont.truetype(path, 48)
        for d in range(10):
            base = Image.new("L", (80, 80), 0)
            ImageDraw.Draw(base).text((16, 6), str(d), font=font, fill=255)
            glyph = np.asarray(base)
            for _ in range(per_font):
                shear = rng.uniform(-0.1, 0.35)
                ang = np.radians(rng.uniform(-8, 8))
                sx = rng.uniform(0.75, 1.2)
                c, s = np.cos(ang), np.sin(ang)
                a = np.array([[c * sx, -s + shear], [s * sx, c]])
                m = np.hstack([a, (np.array([40.0, 40.0]) - a @ np.array([40.0, 40.0]))[:, None]])
                warped = cv2.warpAffine(glyph, m, (80, 80), flags=cv2.INTER_LINEAR)
                k = int(rng.integers(-1, 4))
                if k > 0:
                    warped = cv2.dilate(warped, np.ones((k, k), np.uint8))
                elif k < 0:
                    warped = cv2.erode(warped, np.ones((2, 2), np.uint8))
                xs.append(features(warped > 100))
                ys.append(d)
    return xs, ys


def _training_set(seed: int = 0) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    from sklearn.datasets import load_digits

    ld = load_digits()
    fx, fy = _font_digits(np.random.default_rng(seed))
    x = np.vstack([(ld.images.reshape(-1, 64) / 16.0).astype(np.float32), *fx])
    return x, np.concatenate([ld.target.astype(np.int64), np.array(fy, dtype=np.int64)])


def _cache_key() -> str:
    import sklearn

    fonts = [f for f in FONT_CANDIDATES if Path(f).is_file()]
    raw = "|".join([RECIPE, sklearn.__version__, str(INK_SHARE), *fonts])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def train(seed: int = 0) -> Any:
    """Fit the classifier from scratch (a few seconds); returns the fitted scikit-learn model."""
    from sklearn.svm import SVC

    x, y = _training_set(seed)
    # libsvm's own Platt scaling with pairwise coupling separated right from wrong reads far better
    # than CalibratedClassifierCV on held-out handwriting (p >= 0.8: 6 % held back, 1 wrong in 3,000;
    # sigmoid/temperature calibration: 8-25 wrong). It is deprecated in scikit-learn 1.9 (gone in 1.11).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            model = SVC(C=3.0, gamma="scale", probability=True, random_state=seed)
            model.fit(x, y)
        except (TypeError, ValueError):  # a scikit-learn without probability=True
            from sklearn.calibration import CalibratedClassifierCV

            model = CalibratedClassifierCV(SVC(C=3.0, gamma="scale"), method="temperature", cv=5, ensemble=True)
            model.fit(x, y)
    return model


class DigitClassifier:
    """Classifies single-glyph masks into 0–9 with probabilities; load with ``DigitClassifier.load()``."""

    def __init__(self, model: Any) -> None:
        self._model = model

    @classmethod
    def load(cls, directory: Path | None = None) -> DigitClassifier:
        """Load the cached model, training and caching it on first use (written atomically)."""
        directory = directory or cache_dir()
        path = directory / f"digits-{_cache_key()}.pkl"
        if path.is_file():
            try:
                with path.open("rb") as fh:
                    return cls(pickle.load(fh))
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
                log.warning("digit model cache %s unreadable (%s); retraining", path, exc)
        log.info("training the digit classifier (first use); caching it at %s", path)
        model = train()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            with tmp.open("wb") as fh:
                pickle.dump(model, fh)
            tmp.replace(path)
        except OSError as exc:
            log.warning("could not cache the digit model at %s: %s", path, exc)
        return cls(model)

    def classify(self, glyphs: list[NDArray[Any]]) -> list[DigitGuess]:
        """One guess per glyph mask (non-zero = ink)."""
        if not glyphs:
            return []
        probs = self._model.predict_proba(np.vstack([features(g) for g in glyphs]))
        classes = [str(c) for c in self._model.classes_]
        out = []
        for p in probs:
            order = np.argsort(p)[::-1]
            full = dict(zip(classes, (float(v) for v in p)))
            every = tuple(full.get(str(d), 0.0) for d in range(10))
            out.append(DigitGuess(classes[order[0]], float(p[order[0]]), classes[order[1]], float(p[order[1]]), every))
        return out


_SHARED: DigitClassifier | None = None
_LOCK = threading.Lock()


def get_classifier() -> DigitClassifier:
    """The process-wide classifier (loaded or trained once)."""
    global _SHARED
    with _LOCK:
        if _SHARED is None:
            _SHARED = DigitClassifier.load()
        return _SHARED
