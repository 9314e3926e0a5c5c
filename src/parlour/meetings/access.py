"""What a person may see of meetings (O2, O3). A meeting outside what these functions
return does not exist for that person: asking for it answers "not found"."""

from django.db.models import Q, QuerySet

from parlour.accounts.access import is_admin, membership_of
from parlour.accounts.models import Membership, Organization, User
from parlour.core.errors import NotFound

from .models import Meeting


def my_meetings(viewer: User, organization: Organization) -> QuerySet[Meeting]:
    """The My tab: meetings where I am the expert or the client."""
    return Meeting.objects.filter(organization=organization).filter(Q(expert=viewer) | Q(client=viewer))


def everyone_meetings(viewer: User, organization: Organization) -> QuerySet[Meeting]:
    """The Everyone tab: an admin sees the whole organization; a member sees the meetings of
    the members of their groups and their own; a client sees their own."""
    meetings = Meeting.objects.filter(organization=organization)
    if is_admin(viewer, organization):
        return meetings
    membership = membership_of(viewer, organization)
    if membership is None:
        return meetings.filter(client=viewer)
    colleagues = Membership.objects.filter(organization=organization, groups__members=membership).values("user_id")
    return meetings.filter(Q(expert__in=colleagues) | Q(expert=viewer) | Q(client=viewer))


def visible_meetings(viewer: User, organization: Organization) -> QuerySet[Meeting]:
    return everyone_meetings(viewer, organization)


def access_meeting(viewer: User, organization: Organization, meeting_id) -> Meeting:
    try:
        meeting_id = int(meeting_id)
    except (TypeError, ValueError):
        raise NotFound("meeting") from None
    queryset = visible_meetings(viewer, organization).select_related(
        "service", "expert", "client", "guest", "organization", "skill"
    )
    meeting = queryset.filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound("meeting")
    return meeting


def access_guest_meeting(guest_key: str) -> Meeting:
    """A guest reaches only their own meeting, by its key (O3, B5)."""
    from .models import normalize_guest_key

    meeting = (
        Meeting.objects.filter(guest_key=normalize_guest_key(guest_key), guest__isnull=False)
        .select_related("service", "expert", "guest", "organization")
        .first()
    )
    if meeting is None:
        raise NotFound("meeting")
    return meeting
