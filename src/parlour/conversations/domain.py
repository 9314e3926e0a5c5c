"""Conversations' one write path (SPEC §11, B6, N10): open one on a booking, start one,
write a message, assign, and note who has seen what.

Each function is one transaction that locks the conversation row before it changes it, checks
who acts (O3: a conversation one may not see is "not found") and raises ``DomainError``
naming the rule when it refuses; then nothing has changed."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from parlour.accounts.access import membership_of
from parlour.accounts.models import ClientAccount, Guest, Membership, Organization, User
from parlour.catalog.models import Service
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound
from parlour.meetings.access import everyone_meetings
from parlour.meetings.models import Meeting
from parlour.notifications.delivery import wake_on_commit
from parlour.notifications.models import OutboxItem, OutboxState, Topic

from .access import clients_seen_by, may_see, of_party
from .models import Author, Conversation, Kind, Message, Participant, Presence

MAX_MESSAGE = 4000
# N10: someone whose page showed the conversation this recently is online (the page asks for
# new messages every few seconds while it is open) and is not mailed.
ONLINE = timedelta(minutes=2)
SEEN_STEP = timedelta(seconds=30)  # how often a polling page's presence is written again
EXCERPT = 200
UNSENT = (OutboxState.PENDING, OutboxState.CLAIMED, OutboxState.SENDING)
WRITES_WINDOW = 60 * 60  # the messages one may write are counted over this many seconds

Person = User | Guest


def _lock(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("organization", "service", "client", "guest", "assigned_to")
        .get(pk=conversation.pk)
    )


def _party_kwargs(client: User | None, guest: Guest | None) -> dict:
    return {"client": client} if client is not None else {"guest": guest}


def _create(organization: Organization, party: dict, **fields) -> tuple[Conversation, bool]:
    """The party's conversation, made now if there is none; a racing first one wins (X1)."""
    found = Conversation.objects.select_for_update().filter(organization=organization, **party).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():  # a savepoint: the unique constraint decides a race
            return Conversation.objects.create(organization=organization, **party, **fields), True
    except IntegrityError:
        return Conversation.objects.select_for_update().get(organization=organization, **party), False


def _add(conversation: Conversation, users, now: datetime) -> None:
    present = set(conversation.participants.values_list("user_id", flat=True))
    Participant.objects.bulk_create(
        Participant(conversation=conversation, user=user, added_at=now)
        for user in {u.pk: u for u in users}.values()
        if user.pk not in present
    )


# --- B6, X1: a booking opens the conversation, or joins it --------------------------------


def open_for_meeting(meeting: Meeting, now: datetime | None = None) -> Conversation:
    """X1, B6: the meeting's party's conversation with the organization, opened now for the
    meeting's service (its members: the service's experts and the meeting's) when there is
    none. An existing one is kept: the meeting is in it (a conversation holds every meeting
    of its party), and while nobody is assigned the meeting's expert joins it.

    Called inside the booking's transaction: a refused booking opens nothing."""
    now = now or clock.now()
    with transaction.atomic():
        party = _party_kwargs(meeting.client, meeting.guest)
        conversation, made = _create(
            meeting.organization,
            party,
            service=meeting.service,
            kind=Kind.SERVICE,
            created_at=now,
            last_message_at=now,
        )
        if made:
            experts = list(meeting.service.experts.filter(memberships__organization=meeting.organization))
            _add(conversation, [*experts, meeting.expert], now)
            return conversation
        changed = ["last_message_at"]
        conversation.last_message_at = max(conversation.last_message_at, now)
        if conversation.service_id is None:
            conversation.service = meeting.service
            changed.append("service")
        conversation.save(update_fields=changed)
        if conversation.assigned_to_id is None:
            _add(conversation, [meeting.expert], now)
    return conversation


# --- X2: a member starts a conversation with a client ------------------------------------


def start_conversation(
    member: User,
    organization: Organization,
    *,
    meeting: Meeting | None = None,
    client: User | None = None,
    now: datetime | None = None,
) -> Conversation:
    """X2: open the conversation of a meeting's party (from the meeting) or of a client the
    member may see (``access.clients_seen_by``: an admin any client of the organization;
    any other is "not found"). An existing one is opened (one per party, X1) when the member
    may see it, and is "not found" otherwise (O3: nobody joins a conversation by starting
    it). A new one is one-to-one: the member is its member, tied to the meeting's service or
    else to one of the member's own services."""
    now = now or clock.now()
    if membership_of(member, organization) is None:
        raise NotFound("conversation")
    if (meeting is None) == (client is None):
        raise DomainError("party_required", _("Start a conversation from a meeting or with a client."), "X2")
    service = None
    if meeting is not None:
        visible = everyone_meetings(member, organization).filter(pk=meeting.pk)
        if meeting.organization_id != organization.pk or not visible.exists():
            raise NotFound("meeting")
        party = _party_kwargs(meeting.client, meeting.guest)
        service = meeting.service
    else:
        if not ClientAccount.objects.filter(organization=organization, user=client).exists():
            raise NotFound("client")
        if client.pk != member.pk and not clients_seen_by(member, organization).filter(pk=client.pk).exists():
            raise NotFound("client")  # O2: a client of no meeting the member may see
        party = {"client": client}
        service = _own_services(member, organization).first()
    if party.get("client") is not None and party["client"].pk == member.pk:
        raise DomainError("same_person", _("You cannot start a conversation with yourself."), "X2")
    with transaction.atomic():
        existing = of_party(organization.pk, **party)
        if existing is not None:
            return _seen_by(member, existing)
        conversation, made = _create(
            organization, party, service=service, kind=Kind.DIRECT, created_at=now, last_message_at=now
        )
        if not made:  # another member's start or a booking made it meanwhile
            return _seen_by(member, conversation)
        _add(conversation, [member], now)
    return conversation


def _seen_by(member: User, conversation: Conversation) -> Conversation:
    """O3, X3: an existing conversation is opened only for a member who may see it already;
    "starting" one never adds anybody to it (it may be assigned to someone else)."""
    if not may_see(member, conversation):
        raise NotFound("conversation")
    return conversation


# --- X2, N10: writing ----------------------------------------------------------------------


def author_side(person: Person, conversation: Conversation) -> str:
    """Which side ``person`` writes for: the party (the guest, the client) or the members.
    Anyone who may not see the conversation gets "not found" (O3)."""
    if isinstance(person, Guest):
        if conversation.guest_id != person.pk:
            raise NotFound("conversation")
        return Author.PARTY
    if conversation.client_id is not None and conversation.client_id == person.pk:
        return Author.PARTY
    if membership_of(person, conversation.organization) is None or not may_see(person, conversation):
        raise NotFound("conversation")
    return Author.MEMBER


def write_message(author: Person, conversation: Conversation, text: str, *, now: datetime | None = None) -> Message:
    """X2: a message from a member, the client or the guest, up to so many an hour. The other
    side is told (N10) unless they are online, and by one mail until they read it."""
    now = now or clock.now()
    text = (text or "").strip()
    if not text:
        raise DomainError("empty_message", _("Write a message first."), "X2")
    if len(text) > MAX_MESSAGE:
        raise DomainError("too_long", _("Keep a message under %(count)s characters.") % {"count": MAX_MESSAGE}, "X2")
    with transaction.atomic():
        conversation = _lock(conversation)
        side = author_side(author, conversation)
        _count_a_message(author)
        message = Message.objects.create(
            conversation=conversation,
            side=side,
            author=author if isinstance(author, User) else None,
            author_guest=author if isinstance(author, Guest) else None,
            text=text,
            at=now,
        )
        conversation.last_message_at = now
        conversation.save(update_fields=["last_message_at"])
        _note(conversation, author, now, read=True)
        for recipient in _other_side(conversation, side, author):
            _notify(conversation, recipient, message, now)
    return message


def _count_a_message(author: Person) -> None:
    """X2: a guest writes at most ``PARLOUR_GUEST_MESSAGES_PER_HOUR`` messages an hour (from
    all of their links together), a signed-in person ``PARLOUR_MESSAGES_PER_HOUR``: a
    counter in the cache, as for password mails (``web.password``). Over it, refused."""
    if isinstance(author, Guest):
        counter, limit = f"parlour.conversations.messages.guest.{author.pk}", settings.PARLOUR_GUEST_MESSAGES_PER_HOUR
    else:
        counter, limit = f"parlour.conversations.messages.user.{author.pk}", settings.PARLOUR_MESSAGES_PER_HOUR
    if (cache.get(counter) or 0) >= limit:
        raise DomainError(
            "too_many_messages",
            _("You have written many messages in the last hour. Wait a while, then write again."),
            "X2",
            status=429,
        )
    cache.add(counter, 0, WRITES_WINDOW)
    try:
        cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, WRITES_WINDOW)


def _other_side(conversation: Conversation, side: str, author: Person) -> list[Person]:
    """Who is told of a message (N10): the party, or the participants and the assignee who
    are members of the organization now (nobody else is mailed the message's words, O3)."""
    if side == Author.MEMBER:
        return [conversation.party]
    members = [p.user for p in conversation.participants.select_related("user")]
    if conversation.assigned_to_id and all(m.pk != conversation.assigned_to_id for m in members):
        members.append(conversation.assigned_to)
    current = set(
        Membership.objects.filter(organization_id=conversation.organization_id, user__in=members).values_list(
            "user_id", flat=True
        )
    )
    return [m for m in members if m.pk != author.pk and m.pk in current]


def _presence(conversation: Conversation, person: Person):
    key = {"guest": person} if isinstance(person, Guest) else {"user": person}
    return Presence.objects.filter(conversation=conversation, **key)


def is_online(conversation: Conversation, person: Person, now: datetime) -> bool:
    return _presence(conversation, person).filter(last_seen_at__gte=now - ONLINE).exists()


def _notify(conversation: Conversation, recipient: Person, message: Message, now: datetime) -> None:
    """N10 to one person of the other side: only when they are not online, and one mail
    until they read: none while an earlier one is unsent, nor when one was sent after
    they last read the conversation (the next one after they have read it)."""
    if is_online(conversation, recipient, now):
        return
    key = f"conversation:{conversation.pk}"
    guest = isinstance(recipient, Guest)
    whom = {"recipient_guest": recipient} if guest else {"recipient": recipient}
    read_at = _presence(conversation, recipient).values_list("last_read_at", flat=True).first()
    sent = Q(state=OutboxState.SENT)
    if read_at is not None:
        sent &= Q(delivered_at__isnull=True) | Q(delivered_at__gt=read_at)
    if OutboxItem.objects.filter(Q(state__in=UNSENT) | sent, topic=Topic.N10, key=key, **whom).exists():
        return
    OutboxItem.objects.create(
        organization_id=conversation.organization_id,
        topic=Topic.N10,
        key=key,
        payload={
            "conversation": conversation.pk,
            "sender": message.author_name,
            "excerpt": Truncator(" ".join(message.text.split())).chars(EXCERPT),
            "at": now.isoformat(),
        },
        due_at=now,
        created_at=now,
        **whom,
    )
    wake_on_commit()


def still_unread(item: OutboxItem) -> bool:
    """For delivery: an N10 whose recipient has read the conversation since is no longer
    news (SPEC §9), and is dropped."""
    conversation_id, at = item.payload.get("conversation"), item.payload.get("at")
    if not isinstance(conversation_id, int) or not isinstance(at, str):
        return True
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return True
    person = {"guest_id": item.recipient_guest_id} if item.recipient_guest_id else {"user_id": item.recipient_id}
    read = Presence.objects.filter(conversation_id=conversation_id, last_read_at__gte=moment, **person)
    return not read.exists()


# --- reading ----------------------------------------------------------------------------


def _note(conversation: Conversation, person: Person, now: datetime, *, read: bool) -> None:
    fields = {"last_seen_at": now, **({"last_read_at": now} if read else {})}
    key = {"guest": person} if isinstance(person, Guest) else {"user": person}
    updated = Presence.objects.filter(conversation=conversation, **key).update(**fields)
    if not updated:
        try:
            with transaction.atomic():
                Presence.objects.create(conversation=conversation, **key, **fields)
        except IntegrityError:  # made meanwhile by another page of theirs
            Presence.objects.filter(conversation=conversation, **key).update(**fields)


def mark_seen(person: Person, conversation: Conversation, *, read: bool = True, now: datetime | None = None) -> None:
    """N10: a page of ``person`` shows the conversation now (online), and with ``read`` its
    messages up to now count as read. A page polling every few seconds writes only when
    there is something new to note: a new message read, or its last note growing old."""
    now = now or clock.now()
    noted = _presence(conversation, person).filter(last_seen_at__gte=now - SEEN_STEP, last_seen_at__lte=now)
    if read:
        noted = noted.filter(last_read_at__gte=conversation.last_message_at)
    if noted.exists():
        return
    with transaction.atomic():
        _note(conversation, person, now, read=read)


# --- a member leaves ---------------------------------------------------------------------


def member_left(user_id: int, organization_id: int) -> None:
    """O3, X3, N10: a person (``user_id``) is no longer a member of the organization: they stop taking part
    in its conversations and are assigned to none of them (each is open to assignment
    again). Called whenever a membership is deleted (``conversations.apps``: the settings
    page, the admin, anything else)."""
    with transaction.atomic():
        Participant.objects.filter(conversation__organization_id=organization_id, user_id=user_id).delete()
        Conversation.objects.filter(organization_id=organization_id, assigned_to_id=user_id).update(
            assigned_to=None, assigned_at=None
        )


# --- X3: assignment ---------------------------------------------------------------------


def _own_services(member: User, organization: Organization):
    return Service.objects.filter(organization=organization, is_active=True, experts=member).order_by("name", "pk")


def _service_for_self(member: User, conversation: Conversation) -> Service:
    """X3: assigning to oneself without naming a service: the conversation's service when
    the member gives it, else the service of the party's newest meeting they give, else the
    first of their own services by name."""
    own = _own_services(member, conversation.organization)
    if conversation.service_id and own.filter(pk=conversation.service_id).exists():
        return conversation.service
    newest = conversation.meetings.filter(service__in=own).order_by("-start", "-id").select_related("service").first()
    if newest is not None:
        return newest.service
    first = own.first()
    if first is None:
        raise DomainError(
            "no_service_of_yours",
            _("You give none of the organization's services; assign the conversation to a member who does."),
            "X3",
        )
    return first


def assign_conversation(
    actor: User,
    conversation: Conversation,
    *,
    to: User | None = None,
    service: Service | None = None,
    now: datetime | None = None,
) -> Conversation:
    """X3: assign the conversation to the actor ("assign to me") or to another member who
    gives the service. The conversation then belongs to that service. In a conversation
    opened for a service's members the assignee becomes its only member (the others are
    removed); in a one-to-one conversation the assignee is added to its members."""
    now = now or clock.now()
    with transaction.atomic():
        conversation = _lock(conversation)
        organization = conversation.organization
        if author_side(actor, conversation) != Author.MEMBER:
            raise DomainError(
                "members_only", _("Only members of the organization assign conversations."), "X3", status=403
            )
        target = to or actor
        if membership_of(target, organization) is None:
            raise NotFound("member")
        if service is not None and (service.organization_id != organization.pk or not service.is_active):
            raise NotFound("service")
        if service is None:
            if target.pk == actor.pk:
                service = _service_for_self(actor, conversation)
            elif conversation.service_id is not None:
                service = conversation.service
            else:
                raise DomainError("service_required", _("Choose the service the conversation is about."), "X3")
        if not service.experts.filter(pk=target.pk).exists():
            raise DomainError(
                "not_an_expert_of_service",
                _("%(name)s does not give %(service)s.") % {"name": target.name, "service": service.name},
                "X3",
            )
        if conversation.kind == Kind.SERVICE:
            conversation.participants.exclude(user=target).delete()
        _add(conversation, [target], now)
        conversation.assigned_to = target
        conversation.assigned_at = now
        conversation.service = service
        conversation.save(update_fields=["assigned_to", "assigned_at", "service"])
    return conversation
