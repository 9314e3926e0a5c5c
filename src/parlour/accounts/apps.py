from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "parlour.accounts"
    label = "accounts"
    verbose_name = "People and organizations"
