"""Test and dev support, outside the production package (`permanence`, the only one installed):
builders for tests and benchmarks, and the local Stripe stand-in.

- `testkit.shop`: offers, terms and orders for the storefront tests, the authorization matrix
  and the benchmarks;
- `testkit.payments`: the stand-in on a free loopback port with settings pointed at it (the
  `standin` pytest fixture, `run_standin`, `signed`);
- `testkit.stripe_standin`: the stand-in itself (plain WSGI, no Django), also run by
  `manage.py stripe_standin` in the demo's payments test mode.
- `testkit.einvoicing_standin`: a plateforme agréée (AFNOR XP Z12-013 flow API, CDV
  lifecycle statuses; plain WSGI), run by `manage.py einvoicing_standin` in the demo's
  e-invoicing test mode and on a loopback port by permanence/einvoicing/tests.

Importable from the repository root: pytest's rootdir conftest, `python -m bench` and
`manage.py` all put it on sys.path. Production code never imports it (.importlinter).
"""
