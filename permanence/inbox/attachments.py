"""Attachments are stored under generated names, checked by content, never served inline."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from permanence.core.errors import DomainError

from .models import Attachment, Message

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

# Magic numbers of the types we accept; anything else is stored as application/octet-stream
# and always downloaded, never rendered.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),  # also docx/xlsx/odt
    (b"\xd0\xcf\x11\xe0", "application/msword"),
]


def sniff(head: bytes) -> str:
    for magic, mime in SIGNATURES:
        if head.startswith(magic):
            return mime
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<script")):
        return "application/octet-stream"
    return "text/plain"


def safe_filename(name: str) -> str:
    name = (name or "piece-jointe").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return cleaned.strip(". ")[:200] or "piece-jointe"


def read_upload(upload: Any) -> tuple[str, bytes]:
    """(filename, content) from an UploadedFile or a (name, bytes) pair."""
    if isinstance(upload, tuple):
        return upload[0], upload[1]
    data = upload.read()
    return getattr(upload, "name", "piece-jointe"), data


def store(message: Message, upload: Any) -> Attachment:
    name, data = read_upload(upload)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise DomainError("too_large", _("La pièce jointe « %(n)s » dépasse 10 Mo.") % {
            "n": safe_filename(name)}, status=413)
    attachment = Attachment(message=message, filename=safe_filename(name),
                            content_type=sniff(data[:512]), size=len(data),
                            sha256=hashlib.sha256(data).hexdigest())
    attachment.file.save("blob", ContentFile(data), save=False)
    attachment.save()
    return attachment
