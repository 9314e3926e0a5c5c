"""Signing in and out (O1), who I am, and personal API tokens (I2).

Tokens are listed, made and revoked from a signed-in session only: a token that leaked can
neither make more tokens nor outlive its revocation."""

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.utils import check_csrf

from parlour.accounts.models import ApiToken, ClientAccount, Membership, User
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound

from .lookups import viewer
from .schemas import ERRORS, CsrfOut, ErrorOut, LoginIn, LoginOut, MeOut, NewTokenOut, TokenIn, TokenOut
from .security import csrf_refused, session_auth

router = Router(tags=["auth"])


def me_of(user: User) -> dict:
    roles = {
        m.organization_id: (m.organization, m.role)
        for m in Membership.objects.filter(user=user).select_related("organization")
    }
    for account in ClientAccount.objects.filter(user=user).select_related("organization"):
        roles.setdefault(account.organization_id, (account.organization, "client"))
    organizations = sorted(
        ({"slug": org.slug, "name": org.name, "role": role} for org, role in roles.values()),
        key=lambda row: (row["name"], row["slug"]),
    )
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "time_zone": user.time_zone,
        "language": user.language,
        "organizations": organizations,
    }


@router.get("/auth/csrf", auth=None, response=CsrfOut)
def csrf(request: HttpRequest):
    """The CSRF token for this browser, also set as the ``csrftoken`` cookie. Sign-in and
    every unsafe request of a session send it back as ``X-CSRFToken``."""
    return {"csrf_token": get_token(request)}


@router.post("/auth/login", auth=None, response={200: LoginOut, ERRORS: ErrorOut})
def sign_in(request: HttpRequest, payload: LoginIn):
    """O1: sign in with email and password; the answer sets the session cookie. CSRF is
    checked here too, so that another site cannot sign a browser into someone else's account."""
    if check_csrf(request) is not None:
        raise csrf_refused()
    user = authenticate(request, username=payload.email.strip().lower(), password=payload.password)
    if user is None:
        raise DomainError("invalid_credentials", _("The email address or the password is wrong."), "O1", status=401)
    login(request, user)
    return {"me": me_of(user), "csrf_token": get_token(request)}


@router.post("/auth/logout", auth=session_auth, response={204: None, ERRORS: ErrorOut})
def sign_out(request: HttpRequest):
    logout(request)
    return Status(204, None)


@router.get("/me", response={200: MeOut, ERRORS: ErrorOut})
def me(request: HttpRequest):
    """Who is calling, and the organizations they belong to with their role there."""
    return me_of(viewer(request))


@router.get("/me/tokens", auth=session_auth, response={200: list[TokenOut], ERRORS: ErrorOut})
def list_tokens(request: HttpRequest):
    return list(ApiToken.objects.filter(user=viewer(request)).order_by("-created_at", "-id"))


@router.post("/me/tokens", auth=session_auth, response={201: NewTokenOut, ERRORS: ErrorOut})
def create_token(request: HttpRequest, payload: TokenIn):
    """A new personal token, ``plr_…``, shown in this answer only. Send it as
    ``Authorization: Bearer plr_…``."""
    row, token = ApiToken.issue(viewer(request), payload.name.strip() or "API token")
    row.token = token
    return Status(201, row)


@router.post("/me/tokens/{token_id}/revoke", auth=session_auth, response={200: TokenOut, ERRORS: ErrorOut})
def revoke_token(request: HttpRequest, token_id: int):
    """The token stops working at once. Revoking it twice changes nothing."""
    row = ApiToken.objects.filter(user=viewer(request), pk=token_id).first()
    if row is None:
        raise NotFound("token")
    ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    row.refresh_from_db()
    return row
