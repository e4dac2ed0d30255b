from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("compte/", views.switch_account, name="switch"),
    path("profil/", views.profile, name="profile"),
    path("demandes/", views.requests_list, name="requests"),
    path("demandes/nouvelle/", views.request_new, name="request_new"),
    path("demandes/<int:pk>/", views.request_detail, name="request_detail"),
    path("demandes/<int:pk>/repondre/", views.request_reply, name="request_reply"),
    path("demandes/piece-jointe/<int:attachment_id>/", views.request_attachment,
         name="request_attachment"),
    # Sections not built yet; /espace/demandes/ above takes precedence over this pattern.
    path("<slug:name>/", views.section, name="section"),
]
