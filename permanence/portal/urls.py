from django.urls import path

from . import views, views_activity, views_orders, views_quotes

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
    path("activite/", views_activity.activity_list, name="activity"),
    path("activite/<int:pk>/", views_activity.activity_detail, name="activity_detail"),
    path("activite/<int:pk>/consigne/", views_activity.activity_instruction,
         name="activity_instruction"),
    path("commandes/", views_orders.orders, name="orders"),
    path("commandes/<str:reference>/", views_orders.order_detail, name="order_detail"),
    path("commandes/<str:reference>/recapitulatif.pdf", views_orders.order_pdf,
         name="order_pdf"),
    path("devis/", views_quotes.quotes, name="quotes"),
    # Sections not built yet; /espace/demandes/ above takes precedence over this pattern.
    path("<slug:name>/", views.section, name="section"),
]
