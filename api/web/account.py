"""Signing in and out of the reviewer's page, and the language choices.

Sign-in takes the reviewer's token once (a POSTed form) and answers with the session cookie of
:mod:`api.auth` (signed, http-only, SameSite=Strict, Secure over https); the token is not kept anywhere.
Every other page needs that cookie and sends a visitor without one to the sign-in page, which brings them
back afterwards (``next``, only ever a path of this site's /ui).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from api.auth import SESSION_COOKIE, SESSION_LIFETIME_S, Identity, make_session, session_identity
from api.web.i18n import LABEL_LANGUAGE_COOKIE, LABEL_LANGUAGES, UI_LANGUAGE_COOKIE, label_language, ui_language
from api.web.i18n import ui_languages as available_ui_languages
from api.web.render import Viewer, escape, fill, page

router = APIRouter(prefix="/ui", include_in_schema=False)

LOGIN = "/ui/login"
HOME = "/ui/queue"
#: A sign-in form is a token and a path; anything much larger is not one.
_FORM_LIMIT = 16 * 1024
#: Where ``next`` may lead: a path under /ui (never ``//host`` or a backslash trick leaving the site).
_NEXT = re.compile(r"^/ui(/[^/\\\s][^\\\s]*|/)?$")
_PREFERENCE_MAX_AGE_S = 365 * 24 * 3600


def safe_next(value: str | None) -> str:
    return value if value is not None and len(value) <= 2000 and _NEXT.match(value) else HOME


def viewer_of(request: Request, identity: Identity | None) -> Viewer:
    ui = ui_language(request)
    return Viewer(identity, ui, label_language(request, ui))


def signed_in(request: Request) -> Viewer | RedirectResponse:
    """The signed-in viewer, or the redirect to the sign-in page (coming back here afterwards)."""
    identity = session_identity(request)
    if identity is not None:
        return viewer_of(request, identity)
    return RedirectResponse(f"{LOGIN}?{urlencode({'next': here_of(request)})}", status_code=303)


def here_of(request: Request) -> str:
    """This page's path and query, as a ``next`` to come back to."""
    return safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


async def read_form(request: Request) -> dict[str, str]:
    """A small url-encoded form (the browser's default encoding); the first value of each field."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _FORM_LIMIT:
            raise HTTPException(413, f"the form is larger than {_FORM_LIMIT} bytes")
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=10)
    except ValueError as exc:
        raise HTTPException(400, "the form has too many fields") from exc
    return {name: values[0] for name, values in fields.items()}


def _cookie(
    response: Response, request: Request, name: str, value: str, max_age: int, samesite: Literal["lax", "strict"]
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite=samesite,
        secure=request.url.scheme == "https",
    )


def _login_page(request: Request, target: str, notice: str = "", status_code: int = 200) -> Response:
    viewer = viewer_of(request, None)
    main = fill(
        "login.html",
        title=viewer.t("login.title"),
        notice=notice,
        next=escape(target),
        token_label=viewer.t("login.token"),
        token_help=viewer.t("login.help"),
        submit=viewer.t("login.submit"),
        invalid=' aria-invalid="true"' if status_code == 401 else "",
    )
    here = f"{LOGIN}?{urlencode({'next': target})}"
    return page(viewer, title=viewer.text("login.title"), main=main, here=here, status_code=status_code)


@router.get("/login")
def login_form(request: Request, next: str | None = None, signed_out: bool = False) -> Response:
    target = safe_next(next)
    if session_identity(request) is not None:
        return RedirectResponse(target, status_code=303)
    viewer = viewer_of(request, None)
    notice = f'<p class="notice" role="status">{viewer.t("login.signed_out")}</p>' if signed_out else ""
    return _login_page(request, target, notice)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    target = safe_next(form.get("next"))
    token = form.get("token", "").strip()
    made = make_session(token, request.app.state.settings) if token else None
    if made is None:
        viewer = viewer_of(request, None)
        notice = f'<p class="notice error" role="alert">{viewer.t("login.unknown")}</p>'
        return _login_page(request, target, notice, status_code=401)
    cookie, _ = made
    response = RedirectResponse(target, status_code=303)
    _cookie(response, request, SESSION_COOKIE, cookie, SESSION_LIFETIME_S, "strict")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse(f"{LOGIN}?signed_out=true", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.post("/preferences")
async def preferences(request: Request) -> Response:
    """The UI and label languages, kept in cookies (a year); unknown choices are refused, not guessed."""
    form = await read_form(request)
    ui, labels = form.get("ui_lang"), form.get("label_lang")
    if ui is not None and ui not in available_ui_languages():
        raise HTTPException(422, f"ui_lang: no catalogue for {ui!r} (have {', '.join(available_ui_languages())})")
    if labels is not None and labels not in LABEL_LANGUAGES:
        raise HTTPException(422, f"label_lang: {labels!r} is not offered (offered: {', '.join(LABEL_LANGUAGES)})")
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    for name, value in ((UI_LANGUAGE_COOKIE, ui), (LABEL_LANGUAGE_COOKIE, labels)):
        if value is not None:
            _cookie(response, request, name, value, _PREFERENCE_MAX_AGE_S, "lax")
    return response
