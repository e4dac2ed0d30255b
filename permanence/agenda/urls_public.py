"""Pages without login: the public booking page of an account, the contact's link to cancel
or move, and the resources' ICS feeds."""

from django.urls import path

from . import views_feed, views_public

app_name = "agenda_public"

urlpatterns = [
    path("rdv/gerer/<str:token>/", views_public.manage, name="manage"),
    path("rdv/<slug:slug>/", views_public.booking_page, name="booking"),
    path("rdv/<slug:slug>/creneaux/", views_public.booking_slots, name="booking_slots"),
    path("agenda/ics/<str:token>.ics", views_feed.ics_feed, name="ics"),
]
