"""What the desk registers once the apps are loaded (DeskConfig.ready())."""

from __future__ import annotations
