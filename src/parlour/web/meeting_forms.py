"""The forms of the meeting page's actions (SPEC §4, §7): each parses what one dialog asks
for, in the viewer's language and time zone, before the domain is called. What the domain
refuses is its own business (``meeting.py`` shows its message); what a form refuses is shown
next to its field and nothing is called."""

from datetime import UTC, datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from parlour.accounts.models import User
from parlour.meetings.lifecycle import MAX_TEXT
from parlour.meetings.models import Meeting, Outcome, Review, Said, Side, Status
from parlour.meetings.outcome import MAX_REVIEW
from parlour.meetings.reasons import ExpertCancelReason, RejectReason

# The lists people choose from, in their language (L3, L6, L9, L13, S1, S2, S3).
REJECT_REASONS = [
    (RejectReason.NOT_AVAILABLE, _("I am not available at this time")),
    (RejectReason.NOT_MY_FIELD, _("The subject is outside my expertise")),
    (RejectReason.PRICE, _("The price does not suit me")),
    (RejectReason.NO_LONGER_NEEDED, _("The meeting is no longer needed")),
    (RejectReason.OTHER, _("Another reason")),
]
EXPERT_CANCEL_REASONS = [
    (ExpertCancelReason.ILLNESS, _("Illness")),
    (ExpertCancelReason.SCHEDULE_CONFLICT, _("A conflict in my schedule")),
    (ExpertCancelReason.EMERGENCY, _("An emergency")),
    (ExpertCancelReason.CLIENT_REQUEST, _("The client asked for it")),
    (ExpertCancelReason.OTHER, _("Another reason")),
]
SAID = {
    Side.CLIENT: [
        (Said.HELD, _("The meeting went smoothly")),
        (Said.NOT_HELD_CLIENT, _("It did not take place because of me (absence, technical problems)")),
        (Said.NOT_HELD_EXPERT, _("It did not take place because of the expert")),
    ],
    Side.EXPERT: [
        (Said.HELD, _("The meeting took place")),
        (Said.NOT_HELD_EXPERT, _("It did not take place because of me")),
        (Said.NOT_HELD_CLIENT, _("It did not take place because of the client")),
    ],
}
DECISIONS = [
    (Outcome.HELD, _("Held: the expert is paid")),
    (Outcome.CLIENT_NO_SHOW, _("The client did not come: paid as a late cancellation")),
    (Outcome.REFUNDED, _("Refunded: all credits return to the client")),
]
REASON_LABELS = dict(REJECT_REASONS + EXPERT_CANCEL_REASONS)
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class ActionForm(forms.Form):
    """A dialog's form: its fields' ids carry the action's name (several dialogs share a
    page), and a field in error points at its message (``aria-describedby``)."""

    def __init__(self, meeting: Meeting, side: str | None, viewer: User, *args, **kwargs):
        self.meeting, self.side, self.viewer = meeting, side, viewer
        super().__init__(*args, **kwargs)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                described = [f"{self[name].auto_id}_error"]
                if self.fields[name].help_text:
                    described.append(f"{self[name].auto_id}_helptext")
                self.fields[name].widget.attrs["aria-describedby"] = " ".join(described)


def _note(label, *, required: bool = False, limit: int = MAX_TEXT) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=limit, widget=forms.Textarea(attrs={"rows": 3}))


def _start(label, initial=None) -> forms.DateTimeField:
    """A local date and time in the viewer's zone; one that does not exist on the day the
    clocks change, or happens twice, is refused by Django's field (Q1)."""
    return forms.DateTimeField(
        label=label,
        initial=initial,
        input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )


def _lengths(meeting: Meeting) -> forms.TypedChoiceField:
    choices = [(n, _("%(minutes)s minutes") % {"minutes": n}) for n in meeting.service.lengths]
    return forms.TypedChoiceField(
        label=_("Length"), choices=choices, coerce=int, initial=meeting.length_minutes, required=False
    )


class ConfirmForm(ActionForm):
    """L2, L5; L17's second confirmation is ``acknowledge_conflict``."""

    acknowledge_conflict = forms.BooleanField(required=False, widget=forms.HiddenInput)


class RejectForm(ActionForm):
    """L3, L6, L13: a reason from the list and a note."""

    reason = forms.ChoiceField(label=_("Reason"), choices=[("", _("Choose a reason"))] + REJECT_REASONS)
    note = _note(_("Note (optional)"))


class CancelForm(ActionForm):
    """L1, L4: an optional note. L7, L8: the client writes why. L9: the expert picks a reason
    from the list. L8, L9: ``confirm_late`` is the second, knowing confirmation."""

    reason = forms.ChoiceField(label=_("Reason"), choices=[("", _("Choose a reason"))] + EXPERT_CANCEL_REASONS)
    note = _note(_("Note (optional)"))
    confirm_late = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agreed = self.meeting.status == Status.AGREED
        if not (agreed and self.side == Side.EXPERT):
            del self.fields["reason"]
        if agreed and self.side == Side.CLIENT:
            self.fields["note"] = _note(_("Why do you cancel?"), required=True)


class AlternativeForm(ActionForm):
    """L10, L11: the new date, in the viewer's zone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"] = _start(_("New date and time"))
        self.fields["length"] = _lengths(self.meeting)


class ChangeForm(ActionForm):
    """L16: another free time or length, directly: one of the expert's free slots (``slot``,
    its start in UTC as the list of free times sends it), or else a date and time typed in
    the viewer's zone (``start``, the meeting's own until changed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"] = forms.CharField(label=_("Free times"), required=False, max_length=40)
        self.fields["start"] = _start(_("Another date and time"), initial=self.meeting.start)
        self.fields["start"].required = False
        self.fields["length"] = _lengths(self.meeting)

    def clean(self):
        data = super().clean()
        slot = data.get("slot")
        if slot:
            try:
                start = datetime.fromisoformat(slot)
            except ValueError:
                start = None
            if start is None or start.utcoffset() is None:
                self.add_error("slot", _("Choose one of the free times."))
            else:
                data["start"] = start.astimezone(UTC)
        elif not data.get("start") and "start" not in self.errors:
            self.add_error("start", _("Choose one of the free times, or give a date and time."))
        return data


class WithdrawForm(ActionForm):
    """L14: nothing to ask."""


class ReassignForm(ActionForm):
    """L15: another expert of the service."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(user.pk), user.name) for user in reassign_candidates(self.meeting)]
        self.fields["expert"] = forms.ChoiceField(label=_("New expert"), choices=[("", "—")] + choices)


def reassign_candidates(meeting: Meeting) -> list[User]:
    """The other experts of the meeting's service who are members of its organization."""
    return list(
        meeting.service.experts.filter(memberships__organization_id=meeting.organization_id)
        .exclude(pk=meeting.expert_id)
        .exclude(pk=meeting.client_id or 0)
        .order_by("name", "pk")
    )


class StatementForm(ActionForm):
    """S1 (client; with the reviews add-on stars and a written review) or S2 (expert; with
    the summaries add-on a summary). Fields of an add-on that is off are not asked (O4)."""

    earlier_review: Review | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.meeting.organization
        self.fields["said"] = forms.ChoiceField(
            label=_("Did the meeting take place?"),
            choices=SAID.get(self.side, SAID[Side.CLIENT]),
            widget=forms.RadioSelect,
        )
        if self.side == Side.CLIENT and organization.reviews_enabled:
            stars = [("", _("No stars"))] + [(str(n), str(n)) for n in range(1, 6)]
            self.fields["stars"] = forms.TypedChoiceField(
                label=_("Stars (1 to 5)"),
                choices=stars,
                coerce=int,
                empty_value=None,
                required=False,
                help_text=_("Only the organization sees your stars."),
            )
            if self.meeting.client_id:
                self.fields["review"] = _note(_("Written review (optional)"), limit=MAX_REVIEW)
                self.fields["review"].help_text = _("Shown on the expert's profile.")
                self.earlier_review = earlier_review(self.meeting)
                if self.earlier_review is not None:
                    self.fields["review"].initial = self.earlier_review.text
        if self.side == Side.EXPERT and organization.summaries_enabled:
            self.fields["summary"] = _note(_("Summary for the client (optional)"), limit=MAX_REVIEW)


def earlier_review(meeting: Meeting) -> Review | None:
    """S1: the client's written review of this expert, if they wrote one: a new one edits it."""
    return Review.objects.filter(
        organization_id=meeting.organization_id, expert_id=meeting.expert_id, client_id=meeting.client_id
    ).first()


class DecideForm(ActionForm):
    """S3: an admin decides a disputed meeting."""

    outcome = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    note = _note(_("Note (optional)"))
