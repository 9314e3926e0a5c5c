from django.apps import AppConfig
from django.db.models.signals import post_delete


class ConversationsConfig(AppConfig):
    name = "parlour.conversations"
    label = "conversations"

    def ready(self) -> None:
        from parlour.accounts.models import Membership

        post_delete.connect(_membership_deleted, sender=Membership, dispatch_uid="conversations.member_left")


def _membership_deleted(sender, instance, **kwargs) -> None:
    """Whichever way a membership ends (the members' settings page, the admin, a deleted
    account), its person leaves the organization's conversations (O3, X3, N10)."""
    from . import domain

    domain.member_left(instance.user_id, instance.organization_id)
