"""N1–N10 (SPEC §9): what an outbox item says to the person it is for.

``compose`` turns one ``OutboxItem`` into a ``Message``: an email (subject, plain text and
HTML, a calendar attachment where it concerns a date, K2) and its short in-app version
(title, body, link). Everything is worded for the recipient: in their language and their
time zone (D4), naming who did what, the meeting (service, the other party), when, and the
reason, note, charge or new date there is. A guest gets their guest key and their signed
link (B5), never a member's link.

The wording that heads a message (subject, title, the lead sentence that is also the in-app
body) is chosen in ``wording.py``, one function per topic; what follows it in the email lives in one
template per message under ``templates/notifications/`` (``<name>.txt`` and
``<name>.html``), on a shared layout. Translations are in ``locale/`` beside this file."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from parlour.accounts.models import Guest, User
from parlour.meetings.guest_links import link_token
from parlour.meetings.models import Meeting, Side, Status

from .models import OutboxItem, Topic
from .wording import WORDING, Facts, Wording, _instant, when_long, when_short

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
ICS_REQUEST = "text/calendar; method=REQUEST; charset=utf-8"
ICS_CANCEL = "text/calendar; method=CANCEL; charset=utf-8"

# The template of each topic that is a message to a person; room.* topics are not.
TEMPLATES = {
    Topic.N1: "n1_request",
    Topic.N2: "n2_booked",
    Topic.N3: "n3_invitation",
    Topic.N4_CONFIRMED: "n4_confirmed",
    Topic.N4_REJECTED: "n4_rejected",
    Topic.N5: "n5_cancelled",
    Topic.N6: "n6_rescheduled",
    Topic.N7: "n7_reminder",
    Topic.N8: "n8_link",
    Topic.N9: "n9_evaluate",
    Topic.N10: "n10_message",
    Topic.LAPSED: "lapsed",
    Topic.OUTCOME: "outcome",
}

# K2: an invitation (or update) for messages about a date that stands, a cancellation for
# messages that take a date away.
CALENDAR_REQUEST = {Topic.N2, Topic.N4_CONFIRMED, Topic.N6, Topic.N7, Topic.N8}
CALENDAR_CANCEL = {Topic.N5, Topic.LAPSED}


@dataclass(frozen=True)
class Message:
    to: str
    language: str
    subject: str
    text: str
    html: str
    title: str
    body: str
    link: str
    attachments: tuple[tuple[str, bytes, str], ...]


def compose(item: OutboxItem) -> Message | None:
    """The message ``item`` stands for, or None when it is not a message to a person."""
    name = TEMPLATES.get(item.topic)
    person = item.recipient or item.recipient_guest
    if name is None or person is None:
        return None
    language = _language(person.language)
    with translation.override(language):
        facts = _facts(item, person)
        wording = WORDING[item.topic](facts)
        body = " ".join((wording.lead, *wording.notes))
        context = _context(facts, wording, language)
        text = _tidy(render_to_string(f"notifications/{name}.txt", context))
        html = render_to_string(f"notifications/{name}.html", context)
    return Message(
        to=person.email,
        language=language,
        subject=" ".join(wording.subject.split()),  # one line, whatever people typed into names
        text=text,
        html=html,
        title=wording.title,
        body=body,
        link=facts.link,
        attachments=_attachments(facts),
    )


# --- who, when, where -----------------------------------------------------------------


def _language(code: str) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    return code if code in known else settings.LANGUAGE_CODE


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def base_url() -> str:
    return getattr(settings, "PARLOUR_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


def link_for(meeting: Meeting | None, person: User | Guest, *, join: bool = False) -> str:
    """Where the message's button leads: with ``join``, the meeting's join link (V2; the
    guest's own, signed); otherwise the guest's own page from their signed link (B5), or
    the meeting's page for a signed-in person."""
    base = base_url()
    if meeting is None:
        return base + "/"
    if join:
        if isinstance(person, Guest):
            return f"{base}/join/{link_token(meeting)}/"
        return f"{base}/meetings/{meeting.pk}/join/"
    if isinstance(person, Guest):
        return f"{base}/g/{link_token(meeting)}/"
    return f"{base}/o/{meeting.organization.slug}/meetings/{meeting.pk}/"


def _conversation_link(conversation_id, person: User | Guest) -> str:
    """N10: where the recipient reads the conversation and replies (a guest: their signed
    link)."""
    from parlour.conversations.access import link_path
    from parlour.conversations.models import Conversation

    conversation = Conversation.objects.select_related("organization").filter(pk=conversation_id).first()
    return base_url() + link_path(conversation, person) if conversation is not None else ""


def _facts(item: OutboxItem, person: User | Guest) -> Facts:
    meeting = item.meeting
    is_guest = isinstance(person, Guest)
    client_side = meeting is None or is_guest or person.pk == meeting.client_id
    side = Side.CLIENT.value if client_side else Side.EXPERT.value
    facts = Facts(
        item=item,
        person=person,
        zone=_zone(person.time_zone),
        meeting=meeting,
        side=side,
        is_guest=is_guest,
        link=link_for(meeting, person, join=item.topic in (Topic.N7, Topic.N8)),
    )
    if meeting is None:
        facts.actor = facts.other_name = str(facts.payload.get("sender", ""))
        if item.topic == Topic.N10:
            facts.link = _conversation_link(facts.payload.get("conversation"), person) or facts.link
        return facts
    facts.service = meeting.service.name
    facts.other_name = meeting.expert.name if side == Side.CLIENT else meeting.client_name
    by = facts.payload.get("by")
    if by in (Side.CLIENT, Side.EXPERT):
        facts.actor = meeting.client_name if by == Side.CLIENT else meeting.expert.name
        facts.actor_is_me = by == side
    facts.start = _instant(facts.payload.get("start")) or meeting.start
    facts.when = when_long(facts.start, meeting.length_minutes, facts.zone)
    facts.when_short = when_short(facts.start, facts.zone)
    return facts


# --- rendering ------------------------------------------------------------------------


def _context(f: Facts, wording: Wording, language: str) -> dict:
    meeting = f.meeting
    return {
        "language": language,
        "subject": wording.subject,
        "title": wording.title,
        "lead": wording.lead,
        "person_name": f.person.name,
        "org_name": f.item.organization.name,
        "has_meeting": meeting is not None,
        "service": f.service,
        "other_name": f.other_name,
        "other_is_expert": f.side == Side.CLIENT,
        "other_is_guest": meeting is not None and meeting.is_guest_meeting and f.side == Side.EXPERT,
        "when": f.when,
        "meeting_subject": meeting.subject if meeting else "",
        "guest_key": meeting.guest_key if meeting is not None and f.is_guest else "",
        "is_client": f.side == Side.CLIENT,
        "is_expert": f.side == Side.EXPERT,
        "price": meeting.price if meeting else 0,
        "join_minutes": meeting.organization.settings.join_window_minutes if meeting else 0,
        "calendar": _calendar_method(f) or "",
        "entry": meeting is not None and meeting.status == Status.AGREED and f.item.topic in CALENDAR_REQUEST,
        "link": f.link,
        **f.extra,
    }


def _tidy(text: str) -> str:
    """Plain text without the blank lines and trailing spaces template tags leave."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"


def _calendar_method(f: Facts) -> str | None:
    """K2: which calendar request goes with the message, if any. A meeting that is not
    agreed has no date in anyone's calendar to add or move; the expert a meeting was taken
    from (L15) gets it removed from theirs."""
    meeting, topic = f.meeting, f.item.topic
    if meeting is None:
        return None
    if topic in CALENDAR_CANCEL:
        return "CANCEL"
    if topic not in CALENDAR_REQUEST or meeting.status != Status.AGREED:
        return None
    if f.extra.get("handed_over"):
        return "CANCEL"
    return "REQUEST"


def _attachments(f: Facts) -> tuple[tuple[str, bytes, str], ...]:
    method = _calendar_method(f)
    if method is None:
        return ()
    from parlour.calendars.ics import event_ics  # written alongside; imported when used

    content_type = ICS_CANCEL if method == "CANCEL" else ICS_REQUEST
    # The expert a meeting was taken from gets it removed from their calendar alone (L15).
    attendees = [f.person.email] if f.extra.get("handed_over") else None
    return (("invite.ics", event_ics(f.meeting, method=method, attendee_emails=attendees), content_type),)
