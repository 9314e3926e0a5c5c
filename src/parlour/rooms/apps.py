from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "parlour.rooms"
    label = "rooms"
    verbose_name = "Video rooms"
