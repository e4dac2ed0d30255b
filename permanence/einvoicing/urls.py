from django.urls import path

from . import views

app_name = "einvoicing"

# Mounted under /app/facturation/ (beside billing's pages, which do not know this app).
urlpatterns = [
    path("plateforme/", views.platform, name="platform"),
    path("plateforme/<str:number>/retransmettre/", views.retransmit, name="retransmit"),
    path("e-reporting/", views.ereporting_page, name="ereporting"),
    path("e-reporting/json/", views.ereporting_json, name="ereporting_json"),
]
