"""ASGI entry point: HTTP (Django) and websockets (Channels) in one process type."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "permanence.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from permanence.core.startup_gc import freeze_loaded_code  # noqa: E402
from permanence.desk.webhook import TelephonyFastPath  # noqa: E402
from permanence.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The PBX's call events skip Django's middleware stack (see desk/webhook.py).
        "http": TelephonyFastPath(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# The code is loaded: out of the garbage collector's way (core/startup_gc.py).
freeze_loaded_code()
