from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "parlour.conversations"
    label = "conversations"
