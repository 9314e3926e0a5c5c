"""Who may see a conversation (O3, X2, X3). A conversation outside what these functions
return does not exist for that person: asking for it answers "not found".

A member sees a conversation when they take part in it or are assigned to it, when they are
an admin of the organization, or when they may see one of its meetings by O2 (their own, or
one of a member of their groups). A client sees their own conversation; a guest reaches
theirs only through the signed link of one of their meetings (``for_guest_meeting``)."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from parlour.accounts.access import is_admin, membership_of
from parlour.accounts.models import Guest, Organization, User
from parlour.core.errors import NotFound
from parlour.meetings.access import everyone_meetings
from parlour.meetings.models import Meeting

from .models import Conversation, Message, Participant, Presence


def visible_conversations(viewer: User, organization: Organization) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(organization=organization)
    if not viewer.is_authenticated:
        return conversations.none()
    if is_admin(viewer, organization):
        return conversations
    if membership_of(viewer, organization) is None:
        return conversations.filter(client=viewer)
    taking_part = Participant.objects.filter(conversation=OuterRef("pk"), user=viewer)
    meetings = everyone_meetings(viewer, organization)
    of_the_party = meetings.filter(
        Q(client_id=OuterRef("client_id"), client__isnull=False) | Q(guest_id=OuterRef("guest_id"), guest__isnull=False)
    )
    return conversations.filter(
        Q(Exists(taking_part)) | Q(assigned_to=viewer) | Q(client=viewer) | Q(Exists(of_the_party))
    )


def mine(viewer: User, organization: Organization) -> QuerySet[Conversation]:
    """The conversations that are the viewer's own: they take part, are assigned, or are the
    client. The header's unread count counts these (an admin is not told of every thread)."""
    taking_part = Participant.objects.filter(conversation=OuterRef("pk"), user=viewer)
    return Conversation.objects.filter(organization=organization).filter(
        Q(Exists(taking_part)) | Q(assigned_to=viewer) | Q(client=viewer)
    )


def access_conversation(viewer: User, organization: Organization, conversation_id) -> Conversation:
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        raise NotFound("conversation") from None
    found = (
        visible_conversations(viewer, organization)
        .select_related("organization", "service", "client", "guest", "assigned_to")
        .filter(pk=conversation_id)
        .first()
    )
    if found is None:
        raise NotFound("conversation")
    return found


def clients_seen_by(viewer: User, organization: Organization) -> QuerySet[User]:
    """X2, O2: the client accounts a member may start a conversation with: an admin any client
    of the organization; another member the clients of the meetings they may see (their own,
    their groups'). Sorted by name."""
    clients = User.objects.filter(client_accounts__organization=organization)
    if not is_admin(viewer, organization):
        seen = everyone_meetings(viewer, organization).filter(client__isnull=False).values("client_id")
        clients = clients.filter(pk__in=seen)
    return clients.exclude(pk=viewer.pk).order_by("name", "pk")


def meetings_seen_by(viewer: User, conversation: Conversation) -> QuerySet[Meeting]:
    """The conversation's meetings the viewer may see by O2 (a participant is not shown a
    meeting of a member outside their groups), newest first; the pages and the API use this."""
    visible = everyone_meetings(viewer, conversation.organization)
    return (
        conversation.meetings.filter(pk__in=visible.values("pk"))
        .select_related("service", "expert")
        .order_by("-start", "-id")
    )


def may_see(viewer: User | Guest, conversation: Conversation) -> bool:
    if isinstance(viewer, Guest):
        return conversation.guest_id == viewer.pk
    return visible_conversations(viewer, conversation.organization).filter(pk=conversation.pk).exists()


def of_party(organization_id: int, *, client: User | None = None, guest: Guest | None = None):
    """The party's conversation in the organization, or None."""
    party = {"client": client} if client is not None else {"guest": guest}
    return Conversation.objects.filter(organization_id=organization_id, **party).first()


def of_meeting(meeting: Meeting) -> Conversation | None:
    """The conversation a meeting belongs to (its party's), or None when there is none yet."""
    return of_party(meeting.organization_id, client=meeting.client, guest=meeting.guest)


def for_guest_meeting(meeting: Meeting) -> Conversation | None:
    """A guest's conversation, reached from their meeting's signed link (O3)."""
    if meeting.guest_id is None:
        raise NotFound("conversation")
    return of_party(meeting.organization_id, guest=meeting.guest)


# --- unread --------------------------------------------------------------------------


def unread_messages(conversation_ref, person: User | Guest):
    """The messages of a conversation (``conversation_ref``: a conversation or an OuterRef)
    that ``person`` did not write and has not read yet."""
    if isinstance(person, Guest):
        read = Presence.objects.filter(conversation=OuterRef("conversation"), guest=person)
        messages = Message.objects.filter(conversation=conversation_ref).exclude(author_guest=person)
    else:
        read = Presence.objects.filter(conversation=OuterRef("conversation"), user=person)
        messages = Message.objects.filter(conversation=conversation_ref).exclude(author=person)
    return messages.exclude(Exists(read.filter(last_read_at__gte=OuterRef("at"))))


def with_unread(conversations: QuerySet[Conversation], viewer: User) -> QuerySet[Conversation]:
    """Each conversation with ``unread``: how many of its messages the viewer has not read."""
    from django.db.models import Count, IntegerField, Subquery
    from django.db.models.functions import Coalesce

    counted = (
        unread_messages(OuterRef("pk"), viewer).order_by().values("conversation").annotate(n=Count("pk")).values("n")
    )
    return conversations.annotate(unread=Coalesce(Subquery(counted, output_field=IntegerField()), 0))


def unread_count(viewer: User, organization: Organization) -> int:
    """The header's count: the viewer's own conversations with messages they have not read."""
    if not viewer.is_authenticated:
        return 0
    unread = unread_messages(OuterRef("pk"), viewer)
    return mine(viewer, organization).filter(Exists(unread)).count()


# --- links ---------------------------------------------------------------------------


def link_path(conversation: Conversation, person: User | Guest) -> str:
    """Where ``person`` reads the conversation: a member's or client's page in the
    organization, or the guest's signed link (through their newest meeting)."""
    if isinstance(person, Guest):
        from parlour.meetings.guest_links import link_token

        meeting = conversation.meetings.order_by("-created_at", "-id").first()
        if meeting is None:
            return "/"
        return f"/g/{link_token(meeting)}/conversation/"
    return f"/o/{conversation.organization.slug}/conversations/{conversation.pk}/"
