"""The local sign-in's session cookie: who signed in, how, when, and until when, signed with an HMAC key.

Streamlit keeps nothing across a reload (a reload is a new session), so a local sign-in (identity chooser or
local password) would be lost on F5 or when a record link is opened. The page stores this value in a cookie; on a
new session a value that verifies, was made for the same sign-in method and has not expired restores the person
(whose account the shell then re-checks in the Utilisateurs tab, as on every action). The signature is the one of
the personal links (services/links/tokens.py), under its own key: `[app] session_secret`
(ECOLE_ENTREPRISE_SESSION_SECRET), else a random key this server writes once next to the local accounts file.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from wsgiref.handlers import format_date_time  # HTTP's date, whatever the locale

from ... import errors
from ...config import Settings, accounts_path
from ..links import tokens

COOKIE = "ee_session"
PURPOSE = "session locale"  # the token's purpose: a personal link's token is never a session
METHOD = "cookie de session"  # the journal's « méthode » of a refused cookie
KEY_FILE = "cle-session-locale.txt"
MIN_SECRET = 16
ALTERED, EXPIRED, OTHER_METHOD = ("cookie de session altéré ou signé d'une autre clé", "cookie de session expiré",
                                  "cookie de session d'une autre méthode de connexion")
PASSWORD_CHANGED = "cookie de session d'avant un changement du mot de passe"
# What make() writes (base64url and a dot): anything else is not ours, and is never put into the page's script.
SHAPE = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


class BadCookie(errors.Refused, ValueError):
    """Refused: `reason` (French) goes to the journal, with the email when the signature proved it."""

    def __init__(self, reason: str, email: str = ""):
        super().__init__(reason)
        self.reason, self.email = reason, email


def cookie_text(value: str, until: float) -> str:
    """What the page's script gives `document.cookie`: `value` kept until `until` (Unix time), or, for a value
    that is not ours ("" included), the cookie removed."""
    if not SHAPE.fullmatch(value or ""):
        return f"{COOKIE}=; Path=/; SameSite=Strict; Max-Age=0"
    return f"{COOKIE}={value}; Path=/; SameSite=Strict; Expires={format_date_time(until)}"


@dataclass(frozen=True)
class Session:
    email: str
    method: str  # accounts.CHOOSER or accounts.PASSWORD
    issued: int  # Unix time
    expires: int


def make(key: str, email: str, method: str, now: float, hours: float, stamp: str = "") -> str:
    """The cookie's value for `email`, signed in by `method` at `now`, valid `hours`; `stamp` names the password
    it was opened with (accounts.LocalAccounts.stamp), so that a new password ends the sessions of the old one."""
    issued = int(now)
    payload = tokens.Payload(purpose=PURPOSE, record_id=email.strip().lower(), party=method,
                             expires=issued + int(hours * 3600), nonce=str(issued), bound=stamp)
    return tokens.sign(key, payload)


def read(key: str, value: str, method: str, now: float, hours: float, stamp_of=lambda email: "") -> Session:
    """The session a cookie value carries; BadCookie when altered, made for another method, expired (also when
    older than `hours` now, should the setting have been shortened since), or made with a password that has
    changed since (`stamp_of(email)`: the stamp of the account's password today)."""
    if not SHAPE.fullmatch(value or ""):
        raise BadCookie(ALTERED)
    try:
        payload = tokens.verify(key, value)
        issued = int(payload.nonce)
    except (tokens.BadToken, ValueError):
        raise BadCookie(ALTERED) from None
    if payload.purpose != PURPOSE:
        raise BadCookie(ALTERED)
    session = Session(payload.record_id, payload.party, issued, min(payload.expires, issued + int(hours * 3600)))
    if session.method != method:
        raise BadCookie(OTHER_METHOD, session.email)
    if now >= session.expires:
        raise BadCookie(EXPIRED, session.email)
    if payload.bound != stamp_of(session.email):
        raise BadCookie(PASSWORD_CHANGED, session.email)
    return session


def signing_key(settings: Settings) -> str:
    """The configured session secret (16 characters at least), else this server's own key file (OSError when it
    can be neither read nor written: then no session outlives its tab)."""
    if len(settings.session_secret) >= MIN_SECRET:
        return settings.session_secret
    return server_key(accounts_path(settings).with_name(KEY_FILE))


def server_key(path: Path) -> str:
    """A random key kept in `path` (0600), written once: servers sharing the folder share it."""
    try:
        return _stored_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        os.link(temporary, path)  # fails if another server wrote its key first: then theirs is the key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return _stored_key(path)


def _stored_key(path: Path) -> str:
    text = path.read_text(encoding="ascii").strip()
    if len(text) < MIN_SECRET:
        raise OSError(f"clé de session trop courte dans {path}")
    return text
