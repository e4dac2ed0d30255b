"""The site editor (administrators), mounted at /app/site/."""

from django.urls import path

from . import views_staff as views

app_name = "site_admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("offres/", views.offers, name="offers"),
    path("offres/nouvelle/", views.offer_create, name="offer_create"),
    path("offres/<int:pk>/", views.offer_edit, name="offer_edit"),
    path("offres/<int:pk>/publication/", views.offer_publish, name="offer_publish"),
    path("pages/", views.pages, name="pages"),
    path("pages/nouvelle/", views.page_create, name="page_create"),
    path("pages/<int:pk>/", views.page_edit, name="page_edit"),
    path("cgv/", views.terms_list, name="terms"),
    path("cgv/nouvelle/", views.terms_create, name="terms_create"),
    path("cgv/<int:pk>/", views.terms_edit, name="terms_edit"),
    path("cgv/<int:pk>/publier/", views.terms_publish, name="terms_publish"),
]
