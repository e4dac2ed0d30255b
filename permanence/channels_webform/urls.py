from django.urls import path

from . import views

app_name = "channels_webform"

urlpatterns = [
    path("", views.contact, name="operator"),
    path("<slug:slug>/", views.contact, name="account"),
]
