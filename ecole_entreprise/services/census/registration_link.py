"""Signed confirmation links for public registrations (double opt-in): hmac + hashlib, written like the links of
services/links/tokens.py (whose base64 helpers it uses).

A token names the record (tab, ID) and its expiry; its HMAC-SHA256 signature also covers the email address the
link was sent to, which never appears in the link (addresses in URLs end up in proxy logs). So a link confirms only
that record, only while the record still holds that address, and only until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ecole_entreprise import errors

from ..links.tokens import b64, unb64

VERSION = "1"


class LinkInvalid(errors.NotFound, ValueError):
    """A token that was not made with our key, was altered, or has expired (French message)."""


@dataclass(frozen=True)
class LinkClaim:
    tab: str
    row_id: str
    expires: datetime

    def matches(self, secret: str, email: str, signature: bytes) -> bool:
        return hmac.compare_digest(signature, _sign(secret, self, email))


def _payload(claim: LinkClaim) -> str:
    return "|".join((VERSION, claim.tab, claim.row_id, str(int(claim.expires.timestamp()))))


def _sign(secret: str, claim: LinkClaim, email: str) -> bytes:
    message = f"{_payload(claim)}|{email.strip().casefold()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def make_token(secret: str, tab: str, row_id: str, email: str, now: datetime, valid_for: timedelta) -> str:
    if not secret:
        raise ValueError("a signing key is required")
    claim = LinkClaim(tab, row_id, _utc(now) + valid_for)
    return f"{b64(_payload(claim).encode())}.{b64(_sign(secret, claim, email))}"


def read_token(token: str, now: datetime) -> tuple[LinkClaim, bytes]:
    """The claim and its signature, once the token is well formed and not expired (the signature is checked
    against the record's current address by the caller: `claim.matches(secret, email, signature)`)."""
    try:
        payload, signature = (token or "").strip().split(".")
        version, tab, row_id, expires = unb64(payload).decode().split("|")
        claim = LinkClaim(tab, row_id, datetime.fromtimestamp(int(expires), UTC))
        raw_signature = unb64(signature)
    except (ValueError, UnicodeDecodeError):
        raise LinkInvalid("Ce lien de confirmation est incomplet ou altéré : copiez-le en entier depuis le "
                          "courriel reçu.") from None
    if version != VERSION or len(raw_signature) != hashlib.sha256().digest_size:
        raise LinkInvalid("Ce lien de confirmation n'est pas reconnu.")
    if _utc(now) > claim.expires:
        raise LinkInvalid("Ce lien de confirmation a expiré : l'inscription non confirmée a été ou sera "
                          "supprimée ; inscrivez-vous à nouveau.")
    return claim, raw_signature


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
