"""Services, skills and expert profiles (SPEC §2, E1–E2)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from parlour.accounts.models import Membership, Organization, User, validate_time_zone

MAX_LENGTH_MINUTES = 24 * 60
MAX_PRICE = 10**7


def validate_lengths(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Give at least one length in minutes."))
    for length in value:
        if not isinstance(length, int) or not 5 <= length <= MAX_LENGTH_MINUTES:
            raise ValidationError(
                _("%(length)s is not a length between 5 and %(most)s minutes.")
                % {"length": repr(length), "most": MAX_LENGTH_MINUTES}
            )


class Skill(models.Model):
    """A topic an expert is known for."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="skills")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unique_skill")]

    def __str__(self) -> str:
        return self.name


class ExpertProfile(models.Model):
    """E1: what clients see of an expert. Star ratings are never shown to clients."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="profile")
    bio = models.TextField(blank=True)
    photo = models.FileField(upload_to="experts/", blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    skills = models.ManyToManyField(Skill, related_name="experts", blank=True)
    # E3: optional limits on how the expert can be booked.
    minimum_notice_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(60 * 24 * 365)])
    buffer_before_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(24 * 60)])
    buffer_after_minutes = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(24 * 60)])
    max_meetings_per_day = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)])

    def __str__(self) -> str:
        return self.membership.user.name

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def organization(self) -> Organization:
        return self.membership.organization


class Service(models.Model):
    """E2: what can be booked. ``lengths`` lists the lengths a client may choose from; the
    first is the default. ``price`` is whole credits (0 = free)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    lengths = models.JSONField(default=list, validators=[validate_lengths])
    price = models.PositiveIntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_PRICE)])
    requires_confirmation = models.BooleanField(default=False)
    experts = models.ManyToManyField(User, related_name="services", blank=True)
    skills = models.ManyToManyField(Skill, related_name="services", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.lengths:
            self.lengths = [self.organization.settings.default_length_minutes]
        super().save(*args, **kwargs)

    @property
    def default_length(self) -> int:
        return self.lengths[0]
