"""The station's routes: the batch page, a submission page, save, the re-run's status and the outbox files a page shows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.form.definition import load_form
from pipeline.model.records import FormDef
from pipeline.rules.review_check import check_review, format_problems
from pipeline.station import views
from pipeline.station.edits import FILE_LABEL, read_review_bytes, save_review, text_sha256
from pipeline.station.rerun import Rerunner
from pipeline.station.security import SESSION_COOKIE, Guard, Session, outbox_file, submission_dir

HERE = Path(__file__).resolve().parent
SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,40}$")
ANSWER_WORDS = {"yes": "はい", "no": "いいえ", "blank": "未回答"}
REFUSED = "このページを開くには、起動時に表示されたアドレス（token 付き）か、ログインが必要です。"


@dataclass(frozen=True, slots=True)
class StationSettings:
    outbox: Path
    inbox: Path
    form: Path
    token: str | None  # the per-start secret of a local station (None on the LAN: password instead)
    password_hash: str | None = None
    secure_cookies: bool = False


class Station:
    """What the routes share: the settings, the form, the batch rows' cache, the re-runner, the sessions."""

    def __init__(self, settings: StationSettings, rerunner: Rerunner | None = None) -> None:
        self.settings = settings
        self.outbox = settings.outbox
        self.form: FormDef = load_form(settings.form)
        self.items = {it.id: it for it in self.form.items}
        self.index = views.BatchIndex(settings.outbox, self.form)
        self.index.warm()
        self.rerunner = rerunner or Rerunner(settings.inbox, settings.outbox, settings.form)
        self.guard = Guard(settings.token, settings.password_hash, settings.secure_cookies)
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True, default_for_string=True)
        )
        self.env.filters["q"] = lambda s: quote(str(s), safe="")

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


# No script but our own, no framing, no referrer leaking the token.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request, Station, Session], Awaitable[Response]]


def guarded(handler: Handler, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Every request needs a session (made by the start token or the password); every write its CSRF token too."""

    async def endpoint(request: Request) -> Response:
        station: Station = request.app.state.station
        given = request.query_params.get("token")
        if request.method == "GET" and station.guard.token_ok(given):
            sid = station.guard.new_session()
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.headers["Set-Cookie"] = station.guard.cookie(sid)
            response.headers["Referrer-Policy"] = "no-referrer"
            return response
        session = station.guard.session(request.cookies.get(SESSION_COOKIE))
        if session is None:
            if station.guard.password_hash and request.method == "GET":
                return RedirectResponse("/login", status_code=303)
            return PlainTextResponse(REFUSED, status_code=403)
        if write:
            form = await request.form()
            if not station.guard.csrf_ok(session, str(form.get("csrf") or "")):
                return PlainTextResponse(
                    "保存しませんでした: ページの確認用の番号（CSRF）が違います。ページを読み込み直してください。", status_code=403
                )
        return await handler(request, station, session)

    return endpoint


async def batch(request: Request, station: Station, session: Session) -> Response:
    rows = station.index.rows()
    decision = request.query_params.get("decision", "")
    if decision:
        rows = [r for r in rows if r.decision == decision]
    sort = request.query_params.get("sort", "name")
    keys: dict[str, Callable[[views.BatchRow], Any]] = {
        "name": lambda r: r.name,
        "decision": lambda r: (r.decision, r.name),
        "points": lambda r: (-r.points_low, r.name),
        "waiting": lambda r: (-r.waiting, r.name),
    }
    rows.sort(key=keys.get(sort, keys["name"]))
    counts: dict[str, int] = {}
    for row in station.index.rows():
        counts[row.decision] = counts.get(row.decision, 0) + 1
    return station.page("batch.html", rows=rows, decision=decision, sort=sort, counts=counts, decisions=views.DECISIONS_JA)


async def submission(request: Request, station: Station, session: Session) -> Response:
    name = request.path_params["name"]
    out_dir = submission_dir(station.outbox, name)
    if out_dir is None:
        return station.page("missing.html", status=404, name=name)
    return station.page("submission.html", **submission_context(station, session, out_dir))


def submission_context(
    station: Station, session: Session, out_dir: Path, messages: tuple[str, ...] = (), stale: bool = False
) -> dict[str, Any]:
    data = views.load_result(out_dir) or {}
    try:
        review_bytes = read_review_bytes(out_dir / "review.yaml")
    except OSError as exc:
        review_bytes, messages = b"", (*messages, str(exc))
    known = [str(a.get("id")) for a in data.get("attachments") or []]
    checked = check_review(out_dir / "review.yaml", station.form, known)
    decision_ja, change = views.decision_summary(data, station.form)
    status = station.rerunner.status(out_dir.name)
    return {
        "name": out_dir.name,
        "data": data,
        "score": data.get("score") or {},
        "decision": (data.get("score") or {}).get("decision", "error"),
        "decision_ja": decision_ja,
        "change": change,
        "queue": list(views.queue_entries(data, station.items, station.index.labels)),
        "pages": views.page_views(data, station.items, station.form),
        "attachments": views.attachment_rows(data),
        "cover": views.cover_rows(data, station.index.labels),
        "item_choices": [(it.id, it.title) for it in station.form.items],
        "signoff": views.read_signoff(review_bytes.decode("utf-8", "replace")),
        "rounds": views.ROUNDS,
        "review_problems": format_problems(FILE_LABEL, checked.problems),
        "review_text": review_bytes.decode("utf-8", "replace"),
        "base": text_sha256(review_bytes),
        "csrf": session.csrf,
        "messages": messages,
        "stale": stale,
        "rerun": status,
        "today": dt.date.today().isoformat(),
        "dossier": (out_dir / "dossier.pdf").is_file(),
        "certificate": (out_dir / "certificate.pdf").is_file(),
    }


def edits_from_form(pairs: list[tuple[str, str]]) -> tuple[dict[str, object], list[str]]:
    """The corrections a submission page posted, as review.yaml paths; and what was refused outright."""
    edits: dict[str, object] = {}
    refused: list[str] = []
    fields = {k: v.strip() for k, v in pairs}
    for key, value in pairs:
        value = value.strip()
        parts = key.split(":")
        if not value or parts[0] not in ("item", "decl", "att", "field") or len(parts) < 3:
            continue
        if not SAFE_ID.match(parts[1]) or not all(SAFE_ID.match(p) for p in parts[2:]):
            refused.append(f"{key}: この訂正は受け付けられません")
            continue
        if parts[0] == "item" and parts[2] == "answer":
            edits[f"items.{parts[1]}.answer"] = ANSWER_WORDS.get(value, value)
        elif parts[0] == "item" and parts[2] in ("choice", "points"):
            edits[f"items.{parts[1]}.{parts[2]}"] = int(value) if parts[2] == "points" and value.isdigit() else value
        elif parts[0] == "item" and parts[2] == "evidence" and len(parts) == 4:
            edits[f"items.{parts[1]}.evidence.{parts[3]}"] = {"present": "あり", "missing": "なし"}.get(value, value)
        elif parts[0] == "decl" and parts[2] == "choice":
            edits[f"declarations.{parts[1]}.choice"] = value
        elif parts[0] == "att" and parts[2] == "labels":
            edits[f"attachments.{parts[1]}.labels"] = [] if value == "-" else [value]
        elif parts[0] == "field" and len(parts) == 3:  # field:applicant:tel — the last non-empty input of that name wins
            edits[f"fields.{parts[1]}.{parts[2]}"] = value
    name = fields.get("reviewer", "")
    for key in views.ROUNDS:
        if fields.get(f"sign:{key}"):
            edits[f"signoff.{key}.name"] = name
            edits[f"signoff.{key}.date"] = fields.get(f"date:{key}", "")
    if name and edits:
        edits["reviewer"] = name
    return edits, refused


async def save(request: Request, station: Station, session: Session) -> Response:
    name = request.path_params["name"]
    out_dir = submission_dir(station.outbox, name)
    if out_dir is None:
        return station.page("missing.html", status=404, name=name)
    form = await request.form()
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    edits, refused = edits_from_form(pairs)
    if refused:
        return station.page("submission.html", status=422, **submission_context(station, session, out_dir, tuple(refused)))
    if not edits:
        return station.page(
            "submission.html",
            status=422,
            **submission_context(station, session, out_dir, ("訂正も署名もありません。保存するものがありません。",)),
        )
    data = views.load_result(out_dir) or {}
    known = [str(a.get("id")) for a in data.get("attachments") or []]
    outcome = save_review(out_dir / "review.yaml", str(form.get("base") or ""), edits, station.form, known)
    if not outcome.written:
        status = 409 if outcome.stale else 422
        return station.page(
            "submission.html", status=status, **submission_context(station, session, out_dir, outcome.messages, outcome.stale)
        )
    station.rerunner.request(out_dir.name)
    return RedirectResponse(f"/s/{quote(out_dir.name, safe='')}?saved=1", status_code=303)


async def status(request: Request, station: Station, session: Session) -> Response:
    out_dir = submission_dir(station.outbox, request.path_params["name"])
    if out_dir is None:
        return JSONResponse({"error": "no such submission"}, status_code=404)
    rerun = station.rerunner.status(out_dir.name)
    decision = ((views.load_result(out_dir) or {}).get("score") or {}).get("decision")
    return JSONResponse(
        {
            "state": rerun.state,
            "text": rerun.text,
            "busy": rerun.busy,
            "decision": decision,
            "certificate": (out_dir / "certificate.pdf").is_file(),
        },
        headers={"Cache-Control": "no-store"},
    )


async def outbox_download(request: Request, station: Station, session: Session) -> Response:
    path = outbox_file(station.outbox, request.path_params["name"], request.path_params["rel"])
    if path is None:
        return PlainTextResponse("このファイルは開けません。", status_code=404)
    media = "application/pdf" if path.suffix == ".pdf" else "image/png"
    return FileResponse(path, media_type=media, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


async def login_page(request: Request) -> Response:
    station: Station = request.app.state.station
    if not station.guard.password_hash:
        return PlainTextResponse(REFUSED, status_code=403)
    return station.page("login.html", failed=False)


async def login(request: Request) -> Response:
    station: Station = request.app.state.station
    form = await request.form()
    if not station.guard.password_ok(str(form.get("password") or "")):
        return station.page("login.html", status=403, failed=True)
    response = RedirectResponse("/", status_code=303)
    response.headers["Set-Cookie"] = station.guard.cookie(station.guard.new_session())
    return response


def create_app(settings: StationSettings, rerunner: Rerunner | None = None) -> Starlette:
    """The station as an ASGI app (uvicorn serves it; tests drive it through Starlette's TestClient)."""
    routes = [
        Route("/", guarded(batch)),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/s/{name}", guarded(submission)),
        Route("/s/{name}/save", guarded(save, write=True), methods=["POST"]),
        Route("/s/{name}/status", guarded(status)),
        Route("/s/{name}/file/{rel:path}", guarded(outbox_download)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.station = Station(settings, rerunner)
    return app
