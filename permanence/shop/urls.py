"""The storefront's cart, checkout and the buyer's order pages (mounted at "/")."""

from django.urls import path

from . import views_public as views

app_name = "shop"

urlpatterns = [
    path("panier/", views.cart_view, name="cart"),
    path("panier/ajouter/", views.cart_add, name="cart_add"),
    path("panier/ligne/<int:line_id>/", views.cart_line_update, name="cart_line_update"),
    path("panier/ligne/<int:line_id>/supprimer/", views.cart_line_remove,
         name="cart_line_remove"),
    path("commande/", views.checkout, name="checkout"),
    path("commande/paiement/", views.checkout_payment, name="checkout_payment"),
    path("commande/<str:reference>/", views.order_detail, name="order_detail"),
    path("commande/<str:reference>/payer/", views.order_pay, name="order_pay"),
    path("commande/<str:reference>/merci/", views.order_thanks, name="order_thanks"),
]
