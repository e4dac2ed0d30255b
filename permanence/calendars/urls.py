from django.urls import path

from . import views as views_settings

urlpatterns = [
    path("parametres/", views_settings.settings_index, name="settings"),
    path("parametres/annonces/", views_settings.announcement_list, name="announcements"),
    path("parametres/annonces/<int:pk>/supprimer/", views_settings.announcement_remove,
         name="announcement_delete"),
    path("comptes/<int:pk>/calendrier/", views_settings.account_calendar,
         name="account_calendar"),
]
