"""Parlour's ASGI application: Django's pages and API over HTTP, and the built-in room's
signaling over websockets (Django Channels, ``rooms.routing``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parlour.settings")
# Django is set up here, before anything that imports models.
http_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from parlour.rooms import routing  # noqa: E402

# The largest websocket message the server reads (uvicorn's ws_max_size): the room's
# signaling messages are a few KiB, and rooms.consumers refuses more than 64 KiB.
WS_MAX_SIZE = 256 * 1024


def build_application(http=http_application) -> ProtocolTypeRouter:
    """The whole application around the given HTTP handler (``parlour run`` wraps it in one
    that serves the static files too). A websocket must come from a page of one of
    ALLOWED_HOSTS, and knows its user and session from the cookies."""
    return ProtocolTypeRouter(
        {
            "http": http,
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(routing.websocket_urlpatterns))),
        }
    )


application = build_application()
