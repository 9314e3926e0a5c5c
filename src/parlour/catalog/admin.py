"""Admin area (I5) for services, skills and expert profiles (E1, E2)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Q

from parlour.accounts.models import Membership

from .models import ExpertProfile, Service, Skill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    list_filter = ["organization"]
    search_fields = ["name"]


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "organization",
            "name",
            "description",
            "lengths",
            "price",
            "requires_confirmation",
            "experts",
            "skills",
            "is_active",
        ]
        help_texts = {
            "lengths": "Lengths in minutes a client may choose from, the default first, e.g. [30, 60].",
            "price": "Whole credits; 0 = free.",
            "requires_confirmation": "On: the expert must approve each booking (marketplace). "
            "Off: a booking is agreed at once (agent calendar).",
        }

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization")
        if organization is None:
            return cleaned
        members = set(Membership.objects.filter(organization=organization).values_list("user_id", flat=True))
        strangers = [u.name for u in cleaned.get("experts") or [] if u.pk not in members]
        if strangers:
            self.add_error("experts", f"Not members of {organization}: {', '.join(strangers)}.")
        foreign = [s.name for s in cleaned.get("skills") or [] if s.organization_id != organization.pk]
        if foreign:
            self.add_error("skills", f"Skills of another organization: {', '.join(foreign)}.")
        return cleaned


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    """E2: name, lengths, price in credits, its experts, and whether it needs confirmation."""

    form = ServiceForm
    list_display = ["name", "organization", "lengths", "price", "requires_confirmation", "is_active"]
    list_filter = ["organization", "requires_confirmation", "is_active"]
    search_fields = ["name", "description"]
    filter_horizontal = ["experts", "skills"]
    list_select_related = ["organization"]


class ExpertProfileForm(forms.ModelForm):
    class Meta:
        model = ExpertProfile
        fields = ["membership", "bio", "photo", "time_zone", "skills"]

    def clean(self):
        cleaned = super().clean()
        membership = cleaned.get("membership")
        skills = cleaned.get("skills") or []
        if membership and any(s.organization_id != membership.organization_id for s in skills):
            raise ValidationError("Choose skills of the expert's own organization.")
        return cleaned


@admin.register(ExpertProfile)
class ExpertProfileAdmin(admin.ModelAdmin):
    """E1: the profile clients see. Star ratings are never shown to clients; the admin sees
    their average here."""

    form = ExpertProfileForm
    list_display = ["__str__", "organization_name", "time_zone", "average_stars", "ratings"]
    list_filter = ["membership__organization", "skills"]
    search_fields = ["membership__user__name", "membership__user__email", "bio"]
    filter_horizontal = ["skills"]
    readonly_fields = ["average_stars", "ratings"]
    autocomplete_fields = ["membership"]

    def get_queryset(self, request):
        meetings = "membership__user__meetings_as_expert"
        stars = f"{meetings}__statements__stars"
        rated = Q(
            **{
                f"{meetings}__organization": F("membership__organization"),
                f"{meetings}__statements__side": "client",
                f"{stars}__isnull": False,
            }
        )
        return (
            super()
            .get_queryset(request)
            .select_related("membership__user", "membership__organization")
            .annotate(average=Avg(stars, filter=rated), count=Count(stars, filter=rated))
        )

    @admin.display(description="organization", ordering="membership__organization__name")
    def organization_name(self, profile: ExpertProfile) -> str:
        return profile.membership.organization.name

    @admin.display(description="average stars", ordering="average")
    def average_stars(self, profile: ExpertProfile) -> str:
        average = getattr(profile, "average", None)
        return f"{average:.1f}" if average is not None else "-"

    @admin.display(description="star ratings", ordering="count")
    def ratings(self, profile: ExpertProfile) -> int:
        return getattr(profile, "count", 0)
