"""Who is calling (O1, I2): a personal API token for scripts, or the browser's Django session.

A request with ``Authorization: Bearer …`` is judged by its token alone: an unknown or revoked
token is refused even when a session cookie rides along. A session is accepted for unsafe
methods only with a valid CSRF token (``X-CSRFToken``), since the browser sends its cookie to
any site that asks."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from parlour.accounts.models import ApiToken, User
from parlour.core import clock
from parlour.core.errors import DomainError

# ``last_used_at`` is written at most once a minute per token: enough to tell a live token
# from a forgotten one, without a write on every read.
LAST_USED_PRECISION = timedelta(minutes=1)
LANGUAGES = {code for code, _name in settings.LANGUAGES}


def csrf_refused() -> DomainError:
    return DomainError(
        "csrf_failed",
        _("The CSRF token is missing or wrong: send the csrftoken cookie's value as X-CSRFToken."),
        "I2",
        status=403,
    )


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User:
        token = token.strip()
        row = None
        if token.startswith(ApiToken.PREFIX):
            row = (
                ApiToken.objects.select_related("user")
                .filter(digest=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True)
                .first()
            )
        if row is None:
            raise DomainError("invalid_token", _("The API token is unknown or has been revoked."), "I2", status=401)
        now = clock.now()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.api_token = row
        if row.user.language in LANGUAGES:  # D4: the token's owner reads answers in their language
            translation.activate(row.user.language)
            request.LANGUAGE_CODE = row.user.language
        return row.user


class SessionAuth(APIKeyCookie):
    """Django's session, with CSRF checked once the session is known to be signed in, so
    that a caller with no session at all hears 401, not 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise csrf_refused()
        return user


token_auth = TokenAuth()
session_auth = SessionAuth()
