"""A local stand-in for a *plateforme agréée* (PA) speaking the AFNOR XP Z12-013 flow API, for
tests and the demo's test mode.

Plain WSGI (no Django): `PlatformStandIn(token=...)` is the application; `make_standin_server`
serves it on a loopback port. It implements the part of the Flow Service we use:

- POST /v1/flows (multipart/form-data: a `flowInfo` JSON part — trackingId, name,
  processingRule, flowSyntax, flowProfile, sha256 — and a `file` part) → 202 with the
  FullFlowInfo (flowId, submittedAt + the flowInfo). A trackingId already deposited → 409
  (a flow is never taken twice); a sha256 that does not match the file → 400;
- GET /v1/flows/{flowId} (docType=Metadata, the default): the Flow (flowType, flowDirection,
  acknowledgement {status Ok|Error|Pending, details}, submittedAt, updatedAt) and its
  `lifecycle`: the CDV statuses (code, at, reason) the platform has so far. docType=Original
  returns the file deposited;
- POST /v1/flows/search {"where": {"trackingId": …}} → {"results": [Flow…], "total": n};
- a Bearer token on every call (401 otherwise), AFNOR's error shape {"errorCode",
  "errorMessage"}.

What a platform does in the background is done when the flow is read: a flow whose content
passes the minimal checks (a PDF carrying a Factur-X CII XML, or the CII XML itself; an
invoice number; the seller's and the buyer's SIREN) is "200 Déposée" and then moves one step
per read through `script` (203 Mise à disposition, 205 Approuvée by default); an invalid one is
"213 Rejetée" with the reasons. Control endpoints for tests: POST
/_control/flows/{flowId}/status?code=212&reason=… (a status from the buyer's side),
POST /_control/fail-next?count=N&status=503, GET /_control/flows (what was deposited).
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

Response = tuple[str, list[tuple[str, str]], bytes]

SYNTAXES = ("CII", "UBL", "Factur-X", "CDAR", "FRR")
DEFAULT_SCRIPT = ("203", "205")
REJECTED = "213"
CII_NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
          "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[bytes, str]]:
    """multipart/form-data → {part name: (content, content type)}."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    parts: dict[str, tuple[bytes, str]] = {}
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            parts[str(name)] = (bytes(payload), part.get_content_type())
    return parts


def check_content(syntax: str, content: bytes) -> tuple[list[dict[str, str]], str]:
    """The platform's minimal checks: (the problems found — empty: the flow is valid —, the
    invoice number read)."""
    from lxml import etree  # test-support module: lxml comes with factur-x

    xml = content
    if syntax == "Factur-X":
        if not content.startswith(b"%PDF"):
            return [_detail("file", "FORMAT_ERR", "Le fichier n'est pas un PDF.")], ""
        import facturx  # test-support module: the factur-x library reads the PDF

        try:
            _name, xml = facturx.get_xml_from_pdf(io.BytesIO(content), check_xsd=False)
        except Exception:  # any unreadable PDF is a rejection, not a crash
            xml = b""
        if not xml:
            return [_detail("file", "FORMAT_ERR", "Aucun XML Factur-X dans le PDF.")], ""
    elif syntax == "CDAR":
        return check_cdar(content)
    elif syntax != "CII":
        return [], ""
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return [_detail("file", "FORMAT_ERR", "XML illisible.")], ""
    problems = []
    number = root.xpath("string(rsm:ExchangedDocument/ram:ID)", namespaces=CII_NS).strip()
    if not number:
        problems.append(_detail("BT-1", "NUMERO_ERR", "Numéro de facture absent."))
    agreement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/"
    for party, bt, label in (("SellerTradeParty", "BT-30", "du vendeur"),
                             ("BuyerTradeParty", "BT-47", "de l'acheteur")):
        siren = root.xpath(f"string({agreement}ram:{party}/ram:SpecifiedLegalOrganization/"
                           "ram:ID[@schemeID='0002'])", namespaces=CII_NS).strip()
        if len(siren) != 9 or not siren.isdigit():
            problems.append(_detail(bt, "SIREN_ERR", f"SIREN {label} absent ou invalide."))
    return problems, number


def check_cdar(content: bytes) -> tuple[list[dict[str, str]], str]:
    """A lifecycle message (CDAR) from the seller: the invoice it is about and the status."""
    from lxml import etree  # test-support module: lxml comes with factur-x

    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return [_detail("file", "FORMAT_ERR", "XML illisible.")], ""
    ref = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument/"
    number = root.xpath(f"string({ref}ram:IssuerAssignedID)", namespaces=CDAR_NS).strip()
    code = root.xpath(f"string({ref}ram:ProcessConditionCode)", namespaces=CDAR_NS).strip()
    if not number or code not in ("211", "212", "210", "205", "206", "207", "208"):
        return [_detail("MDT-87", "CDAR_ERR", "Facture ou statut absent du message.")], ""
    return [], number


CDAR_NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100",
           "ram": CII_NS["ram"]}


def _cdar_status(content: bytes) -> tuple[str, str]:
    from lxml import etree  # test-support module: lxml comes with factur-x

    root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    ref = "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument/"
    return (root.xpath(f"string({ref}ram:ProcessConditionCode)", namespaces=CDAR_NS).strip(),
            root.xpath(f"string({ref}ram:ProcessCondition)", namespaces=CDAR_NS).strip())


def _detail(item: str, code: str, message: str) -> dict[str, str]:
    return {"level": "Error", "item": item, "reasonCode": code, "reasonMessage": message}


class PlatformStandIn:
    def __init__(self, *, token: str, script: Iterable[str] = DEFAULT_SCRIPT) -> None:
        self.token = token
        self.script = tuple(script)
        self.flows: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.deposits: dict[str, int] = {}  # trackingId → POST /v1/flows accepted
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call
        self.fail_next: list[int] = []
        self.lock = threading.RLock()

    # --- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        status, headers, body = self.handle(environ)
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    def handle(self, environ: dict[str, Any]) -> Response:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if path.startswith("/_control/"):
            return self._control(method, path[len("/_control/"):], query)
        if not path.startswith("/v1/"):
            return _error(404, "NOT_FOUND", f"Unknown URL ({method} {path}).")
        with self.lock:
            self.requests.append((method, path))
            failing = self.fail_next.pop(0) if self.fail_next else 0
        if failing:
            return _error(failing, "UNAVAILABLE", "Service temporairement indisponible.")
        if environ.get("HTTP_AUTHORIZATION", "") != f"Bearer {self.token}":
            return _error(401, "UNAUTHORIZED", "Jeton d'accès absent ou invalide.")
        if method == "POST" and path == "/v1/flows":
            return self._deposit(body, environ.get("CONTENT_TYPE", ""))
        if method == "POST" and path == "/v1/flows/search":
            return self._search(body)
        if method == "GET" and path.startswith("/v1/flows/"):
            return self._get(path[len("/v1/flows/"):], query.get("docType", "Metadata"))
        return _error(404, "NOT_FOUND", f"Unknown URL ({method} {path}).")

    # --- Flow Service --------------------------------------------------------------------------

    def _deposit(self, body: bytes, content_type: str) -> Response:
        if not content_type.startswith("multipart/form-data"):
            return _error(400, "BAD_REQUEST", "multipart/form-data attendu.")
        parts = parse_multipart(body, content_type)
        if "flowInfo" not in parts or "file" not in parts:
            return _error(400, "BAD_REQUEST", "Parties flowInfo et file attendues.")
        try:
            info = json.loads(parts["flowInfo"][0])
        except ValueError:
            return _error(400, "BAD_REQUEST", "flowInfo n'est pas du JSON.")
        content = parts["file"][0]
        tracking = str(info.get("trackingId") or "") if isinstance(info, dict) else ""
        if not tracking or info.get("flowSyntax") not in SYNTAXES or not content:
            return _error(400, "BAD_REQUEST", "trackingId, flowSyntax et fichier requis.")
        digest = hashlib.sha256(content).hexdigest()
        if info.get("sha256") and info["sha256"] != digest:
            return _error(400, "SHA256_MISMATCH", "L'empreinte sha256 ne correspond pas.")
        problems, number = check_content(info["flowSyntax"], content)
        lifecycle_of = None
        with self.lock:
            if info["flowSyntax"] == "CDAR" and not problems:
                lifecycle_of = next((f for f in self.flows.values()
                                     if f["_number"] == number and f["flowType"] ==
                                     "CustomerInvoice"), None)
                if lifecycle_of is None:
                    problems = [_detail("MDT-87", "FACTURE_INCONNUE",
                                        f"Facture {number} inconnue de la plateforme.")]
            if tracking in self.deposits:
                return _error(409, "DUPLICATE_TRACKING_ID", "Ce trackingId a déjà été déposé.")
            flow_id = str(uuid.uuid4())
            now = _now()
            self.deposits[tracking] = 1
            self.files[flow_id] = content
            lifecycle = [{"code": "200", "at": now, "reason": ""}]
            if problems:
                lifecycle.append({"code": REJECTED, "at": now, "reason": " ; ".join(
                    p["reasonMessage"] for p in problems)})
            cdar = info["flowSyntax"] == "CDAR"
            self.flows[flow_id] = {
                "flowId": flow_id, "trackingId": tracking, "name": info.get("name", ""),
                "flowType": "CustomerInvoiceLC" if cdar else "CustomerInvoice",
                "flowDirection": "Out", "_number": number,
                "flowSyntax": info["flowSyntax"], "flowProfile": info.get("flowProfile", ""),
                "processingRule": info.get("processingRule", "B2B"),
                "processingRuleSource": "Input", "sha256": digest, "submittedAt": now,
                "updatedAt": now, "acknowledgement": {
                    "status": "Error" if problems else "Ok", "details": problems},
                "lifecycle": lifecycle, "_next": 0 if not (problems or cdar)
                else len(self.script)}
            flow = self.flows[flow_id]
            if lifecycle_of is not None:  # the seller's status joins the invoice's lifecycle
                code, label = _cdar_status(content)
                self.add_status(lifecycle_of["flowId"], code, label)
        return _json(202, {k: v for k, v in flow.items()
                           if k in ("flowId", "trackingId", "name", "processingRule",
                                    "flowSyntax", "flowProfile", "sha256", "submittedAt")})

    def _get(self, flow_id: str, doc_type: str) -> Response:
        with self.lock:
            flow = self.flows.get(flow_id.strip("/"))
            if flow is None:
                return _error(404, "NOT_FOUND", "Flux inconnu.")
            if doc_type == "Original":
                return "200 OK", [("Content-Type", "application/octet-stream")], \
                    self.files[flow["flowId"]]
            self.advance(flow["flowId"])
            return _json(200, _public(flow))

    def _search(self, body: bytes) -> Response:
        try:
            where = (json.loads(body or b"{}") or {}).get("where") or {}
        except (ValueError, AttributeError):
            return _error(400, "BAD_REQUEST", "Critères de recherche illisibles.")
        with self.lock:
            found = [_public(f) for f in self.flows.values()
                     if not where.get("trackingId") or f["trackingId"] == where["trackingId"]]
        return _json(200, {"results": found, "total": len(found), "offset": 0,
                           "limit": len(found)})

    # --- The platform's side -------------------------------------------------------------------

    def advance(self, flow_id: str) -> None:
        """One step of the script (what the platform and the buyer did meanwhile)."""
        with self.lock:
            flow = self.flows[flow_id]
            if flow["_next"] < len(self.script):
                self.add_status(flow_id, self.script[flow["_next"]])
                flow["_next"] += 1

    def add_status(self, flow_id: str, code: str, reason: str = "") -> None:
        with self.lock:
            flow = self.flows[flow_id]
            now = _now()
            flow["lifecycle"].append({"code": code, "at": now, "reason": reason})
            flow["updatedAt"] = now
            if code in ("210", "212", REJECTED):
                flow["_next"] = len(self.script)  # final: the script stops

    def _control(self, method: str, rest: str, query: dict[str, str]) -> Response:
        if rest == "flows" and method == "GET":
            with self.lock:
                return _json(200, {"flows": [_public(f) for f in self.flows.values()],
                                   "deposits": dict(self.deposits)})
        if rest == "fail-next" and method == "POST":
            with self.lock:
                self.fail_next.extend([int(query.get("status", "503"))]
                                      * int(query.get("count", "1")))
            return _json(200, {"ok": True})
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "flows" and parts[2] == "status" and method == "POST":
            if parts[1] not in self.flows:
                return _error(404, "NOT_FOUND", "Flux inconnu.")
            self.add_status(parts[1], query.get("code", "205"), query.get("reason", ""))
            return _json(200, _public(self.flows[parts[1]]))
        return _error(404, "NOT_FOUND", "Unknown control endpoint.")


def _public(flow: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps({k: v for k, v in flow.items() if not k.startswith("_")}))


def _json(status: int, data: Any) -> Response:
    reasons = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized",
               404: "Not Found", 409: "Conflict", 500: "Internal Server Error",
               503: "Service Unavailable"}
    return (f"{status} {reasons.get(status, 'Error')}",
            [("Content-Type", "application/json"),
             ("X-Request-Id", secrets.token_hex(8))], json.dumps(data).encode())


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"errorCode": code, "errorMessage": message})


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_standin_server(app: PlatformStandIn, host: str = "127.0.0.1",
                        port: int = 0) -> WSGIServer:
    return make_server(host, port, app, server_class=_ThreadingServer,
                       handler_class=_QuietHandler)
