"""Attachments are stored under generated names, checked by content (core.uploads), never
served inline."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile

from permanence.core import uploads
from permanence.core.uploads import safe_filename

from .models import Attachment, Message

__all__ = ["MAX_ATTACHMENT_BYTES", "read_upload", "safe_filename", "store"]

POLICY = uploads.ATTACHMENT
MAX_ATTACHMENT_BYTES = POLICY.max_bytes


def read_upload(upload: Any) -> tuple[str, bytes]:
    """(filename, content) from an UploadedFile or a (name, bytes) pair."""
    if isinstance(upload, tuple):
        return upload[0], upload[1]
    data = upload.read()
    return getattr(upload, "name", "piece-jointe"), data


def store(message: Message, upload: Any) -> Attachment:
    """Every path that adds a file to a conversation ends here: checked first (size declared
    before reading, content, dimensions, archives), refused with UploadRefused — a 4xx with
    the error on the "attachments" field — before anything is written."""
    checked = uploads.check(upload, POLICY, field="attachments")
    _name, data = read_upload(upload)
    attachment = Attachment(message=message, filename=checked.filename,
                            content_type=checked.content_type, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest())
    attachment.file.save("blob", ContentFile(data), save=False)
    attachment.save()
    return attachment
