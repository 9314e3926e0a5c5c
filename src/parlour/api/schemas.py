"""What the API reads and writes (I2): pydantic schemas, and the bounds every number and date
is checked against before any domain function runs (Q2).

Datetimes are ISO 8601 with an offset, in and out; a naive datetime is refused (Q1) and every
accepted one is turned into UTC here, so nothing past this module meets a local time."""

import re
from datetime import UTC, datetime, time
from datetime import date as date_
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field, model_validator

from parlour.catalog.models import MAX_LENGTH_MINUTES, MAX_PRICE
from parlour.catalog.profiles import MAX_BIO
from parlour.credits.ledger import MAX_GRANT
from parlour.credits.models import TransferKind
from parlour.meetings.display import DisplayedStatus, MediaState
from parlour.meetings.lifecycle import MAX_TEXT, MAX_TIME_OPTIONS
from parlour.meetings.models import CreditStatus, Outcome, Said, Side, Status
from parlour.meetings.outcome import MAX_REVIEW
from parlour.meetings.reasons import RejectReason

MAX_ID = 2**63 - 1


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(_("date is out of range")) from None


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Minutes = Annotated[int, Field(ge=1, le=MAX_LENGTH_MINUTES, description="Length in minutes.")]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE, description="Whole credits; 0 is free.")]
Note = Annotated[str, Field(max_length=MAX_TEXT)]


class Input(Schema):
    """A request body: unknown fields are refused rather than silently ignored (Q2)."""

    model_config = ConfigDict(extra="forbid")


# --- errors --------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str = Field(description="Stable, machine-readable.")
    message: str = Field(description="For people.")
    rule: str = Field(description="The SPEC rule that decided it, when there is one.")
    details: dict[str, Any] | None = None


ERRORS = frozenset({400, 401, 402, 403, 404, 409, 422})


# --- people and sign-in --------------------------------------------------------------


class LoginIn(Input):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1000)


class MembershipOut(Schema):
    slug: str
    name: str
    role: Literal["admin", "expert", "client"]


class MeOut(Schema):
    id: int
    email: str
    name: str
    time_zone: str
    language: str
    organizations: list[MembershipOut]


class LoginOut(Schema):
    me: MeOut
    csrf_token: str = Field(description="Send it as X-CSRFToken with every unsafe request of this session.")


class CsrfOut(Schema):
    csrf_token: str


class TokenIn(Input):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    hint: str = Field(description="The token's last characters.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown this once; only a hash is kept.")


# --- catalog -------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class ServiceOut(Schema):
    id: int
    name: str
    description: str
    lengths: list[int]
    default_length: int
    price: int
    requires_confirmation: bool
    experts: list[Ref]
    skills: list[Ref]


class ExpertOut(Schema):
    id: int
    name: str
    time_zone: str
    bio: str
    photo_url: str | None = Field(description="The expert's photo (JPEG, PNG or WebP), if they have one.")
    skills: list[Ref]
    service_ids: list[int]


class ProfileIn(Schema):
    """E1: what changes of an expert's profile; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    bio: str | None = Field(None, max_length=MAX_BIO, description="The introduction clients read.")
    skill_ids: list[Id] | None = Field(None, max_length=200, description="All the expert's skills (replaces them).")


class Choice(Schema):
    code: str
    label: str


class ReasonsOut(Schema):
    reject: list[Choice] = Field(description="L3, L6, L13")
    expert_cancel: list[Choice] = Field(description="L9")
    statement_client: list[Choice] = Field(description="S1")
    statement_expert: list[Choice] = Field(description="S2")
    dispute_outcomes: list[Choice] = Field(description="S3")


# --- meetings ------------------------------------------------------------------------


class PartyOut(Schema):
    kind: Literal["client", "guest"]
    id: int
    name: str
    email: str


class AlternativeOut(Schema):
    id: int
    proposed_by: Side
    start: datetime
    end: datetime
    length: int


class MeetingRow(Schema):
    id: int
    service: Ref
    expert: Ref
    client: PartyOut
    guest_key: str
    subject: str
    origin: Side = Field(description="Who asked for it: the client's request or the expert's proposal.")
    status: Status
    displayed_status: DisplayedStatus = Field(description="D2, derived from status and the current time.")
    displayed_status_label: str
    media_check: MediaState = Field(
        description="V3, the client's (or guest's) sign: not_entered (grey ?), no_check (entered, media check "
        "not done: yellow ?), failed (red ✗), passed (green ✓)."
    )
    start: datetime
    end: datetime
    length: int
    price: int
    credit_status: CreditStatus
    outcome: Outcome
    client_approved: bool
    expert_approved: bool
    pending_alternative: AlternativeOut | None


class TimelineEventOut(Schema):
    id: int
    kind: str
    title: str
    side: str
    actor: str
    at: datetime
    reason: str
    data: dict[str, Any]


class TimeOptionOut(Schema):
    id: int
    start: datetime
    end: datetime
    length: int
    picked: bool


class StatementOut(Schema):
    side: Side
    said: Said
    said_label: str
    stars: int | None = Field(description="Private to the operator: shown to admins only.")
    summary: str | None = Field(description="With the summaries add-on only.")
    at: datetime


class MeetingDetail(MeetingRow):
    description: str
    phone: str
    skill: Ref | None
    review: str | None = Field(description="The client's written review, with the reviews add-on only.")
    timeline: list[TimelineEventOut]
    time_options: list[TimeOptionOut]
    statements: list[StatementOut]


class MeetingPage(Schema):
    items: list[MeetingRow]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class MeetingFilters(Schema):
    tab: Literal["my", "everyone"] = Field("my", description="O2: My or Everyone.")
    status: list[Status] = Field(default_factory=list, description="Any of these statuses.")
    start_from: Instant | None = Field(None, alias="from", description="Meetings starting at or after.")
    start_to: Instant | None = Field(None, alias="to", description="Meetings starting before.")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(25, ge=1, le=100)


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(25, ge=1, le=100)


# --- actions -------------------------------------------------------------------------


class BookIn(Input):
    """B1: a signed-in client books for themself."""

    service_id: Id
    expert_id: Id
    start: Instant
    length: Minutes | None = Field(None, description="One of the service's lengths; its first by default.")
    subject: str = Field("", max_length=200)
    description: Note = ""
    skill_id: Id | None = None


class ProposalIn(Input):
    """Who the expert proposes to: a client of the organization or one of its guests."""

    service_id: Id
    client_id: Id | None = None
    guest_id: Id | None = None
    price: Price | None = Field(None, description="The service's price by default.")
    subject: str = Field("", max_length=200)
    description: Note = ""
    skill_id: Id | None = None

    @model_validator(mode="after")
    def one_party(self):
        if (self.client_id is None) == (self.guest_id is None):
            raise ValueError(_("name either client_id or guest_id"))
        return self


class ProposeIn(ProposalIn):
    """B3"""

    start: Instant
    length: Minutes | None = None


class TimeOptionIn(Input):
    start: Instant
    length: Minutes


class OfferIn(ProposalIn):
    """B4"""

    options: list[TimeOptionIn] = Field(min_length=1, max_length=MAX_TIME_OPTIONS)


class PickIn(Input):
    option_id: Id
    acknowledge_conflict: bool = False


class ConfirmIn(Input):
    acknowledge_conflict: bool = Field(False, description="L17: confirm again knowing of an overlap.")


class RejectIn(Input):
    reason: RejectReason
    note: Note = ""


class CancelIn(Input):
    reason: str = Field("", max_length=MAX_TEXT, description="Expert: a code of the expert_cancel list (L9).")
    note: Note = Field("", description="Client: the written reason (L7, L8). Expert: an optional note.")
    confirm_late: bool = Field(False, description="L8, L9: cancel inside the notice, having read the warning.")


class AlternativeIn(Input):
    start: Instant
    length: Minutes | None = None


class ReassignIn(Input):
    expert_id: Id


class ChangeTimeIn(Input):
    start: Instant | None = None
    length: Minutes | None = None


class StatementIn(Input):
    said: Said
    stars: int | None = Field(None, ge=1, le=5)
    review: str = Field("", max_length=MAX_REVIEW)
    summary: str = Field("", max_length=MAX_REVIEW)


class DecideIn(Input):
    outcome: Literal[Outcome.HELD, Outcome.CLIENT_NO_SHOW, Outcome.REFUNDED]
    note: Note = ""


# --- credits -------------------------------------------------------------------------


class WalletOut(Schema):
    available: int
    blocked: int


class MovementOut(Schema):
    id: int
    kind: TransferKind
    name: str = Field(description="As the client sees it (C2).")
    amount: int = Field(description="How it changed what the person owns; a block moves nothing out (0).")
    moved: int = Field(description="The credits the movement carried.")
    meeting_id: int | None
    at: datetime


class MovementPage(Schema):
    items: list[MovementOut]
    next_cursor: str | None


class GrantIn(Input):
    user_id: Id
    amount: int = Field(ge=1, le=MAX_GRANT)
    note: str = Field("", max_length=200)


class GrantOut(Schema):
    transfer_id: int
    user_id: int
    amount: int
    available: int


# --- free dates (E3) -----------------------------------------------------------------


def _clock_time(value: Any, *, end: bool) -> Any:
    """ "HH:MM" on the 24-hour clock. An end may be "24:00", midnight at the end of the day,
    stored as 00:00 like an end of "00:00"."""
    if not isinstance(value, str):
        raise ValueError(_("give a time as a string HH:MM"))
    text = value.strip()
    if end and text == "24:00":
        return time(0)
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise ValueError(
            _("give a time as HH:MM, e.g. 09:00 or 17:30 (24:00 for midnight at the day's end)")
            if end
            else _("give a time as HH:MM, e.g. 09:00 or 17:30")
        )
    return time.fromisoformat(text)


StartTime = Annotated[time, BeforeValidator(lambda v: _clock_time(v, end=False)), Field(description="HH:MM")]
EndTime = Annotated[
    time, BeforeValidator(lambda v: _clock_time(v, end=True)), Field(description="HH:MM; 24:00 is the day's end.")
]
SmallInt = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class WeeklyHoursIn(Input):
    weekday: SmallInt = Field(description="0 = Monday … 6 = Sunday.")
    start: StartTime
    end: EndTime


class WeeklyHoursOut(Schema):
    weekday: int
    weekday_name: str
    start: str
    end: str = Field(description="24:00 is midnight at the end of the day.")


class DateExceptionIn(Input):
    date: date_
    kind: Literal["add", "remove", "day_off"] = Field(description="Extra hours, hours off, or the whole day off.")
    start: StartTime | None = Field(None, description="For add and remove.")
    end: EndTime | None = Field(None, description="For add and remove.")


class DateExceptionOut(Schema):
    date: date_
    kind: Literal["add", "remove", "day_off"]
    start: str | None
    end: str | None


class TimeOffIn(Input):
    start: Instant
    end: Instant
    note: str = Field("", max_length=200)


class TimeOffOut(Schema):
    id: int
    start: datetime
    end: datetime
    note: str


class FreeDatesIn(Input):
    """E3: the whole set; what is left out is emptied (lists) or reset (limits)."""

    time_zone: str = Field(max_length=64, description="IANA name; the hours are wall-clock times in it.")
    weekly: list[WeeklyHoursIn] = Field(default_factory=list, max_length=100)
    exceptions: list[DateExceptionIn] = Field(default_factory=list, max_length=1000)
    time_off: list[TimeOffIn] = Field(default_factory=list, max_length=500)
    minimum_notice_minutes: SmallInt = 0
    buffer_before_minutes: SmallInt = 0
    buffer_after_minutes: SmallInt = 0
    max_meetings_per_day: SmallInt | None = Field(None, description="Null: no limit.")


class FreeDatesOut(Schema):
    expert: Ref
    time_zone: str
    weekly: list[WeeklyHoursOut]
    exceptions: list[DateExceptionOut]
    time_off: list[TimeOffOut]
    minimum_notice_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    max_meetings_per_day: int | None


# --- slots (E4, B7) ------------------------------------------------------------------


class SlotsQuery(Schema):
    length: Minutes | None = Field(None, description="One of the service's lengths; its first by default.")
    starts_from: str | None = Field(
        None,
        alias="from",
        max_length=64,
        description="A date (YYYY-MM-DD, from its midnight in `tz`) or an ISO datetime with offset. Default: today.",
    )
    starts_to: str | None = Field(
        None,
        alias="to",
        max_length=64,
        description="A date (that whole day included) or an ISO datetime with offset. Default: 7 days after `from`.",
    )
    tz: str | None = Field(
        None, max_length=64, description="The viewer's time zone: yours when signed in, else UTC, by default."
    )


class ExpertSlotsQuery(SlotsQuery):
    service_id: Id


class SlotOut(Schema):
    start: datetime = Field(description="In the viewer's time zone, with its offset.")
    end: datetime = Field(description="In the viewer's time zone, with its offset.")
    start_utc: datetime
    experts: list[Ref] | None = Field(
        None, description="B7, members only: who is free then, the one a booking would go to first."
    )


class SlotsOut(Schema):
    service_id: int
    expert_id: int | None = None
    time_zone: str = Field(description="The zone `start` and `end` are shown in.")
    length: int
    starts_from: datetime = Field(description="Slots starting at or after this…")
    starts_before: datetime = Field(description="…and before this.")
    slots: list[SlotOut]


# --- public booking and guest links (B1, B5, B7) -------------------------------------


class PublicServiceOut(Schema):
    id: int
    name: str
    description: str
    lengths: list[int]
    default_length: int
    price: int
    requires_confirmation: bool
    experts: list[Ref] = Field(description="The experts who give it, by their public names.")


class GuestIn(Input):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field("", max_length=40)
    time_zone: str | None = Field(None, max_length=64, description="Where the guest is; dates are shown in it.")


class PublicBookIn(Input):
    """B1, B7: a guest (``guest``) or the signed-in client (no ``guest``) books a free slot."""

    service_id: Id
    expert_id: Id | None = Field(None, description="Absent: any free expert of the service (B7).")
    start: Instant
    length: Minutes | None = Field(None, description="One of the service's lengths; its first by default.")
    subject: str = Field("", max_length=200)
    description: Note = ""
    guest: GuestIn | None = None


class GuestMeetingOut(Schema):
    id: int
    organization: str = Field(description="The organization's name.")
    service: Ref
    expert: Ref
    name: str = Field(description="The guest's or client's name.")
    email: str
    status: Status
    displayed_status: DisplayedStatus
    displayed_status_label: str
    time_zone: str = Field(description="The zone `start` and `end` are shown in: the guest's or client's.")
    start: datetime
    end: datetime
    length: int
    price: int
    subject: str
    description: str
    guest_key: str = Field(description="B5: typed to enter the room.")


class PublicBookingOut(GuestMeetingOut):
    """The booked meeting. A guest's own link is sent to their email, never in this answer
    (O3): whoever books only typed the address."""


class GuestCancelIn(Input):
    note: Note = Field("", description="Why (needed once the meeting is agreed, L7).")
    confirm_late: bool = False


class GuestChangeIn(Input):
    start: Instant | None = None
    length: Minutes | None = None
