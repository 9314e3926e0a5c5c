"""Conversations' pages (SPEC §11, X1–X3, B3, N10): the list with unread counts, one
conversation with its meetings, messages and the meetings' changes, the write box,
"assign to me" and "assign to…", and the guest's own conversation under their signed link.

Like every page: parse, call ``parlour.conversations.domain``, render; what the viewer may
see comes from ``parlour.conversations.access`` (O3: anything else is "not found"). Every
form works as a plain POST and redirect; with htmx the thread refreshes itself every few
seconds (which also tells the domain the reader is online, N10) and a message is sent
without leaving the page."""

from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import retarget

from parlour.accounts.access import membership_of
from parlour.accounts.models import ClientAccount, Guest, Membership, Organization, User
from parlour.catalog.models import Service
from parlour.conversations import access, domain
from parlour.conversations.models import Author, Conversation, Message
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound
from parlour.meetings.access import access_meeting
from parlour.meetings.display import displayed_status
from parlour.meetings.guest_links import link_token, meeting_for_link
from parlour.meetings.models import EventKind, Meeting, TimelineEvent

from .booking_calendar import known_zone
from .meeting_labels import DISPLAYED_STATUS, event_title
from .pages import organization_page
from .proposals import is_proposer, services_given

LIST_SIZE = 200  # conversations on the list, newest message first
CLIENTS_SHOWN = 100  # clients offered to start a conversation with; more: search by name or email
PAGE_SIZE = 50  # messages on the page; "Show earlier messages" adds as many again
MAX_SHOWN = 1000
POLL_SECONDS = 5
# The meetings' changes shown in the thread ("the relevant notification is displayed in the
# conversation"): how each was made, answered, moved or ended; not entries or media checks.
SHOWN_EVENTS = {
    EventKind.BOOKED,
    EventKind.PROPOSED,
    EventKind.OPTIONS_OFFERED,
    EventKind.OPTION_PICKED,
    EventKind.CANCELLED,
    EventKind.REJECTED,
    EventKind.ALTERNATIVE_PROPOSED,
    EventKind.ALTERNATIVE_APPROVED,
    EventKind.ALTERNATIVE_REJECTED,
    EventKind.ALTERNATIVE_WITHDRAWN,
    EventKind.REASSIGNED,
    EventKind.CHANGED,
    EventKind.LAPSED,
    EventKind.CLOSED,
}


# --- the header's link ------------------------------------------------------------------


def navigation_label(user: User, organization: Organization) -> str:
    """The header's "Conversations", with how many of one's own have unread messages."""
    count = access.unread_count(user, organization)
    if not count:
        return gettext("Conversations")
    return format_html(
        '{} <span class="count">{}<span class="sr-only"> {}</span></span>',
        gettext("Conversations"),
        count,
        gettext("unread"),
    )


# --- the thread -------------------------------------------------------------------------


def _shown(request: HttpRequest) -> int:
    try:
        return max(PAGE_SIZE, min(int(request.GET.get("show", PAGE_SIZE)), MAX_SHOWN))
    except ValueError:
        return PAGE_SIZE


def thread(conversation: Conversation, meetings: list[Meeting], person: User | Guest, shown: int) -> dict:
    """The newest ``shown`` messages, oldest first, with the changes of ``meetings`` (those
    the viewer may see) since the oldest of them, each item a dict for the template."""
    rows = list(
        Message.objects.filter(conversation=conversation)
        .select_related("author", "author_guest")
        .order_by("-at", "-id")[: shown + 1]
    )
    earlier = len(rows) > shown
    rows = rows[:shown][::-1]
    events = TimelineEvent.objects.filter(meeting__in=meetings, kind__in=SHOWN_EVENTS).select_related(
        "meeting__service", "actor", "actor_guest"
    )
    if earlier and rows:
        events = events.filter(at__gte=rows[0].at)
    mine = (
        (lambda m: m.author_guest_id == person.pk)
        if isinstance(person, Guest)
        else (lambda m: m.author_id == person.pk)
    )
    items = [
        {
            "kind": "message",
            "at": m.at,
            "id": m.pk,
            "author": m.author_name,
            "text": m.text,
            "mine": mine(m),
            "member": m.side == Author.MEMBER,
        }
        for m in rows
    ]
    items += [
        {
            "kind": "event",
            "at": e.at,
            "id": e.pk,
            "title": event_title(e),
            "meeting": e.meeting,
            "service": e.meeting.service.name,
        }
        for e in events
    ]
    items.sort(key=lambda item: (item["at"], item["kind"] == "message", item["id"]))
    version = f"{max((m.pk for m in rows), default=0)}.{max((e.pk for e in events), default=0)}"
    return {"items": items, "earlier": earlier, "more": shown + PAGE_SIZE, "version": version}


def _polled(request: HttpRequest, shown: dict, context: dict) -> HttpResponse:
    """The page's poll: nothing to swap (204) while the thread is as the page shows it;
    otherwise the new thread, and a word for screen readers that something new came."""
    polled = request.GET.get("version")
    if polled is not None and polled == shown["version"]:
        return HttpResponse(status=204)
    return render(request, "web/conversations/thread.html", {**context, "announce": polled is not None})


def _write_refused(request: HttpRequest, refusal: DomainError) -> HttpResponse:
    """htmx: the refusal goes above the write box, the thread stays as it is."""
    return retarget(render(request, "web/conversations/write_error.html", {"error": refusal.message}), "#write-error")


# --- the list ---------------------------------------------------------------------------


@login_required
@require_GET
def conversation_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The conversations the viewer may see, newest message first, with unread counts; a
    member may start one with a client they may see (X2, O2): the first ``CLIENTS_SHOWN`` by
    name, and a search field when there are more."""
    organization = organization_page(request, slug)
    user = request.user
    rows = access.with_unread(access.visible_conversations(user, organization), user).select_related(
        "service", "client", "guest", "assigned_to"
    )
    newest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-at", "-id")
    rows = rows.annotate(
        preview_text=Subquery(newest.values("text")[:1]),
        preview_author=Coalesce(
            Subquery(newest.values("author__name")[:1]), Subquery(newest.values("author_guest__name")[:1])
        ),
    )
    page = list(rows.order_by("-last_message_at", "-id")[:LIST_SIZE])
    member = membership_of(user, organization) is not None
    clients, more, search = [], False, request.GET.get("client_search", "").strip()[:100]
    if member:
        found = access.clients_seen_by(user, organization)
        if search:
            found = found.filter(Q(name__icontains=search) | Q(email__icontains=search))
        clients = list(found[: CLIENTS_SHOWN + 1])
        more = len(clients) > CLIENTS_SHOWN
        clients = clients[:CLIENTS_SHOWN]
    context = {
        "organization": organization,
        "conversations": page,
        "member": member,
        "clients": clients,
        "clients_more": more,
        "client_search": search,
        "clients_shown": CLIENTS_SHOWN,
    }
    return render(request, "web/conversations/list.html", context)


@login_required
@require_POST
def conversation_start(request: HttpRequest, slug: str) -> HttpResponse:
    """X2: open a meeting's conversation, or start one with a client; then show it."""
    organization = organization_page(request, slug)
    user = request.user
    try:
        meeting = client = None
        if request.POST.get("meeting"):
            meeting = access_meeting(user, organization, request.POST["meeting"])
        elif request.POST.get("client"):
            account = ClientAccount.objects.filter(organization=organization, user_id=_int(request.POST["client"]))
            found = account.select_related("user").first()
            if found is None:
                raise NotFound("client")
            client = found.user
        conversation = domain.start_conversation(user, organization, meeting=meeting, client=client)
    except NotFound:
        raise Http404 from None
    except DomainError as refusal:
        messages.error(request, refusal.message)
        return redirect("web:conversations", organization.slug)
    return redirect("web:conversation", organization.slug, conversation.pk)


def _int(text: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


# --- one conversation -------------------------------------------------------------------


def _conversation(request: HttpRequest, slug: str, conversation_id: int) -> tuple[Organization, Conversation]:
    organization = organization_page(request, slug)
    try:
        return organization, access.access_conversation(request.user, organization, conversation_id)
    except NotFound:
        raise Http404 from None


def _meetings(conversation: Conversation, user: User) -> list[Meeting]:
    """The conversation's meetings the viewer may see (O2), newest first."""
    return list(access.meetings_seen_by(user, conversation))


def assignees(organization: Organization) -> list[dict]:
    """X3's "assign to…" choices: each member with each active service they give."""
    services = Service.objects.filter(organization=organization, is_active=True).prefetch_related("experts")
    members = set(Membership.objects.filter(organization=organization).values_list("user_id", flat=True))
    choices = [
        {
            "value": f"{service.pk}:{expert.pk}",
            "label": f"{expert.name} — {service.name}",
            "key": (expert.name.lower(), service.name.lower()),
        }
        for service in services
        for expert in service.experts.all()
        if expert.pk in members
    ]
    return sorted(choices, key=lambda c: c["key"])


def _page(request, organization, conversation, *, error: str = "", text: str = "", status: int = 200, opened=""):
    user = request.user
    now = clock.now()
    domain.mark_seen(user, conversation, now=now)
    meetings = _meetings(conversation, user)
    member = domain.author_side(user, conversation) == Author.MEMBER
    services = services_given(organization, user) if member else []
    context = {
        "organization": organization,
        "conversation": conversation,
        "members": [p.user for p in conversation.participants.select_related("user")],
        "meetings": [_meeting_row(m, now, organization) for m in meetings],
        "thread": thread(conversation, meetings, user, _shown(request)),
        "member": member,
        "can_propose": member and is_proposer(membership_of(user, organization), services),
        "propose_url": _propose_url(organization, conversation),
        "assignees": assignees(organization) if member else [],
        "assign_open": opened == "assign" or request.GET.get("open") == "assign",
        "error": error,
        "text": text,
        "write_url": reverse("web:conversation_write", args=[organization.slug, conversation.pk]),
        "thread_url": reverse("web:conversation_thread", args=[organization.slug, conversation.pk]),
        "page_url": reverse("web:conversation", args=[organization.slug, conversation.pk]),
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "web/conversations/page.html", context, status=status)


def _meeting_row(meeting: Meeting, now: datetime, organization: Organization, url: str = "") -> dict:
    shown = displayed_status(meeting, now)
    return {
        "meeting": meeting,
        "status": shown.value,
        "status_label": DISPLAYED_STATUS[shown],
        "url": url or reverse("web:meeting", args=[organization.slug, meeting.pk]),
    }


def _propose_url(organization: Organization, conversation: Conversation) -> str:
    """B3 "from a conversation": the proposal page with the party filled in."""
    if conversation.client_id:
        query = {"party": "client", "client": conversation.client_id}
    else:
        guest = conversation.guest
        query = {"party": "guest", "guest_name": guest.name, "guest_email": guest.email, "guest_phone": guest.phone}
    if conversation.service_id:
        query["service"] = conversation.service_id
    return reverse("web:propose", args=[organization.slug]) + "?" + urlencode(query)


@login_required
@require_GET
def conversation_page(request: HttpRequest, slug: str, conversation_id: int) -> HttpResponse:
    """The conversation: its party, members, meetings and messages, and the write box.
    Opening it marks its messages read."""
    organization, conversation = _conversation(request, slug, conversation_id)
    return _page(request, organization, conversation)


@login_required
@require_GET
def conversation_thread(request: HttpRequest, slug: str, conversation_id: int) -> HttpResponse:
    """The thread alone, for the page's htmx polling; the reader counts as online (N10)."""
    organization, conversation = _conversation(request, slug, conversation_id)
    domain.mark_seen(request.user, conversation)
    meetings = _meetings(conversation, request.user)
    shown = thread(conversation, meetings, request.user, _shown(request))
    return _polled(request, shown, {"thread": shown, "organization": organization})


@login_required
@require_POST
def conversation_write(request: HttpRequest, slug: str, conversation_id: int) -> HttpResponse:
    """X2: send a message; back to the conversation (htmx: the new thread in place)."""
    organization, conversation = _conversation(request, slug, conversation_id)
    text = request.POST.get("text", "")
    try:
        domain.write_message(request.user, conversation, text)
    except DomainError as refusal:
        if request.htmx:
            return _write_refused(request, refusal)
        return _page(request, organization, conversation, error=refusal.message, text=text, status=refusal.status)
    if request.htmx:
        meetings = _meetings(conversation, request.user)
        shown = thread(conversation, meetings, request.user, PAGE_SIZE)
        context = {"thread": shown, "organization": organization, "clear_error": True}
        return render(request, "web/conversations/thread.html", context)
    return redirect(reverse("web:conversation", args=[organization.slug, conversation.pk]) + "#latest")


@login_required
@require_POST
def conversation_assign(request: HttpRequest, slug: str, conversation_id: int) -> HttpResponse:
    """X3: "Assign to me" (no choice posted) or "Assign to…" (``assignee``: service:member)."""
    organization, conversation = _conversation(request, slug, conversation_id)
    to = service = None
    chosen = request.POST.get("assignee", "")
    if chosen:
        service_id, _sep, user_id = chosen.partition(":")
        service = Service.objects.filter(organization=organization, pk=_int(service_id), is_active=True).first()
        membership = Membership.objects.filter(organization=organization, user_id=_int(user_id)).select_related("user")
        found = membership.first()
        if service is None or found is None:
            return _page(
                request,
                organization,
                conversation,
                error=gettext("Choose someone from the list."),
                status=400,
                opened="assign",
            )
        to = found.user
    try:
        conversation = domain.assign_conversation(request.user, conversation, to=to, service=service)
    except DomainError as refusal:
        return _page(
            request,
            organization,
            conversation,
            error=refusal.message,
            status=refusal.status,
            opened="assign" if chosen else "",
        )
    messages.success(
        request,
        _("The conversation is assigned to %(name)s.") % {"name": conversation.assigned_to.name},
    )
    url = reverse("web:conversation", args=[organization.slug, conversation.pk])
    return redirect(url)


def conversation_links(user: User, organization: Organization, meeting: Meeting) -> dict:
    """For the meeting page (X2): the link to the meeting's conversation, or whether the
    viewer (a member) may start one from the meeting."""
    conversation = access.of_meeting(meeting)
    if conversation is not None and access.may_see(user, conversation):
        url = reverse("web:conversation", args=[organization.slug, conversation.pk])
        return {"conversation_url": url, "conversation_start": False}
    member = membership_of(user, organization) is not None
    return {"conversation_url": "", "conversation_start": member}


# --- the guest's own --------------------------------------------------------------------


def _guest(token: str) -> Meeting:
    try:
        return meeting_for_link(token)
    except NotFound:
        raise Http404 from None


def _guest_page(request, token, meeting, *, error: str = "", text: str = "", status: int = 200) -> HttpResponse:
    conversation = access.for_guest_meeting(meeting)
    zone = known_zone(meeting.guest.time_zone) or getattr(request.time_zone, "key", "UTC")
    now = clock.now()
    meetings = list(
        Meeting.objects.filter(organization=meeting.organization, guest=meeting.guest)
        .select_related("service", "expert")
        .order_by("-start", "-id")
    )
    if conversation is not None:
        domain.mark_seen(meeting.guest, conversation, now=now)
        shown = thread(conversation, meetings, meeting.guest, _shown(request))
    else:
        shown = {"items": [], "earlier": False, "more": PAGE_SIZE, "version": "0.0"}
    rows = [
        _meeting_row(m, now, meeting.organization, reverse("web:guest_page", args=[link_token(m)])) for m in meetings
    ]
    context = {
        "meeting": meeting,
        "organization": meeting.organization,
        "token": token,
        "conversation": conversation,
        "meetings": rows,
        "thread": shown,
        "error": error,
        "text": text,
        "write_url": reverse("web:guest_conversation", args=[token]),
        "thread_url": reverse("web:guest_conversation_thread", args=[token]),
        "page_url": reverse("web:guest_conversation", args=[token]),
        "poll_seconds": POLL_SECONDS,
        "guest_view": True,
    }
    with timezone.override(zone):
        return render(request, "web/conversations/guest.html", context, status=status)


@require_http_methods(["GET", "POST"])
def guest_conversation(request: HttpRequest, token: str) -> HttpResponse:
    """X2: the guest reads their conversation with the organization (GET) and writes (POST);
    a first message opens it for the meeting's service if there was none (B6)."""
    meeting = _guest(token)
    if request.method == "GET":
        return _guest_page(request, token, meeting)
    text = request.POST.get("text", "")
    try:
        with transaction.atomic():
            conversation = access.for_guest_meeting(meeting) or domain.open_for_meeting(meeting)
            domain.write_message(meeting.guest, conversation, text)
    except DomainError as refusal:
        if request.htmx:
            return _write_refused(request, refusal)
        return _guest_page(request, token, meeting, error=refusal.message, text=text, status=refusal.status)
    if request.htmx:
        return _guest_thread(request, meeting, clear_error=True)
    return redirect(reverse("web:guest_conversation", args=[token]) + "#latest")


def _guest_thread(request: HttpRequest, meeting: Meeting, *, clear_error: bool = False) -> HttpResponse:
    conversation = access.for_guest_meeting(meeting)
    shown = {"items": [], "earlier": False, "more": PAGE_SIZE, "version": "0.0"}
    if conversation is not None:
        domain.mark_seen(meeting.guest, conversation)
        meetings = list(Meeting.objects.filter(organization=meeting.organization, guest=meeting.guest))
        shown = thread(conversation, meetings, meeting.guest, _shown(request))
    zone = known_zone(meeting.guest.time_zone) or getattr(request.time_zone, "key", "UTC")
    with timezone.override(zone):
        context = {"thread": shown, "guest_view": True, "clear_error": clear_error}
        if clear_error:  # the guest's own message, sent in place
            return render(request, "web/conversations/thread.html", context)
        return _polled(request, shown, context)


@require_GET
def guest_conversation_thread(request: HttpRequest, token: str) -> HttpResponse:
    """The guest's thread alone, for the page's polling (the guest counts as online, N10)."""
    return _guest_thread(request, _guest(token))


urlpatterns = [
    path("o/<slug:slug>/conversations/", conversation_list, name="conversations"),
    path("o/<slug:slug>/conversations/start/", conversation_start, name="conversation_start"),
    path("o/<slug:slug>/conversations/<int:conversation_id>/", conversation_page, name="conversation"),
    path("o/<slug:slug>/conversations/<int:conversation_id>/thread/", conversation_thread, name="conversation_thread"),
    path("o/<slug:slug>/conversations/<int:conversation_id>/messages/", conversation_write, name="conversation_write"),
    path("o/<slug:slug>/conversations/<int:conversation_id>/assign/", conversation_assign, name="conversation_assign"),
    path("g/<str:token>/conversation/", guest_conversation, name="guest_conversation"),
    path("g/<str:token>/conversation/thread/", guest_conversation_thread, name="guest_conversation_thread"),
]
