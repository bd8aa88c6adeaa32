"""Link tokens: an HMAC-SHA256 signature over a small JSON payload (purpose, record, party, expiry, nonce).

The token proves the link was made by this app and was not altered; whether it is still usable (not used, not
revoked) is the Liens tab's answer (registry.py). Nothing personal is in the payload: IDs and a side only, and for a
registration's confirmation a keyed digest of the address it was sent to (`bound`), so the link confirms only while
the record still holds that address, without the address ever travelling in a URL (where proxies log it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from ecole_entreprise import errors


class BadToken(errors.NotFound, ValueError):
    """Not a token this app signed, or altered: the page says so without telling why."""


@dataclass(frozen=True)
class Payload:
    purpose: str  # objet of the Liens tab
    record_id: str  # the meeting or the event
    party: str  # "entreprise" / "personnel", or the invited record's ID
    expires: int  # Unix time
    nonce: str  # the Liens row ID
    bound: str = ""  # address_digest of the address a confirmation link was sent to; "" for the other links


def b64(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, body: str) -> str:
    return b64(hmac.new(key.encode("utf-8"), body.encode("ascii"), hashlib.sha256).digest())


def address_digest(key: str, address: str) -> str:
    """A keyed digest of an email address, as a confirmation link carries it (the address cannot be read back)."""
    return _signature(key, "adresse|" + b64(address.strip().casefold().encode("utf-8")))[:22]


def sign(key: str, payload: Payload) -> str:
    if not key:
        raise BadToken("no key")
    data = {"p": payload.purpose, "r": payload.record_id, "s": payload.party, "e": payload.expires,
            "n": payload.nonce}
    if payload.bound:  # absent otherwise: the tokens of the other links stay as they always were
        data["b"] = payload.bound
    body = b64(json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_signature(key, body)}"


def verify(key: str, token: str) -> Payload:
    """The payload of a token signed with `key`; BadToken otherwise (expiry is checked by the caller)."""
    body, _, signature = (token or "").strip().partition(".")
    if not key or not body or not signature or len(token) > 2000:
        raise BadToken("malformed")
    try:
        expected = _signature(key, body)
    except UnicodeEncodeError:
        raise BadToken("malformed") from None
    if not hmac.compare_digest(expected, signature):
        raise BadToken("signature")
    try:
        data = json.loads(unb64(body))
        return Payload(str(data["p"]), str(data["r"]), str(data["s"]), int(data["e"]), str(data["n"]),
                       str(data.get("b", "")))
    except (ValueError, KeyError, TypeError):
        raise BadToken("payload") from None
