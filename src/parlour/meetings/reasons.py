"""The lists people choose a reason from (L3, L6, L9, L13). A chosen reason may carry a
free note; L7 asks the client for a written reason instead."""

from django.db import models


class RejectReason(models.TextChoices):
    NOT_AVAILABLE = "not_available", "I am not available at this time"
    NOT_MY_FIELD = "not_my_field", "The subject is outside my expertise"
    PRICE = "price", "The price does not suit me"
    NO_LONGER_NEEDED = "no_longer_needed", "The meeting is no longer needed"
    OTHER = "other", "Another reason"


class ExpertCancelReason(models.TextChoices):
    ILLNESS = "illness", "Illness"
    SCHEDULE_CONFLICT = "schedule_conflict", "A conflict in my schedule"
    EMERGENCY = "emergency", "An emergency"
    CLIENT_REQUEST = "client_request", "The client asked for it"
    OTHER = "other", "Another reason"
