from django.urls import path

from . import views

urlpatterns = [
    path("statut/", views.public_status, name="status_public"),
    path("app/incidents/", views.incident_list, name="status_incidents"),
    path("app/incidents/nouveau/", views.incident_new, name="status_incident_new"),
    path("app/incidents/<int:pk>/", views.incident_detail, name="status_incident"),
    path("app/incidents/<int:pk>/suivi/", views.incident_update_new,
         name="status_incident_update"),
    path("app/incidents/<int:pk>/supprimer/", views.incident_remove,
         name="status_incident_delete"),
]
