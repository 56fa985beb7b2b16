"""Helpers for the SMART and subscription tests: real key pairs, signed client assertions,
and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from fhir.smart import ASSERTION_TYPE, client_register

TOKEN_URL = "http://testserver/oauth/token"


def new_key(alg: str) -> RSAKey | ECKey:
    """A fresh private key for RS384 (RSA 2048) or ES384 (P-384)."""
    if alg == "RS384":
        key: RSAKey | ECKey = RSAKey.generate_key(2048, parameters={"alg": alg, "use": "sig"})
    else:
        key = ECKey.generate_key("P-384", parameters={"alg": alg, "use": "sig"})
    key.ensure_kid()
    return key


def public_jwks(*keys: RSAKey | ECKey) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


def register(organization, alg: str = "RS384", scopes: list[str] | None = None, **kwargs):
    """(client, private key) for a client of `organization` with an inline JWKS."""
    key = new_key(alg)
    client = client_register(
        name=f"EHR of {organization.name}",
        organization=organization,
        jwks=kwargs.pop("jwks", public_jwks(key)),
        scopes=scopes,
        **kwargs,
    )
    return client, key


def assertion(
    client_id: str,
    key: RSAKey | ECKey,
    *,
    alg: str | None = None,
    aud: str = TOKEN_URL,
    lifetime: int = 240,
    jti: str | None = None,
    now: float | None = None,
    **claims: Any,
) -> str:
    issued = int(now if now is not None else time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": issued + lifetime,
        "iat": issued,
        "jti": jti or uuid.uuid4().hex,
        **claims,
    }
    header = {"alg": alg or key.alg, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, body, key, algorithms=[header["alg"]])


def hook_url(service_id: str = "tar-order-sign") -> str:
    """The address of a CDS service as the test client reaches it: a hook JWT's aud."""
    return f"http://testserver/cds-services/{service_id}"


def register_ehr(organization, alg: str = "ES384", **kwargs):
    """(client, private key) for an EHR that signs its CDS Hooks calls (iss = cds_issuer)."""
    issuer = kwargs.pop("cds_issuer", f"https://ehr.example/{uuid.uuid4().hex[:12]}")
    return register(organization, alg, cds_issuer=issuer, **kwargs)


def hook_jwt(client, key, *, service_id: str = "tar-order-sign", **kwargs: Any) -> str:
    """The CDS Hooks 2.0 JWT an EHR sends with a hook call: iss its identifier, aud the
    service's URL, a fresh jti, signed with its key."""
    kwargs.setdefault("aud", hook_url(service_id))
    return assertion(client.cds_issuer, key, **kwargs)


def token_request(http, client_assertion: str, scope: str = "system/Claim.write", **extra):
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion,
        "scope": scope,
        **extra,
    }
    return http.post(
        "/oauth/token", urlencode(form), content_type="application/x-www-form-urlencoded"
    )


def access_token(http, client, key, scope: str) -> str:
    response = token_request(http, assertion(client.client_id, key), scope=scope)
    assert response.status_code == 200, response.json()
    return response.json()["access_token"]


@dataclass
class Receiver:
    """What a test's HTTP receiver got, and what it answers next."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer, then 200
    document: dict[str, Any] | None = None  # served on GET (e.g. a JWK Set)
    gets: int = 0  # how many GETs it answered
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiver(answers: list[int] | None = None, document: dict | None = None) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 in a thread: records each POST and answers the next
    status in `answers` (then 200); serves `document` on GET."""
    state = Receiver(answers=list(answers or []), document=document)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with state.lock:
                state.bodies.append(json.loads(raw))
                state.headers.append(dict(self.headers.items()))
                status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            with state.lock:
                state.gets += 1
            body = json.dumps(state.document or {}).encode()
            self.send_response(200 if state.document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
