from django.apps import AppConfig


class AvailabilityConfig(AppConfig):
    name = "parlour.availability"
    label = "availability"
    verbose_name = "Free dates"
