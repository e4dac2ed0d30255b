from django.urls import path

from . import views, views_setup, views_sync

app_name = "agenda"

urlpatterns = [
    path("", views.home, name="home"),
    path("rendez-vous/nouveau/", views.book, name="book"),
    path("rendez-vous/<int:pk>/", views.appointment, name="appointment"),
    path("rendez-vous/<int:pk>/deplacer/", views.move, name="move"),
    path("rendez-vous/<int:pk>/annuler/", views.cancel, name="cancel"),
    path("rendez-vous/<int:pk>/statut/", views.mark, name="mark"),
    path("creneaux/", views.slots_fragment, name="slots"),
    path("appel/<int:call_id>/creneaux/", views.call_slots, name="call_slots"),
    path("appel/<int:call_id>/reserver/", views.call_book, name="call_book"),
    path("parametres/", views_setup.setup_home, name="setup"),
    path("parametres/<int:account_id>/", views_setup.account_setup, name="account_setup"),
    path("ressources/<int:pk>/", views_setup.resource_detail, name="resource"),
    path("ressources/<int:pk>/exceptions/", views_setup.exception_add, name="exception_add"),
    path("exceptions/<int:pk>/supprimer/", views_setup.exception_remove,
         name="exception_remove"),
    path("ressources/<int:pk>/ics/revoquer/", views_setup.ics_revoke, name="ics_revoke"),
    path("ressources/<int:pk>/synchroniser/", views_sync.sync_now, name="sync_now"),
]
