"""core/cursors.py: a cursor carries back what it was given; anything forged is refused by
the checks, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from permanence.core.cursors import (
    InvalidCursor,
    aware_datetime,
    cursor_decode,
    cursor_encode,
    is_bigint,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10)


@given(json_values)
def test_a_cursor_gives_back_its_value_and_needs_no_escaping_in_a_url(value: Any) -> None:
    cursor = cursor_encode(value)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert cursor_decode(cursor) == value


@pytest.mark.parametrize("cursor", ["pas-un-curseur", "é", "AAAA", "e30x", "!!!!"])
def test_what_is_not_base64_json_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        cursor_decode(cursor)


def test_aware_datetime() -> None:
    assert aware_datetime("2026-11-23T09:00:00+01:00") == datetime(2026, 11, 23, 8, tzinfo=UTC)
    for value in ("2026-11-23T09:00:00", "hier", 1_700_000_000, None, ["2026-11-23"]):
        assert aware_datetime(value) is None


def test_is_bigint() -> None:
    assert is_bigint(0) and is_bigint(2**63 - 1)
    assert not is_bigint(0, minimum=1)
    for value in (-1, 2**63, True, 1.0, "1", None):
        assert not is_bigint(value)
