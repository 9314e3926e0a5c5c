from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "parlour.meetings"
    label = "meetings"
