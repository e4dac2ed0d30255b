from django.urls import path

from . import views

app_name = "planning"

urlpatterns = [
    path("app/planning/", views.week, name="week"),
    path("app/planning/creneaux/nouveau/", views.shift_new, name="shift_new"),
    path("app/planning/creneaux/<int:pk>/", views.shift_edit, name="shift_edit"),
    path("app/planning/creneaux/<int:pk>/supprimer/", views.shift_delete, name="shift_delete"),
    path("app/planning/copier/", views.week_copy, name="week_copy"),
    path("app/barometre/", views.pulse, name="pulse"),
]
