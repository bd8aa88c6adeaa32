"""Self-registration of companies and staff from the public pages.

Records land "à valider" with the consents given (date, privacy-notice version, source "auto-inscription").
Public forms get abuse protection: size limits, a per-client rate limit and a honeypot field.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ...domain.schema import CREATED_FIELD, ID_FIELD, UPDATED_FIELD, default_schema
from ...domain.values import format_datetime, format_multi
from ...store.base import Snapshot, new_id
from ..kernel import journal
from ..kernel.parameters import parameter
from .records import PENDING, check, with_defaults

REGISTRABLE_TABS = ("Entreprises", "Personnels")
SOURCE = "auto-inscription"
MAX_PAYLOAD_BYTES = 20_000
RATE_LIMIT = 5
RATE_WINDOW = timedelta(hours=1)
THANKS = ("Merci, votre inscription a bien été reçue. Elle sera vérifiée par un coordinateur avant d'être "
          "utilisée ; vous serez contacté(e) par courriel.")

# Filled by this service (or by coordinators), never by the public form.
_NOT_PUBLIC = {ID_FIELD, CREATED_FIELD, UPDATED_FIELD, "statut", "source", "informer_avant", "notes",
               "consentement_participation", "consentement_partage", "consentement_version", "consentement_source"}


def client_key(forwarded_for: str, ip_address: str | None, session_id: str) -> str:
    """Who sends, for the rate limit, as a short hash (the address itself is never kept).

    Behind a reverse proxy the rightmost X-Forwarded-For entry is the one the proxy added; entries to its left
    come from the client and can be forged at will. Without a proxy, the connection's own address; failing that
    (local access), the browser session."""
    hops = [part.strip() for part in (forwarded_for or "").split(",") if part.strip()]
    if hops:
        basis = f"ip:{hops[-1]}"
    elif ip_address:
        basis = f"ip:{ip_address}"
    else:
        basis = f"session:{session_id}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


class RateLimiter:
    """In-process sliding window: at most `limit` submissions per key within `window`.

    Per process only (each server restart forgets it): enough against a person or script hammering the form.
    Only accepted submissions are recorded, so a person correcting a typo is not locked out.
    """

    def __init__(self, limit: int = RATE_LIMIT, window: timedelta = RATE_WINDOW, max_keys: int = 10_000):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._hits: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque:
        hits = self._hits.get(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        return hits

    def allowed(self, key: str, now: datetime) -> bool:
        with self._lock:
            return len(self._recent(key, now)) < self.limit  # a mere check stores nothing

    def record(self, key: str, now: datetime) -> None:
        with self._lock:
            hits = self._recent(key, now)
            hits.append(now)
            self._hits[key] = hits
            self._hits.move_to_end(key)
            while len(self._hits) > self.max_keys:  # bounded memory: forget the least recently seen client
                self._hits.popitem(last=False)


_limiter = RateLimiter()


@dataclass
class SubmitResult:
    accepted: bool
    message: str = ""  # French, to show as is
    errors: dict[str, str] = field(default_factory=dict)  # field -> French message ("" key: whole form)
    row_id: str | None = None  # None when nothing was written (refused, or honeypot)


def notice_version(snapshot: Snapshot) -> str:
    """The privacy-notice version in force: Parametres "version_notice", else its default."""
    return parameter(snapshot, "version_notice")


def size_errors(tab: str, values: dict[str, str]) -> dict[str, str]:
    """Cheap checks done before anything else: each field's max length and the whole payload size."""
    schema_tab = default_schema().tab(tab)
    errors = {}
    for name, value in values.items():
        limit = schema_tab.field(name).max_length if name in schema_tab.field_names else None
        if limit and len(str(value)) > limit:
            errors[name] = f"Ce champ est limité à {limit} caractères ({len(str(value))} saisis)."
    total = sum(len(str(k).encode("utf-8", "surrogatepass")) + len(str(v).encode("utf-8", "surrogatepass"))
                for k, v in values.items())  # surrogatepass: a lone surrogate is refused later, in French
    if total > MAX_PAYLOAD_BYTES:
        errors[""] = f"Le formulaire est trop volumineux ({total // 1000} ko, maximum {MAX_PAYLOAD_BYTES // 1000} ko)."
    return errors


def _text(value) -> str:
    """Form widgets give text, numbers or lists (multiselect): cells are text, lists "a; b"."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return format_multi(str(v) for v in value)
    return str(value)


def _record(tab: str, values: dict[str, str], consents: dict, snapshot: Snapshot, now: datetime) -> dict[str, str]:
    public = {k: v for k, v in values.items() if k in default_schema().tab(tab).field_names and k not in _NOT_PUBLIC}
    stamp = format_datetime(now)
    return {
        **public, "statut": PENDING, "source": SOURCE,
        "consentement_participation": stamp if consents.get("participation") else "",
        "consentement_partage": stamp if consents.get("partage") else "",
        "consentement_version": notice_version(snapshot), "consentement_source": SOURCE,
    }


def _journal_consents(store, tab: str, row_id: str, record: dict[str, str]) -> None:
    """Proof of consent (who, when, which notice), without any personal value."""
    given = [name for name in ("consentement_participation", "consentement_partage") if record.get(name)]
    journal.record(store, SOURCE, "consentement", tab, row_id, given, "gestion des consentements",
                   f"source {SOURCE} ; notice {record.get('consentement_version', '')}")


def submit(store, snapshot: Snapshot, tab: str, values: dict[str, str], consents: dict, honeypot: str,
           client_key: str, now: datetime, *, submission_id: str | None = None,
           limiter: RateLimiter | None = None) -> SubmitResult:
    """Register a company or a staff member from a public form.

    `consents`: {"participation": bool (required), "partage": bool (optional)}. `client_key` identifies the
    sender for the rate limit (e.g. a hash of the session). `submission_id`, made when the form was shown,
    makes a double submit write one row only. Duplicates of existing records are not reported here (that would
    tell anyone whether a person is registered): coordinators see them when validating.
    """
    limiter = limiter or _limiter
    if tab not in REGISTRABLE_TABS:
        return SubmitResult(False, "Inscription impossible sur cet onglet.", {"": "Onglet non ouvert à l'inscription."})
    values = {k: _text(v) for k, v in values.items()}
    too_big = size_errors(tab, {**values, "_honeypot": honeypot or ""})
    if too_big:
        return SubmitResult(False, "Le formulaire dépasse la taille autorisée.", too_big)
    if not limiter.allowed(client_key, now):
        return SubmitResult(False, "Trop d'inscriptions envoyées depuis ce poste en peu de temps : réessayez plus "
                                   "tard.", {"": f"Limite de {limiter.limit} inscriptions par heure atteinte."})
    if (honeypot or "").strip():
        # A field hidden from people was filled: almost surely a bot. Answer exactly as for a success so the
        # bot learns nothing to adapt to, and write nothing.
        limiter.record(client_key, now)
        return SubmitResult(True, THANKS)
    checked = check(tab, with_defaults(tab, _record(tab, values, consents, snapshot, now)), snapshot)
    errors = dict(checked.errors)
    if not consents.get("participation"):  # reported with the field errors, so everything shows at once
        errors["consentement_participation"] = "Cochez la case de consentement pour participer au programme."
    if list(errors) == ["consentement_participation"]:
        return SubmitResult(False, "Le consentement à participer est nécessaire pour s'inscrire.", errors)
    if errors:
        return SubmitResult(False, "Certaines informations sont à corriger.", errors)
    record_id = submission_id or new_id(default_schema().tab(tab).id_prefix)
    if snapshot.get(tab, record_id) is None:
        store.append(tab, [{**checked.clean, ID_FIELD: record_id}])
        _journal_consents(store, tab, record_id, checked.clean)
    limiter.record(client_key, now)
    return SubmitResult(True, THANKS, row_id=record_id)
