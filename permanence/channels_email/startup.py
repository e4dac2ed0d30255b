"""What the e-mail channel registers once the apps are loaded (ChannelsEmailConfig.ready())."""

from __future__ import annotations

from permanence.inbox.delivery import sender_register

from .outbound import send_acknowledgement, send_reply

# The inbox sends e-mail through what its channels register: it does not import them.
sender_register(reply=send_reply, acknowledgement=send_acknowledgement)
