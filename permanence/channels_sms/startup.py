"""What the SMS channel registers once the apps are loaded (ChannelsSmsConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every
from permanence.core.sms import SmsBackend, sms_backend_register, sms_status_listen
from permanence.inbox.reach import ReplyChannel, reply_channel_register

from . import services
from .outbound import REPLY_REF, on_reply_status, reply_address_of, send_reply
from .tasks import reprocess_events, sweep

# Domain apps send SMS through core.sms: they do not import this app.
sms_backend_register(SmsBackend(send=services.backend_send, status=services.backend_status))
# Registered after the e-mail channel (INSTALLED_APPS order): e-mail stays preferred.
reply_channel_register(ReplyChannel(name="sms", address_of=reply_address_of, send=send_reply))
sms_status_listen(REPLY_REF, on_reply_status)

every(timedelta(minutes=1), name="channels_sms.reprocess_events")(reprocess_events)
every(timedelta(minutes=2), name="channels_sms.sweep")(sweep)
