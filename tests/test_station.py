"""The review station over HTTP (Starlette's TestClient): access, escaping, paths, saving through the shared check."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from html import escape as html_escape
from pathlib import Path

import pytest

from pipeline.cli import main as cli_main
from pipeline.form.definition import load_form
from pipeline.rules.review_check import check_review_text, format_problems
from pipeline.run.inbox import outbox_lock
from pipeline.station.app import StationSettings, create_app
from pipeline.station.edits import STALE_MESSAGE, save_review, text_sha256
from pipeline.station.rerun import Rerunner, RerunStatus
from pipeline.station.security import hash_password, load_config, verify_password
from pipeline.station.views import BatchIndex
from tests.station_data import FORM_DIR, HOSTILE_COMPANY, HOSTILE_FILE, UNSURE, UNSURE_ITEM, copy_tree, shared_outbox

pytestmark = pytest.mark.slow
TOKEN = "start-token-for-tests"

starlette_testclient = pytest.importorskip("starlette.testclient", reason="starlette not installed (make setup)")


class FakeRerunner(Rerunner):
    """Records the re-runs asked for; runs nothing."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def request(self, name: str) -> None:
        self.asked.append(name)

    def status(self, name: str) -> RerunStatus:
        return RerunStatus("idle")


@pytest.fixture
def tree(tmp_path):
    """A private copy of the session's inbox/ and outbox/ (made once by `python -m pipeline run`)."""
    return copy_tree(shared_outbox(), tmp_path)


def client_for(inbox: Path, outbox: Path, token: str | None = TOKEN, rerunner: Rerunner | None = None, **kw):
    settings = StationSettings(outbox=outbox, inbox=inbox, form=FORM_DIR, token=token, **kw)
    app = create_app(settings, rerunner or FakeRerunner())
    return starlette_testclient.TestClient(app, base_url="https://testserver" if kw.get("secure_cookies") else "http://testserver")


def logged_in(inbox: Path, outbox: Path, **kw):
    client = client_for(inbox, outbox, **kw)
    assert client.get(f"/?token={TOKEN}").status_code == 200
    return client


def csrf_and_base(html: str) -> tuple[str, str]:
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    base = re.search(r'name="base" value="([^"]+)"', html)
    assert csrf and base
    return csrf.group(1), base.group(1)


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


# --- access -------------------------------------------------------------------------------------


def test_every_request_needs_the_start_token_or_its_session(tree):
    """Ensures that without the start token (or the session it makes) every page, file and write is refused."""
    inbox, outbox = tree
    client = client_for(inbox, outbox)
    for path in ("/", f"/s/{UNSURE}", f"/s/{UNSURE}/file/dossier.pdf", f"/s/{UNSURE}/status", "/?token=wrong"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/s/{UNSURE}/save", data={"reviewer": "x"}).status_code == 403
    response = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303 and "token" not in response.headers["location"]
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/").status_code == 200
    assert client.get(f"/s/{UNSURE}/file/dossier.pdf").content.startswith(b"%PDF")


def test_the_station_listens_on_127_0_0_1_unless_a_password_and_tls_are_configured(tmp_path, capsys):
    """Ensures that the default address is loopback and `--host` without a config (password hash, TLS pair) refuses to start."""
    from pipeline.station.serve import ServeOptions

    assert ServeOptions(outbox=tmp_path, inbox=tmp_path, form=FORM_DIR).host == "127.0.0.1"
    args = ["review", "--outbox", str(tmp_path), "--inbox", str(tmp_path), "--host", "0.0.0.0", "--port", "0"]
    assert cli_main(args) == 1
    assert "--config" in capsys.readouterr().err
    config = tmp_path / "station.yaml"
    config.write_text(f"password_hash: '{hash_password('correct horse')}'\n", encoding="utf-8")
    assert cli_main([*args, "--config", str(config)]) == 1
    assert "tls_cert" in capsys.readouterr().err


def test_a_lan_station_stores_only_the_hash_and_needs_the_password(tree, tmp_path, monkeypatch):
    """Ensures that --set-password writes a scrypt hash (never the password) and the LAN station lets in only that password, with Secure cookies."""
    inbox, outbox = tree
    config = tmp_path / "station.yaml"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("correct horse\n"))
    assert cli_main(["review", "--set-password", "--config", str(config)]) == 0
    text = config.read_text(encoding="utf-8")
    assert "correct horse" not in text and "scrypt$" in text
    stored = load_config(config).password_hash
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)

    client = client_for(inbox, outbox, token=None, password_hash=stored, secure_cookies=True)
    assert client.get(f"/?token={TOKEN}", follow_redirects=False).status_code == 303  # to the login, not in
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.post("/login", data={"password": "wrong"}).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303
    response = client.post("/login", data={"password": "correct horse"}, follow_redirects=False)
    assert response.status_code == 303 and "; Secure" in response.headers["set-cookie"]
    assert client.get("/").status_code == 200


def test_a_write_without_the_pages_csrf_token_changes_nothing(tree):
    """Ensures that a save with the session but without (or with another) CSRF token is refused and review.yaml stays as it was."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox)
    _, base = csrf_and_base(client.get(f"/s/{UNSURE}").text)
    before = snapshot(outbox)
    for csrf in ("", "forged"):
        response = client.post(f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "item:7-1-1:points": "5"})
        assert response.status_code == 403
    assert snapshot(outbox) == before


# --- what the pages show --------------------------------------------------------------------------


def test_batch_page_lists_every_submission_with_decision_and_filters(tree):
    """Ensures that the batch page shows each submission's decision, 必須, points, waiting work and links, and filters by decision."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox)
    html = client.get("/").text
    names = sorted(p.name for p in outbox.iterdir() if (p / "result.json").is_file())
    assert len(names) == 5
    for name in names:
        assert f'data-name="{name}"' in html
    assert "要確認" in html and "不合格" in html and "29/29" in html and "104〜119" in html
    assert "審査者の採点 3" in html and "不確実な印 1" in html
    only_fail = client.get("/?decision=fail").text
    assert "03_incomplete" in only_fail and UNSURE not in only_fail
    by_waiting = client.get("/?sort=waiting").text
    order = re.findall(r'data-name="([^"]+)"', by_waiting)
    assert len(order) == 5


def test_applicant_text_is_escaped_on_every_page(tree):
    """Ensures that a hostile company name and file name appear as text (escaped), never as markup or script."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox)
    hostile = next(p.name for p in outbox.iterdir() if "onerror" in p.name)
    pages = [client.get("/").text, client.get(f"/s/{hostile}").text]
    for html in pages:
        assert "<script>alert" not in html and '<b id="pwn">' not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in pages[0]  # the company name, literally
    assert HOSTILE_FILE.replace("<", "&lt;").replace(">", "&gt;") in pages[1]
    assert HOSTILE_COMPANY not in pages[1]
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_submission_page_queues_the_uncertain_mark_and_the_scores_with_crops_and_boxes(tree):
    """Ensures that the needs_review page puts 2-1-1's uncertain mark (with its crop) and 7-1-1..7-1-3 first, and draws every box on the page images."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox)
    html = client.get(f"/s/{UNSURE}").text
    assert "要確認" in html and "最低でも 104 点で合格点 92 点を超えています" in html
    queue = html.split('id="queue"')[1].split('id="signoff"')[0]
    assert f'name="item:{UNSURE_ITEM}:answer" value="yes"' in queue
    assert f"/file/crops/p3_{UNSURE_ITEM}.yes.png" in queue
    data = json.loads((outbox / UNSURE / "result.json").read_text(encoding="utf-8"))
    why = next(m["note"] for m in data["items"][UNSURE_ITEM]["marks"] if m["state"] == "uncertain")
    assert f'<p class="note">{html_escape(why)}' in queue  # the reader's reason, shown beside the crop
    for item in ("7-1-1", "7-1-2", "7-1-3"):
        assert f'name="item:{item}:points" value="5"' in queue
    pages = html.split('id="pages"')[1]
    assert pages.count('class="box s-uncertain"') == 1
    assert f'data-control="item:{UNSURE_ITEM}:answer" data-value="yes"' in pages
    assert pages.count('class="box s-checked"') > 50
    assert client.get(f"/s/{UNSURE}/file/pages/3.png").headers["content-type"] == "image/png"


# --- paths ----------------------------------------------------------------------------------------


def test_no_request_reaches_a_file_outside_the_outbox(tree, tmp_path):
    """Ensures that traversal, absolute paths, files the page does not show and symlinks (file or folder) are all refused."""
    inbox, outbox = tree
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG TOP-SECRET-BYTES")
    os.symlink(secret, outbox / UNSURE / "crops" / "evil.png")
    os.symlink(secret.parent, outbox / UNSURE / "pages" / "x")
    (outbox / "linked").symlink_to(outbox / UNSURE, target_is_directory=True)
    client = logged_in(inbox, outbox)
    bad = [
        f"/s/{UNSURE}/file/crops/evil.png",
        f"/s/{UNSURE}/file/pages/x/secret.png",
        f"/s/{UNSURE}/file/../../secret.png",
        f"/s/{UNSURE}/file/%2e%2e/%2e%2e/secret.png",
        f"/s/{UNSURE}/file/result.json",
        f"/s/{UNSURE}/file/review.yaml",
        f"/s/{UNSURE}/file//etc/passwd",
        "/s/linked/file/dossier.pdf",
        "/s/..%2f..%2fetc/file/dossier.pdf",
        "/s/.lock",
    ]
    for path in bad:
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert b"TOP-SECRET-BYTES" not in response.content, path
    assert client.get(f"/s/{UNSURE}/file/dossier.pdf").status_code == 200


def test_a_save_writes_only_review_yaml_of_an_existing_submission(tree):
    """Ensures that a save touches review.yaml of that submission alone, asks one re-run, and a save to an unknown or linked name writes nothing."""
    inbox, outbox = tree
    rerunner = FakeRerunner()
    client = logged_in(inbox, outbox, rerunner=rerunner)
    csrf, base = csrf_and_base(client.get(f"/s/{UNSURE}").text)
    before = snapshot(outbox)
    inbox_before = snapshot(inbox)
    for name in ("nosuch", "..", "linked"):
        assert client.post(f"/s/{name}/save", data={"csrf": csrf, "base": base, "item:7-1-1:points": "5"}).status_code == 404
    evil = client.post(f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "item:../../x:answer": "yes"})
    assert evil.status_code == 422
    assert snapshot(outbox) == before and rerunner.asked == []
    response = client.post(f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "item:7-1-1:points": "5"}, follow_redirects=False)
    assert response.status_code == 303
    after = snapshot(outbox)
    changed = {k for k in after if after.get(k) != before.get(k)} | (set(before) - set(after))
    assert changed == {f"{UNSURE}/review.yaml"}
    assert snapshot(inbox) == inbox_before
    assert rerunner.asked == [UNSURE]
    assert "7-1-1: {points: 5}" in (outbox / UNSURE / "review.yaml").read_text(encoding="utf-8")


def test_a_cover_field_is_corrected_from_the_page_into_review_yamls_fields(tree):
    """Ensures that the page lists every cover field with an input, a typed TEL is saved under fields: as the check reads it, and one off its pattern is refused with the check's line."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox)
    html = client.get(f"/s/{UNSURE}").text
    assert 'id="cover"' in html and 'name="field:applicant:tel"' in html and 'name="field:applicant:company_name"' in html
    csrf, base = csrf_and_base(html)
    review = outbox / UNSURE / "review.yaml"
    before = review.read_bytes()
    bad = client.post(f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "field:applicant:tel": "03-1011-26"})
    assert bad.status_code == 422 and "電話番号の形" in bad.text
    assert review.read_bytes() == before
    good = client.post(
        f"/s/{UNSURE}/save",
        data={"csrf": csrf, "base": base, "field:applicant:tel": "０３ー１０１１ー２６５０", "field:applicant:fax": ""},
        follow_redirects=False,
    )
    assert good.status_code == 303
    checked = check_review_text(review.read_text(encoding="utf-8"), load_form(FORM_DIR))
    assert checked.ok and dict(checked.corrections.fields) == {"applicant.tel": "03-1011-2650"}, "an empty input changes nothing"


# --- saving through the shared check --------------------------------------------------------------


def test_a_bad_value_is_refused_with_the_command_lines_message(tree):
    """Ensures that an impossible sign-off date is refused on the page with the check's own Japanese line, and nothing is written."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox)
    csrf, base = csrf_and_base(client.get(f"/s/{UNSURE}").text)
    review = outbox / UNSURE / "review.yaml"
    before = review.read_bytes()
    response = client.post(
        f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "reviewer": "山田 太郎", "sign:first": "1", "date:first": "2026-02-30"}
    )
    assert response.status_code == 422
    assert review.read_bytes() == before
    from pipeline.rules.review_text import updated_review_text

    form = load_form(FORM_DIR)
    text, checked = updated_review_text(before.decode(), form, {"signoff.first.name": "山田 太郎", "signoff.first.date": "2026-02-30", "reviewer": "山田 太郎"})
    expected = format_problems("review.yaml", checked.problems)
    assert expected and "2026-02-30" in expected[0]
    for line in expected:
        assert line.replace("「", "").replace("」", "")[:20] in response.text.replace("「", "").replace("」", "").replace("&#34;", '"').replace("&#39;", "'")


def test_a_stale_save_is_refused_and_the_other_edit_kept(tree):
    """Ensures that a page built from an older review.yaml cannot save over a newer one: refused with a message, the newer text kept."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox)
    first_tab = client.get(f"/s/{UNSURE}").text
    second_tab = client.get(f"/s/{UNSURE}").text
    csrf, base = csrf_and_base(first_tab)
    assert client.post(f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "item:7-1-1:points": "5"}, follow_redirects=False).status_code == 303
    saved = (outbox / UNSURE / "review.yaml").read_bytes()
    csrf, base = csrf_and_base(second_tab)
    response = client.post(f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "item:7-1-1:points": "0"})
    assert response.status_code == 409
    assert STALE_MESSAGE[:30] in response.text
    assert (outbox / UNSURE / "review.yaml").read_bytes() == saved


def test_a_save_keeps_the_comments_staff_wrote_by_hand(tree):
    """Ensures that a save edits review.yaml round-trip: hand-written comments and earlier corrections stay, the result passes the check."""
    inbox, outbox = tree
    review = outbox / UNSURE / "review.yaml"
    original = review.read_text(encoding="utf-8")
    hand = original.replace("items:", "# 佐藤メモ: 添付 3 を電話で確認済み\nitems:\n  7-1-3: {points: 4}   # 資料を読んで採点", 1)
    review.write_text(hand, encoding="utf-8")
    form = load_form(FORM_DIR)
    known = [f"att-{i:02d}" for i in range(1, 40)]
    outcome = save_review(review, text_sha256(hand.encode()), {"items.7-1-1.points": 5, "reviewer": "山田 太郎"}, form, known)
    assert outcome.written, outcome.messages
    text = review.read_text(encoding="utf-8")
    assert "# 佐藤メモ: 添付 3 を電話で確認済み" in text and "# 資料を読んで採点" in text and "7-1-3: {points: 4}" in text
    assert "7-1-1: {points: 5}" in text and "reviewer: 山田 太郎" in text
    assert check_review_text(text, form, known).ok
    assert not list(review.parent.glob(".*.tmp"))


def test_a_broken_hand_edited_review_yaml_is_shown_and_never_overwritten(tree):
    """Ensures that when staff broke review.yaml by hand, the page shows its problems and a save refuses rather than replace it."""
    inbox, outbox = tree
    review = outbox / UNSURE / "review.yaml"
    review.write_text("items:\n  7-1-1: {points: 5}\n   7-1-2: {points: 3}\n", encoding="utf-8")
    client = logged_in(inbox, outbox)
    html = client.get(f"/s/{UNSURE}").text
    assert 'id="review-problems"' in html and "3行目" in html
    csrf, base = csrf_and_base(html)
    response = client.post(f"/s/{UNSURE}/save", data={"csrf": csrf, "base": base, "item:7-1-2:points": "4"})
    assert response.status_code == 422
    assert review.read_text(encoding="utf-8").endswith("   7-1-2: {points: 3}\n")


def test_the_rerun_waits_for_the_outbox_lock_then_shows_the_new_decision(tree):
    """Ensures that a save while another run holds the outbox reports `waiting`, then runs and the status shows the new decision."""
    inbox, outbox = tree
    client = logged_in(inbox, outbox, rerunner=Rerunner(inbox, outbox, FORM_DIR))
    csrf, base = csrf_and_base(client.get(f"/s/{UNSURE}").text)
    data = {"csrf": csrf, "base": base, f"item:{UNSURE_ITEM}:answer": "yes", "reviewer": "山田 太郎", "sign:first": "1", "date:first": "2026-12-07"}
    data |= {f"item:7-1-{n}:points": "5" for n in (1, 2, 3)}
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        with outbox_lock(outbox):
            held.set()
            release.wait(60)

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    assert client.post(f"/s/{UNSURE}/save", data=data, follow_redirects=False).status_code == 303
    states = []
    deadline = time.time() + 60
    while time.time() < deadline and "waiting" not in states:
        states.append(client.get(f"/s/{UNSURE}/status").json()["state"])
        time.sleep(0.2)
    assert "waiting" in states
    assert "待機中" in client.get(f"/s/{UNSURE}").text
    release.set()
    deadline = time.time() + 300
    while time.time() < deadline:
        status = client.get(f"/s/{UNSURE}/status").json()
        if not status["busy"]:
            break
        time.sleep(0.3)
    assert status["state"] == "done", status
    assert status["decision"] == "pass" and status["certificate"] is True


def test_batch_rows_are_recomputed_only_when_their_files_change(tree):
    """Ensures that the batch page's cache returns a fresh row after review.yaml changes (never a stale sign-off)."""
    inbox, outbox = tree
    index = BatchIndex(outbox, load_form(FORM_DIR))
    row = next(r for r in index.rows() if r.name == UNSURE)
    assert row.signoff == "未署名"
    review = outbox / UNSURE / "review.yaml"
    review.write_text("reviewer: 山田\nsignoff:\n  first: {name: 山田, date: 2026-12-07}\n", encoding="utf-8")
    assert next(r for r in index.rows() if r.name == UNSURE).signoff == "一次審査 済"


def test_a_url_path_in_doubt_is_queued_for_the_reviewer_with_its_crop(tree):
    """Ensures that an item's URL path whose place or reading is in doubt (missing_document_unless_url) is a queue entry the reviewer settles as あり／なし, like a signature."""
    from pipeline.station.views import queue_entries

    _, outbox = tree
    data = json.loads((outbox / UNSURE / "result.json").read_text(encoding="utf-8"))
    form = load_form(FORM_DIR)
    rec = data["items"]["4-3-2"]
    rec["answer"] = "yes"
    rec["evidence"] = [
        {"kind": "document", "status": "missing", "page": None, "bbox": None, "text": None},
        {"kind": "url_path", "status": "uncertain", "page": 7, "file": "form.pdf", "bbox": [200, 700, 530, 720], "text": None, "crop": "crops/p7_4-3-2.url_target.png"},
    ]
    entries = [e for e in queue_entries(data, {i.id: i for i in form.items}) if e.kind == "evidence" and e.owner == "4-3-2"]
    assert [e.control for e in entries] == ["item:4-3-2:evidence:url_path"]
    assert entries[0].crops == ("crops/p7_4-3-2.url_target.png",) and entries[0].kind_ja == "URLの確認"
    assert entries[0].confirm is None  # 不確実: no reading to confirm, neither あり nor なし is 読取どおり
