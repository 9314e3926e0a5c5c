from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "parlour.calendars"
    label = "calendars"
    verbose_name = "Calendars"
