from django.urls import URLPattern, path  # noqa: F401  (the areas add their paths)

app_name = "desk"

# Each area of the desk adds its pages here (calls, consignes, call backs, forwarding).
urlpatterns: list[URLPattern] = [
]
