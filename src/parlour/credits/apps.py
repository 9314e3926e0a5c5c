from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "parlour.credits"
    label = "credits"
    verbose_name = "Credits"
