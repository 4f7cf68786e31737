"""A small handwritten-digit classifier for label digits Tesseract cannot read, with per-class probabilities.

Trained on first use from data that installs with the packages: scikit-learn's bundled
``load_digits()`` (1,797 handwritten digits, 8×8, 0..16 grey levels) plus digits rendered from
the system's fonts with random slant, rotation, scale and stroke weight. Every glyph is brought
to the load_digits format (ink box fitted into 32×32 keeping its aspect, stroke weight
normalised, 4×4 blocks counted → 8×8 of 0..16), and an RBF SVC with Platt probabilities is fitted.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

RECIPE = "v1:load_digits+fonts*160:svc-rbf-C10"
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
STROKE_PX = 3.5  # stroke width at 32 px height that matches load_digits' ink density (measured: see bench)
FONT_SAMPLES_PER_DIGIT = 160


@dataclass(frozen=True, slots=True)
class DigitGuess:
    """The classifier's verdict on one glyph: best digit, its probability and the runner-up."""

    digit: str
    probability: float
    runner_up: str
    runner_up_probability: float

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
    """load_digits-style features (64 values 0..1) of one glyph; ``ink`` is a 2-D mask or image, non-zero = ink."""
    import cv2

    mask = (np.asarray(ink) > 0).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return np.zeros(64, np.float32)
    mask = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = mask.shape
    scale = 28.0 / max(h, w)  # 2 px margin each side inside 32×32, like the NIST preprocessing
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.resize(mask * 255, (nw, nh), interpolation=cv2.INTER_AREA)
    small = (small > 96).astype(np.uint8)
    box = np.zeros((32, 32), np.uint8)
    y0, x0 = (32 - nh) // 2, (32 - nw) // 2
    box[y0 : y0 + nh, x0 : x0 + nw] = small
    # normalise stroke weight: estimate it as 2·area / contour length, then dilate or erode towards STROKE_PX
    contours, _ = cv2.findContours(box, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perim = sum(len(c) for c in contours)
    width = 2.0 * float(box.sum()) / max(perim, 1)
    k = int(round(STROKE_PX - width))
    if k >= 1:
        box = cv2.dilate(box, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k + 1, k + 1)))
    elif k <= -1:
        eroded = cv2.erode(box, np.ones((2, 2), np.uint8))
        box = eroded if eroded.sum() > 0.4 * box.sum() else box
    blocks = box.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.float32)
    return (blocks.reshape(64) / 16.0).astype(np.float32)


def _font_digits(rng: np.random.Generator) -> tuple[list[NDArray[np.float32]], list[int]]:
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    fonts = [f for f in FONT_CANDIDATES if Path(f).is_file()]
    xs: list[NDArray[np.float32]] = []
    ys: list[int] = []
    per_font = max(1, FONT_SAMPLES_PER_DIGIT // max(1, len(fonts)))
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
    xs: list[NDArray[np.float32]] = []
    ys: list[int] = []
    for img, t in zip(ld.images, ld.target):
        # back to a 32×32 mask (each block's count → that many ink pixels' worth) and through the same features()
        up = np.kron(img, np.ones((4, 4))) > 7.5
        xs.append(features(up) if up.any() else (img.reshape(64) / 16.0).astype(np.float32))
        ys.append(int(t))
    fx, fy = _font_digits(np.random.default_rng(seed))
    return np.vstack(xs + fx).astype(np.float32), np.array(ys + fy, dtype=np.int64)


def _cache_key() -> str:
    import sklearn

    fonts = [f for f in FONT_CANDIDATES if Path(f).is_file()]
    raw = "|".join([RECIPE, sklearn.__version__, str(STROKE_PX), *fonts])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def train(seed: int = 0) -> Any:
    """Fit the classifier from scratch (a few seconds); returns the fitted scikit-learn model."""
    from sklearn.svm import SVC

    x, y = _training_set(seed)
    model = SVC(C=10.0, gamma="scale", probability=True, random_state=seed)
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
            out.append(DigitGuess(classes[order[0]], float(p[order[0]]), classes[order[1]], float(p[order[1]])))
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
