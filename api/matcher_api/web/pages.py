"""The pages: sign-in, the coordinator's rounds, cases, purge and audit log, the agencies' uploads.

Thin over :mod:`matcher_api.db` and the JSON routes: creating a round, matching, purging, reading
results and storing an upload call the same functions the API does, so every check is the API's.
Refusals are shown as pages in plain Swedish (with the service's own message, which never holds
a record value); nothing here shows a name, identifier or ref.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from matcher.disclosure import DisclosurePolicy
from matcher.errors import KeyMismatchError, MatcherError
from matcher_api import db, views
from matcher_api.deps import Coordinator, NowDep, Services, ServicesDep, SessionDep
from matcher_api.errors import ApiError
from matcher_api.routes import results as results_routes
from matcher_api.routes import rounds as rounds_routes
from matcher_api.routes import uploads as uploads_routes
from matcher_api.schemas import RoundCreate
from matcher_api.security import hash_token
from matcher_api.web.charts import bar_chart
from matcher_api.web.sessions import COOKIE, SIGNIN_COOKIE, SessionStore, WebSession, csrf_matches

HERE = Path(__file__).parent
PREFIX = "/web"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix=PREFIX, include_in_schema=False)

Principal = Coordinator | db.AgencyScope

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

JOB_STATUS_SV = {
    "queued": "i kö (queued)",
    "running": "pågår (running)",
    "done": "klar (done)",
    "failed": "misslyckades (failed)",
}

POLICY_SV = {
    DisclosurePolicy.AGENCIES_ONLY: "bara vilka verksamheter (agencies only)",
    DisclosurePolicy.AGENCIES_AND_CATEGORIES: (
        "verksamheter och signalkategorier (agencies and categories)"
    ),
}


class PageError(Exception):
    """A refusal shown as an error page (status, heading, plain-words explanation)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class SignInRequired(Exception):
    """No live page session: send the browser to the sign-in page."""


def _store(request: Request) -> SessionStore:
    """The app's page sessions (created by :func:`mount`)."""
    store: SessionStore = request.app.state.web_sessions
    return store


def _resolve(services: Services, session: Session, digest: str) -> Principal | None:
    """Who a stored token digest belongs to now (None once revoked or purged)."""
    if services.coordinator_hash and hmac.compare_digest(digest, services.coordinator_hash):
        return Coordinator()
    agency = session.scalars(select(db.Agency).where(db.Agency.token_hash == digest)).first()
    if agency is None:
        return None
    return db.AgencyScope(round_id=agency.round_id, agency_id=agency.id, label=agency.label)


def _signed_in(
    request: Request, services: Services, session: Session
) -> tuple[Principal, WebSession]:
    """Who the session cookie belongs to now, or a redirect to the sign-in page."""
    web = _store(request).get(request.cookies.get(COOKIE))
    principal = None if web is None else _resolve(services, session, web.digest)
    if web is None or principal is None:
        raise SignInRequired
    return principal, web


def _coordinator(request: Request, services: Services, session: Session) -> WebSession:
    """The session of a signed-in coordinator (403 page for an agency)."""
    principal, web = _signed_in(request, services, session)
    if not isinstance(principal, Coordinator):
        raise PageError(403, "Åtkomst nekad", "Sidan är bara för samordnaren (coordinator).")
    return web


def _agency(
    request: Request, services: Services, session: Session, round_id: str | None = None
) -> tuple[db.AgencyScope, WebSession]:
    """The session of a signed-in agency, of the round in the path when there is one."""
    principal, web = _signed_in(request, services, session)
    if not isinstance(principal, db.AgencyScope):
        raise PageError(403, "Åtkomst nekad", "Sidan är bara för verksamheternas inloggning.")
    if round_id is not None and not hmac.compare_digest(
        principal.round_id.encode(), round_id.encode()
    ):
        raise PageError(403, "Åtkomst nekad", "Den här omgången tillhör inte din inloggning.")
    return principal, web


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn the API's refusals into error pages with the same status and message."""
    try:
        yield
    except ApiError as exc:
        titles = {404: "Finns inte", 409: "Går inte just nu", 403: "Åtkomst nekad"}
        title = titles.get(exc.status_code, "Avvisat")
        raise PageError(exc.status_code, title, exc.message) from exc


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    web: WebSession | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render a template with the session's CSRF token (forms) and sign-in state (menu)."""
    base = {"csrf": web.csrf if web else None, "signed_in": web is not None}
    return templates.TemplateResponse(request, name, base | context, status_code=status)


async def _form(request: Request, web: WebSession) -> FormData:
    """The posted form, refused unless it carries the session's CSRF token."""
    form = await request.form(max_files=0, max_fields=20)
    token = form.get("csrf")
    if not csrf_matches(web.csrf, token if isinstance(token, str) else None):
        raise PageError(403, "Formuläret kunde inte skickas", "Ogiltig CSRF-token; ladda om sidan.")
    return form


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """An HttpOnly, SameSite=Strict cookie for the pages only; Secure when served over TLS."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )


def _redirect(path: str) -> RedirectResponse:
    """See-other to a page (after a form, or to the sign-in page)."""
    return RedirectResponse(PREFIX + path, status_code=303)


# --- sign-in -------------------------------------------------------------------------------


@router.get("")
@router.get("/")
def home(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """The start page: the coordinator's rounds or the agency's round."""
    principal, _ = _signed_in(request, services, session)
    return _redirect("/rounds" if isinstance(principal, Coordinator) else "/agency")


@router.get("/signin")
def signin_form(request: Request) -> HTMLResponse:
    """The sign-in form (a fresh sign-in CSRF token in a cookie and the form)."""
    return _signin_page(request, error=None, status=200)


def _signin_page(request: Request, error: str | None, status: int) -> HTMLResponse:
    """The sign-in form with a fresh sign-in CSRF token (cookie and hidden field)."""
    token = secrets.token_urlsafe(32)
    response = _page(request, "signin.html", {"signin_csrf": token, "error": error}, status=status)
    _set_cookie(request, response, SIGNIN_COOKIE, token)
    return response


@router.post("/signin")
async def signin(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """Exchange a coordinator or agency token for a session cookie."""
    form = await request.form(max_files=0, max_fields=4)
    presented = form.get("csrf")
    presented = presented if isinstance(presented, str) else None
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not csrf_matches(expected, presented):
        return _signin_page(request, "Formuläret hade gått ut; försök igen.", 403)
    token = form.get("token")
    token = token.strip() if isinstance(token, str) else ""
    principal = _resolve(services, session, hash_token(token)) if token else None
    if principal is None:
        unknown = "Okänd eller återkallad token. Kontrollera och försök igen."
        return _signin_page(request, unknown, 401)
    sid, _ = _store(request).open(hash_token(token))
    response = _redirect("/rounds" if isinstance(principal, Coordinator) else "/agency")
    _set_cookie(request, response, COOKIE, sid)
    response.delete_cookie(SIGNIN_COOKIE, path=PREFIX)
    return response


@router.post("/signout")
async def signout(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """End the session and clear its cookie."""
    _, web = _signed_in(request, services, session)
    await _form(request, web)
    _store(request).close(request.cookies.get(COOKIE))
    response = _redirect("/signin")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


# --- coordinator ---------------------------------------------------------------------------


@router.get("/rounds")
def rounds_page(request: Request, services: ServicesDep, session: SessionDep) -> HTMLResponse:
    """Every live round with its status."""
    web = _coordinator(request, services, session)
    threshold = services.settings.small_count_threshold
    rounds = [views.round_public(session, r, threshold) for r in db.list_rounds(session)]
    return _page(request, "rounds.html", {"rounds": rounds, "status_sv": JOB_STATUS_SV}, web)


@router.get("/rounds/new")
def new_round_form(request: Request, services: ServicesDep, session: SessionDep) -> HTMLResponse:
    """The form to open a round."""
    web = _coordinator(request, services, session)
    defaults = {"k": "2", "retention_days": str(services.settings.default_retention_days)}
    return _page(request, "round_new.html", {"values": defaults, "errors": []}, web)


ROUND_FIELDS = ("id", "name", "legal_basis", "agencies", "k", "window_from", "window_to",
                "disclosure_policy", "kind", "retention_days")  # fmt: skip


@router.post("/rounds/new")
async def create_round(
    request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> Response:
    """Open a round through the API's own function; show each agency's token this once."""
    web = _coordinator(request, services, session)
    form = await _form(request, web)
    values = {f: str(form.get(f) or "").strip() for f in ROUND_FIELDS}
    fields: dict[str, Any] = {
        "id": values["id"] or None,
        "name": values["name"],
        "legal_basis": values["legal_basis"],
        "agencies": [a.strip() for a in re.split(r"[,\n]", values["agencies"]) if a.strip()],
        "k": values["k"] or 2,
        "window_from": values["window_from"] or None,
        "window_to": values["window_to"] or None,
        "disclosure_policy": values["disclosure_policy"] or DisclosurePolicy.AGENCIES_ONLY,
        "kind": values["kind"] or "signals",
        "retention_days": values["retention_days"] or None,
    }
    try:
        body = RoundCreate(**fields)
        created = rounds_routes.create_round(body, Coordinator(), session, services.settings, now)
    except ValidationError as exc:
        errors = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'ogiltigt')}"
            for e in exc.errors(include_input=False)
        ]
        return _page(request, "round_new.html", {"values": values, "errors": errors}, web, 422)
    except ApiError as exc:
        return _page(
            request, "round_new.html", {"values": values, "errors": [exc.message]}, web,
            exc.status_code,
        )  # fmt: skip
    web.handover[created.round.id] = created.agency_tokens
    return _redirect(f"/rounds/{created.round.id}/tokens")


@router.get("/rounds/{round_id}/tokens")
def tokens_page(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """New tokens, shown once: taken from this session's memory as they are shown (a reload
    shows none, and creating the round is never repeated by a reload)."""
    web = _coordinator(request, services, session)
    with _refusals():
        round_row = db.get_round(session, round_id, now=now)
    tokens = web.handover.pop(round_id, {})
    context = {"round": round_row, "tokens": tokens, "base_url": _base(request)}
    return _page(request, "round_created.html", context, web)


@router.post("/rounds/{round_id}/tokens")
async def reissue_token(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> Response:
    """Give one agency a new token (the API's function; its old token and sessions stop)."""
    web = _coordinator(request, services, session)
    form = await _form(request, web)
    agency = str(form.get("agency") or "")
    with _refusals():
        round_row = db.get_round(session, round_id, now=now)
        if agency not in {a.label for a in db.round_agencies(session, round_id)}:
            raise PageError(404, "Finns inte", "Omgången har ingen sådan verksamhet.")
        token = rounds_routes.reissue_token(round_row, agency, session, now).token
    web.handover[round_id] = {agency: token}
    return _redirect(f"/rounds/{round_id}/tokens")


def _base(request: Request) -> str:
    """The service's address as the browser reached it (for commands shown on the pages)."""
    return str(request.base_url).rstrip("/")


def _refusals_of(session: Session, round_id: str) -> list[dict[str, Any]]:
    """Refused uploads (through the pages or the API), newest first (agency, reason, when)."""
    events = db.list_audit(session, round_id=round_id, limit=200)
    refused = [e for e in events if e.action == "upload.refused"]
    return [{"at": e.at, **json.loads(e.details or "{}")} for e in refused]


def _cases(session: Session, round_row: db.Round, services: Services) -> dict[str, Any] | None:
    """The coordinator's suppressed case counts (the API's view), None before a finished run."""
    try:
        response = results_routes.round_results(
            round_row, session, services.settings, services.clock()
        )
    except ApiError:
        return None
    view: dict[str, Any] = json.loads(bytes(response.body))
    view.pop("cases", None)  # case ids are not needed on the page
    return view


@router.get("/rounds/{round_id}")
def round_page(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """A round: its terms, each agency's upload, refusals, matching status and the cases."""
    web = _coordinator(request, services, session)
    threshold = services.settings.small_count_threshold
    with _refusals():
        round_row = db.get_round(session, round_id, now=now)
    public = views.round_public(session, round_row, threshold)
    job = public.job
    cases = _cases(session, round_row, services) if job and job.status == "done" else None
    chart = None
    if cases:
        rows = [(" + ".join(c["agencies"]), c["cases"]) for c in cases["cases_by_combination"]]
        chart = bar_chart(rows, threshold)
    context = {
        "round": public,
        "refusals": _refusals_of(session, round_id),
        "cases": cases,
        "chart": chart,
        "status_sv": JOB_STATUS_SV,
        "policy_sv": POLICY_SV,
        "threshold": threshold,
        "all_uploaded": all(a.upload is not None for a in public.agencies),
    }
    return _page(request, "round.html", context, web)


@router.post("/rounds/{round_id}/match")
async def start_match(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> Response:
    """Start matching through the API's own function, then show the round page (it polls)."""
    web = _coordinator(request, services, session)
    await _form(request, web)
    with _refusals():
        round_row = db.get_round(session, round_id, now=now)
        await rounds_routes.start_match(round_row, services, now)
    return _redirect(f"/rounds/{round_id}")


@router.get("/rounds/{round_id}/status")
def match_status(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> JSONResponse:
    """The latest run's status for the round page's polling script."""
    _coordinator(request, services, session)
    with _refusals():
        db.get_round(session, round_id, now=now)
    job = db.latest_job(session, round_id)
    status = None if job is None else job.status
    return JSONResponse({"status": status, "label": JOB_STATUS_SV.get(status or "", "ej startad")})


@router.get("/rounds/{round_id}/purge")
def purge_confirm(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """The confirmation step before a purge."""
    web = _coordinator(request, services, session)
    with _refusals():
        round_row = db.get_round(session, round_id, now=now)
    return _page(request, "purge.html", {"round": round_row, "error": None}, web)


@router.post("/rounds/{round_id}/purge")
async def purge(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """Purge the round (the API's function) once its id has been typed as confirmation."""
    web = _coordinator(request, services, session)
    form = await _form(request, web)
    with _refusals():
        round_row = db.get_round(session, round_id, now=now)
    if form.get("confirm") != round_id:
        error = "Skriv omgångens id exakt för att bekräfta."
        return _page(request, "purge.html", {"round": round_row, "error": error}, web, 422)
    deleted = rounds_routes.purge_round(round_row, session, now).deleted_rows
    return _page(request, "purged.html", {"round_id": round_id, "deleted": deleted}, web)


@router.get("/audit")
def audit_page(request: Request, services: ServicesDep, session: SessionDep) -> HTMLResponse:
    """The audit log, filtered by round, actor and action."""
    web = _coordinator(request, services, session)
    params = request.query_params
    filters = {k: params.get(k, "").strip()[:100] for k in ("round_id", "actor", "action")}
    events = db.list_audit(session, round_id=filters["round_id"] or None, limit=1000)
    shown = [
        views.audit_public(e)
        for e in events
        if (not filters["actor"] or e.actor == filters["actor"])
        and (not filters["action"] or e.action.startswith(filters["action"]))
    ]
    actions = sorted({e.action for e in events})
    context = {"events": shown, "filters": filters, "actions": actions}
    return _page(request, "audit.html", context, web)


# --- agencies ------------------------------------------------------------------------------


@router.get("/agency")
def agency_home(
    request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """The agency's rounds (an agency token belongs to one round)."""
    scope, web = _agency(request, services, session)
    with _refusals():
        round_row = db.get_round(session, scope.round_id, now=now)
    upload = db.own_upload(session, scope)
    context = {"scope": scope, "rounds": [round_row], "uploads": {round_row.id: upload}}
    return _page(request, "agency_home.html", context, web)


def _agency_context(
    session: Session, scope: db.AgencyScope, request: Request, now: datetime
) -> dict[str, Any]:
    """What the agency's round page shows: its upload and whether results are ready."""
    with _refusals():
        round_row = db.get_round(session, scope.round_id, now=now)
    job = db.latest_job(session, scope.round_id)
    return {
        "scope": scope,
        "round": round_row,
        "upload": db.own_upload(session, scope),
        "results_ready": job is not None and job.status == "done",
        "base_url": _base(request),
        "verdict": None,
    }


@router.get("/agency/rounds/{round_id}")
def agency_round(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """The agency's round: its upload, the upload form and its results."""
    scope, web = _agency(request, services, session, round_id)
    return _page(request, "agency_round.html", _agency_context(session, scope, request, now), web)


def _verdict(exc: Exception) -> tuple[str, str]:
    """A refused upload in plain words, and the service's own message (never a record value)."""
    reason = getattr(exc, "reason", None)
    conflict = isinstance(exc, ApiError) and exc.status_code == 409
    if isinstance(exc, KeyMismatchError) or (conflict and reason == "key_check"):
        plain = (
            "Filen avvisades: den är hashad med en annan nyckel (key) än de filer som redan "
            "lämnats i omgången. Hämta rätt nyckelfil från nyckelansvarig och kör "
            "matcher hash igen."
        )
    elif conflict and reason == "parameters":
        plain = (
            "Filen avvisades: den är hashad med andra inställningar (encoding parameters) än "
            "de andra verksamheternas filer. Alla ska hasha med samma matcher-inställningar."
        )
    elif reason in ("round_mismatch", "agency_mismatch"):
        plain = "Filen avvisades: den är hashad för en annan omgång eller verksamhet."
    elif isinstance(exc, MatcherError) or (isinstance(exc, ApiError) and exc.status_code == 422):
        plain = "Filen avvisades: den är inte en giltig hashad fil för den här omgången."
    elif isinstance(exc, ApiError) and exc.status_code == 413:
        plain = "Filen avvisades: den är större än tjänstens gräns."
    elif isinstance(exc, ApiError) and exc.status_code == 409:
        plain = "Filen avvisades: den stämmer inte med omgångens villkor."
    else:
        plain = "Filen avvisades."
    message = exc.message if isinstance(exc, ApiError) else str(exc)
    return plain, message


async def _upload_form(request: Request, services: Services) -> tuple[str | None, bytes | None]:
    """The CSRF field and the file of a multipart upload form, read within the size limit and
    the pause limit between its parts (as the JSON upload reads its body)."""
    settings = services.settings
    body = await uploads_routes.read_body(
        request, settings.max_upload_bytes, settings.body_read_timeout_seconds
    )

    async def replay() -> Message:
        """Hand the already-read (size-checked) body to the form parser."""
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=1, max_fields=4)
    token, part = form.get("csrf"), form.get("file")
    content = await part.read() if isinstance(part, UploadFile) else None
    return (token if isinstance(token, str) else None), content


@router.post("/agency/rounds/{round_id}/upload")
async def agency_upload(
    round_id: str, request: Request, services: ServicesDep, now: NowDep
) -> HTMLResponse:
    """Store the hashed file through the API's own path and say what the service decided.

    As the JSON upload: the sign-in is checked in a session closed at once, the body is read in
    full before any database connection is taken again, and the file waits for a free slot.
    """
    deadline = time.monotonic() + services.settings.request_timeout_seconds
    with services.factory() as session:
        scope, web = _agency(request, services, session, round_id)
    status, verdict = 200, None
    try:
        token, content = await _upload_form(request, services)
        if not csrf_matches(web.csrf, token):
            raise PageError(403, "Formuläret kunde inte skickas", "Ogiltig CSRF-token; ladda om.")
        if not content:
            raise PageError(422, "Ingen fil", "Välj eller dra hit den hashade filen (.parquet).")
        timings: dict[str, float] = {}
        public = await uploads_routes.store_received(
            services, scope, content, timings, allow_empty=False, deadline=deadline
        )
        verdict = {
            "ok": True,
            "plain": f"Filen togs emot: {public.row_count} poster, nyckelkontroll (key check) "
            f"{public.key_check} stämmer med omgången.",
            "message": None,
        }
    except (ApiError, MatcherError) as exc:
        status = exc.status_code  # the refusal is audited where the file is stored
        plain, message = _verdict(exc)
        verdict = {"ok": False, "plain": plain, "message": message}
    with services.factory() as session:
        context = _agency_context(session, scope, request, now) | {"verdict": verdict}
        return _page(request, "agency_round.html", context, web, status)


@router.get("/agency/rounds/{round_id}/results")
def agency_results(
    round_id: str, request: Request, services: ServicesDep, session: SessionDep, now: NowDep
) -> Response:
    """Download the agency's own results (the API's view) as a file."""
    scope, _ = _agency(request, services, session, round_id)
    with _refusals():
        response = results_routes.own_results(scope, session, now)
    name = f"{round_id}-{scope.label}-results.json".replace('"', "")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/{path:path}")
def not_found(path: str) -> None:
    """Any other page address."""
    raise PageError(404, "Sidan finns inte", "Adressen finns inte. Gå till startsidan.")


# --- mounting ------------------------------------------------------------------------------


def _error_page(request: Request, exc: PageError) -> HTMLResponse:
    """A refusal as a page with its status code."""
    context = {"title": exc.title, "message": exc.message, "status": exc.status}
    web = _store(request).get(request.cookies.get(COOKIE))
    return _page(request, "error.html", context, web, exc.status)


def mount(app: FastAPI) -> None:
    """Add the pages, their static files, session store, error pages and security headers."""
    app.state.web_sessions = SessionStore()
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="web-static")
    app.include_router(router)

    async def page_error(request: Request, exc: Exception) -> Response:
        """Refusals on the pages as error pages."""
        assert isinstance(exc, PageError)
        return _error_page(request, exc)

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        """No live session: to the sign-in page."""
        return _redirect("/signin")

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(SignInRequired, sign_in_required)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Security headers on every page and static file."""
        response = await call_next(request)
        if request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/"):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            if request.url.path.startswith(PREFIX + "/static/"):
                response.headers["Cache-Control"] = "no-cache"
        return response
