"""People, organizations, memberships, groups, add-ons and per-organization settings
(SPEC §1, O1–O5)."""

import hashlib
import re
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(zone)s is not a known time zone.") % {"zone": repr(value)})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("A person needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account: signs in with email and password (O1). The same account can
    be a member (admin or expert) of organizations and a client of several organizations."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May open the admin area.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Organization(models.Model):
    """A tenant: a marketplace or a company (SPEC §0). Its add-ons are switched by an admin
    only (O4)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    reviews_enabled = models.BooleanField("reviews add-on", default=False)
    summaries_enabled = models.BooleanField("summaries add-on", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def settings(self) -> "OrganizationSettings":
        try:
            return self.settings_row
        except OrganizationSettings.DoesNotExist:
            row, _ = OrganizationSettings.objects.get_or_create(organization=self)
            self.settings_row = row
            return row


def _percent() -> list:
    return [MinValueValidator(0), MaxValueValidator(100)]


def _hours(limit: int = 24 * 365) -> list:
    return [MinValueValidator(0), MaxValueValidator(limit)]


class OrganizationSettings(models.Model):
    """O5: every number of the rules is a setting of the organization, with the spec's
    default. Durations are whole hours or minutes, as people state them."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="settings_row")
    cancellation_notice_hours = models.PositiveIntegerField(default=48, validators=_hours())
    late_cancellation_charge_percent = models.PositiveIntegerField(default=50, validators=_percent())
    platform_share_percent = models.PositiveIntegerField(default=20, validators=_percent())
    join_window_minutes = models.PositiveIntegerField(default=15, validators=_hours(24 * 60))
    evaluation_deadline_hours = models.PositiveIntegerField(default=168, validators=_hours())
    review_bonus_credits = models.PositiveIntegerField(default=10, validators=_hours(10**6))
    booking_window_days = models.PositiveIntegerField(default=30, validators=_hours(3650))
    default_length_minutes = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    slot_step_minutes = models.PositiveIntegerField(
        "slots start every (minutes)", default=15, choices=[(m, f"{m} min") for m in (5, 10, 15, 20, 30, 60)]
    )
    max_upcoming_guest_meetings = models.PositiveIntegerField(
        "at most upcoming self-booked meetings per guest with one expert",
        default=2,
        validators=_hours(1000),
    )
    reminder_hours_before = models.PositiveIntegerField(default=24, validators=_hours())
    link_minutes_before = models.PositiveIntegerField(default=60, validators=_hours(24 * 60))
    evaluation_reminder_hours_after = models.PositiveIntegerField(default=24, validators=_hours())
    # V1: where the organization's meetings happen. Parlour's own room needs nothing else;
    # Jitsi Meet runs on the organization's server (docs/rooms.md).
    video_platform = models.CharField(
        max_length=20,
        choices=[("builtin", "Parlour's own room"), ("jitsi", "Jitsi Meet")],
        default="builtin",
    )
    jitsi_domain = models.CharField(
        "Jitsi Meet server", max_length=200, blank=True, help_text="The server's name, for example meet.example.org."
    )
    jitsi_app_id = models.CharField(
        "Jitsi app id", max_length=100, blank=True, help_text="For a server with token authentication."
    )
    jitsi_app_secret = models.CharField(
        "Jitsi app secret", max_length=200, blank=True, help_text="Signs the tokens; keep it secret."
    )

    class Meta:
        verbose_name = "settings"
        verbose_name_plural = "settings"

    def __str__(self) -> str:
        return f"Settings of {self.organization}"

    def clean(self) -> None:
        if self.video_platform == "jitsi" and not self.jitsi_domain.strip():
            raise ValidationError({"jitsi_domain": _("Name the Jitsi Meet server to hold meetings on Jitsi.")})
        if bool(self.jitsi_app_id.strip()) != bool(self.jitsi_app_secret.strip()):
            raise ValidationError(_("Give both the Jitsi app id and its secret, or neither."))
        domain = self.jitsi_domain.strip().lower()
        if domain and not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?", domain):
            raise ValidationError({"jitsi_domain": _("Give the server's name only, like meet.example.org.")})
        self.jitsi_domain = domain


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    EXPERT = "expert", _("Expert")


class Membership(models.Model):
    """A member of an organization with one role (O1)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EXPERT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user.name} ({self.role}) in {self.organization}"


class Group(models.Model):
    """Members of one group see each other's meetings in the Everyone tab (O2)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(Membership, related_name="groups", blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unique_group_name")]

    def __str__(self) -> str:
        return self.name


class ClientAccount(models.Model):
    """A registered person as a client of one organization; their wallet is kept per
    organization (C2)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="clients")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="client_accounts")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_client_per_org")]

    def __str__(self) -> str:
        return f"{self.user.name} as client of {self.organization}"


class Guest(models.Model):
    """A client without an account: a name, an email and maybe a phone (SPEC §0)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="guests")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One guest per address and organization, whatever the letter case (B1, X1).
            models.UniqueConstraint(Lower("email"), "organization", name="one_guest_per_email")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> (guest)"


class ApiToken(models.Model):
    """A personal API token (I2). Only a hash is kept; the token is shown once."""

    PREFIX = "plr_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The token's last characters, to tell them apart.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple["ApiToken", str]:
        token = cls.PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(user=user, name=name, digest=cls.hash(token), hint=token[-6:])
        return row, token
