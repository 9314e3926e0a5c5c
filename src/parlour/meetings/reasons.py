"""The lists people choose a reason from (L3, L6, L9, L13). A chosen reason may carry a
free note; L7 asks the client for a written reason instead."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RejectReason(models.TextChoices):
    NOT_AVAILABLE = "not_available", _("I am not available at this time")
    NOT_MY_FIELD = "not_my_field", _("The subject is outside my expertise")
    PRICE = "price", _("The price does not suit me")
    NO_LONGER_NEEDED = "no_longer_needed", _("The meeting is no longer needed")
    OTHER = "other", _("Another reason")


class ExpertCancelReason(models.TextChoices):
    ILLNESS = "illness", _("Illness")
    SCHEDULE_CONFLICT = "schedule_conflict", _("A conflict in my schedule")
    EMERGENCY = "emergency", _("An emergency")
    CLIENT_REQUEST = "client_request", _("The client asked for it")
    OTHER = "other", _("Another reason")
