"""The Liens tab: one row per personal link sent. A token (tokens.py) is usable only while its row says « actif »
and it has not expired: answering marks it « utilisé » (single use), a coordinator revokes it by writing
« révoqué » in the sheet (or through `revoke`). Every issue, opening, use and revocation is journaled.

A row holds everything the token is made of, so the same link can be sent again (a reminder) without storing it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ecole_entreprise import errors

from ...config import LinkSettings
from ...domain.roles import ADMIN, User
from ...domain.schema import default_schema
from ...domain.values import PARIS, format_datetime, now_paris, parse_datetime
from ...store.base import Row, Snapshot, StoreError, new_id
from ..kernel import journal
from . import tokens

TAB = "Liens"
MEETING_ANSWER, EXPECTATIONS, CONCLUSIONS, EVENT_ANSWER = ("réponse rencontre", "attendus", "conclusions",
                                                           "réponse événement")
CONFIRMATION, WITHDRAWAL = "confirmation inscription", "retrait"  # about a person's own Entreprises/Personnels row
PERSON_TABS = ("Entreprises", "Personnels")
ADDRESS_FIELDS = {"Entreprises": "contact_email", "Personnels": "email"}  # where a person's own address is
SELF = "inscrit"  # the party of a link about one's own record
TARGET_TABS = {MEETING_ANSWER: "Rencontres", EXPECTATIONS: "Rencontres", CONCLUSIONS: "Rencontres",
               EVENT_ANSWER: "Evenements", CONFIRMATION: "", WITHDRAWAL: ""}
ACTIVE, USED, REVOKED = "actif", "utilisé", "révoqué"
FINALITE = "liens personnels des participants aux rencontres école-entreprise"
ASK_AGAIN = "Demandez un nouveau lien au service école-entreprise."


class LinkRefused(StoreError, errors.Refused):
    """A link that cannot be used; `str(error)` is a French message that names nothing of the record."""


class LinksNotConfigured(LinkRefused):
    pass


WRONG = f"Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier. {ASK_AGAIN}"
EXPIRED = f"Ce lien a expiré. {ASK_AGAIN}"
REUSED = f"Ce lien a déjà servi : la réponse est enregistrée. {ASK_AGAIN.replace('Demandez', 'Au besoin, demandez')}"
REVOKED_MESSAGE = f"Ce lien a été révoqué. {ASK_AGAIN}"
NOT_CONFIGURED = ("Les liens personnels ne sont pas configurés : renseignez la section [links] de "
                  ".streamlit/secrets.toml (secret d'au moins 16 caractères, public_url).")


@dataclass(frozen=True)
class Link:
    row: Row
    payload: tokens.Payload

    @property
    def purpose(self) -> str:
        return self.payload.purpose

    @property
    def record_id(self) -> str:
        return self.payload.record_id

    @property
    def party(self) -> str:
        return self.payload.party


def link_actor(row: Row) -> User:
    """Who acts through a link, for the services and the journal. The token is the authority: the service that
    uses a link only performs that link's one action, on its one record, for its one side."""
    return User(email=f"lien {row.id} ({row['partie']})", role=ADMIN, nom="Lien personnel")


def _epoch(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=PARIS).timestamp())


def token_for(settings: LinkSettings, row: Row, address: str = "") -> str:
    """The token of a Liens row (the same one each time: reminders resend the link already sent). A confirmation
    link is bound to the `address` it is sent to."""
    if not settings.configured:
        raise LinksNotConfigured(NOT_CONFIGURED)
    bound = tokens.address_digest(settings.secret, address) if row["objet"] == CONFIRMATION else ""
    payload = tokens.Payload(row["objet"], row["cible_id"], row["partie"], _epoch(parse_datetime(row["expire_le"])),
                             row.id, bound)
    return tokens.sign(settings.secret, payload)



def url_for(settings: LinkSettings, token: str) -> str:
    return f"{settings.public_url or 'http://localhost:8501'}/lien?t={token}"


def issue(store, settings: LinkSettings, user, purpose: str, record_id: str, party: str,
          now: dt.datetime | None = None, *, tab: str = "", valid_for: dt.timedelta | None = None,
          address: str = "") -> tuple[Row, str]:
    """A new link (row and token); the caller sends it. `tab`: the person's tab, for CONFIRMATION / WITHDRAWAL;
    `valid_for`: instead of the configured days (a registration is confirmed within hours); `address`: the one a
    CONFIRMATION link is sent to."""
    if not settings.configured:
        raise LinksNotConfigured(NOT_CONFIGURED)
    if purpose not in TARGET_TABS:
        raise LinkRefused(f"Objet de lien inconnu : {purpose}.")
    target = TARGET_TABS[purpose] or tab
    if target not in ((TARGET_TABS[purpose],) if TARGET_TABS[purpose] else PERSON_TABS):
        raise LinkRefused(f"Un lien « {purpose} » ne vise pas l'onglet « {tab} ».")
    expires = (now or now_paris()) + (valid_for or dt.timedelta(days=settings.days))
    record = {"id": new_id(default_schema().tab(TAB).id_prefix), "objet": purpose,
              "cible_tab": target, "cible_id": record_id, "partie": party,
              "expire_le": format_datetime(expires), "statut": ACTIVE}
    [row] = store.append(TAB, [record])
    journal.record(store, user, "lien émis", target, record_id, ["Liens.objet"], FINALITE,
                   f"lien {row.id} « {purpose} » pour {party}")
    return row, token_for(settings, row, address)


def signed(settings: LinkSettings, token: str) -> tokens.Payload:
    """The payload of a token this app signed, else LinkRefused: checked before anything is read, so a forged
    or mistyped link costs no read of the sheet."""
    if not settings.configured:
        raise LinksNotConfigured(NOT_CONFIGURED)
    try:
        return tokens.verify(settings.secret, token)
    except tokens.BadToken:
        raise LinkRefused(WRONG) from None


def check(snapshot: Snapshot, settings: LinkSettings, token: str, now: dt.datetime | None = None) -> Link:
    """The link a token opens, or LinkRefused (wrong, expired, used, revoked) with a French message."""
    payload = signed(settings, token)
    row = snapshot.get(TAB, payload.nonce)
    if row is None or (row["objet"], row["cible_id"], row["partie"]) != (payload.purpose, payload.record_id,
                                                                          payload.party):
        raise LinkRefused(WRONG)  # a deleted row is a revoked link
    status = row["statut"].strip() or ACTIVE
    if status == REVOKED:
        raise LinkRefused(REVOKED_MESSAGE)
    if status == USED or row["utilise_le"].strip():
        raise LinkRefused(REUSED)
    if status != ACTIVE:
        raise LinkRefused(WRONG)
    moment = _epoch(now or now_paris())
    if moment >= payload.expires or moment >= _row_expiry(row):
        raise LinkRefused(EXPIRED)
    if payload.purpose == CONFIRMATION and not _sent_to_current_address(snapshot, settings, row, payload):
        raise LinkRefused(WRONG)
    return Link(row, payload)


def _sent_to_current_address(snapshot: Snapshot, settings: LinkSettings, row: Row, payload: tokens.Payload) -> bool:
    """A confirmation proves the address it was sent to: once the record holds another one, it confirms nothing.
    A record gone (purged) is refused later, as for any link about one's own record."""
    record = snapshot.get(row["cible_tab"], payload.record_id) if row["cible_tab"] in ADDRESS_FIELDS else None
    if record is None:
        return True
    address = record[ADDRESS_FIELDS[row["cible_tab"]]]
    return bool(address.strip()) and payload.bound == tokens.address_digest(settings.secret, address)


def _row_expiry(row: Row) -> int:
    """A coordinator may shorten a link in the sheet; an unreadable date closes it."""
    try:
        return _epoch(parse_datetime(row["expire_le"]))
    except ValueError:
        return 0


def journal_opening(store, link: Link) -> None:
    journal.record(store, link_actor(link.row), "lien ouvert", link.row["cible_tab"], link.record_id,
                   ["Liens.statut"], FINALITE, f"lien {link.row.id} « {link.purpose} »")


def mark_used(store, link: Link, answer: str, now: dt.datetime | None = None) -> Row:
    """Single use: the row becomes « utilisé » with the answer; the use is journaled."""
    current = journal.fresh_snapshot(store).get(TAB, link.row.id) or link.row
    if (current["statut"].strip() or ACTIVE) != ACTIVE:
        raise LinkRefused(REUSED if current["statut"] == USED else REVOKED_MESSAGE)
    saved = store.update(TAB, link.row.id, {"statut": USED, "utilise_le": format_datetime(now or now_paris()),
                                            "reponse": answer}, current.fingerprint)
    journal.record(store, link_actor(link.row), "lien utilisé", link.row["cible_tab"], link.record_id,
                   ["Liens.statut", "Liens.reponse"], FINALITE, f"lien {link.row.id} « {link.purpose} » : {answer}")
    return saved


def revoke(store, snapshot: Snapshot, user, link_id: str) -> Row:
    row = snapshot.get(TAB, link_id)
    if row is None:
        raise LinkRefused(f"Lien {link_id} introuvable.")
    saved = store.update(TAB, link_id, {"statut": REVOKED}, row.fingerprint)
    journal.record(store, user, "lien révoqué", row["cible_tab"], row["cible_id"], ["Liens.statut"], FINALITE,
                   f"lien {link_id} « {row['objet']} »")
    return saved


def links_for(snapshot: Snapshot, purpose: str, record_id: str, party: str) -> list[Row]:
    return [r for r in snapshot.rows(TAB)
            if (r["objet"], r["cible_id"], r["partie"]) == (purpose, record_id, party)]


def reusable(snapshot: Snapshot, purpose: str, record_id: str, party: str,
             now: dt.datetime | None = None) -> Row | None:
    """An active link for this step still valid for at least a day (a reminder resends it)."""
    horizon = _epoch((now or now_paris()) + dt.timedelta(days=1))
    found = [r for r in links_for(snapshot, purpose, record_id, party)
             if (r["statut"].strip() or ACTIVE) == ACTIVE and not r["utilise_le"].strip() and _row_expiry(r) > horizon]
    return found[-1] if found else None
