"""A fake Microsoft Entra login and Microsoft Graph on loopback, over HTTPS with a
certificate made for the test (MSAL accepts https authorities only).

It serves the tenant's OpenID configuration and token endpoint (client
credentials), and ``GET /v1.0/users`` in pages (``$top``, ``@odata.nextLink``),
with the manager only when ``$expand=manager`` is asked. Failures can be
injected: 429s with ``Retry-After`` before the first page, a 503 on one page.

The calendars: ``POST /users/{id}/calendar/getSchedule`` answers each mailbox's
``busy`` items (UTC), ``POST /users/{id}/events`` creates an event once per
``transactionId`` (a repeat returns the same event, as Graph does), ``PATCH`` and
``DELETE /users/{id}/events/{event}``. ``deny`` answers every calendar call 403
(permission not granted); ``calendar_throttle`` answers that many 429s with
``Retry-After`` first; ``lose_created`` answers a create with a 503 after making it
(the client never heard; its retry must not make a second).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from yarl import URL

TOKEN = "graph-token-1"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake graph")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True,
            content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public),
                       critical=False)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "graph-cert.pem", folder / "graph-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class FakeGraph:
    folder: Path
    tenant: str = "contoso.example"
    client_id: str = "app-id-1"
    secret: str = "app-secret-1"
    #: Graph user objects; ``manager`` (an id) is expanded into ``{"id": ...}``.
    users: list[dict[str, Any]] = field(default_factory=list)
    #: 429s answered before the first page
    throttle: int = 0
    retry_after: str = "1"
    #: the page (0-based) answered once with a 503 (with Retry-After)
    fail_page: int | None = None
    #: what was asked, in order: "token", "users:<page>", "users:<page>:429", ...
    calls: list[str] = field(default_factory=list)
    #: mailbox -> its busy items (start, end, status), aware datetimes
    busy: dict[str, list[tuple[datetime.datetime, datetime.datetime, str]]] = field(
        default_factory=dict)
    #: event id -> {"organiser": mailbox, **the event's JSON}; the deleted ones go
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: every event ever created (also deleted ones), in order
    created: list[str] = field(default_factory=list)
    #: the getSchedule bodies asked
    schedule_asks: list[dict[str, Any]] = field(default_factory=list)
    deny: bool = False
    calendar_throttle: int = 0
    lose_created: int = 0
    transactions: dict[str, str] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    base_url: str = ""
    ca_bundle: str = ""

    async def start(self) -> str:
        cert, key = make_certificate(self.folder)
        self.ca_bundle = str(cert)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/users", self._users)
        app.router.add_get("/v1.0/users/{user}", self._user)
        app.router.add_post("/v1.0/$batch", self._batch)
        app.router.add_post("/v1.0/users/{user}/calendar/getSchedule", self._schedule)
        app.router.add_post("/v1.0/users/{user}/events", self._create)
        app.router.add_patch("/v1.0/users/{user}/events/{event}", self._update)
        app.router.add_delete("/v1.0/users/{user}/events/{event}", self._delete)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"https://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def env(self) -> dict[str, str]:
        """The variables that point the real clients here."""
        return {"MICROSOFT_APP_ID": self.client_id, "MICROSOFT_APP_PASSWORD": self.secret,
                "MICROSOFT_LOGIN_URL": self.base_url,
                "MICROSOFT_GRAPH_URL": f"{self.base_url}/v1.0",
                "MICROSOFT_GRAPH_CA_BUNDLE": self.ca_bundle}

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant != self.tenant:
            return web.json_response({"error": "invalid_tenant"}, status=400)
        root = f"{self.base_url}/{tenant}"
        return web.json_response({
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "issuer": f"{root}/v2.0"})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.calls.append("token")
        if (form.get("grant_type") != "client_credentials"
                or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.secret
                or form.get("scope") != "https://graph.microsoft.com/.default"):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": TOKEN, "token_type": "Bearer",
                                  "expires_in": 3599})

    async def _users(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}},
                                     status=401)
        page = int(request.query.get("$skiptoken", "0"))
        top = min(int(request.query.get("$top", "100")), 999)
        if self.throttle > 0:
            self.throttle -= 1
            self.calls.append(f"users:{page}:429")
            return web.json_response({"error": {"code": "TooManyRequests"}}, status=429,
                                     headers={"Retry-After": self.retry_after})
        if page == self.fail_page:
            self.fail_page = None
            self.calls.append(f"users:{page}:503")
            return web.Response(status=503, text="Service Unavailable",
                                headers={"Retry-After": self.retry_after})
        if "$filter" in request.query:
            return self._filtered(request.query["$filter"])
        self.calls.append(f"users:{page}")
        expand = "manager" in request.query.get("$expand", "")
        chosen = request.query.get("$select", "").split(",")
        start = page * top
        value = []
        for user in self.users[start:start + top]:
            shown = {k: v for k, v in user.items() if k in chosen}
            if expand:
                shown["manager"] = {"id": user["manager"]} if user.get("manager") else None
            value.append(shown)
        body: dict[str, Any] = {"value": value}
        if start + top < len(self.users):
            query = {k: v for k, v in request.query.items() if k != "$skiptoken"}
            rest = "&".join(f"{k}={v}" for k, v in query.items())
            body["@odata.nextLink"] = f"{self.base_url}/v1.0/users?{rest}&$skiptoken={page + 1}"
        return web.json_response(body)

    # one user, for the CSV import's look-ups ---------------------------------------

    async def _user(self, request: web.Request) -> web.Response:
        """``GET /users/{id or userPrincipalName}``; 404 as Graph answers it."""
        refused = self._refusal(request, "user")
        if refused is not None:
            return refused
        status, body = self._one_user(request.match_info["user"],
                                      request.query.get("$select", ""))
        return web.json_response(body, status=status)

    def _one_user(self, wanted: str, select: str) -> tuple[int, dict[str, Any]]:
        wanted = wanted.lower()
        self.calls.append(f"user:{wanted}")
        found = next((u for u in self.users if wanted in (
            str(u.get("id", "")).lower(), str(u.get("userPrincipalName", "")).lower())), None)
        if found is None:
            return 404, {"error": {"code": "Request_ResourceNotFound"}}
        return 200, {k: v for k, v in found.items() if k in select.split(",")}

    def _filtered(self, expression: str) -> web.Response:
        return web.json_response(self._mail(expression)[1])

    def _mail(self, expression: str) -> tuple[int, dict[str, Any]]:
        """``$filter=mail eq '...'`` (a doubled quote is one), the only filter asked."""
        prefix = "mail eq '"
        assert expression.startswith(prefix) and expression.endswith("'"), expression
        wanted = expression[len(prefix):-1].replace("''", "'").lower()
        self.calls.append(f"mail:{wanted}")
        return 200, {"value": [{"id": u["id"], "accountEnabled": u.get("accountEnabled", True)}
                               for u in self.users
                               if str(u.get("mail") or "").lower() == wanted]}

    async def _batch(self, request: web.Request) -> web.Response:
        """``POST /$batch``: up to 20 GETs of one user or of the mail filter, each
        answered on its own (a throttled one gets its own 429 with Retry-After)."""
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}},
                                     status=401)
        asked = (await request.json())["requests"]
        assert 0 < len(asked) <= 20, len(asked)
        self.calls.append(f"batch:{len(asked)}")
        answers = []
        for item in asked:
            assert item["method"] == "GET", item
            if self.calendar_throttle > 0:
                self.calendar_throttle -= 1
                self.calls.append("batch-item:429")
                answers.append({"id": item["id"], "status": 429,
                                "headers": {"Retry-After": self.retry_after},
                                "body": {"error": {"code": "TooManyRequests"}}})
                continue
            url = URL(item["url"])
            if url.path == "/users":
                status, body = self._mail(url.query["$filter"])
            else:
                status, body = self._one_user(url.path.removeprefix("/users/"),
                                              url.query.get("$select", ""))
            answers.append({"id": item["id"], "status": status, "body": body})
        return web.json_response({"responses": answers})

    # the calendars ------------------------------------------------------------------

    def _refusal(self, request: web.Request, name: str) -> web.Response | None:
        """401 without the token, 429 while throttled, 403 when denied."""
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}},
                                     status=401)
        if self.calendar_throttle > 0:
            self.calendar_throttle -= 1
            self.calls.append(f"{name}:429")
            return web.json_response({"error": {"code": "TooManyRequests"}}, status=429,
                                     headers={"Retry-After": self.retry_after})
        if self.deny:
            self.calls.append(f"{name}:403")
            return web.json_response({"error": {
                "code": "ErrorAccessDenied",
                "message": "Access is denied. Check credentials and try again."}}, status=403)
        return None

    async def _schedule(self, request: web.Request) -> web.Response:
        refused = self._refusal(request, "getSchedule")
        if refused is not None:
            return refused
        body = await request.json()
        self.calls.append("getSchedule")
        self.schedule_asks.append(body)
        start, end = _instant(body["startTime"]), _instant(body["endTime"])
        value = []
        for mailbox in body["schedules"]:
            items = [{"status": status, "isPrivate": False,
                      "start": _graph_time(b), "end": _graph_time(e)}
                     for b, e, status in self.busy.get(mailbox, []) if b < end and start < e]
            value.append({"scheduleId": mailbox, "availabilityView": "",
                          "scheduleItems": items})
        return web.json_response({"value": value})

    async def _create(self, request: web.Request) -> web.Response:
        refused = self._refusal(request, "events:post")
        if refused is not None:
            return refused
        body = await request.json()
        transaction = body.get("transactionId")
        event_id = self.transactions.get(transaction) if transaction else None
        if event_id is None:
            event_id = f"AAMkAD-{len(self.created) + 1}"
            self.created.append(event_id)
            self.events[event_id] = {"organiser": request.match_info["user"], **body,
                                     "onlineMeeting": {"joinUrl": "https://teams.invalid/j/1"}}
            if transaction:
                self.transactions[transaction] = event_id
        self.calls.append("events:post")
        if self.lose_created > 0:
            self.lose_created -= 1
            self.calls.append("events:post:503")
            return web.Response(status=503, text="Service Unavailable",
                                headers={"Retry-After": self.retry_after})
        return web.json_response({"id": event_id, **self.events.get(event_id, {})},
                                 status=201)

    async def _update(self, request: web.Request) -> web.Response:
        refused = self._refusal(request, "events:patch")
        if refused is not None:
            return refused
        event_id = request.match_info["event"]
        if event_id not in self.events:
            return web.json_response({"error": {"code": "ErrorItemNotFound"}}, status=404)
        self.events[event_id].update(await request.json())
        self.calls.append(f"events:patch:{event_id}")
        return web.json_response({"id": event_id, **self.events[event_id]})

    async def _delete(self, request: web.Request) -> web.Response:
        refused = self._refusal(request, "events:delete")
        if refused is not None:
            return refused
        event_id = request.match_info["event"]
        self.calls.append(f"events:delete:{event_id}")
        if self.events.pop(event_id, None) is None:
            return web.json_response({"error": {"code": "ErrorItemNotFound"}}, status=404)
        return web.Response(status=204)


def _instant(value: dict[str, str]) -> datetime.datetime:
    assert value["timeZone"] == "UTC", value
    return datetime.datetime.fromisoformat(value["dateTime"]).replace(tzinfo=datetime.UTC)


def _graph_time(moment: datetime.datetime) -> dict[str, str]:
    """As Graph writes it: UTC, seven decimal places, no offset."""
    text = moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")
    return {"dateTime": text, "timeZone": "UTC"}
