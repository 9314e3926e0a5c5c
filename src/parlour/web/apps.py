from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "parlour.web"
    label = "web"
    verbose_name = "Web pages"
