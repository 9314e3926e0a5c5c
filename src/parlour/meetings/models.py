"""Meetings, their alternative dates, time options and timelines (SPEC §3, §4, §7).

Only ``parlour.meetings.lifecycle`` changes a meeting's status, approvals, credit status or
outcome; everything else reads."""

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from parlour.accounts.models import Guest, Organization, User
from parlour.catalog.models import Service, Skill

# B5: no look-alike characters (0/O, 1/I/L, 2/Z, 5/S, 8/B), so a key read aloud or from a
# phone screen is typed right; 8 of 25 symbols is ~1.5e11 keys, and entry is rate-limited.
GUEST_KEY_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
GUEST_KEY_LENGTH = 8


def new_guest_key() -> str:
    return "".join(secrets.choice(GUEST_KEY_ALPHABET) for _ in range(GUEST_KEY_LENGTH))


def normalize_guest_key(typed: str) -> str:
    """Case-insensitive and forgiving of spaces and dashes people add when typing."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


class MediaCheck(models.TextChoices):
    """V3: whether the camera and the microphone worked in the browser before entering."""

    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class Side(models.TextChoices):
    CLIENT = "client", _("client")
    EXPERT = "expert", _("expert")

    @property
    def other(self) -> "Side":
        return Side.EXPERT if self == Side.CLIENT else Side.CLIENT


class Status(models.TextChoices):
    PLANNING = "planning", _("Planning")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    AGREED = "agreed", _("Agreed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    MISSED = "missed", _("Missed")
    FAILED = "failed", _("Failed")


OPEN_STATUSES = (Status.PLANNING, Status.AWAITING_APPROVAL, Status.AGREED)
ENDED_STATUSES = (Status.COMPLETED, Status.MISSED, Status.FAILED)


class CreditStatus(models.TextChoices):
    NONE = "none", _("None")
    BLOCKED = "blocked", _("Blocked")
    RETURNED = "returned", _("Returned")
    REIMBURSED_CANCELLATION = "reimbursed_cancellation", _("Reimbursed cancellation")
    PAID = "paid", _("Paid")


class Outcome(models.TextChoices):
    """How a held meeting settled (S3)."""

    UNDECIDED = "", _("Not decided")
    HELD = "held", _("Held")
    CLIENT_NO_SHOW = "client_no_show", _("Client did not come")
    REFUNDED = "refunded", _("Refunded")
    DISPUTED = "disputed", _("Disputed")


class Meeting(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="meetings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="meetings")
    skill = models.ForeignKey(Skill, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings")
    expert = models.ForeignKey(User, on_delete=models.PROTECT, related_name="meetings_as_expert")
    client = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings_as_client")
    guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings")
    origin = models.CharField(
        max_length=10,
        choices=Side.choices,
        help_text="Who asked for the meeting: client's request or expert's proposal.",
    )
    subject = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    start = models.DateTimeField()
    length_minutes = models.PositiveIntegerField()
    # ``end`` is start + length, kept as a column so overlap and due-time queries use an index.
    end = models.DateTimeField()
    price = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices)
    client_approved = models.BooleanField(default=False)
    expert_approved = models.BooleanField(default=False)
    credit_status = models.CharField(max_length=25, choices=CreditStatus.choices, default=CreditStatus.NONE)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.UNDECIDED, blank=True)
    guest_key = models.CharField(max_length=16, unique=True, default=new_guest_key)
    # Attendance, recorded by the join link (V2) and the room (V4); read by V5 and S3.
    client_entered_at = models.DateTimeField(null=True, blank=True)
    expert_entered_at = models.DateTimeField(null=True, blank=True)
    connection_failed = models.BooleanField(default=False)
    # V4: when the two sides' call first connected (since the date was last set).
    connected_at = models.DateTimeField(null=True, blank=True)
    # V3: the last media check of each side since the meeting's date was last set.
    client_media_check = models.CharField(max_length=10, choices=MediaCheck.choices, blank=True)
    expert_media_check = models.CharField(max_length=10, choices=MediaCheck.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False, guest__isnull=True) | Q(client__isnull=True, guest__isnull=False),
                name="meeting_has_client_or_guest",
            ),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="meeting_ends_after_start"),
        ]
        indexes = [
            models.Index(fields=["organization", "start"]),
            models.Index(fields=["expert", "start"]),
            models.Index(fields=["client", "start"]),
            models.Index(fields=["status", "start"]),
            models.Index(fields=["status", "end"]),
        ]

    def __str__(self) -> str:
        return f"{self.service} with {self.expert.name} at {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def client_name(self) -> str:
        return self.client.name if self.client_id else self.guest.name

    @property
    def client_email(self) -> str:
        return self.client.email if self.client_id else self.guest.email

    @property
    def is_guest_meeting(self) -> bool:
        return self.guest_id is not None

    def set_time(self, start, length_minutes: int) -> None:
        self.start = start
        self.length_minutes = length_minutes
        self.end = start + timedelta(minutes=length_minutes)

    @property
    def pending_alternative(self) -> "Alternative | None":
        return self.alternatives.filter(state=AlternativeState.PENDING).first()


class AlternativeState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Alternative(models.Model):
    """A new date proposed by one side (L10/L11), approved by its proposer, waiting for the
    other side. A meeting has at most one pending alternative."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="alternatives")
    proposed_by = models.CharField(max_length=10, choices=Side.choices)
    start = models.DateTimeField()
    length_minutes = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=AlternativeState.choices, default=AlternativeState.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting"], condition=Q(state="pending"), name="one_pending_alternative")
        ]

    def __str__(self) -> str:
        return f"Alternative {self.start:%Y-%m-%d %H:%M} by {self.proposed_by} ({self.state})"

    @property
    def end(self):
        return self.start + timedelta(minutes=self.length_minutes)


class TimeOption(models.Model):
    """One of several times an expert offers at once (B4)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="time_options")
    start = models.DateTimeField()
    length_minutes = models.PositiveIntegerField()
    picked = models.BooleanField(default=False)

    class Meta:
        ordering = ["start", "id"]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} UTC, {self.length_minutes} min"

    @property
    def end(self):
        return self.start + timedelta(minutes=self.length_minutes)


class EventKind(models.TextChoices):
    BOOKED = "booked", _("Meeting booked by client")
    PROPOSED = "proposed", _("Meeting proposed by expert")
    OPTIONS_OFFERED = "options_offered", _("Time options offered by expert")
    OPTION_PICKED = "option_picked", _("Time option picked by client")
    APPROVED = "approved", _("Approved by {side}")
    CANCELLED = "cancelled", _("Cancelled by {side}")
    REJECTED = "rejected", _("Rejected by {side}")
    REIMBURSED = "reimbursed", _("Reimbursed to expert")
    ALTERNATIVE_PROPOSED = "alternative_proposed", _("Alternative date proposed by {side}")
    ALTERNATIVE_APPROVED = "alternative_approved", _("Alternative date approved by {side}")
    ALTERNATIVE_REJECTED = "alternative_rejected", _("Alternative date rejected by {side}")
    ALTERNATIVE_WITHDRAWN = "alternative_withdrawn", _("Alternative date withdrawn by {side}")
    REASSIGNED = "reassigned", _("Reassigned to another expert")
    CHANGED = "changed", _("Time or length changed by {side}")
    LAPSED = "lapsed", _("Lapsed without answer")
    ENTERED = "entered", _("Entered the room ({side})")
    MEDIA_CHECKED = "media_checked", _("Media check by {side}: {result}")
    CONNECTION_FAILED = "connection_failed", _("The two sides could not connect")
    CONNECTED = "connected", _("The two sides connected")
    CLOSED = "closed", _("Meeting ended: {status}")
    OUTCOME_RECORDED = "outcome_recorded", _("Meeting outcome recorded by {side}")
    DISPUTED = "disputed", _("Statements disagree: disputed")
    SETTLED = "settled", _("Settled: {outcome}")
    REVIEW_BONUS = "review_bonus", _("Bonus credits for written review")


class TimelineEvent(models.Model):
    """L19: an append-only record of one step of a meeting's life: what, who, when, why."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    # The side the event speaks of (client, expert), or "admin" / "system".
    side = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["meeting", "at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """The event in the active language (D4): the side's word and the status or outcome
        the data keeps in English are translated with the label."""
        words = {k: v for k, v in self.data.items() if isinstance(v, str)}
        for key in ("status", "outcome"):
            if words.get(key):
                words[key] = gettext(words[key])
        side = Side(self.side).label if self.side in Side.values else self.side or "system"
        return EventKind(self.kind).label.format(**words, side=side)

    @property
    def actor_name(self) -> str:
        if self.actor_id:
            return self.actor.name
        if self.actor_guest_id:
            return self.actor_guest.name
        return "Parlour"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Timeline events are never changed once written.")
        super().save(*args, **kwargs)


class Said(models.TextChoices):
    """What one side states about whether the meeting took place (S1, S2). The values read the
    same for both sides, so agreement is equality; ``LABELS`` words them for each side."""

    HELD = "held", _("It took place")
    NOT_HELD_CLIENT = "not_held_client", _("It did not take place because of the client")
    NOT_HELD_EXPERT = "not_held_expert", _("It did not take place because of the expert")


SAID_LABELS = {
    "client": {
        Said.HELD: _("The meeting went smoothly"),
        Said.NOT_HELD_CLIENT: _("It did not take place because of me (absence, technical problems)"),
        Said.NOT_HELD_EXPERT: _("It did not take place because of the expert"),
    },
    "expert": {
        Said.HELD: _("The meeting took place"),
        Said.NOT_HELD_EXPERT: _("It did not take place because of me"),
        Said.NOT_HELD_CLIENT: _("It did not take place because of the client"),
    },
}


class Statement(models.Model):
    """One side's word on whether the meeting took place (S1, S2)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="statements")
    side = models.CharField(max_length=10, choices=Side.choices)
    said = models.CharField(max_length=20, choices=Said.choices)
    stars = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "side"], name="one_statement_per_side")]

    def __str__(self) -> str:
        return f"{self.side}: {self.get_said_display()}"


class Review(models.Model):
    """A client's written review of an expert: one per client and expert (S1), shown on the
    expert's profile. Editing it keeps one review; the first one earns a bonus (S4)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reviews")
    expert = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reviews_received")
    client = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reviews_written")
    meeting = models.ForeignKey(Meeting, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "expert", "client"], name="one_review_per_expert")
        ]

    def __str__(self) -> str:
        return f"Review of {self.expert} by {self.client}"
