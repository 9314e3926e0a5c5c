"""Entering a meeting's room (V2, V3): the join link, the guest key, the built-in room's
page and the media check. Parse, call the domain, render — nothing is decided here.

Opening a join link (GET) changes nothing, so a mail program that fetches links to scan them
enters nobody; the "Enter the room" button (POST) records the entry."""

import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from parlour.accounts.models import Guest, User
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound
from parlour.meetings.display import displayed_status
from parlour.meetings.guest_links import link_token, meeting_for_link
from parlour.meetings.models import Meeting, Side, Status, normalize_guest_key
from parlour.meetings.outcome import (
    join_window,
    record_entry,
    record_media_check,
    report_connected,
    report_connection_failure,
)
from parlour.meetings.transitions import side_of
from parlour.web.meeting_labels import DISPLAYED_STATUS

from .access import Grant, grant, participant_for
from .commands import sync_room
from .ice import ice_servers
from .models import Room
from .platforms import Participant, platform_for

logger = logging.getLogger(__name__)

# B5: failed guest-key attempts are counted per address over this many seconds.
KEY_ATTEMPT_WINDOW = 15 * 60


# --- the join link ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def join_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """V2: the join link of a signed-in member or client."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    meeting = (
        Meeting.objects.filter(pk=meeting_id)
        .filter(Q(expert=request.user) | Q(client=request.user))
        .select_related("organization", "service", "expert", "client", "guest")
        .first()
    )
    if meeting is None:
        raise Http404
    return _join(request, meeting, request.user)


@require_http_methods(["GET", "POST"])
def join_link(request: HttpRequest, token: str) -> HttpResponse:
    """V2, B5: the join link from a guest's email (their signed link)."""
    try:
        meeting = meeting_for_link(token)
    except NotFound:
        raise Http404 from None
    return _join(request, meeting, meeting.guest)


@require_http_methods(["GET", "POST"])
def join_with_key(request: HttpRequest) -> HttpResponse:
    """B5: a guest types the guest key from their invitation. Letter case, spaces and dashes
    do not matter; failed attempts are limited per address."""
    error = ""
    status = 200
    if request.method == "POST":
        counter = f"parlour.guest_key.failures.{_client_address(request)}"
        if (cache.get(counter) or 0) >= settings.PARLOUR_GUEST_KEY_ATTEMPTS:
            error = _("Too many wrong keys. Wait a quarter of an hour, or use the link in your invitation.")
            status = 429
        else:
            key = normalize_guest_key(request.POST.get("key", ""))[:32]
            meeting = (
                Meeting.objects.filter(guest_key=key, guest__isnull=False).only("pk", "guest_key", "guest").first()
                if key
                else None
            )
            if meeting is not None:
                return redirect("rooms:join_link", token=link_token(meeting))
            cache.add(counter, 0, KEY_ATTEMPT_WINDOW)
            try:
                cache.incr(counter)
            except ValueError:  # expired between add and incr
                cache.set(counter, 1, KEY_ATTEMPT_WINDOW)
            error = _("No meeting has this guest key. Check the key in your invitation.")
            status = 400
    return render(request, "rooms/key.html", {"error": error}, status=status)


def _client_address(request: HttpRequest) -> str:
    """The address a request came from. Behind PARLOUR_PROXY_COUNT proxies of one's own, each
    adding the address it was reached from to X-Forwarded-For, it is the one the outermost
    proxy added (what came before it can be written by anyone)."""
    proxies = settings.PARLOUR_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _join(request: HttpRequest, meeting: Meeting, person: User | Guest) -> HttpResponse:
    side = side_of(meeting, person)
    if side is None:
        raise Http404
    now = clock.now()
    with translation.override(_language_of(request, person)):
        error = ""
        if request.method == "POST" and _expert_as_guest(request, meeting, person):
            error = _(
                "You are signed in as this meeting's expert. Enter from your meetings list; "
                "the guest enters with their own link or key."
            )
        elif request.method == "POST":
            try:
                meeting = record_entry(person, meeting, now=now)
            except DomainError as refusal:
                error = refusal.message
            else:
                grant(request.session, meeting, side, person)
                room = sync_room(meeting, now)
                # Parlour's room page first (V3: the media check), whatever the platform.
                return redirect("rooms:room", name=room.name)
        return render(request, "rooms/join.html", _join_context(meeting, side, person, now, error))


def _expert_as_guest(request: HttpRequest, meeting: Meeting, person: User | Guest) -> bool:
    """The expert, signed in, opening the guest's link or key: their entry would count as the
    guest's attendance (V5, S3), so it is refused."""
    return isinstance(person, Guest) and request.user.is_authenticated and request.user.pk == meeting.expert_id


def _join_context(meeting: Meeting, side: str, person: User | Guest, now: datetime, error: str) -> dict:
    opens, closes = join_window(meeting)
    if meeting.status != Status.AGREED:
        state = "ended" if meeting.status in (Status.COMPLETED, Status.MISSED, Status.FAILED) else "not_agreed"
    elif now < opens:
        state = "early"
    elif now >= closes:
        state = "ended"
    else:
        state = "open"
    return {
        "meeting": meeting,
        "side": side,
        "person": person,
        "other_name": meeting.expert.name if side == Side.CLIENT else meeting.client_name,
        "zone": _zone(person),
        "opens": opens,
        "state": state,
        "status_label": DISPLAYED_STATUS[displayed_status(meeting, now)],
        # The page reloads itself when the room opens (and not sooner than in 5 s).
        "reload_in": max(5, int((opens - now).total_seconds()) + 1) if state == "early" else None,
        "error": error,
    }


def _zone(person: User | Guest) -> str:
    try:
        ZoneInfo(person.time_zone)
    except (ValueError, KeyError):
        return "UTC"
    return person.time_zone


def _language_of(request: HttpRequest, person: User | Guest) -> str:
    return person.language or translation.get_language_from_request(request)


# --- the built-in room ---------------------------------------------------------------------


def _room_and_grant(request: HttpRequest, name: str) -> tuple[Room, Grant]:
    room = Room.objects.filter(name=name).select_related("meeting", "organization").first()
    grant_ = participant_for(request.user, request.session, room) if room is not None else None
    if grant_ is None:
        raise Http404
    return room, grant_


def _join_page_of(grant_: Grant) -> str:
    if grant_.side == Side.CLIENT and grant_.meeting.guest_id is not None and isinstance(grant_.actor, Guest):
        return reverse("rooms:join_link", args=[link_token(grant_.meeting)])
    return reverse("rooms:join_meeting", args=[grant_.meeting.pk])


@require_http_methods(["GET"])
def room(request: HttpRequest, name: str) -> HttpResponse:
    """V2, V3: the room's page, for the two sides who entered, while it is open: the media
    check, then Parlour's own call or, on another platform, the way on to its room."""
    room_, grant_ = _room_and_grant(request, name)
    now = clock.now()
    opens, closes = join_window(grant_.meeting)
    if grant_.meeting.status != Status.AGREED or not opens <= now < closes:
        return redirect(_join_page_of(grant_))
    continue_url = ""
    if room_.platform != "builtin":
        participant = Participant(
            side=grant_.side, name=grant_.name, email=grant_.actor.email, moderator=grant_.side == Side.EXPERT
        )
        try:
            continue_url = platform_for(room_.organization, room_.platform).join_url(room_, participant, now=now)
        except ImproperlyConfigured:
            logger.exception("Room %s: the organization's %s settings are incomplete", room_.pk, room_.platform)
            return render(request, "rooms/unavailable.html", {"meeting": grant_.meeting}, status=503)
    with translation.override(_language_of(request, grant_.actor)):
        return render(
            request,
            "rooms/room.html",
            {
                "room": room_,
                "meeting": grant_.meeting,
                "side": grant_.side,
                "me_name": grant_.name,
                "other_name": grant_.other_name,
                "ws_path": f"/ws/rooms/{room_.name}/",
                "ice_servers": ice_servers(participant_key=f"{grant_.meeting.pk}-{grant_.side}", now=now),
                "media_check_url": reverse("rooms:media_check", args=[room_.name]),
                "leave_url": reverse("rooms:left", args=[room_.name]),
                "ends_at": closes.isoformat(),
                "continue_url": continue_url,
                "zone": _zone(grant_.actor),
            },
        )


@require_POST
def media_check(request: HttpRequest, name: str) -> JsonResponse:
    """V3: the browser reports its camera and microphone test."""
    _room, grant_ = _room_and_grant(request, name)
    try:
        answer = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        answer = None
    if not isinstance(answer, dict):
        return JsonResponse(
            {"code": "invalid_media_check", "message": _("Send a JSON object."), "rule": "V3"}, status=400
        )
    try:
        meeting = record_media_check(
            grant_.actor,
            grant_.meeting,
            camera=answer.get("camera"),
            microphone=answer.get("microphone"),
            level=answer.get("level"),
        )
    except DomainError as refusal:
        return JsonResponse(
            {"code": refusal.code, "message": refusal.message, "rule": refusal.rule}, status=refusal.status
        )
    return JsonResponse({"result": getattr(meeting, f"{grant_.side}_media_check")})


@require_http_methods(["GET"])
def left(request: HttpRequest, name: str) -> HttpResponse:
    """After leaving the room: the way back in while the meeting lasts."""
    _room, grant_ = _room_and_grant(request, name)
    with translation.override(_language_of(request, grant_.actor)):
        return render(
            request,
            "rooms/left.html",
            {
                "meeting": grant_.meeting,
                "join_url": _join_page_of(grant_),
                "open": grant_.meeting.status == Status.AGREED and clock.now() < grant_.meeting.end,
            },
        )


# --- V4: the platform's callback -------------------------------------------------------------


@csrf_exempt
@require_POST
def jitsi_callback(request: HttpRequest) -> JsonResponse:
    """V4: a Jitsi server reports that a room's call connected or could not connect. An
    unknown room and a request that is not signed right get the same answer."""
    try:
        named = json.loads(request.body or b"{}").get("room")
    except (ValueError, UnicodeDecodeError, AttributeError):
        named = None
    room_ = (
        Room.objects.filter(name=named, platform="jitsi").select_related("organization", "meeting").first()
        if isinstance(named, str)
        else None
    )
    event = None
    if room_ is not None:
        event = platform_for(room_.organization, room_.platform).read_callback(request.headers, request.body)
    if event is None or event.room_name != room_.name:
        return JsonResponse({"code": "not_found", "message": _("No such room."), "rule": "V4"}, status=404)
    if event.event == "connection_failed":
        report_connection_failure(room_.meeting, side="system")
    else:
        report_connected(room_.meeting, side="system")
    return JsonResponse({"recorded": event.event})
