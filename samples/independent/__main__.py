"""python -m samples.independent --out DIR --seed N --n K: make K submissions with their truth."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from samples.independent.generate import WAYS, generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.independent", description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=80000)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--ways", default=",".join(WAYS), help="comma-separated subset of " + ", ".join(WAYS))
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    mapping = generate(a.out, a.seed, a.n, tuple(w for w in a.ways.split(",") if w))
    for sub, pr in mapping.items():
        print(f"{sub}\t{pr}")
    print(f"{len(mapping)} submissions in {time.monotonic() - t0:.0f} s -> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
