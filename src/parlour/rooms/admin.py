from django.contrib import admin

from .models import Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    """V1: rooms follow their meetings; they are read here, never edited."""

    list_display = ["meeting", "organization", "platform", "state", "start", "end"]
    list_filter = ["platform", "state", "organization"]
    search_fields = ["name", "meeting__subject"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
