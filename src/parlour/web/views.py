"""The pages around the rooms: signing in and out, and the list of one's meetings with
the client's media-check sign (V3). Parse, call the domain, render."""

from zoneinfo import ZoneInfo

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from parlour.core import clock
from parlour.meetings.display import MediaState, client_media_state, displayed_status
from parlour.meetings.models import Meeting
from parlour.meetings.outcome import room_is_open

# V3's four signs, readable without colour.
MEDIA_SIGNS = {
    MediaState.NOT_ENTERED: "?",
    MediaState.NO_CHECK: "?",
    MediaState.FAILED: "✗",
    MediaState.PASSED: "✓",
}
PAGE = 50


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:meetings" if request.user.is_authenticated else "web:signin")


class SignIn(auth_views.LoginView):
    template_name = "web/signin.html"
    redirect_authenticated_user = True


class SignOut(auth_views.LogoutView):
    next_page = "web:signin"


@login_required
@require_GET
def meetings(request: HttpRequest) -> HttpResponse:
    """The meetings where I am the expert or the client, newest first."""
    now = clock.now()
    found = (
        Meeting.objects.filter(Q(expert=request.user) | Q(client=request.user))
        .select_related("organization__settings_row", "service", "client", "guest")
        .order_by("-start", "-id")[:PAGE]
    )
    rows = []
    for meeting in found:
        media = client_media_state(meeting)
        rows.append(
            {
                "meeting": meeting,
                "media": media.value,
                "media_label": media.label,
                "media_sign": MEDIA_SIGNS[media],
                "status_label": displayed_status(meeting, now).label,
                "can_enter": room_is_open(meeting, now),
            }
        )
    try:
        zone = str(ZoneInfo(request.user.time_zone).key)
    except (ValueError, KeyError):
        zone = "UTC"
    return render(request, "web/meetings.html", {"rows": rows, "zone": zone})
