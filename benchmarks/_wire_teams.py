"""The Bot Framework's side of Teams for the load benchmark, at next to no CPU.

Two listeners in one process, on raw HTTP/1.1 like benchmarks/_wire_slack.py:
- the token issuer, over HTTPS (botbuilder and MSAL insist): the OpenID metadata
  and the signing keys (JWKS, endorsed for ``msteams``) that the servers under
  test validate every activity's JWT with, and an authority (``/adfs``) that hands
  the bots their own tokens for the connector;
- the connector (the activities' ``serviceUrl``), over HTTP: replies, updates,
  new conversations. ``GET /stats`` counts calls by kind; ``summary`` counts the
  messages carrying ``MARKER`` (the sign-up summary's title).

Run: ``python benchmarks/_wire_teams.py ISSUER_PORT CONNECTOR_PORT DIR MARKER``, with
``DIR`` holding ``cert.pem``, ``key.pem`` (the TLS pair) and ``jwks.json``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _wire_slack import Http

counts: Counter[str] = Counter()
_ids = itertools.count(1)
MARKER = b""


class Connector(Http):
    def respond(self, target: str, body: bytes) -> None:
        path = urlsplit(target).path
        status = b"201 Created"
        if path == "/stats":
            payload: dict[str, object] = dict(counts)
            status = b"200 OK"
        elif path == "/v3/conversations":
            counts["create"] += 1
            payload = {"id": f"a:personal-{next(_ids)}"}
        else:
            counts["activity"] += 1
            if MARKER and MARKER in body:
                counts["summary"] += 1
            payload = {"id": f"activity-{next(_ids)}"}
        self.write(status, payload)

    def write(self, status: bytes, payload: dict[str, object]) -> None:
        data = json.dumps(payload).encode()
        self.transport.write(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (status, len(data), data))


def issuer_class(base: str, jwks: dict[str, object]) -> type[Http]:
    metadata = {"issuer": base, "jwks_uri": f"{base}/keys",
                "id_token_signing_alg_values_supported": ["RS256"]}
    authority = {"issuer": f"{base}/adfs", "token_endpoint": f"{base}/adfs/oauth2/token",
                 "authorization_endpoint": f"{base}/adfs/oauth2/authorize"}

    class Issuer(Connector):
        def respond(self, target: str, body: bytes) -> None:
            path = urlsplit(target).path
            counts[f"issuer {path}"] += 1
            if path == "/keys":
                self.write(b"200 OK", jwks)
            elif path.endswith("oauth2/token"):
                self.write(b"200 OK", {"access_token": f"bench-token-{next(_ids)}",
                                       "token_type": "Bearer", "expires_in": 3600})
            elif path.startswith("/adfs"):
                self.write(b"200 OK", authority)
            else:
                self.write(b"200 OK", metadata)

    return Issuer


async def serve(issuer_port: int, connector_port: int, folder: Path) -> None:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    jwks = json.loads((folder / "jwks.json").read_text())
    loop = asyncio.get_running_loop()
    issuer = await loop.create_server(issuer_class(f"https://127.0.0.1:{issuer_port}", jwks),
                                      "127.0.0.1", issuer_port, ssl=tls)
    connector = await loop.create_server(Connector, "127.0.0.1", connector_port)
    async with issuer, connector:
        await asyncio.gather(issuer.serve_forever(), connector.serve_forever())


if __name__ == "__main__":
    MARKER = sys.argv[4].encode()
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))
