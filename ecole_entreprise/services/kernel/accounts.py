"""How people sign in, and the local accounts used when there is neither an identity provider nor a loopback server.

- Google Sheets: the identity provider (st.login / OIDC, `[auth]`); the demo identity chooser only when
  `allow_local_login` forces it, and then every page carries a red banner.
- Local workbook: the chooser only when the server listens on loopback (and no proxy forwarded the request) or
  when `[app] demo` says so; else the identity provider when `[auth]` is configured; else local accounts: an
  email of the Utilisateurs tab and a password whose salted scrypt hash (hashlib, standard library) is kept in a
  file on the server (`comptes-locaux.json`, never in the sheet), set by `python -m ecole_entreprise set-password`.
Every sign-in, accepted or refused, is journaled (action « connexion » / « connexion refusée »).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from ...config import Settings, accounts_path
from . import journal

CHOOSER, PASSWORD, OIDC, NONE = "sélecteur", "mot de passe", "fournisseur d'identité", "aucune"
SIGN_IN, SIGN_IN_REFUSED = "connexion", "connexion refusée"
PURPOSE = "sécurité des accès"
# scrypt cost: 16 MiB of memory and a fraction of a second per attempt (about 0.2 s measured on the test machine).
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES = 2 ** 14, 8, 1, 16
MIN_PASSWORD = 12


def is_loopback(address: str | None) -> bool:
    text = (address or "").strip().strip("[]")
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def login_mode(settings: Settings, server_address: str | None, forwarded: bool = False) -> str:
    """Which sign-in this server offers. `server_address`: Streamlit's server.address (None: every interface);
    `forwarded`: the request came through a proxy (X-Forwarded-For), so loopback proves nothing."""
    if settings.backend == "google":
        if settings.allow_local_login:
            return CHOOSER
        return OIDC if settings.auth_configured else NONE
    if settings.demo or (is_loopback(server_address) and not forwarded):
        return CHOOSER
    return OIDC if settings.auth_configured else PASSWORD


def chooser_forced(settings: Settings) -> bool:
    """The chooser over the real Google sheet: anyone may take any identity (red banner on every page)."""
    return settings.backend == "google" and settings.allow_local_login


# ---- local accounts -----------------------------------------------------------------------------------------


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        found = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                               p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


class LocalAccounts:
    """email → salted hash, in a JSON file readable by the server's account only (0600)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k).lower(): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def set_password(self, email: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"Mot de passe trop court : au moins {MIN_PASSWORD} caractères.")
        accounts = self._load()
        accounts[email.strip().lower()] = hash_password(password)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(accounts, handle, indent=1, sort_keys=True)
        os.replace(temporary, self.path)

    def stamp(self, email: str) -> str:
        """A short digest of the account's stored hash ("" without a password): it changes with every new
        password (a new salt each time), and tells nothing of the password."""
        stored = self._load().get((email or "").strip().lower())
        return hashlib.sha256(stored.encode("utf-8")).hexdigest()[:16] if stored else ""

    def check(self, email: str, password: str) -> bool:
        stored = self._load().get((email or "").strip().lower())
        if stored is None:
            hash_password(password, b"\0" * SALT_BYTES)  # the same cost: no timing hint that the email is unknown
            return False
        return password_matches(password, stored)


def local_accounts(settings: Settings) -> LocalAccounts:
    return LocalAccounts(accounts_path(settings))


class Throttle:
    """After `limit` refused passwords for one address within `window_s`, further attempts are refused unchecked
    until the oldest failure leaves the window (per server process)."""

    def __init__(self, limit: int = 5, window_s: float = 900.0, clock=time.monotonic):
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, email: str) -> deque:
        failures, now = self._failures[email.strip().lower()], self.clock()
        while failures and now - failures[0] >= self.window_s:
            failures.popleft()
        return failures

    def locked(self, email: str) -> bool:
        with self._lock:
            return len(self._recent(email)) >= self.limit

    def failed(self, email: str) -> None:
        with self._lock:
            self._recent(email).append(self.clock())


THROTTLE = Throttle()
TOO_MANY = "trop d'essais refusés, connexion bloquée un moment"


def sign_in_with_password(store, settings: Settings, known_emails: set[str], email: str, password: str) -> str:
    """Check a local account's password; every attempt journaled. Returns "" when accepted, else the refusal's
    French reason for the journal (the page shows one message for all, so as to say nothing of which was wrong)."""
    wanted = (email or "").strip().lower()
    if THROTTLE.locked(wanted):
        reason = TOO_MANY
    elif not local_accounts(settings).check(wanted, password):
        reason = "mot de passe incorrect"
    elif wanted not in known_emails:
        reason = "compte absent ou inactif dans Utilisateurs"
    else:
        reason = ""
    if reason and reason != TOO_MANY:
        THROTTLE.failed(wanted)
    record_sign_in(store, wanted, not reason, PASSWORD, reason)
    return reason


# ---- journal ------------------------------------------------------------------------------------------------


def record_sign_in(store, email: str, accepted: bool, method: str, reason: str = ""):
    """One journal entry per sign-in attempt: who (as typed, cut short), how, and why it was refused."""
    who = (email or "").strip().lower()[:120] or "(adresse vide)"
    details = f"méthode : {method}" + (f" ; motif : {reason}" if reason else "")
    return journal.record(store, who, SIGN_IN if accepted else SIGN_IN_REFUSED, "Utilisateurs",
                          finalite=PURPOSE, details=details)
