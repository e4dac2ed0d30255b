"""Public pages, mounted at the site's root: /faq/ and /aide/<slug>/."""

from django.urls import path

from . import views_public

app_name = "knowledge_public"

urlpatterns = [
    path("faq/", views_public.faq, name="faq"),
    path("faq/<int:pk>/", views_public.faq_article, name="faq_article"),
    path("aide/article/<int:pk>/vote/", views_public.vote, name="vote"),
    path("aide/<slug:slug>/", views_public.help_page, name="help"),
    path("aide/<slug:slug>/<int:pk>/", views_public.help_article, name="help_article"),
]
