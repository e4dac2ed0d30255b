"""The desk's API: telephony events in, calls out (the routes are added by desk.api_calls)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["desk"])

from .api_calls import router as calls_router  # noqa: E402

router.add_router("", calls_router)
from .api_consignes import router as consignes_router  # noqa: E402

router.add_router("", consignes_router)
