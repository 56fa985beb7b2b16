"""The secrets a subscriber gives us to send back (its own `Authorization` header, say),
encrypted at rest (issue 14): a database dump or a backup shows their names, never their
values.

Fernet (AES-128-CBC + HMAC-SHA256, the `cryptography` library) keyed by HKDF-SHA256 from
`FHIR_HEADER_SECRET` when set, else from Django's SECRET_KEY, so there is no second secret
to manage by default. Key rotation follows Django's: a value sealed under a key now listed in
SECRET_KEY_FALLBACKS is still opened, and sealed again under the current key when the
subscription is next saved (`reseal`).
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"tar-portal"
_INFO = b"fhir.subscription.headers"


class SealError(Exception):
    """A sealed value no configured key opens (the key changed with no fallback kept)."""


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    current = getattr(settings, "FHIR_HEADER_SECRET", "") or settings.SECRET_KEY
    older = list(getattr(settings, "SECRET_KEY_FALLBACKS", []) or [])
    return MultiFernet([_fernet(current), *(_fernet(s) for s in older if s != current)])


def seal(lines: list[str]) -> str:
    """The header lines as one Fernet token ('' for none)."""
    if not lines:
        return ""
    return _keys().encrypt(json.dumps(lines).encode()).decode()


def unseal(token: str) -> list[str]:
    if not token:
        return []
    try:
        lines = json.loads(_keys().decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise SealError("The subscription's headers cannot be decrypted.") from exc
    return [str(line) for line in lines]


def reseal(token: str) -> str:
    """The same value under the current key (after a rotation)."""
    return _keys().rotate(token.encode()).decode() if token else ""
