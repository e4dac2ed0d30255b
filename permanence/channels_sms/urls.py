from django.urls import path

from . import views

app_name = "sms"

urlpatterns = [
    path("desinscriptions/", views.opt_out_list, name="opt_outs"),
]
