"""Speed of the review station: the batch page for 300 submissions, a submission page, and save → new decision.

    .venv/bin/python bench/bench_station.py [--count 300] [--repeat 10]

Targets (issue 14): batch page ≤ 0.5 s, a submission page ≤ 0.3 s, and from save to the new
decision shown ≤ the time of one `python -m pipeline run` of that submission + 1 s. Pages are
fetched over real HTTP from uvicorn on 127.0.0.1, as a browser would (the page's HTML; its
images load afterwards and in parallel). The save is timed until the status the page polls
says the re-run is over with the new decision.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.station.app import StationSettings, create_app  # noqa: E402
from tests.station_data import FORM_DIR, UNSURE, UNSURE_ITEM, build_inbox  # noqa: E402

TOKEN = "bench"


def small_tree(root: Path) -> tuple[Path, Path]:
    """inbox/ with the uncertain-mark submission alone, and its outbox from one run."""
    inbox, outbox = root / "inbox", root / "outbox"
    build_inbox(inbox)
    for entry in inbox.iterdir():
        if entry.name != UNSURE:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    run(inbox, outbox)
    return inbox, outbox


def run(inbox: Path, outbox: Path) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "pipeline", "run", "--inbox", str(inbox), "--outbox", str(outbox), "--form", str(FORM_DIR), "-q"]
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def big_outbox(source: Path, target: Path, count: int) -> None:
    """`count` submissions made from one real result (result.json, review.yaml, dossier.pdf), as the batch page reads them."""
    for i in range(count):
        folder = target / f"{i:03d}_{source.name}"
        folder.mkdir(parents=True)
        for name in ("result.json", "review.yaml", "dossier.pdf"):
            shutil.copy(source / name, folder / name)


def serve(settings: StationSettings) -> tuple[str, uvicorn.Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def timed(client: httpx.Client, url: str, repeat: int) -> tuple[float, float]:
    """(first, median of the rest) seconds for GET url."""
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
    return times[0], statistics.median(times[1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-station-"))
    try:
        inbox, outbox = small_tree(root)
        big = root / "big"
        big_outbox(outbox / UNSURE, big, args.count)
        start = time.perf_counter()
        base, server = serve(StationSettings(outbox=big, inbox=inbox, form=FORM_DIR, token=TOKEN))
        with httpx.Client(base_url=base, follow_redirects=True, timeout=120) as client:
            client.get(f"/?token={TOKEN}")  # the first page waits for the start's reading of every row
            print(f"start to first batch page ({args.count} result.json read once): {time.perf_counter() - start:.1f} s")
            cold, warm = timed(client, "/", args.repeat)
            print(f"batch page, {args.count} submissions: first {cold:.3f} s, then median {warm:.3f} s (target ≤ 0.5 s)")
            first = f"/s/000_{UNSURE}"
            cold, warm = timed(client, first, args.repeat)
            print(f"submission page: first {cold:.3f} s, then median {warm:.3f} s (target ≤ 0.3 s)")
        server.should_exit = True

        # one run of the submission alone, after a change of its review.yaml (what a save causes)
        review = outbox / UNSURE / "review.yaml"
        review.write_text(review.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        one_run = run(inbox, outbox)
        base, server = serve(StationSettings(outbox=outbox, inbox=inbox, form=FORM_DIR, token=TOKEN))
        with httpx.Client(base_url=base, follow_redirects=False, timeout=120) as client:
            client.get(f"/?token={TOKEN}")
            html = client.get(f"/s/{UNSURE}").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', html)
            sha = re.search(r'name="base" value="([^"]+)"', html)
            assert csrf and sha
            data = {"csrf": csrf.group(1), "base": sha.group(1), f"item:{UNSURE_ITEM}:answer": "yes", "reviewer": "山田 太郎", "sign:first": "1"}
            data |= {f"item:7-1-{n}:points": "5" for n in (1, 2, 3)} | {"date:first": "2026-12-07"}
            start = time.perf_counter()
            assert client.post(f"/s/{UNSURE}/save", data=data).status_code == 303
            while True:
                status = client.get(f"/s/{UNSURE}/status").json()
                if not status["busy"]:
                    break
                time.sleep(0.25)  # the page polls every 250 ms
            shown = time.perf_counter() - start
        server.should_exit = True
        print(f"save → new decision ({status['decision']}) shown: {shown:.1f} s; one run of that submission: {one_run:.1f} s "
              f"(target ≤ {one_run + 1:.1f} s)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
