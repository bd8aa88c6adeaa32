"""The Utilisateurs tab: email → role and scope."""

from __future__ import annotations

from dataclasses import dataclass, field

from ecole_entreprise import errors

from ... import logs
from ...domain.roles import ROLE_RECORDS, ROLES, User, scope_of
from ...domain.values import parse_bool
from ...store.base import Snapshot, StoreError
from ...store.cache import CachedStore
from . import access
from .access import AccessDenied

TAB = "Utilisateurs"
SCOPED_ROLES = tuple(name for name, role in ROLE_RECORDS.items() if role.scope_required)  # need a Périmètre


class UnknownUser(StoreError, errors.Refused):
    def __init__(self, email: str):
        super().__init__(f"Le compte {email} n'est pas autorisé dans l'application. Demandez à l'administrateur du "
                         "service école-entreprise de l'ajouter dans l'onglet « Utilisateurs ».")


def _active(text: str) -> bool:
    try:
        return parse_bool(text) if text.strip() else True
    except ValueError:
        return False


def users(snapshot: Snapshot) -> list[User]:
    found = []
    for row in snapshot.rows(TAB):
        if row["role"] in ROLES and _active(row["actif"]) and row["email"].strip():
            found.append(User(email=row["email"].strip().lower(), role=row["role"], nom=row["nom"],
                              departements=scope_of(row["role"], row["perimetre"])))
    return found


def find_user(snapshot: Snapshot, email: str) -> User:
    """The active user with this email, or UnknownUser (its message says whom to ask)."""
    wanted = (email or "").strip().lower()
    for user in users(snapshot):
        if user.email == wanted:
            return user
    raise UnknownUser(email)


class AccountRefused(AccessDenied):
    """The account behind an open page was removed or changed since: the action is refused, nothing written."""


@dataclass(frozen=True)
class SessionUser(User):
    """The user of an app session, with the store their account is read from: every action re-checks the account
    on a fresh read (access.require calls `confirm_account`) — an open page outlives a removal from Utilisateurs."""

    source: object = field(default=None, compare=False, hash=False, repr=False)

    def confirm_account(self) -> None:
        confirm(self.source, self)


def session_user(store, user: User) -> SessionUser:
    return SessionUser(email=user.email, role=user.role, nom=user.nom, departements=user.departements, source=store)


def _fresh_users(store) -> Snapshot:
    return store.read(fresh=True, tabs=[TAB]) if isinstance(store, CachedStore) else store.read(tabs=[TAB])


def confirm(store, user: User) -> User:
    """The account as the Utilisateurs tab holds it now; AccountRefused when it is gone, inactive or changed."""
    try:
        current = find_user(_fresh_users(store), user.email)
    except UnknownUser:
        logs.refusal("compte retiré", role=user.role)
        raise AccountRefused(f"Action refusée : le compte {user.email} n'est plus actif dans l'onglet "
                             "« Utilisateurs ». Rien n'a été enregistré.") from None
    if (current.role, current.departements) != (user.role, user.departements):
        logs.refusal("compte modifié", role=user.role)
        raise AccountRefused(f"Action refusée : votre compte a changé depuis l'ouverture de la page (rôle "
                             f"« {current.role} »). Rechargez la page ; rien n'a été enregistré.")
    return current


def assignable_roles(actor: User | None) -> tuple[str, ...]:
    """The roles `actor` may give an account: every role for one who manages accounts, none otherwise."""
    return ROLES if access.allowed(actor, access.MANAGE_USERS) else ()


def accounts_table(snapshot: Snapshot) -> list[dict[str, str]]:
    """The Utilisateurs tab as the page lists it: a scoped role without Périmètre reads « aucun » (it sees
    nothing), a role that needs none reads « tout »."""
    def scope(row) -> str:
        return row["perimetre"] or ("aucun" if row["role"] in SCOPED_ROLES else "tout")

    return [{"Email": r["email"], "Nom": r["nom"], "Rôle": r["role"], "Périmètre": scope(r),
             "Actif": r["actif"] or "oui"} for r in snapshot.rows(TAB)]


def account_choices(snapshot: Snapshot) -> dict[str, tuple[str, bool]]:
    """Row ID -> (label, active) of every account, for the activate / deactivate choice."""
    return {r.id: (f"{r['email']} ({r['role']})", (r["actif"] or "oui").lower() != "non") for r in snapshot.rows(TAB)}


def grant(store, actor: User, email: str, role: str, scope: str = "", name: str = ""):
    """`add_user` on behalf of someone signed in: only an account manager may (re-checked on a fresh read)."""
    access.require(actor, access.MANAGE_USERS)
    return add_user(store, email, role, scope, name)


def add_user(store, email: str, role: str, scope: str = "", name: str = ""):
    if role not in ROLES:
        raise StoreError(f"Rôle inconnu « {role} ». Rôles possibles : {', '.join(ROLES)}.")
    if "@" not in email:
        raise StoreError(f"« {email} » n'est pas une adresse électronique.")
    if role in SCOPED_ROLES and not scope_of(role, scope):
        raise StoreError(f"Un {role} a besoin d'un périmètre : une académie (Dijon, Besançon) ou des départements "
                         "de Bourgogne-Franche-Comté séparés par des virgules (--scope).")
    [row] = store.append(TAB, [{"email": email.strip().lower(), "role": role, "perimetre": scope, "nom": name,
                                "actif": "oui"}])
    return row


def set_active(store, snapshot: Snapshot, actor: User, user_row_id: str, active: bool):
    """Deactivate rather than delete: the journal keeps pointing at a known account."""
    access.require(actor, access.MANAGE_USERS)
    row = snapshot.get(TAB, user_row_id)
    if row is None:
        raise StoreError(f"Utilisateur {user_row_id} introuvable.")
    if not active and row["email"].strip().lower() == actor.email:
        raise StoreError("Vous ne pouvez pas désactiver votre propre compte.")
    return store.update(TAB, user_row_id, {"actif": "oui" if active else "non"}, row.fingerprint)
