from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("", views.review_list, name="list"),
    path("grilles/", views.grid_list, name="grids"),
    path("grilles/<int:pk>/", views.grid_detail, name="grid"),
    path("grilles/<int:pk>/criteres/", views.criterion_add, name="criterion_add"),
    path("grilles/<int:pk>/criteres/<int:criterion_pk>/", views.criterion_edit,
         name="criterion"),
    path("grilles/<int:pk>/criteres/<int:criterion_pk>/supprimer/", views.criterion_delete,
         name="criterion_delete"),
    path("evaluer/appel/<int:pk>/", views.review_call, name="review_call"),
    path("evaluer/dossier/<int:pk>/", views.review_conversation, name="review_conversation"),
    path("<int:pk>/", views.review_detail, name="review"),
    path("<int:pk>/lu/", views.review_acknowledge, name="acknowledge"),
]
