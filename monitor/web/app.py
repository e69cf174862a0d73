"""Dashboard routes: pages, their JSON twins under /api/, login, actions and signed links."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from monitor.alerting import silences
from monitor.alerting.channels.slack import SlackChannel
from monitor.alerting.render import CATEGORIES, KINDS
from monitor.alerting.sanitize import strip_terminal
from monitor.incidents import STATUSES, IncidentError
from monitor.records import HARM_CATEGORIES, INCIDENT_KINDS, SEVERITIES, AlertLinks, Incident
from monitor.web import api
from monitor.web.api import BadQuery, WebContext, json_response
from monitor.web.auth import LOGIN_COOKIE, SESSION_COOKIE, LoginLimiter, Session, Sessions, Users
from monitor.web.links import LinkSigner
from monitor.web.settings import WebConfig
from monitor.web.slack_actions import SlackInteractions, SlackVerifier

if TYPE_CHECKING:
    from monitor.service import Service

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
SILENCE_HOURS = (1, 4, 24, 168)
WEB: web.AppKey[Dashboard] = web.AppKey("dashboard")


def _finalize(value: Any) -> Any:
    """Every `{{ }}` output: untrusted text loses control and bidi characters before escaping."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return strip_terminal(value)


class Dashboard:
    """The dashboard's state: settings, users, sessions, the failed-login limit, links."""

    def __init__(self, ctx: WebContext, config: WebConfig, secret: str) -> None:
        from monitor.web.auth import Signer

        self.ctx = ctx
        self.config = config
        self.signer = Signer(secret)
        self.sessions = Sessions(self.signer, config.session_lifetime)
        self.limiter = LoginLimiter(config.login_attempts, config.login_window)
        self.users = Users(config)
        self.links = LinkSigner(self.signer, config.public_url or "", config.link_lifetime)

    # -- requests --------------------------------------------------------------------------

    def session(self, request: web.Request) -> Session | None:
        """The request's logged-in session, if any."""
        return self.sessions.read(request.cookies.get(SESSION_COOKIE))

    def require(self, request: web.Request) -> Session:
        """The session, or a redirect to the login page (401 for the API)."""
        session = self.session(request)
        if session is not None:
            return session
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(
                text=api.dumps({"error": "log in first: POST /login, then send the cookie"}),
                content_type="application/json",
            )
        raise web.HTTPSeeOther(f"/login?{urlencode({'next': request.path_qs})}")

    async def require_form(self, request: web.Request) -> tuple[Session, dict[str, str]]:
        """The session and the posted form, after checking the form's CSRF token (403)."""
        session = self.require(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        if not self.sessions.check_csrf(session, form.get("csrf")):
            raise web.HTTPForbidden(text="this form has expired or did not come from the "
                                         "dashboard; reload the page and try again")
        return session, form

    def client_address(self, request: web.Request) -> str:
        """Who is asking: the proxy's X-Forwarded-For entry when trusted, else the peer."""
        if self.config.trust_forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For", "")
            # The last entry is the one our proxy added; earlier ones the client may forge.
            last = forwarded.rsplit(",", 1)[-1].strip()
            if last:
                return last
        return request.remote or "unknown"

    def set_cookie(self, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
        """A cookie with the dashboard's flags: HttpOnly, SameSite=Lax, Secure over https."""
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="Lax",
            secure=self.config.secure_cookies,
        )

    def login_nonce(self, request: web.Request) -> str:
        """This browser's random pre-login value (from its cookie, or a new one)."""
        return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)

    def check_login_token(self, request: web.Request, token: str | None) -> bool:
        """True when a pre-login form's token matches this browser's cookie."""
        nonce = request.cookies.get(LOGIN_COOKIE)
        return bool(nonce and token) and self.signer.check("login", nonce or "", token or "")


def _dash(request: web.Request) -> Dashboard:
    return request.app[WEB]


def _page(request: web.Request, template: str, data: dict[str, Any], status: int = 200,
          session: Session | None = None) -> web.Response:
    dash = _dash(request)
    context = {
        **data, "user": session.user if session else None,
        "csrf": dash.sessions.csrf_token(session) if session else None,
        "severities": SEVERITIES, "statuses": STATUSES, "kinds": INCIDENT_KINDS,
        "categories": HARM_CATEGORIES, "brands": dash.ctx.brands, "when": api.when,
        "kind_words": KINDS, "category_words": CATEGORIES, "silence_hours": SILENCE_HOURS,
    }
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def _prelogin_page(request: web.Request, template: str, data: dict[str, Any], status: int = 200,
                   session: Session | None = None) -> web.Response:
    """A page whose form is posted without a session (login, signed links): CSRF by cookie."""
    dash = _dash(request)
    nonce = dash.login_nonce(request)
    data = {**data, "form_token": dash.signer.sign("login", nonce)}
    response = _page(request, template, data, status, session)
    dash.set_cookie(response, LOGIN_COOKIE, nonce, 3600)
    return response


def _message(request: web.Request, title: str, text: str, status: int,
             session: Session | None = None) -> web.Response:
    return _page(request, "message.html", {"title": title, "text": text}, status, session)


def _incident_id(request: web.Request) -> int:
    raw = request.match_info["incident_id"]
    if not raw.isdigit():
        raise web.HTTPNotFound(text="incident ids are numbers")
    return int(raw)


# -- login -------------------------------------------------------------------------------------

def _next_path(value: str | None) -> str:
    """Only a path on this site: an open redirect would hand the session to someone else."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/incidents"


async def login_page(request: web.Request) -> web.Response:
    """The login form."""
    return _prelogin_page(request, "login.html", {"next": _next_path(request.query.get("next"))})


async def login(request: web.Request) -> web.Response:
    """Check the password (rate-limited per user and address) and start a session."""
    dash = _dash(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    if not dash.check_login_token(request, form.get("csrf")):
        raise web.HTTPForbidden(text="the login form expired; reload the page and try again")
    user, password = form.get("username", "").strip(), form.get("password", "")
    address = dash.client_address(request)
    wait = dash.limiter.retry_after(user, address)
    if wait > 0:
        log.warning("login refused for %r from %s: too many failed attempts", user, address)
        return _login_error(request, f"Too many failed logins. Try again in "
                                     f"{int(wait // 60) + 1} minutes.", 429, form)
    if not dash.users.check(user, password):
        dash.limiter.failed(user, address)
        log.info("failed login for %r from %s", user, address)
        return _login_error(request, "Wrong user name or password.", 401, form)
    dash.limiter.succeeded(user)
    session, cookie = dash.sessions.issue(user)
    log.info("%s logged in from %s", user, address)
    response = web.HTTPSeeOther(_next_path(form.get("next")))
    dash.set_cookie(response, SESSION_COOKIE, cookie, int(dash.config.session_lifetime))
    raise response


def _login_error(
    request: web.Request, text: str, status: int, form: dict[str, str]
) -> web.Response:
    return _prelogin_page(request, "login.html", {
        "error": text, "next": _next_path(form.get("next")), "username": form.get("username"),
    }, status)


async def logout(request: web.Request) -> web.Response:
    """End the session."""
    dash = _dash(request)
    session, _form = await dash.require_form(request)
    dash.sessions.revoke(session)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


# -- pages and their JSON ---------------------------------------------------------------------

async def home(request: web.Request) -> web.Response:
    """The incidents list is the front page."""
    raise web.HTTPSeeOther("/incidents")


async def incidents_page(request: web.Request) -> web.Response:
    """Incidents with filters; reloads itself every `[web] refresh` seconds."""
    dash = _dash(request)
    session = dash.require(request)
    try:
        data = await api.list_incidents(dash.ctx, request.query)
    except (BadQuery, IncidentError) as exc:
        return _message(request, "Cannot filter like that", str(exc), 400, session)
    data["refresh"] = int(dash.config.refresh)
    return _page(request, "incidents.html", data, session=session)


async def incidents_json(request: web.Request) -> web.Response:
    """GET /api/incidents."""
    dash = _dash(request)
    dash.require(request)
    try:
        return json_response(await api.list_incidents(dash.ctx, request.query))
    except (BadQuery, IncidentError) as exc:
        return json_response({"error": str(exc)}, 400)


async def incident_page(request: web.Request) -> web.Response:
    """One incident: claim, why, chart, timeline, mentions, alerts, notes and actions."""
    dash = _dash(request)
    session = dash.require(request)
    data = await api.incident_detail(dash.ctx, _incident_id(request))
    if data is None:
        return _message(request, "No such incident",
                        "There is no incident with that number; see the incidents list.", 404,
                        session)
    data["chart_svg"] = Markup(data["chart_svg"])  # built by chart.py from numbers and our labels
    data["done"] = request.query.get("done")
    return _page(request, "incident.html", data, session=session)


async def incident_json(request: web.Request) -> web.Response:
    """GET /api/incidents/{id}."""
    dash = _dash(request)
    dash.require(request)
    data = await api.incident_detail(dash.ctx, _incident_id(request))
    if data is None:
        return json_response({"error": "no such incident"}, 404)
    return json_response(data)


async def mentions_page(request: web.Request) -> web.Response:
    """Full-text search over mentions."""
    dash = _dash(request)
    session = dash.require(request)
    try:
        data = await api.search_mentions(dash.ctx, request.query)
    except BadQuery as exc:
        return _message(request, "Cannot search for that", str(exc), 400, session)
    return _page(request, "mentions.html", data, session=session)


async def mentions_json(request: web.Request) -> web.Response:
    """GET /api/mentions."""
    dash = _dash(request)
    dash.require(request)
    try:
        return json_response(await api.search_mentions(dash.ctx, request.query))
    except BadQuery as exc:
        return json_response({"error": str(exc)}, 400)


async def status_page(request: web.Request) -> web.Response:
    """Sources' health and channels' last delivery."""
    dash = _dash(request)
    session = dash.require(request)
    data = await api.sources_status(dash.ctx) | await api.channels_status(dash.ctx)
    return _page(request, "status.html", data, session=session)


async def sources_json(request: web.Request) -> web.Response:
    """GET /api/sources."""
    dash = _dash(request)
    dash.require(request)
    return json_response(await api.sources_status(dash.ctx))


async def channels_json(request: web.Request) -> web.Response:
    """GET /api/channels."""
    dash = _dash(request)
    dash.require(request)
    return json_response(await api.channels_status(dash.ctx))


# -- actions -----------------------------------------------------------------------------------

async def incident_action(request: web.Request) -> web.Response:
    """POST acknowledge / resolve / note / silence, as the logged-in user; back to the page."""
    dash = _dash(request)
    session, form = await dash.require_form(request)
    incident_id = _incident_id(request)
    action = request.match_info["action"]
    book = dash.ctx.book
    try:
        if action == "ack":
            await book.ack(incident_id, session.user, form.get("note") or None)
            done = "acknowledged"
        elif action == "resolve":
            await book.resolve(incident_id, session.user)
            done = "resolved"
        elif action == "note":
            await book.note(incident_id, form.get("text", ""), session.user)
            done = "noted"
        elif action == "silence":
            await _silence(dash, incident_id, form, session.user)
            done = "silenced"
        else:
            raise web.HTTPNotFound(text=f"no action {action!r}")
    except (IncidentError, ValueError) as exc:
        return _message(request, "Not done", str(exc), 409, session)
    raise web.HTTPSeeOther(f"/incidents/{incident_id}?done={quote(done)}")


async def _silence(dash: Dashboard, incident_id: int, form: dict[str, str], user: str) -> None:
    incident = await dash.ctx.book.get(incident_id)
    if incident is None:
        raise IncidentError(f"there is no incident {incident_id}")
    hours = form.get("hours", "")
    if not hours.isdigit() or int(hours) not in SILENCE_HOURS:
        raise ValueError("choose how long to mute alerts from the list")
    now = dash.ctx.clock.now()
    category = incident.category if form.get("scope") == "category" else None
    if category == "none":
        category = None
    await dash.ctx.store.transaction(
        lambda db: silences.add_silence(
            db, brand=incident.brand, category=category, starts_at=now,
            ends_at=now + timedelta(hours=int(hours)), reason=form.get("reason", ""),
            created_by=user,
        )
    )


# -- signed links from alerts -------------------------------------------------------------------

async def link_page(request: web.Request) -> web.Response:
    """A signed link opens a confirmation page; nothing changes until its form is posted."""
    dash = _dash(request)
    grant = dash.links.check(
        _incident_id(request), request.match_info["action"], request.query.get("expires"),
        request.query.get("sig"), dash.ctx.clock.now().timestamp(),
    )
    session = dash.session(request)
    if isinstance(grant, str):
        return _message(request, "Link not valid", grant, 403, session)
    incident = await dash.ctx.book.get(grant.incident_id)
    if incident is None:
        return _message(request, "No such incident", "The incident no longer exists.", 404,
                        session)
    response = _prelogin_page(request, "link.html", {
        "incident": api.incident_dict(incident), "expires": request.query.get("expires"),
        "sig": request.query.get("sig"), "action": grant.action,
    }, session=session)
    # Mail scanners and link previews must not cache or index an acknowledge page.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


async def link_confirm(request: web.Request) -> web.Response:
    """The POST from the confirmation page acknowledges, as the logged-in user or given name."""
    dash = _dash(request)
    form = {k: str(v) for k, v in (await request.post()).items()}
    if not dash.check_login_token(request, form.get("csrf")):
        raise web.HTTPForbidden(text="this form has expired; open the link from the alert again")
    incident_id = _incident_id(request)
    grant = dash.links.check(
        incident_id, request.match_info["action"], form.get("expires"), form.get("sig"),
        dash.ctx.clock.now().timestamp(),
    )
    session = dash.session(request)
    if isinstance(grant, str):
        return _message(request, "Link not valid", grant, 403, session)
    name = form.get("name", "").strip()[:64]
    if session is not None:
        actor = session.user
    elif name:
        actor = f"{name} (email link)"
    else:
        return _message(request, "Who is acknowledging?",
                        "Type your name on the previous page, so colleagues know who has it.",
                        400, session)
    try:
        incident = await dash.ctx.book.ack(grant.incident_id, actor)
    except IncidentError as exc:
        return _message(request, "Not acknowledged", str(exc), 409, session)
    return _message(request, "Acknowledged",
                    f"Incident {incident.id} is acknowledged by {actor}.", 200, session)


# -- wiring ------------------------------------------------------------------------------------

def mount(app: web.Application, ctx: WebContext, config: WebConfig) -> Dashboard:
    """Add the dashboard to an aiohttp app (the daemon's own, before it starts)."""
    try:
        secret = config.secret.reveal()
    except ValueError as exc:
        raise RuntimeError(
            f"[web] secret: {exc}; export it (e.g. `openssl rand -hex 32`) or remove [web]"
        ) from None
    for user in config.users:
        if not isinstance(user.password_hash, str) and not user.password_hash.is_set():
            raise RuntimeError(
                f"[web] user {user.name!r}: environment variable {user.password_hash.env} "
                "is not set; export the hash from `brand-monitor web hash-password`"
            )
    dash = Dashboard(ctx, config, secret)
    app[WEB] = dash
    aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("monitor.web", "templates"),
        autoescape=True, finalize=_finalize, undefined=jinja2.StrictUndefined,
    )
    app.router.add_routes([
        web.get("/", home),
        web.get("/login", login_page),
        web.post("/login", login),
        web.post("/logout", logout),
        web.get("/incidents", incidents_page),
        web.get("/incidents/{incident_id}", incident_page),
        web.post("/incidents/{incident_id}/{action}", incident_action),
        web.get("/mentions", mentions_page),
        web.get("/status", status_page),
        web.get("/api/incidents", incidents_json),
        web.get("/api/incidents/{incident_id}", incident_json),
        web.get("/api/mentions", mentions_json),
        web.get("/api/sources", sources_json),
        web.get("/api/channels", channels_json),
        web.get("/link/{incident_id}/{action}", link_page),
        web.post("/link/{incident_id}/{action}", link_confirm),
        web.static("/static", STATIC),
    ])
    app.on_response_prepare.append(_security_headers)
    return dash


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    # Nothing on these pages is meant to run: no scripts, no frames, no foreign resources.
    if response.content_type == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")


def mount_service(app: web.Application, service: Service) -> Dashboard:
    """Mount the dashboard on the daemon's HTTP app with the daemon's store and incident book."""
    config = service.config
    assert config.web is not None, "mount the dashboard only when [web] is configured"
    ctx = WebContext(
        store=service.store, book=service.incidents, clock=service.clock,
        brands=[b.name for b in config.brands],
        sources={s.name: s.kind for s in config.sources},
        channels={name: channel.kind for name, channel in service.channels.items()},
    )
    dash = mount(app, ctx, config.web)
    web_config = config.web
    if web_config.public_url:
        buttons = web_config.slack_signing_secret is not None
        clock = service.clock

        def links(incident: Incident) -> AlertLinks:
            return AlertLinks(
                incident_url=f"{web_config.public_url}/incidents/{incident.id}",
                ack_url=dash.links.url(incident.id, "ack", clock.now().timestamp()),
                slack_buttons=buttons,
            )

        service.dispatcher.links = links
    else:
        log.warning("[web] public_url is not set: alerts carry no dashboard links")
    if web_config.slack_signing_secret is not None:
        try:
            signing_secret = web_config.slack_signing_secret.reveal()
        except ValueError as exc:
            raise RuntimeError(
                f"[web] slack_signing_secret: {exc}; export it (Slack app settings, Basic "
                "Information, Signing Secret) or remove the key"
            ) from None
        slack = [c for c in service.channels.values() if isinstance(c, SlackChannel)]
        interactions = SlackInteractions(SlackVerifier(signing_secret), service.incidents, slack)
        app.router.add_routes(interactions.routes())

        async def finish_updates(_app: web.Application) -> None:
            await interactions.close()

        app.on_shutdown.append(finish_updates)
    return dash
