from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "parlour.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
