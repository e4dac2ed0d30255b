from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("", views.webhook_list, name="webhooks"),
    path("<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("<int:pk>/supprimer/", views.webhook_delete, name="webhook_delete"),
    path("envois/<int:delivery_id>/renvoyer/", views.delivery_redeliver,
         name="delivery_redeliver"),
]
