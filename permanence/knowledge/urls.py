"""Staff pages, mounted at /app/connaissances/."""

from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("nouveau/", views.article_create, name="create"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("<int:pk>/", views.article_detail, name="detail"),
    path("<int:pk>/modifier/", views.article_edit, name="edit"),
    path("<int:pk>/statut/", views.article_status, name="status"),
    path("<int:pk>/relu/", views.article_review, name="review"),
]
