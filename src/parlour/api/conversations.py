"""Conversations (SPEC §11, X1–X3, N10): a person's list, one conversation with its messages,
writing, assigning, starting one with a client; and the guest's own conversation through
the signed link of one of their meetings (no account, no session: the token is the whole
authority, as in ``api/guest.py``).

What a viewer may see comes from ``parlour.conversations.access`` only (O3); every change is
a function of ``parlour.conversations.domain``. Reading a conversation marks its messages
read and the reader online (N10: nobody is mailed about messages they are reading)."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from parlour.conversations import access, domain
from parlour.conversations.models import Conversation, Message
from parlour.meetings import guest_links
from parlour.meetings.access import access_meeting

from .lookups import client_of, member_of, organization_for, service_of, viewer
from .paging import keyset_page
from .schemas import ERRORS, MAX_ID, ErrorOut, Input, PageQuery

router = Router(tags=["conversations"])
guest_router = Router(tags=["guest links"], auth=None)


class Named(Schema):
    id: int
    name: str


class PartyOut(Schema):
    kind: str = Field(description="client (an account) or guest.")
    id: int
    name: str
    email: str


class MeetingBrief(Schema):
    id: int
    service: str
    expert: str
    status: str
    start: datetime
    end: datetime


class ConversationOut(Schema):
    id: int
    party: PartyOut
    service: Named | None = Field(description="The service the conversation belongs to (X3).")
    kind: str = Field(description="service: opened by a booking for the service's members; direct: one-to-one.")
    assigned_to: Named | None
    members: list[Named] = Field(description="The members taking part (X3).")
    created_at: datetime
    last_message_at: datetime
    unread: int = Field(description="Messages the caller has not read.")


class MessageOut(Schema):
    id: int
    side: str = Field(description="member, or party (the client or the guest).")
    author: str
    text: str
    at: datetime


class ConversationDetail(ConversationOut):
    meetings: list[MeetingBrief] = Field(
        description="The party's meetings in the organization (X1) that the caller may see (O2)."
    )
    messages: list[MessageOut] = Field(description="Newest first, one page.")
    next_cursor: str | None


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class ConversationQuery(PageQuery):
    unread: bool = Field(False, description="Only conversations with messages the caller has not read.")


class StartIn(Input):
    meeting_id: int | None = Field(None, ge=1, le=MAX_ID, description="Open the conversation of this meeting.")
    client_id: int | None = Field(None, ge=1, le=MAX_ID, description="Or start one with this client.")


class MessageIn(Input):
    text: str = Field(min_length=1, max_length=domain.MAX_MESSAGE)


class AssignIn(Input):
    member_id: int | None = Field(None, ge=1, le=MAX_ID, description="Leave out to assign it to yourself.")
    service_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Leave out: the conversation's service (yourself: one of yours)."
    )


class GuestConversationOut(Schema):
    organization: str
    service: str | None
    messages: list[MessageOut]
    next_cursor: str | None


# --- shaping --------------------------------------------------------------------------


def party_out(conversation: Conversation) -> dict:
    person = conversation.party
    return {
        "kind": "client" if conversation.client_id else "guest",
        "id": person.pk,
        "name": person.name,
        "email": person.email,
    }


def _named(thing) -> dict | None:
    return {"id": thing.pk, "name": thing.name} if thing is not None else None


def conversation_out(conversation: Conversation) -> dict:
    members = [p.user for p in conversation.participants.all()]  # prefetched with their people on lists
    return {
        "id": conversation.pk,
        "party": party_out(conversation),
        "service": _named(conversation.service),
        "kind": conversation.kind,
        "assigned_to": _named(conversation.assigned_to),
        "members": [_named(user) for user in members],
        "created_at": conversation.created_at,
        "last_message_at": conversation.last_message_at,
        "unread": getattr(conversation, "unread", 0),
    }


def message_out(message: Message) -> dict:
    return {
        "id": message.pk,
        "side": message.side,
        "author": message.author_name,
        "text": message.text,
        "at": message.at,
    }


def _messages(conversation: Conversation, page: PageQuery) -> tuple[list[dict], str | None]:
    rows = Message.objects.filter(conversation=conversation).select_related("author", "author_guest")
    found, next_cursor = keyset_page(rows, "at", page.cursor, page.limit)
    return [message_out(m) for m in found], next_cursor


def _with_rows(conversations):
    return conversations.select_related("service", "client", "guest", "assigned_to").prefetch_related(
        "participants__user"
    )


def _conversation(request: HttpRequest, slug: str, conversation_id: int) -> Conversation:
    organization = organization_for(request, slug)
    return access.access_conversation(viewer(request), organization, conversation_id)


# --- members and clients --------------------------------------------------------------


@router.get("/orgs/{slug}/conversations", response={200: ConversationPage, ERRORS: ErrorOut})
def list_conversations(request: HttpRequest, slug: str, query: Query[ConversationQuery]):
    """The conversations the caller may see (O3: their own, their groups' parties', all of
    them for an admin; a client's own), newest message first, each with its unread count."""
    user = viewer(request)
    organization = organization_for(request, slug)
    rows = access.with_unread(_with_rows(access.visible_conversations(user, organization)), user)
    if query.unread:
        rows = rows.filter(unread__gt=0)
    page, next_cursor = keyset_page(rows, "last_message_at", query.cursor, query.limit)
    return {"items": [conversation_out(c) for c in page], "next_cursor": next_cursor}


@router.post("/orgs/{slug}/conversations", response={200: ConversationOut, ERRORS: ErrorOut})
def start_conversation(request: HttpRequest, slug: str, payload: StartIn):
    """X2: open a meeting's conversation (``meeting_id``) or start one with a client
    (``client_id``). One per party and organization (X1): an existing one is answered."""
    user = viewer(request)
    organization = organization_for(request, slug)
    meeting = client = None
    if payload.meeting_id is not None:
        meeting = access_meeting(user, organization, payload.meeting_id)
    if payload.client_id is not None:
        client = client_of(organization, payload.client_id)
    conversation = domain.start_conversation(user, organization, meeting=meeting, client=client)
    return conversation_out(access.access_conversation(user, organization, conversation.pk))


@router.get("/orgs/{slug}/conversations/{int:conversation_id}", response={200: ConversationDetail, ERRORS: ErrorOut})
def get_conversation(request: HttpRequest, slug: str, conversation_id: int, page: Query[PageQuery]):
    """One conversation: its meetings the caller may see (X1, O2), members and messages, newest first in pages of
    ``limit``. Reading it marks its messages read (the first page) and the caller online."""
    user = viewer(request)
    conversation = _conversation(request, slug, conversation_id)
    domain.mark_seen(user, conversation, read=not page.cursor)
    messages, next_cursor = _messages(conversation, page)
    meetings = access.meetings_seen_by(user, conversation)
    return {
        **conversation_out(access.with_unread(Conversation.objects.filter(pk=conversation.pk), user).get()),
        "meetings": [
            {
                "id": m.pk,
                "service": m.service.name,
                "expert": m.expert.name,
                "status": m.status,
                "start": m.start,
                "end": m.end,
            }
            for m in meetings
        ],
        "messages": messages,
        "next_cursor": next_cursor,
    }


@router.post("/orgs/{slug}/conversations/{int:conversation_id}/messages", response={201: MessageOut, ERRORS: ErrorOut})
def write_message(request: HttpRequest, slug: str, conversation_id: int, payload: MessageIn):
    """X2: write a message. The other side is told by mail (N10) when they are not online."""
    conversation = _conversation(request, slug, conversation_id)
    return Status(201, message_out(domain.write_message(viewer(request), conversation, payload.text)))


@router.post(
    "/orgs/{slug}/conversations/{int:conversation_id}/assign", response={200: ConversationOut, ERRORS: ErrorOut}
)
def assign_conversation(request: HttpRequest, slug: str, conversation_id: int, payload: AssignIn):
    """X3: assign the conversation to yourself or to another member who gives the service."""
    user = viewer(request)
    organization = organization_for(request, slug)
    conversation = access.access_conversation(user, organization, conversation_id)
    to = member_of(organization, payload.member_id, "member") if payload.member_id is not None else None
    service = service_of(organization, payload.service_id) if payload.service_id is not None else None
    domain.assign_conversation(user, conversation, to=to, service=service)
    fresh = access.with_unread(_with_rows(Conversation.objects.filter(pk=conversation.pk)), user).get()
    return conversation_out(fresh)


# --- the guest's own ------------------------------------------------------------------


@guest_router.get("/guest/{token}/conversation", response={200: GuestConversationOut, ERRORS: ErrorOut})
def guest_conversation(request: HttpRequest, token: str, page: Query[PageQuery]):
    """X2: the guest's conversation with the organization, newest message first. Reading it
    marks the messages read and the guest online (N10)."""
    meeting = guest_links.meeting_for_link(token)
    conversation = access.for_guest_meeting(meeting)
    if conversation is None:
        return {"organization": meeting.organization.name, "service": None, "messages": [], "next_cursor": None}
    domain.mark_seen(meeting.guest, conversation, read=not page.cursor)
    messages, next_cursor = _messages(conversation, page)
    service = conversation.service.name if conversation.service_id else None
    return {
        "organization": meeting.organization.name,
        "service": service,
        "messages": messages,
        "next_cursor": next_cursor,
    }


@guest_router.post("/guest/{token}/conversation/messages", response={201: MessageOut, ERRORS: ErrorOut})
def guest_write_message(request: HttpRequest, token: str, payload: MessageIn):
    """X2: the guest writes to the organization; the conversation is opened for the
    meeting's service if there was none (B6). Its members are told (N10) when offline."""
    from django.db import transaction

    meeting = guest_links.meeting_for_link(token)
    with transaction.atomic():
        conversation = access.for_guest_meeting(meeting) or domain.open_for_meeting(meeting)
        message = domain.write_message(meeting.guest, conversation, payload.text)
    return Status(201, message_out(message))
