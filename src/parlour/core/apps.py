from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "parlour.core"
    label = "core"
