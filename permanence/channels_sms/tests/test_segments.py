"""SMS length: GSM-7 (160 / 153 septets, extension characters count two), UCS-2 (70 / 67
UTF-16 code units, an emoji outside the BMP counts two)."""

from __future__ import annotations

from permanence.core.sms import GSM7, UCS2, Segments, sms_segments


def test_plain_french_text_is_gsm7_in_one_sms() -> None:
    body = "Bonjour, votre rendez-vous est confirmé mardi à 14h30. Merci !"  # é, à: GSM-7
    assert sms_segments(body) == Segments(GSM7, 1, len(body))


def test_gsm7_boundaries() -> None:
    assert sms_segments("a" * 160) == Segments(GSM7, 1, 160)
    assert sms_segments("a" * 161) == Segments(GSM7, 2, 161)
    assert sms_segments("a" * 306) == Segments(GSM7, 2, 306)
    assert sms_segments("a" * 307) == Segments(GSM7, 3, 307)
    assert sms_segments("") == Segments(GSM7, 0, 0)


def test_extension_characters_count_two_septets() -> None:
    assert sms_segments("Prix : 12 €") == Segments(GSM7, 1, 12)
    assert sms_segments("€" * 80) == Segments(GSM7, 1, 160)
    assert sms_segments("€" * 81) == Segments(GSM7, 2, 162)
    assert sms_segments("[{~^|}]\\").chars == 16


def test_one_character_outside_gsm7_switches_to_ucs2() -> None:
    # Lower-case « ç », « ê », « ô », « À » are not in the GSM-7 table (« é », « à » are).
    assert sms_segments("Leçon").encoding == UCS2
    assert sms_segments("x" * 69 + "ê") == Segments(UCS2, 1, 70)
    assert sms_segments("x" * 70 + "ê") == Segments(UCS2, 2, 71)
    assert sms_segments("ê" * 134) == Segments(UCS2, 2, 134)
    assert sms_segments("ê" * 135) == Segments(UCS2, 3, 135)


def test_emoji_counts_utf16_code_units() -> None:
    assert sms_segments("Merci 😀") == Segments(UCS2, 1, 8)
    assert sms_segments("😀" * 35) == Segments(UCS2, 1, 70)
    assert sms_segments("😀" * 36) == Segments(UCS2, 2, 72)
