"""Reading meetings: the My and Everyone lists (O2, D1) and one meeting with its timeline
(L19). What a viewer may see comes from ``parlour.meetings.access`` only (O3)."""

from datetime import datetime

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from parlour.accounts.access import is_admin
from parlour.accounts.models import User
from parlour.core import clock
from parlour.core.errors import DomainError
from parlour.meetings.access import everyone_meetings, my_meetings
from parlour.meetings.display import client_media_state, displayed_status
from parlour.meetings.models import SAID_LABELS, Alternative, AlternativeState, Meeting, Review

from .lookups import meeting_for, organization_for, viewer
from .paging import keyset_page
from .schemas import ERRORS, ErrorOut, MeetingDetail, MeetingFilters, MeetingPage

router = Router(tags=["meetings"])


def with_pending_alternative(meetings):
    """Rows and their pending alternative in one more query, however many rows there are."""
    pending = Alternative.objects.filter(state=AlternativeState.PENDING)
    return meetings.select_related("service", "expert", "client", "guest").prefetch_related(
        Prefetch("alternatives", queryset=pending, to_attr="pending")
    )


def _alternative(alternative: Alternative | None) -> dict | None:
    if alternative is None:
        return None
    return {
        "id": alternative.pk,
        "proposed_by": alternative.proposed_by,
        "start": alternative.start,
        "end": alternative.end,
        "length": alternative.length_minutes,
    }


def meeting_row(meeting: Meeting, now: datetime) -> dict:
    if hasattr(meeting, "pending"):
        pending = meeting.pending[0] if meeting.pending else None
    else:
        pending = meeting.pending_alternative
    person = meeting.client or meeting.guest
    shown = displayed_status(meeting, now)
    return {
        "id": meeting.pk,
        "service": {"id": meeting.service_id, "name": meeting.service.name},
        "expert": {"id": meeting.expert_id, "name": meeting.expert.name},
        "client": {
            "kind": "client" if meeting.client_id else "guest",
            "id": person.pk,
            "name": person.name,
            "email": person.email,
        },
        "guest_key": meeting.guest_key,
        "subject": meeting.subject,
        "origin": meeting.origin,
        "status": meeting.status,
        "displayed_status": shown.value,
        "displayed_status_label": str(shown.label),
        "media_check": client_media_state(meeting).value,
        "start": meeting.start,
        "end": meeting.end,
        "length": meeting.length_minutes,
        "price": meeting.price,
        "credit_status": meeting.credit_status,
        "outcome": meeting.outcome,
        "client_approved": meeting.client_approved,
        "expert_approved": meeting.expert_approved,
        "pending_alternative": _alternative(pending),
    }


def meeting_detail(user: User, meeting: Meeting, now: datetime | None = None) -> dict:
    """A meeting as ``user`` may see it: the add-ons' fields only when they are on (O4),
    stars only for the operator's admins (S1)."""
    now = now or clock.now()
    organization = meeting.organization
    admin = is_admin(user, organization)
    events = meeting.timeline.select_related("actor", "actor_guest").order_by("at", "id")
    review = None
    if organization.reviews_enabled and meeting.client_id:
        found = Review.objects.filter(meeting=meeting).first()
        review = found.text if found else None
    person = meeting.client or meeting.guest
    return {
        **meeting_row(meeting, now),
        "description": meeting.description,
        "phone": person.phone,
        "skill": {"id": meeting.skill_id, "name": meeting.skill.name} if meeting.skill_id else None,
        "review": review,
        "timeline": [
            {
                "id": event.pk,
                "kind": event.kind,
                "title": event.title,
                "side": event.side,
                "actor": event.actor_name,
                "at": event.at,
                "reason": event.reason,
                "data": event.data,
            }
            for event in events
        ],
        "time_options": [
            {"id": o.pk, "start": o.start, "end": o.end, "length": o.length_minutes, "picked": o.picked}
            for o in meeting.time_options.order_by("start", "id")
        ],
        "statements": [
            {
                "side": s.side,
                "said": s.said,
                "said_label": str(SAID_LABELS[s.side][s.said]),
                "stars": s.stars if admin else None,
                "summary": s.summary if organization.summaries_enabled else None,
                "at": s.at,
            }
            for s in meeting.statements.order_by("at", "id")
        ],
    }


@router.get("/orgs/{slug}/meetings", response={200: MeetingPage, ERRORS: ErrorOut})
def list_meetings(request: HttpRequest, slug: str, filters: Query[MeetingFilters]):
    """O2, D1: the My tab (I am the expert or the client) or the Everyone tab (my groups'
    meetings; an admin's shows the whole organization), newest first, filtered by status and
    start, in pages of ``limit`` rows. Pass ``next_cursor`` back as ``cursor`` for the next
    page; rows added meanwhile never make a page repeat or skip one."""
    user = viewer(request)
    organization = organization_for(request, slug)
    if filters.start_from and filters.start_to and filters.start_from >= filters.start_to:
        raise DomainError("invalid_input", _("`from` must be before `to`."), "Q2")
    tab = my_meetings if filters.tab == "my" else everyone_meetings
    meetings = tab(user, organization)
    if filters.status:
        meetings = meetings.filter(status__in=filters.status)
    if filters.start_from:
        meetings = meetings.filter(start__gte=filters.start_from)
    if filters.start_to:
        meetings = meetings.filter(start__lt=filters.start_to)
    rows, next_cursor = keyset_page(with_pending_alternative(meetings), "start", filters.cursor, filters.limit)
    now = clock.now()
    return {"items": [meeting_row(m, now) for m in rows], "next_cursor": next_cursor}


@router.get("/orgs/{slug}/meetings/{int:meeting_id}", response={200: MeetingDetail, ERRORS: ErrorOut})
def get_meeting(request: HttpRequest, slug: str, meeting_id: int):
    """L19: one meeting with its timeline (who did what, when and why), its time options
    (B4) and the two sides' statements (S1, S2)."""
    _, meeting = meeting_for(request, slug, meeting_id)
    return meeting_detail(viewer(request), meeting)
