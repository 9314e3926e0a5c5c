from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "parlour.notifications"
    label = "notifications"
