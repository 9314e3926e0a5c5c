"""The websocket addresses of the built-in room (served by ``parlour.asgi``)."""

from django.urls import re_path

from .consumers import SignalingConsumer

websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<name>[A-Za-z0-9_-]{1,64})/$", SignalingConsumer.as_asgi(), name="room-signaling"),
]
