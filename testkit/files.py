"""Real files, built byte by byte, for the upload checks' tests (permanence.core.uploads):
small valid ones that must pass, and the hostile ones — image bombs, zip bombs, disguised
pages, programs — that must be refused."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def png(width: int = 2, height: int = 2) -> bytes:
    """A PNG whose header says width × height. Its pixel data holds at most two rows: a
    50,000 × 50,000 one is a few hundred bytes that would take 7.5 GB to decode."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress((b"\x00" + b"\x00" * 3 * width) * min(height, 2))
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", rows)
            + _png_chunk(b"IEND", b""))


def gif(width: int = 3, height: int = 2) -> bytes:
    """A one-colour GIF89a of width × height."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + image + b"\x3b"


def jpeg_header(width: int, height: int, *, app_bytes: int = 0) -> bytes:
    """The start of a baseline JPEG up to its frame header (SOF0), after an APP1 segment of
    `app_bytes` (where EXIF lives) — what the check reads; no scan data follows."""
    out = b"\xff\xd8"
    if app_bytes:
        out += b"\xff\xe1" + struct.pack(">H", app_bytes + 2) + b"\x00" * app_bytes
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return out + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


def pdf(text: str = "Bonjour") -> bytes:
    """A minimal valid one-page PDF (objects, cross-reference table, trailer)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return out


def zip_of(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(megabytes: int = 5) -> bytes:
    """`megabytes` of zeros deflated: a few kilobytes, over 1000 times smaller."""
    return zip_of({"donnees.txt": b"\x00" * (megabytes * 1024 * 1024)})


def xlsx(entries: dict[str, bytes] | None = None) -> bytes:
    """The skeleton of an .xlsx (what tells it from other ZIP files), plus `entries`."""
    return zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                   **(entries or {})})


def docx(entries: dict[str, bytes] | None = None) -> bytes:
    return zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>",
                   **(entries or {})})


def lying_zip(declared_size: int = 3 * 1024**3) -> bytes:
    """One entry whose central directory claims `declared_size` bytes deflated from 1000,
    while those 1000 bytes are random and not deflate data at all: whoever inflates it fails
    (zlib error, bad CRC) — only a check reading the declared sizes can call it a bomb."""
    noise = random.Random(15).randbytes(1000)  # noqa: S311 (test data, not a secret)
    data = bytearray(zip_of({"rapport.txt": noise}, compression=zipfile.ZIP_STORED))
    at = data.rindex(b"PK\x01\x02")  # the central directory's entry
    data[at + 10:at + 12] = struct.pack("<H", zipfile.ZIP_DEFLATED)
    data[at + 24:at + 28] = struct.pack("<I", min(declared_size, 0xFFFFFFFE))
    local = data.index(b"PK\x03\x04")
    data[local + 8:local + 10] = struct.pack("<H", zipfile.ZIP_DEFLATED)
    return bytes(data)


def zip_claiming_entries(count: int) -> bytes:
    """A one-entry archive whose end-of-central-directory record claims `count` entries."""
    data = bytearray(zip_of({"a.txt": b"a"}))
    at = data.rindex(b"PK\x05\x06")
    data[at + 8:at + 12] = struct.pack("<HH", count, count)
    return bytes(data)


def windows_program() -> bytes:
    """The start of a PE executable: 'MZ', the DOS stub, 'PE' at the offset it names."""
    header = bytearray(b"MZ" + b"\x00" * 126)
    header[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(header) + b"PE\x00\x00" + b"\x00" * 64


HTML_PAGE = b"<!DOCTYPE html><html><body><p>Facture</p></body></html>"
SCRIPTED_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                b"<circle r='5'/></svg>")
INERT_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>'
