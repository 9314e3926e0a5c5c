"""The words of each message (SPEC §9, D4): for every outbox topic, the subject, the in-app
title and the lead sentence, from the facts of the meeting already in the recipient's
language and time zone; and how dates, zones and reasons read. ``messages.compose`` renders
them with the templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext

from parlour.accounts.models import Guest, User
from parlour.credits.settlement import split
from parlour.meetings.models import AlternativeState, EventKind, Meeting, Outcome, Side, Status

from .models import OutboxItem, Topic

# The labels of the reason lists of ``parlour.meetings.reasons``, as translatable strings
# (the same English words, so they are looked up in the catalogs).
REASON_LABELS = {
    "not_available": gettext_noop("I am not available at this time"),
    "not_my_field": gettext_noop("The subject is outside my expertise"),
    "price": gettext_noop("The price does not suit me"),
    "no_longer_needed": gettext_noop("The meeting is no longer needed"),
    "illness": gettext_noop("Illness"),
    "schedule_conflict": gettext_noop("A conflict in my schedule"),
    "emergency": gettext_noop("An emergency"),
    "client_request": gettext_noop("The client asked for it"),
    "other": gettext_noop("Another reason"),
}


@dataclass
class Facts:
    """What a message may say, already in the recipient's language and time zone."""

    item: OutboxItem
    person: User | Guest
    zone: ZoneInfo
    meeting: Meeting | None
    side: str  # the recipient's side: "client" or "expert"
    is_guest: bool
    link: str
    service: str = ""
    other_name: str = ""  # the other party: the expert for a client, the client for an expert
    actor: str = ""  # who did it, when someone did
    actor_is_me: bool = False
    start: datetime | None = None
    when: str = ""
    when_short: str = ""
    extra: dict = field(default_factory=dict)  # what only some templates show

    @property
    def payload(self) -> dict:
        return self.item.payload or {}


@dataclass(frozen=True)
class Wording:
    subject: str
    title: str
    lead: str
    notes: tuple[str, ...] = ()  # short facts the in-app body adds to the lead


def zone_label(local: datetime) -> str:
    """The zone's abbreviation (CET, EDT), or its offset where it has none (UTC-03:00)."""
    name = local.tzname() or ""
    if name.isalpha():
        return name
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _date(local: datetime) -> str:
    return dateformat.format(local, pgettext("long date in a message", "l j F Y"))


def _time(local: datetime) -> str:
    return dateformat.format(local, pgettext("time in a message", "H:i"))


def when_long(start: datetime, minutes: int, zone: ZoneInfo) -> str:
    """A meeting's date and times in the active language: Tuesday 3 March 2026, 10:00–10:30 CET."""
    local = start.astimezone(zone)
    end = (start + timedelta(minutes=minutes)).astimezone(zone)
    return _("%(date)s, %(start)s–%(end)s %(zone)s") % {
        "date": _date(local),
        "start": _time(local),
        "end": _time(end),
        "zone": zone_label(local),
    }


def when_short(start: datetime, zone: ZoneInfo) -> str:
    """A start for a subject line in the active language: Tue 3 Mar 10:00 CET."""
    local = start.astimezone(zone)
    date = dateformat.format(local, pgettext("short date in a subject", "D j M"))
    return _("%(date)s %(time)s %(zone)s") % {"date": date, "time": _time(local), "zone": zone_label(local)}


def moment_long(moment: datetime, zone: ZoneInfo) -> str:
    """An instant in the active language: Tuesday 10 March 2026 11:00 CET."""
    local = moment.astimezone(zone)
    return _("%(date)s %(time)s %(zone)s") % {"date": _date(local), "time": _time(local), "zone": zone_label(local)}


def time_only(start: datetime, zone: ZoneInfo) -> str:
    local = start.astimezone(zone)
    return f"{_time(local)} {zone_label(local)}"


def _instant(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _alternative_when(facts: Facts, start: datetime) -> tuple[str, str]:
    found = facts.meeting.alternatives.filter(start=start).order_by("-created_at", "-id").first()
    minutes = found.length_minutes if found else facts.meeting.length_minutes
    return when_long(start, minutes, facts.zone), when_short(start, facts.zone)


def _reason(facts: Facts) -> list[str]:
    """The reason from the list and the note written with it, as the body states them."""
    notes = []
    code = facts.payload.get("reason") or ""
    note = (facts.payload.get("note") or "").strip()
    if code:
        label = _(REASON_LABELS[code]) if code in REASON_LABELS else code
        facts.extra["reason_label"] = label
        notes.append(_("Reason: %(reason_label)s") % {"reason_label": label})
        if note:
            facts.extra["note_line"] = _("Message from %(name)s: “%(note)s”") % {"name": facts.actor, "note": note}
    elif note:
        facts.extra["note_line"] = _("Reason given by %(name)s: “%(note)s”") % {"name": facts.actor, "note": note}
        notes.append(facts.extra["note_line"])
    return notes


def _subject(what: str, facts: Facts, when: str | None = None) -> str:
    return _("%(what)s: %(service)s with %(name)s, %(when)s") % {
        "what": what,
        "service": facts.service,
        "name": facts.other_name,
        "when": facts.when_short if when is None else when,
    }


# --- the wording of each topic -------------------------------------------------------


def _n1(f: Facts) -> Wording:
    """N1 to the expert: a client's request (B2), or a new date for a rejected one (L11)."""
    what = pgettext("subject", "New meeting request")
    alternative = _instant(f.payload.get("alternative"))
    if alternative:
        f.when, f.when_short = _alternative_when(f, alternative)
        lead = _("%(name)s proposes a new date for the meeting you rejected: “%(service)s” on %(when)s.")
    else:
        lead = _("%(name)s asks for a meeting with you: “%(service)s” on %(when)s.")
    return Wording(
        _subject(what, f),
        _("New meeting request from %(name)s") % {"name": f.other_name},
        lead % {"name": f.other_name, "service": f.service, "when": f.when},
    )


def _n2(f: Facts) -> Wording:
    """N2 to both sides: a meeting booked and agreed at once (B2 without confirmation)."""
    args = {"name": f.other_name, "service": f.service, "when": f.when}
    if f.side == Side.EXPERT:
        title = _("Meeting booked by %(name)s") % args
        lead = _("%(name)s booked a meeting with you: “%(service)s” on %(when)s.") % args
    else:
        title = _("Your meeting is booked")
        lead = _("Your meeting with %(name)s is booked: “%(service)s” on %(when)s.") % args
    return Wording(_subject(pgettext("subject", "Meeting booked"), f), title, lead)


def _n3(f: Facts) -> Wording:
    """N3 to the client: an expert proposes one time (B3) or offers several (B4)."""
    what = pgettext("subject", "Expert meeting invitation")
    title = _("Meeting invitation from %(name)s") % {"name": f.other_name}
    args = {"name": f.other_name, "service": f.service, "when": f.when}
    options = list(f.meeting.time_options.order_by("start", "id")) if f.meeting.status == Status.PLANNING else []
    if len(options) > 1:
        f.extra["options"] = [when_long(o.start, o.length_minutes, f.zone) for o in options]
        subject = _("%(what)s: %(service)s with %(name)s") % {**args, "what": what}
        lead = _("%(name)s invites you to a meeting, “%(service)s”, and offers several times to choose from.") % args
        return Wording(subject, title, lead)
    lead = _("%(name)s invites you to a meeting: “%(service)s” on %(when)s.") % args
    return Wording(_subject(what, f), title, lead)


def _n4_confirmed(f: Facts) -> Wording:
    """N4 to the other side: the meeting (L2, L5, B4) or its new date (L12) is confirmed."""
    args = {"name": f.actor or f.other_name, "service": f.service, "when": f.when}
    if f.payload.get("alternative"):
        return Wording(
            _subject(pgettext("subject", "New date confirmed"), f),
            _("New date confirmed by %(name)s") % args,
            _("%(name)s confirmed the new date of the meeting “%(service)s”: %(when)s.") % args,
        )
    return Wording(
        _subject(pgettext("subject", "Meeting confirmed"), f),
        _("Meeting confirmed by %(name)s") % args,
        _("%(name)s confirmed the meeting “%(service)s” on %(when)s.") % args,
    )


def _n4_rejected(f: Facts) -> Wording:
    """N4 to the other side: the meeting (L3, L6) or a proposed new date (L13) is rejected."""
    args = {"name": f.actor or f.other_name, "service": f.service, "when": f.when}
    notes = _reason(f)
    if f.payload.get("alternative"):
        rejected = f.meeting.alternatives.filter(state=AlternativeState.REJECTED).order_by("-decided_at", "-id").first()
        f.extra["kept_date"] = f.meeting.status == Status.AGREED
        if rejected is not None:
            date, short = _alternative_when(f, rejected.start)
            lead = _("%(name)s rejected the new date you proposed for the meeting “%(service)s”: %(date)s.")
            args.update(date=date)
        else:
            short = f.when_short
            lead = _("%(name)s rejected the new date you proposed for the meeting “%(service)s”.")
        subject = _subject(pgettext("subject", "New date rejected"), f, short)
        return Wording(subject, _("New date rejected by %(name)s") % args, lead % args, tuple(notes))
    f.extra["returned"] = f.side == Side.CLIENT and bool(f.meeting.price) and not f.is_guest
    return Wording(
        _subject(pgettext("subject", "Meeting rejected"), f),
        _("Meeting rejected by %(name)s") % args,
        _("%(name)s rejected the meeting “%(service)s” on %(when)s.") % args,
        tuple(notes),
    )


def _n5(f: Facts) -> Wording:
    """N5 to the other side: cancelled (L1, L4, L7, L9), or late with a charge (L8)."""
    args = {"name": f.actor or f.other_name, "service": f.service, "when": f.when}
    notes = _reason(f)
    charged = int(f.payload.get("charged") or 0)
    if charged:
        client = f.meeting.client_name
        line = ngettext(
            "The cancellation came late: %(name)s is charged %(count)s credit for it.",
            "The cancellation came late: %(name)s is charged %(count)s credits for it.",
            charged,
        ) % {"name": client, "count": charged}
        f.extra["charge_line"] = line
        notes.append(line)
        if f.side == Side.EXPERT:
            event = f.meeting.timeline.filter(kind=EventKind.REIMBURSED).order_by("-at", "-id").first()
            paid = event.data.get("paid") if event else None
            if isinstance(paid, int) and paid:
                f.extra["paid_line"] = ngettext(
                    "You receive %(count)s credit of it.", "You receive %(count)s credits of it.", paid
                ) % {"count": paid}
                notes.append(f.extra["paid_line"])
    elif f.side == Side.CLIENT and f.meeting.price and not f.is_guest and f.payload.get("by") == Side.EXPERT:
        f.extra["returned_all"] = True
    return Wording(
        _subject(pgettext("subject", "Meeting cancelled"), f),
        _("Meeting cancelled by %(name)s") % args,
        _("%(name)s cancelled the meeting “%(service)s” on %(when)s.") % args,
        tuple(notes),
    )


def _n6(f: Facts) -> Wording:
    """N6: a new date proposed (L10, L11), the meeting reassigned (L15) or changed (L16)."""
    payload = f.payload
    if payload.get("by") == "reassign":
        return _n6_reassigned(f)
    alternative = _instant(payload.get("alternative"))
    if alternative:
        date, short = _alternative_when(f, alternative)
        args = {"name": f.actor or f.other_name, "service": f.service, "date": date}
        if payload.get("was") == Status.REJECTED:
            title = _("Rejected meeting rescheduled by %(name)s") % args
            f.when, f.when_short = date, short
        else:
            title = _("Agreed meeting rescheduled by %(name)s") % args
            f.extra["current_when"] = f.when
        f.extra["alternative_when"] = date
        lead = _("%(name)s proposes a new date for the meeting “%(service)s”: %(date)s.") % args
        return Wording(_subject(pgettext("subject", "New date proposed"), f, short), title, lead)
    previous = _instant(payload.get("previous"))
    if previous:
        f.extra["previous_when"] = when_long(previous, f.meeting.length_minutes, f.zone)
    args = {"name": f.actor or f.other_name, "service": f.service, "when": f.when, "other": f.other_name}
    if f.actor_is_me:
        title = _("Meeting changed")
        lead = _("You changed the meeting “%(service)s” with %(other)s: it now takes place on %(when)s.") % args
    else:
        title = _("Meeting changed by %(name)s") % args
        lead = _("%(name)s changed the meeting “%(service)s”: it now takes place on %(when)s.") % args
    return Wording(_subject(pgettext("subject", "Meeting changed"), f), title, lead)


def _n6_reassigned(f: Facts) -> Wording:
    previous, expert = str(f.payload.get("previous", "")), str(f.payload.get("expert", ""))
    args = {
        "service": f.service,
        "when": f.when,
        "previous": previous,
        "expert": expert,
        "name": f.meeting.client_name,
    }
    if f.side == Side.CLIENT:
        lead = _("Your meeting “%(service)s” on %(when)s is now with %(expert)s instead of %(previous)s.")
    elif f.person.pk == f.meeting.expert_id:
        lead = _("You take over the meeting “%(service)s” with %(name)s on %(when)s from %(previous)s.")
    else:
        f.extra["handed_over"] = True
        lead = _("Your meeting “%(service)s” with %(name)s on %(when)s has been handed over to %(expert)s.")
    f.extra["reassigned"] = True
    return Wording(
        _subject(pgettext("subject", "Meeting reassigned"), f),
        _("Meeting reassigned to %(expert)s") % args,
        lead % args,
    )


def _n7(f: Facts) -> Wording:
    """N7: the reminder before an agreed meeting."""
    args = {"name": f.other_name, "service": f.service, "when": f.when}
    return Wording(
        _subject(pgettext("subject", "Meeting reminder"), f),
        _("Meeting reminder"),
        _("Your meeting “%(service)s” with %(name)s takes place on %(when)s.") % args,
    )


def _n8(f: Facts) -> Wording:
    """N8: the link, shortly before an agreed meeting."""
    args = {"name": f.other_name, "service": f.service, "time": time_only(f.start, f.zone)}
    return Wording(
        _subject(pgettext("subject", "Meeting link"), f),
        _("Your meeting starts soon"),
        _("Your meeting “%(service)s” with %(name)s starts at %(time)s. Use the link below to enter.") % args,
    )


def _n9(f: Facts) -> Wording:
    """N9: the client is asked to confirm and evaluate the meeting they had: a guest on their
    own page (the link), with the reviews add-on by stars only (a written review needs an
    account, S1)."""
    args = {"name": f.other_name, "service": f.service, "when": f.when}
    f.extra["reviews"] = f.meeting.organization.reviews_enabled and not f.is_guest
    f.extra["stars"] = f.meeting.organization.reviews_enabled and f.is_guest
    deadline = _instant(f.payload.get("deadline"))
    if deadline:
        f.extra["deadline_when"] = moment_long(deadline, f.zone)
    return Wording(
        _subject(pgettext("subject", "Please confirm and evaluate your meeting"), f),
        _("How did your meeting go?"),
        _(
            "Please confirm whether your meeting “%(service)s” with %(name)s on %(when)s took place, "
            "and tell us how it went."
        )
        % args,
    )


def _n10(f: Facts) -> Wording:
    """N10: a new message in a conversation, for someone who is not online."""
    sender = str(f.payload.get("sender") or f.other_name)
    excerpt = str(f.payload.get("excerpt", "")).strip()
    title = _("New message from %(name)s") % {"name": sender}
    return Wording(title, title, _("%(name)s sent you a message: “%(excerpt)s”") % {"name": sender, "excerpt": excerpt})


def _lapsed(f: Facts) -> Wording:
    """L18: a request, proposal or new date nobody answered before it began."""
    args = {"name": f.other_name, "service": f.service, "when": f.when}
    if f.meeting.status == Status.REJECTED:
        title = _("Proposed date lapsed")
        lead = _(
            "The new date proposed for the meeting “%(service)s” with %(name)s was not answered before it began "
            "and has been dropped."
        )
    else:
        title = _("Meeting lapsed without an answer")
        lead = _(
            "The meeting “%(service)s” with %(name)s on %(when)s was not confirmed before its start "
            "and has been cancelled."
        )
    f.extra["returned"] = f.side == Side.CLIENT and bool(f.meeting.price) and not f.is_guest
    return Wording(_subject(pgettext("subject", "Meeting lapsed"), f), title, lead % args)


def _outcome(f: Facts) -> Wording:
    """S3: how the meeting settled, and what it meant for the recipient's credits."""
    args = {"name": f.other_name, "service": f.service, "when": f.when}
    outcome = f.payload.get("outcome")
    if outcome == Outcome.HELD:
        lead = _("Your meeting “%(service)s” with %(name)s on %(when)s has been recorded as held.")
    elif outcome == Outcome.CLIENT_NO_SHOW:
        lead = _("Your meeting “%(service)s” with %(name)s on %(when)s has been recorded as missed by the client.")
    elif outcome == Outcome.REFUNDED:
        lead = _("Your meeting “%(service)s” with %(name)s on %(when)s has been recorded as not held.")
    else:
        lead = _("The outcome of your meeting “%(service)s” with %(name)s on %(when)s has been recorded.")
    f.extra.update(_outcome_credits(f, outcome))
    return Wording(_subject(pgettext("subject", "Meeting outcome"), f), _("Meeting outcome recorded"), lead % args)


def _outcome_credits(f: Facts, outcome) -> dict:
    price = f.meeting.price
    if not price or f.is_guest:
        return {}
    policy = f.meeting.organization.settings
    charge = 100 if outcome == Outcome.HELD else policy.late_cancellation_charge_percent
    parts = split(price, charge, policy.platform_share_percent)
    if outcome == Outcome.REFUNDED:
        return {"refunded": f.side == Side.CLIENT}
    if outcome not in (Outcome.HELD, Outcome.CLIENT_NO_SHOW):
        return {}
    return {"charged": parts.charged} if f.side == Side.CLIENT else {"paid": parts.to_expert}


WORDING: dict[str, Callable[[Facts], Wording]] = {
    Topic.N1: _n1,
    Topic.N2: _n2,
    Topic.N3: _n3,
    Topic.N4_CONFIRMED: _n4_confirmed,
    Topic.N4_REJECTED: _n4_rejected,
    Topic.N5: _n5,
    Topic.N6: _n6,
    Topic.N7: _n7,
    Topic.N8: _n8,
    Topic.N9: _n9,
    Topic.N10: _n10,
    Topic.LAPSED: _lapsed,
    Topic.OUTCOME: _outcome,
}
