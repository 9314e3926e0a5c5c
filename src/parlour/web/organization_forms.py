"""Area F: the forms of the organization's settings pages (O1, O2, O4, O5, E2). Each form
validates with the model's own validators; the pages save only what a valid form gives."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from parlour.accounts.models import ClientAccount, Group, Organization, OrganizationSettings, Role, User
from parlour.catalog.models import Service, Skill, validate_lengths

POLICY_FIELDS = [
    "cancellation_notice_hours",
    "late_cancellation_charge_percent",
    "platform_share_percent",
    "join_window_minutes",
    "evaluation_deadline_hours",
    "review_bonus_credits",
    "booking_window_days",
    "default_length_minutes",
    "slot_step_minutes",
    "max_upcoming_guest_meetings",
    "reminder_hours_before",
    "link_minutes_before",
    "evaluation_reminder_hours_after",
]
VIDEO_FIELDS = ["video_platform", "jitsi_domain", "jitsi_app_id", "jitsi_app_secret"]


class PolicyForm(forms.ModelForm):
    """O5 and V1: every number of the rules and where meetings happen. The stored Jitsi
    secret is never sent back to the browser: an empty field keeps it (or drops it when the
    app id is cleared too)."""

    class Meta:
        model = OrganizationSettings
        fields = POLICY_FIELDS + VIDEO_FIELDS
        labels = {
            "cancellation_notice_hours": _("Cancellation notice (hours)"),
            "late_cancellation_charge_percent": _("Late cancellation charge (%)"),
            "platform_share_percent": _("Platform share of what an expert is paid (%)"),
            "join_window_minutes": _("Join window opens before the start (minutes)"),
            "evaluation_deadline_hours": _("Evaluation deadline after the end (hours)"),
            "review_bonus_credits": _("Bonus credits for a first written review"),
            "booking_window_days": _("Booking window (days ahead)"),
            "default_length_minutes": _("Default length (minutes)"),
            "slot_step_minutes": _("Slots start every (minutes)"),
            "max_upcoming_guest_meetings": _("At most upcoming self-booked meetings per guest with one expert"),
            "reminder_hours_before": _("Reminder before the start (hours)"),
            "link_minutes_before": _("Join link sent before the start (minutes)"),
            "evaluation_reminder_hours_after": _("Evaluation reminder after the end (hours)"),
            "video_platform": _("Video platform"),
            "jitsi_domain": _("Jitsi Meet server"),
            "jitsi_app_id": _("Jitsi app id"),
            "jitsi_app_secret": _("Jitsi app secret"),
        }
        help_texts = {
            "jitsi_domain": _("The server's name, for example meet.example.org."),
            "jitsi_app_id": _("For a server with token authentication; leave empty otherwise."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stored_secret = self.instance.jitsi_app_secret
        secret = self.fields["jitsi_app_secret"]
        secret.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        secret.required = False
        secret.help_text = (
            _("A secret is stored. Leave this empty to keep it; clear the app id to remove both.")
            if self.stored_secret
            else _("Signs the tokens; keep it secret.")
        )
        self.fields["video_platform"].choices = [("builtin", _("Parlour's own room")), ("jitsi", _("Jitsi Meet"))]
        for name in POLICY_FIELDS:
            if name != "slot_step_minutes":
                self.fields[name].widget.attrs.update({"inputmode": "numeric"})

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("jitsi_app_secret"):
            keep = bool((cleaned.get("jitsi_app_id") or "").strip())
            cleaned["jitsi_app_secret"] = self.stored_secret if keep else ""
        return cleaned


class AddOnsForm(forms.ModelForm):
    """O4: the reviews and summaries add-ons."""

    class Meta:
        model = Organization
        fields = ["reviews_enabled", "summaries_enabled"]
        labels = {"reviews_enabled": _("Reviews"), "summaries_enabled": _("Summaries")}
        help_texts = {
            "reviews_enabled": _("Clients rate and review their meetings."),
            "summaries_enabled": _("Experts write a summary for the client after the meeting."),
        }


def role_choices() -> list[tuple[str, str]]:
    return [(Role.ADMIN, _("Admin")), (Role.EXPERT, _("Expert"))]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)


class PersonByEmailForm(forms.Form):
    """Someone to add to the organization by their email (O1); someone new needs a name too.
    ``person``: the account with that email, if there is one; ``refusal`` says why that
    person cannot be added (already in the organization), or "" when they can."""

    email = forms.EmailField(label=_("Email"), max_length=254)
    name = forms.CharField(
        label=_("Name"),
        max_length=User._meta.get_field("name").max_length,
        required=False,
        help_text=_("Needed only for someone without an account yet."),
    )

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.person = None

    def refusal(self, person: User) -> str:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        email = (cleaned.get("email") or "").strip().lower()
        if not email:
            return cleaned
        cleaned["email"] = email
        self.person = User.objects.filter(email__iexact=email).first()
        if self.person is None:
            if not (cleaned.get("name") or "").strip():
                self.add_error("name", _("Nobody has an account with this email yet: give their name to make one."))
        elif refusal := self.refusal(self.person):
            self.add_error("email", refusal)
        return cleaned


class AddMemberForm(PersonByEmailForm):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices, initial=Role.EXPERT)
    invite = forms.BooleanField(
        label=_("Mail them a link to choose their own password"),
        required=False,
        initial=True,
        help_text=_("For someone new. Untick it to be shown a password to pass on yourself instead."),
    )

    def refusal(self, person: User) -> str:
        if person.memberships.filter(organization=self.organization).exists():
            return _("%(name)s is already a member.") % {"name": person.name}
        return ""


class AddClientForm(PersonByEmailForm):
    """O1, C3: a client by their email. Someone who is a member or a client of the
    organization already is said so, and nothing changes."""

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, organization=organization, prefix="client", **kwargs)

    def refusal(self, person: User) -> str:
        if person.memberships.filter(organization=self.organization).exists():
            return _("%(name)s is already a member; members can be granted credits as they are.") % {
                "name": person.name
            }
        if ClientAccount.objects.filter(organization=self.organization, user=person).exists():
            return _("%(name)s is already a client.") % {"name": person.name}
        return ""


class GroupNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=Group._meta.get_field("name").max_length)

    def __init__(self, *args, organization: Organization, group: Group | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization, self.group = organization, group

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Group.objects.filter(organization=self.organization, name__iexact=name)
        if self.group is not None:
            taken = taken.exclude(pk=self.group.pk)
        if taken.exists():
            raise ValidationError(_("There is a group with this name already."))
        return name


class SkillNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=Skill._meta.get_field("name").max_length)

    def __init__(self, *args, organization: Organization, skill: Skill | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization, self.skill = organization, skill

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Skill.objects.filter(organization=self.organization, name__iexact=name)
        if self.skill is not None:
            taken = taken.exclude(pk=self.skill.pk)
        if taken.exists():
            raise ValidationError(_("There is a skill with this name already."))
        return name


class MembersForm(forms.Form):
    """Which members belong to a group or have a skill: a checkbox each."""

    members = forms.TypedMultipleChoiceField(
        label=_("Members"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices: list[tuple[int, str]], label=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = choices
        if label is not None:
            self.fields["members"].label = label


class LengthsField(forms.CharField):
    """E2: the lengths a client may choose from, written "30, 60"; the first is the default."""

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return []
        lengths = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise ValidationError(_("Write whole minutes separated by commas, for example 30, 60."))
            lengths.append(int(part))
        return lengths

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(length) for length in value)
        return value

    def validate(self, value) -> None:
        super().validate(value)
        try:
            validate_lengths(value)
        except ValidationError:
            raise ValidationError(
                _("Give one or more lengths between 5 and 1440 minutes, for example 30, 60.")
            ) from None
        if len(set(value)) != len(value):
            raise ValidationError(_("Give each length once."))


class ServiceForm(forms.ModelForm):
    """E2: a service; its experts and skills are the organization's own."""

    lengths = LengthsField(
        label=_("Lengths (minutes)"),
        help_text=_("Separated by commas, for example 30, 60; the first is the default."),
    )

    class Meta:
        model = Service
        fields = ["name", "description", "lengths", "price", "requires_confirmation", "experts", "skills", "is_active"]
        labels = {
            "name": _("Name"),
            "description": _("Description"),
            "price": _("Price (credits, 0 = free)"),
            "requires_confirmation": _("The expert confirms each booking"),
            "experts": _("Experts who give it"),
            "skills": _("Skills"),
            "is_active": _("Can be booked"),
        }
        widgets = {
            "experts": forms.CheckboxSelectMultiple,
            "skills": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.organization = organization
        experts = self.fields["experts"]
        experts.queryset = User.objects.filter(memberships__organization=organization).order_by("name", "id")
        experts.label_from_instance = lambda user: user.name
        experts.required = False
        self.fields["skills"].queryset = Skill.objects.filter(organization=organization)
        self.fields["skills"].required = False
        self.fields["price"].widget.attrs.update({"inputmode": "numeric"})
