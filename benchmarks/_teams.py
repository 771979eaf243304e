"""Teams for benchmarks/load.py: authenticated Bot Framework activities, a fake issuer.

Every activity is POSTed to ``/api/messages`` with ``Authorization: Bearer <JWT>``,
RS256-signed by a key of the fake issuer (benchmarks/_wire_teams.py) whose OpenID
metadata the servers are pointed at (``MICROSOFT_OPENID_METADATA_URL`` and
friends), so botbuilder validates each token as it does the Bot Framework's. One
token serves all requests, as the Bot Connector reuses its token for an hour.
Replies go to the fake connector named by each activity's ``serviceUrl``; the
bots' own tokens for it come from the issuer's authority over HTTPS (the servers
trust its self-signed certificate through ``REQUESTS_CA_BUNDLE``).

The load: ``help``, ``status`` and ``signup`` typed in the personal chat, and the
survey card's Action.Submit as Teams sends it (a message with ``value``: the
card's submit data and every input, multi-selects comma-separated, and
``replyToId``: the card's activity id). The bare app is botbuilder's
``CloudAdapter`` with the same authentication, answering every message with one
reply.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from benchmarks._load_client import Request

APP_ID = "00000000-0000-0000-0000-0000000be7c4"
APP_PASSWORD = "bench-app-password"
KEY_ID = "bench-key"
TENANT = "tenant-bench"
BOT_ID = f"28:{APP_ID}"
SUMMARY_MARKER = "You are signed up"  # signup.confirmed_title, en


# --- keys, certificate and token -------------------------------------------------------

def make_keys(folder: Path) -> None:
    """The issuer's signing key (JWKS) and its TLS pair for 127.0.0.1, in ``folder``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from jwt.algorithms import RSAAlgorithm

    signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "signing.pem").write_bytes(signing.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    jwk = json.loads(RSAAlgorithm.to_jwk(signing.public_key()))
    jwk.update(kid=KEY_ID, use="sig", alg="RS256", endorsements=["msteams"])
    (folder / "jwks.json").write_text(json.dumps({"keys": [jwk]}))

    tls = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(tls.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(tls, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(tls.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))


def token(folder: Path, issuer: str, service_url: str) -> str:
    """A channel token as the Bot Connector sends it: for our app, this serviceUrl."""
    import jwt

    now = int(time.time())
    claims = {"iss": issuer, "aud": APP_ID, "serviceurl": service_url,
              "nbf": now - 60, "iat": now - 60, "exp": now + 3 * 3600}
    return jwt.encode(claims, (folder / "signing.pem").read_bytes(), algorithm="RS256",
                      headers={"kid": KEY_ID})


def server_env(issuer: str, folder: Path) -> dict[str, str]:
    """What points a server (Tandem or the bare app) at the fake issuer."""
    return {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "MICROSOFT_OPENID_METADATA_URL": f"{issuer}/openid",
            "MICROSOFT_TOKEN_ISSUER": issuer, "MICROSOFT_LOGIN_URL": f"{issuer}/adfs",
            "REQUESTS_CA_BUNDLE": str(folder / "cert.pem"),
            "SSL_CERT_FILE": str(folder / "cert.pem")}


# --- the load ----------------------------------------------------------------------------

@functools.cache
def _submit_data() -> dict[str, Any]:
    from adapters.teams.cards import form_card
    from bot.core.config import load_config
    from conversations import survey

    root = Path(__file__).resolve().parents[1]
    card = form_card(survey.build_form(load_config(root / "app.yaml").survey, "en", None))
    return dict(next(a["data"] for a in card["actions"] if "tandem_form" in a["data"]))


def answers(i: int, consent: bool = True) -> dict[str, Any]:
    mentee = i % 2 == 1
    return {**_submit_data(), "role": "mentee" if mentee else "mentor",
            "department": "Marketing" if mentee else "IT", "manager": "aad-boss",
            "topics": "ai_tools,social_media", "goals": "Learn from each other",
            "languages": "de,en", "meeting_mode": "remote", "location": "",
            "capacity": "2" if mentee else "1", "consent": "yes" if consent else ""}


def activity(user: str, activity_id: str, service_url: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "message", "id": activity_id, "timestamp": "2026-12-01T09:00:00.000Z",
        "localTimestamp": "2026-12-01T10:00:00.000+01:00", "localTimezone": "Europe/Berlin",
        "serviceUrl": service_url, "channelId": "msteams",
        "from": {"id": f"29:{user}", "name": f"Person {user}", "aadObjectId": user},
        "conversation": {"id": f"a:chat-{user}", "conversationType": "personal",
                         "tenantId": TENANT},
        "recipient": {"id": BOT_ID, "name": "Tandem"}, "locale": "en-US",
        "entities": [{"type": "clientInfo", "locale": "en-US", "country": "DE",
                      "platform": "Web", "timezone": "Europe/Berlin"}],
        "channelData": {"tenant": {"id": TENANT}}, **fields}


def _request(kind: str, body: dict[str, Any], bearer: str) -> Request:
    return Request(kind, json.dumps(body), headers=(
        ("Content-Type", "application/json"), ("Authorization", f"Bearer {bearer}")))


def workload(commands: int, submissions: int, service_url: str, bearer: str, seed: int = 7,
             first_user: int = 0) -> list[Request]:
    requests = [_request("survey", activity(
        f"aad-{first_user + i:07d}", f"submit-{first_user + i}.{seed}", service_url,
        value=answers(i), replyToId=f"card-{first_user + i}"), bearer)
        for i in range(submissions)]
    users = max(submissions, 1)
    texts = ("help", "status", "signup")
    requests += [_request(texts[i % 3], activity(
        f"aad-{first_user + i % users:07d}", f"text-{first_user + i}.{seed}", service_url,
        text=texts[i % 3], textFormat="plain"), bearer) for i in range(commands)]
    random.Random(seed).shuffle(requests)
    return requests


def warm_up_requests(service_url: str, bearer: str) -> list[Request]:
    """Commands, and surveys refused for lack of consent: nothing is stored."""
    requests = [_request(text, activity("aad-warm", f"warm-{text}-{i}", service_url,
                                        text=text), bearer)
                for i, text in enumerate(("help", "status") * 10)]
    return requests + [_request("warm-up", activity(
        "aad-warm", f"warm-survey-{i}", service_url, value=answers(0, consent=False),
        replyToId="card-warm"), bearer) for i in range(5)]


# --- the bare botbuilder app (its own process) --------------------------------------------

def run_bare(port: int, keep_credentials: bool = False) -> None:
    """``keep_credentials``: the bot's connector credentials made once instead of
    per turn (botbuilder's default starts a new MSAL application, and so fetches a
    new token, for each reply), as Tandem does: the fair reference for that cost."""
    import logging

    from aiohttp import web
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter
    from botframework.connector.auth import (
        AuthenticationConstants,
        BotFrameworkAuthenticationFactory,
        PasswordServiceClientCredentialFactory,
    )

    logging.basicConfig(level=logging.WARNING)
    env = os.environ
    factory = PasswordServiceClientCredentialFactory(env["MICROSOFT_APP_ID"],
                                                     env["MICROSOFT_APP_PASSWORD"])
    if keep_credentials:
        made: dict[tuple[Any, ...], Any] = {}
        create = factory.create_credentials

        async def kept(*args: Any, **kwargs: Any) -> Any:
            key = (*args, *sorted(kwargs.items()))
            if key not in made:
                made[key] = await create(*args, **kwargs)
            return made[key]

        factory.create_credentials = kept
    cloud = CloudAdapter(BotFrameworkAuthenticationFactory.create(
        to_bot_from_channel_open_id_metadata_url=env["MICROSOFT_OPENID_METADATA_URL"],
        to_bot_from_channel_token_issuer=env["MICROSOFT_TOKEN_ISSUER"],
        to_channel_from_bot_login_url=env["MICROSOFT_LOGIN_URL"],
        to_channel_from_bot_oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        to_bot_from_emulator_open_id_metadata_url=(
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL),
        credential_factory=factory))

    class Bot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity("ok")

    bot = Bot()

    async def handle(request: web.Request) -> web.StreamResponse:
        response: web.StreamResponse = await cloud.process(request, bot)
        return response

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/api/messages", handle)
    app.router.add_get("/readyz", ready)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
