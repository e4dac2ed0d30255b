"""Espace client › Aide, mounted at /espace/aide/ (before the portal's own URLs)."""

from django.urls import path

from . import views_portal

app_name = "knowledge_portal"

urlpatterns = [
    path("", views_portal.article_list, name="list"),
    path("nouveau/", views_portal.article_create, name="create"),
    path("<int:pk>/modifier/", views_portal.article_edit, name="edit"),
    path("<int:pk>/statut/", views_portal.article_status, name="status"),
]
