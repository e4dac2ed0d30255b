from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("app/avis/", views.board, name="board"),
    path("app/avis/<int:pk>/", views.detail, name="detail"),
    path("avis/", views.leave, name="leave"),
]
