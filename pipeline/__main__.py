"""python -m pipeline → cli.main()."""

import os
import sys

# numpy's OpenBLAS at one thread (unless the operator says otherwise), set before anything imports numpy: the
# run spreads its work over cores itself (workers, field-OCR threads, OpenCV), and OpenBLAS's own threads only
# fought them. Measured on the loaded 2-core machine, bench_submission's own-scan (28 pages), 2 runs each: CPU
# 14.2 -> 11.0 s, wall 28.7 -> 23.5 s, result.json identical; 5 digit glyphs' kernel 16 ms -> 1 ms.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pipeline.cli import main  # noqa: E402 — after the thread setting above

sys.exit(main())
