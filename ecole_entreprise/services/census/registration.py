"""Self-registration of companies and staff from the public pages.

Records land "à valider" with the consents given (date, privacy-notice version, source "auto-inscription").
Public forms get abuse protection: size limits, a per-address rate limit (the address seen through the configured
number of trusted proxies only), a limit on the registrations of the last hour from everyone together (read in the
sheet, so it holds across restarts and servers) and a honeypot field.
With double opt-in (a mailer and the personal links of services/links configured) a record lands "à confirmer" and
its confirmation link (a personal link, valid `confirm_within_hours`) goes to the address given, with the withdrawal
link: the click on the link page (services/links/actions.confirm_registration) is the proof of consent (journaled)
and moves it to "à valider"; a registration left unconfirmed is deleted after that delay (purge_unconfirmed, run by
the purge).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ...config import LinkSettings, RegistrationSettings, SmtpSettings
from ...domain.schema import CREATED_FIELD, ID_FIELD, UPDATED_FIELD, default_schema
from ...domain.statuses import RecordStatus
from ...domain.values import format_datetime, format_multi, parse_datetime
from ...mail import Mailer, mailer_for
from ...store.base import Snapshot, new_id
from ..kernel import journal
from ..kernel.parameters import parameter
from ..links import actions as link_actions
from ..links import mail as link_mail
from .records import PENDING, check, with_defaults

REGISTRABLE_TABS = ("Entreprises", "Personnels")
SOURCE = "auto-inscription"
MAX_PAYLOAD_BYTES = 20_000
RATE_LIMIT = 5
RATE_WINDOW = timedelta(hours=1)
TO_CONFIRM = str(RecordStatus.TO_CONFIRM)
CONFIRMED_ACTION = link_actions.CONFIRMATION  # « confirmation inscription », journaled by confirm_registration
THANKS = ("Merci, votre inscription a bien été reçue. Elle sera vérifiée par un coordinateur avant d'être "
          "utilisée ; vous serez contacté(e) par courriel.")

# Filled by this service (or by coordinators), never by the public form.
_NOT_PUBLIC = {ID_FIELD, CREATED_FIELD, UPDATED_FIELD, "statut", "source", "informer_avant", "notes",
               "consentement_participation", "consentement_partage", "consentement_version", "consentement_source"}


def client_address(forwarded_for: str, ip_address: str | None, trusted_hops: int = 0) -> str:
    """The sender's address: with `trusted_hops` reverse proxies in front, the X-Forwarded-For entry the outermost
    of them added (entries to its left come from the client and can be forged at will); with none, the
    connection's own address, whatever the header says. "" when unknown."""
    hops = [part.strip() for part in (forwarded_for or "").split(",") if part.strip()]
    if trusted_hops > 0 and len(hops) >= trusted_hops:
        return hops[-trusted_hops]
    return ip_address or ""


def client_key(forwarded_for: str, ip_address: str | None, session_id: str, trusted_hops: int = 0) -> str:
    """Who sends, for the rate limit, as a short hash (the address itself is never kept); failing an address
    (local access), the browser session — the limit on everyone together still holds then."""
    address = client_address(forwarded_for, ip_address, trusted_hops)
    basis = f"ip:{address}" if address else f"session:{session_id}"
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

    def allowed(self, key: str, now: datetime, limit: int | None = None) -> bool:
        with self._lock:
            return len(self._recent(key, now)) < (self.limit if limit is None else limit)  # stores nothing

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
    confirmation_sent: bool = False  # the double opt-in email went out: no other confirmation mail to send


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


@dataclass(frozen=True)
class OptIn:
    """What double opt-in needs: the delay (`settings`), a way to send the email and the personal-link settings
    (key, public address) its confirmation link is made with. `mailer` may also be bare [smtp] settings (the
    tests' and commands' way); without `links`, opt-in is off."""

    settings: RegistrationSettings
    mailer: Mailer | SmtpSettings
    links: LinkSettings = LinkSettings()

    @property
    def active(self) -> bool:
        return self.links.configured and mailer_for(self.mailer).available


def _sent_at(row) -> datetime:
    """When the form was sent: the participation consent, which every accepted registration has, is stamped then."""
    return parse_datetime(row["consentement_participation"])


def recent_registrations(snapshot: Snapshot, now: datetime, window: timedelta = RATE_WINDOW) -> int:
    """Self-registrations still waiting (for a click or a check) made within `window` before `now`."""
    count = 0
    for tab in REGISTRABLE_TABS:
        for row in snapshot.rows(tab):
            if row["source"] != SOURCE or row["statut"] not in (PENDING, TO_CONFIRM):
                continue
            try:
                if timedelta(0) <= now - _sent_at(row) < window:
                    count += 1
            except ValueError:
                continue
    return count


def submit(store, snapshot: Snapshot, tab: str, values: dict[str, str], consents: dict, honeypot: str,
           client_key: str, now: datetime, *, submission_id: str | None = None,
           limiter: RateLimiter | None = None, settings: RegistrationSettings | None = None,
           opt_in: OptIn | None = None) -> SubmitResult:
    """Register a company or a staff member from a public form.

    `consents`: {"participation": bool (required), "partage": bool (optional)}. `client_key` identifies the
    sender for the rate limit (client_key() of its address). `submission_id`, made when the form was shown,
    makes a double submit write one row only. Duplicates of existing records are not reported here (that would
    tell anyone whether a person is registered): coordinators see them when validating.
    """
    limiter = limiter or _limiter
    per_address = settings.registrations_per_address_hour if settings is not None else limiter.limit
    settings = settings or RegistrationSettings()
    if tab not in REGISTRABLE_TABS:
        return SubmitResult(False, "Inscription impossible sur cet onglet.", {"": "Onglet non ouvert à l'inscription."})
    values = {k: _text(v) for k, v in values.items()}
    too_big = size_errors(tab, {**values, "_honeypot": honeypot or ""})
    if too_big:
        return SubmitResult(False, "Le formulaire dépasse la taille autorisée.", too_big)
    if not limiter.allowed(client_key, now, per_address):
        return SubmitResult(False, "Trop d'inscriptions envoyées depuis ce poste en peu de temps : réessayez plus "
                                   "tard.", {"": f"Limite de {per_address} inscriptions par heure atteinte."})
    if recent_registrations(snapshot, now) >= settings.pending_registrations_hour:
        return SubmitResult(False, "Le formulaire reçoit beaucoup d'inscriptions en ce moment : réessayez dans une "
                                   "heure.", {"": f"Limite de {settings.pending_registrations_hour} inscriptions "
                                              "en attente par heure atteinte (tous expéditeurs confondus)."})
    if (honeypot or "").strip():
        # A field hidden from people was filled: almost surely a bot. Answer exactly as for a success so the
        # bot learns nothing to adapt to, and write nothing.
        limiter.record(client_key, now)
        thanks = CHECK_YOUR_MAIL.format(hours=settings.confirm_within_hours) if opt_in and opt_in.active else THANKS
        return SubmitResult(True, thanks)
    checked = check(tab, with_defaults(tab, _record(tab, values, consents, snapshot, now)), snapshot)
    errors = dict(checked.errors)
    if not consents.get("participation"):  # reported with the field errors, so everything shows at once
        errors["consentement_participation"] = "Cochez la case de consentement pour participer au programme."
    if list(errors) == ["consentement_participation"]:
        return SubmitResult(False, "Le consentement à participer est nécessaire pour s'inscrire.", errors)
    if errors:
        return SubmitResult(False, "Certaines informations sont à corriger.", errors)
    record_id = submission_id or new_id(default_schema().tab(tab).id_prefix)
    limiter.record(client_key, now)
    if snapshot.get(tab, record_id) is not None:  # a double submit: written the first time
        return SubmitResult(True, THANKS, row_id=record_id)
    if opt_in is not None and opt_in.active:
        return _submit_to_confirm(store, tab, record_id, checked.clean, now, opt_in)
    store.append(tab, [{**checked.clean, ID_FIELD: record_id}])
    _journal_consents(store, tab, record_id, checked.clean)
    return SubmitResult(True, THANKS, row_id=record_id)


# ---- double opt-in ----------------------------------------------------------------------------------------


def _submit_to_confirm(store, tab: str, record_id: str, record: dict[str, str], now: datetime,
                       opt_in: OptIn) -> SubmitResult:
    """Send the links first: when they cannot be sent, the record lands "à valider" unconfirmed (the coordinator is
    told) rather than waiting for a click that cannot come."""
    hours = opt_in.settings.confirm_within_hours
    try:
        link_mail.send_registration_links(store, None, opt_in.links, opt_in.mailer, tab, record_id, values=record,
                                          valid_for=timedelta(hours=hours), now=now)
    except Exception:  # noqa: BLE001 - any failure to send leaves the registration to the coordinator
        store.append(tab, [{**record, ID_FIELD: record_id}])
        _journal_consents(store, tab, record_id, record)
        return SubmitResult(True, THANKS, row_id=record_id)
    store.append(tab, [{**record, "statut": TO_CONFIRM, ID_FIELD: record_id}])
    journal.record(store, SOURCE, "inscription à confirmer", tab, record_id, finalite=link_actions.CONSENT_PURPOSE,
                   details=f"lien de confirmation envoyé, valable {hours} h")
    return SubmitResult(True, CHECK_YOUR_MAIL.format(hours=hours), row_id=record_id, confirmation_sent=True)


CHECK_YOUR_MAIL = ("Merci : un courriel vient d'être envoyé à l'adresse indiquée : ouvrez le lien qu'il contient pour "
                   "confirmer votre inscription dans les {hours} heures ; sans confirmation, elle sera supprimée.")


def address_line(snapshot: Snapshot, tab: str, row) -> str:
    """For the coordinator who validates: whether the address given answered the confirmation link."""
    if row["source"] != SOURCE:
        return ""
    for entry in snapshot.rows(journal.TAB):
        if entry["action"] == CONFIRMED_ACTION and entry["cible_id"] == row.id and entry["cible_tab"] == tab:
            try:
                when = parse_datetime(entry["horodatage"]).strftime(" le %d/%m/%Y à %H:%M")
            except ValueError:
                when = ""
            return f"Adresse électronique confirmée par la personne (lien cliqué{when})."
    if row["statut"] == TO_CONFIRM:
        return "En attente de confirmation : la personne n'a pas encore cliqué le lien envoyé à son adresse."
    return ("Adresse électronique non confirmée : rien ne prouve que l'inscription vient de la personne nommée "
            "(aucun envoi de lien configuré, ou envoi impossible). Vérifiez-la auprès d'elle avant de valider.")


def unconfirmed_to_purge(snapshot: Snapshot, now: datetime, hours: int) -> list[tuple[str, str]]:
    """(tab, ID) of the registrations left "à confirmer" longer than `hours`."""
    found = []
    for tab in REGISTRABLE_TABS:
        for row in snapshot.rows(tab):
            if row["statut"] != TO_CONFIRM:
                continue
            try:
                expired = now - _sent_at(row) >= timedelta(hours=hours)
            except ValueError:
                expired = True  # no valid date: nobody can tell when it was made, so it cannot wait forever
            if expired:
                found.append((tab, row.id))
    return found


def purge_unconfirmed(store, snapshot: Snapshot, now: datetime, hours: int, dry_run: bool = False) -> str:
    """Delete the unconfirmed registrations past their delay (the deletion is journaled, without names)."""
    found = unconfirmed_to_purge(snapshot, now, hours)
    if dry_run or not found:
        return f"Inscriptions non confirmées depuis plus de {hours} h : {len(found)}."
    for tab in REGISTRABLE_TABS:
        ids = [row_id for t, row_id in found if t == tab]
        if ids:
            deleted = store.delete(tab, ids)
            journal.record(store, SOURCE, "purge inscriptions non confirmées", tab, ", ".join(ids),
                           finalite="gestion des consentements",
                           details=f"{deleted} inscription(s) sans confirmation après {hours} h supprimée(s)")
    return f"Inscriptions non confirmées supprimées : {len(found)}."
