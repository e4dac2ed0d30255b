from django.urls import path

from . import views, views_two_factor

app_name = "accounts"

urlpatterns = [
    path("comptes/", views.account_list, name="list"),
    path("comptes/nouveau/", views.account_create, name="create"),
    path("comptes/<int:pk>/", views.account_detail, name="detail"),
    path("comptes/<int:pk>/modifier/", views.account_edit, name="edit"),
    path("comptes/<int:pk>/affectations/", views.account_agents, name="agents"),
    path("comptes/<int:pk>/canaux/", views.channel_add, name="channel_add"),
    path("comptes/<int:pk>/canaux/<int:channel_id>/supprimer/", views.channel_remove,
         name="channel_remove"),
    path("comptes/<int:pk>/acces-client/", views.client_user_add, name="client_user_add"),
    path("equipe/", views.staff_list, name="staff"),
    path("equipe/nouveau/", views.staff_create, name="staff_create"),
    path("equipe/<int:user_id>/", views.staff_edit, name="staff_edit"),
    path("parametres/operateur/", views.operator_edit, name="operator"),
    path("profil/", views.profile, name="profile"),
    path("profil/securite/", views_two_factor.security, name="security"),
    path("equipe/<int:user_id>/double-authentification/reinitialiser/",
         views_two_factor.staff_two_factor_reset, name="staff_two_factor_reset"),
    path("jetons/<int:token_id>/revoquer/", views.token_revoke, name="token_revoke"),
]
