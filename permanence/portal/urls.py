from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("compte/", views.switch_account, name="switch"),
    path("profil/", views.profile, name="profile"),
    path("<slug:name>/", views.section, name="section"),
]
