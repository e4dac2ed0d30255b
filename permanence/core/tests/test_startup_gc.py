"""The web process freezes its loaded code out of the garbage collector's sight (asgi.py)."""

from __future__ import annotations

import gc
import sys

from permanence.core.startup_gc import freeze_loaded_code


def test_the_loaded_code_is_frozen_with_every_view_module() -> None:
    gc.unfreeze()
    try:
        freeze_loaded_code()
        assert gc.get_freeze_count() > 10_000
        assert "permanence.inbox.views" in sys.modules  # the URLconf's views were loaded
    finally:
        gc.unfreeze()

