"""Slots from the database (E4, B7): read each kind of data with one query, whatever the
range's length or the number of experts, and hand plain values to the pure engine in
``slots.py``. Booking re-checks a time here inside its transaction (B1)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import Count, Func, Max, Q, QuerySet, TextField
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parlour.accounts.models import User
from parlour.catalog.models import ExpertProfile, Service
from parlour.core.errors import DomainError
from parlour.meetings.models import Meeting, Status

from . import slots
from .models import DateException, ExceptionKind, ExternalBusy, TimeOff, WeeklyHours

BLOCKING = (Status.AGREED, Status.AWAITING_APPROVAL)
_MARGIN = timedelta(days=2)  # local days and buffers reach beyond the range in UTC
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Query:
    """Which slots: starts in [start, end) of a given length, as seen at ``now``."""

    length_minutes: int
    start: datetime
    end: datetime
    now: datetime


def profiles_of(service: Service, experts: list[User] | None = None) -> list[ExpertProfile]:
    """The profiles of the service's experts (or of the ones given), with their users."""
    profiles = ExpertProfile.objects.filter(
        membership__organization_id=service.organization_id,
        membership__user__in=service.experts.all() if experts is None else experts,
    ).select_related("membership__user")
    return list(profiles.order_by("membership__user_id"))


class _UtcText(Func):
    """SQLite only: the text SQLite holds for a datetime column, naive UTC
    ("2030-06-03 07:00:00[.ffffff]", as Django writes it), with "+00:00" appended."""

    template = "(%(expressions)s || '+00:00')"
    output_field = TextField()


def _spans(rows: QuerySet, *keys: str) -> list[tuple]:
    """``rows.values_list(*keys, "start", "end")``, start and end as aware UTC datetimes.

    On SQLite, Django reads each datetime through two converters (the sqlite3 module's, then
    its own making it aware): at a thousand meetings, more time than the rest of the search.
    This reads the stored text instead and parses it with ``datetime.fromisoformat``: the same
    instants with the same ``UTC`` tzinfo. The plain way is kept where Django would not read
    stored text as UTC (``USE_TZ`` off, a ``TIME_ZONE`` in DATABASES), for a value that is not
    ISO text, and on other databases, whose drivers hand back datetimes themselves."""
    connection = connections[rows.db]
    if connection.vendor == "sqlite" and connection.timezone is UTC:
        parse = datetime.fromisoformat
        texts = rows.values_list(*keys, _UtcText("start"), _UtcText("end"))
        try:
            if len(keys) == 3:  # the meetings: unpacking beats slicing at a thousand rows
                return [(a, b, c, parse(start), parse(end)) for a, b, c, start, end in texts]
            return [(*row[:-2], parse(row[-2]), parse(row[-1])) for row in texts]
        except (TypeError, ValueError):
            pass
    return list(rows.values_list(*keys, "start", "end"))


def _load(profiles: list[ExpertProfile], query: Query, *, exclude: Meeting | None = None):
    """Everything the engine needs for these experts around the range: five queries."""
    ids = [p.pk for p in profiles]
    users = {p.membership.user_id for p in profiles}
    lo, hi = query.start - _MARGIN, query.end + timedelta(minutes=query.length_minutes) + _MARGIN
    weekly = defaultdict(lambda: defaultdict(list))
    for profile_id, weekday, start, end in (
        WeeklyHours.objects.filter(profile_id__in=ids).order_by().values_list("profile_id", "weekday", "start", "end")
    ):
        weekly[profile_id][weekday].append(slots.LocalInterval(start, end))
    exceptions = defaultdict(lambda: defaultdict(lambda: {"add": [], "remove": [], "day_off": False}))
    for profile_id, day, kind, start, end in (
        DateException.objects.filter(profile_id__in=ids, date__gte=lo.date(), date__lte=hi.date())
        .order_by()
        .values_list("profile_id", "date", "kind", "start", "end")
    ):
        parts = exceptions[profile_id][day]
        if kind == ExceptionKind.DAY_OFF:
            parts["day_off"] = True
        else:
            parts[kind].append(slots.LocalInterval(start, end))
    time_off = defaultdict(list)
    for profile_id, start, end in _spans(
        TimeOff.objects.filter(profile_id__in=ids, start__lt=hi, end__gt=lo), "profile_id"
    ):
        time_off[profile_id].append((start, end))
    external = defaultdict(list)
    for profile_id, start, end in _spans(
        ExternalBusy.objects.filter(profile_id__in=ids, start__lt=hi, end__gt=lo), "profile_id"
    ):
        external[profile_id].append((start, end))
    meetings = defaultdict(list)
    starts = defaultdict(list)
    # The experts' own blocking meetings, and those they agreed to as someone's client. The
    # client side's status is checked below rather than in SQL: SQLite, without statistics,
    # would otherwise read it through the (status, end) index, every agreed meeting of every
    # organization, instead of the person's own through (client, start).
    rows = Meeting.objects.filter(start__lt=hi, end__gt=lo).filter(
        Q(expert_id__in=users, status__in=BLOCKING) | Q(client_id__in=users)
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    for expert_id, client_id, status, start, end in _spans(rows.order_by(), "expert_id", "client_id", "status"):
        as_expert = expert_id in users
        if not ((as_expert and status in BLOCKING) or (client_id in users and status == Status.AGREED)):
            continue
        span = (start, end)
        if as_expert:
            meetings[expert_id].append(span)
            starts[expert_id].append(start)
        if client_id in users and client_id != expert_id:
            meetings[client_id].append(span)
    return weekly, exceptions, time_off, external, meetings, starts


def _engine_inputs(profile: ExpertProfile, loaded) -> tuple[slots.FreeDates, slots.Busy]:
    weekly, exceptions, time_off, external, meetings, starts = loaded
    user_id = profile.membership.user_id
    free = slots.FreeDates(
        time_zone=profile.time_zone,
        weekly=weekly[profile.pk],
        exceptions=[slots.DateException(date=day, **parts) for day, parts in exceptions[profile.pk].items()],
        time_off=time_off[profile.pk],
        minimum_notice=timedelta(minutes=profile.minimum_notice_minutes),
        buffer_before=timedelta(minutes=profile.buffer_before_minutes),
        buffer_after=timedelta(minutes=profile.buffer_after_minutes),
        max_per_day=profile.max_meetings_per_day,
    )
    busy = slots.Busy(
        meetings=meetings[user_id],
        external=external[profile.pk],
        meetings_per_day=slots.count_per_local_day(starts[user_id], profile.time_zone)
        if profile.max_meetings_per_day is not None
        else {},
    )
    return free, busy


def _request(service: Service, query: Query) -> slots.SlotRequest:
    policy = service.organization.settings
    return slots.SlotRequest(
        length_minutes=query.length_minutes,
        range_start=query.start,
        range_end=query.end,
        window_end=query.now + timedelta(days=policy.booking_window_days) + _TICK,  # the last day included
        now=query.now,
        step_minutes=policy.slot_step_minutes,
    )


def expert_slots(
    service: Service, profile: ExpertProfile, query: Query, *, exclude: Meeting | None = None
) -> list[datetime]:
    """E4: the bookable starts of one expert for the service; with ``exclude``, as if that
    meeting were not there (L16: a meeting's own time is free for it)."""
    free, busy = _engine_inputs(profile, _load([profile], query, exclude=exclude))
    return slots.bookable_slots(free, busy, _request(service, query))


def service_slots(service: Service, query: Query) -> list[tuple[datetime, list[User]]]:
    """B7: the union of the slots of the service's experts, each start with the experts free
    then, the least busy in the coming week first (``rank_experts``)."""
    profiles = profiles_of(service)
    if not profiles:
        return []
    loaded = _load(profiles, query)
    request = _request(service, query)
    per_expert = {}
    for profile in rank_experts(profiles, query.now):
        free, busy = _engine_inputs(profile, loaded)
        per_expert[profile.membership.user] = slots.bookable_slots(free, busy, request)
    return slots.union_slots(per_expert)


def rank_experts(profiles: list[ExpertProfile], now: datetime) -> list[ExpertProfile]:
    """B7: fewest meetings in the coming week first; ties go to whoever was booked least
    recently (never booked first), so equal experts take turns."""
    users = [p.membership.user_id for p in profiles]
    coming_week = Q(status__in=BLOCKING, start__gte=now, start__lt=now + timedelta(days=7))
    rows = (
        Meeting.objects.filter(expert_id__in=users)
        .order_by()
        .values("expert_id")
        .annotate(week=Count("pk", filter=coming_week), last=Max("created_at"))
        .values_list("expert_id", "week", "last")
    )
    load, latest = {}, {}
    for expert_id, week, last in rows:
        load[expert_id], latest[expert_id] = week, last
    floor = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted(
        profiles, key=lambda p: (load.get(p.membership.user_id, 0), latest.get(p.membership.user_id) or floor, p.pk)
    )


def check_bookable(
    service: Service, profile: ExpertProfile, start: datetime, length: int, now: datetime, *, rule: str, exclude=None
) -> None:
    """B1: refuse, with the reason, a time that is not one of the expert's slots right now.
    Called inside the booking transaction after the expert's row is locked, so what it sees
    cannot change before the meeting is written."""
    policy = service.organization.settings
    if start > now + timedelta(days=policy.booking_window_days):
        raise DomainError(
            "outside_booking_window",
            _("Meetings can be booked at most %(days)s days ahead.") % {"days": policy.booking_window_days},
            rule,
        )
    notice = timedelta(minutes=profile.minimum_notice_minutes)
    if start < now + notice:
        raise DomainError(
            "too_short_notice",
            _notice_refusal(profile.membership.user.name, notice),
            rule,
        )
    query = Query(length, start, start + _TICK, now)
    loaded = _load([profile], query, exclude=exclude)
    free, busy = _engine_inputs(profile, loaded)
    request = _request(service, query)
    if slots.bookable_slots(free, busy, request):
        return
    local_day = start.astimezone(ZoneInfo(profile.time_zone)).date()
    if (
        profile.max_meetings_per_day is not None
        and busy.meetings_per_day.get(local_day, 0) >= profile.max_meetings_per_day
    ):
        raise DomainError(
            "day_full",
            _("%(expert)s takes no more meetings on %(day)s.")
            % {"expert": profile.membership.user.name, "day": f"{local_day:%Y-%m-%d}"},
            rule,
            status=409,
        )
    if slots.bookable_slots(free, slots.Busy(external=busy.external), request):
        raise DomainError("slot_taken", _("This time was just taken. Please choose another."), rule, status=409)
    raise DomainError(
        "not_free",
        _("%(expert)s cannot be booked at this time. Please choose a free slot.")
        % {"expert": profile.membership.user.name},
        rule,
        status=409,
    )


def _notice_refusal(expert: str, span: timedelta) -> str:
    """The too-short-notice refusal: in hours when they are whole, else in minutes."""
    minutes = int(span.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext(
            "%(expert)s needs %(count)s hour's notice before a meeting.",
            "%(expert)s needs %(count)s hours' notice before a meeting.",
            hours,
        ) % {"expert": expert, "count": hours}
    return ngettext(
        "%(expert)s needs %(count)s minute's notice before a meeting.",
        "%(expert)s needs %(count)s minutes' notice before a meeting.",
        minutes,
    ) % {"expert": expert, "count": minutes}
