"""Parlour's versioned JSON API (I2), served under ``/api/v1/`` with its OpenAPI description
at ``/api/v1/openapi.json`` and browsable docs at ``/api/v1/docs``.

Routers parse the request, call the domain (``parlour.meetings.lifecycle``,
``parlour.meetings.outcome``, ``parlour.credits.ledger``) and shape the answer; they never
set a meeting's status or move credits themselves (STYLE rule 1)."""

from ninja import NinjaAPI

from . import (
    actions,
    auth,
    calendars,
    catalog,
    conversations,
    credits,
    free_dates,
    guest,
    meetings,
    notifications,
    public,
    slots,
    webhooks,
)
from .errors import install_error_handlers
from .security import session_auth, token_auth

DESCRIPTION = """
Sign in from a browser with `POST /auth/login` (a session cookie; send the `csrftoken`
cookie's value as `X-CSRFToken` with every unsafe request), or from a script with a personal
token: `Authorization: Bearer plr_…` (make one with `POST /me/tokens`).

The public booking page (`/public/{slug}/…`) and a guest's own link (`/guest/{token}`) need
no sign-in.

Every error is JSON: `{"code", "message", "rule"}` and sometimes `details`; `rule` names the
rule of the specification that decided it. `message` and the labels are in the caller's
language: a signed-in person's setting, else what `Accept-Language` asks for (English, Dutch,
German, Czech, Slovak); `code` and `rule` are the same in every language. Datetimes are
ISO 8601 with an offset, in and out.
"""


class ParlourAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """The view's own name (``book``, ``cancel``, ``wallet_history``): short, stable
        names for generated clients. They are unique across the routers."""
        return operation.view_func.__name__


api = ParlourAPI(
    title="Parlour API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=[token_auth, session_auth],
)
install_error_handlers(api)
for module in (auth, catalog, meetings, actions, credits, free_dates, slots, public, guest, calendars, notifications):
    api.add_router("/", module.router)
api.add_router("/", conversations.router)
api.add_router("/", conversations.guest_router)
api.add_router("/", webhooks.router)
