from __future__ import annotations

from typing import Any

import pytest

from testkit.payments import standin  # noqa: F401 (the fixture)


@pytest.fixture
def order(account: Any, client_user: Any) -> Any:
    from testkit.shop import make_order

    return make_order(account, client_user)


@pytest.fixture
def sepa_order(account: Any, client_user: Any) -> Any:
    from testkit.shop import make_order

    return make_order(account, client_user, payment_method="sepa")
