from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Project wiring: `seed_demo` fills every app with demo data, so it sits above them all."""

    name = "permanence.demo"
    label = "demo"
