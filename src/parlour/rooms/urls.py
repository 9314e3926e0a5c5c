from django.urls import path

from . import views

app_name = "rooms"

urlpatterns = [
    path("meetings/<int:meeting_id>/join/", views.join_meeting, name="join_meeting"),
    path("join/", views.join_with_key, name="join_key"),
    path("join/<str:token>/", views.join_link, name="join_link"),
    path("rooms/jitsi/callback/", views.jitsi_callback, name="jitsi_callback"),
    path("rooms/<str:name>/", views.room, name="room"),
    path("rooms/<str:name>/media-check", views.media_check, name="media_check"),
    path("rooms/<str:name>/left/", views.left, name="left"),
]
