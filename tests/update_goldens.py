"""`make golden`: rebuild the demo submissions, process them, and rewrite tests/golden/*.json.

Read the diff (git diff tests/golden) before committing: every change there is a change in
what the pipeline decides.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.run.submission import process_submission
from samples.demo import build_demo, seed_reviews
from tests.golden import GOLDEN, dump, golden_path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        inbox, outbox = Path(tmp) / "inbox", Path(tmp) / "outbox"
        entries = build_demo(inbox, REPO / "forms" / "renewal")
        seed_reviews(outbox)
        for entry in entries:
            name = entry.stem if entry.is_file() else entry.name
            data = process_submission(entry, REPO / "forms" / "renewal", outbox / name)
            golden_path(f"demo_{name}").write_text(dump(data), encoding="utf-8")
            print(f"wrote {golden_path(f'demo_{name}')}: {data['score']['decision']}")


if __name__ == "__main__":
    main()
