"""The review station in a real browser: Debian's headless Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # Debian's chromium only; nothing downloaded

CHROMIUM = Path(os.environ.get("STATION_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (make setup installs Debian's chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (make setup)")
uvicorn = pytest.importorskip("uvicorn", reason="uvicorn not installed (make setup)")

from pipeline.station.app import StationSettings, create_app  # noqa: E402
from tests.station_data import FORM_DIR, HOSTILE_COMPANY, HOSTILE_FILE, UNSURE, UNSURE_ITEM, copy_tree, shared_outbox  # noqa: E402

pytestmark = pytest.mark.slow
TOKEN = "browser-test-token"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
# Where the README's screenshots are refreshed from (`STATION_SCREENSHOTS=docs make test`).
SHOTS = os.environ.get("STATION_SCREENSHOTS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def station(tmp_path):
    """A station on 127.0.0.1 over a private copy of the session's outbox; yields (base url, inbox, outbox)."""
    inbox, outbox = copy_tree(shared_outbox(), tmp_path)
    settings = StationSettings(outbox=outbox, inbox=inbox, form=FORM_DIR, token=TOKEN)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", inbox, outbox
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    """A fresh headless Chromium profile; collects dialogs (alert) and script errors, which every test forbids."""
    profile = tmp_path / "profile"
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=ARGS, headless=True, viewport={"width": 1280, "height": 900}, locale="ja-JP"
        )
        context.set_default_timeout(30_000)
        events: list[str] = []
        context.on("page", lambda page: watch(page, events))
        yield context, events
        context.close()


def watch(page, events: list[str]) -> None:
    page.on("dialog", lambda d: (events.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: events.append(f"script error: {e}"))


def open_page(context, events, url: str):
    page = context.new_page()
    page.goto(url)
    return page


def shot(page, name: str, tmp_path: Path, full: bool = False) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=full)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SHOTS) / name)
    return path


def test_reviewer_corrects_scores_signs_and_sees_the_pass(station, browser, tmp_path):
    """Ensures that, in Chromium, a reviewer fixes the uncertain mark by clicking it on the page image, scores 7-1-1..7-1-3, signs, saves and sees 合格 with the certificate link."""
    base, _, outbox = station
    context, events = browser
    page = open_page(context, events, f"{base}/?token={TOKEN}")
    assert "token" not in page.url
    row = page.locator(f'tr[data-name="{UNSURE}"]')
    assert "要確認" in row.inner_text()
    row.locator("a.open").click()
    page.wait_for_url(f"**/s/{UNSURE}")
    assert page.locator("#decision-word").inner_text() == "要確認"
    assert page.locator(".task.k-mark").count() == 1

    box = page.locator(f'.box[data-control="item:{UNSURE_ITEM}:answer"][data-value="yes"]')
    assert "s-uncertain" in (box.get_attribute("class") or "")
    box.scroll_into_view_if_needed()
    box.click()
    assert page.locator(f'input[name="item:{UNSURE_ITEM}:answer"][value="yes"]').is_checked()
    for item, points in (("7-1-1", "5"), ("7-1-2", "4"), ("7-1-3", "5")):
        page.check(f'input[name="item:{item}:points"][value="{points}"]')
    page.fill("#reviewer", "山田 太郎")
    page.check("#sign-first")
    page.set_viewport_size({"width": 1280, "height": 1300})
    page.locator("header.top").scroll_into_view_if_needed()
    shot(page, "station-submission.png", tmp_path)
    page.click("#save")
    sync_api.expect(page.locator("#rerun")).to_contain_text("再判定", timeout=10_000)  # the page says it is working
    sync_api.expect(page.locator("#decision-word")).to_have_text("合格", timeout=300_000)
    assert page.locator("#certificate-link").is_visible()
    assert page.request.get(base + (page.locator("#certificate-link").get_attribute("href") or "")).body().startswith(b"%PDF")
    assert (outbox / UNSURE / "certificate.pdf").is_file()
    text = (outbox / UNSURE / "review.yaml").read_text(encoding="utf-8")
    assert f"{UNSURE_ITEM}: {{answer: はい}}" in text and "7-1-2: {points: 4}" in text and "reviewer: 山田 太郎" in text
    batch = open_page(context, events, f"{base}/")
    row = batch.locator(f'tr[data-name="{UNSURE}"]')
    assert "合格" in row.inner_text() and "山田 太郎" in row.inner_text() and "一次審査 済" in row.inner_text()
    assert "不確実な印" not in row.inner_text()  # corrected: no longer waiting for the reviewer
    assert row.locator("a.cert").is_visible()
    shot(batch, "station-batch.png", tmp_path)
    # the name is remembered in this browser for the next submission
    other = open_page(context, events, f"{base}/s/03_incomplete")
    assert other.input_value("#reviewer") == "山田 太郎"
    assert events == []


def test_a_bad_value_is_refused_on_the_page(station, browser):
    """Ensures that a sign-off date that does not exist is refused on the page with the check's Japanese message, and review.yaml is unchanged."""
    base, _, outbox = station
    context, events = browser
    review = outbox / UNSURE / "review.yaml"
    before = review.read_bytes()
    page = open_page(context, events, f"{base}/s/{UNSURE}?token={TOKEN}")
    page.fill("#reviewer", "山田 太郎")
    page.check("#sign-first")
    page.fill("#date-first", "2026-02-30")
    page.click("#save")
    message = page.locator("#messages").inner_text()
    assert "保存できませんでした" in message and "2026-02-30" in message and "行目" in message
    assert review.read_bytes() == before
    assert events == []


def test_a_stale_save_from_a_second_tab_is_refused(station, browser):
    """Ensures that of two tabs opened on the same submission, the second to save is refused with a message and the first's edit stays."""
    base, _, outbox = station
    context, events = browser
    first = open_page(context, events, f"{base}/s/{UNSURE}?token={TOKEN}")
    second = open_page(context, events, f"{base}/s/{UNSURE}")
    first.check('input[name="item:7-1-1:points"][value="5"]')
    first.click("#save")
    first.wait_for_url("**saved=1**")
    saved = (outbox / UNSURE / "review.yaml").read_bytes()
    second.check('input[name="item:7-1-1:points"][value="0"]')
    second.click("#save")
    message = second.locator("#messages.stale").inner_text()
    assert "別のタブか別の審査者" in message
    assert (outbox / UNSURE / "review.yaml").read_bytes() == saved
    assert b"7-1-1: {points: 5}" in saved
    assert events == []


def test_hostile_names_are_shown_literally(station, browser):
    """Ensures that a folder named like an <img onerror> tag, a file named like a <script> tag and a company name with markup show as text and run nothing."""
    base, _, outbox = station
    context, events = browser
    page = open_page(context, events, f"{base}/?token={TOKEN}")
    hostile = next(p.name for p in outbox.iterdir() if "onerror" in p.name)
    row = page.locator("tr", has_text="onerror")
    assert hostile in row.inner_text()
    assert HOSTILE_COMPANY in row.inner_text()
    row.locator("a.open").click()
    page.wait_for_load_state()
    assert HOSTILE_FILE in page.locator("#sources").inner_text()
    assert page.locator("#pwn").count() == 0 and page.locator("img[onerror]").count() == 0
    page.wait_for_timeout(300)
    assert events == []
