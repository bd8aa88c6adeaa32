"""Who may do and see what: permissions per role, scopes, and server-side masking of personal fields.

The services call `require` themselves; pages only mirror these rules (menus, disabled buttons).
Masking is decided here from each field's sensitivity tag in sheets_schema/*.yaml:
- identity (names, civilité): admin and coordinators of both sides; never the comité de pilotage;
- contact and free_text: admin, and the coordinator of the person's own side when the person is in scope.
  The counterpart coordinator never gets them in lists: only through contacts.reveal_contacts (journaled).
"""

from __future__ import annotations

from collections.abc import Mapping

from ecole_entreprise import errors

from ... import logs
from ...domain.permissions import (  # noqa: F401  (re-exported: callers name permissions through this module)
    ALL_PERMISSIONS,
    EDIT_ENTREPRISES,
    EDIT_EVENEMENTS,
    EDIT_PARTENARIATS,
    EDIT_PERSONNELS,
    EXPORT_PERSONAL_DATA,
    IMPORT_DATA,
    MANAGE_MEETINGS,
    MANAGE_RGPD,
    MANAGE_USERS,
    PAIR,
    RECOVER_WRITES,
    REVEAL_CONTACTS,
    RUN_PURGE,
    VIEW_BILAN,
    VIEW_FREE_TEXT_BILAN,
    VIEW_HOME,
    VIEW_JOURNAL,
    VIEW_PERSON_LISTS,
    VIEW_PRIVACY,
    VIEW_QUALITY,
    VIEW_REGISTER,
)
from ...domain.roles import ADMIN, COMITE, COORD_ACADEMIE, COORD_CPME, ROLE_RECORDS, User  # noqa: F401
from ...domain.schema import ID_FIELD, Field, default_schema
from ...store.base import Row, Snapshot, StoreError
from . import navigation

# ---- permissions: declared with each role (domain/roles.py) and each page (navigation.py) -------------------

EDIT_RENCONTRES = MANAGE_MEETINGS  # name used by census for the Rencontres tab
MANAGE_GDPR = MANAGE_RGPD  # name used by census for the Demandes RGPD tab
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {name: role.permissions for name, role in ROLE_RECORDS.items()}
PAGE_PERMISSIONS: dict[str, str] = {key: page.permission for key, page in navigation.PAGES.items()}

# Reading a tab through visible_rows / mask_record needs this permission.
TAB_PERMISSIONS: dict[str, str] = {
    "Entreprises": VIEW_PERSON_LISTS,
    "Personnels": VIEW_PERSON_LISTS,
    "Rencontres": MANAGE_MEETINGS,
    "Partenariats": EDIT_PARTENARIATS,
    "Evenements": EDIT_EVENEMENTS,
    "Utilisateurs": MANAGE_USERS,
    "Demandes RGPD": MANAGE_RGPD,
    "Journal": VIEW_JOURNAL,
    "Parametres": VIEW_HOME,
    "Listes": VIEW_HOME,
}

SIDE_TABS = {"entreprise": "Entreprises", "personnel": "Personnels"}
TAB_SIDES = {tab: side for side, tab in SIDE_TABS.items()}

# The command line acts with the store's own credentials (whoever can run it can already edit the sheet).
SYSTEM_USER = User(email="ligne-de-commande", role=ADMIN, nom="Ligne de commande")


class AccessDenied(StoreError, errors.Refused):
    """A refused operation or read; `str(error)` is a French message; `reasons` lists the detailed causes."""

    def __init__(self, message: str, reasons: list[str] | None = None):
        self.reasons = list(reasons or [])
        super().__init__(message)


def allowed(user: User | None, permission: str) -> bool:
    """Granted by the user's role record; an unknown role is granted nothing."""
    return user is not None and permission in user.rights.permissions


# Permissions that change data or hand it out: checking one re-reads the account first (see `require`).
ACTION_PERMISSIONS = frozenset({
    EDIT_ENTREPRISES, EDIT_PERSONNELS, IMPORT_DATA, PAIR, MANAGE_MEETINGS, EDIT_PARTENARIATS, EDIT_EVENEMENTS,
    REVEAL_CONTACTS, EXPORT_PERSONAL_DATA, MANAGE_USERS, MANAGE_RGPD, RUN_PURGE, RECOVER_WRITES,
})


def require(user: User | None, permission: str) -> None:
    """Refuse unless the role grants `permission`. For an action, the account is also re-read fresh (a session's
    user carries `confirm_account`, users.SessionUser): removed or changed since the page opened, it is refused
    here, before the service writes anything — in a button's callback as in a rerun."""
    _require_role(user, permission)
    confirm = getattr(user, "confirm_account", None)
    if permission in ACTION_PERMISSIONS and confirm is not None:
        confirm()


def _require_role(user: User | None, permission: str) -> None:
    if user is None:
        logs.refusal("connexion", permission=permission)
        raise AccessDenied("Accès refusé : vous n'êtes pas connecté.")
    if not allowed(user, permission):
        logs.refusal("permission", role=user.role, permission=permission)
        raise AccessDenied(f"Accès refusé : le rôle « {user.role} » ne permet pas de {permission}.")


def pages_for(user: User | None) -> list[str]:
    """Page keys this user may open, in menu order."""
    return navigation.pages_for(user)


def counterpart(side: str) -> str:
    return {"entreprise": "personnel", "personnel": "entreprise"}.get(side, "")


# ---- départements: where a row belongs ---------------------------------------------------------------------


def _values(row: Row | Mapping[str, str] | None) -> Mapping[str, str]:
    if row is None:
        return {}
    return row.values if isinstance(row, Row) else row


def person_departement(row: Row | Mapping[str, str] | None) -> str:
    """The département of an Entreprises/Personnels row; from the postcode when a person left it empty."""
    values = _values(row)
    dep = str(values.get("departement", "")).strip()
    if dep.isdigit():
        return dep.zfill(2)
    if dep:
        return dep
    postcode = str(values.get("code_postal", "")).strip()
    return postcode[:2] if len(postcode) == 5 and postcode.isdigit() else ""


def uai_departement(uai: str) -> str:
    """A UAI starts with the département on three digits: 0211234A → "21"."""
    code = (uai or "").strip().upper()
    return str(int(code[:3])).zfill(2) if len(code) == 8 and code[:3].isdigit() else ""


def side_departement(snapshot: Snapshot, meeting: Row | Mapping[str, str], side: str) -> str:
    """Département of the company or staff member on `side` of a meeting ("" when unknown)."""
    ref = str(_values(meeting).get(f"{side}_id", "")).strip()
    return person_departement(snapshot.get(SIDE_TABS[side], ref)) if ref else ""


def _linked_departements(snapshot: Snapshot, tab: str, values: Mapping[str, str]) -> set[str]:
    """Départements a partnership or an event relates to (its company, its school, its partnership)."""
    found = {uai_departement(values.get("uai", ""))}
    if values.get("entreprise_id"):
        found.add(person_departement(snapshot.get("Entreprises", values["entreprise_id"])))
    if tab == "Evenements" and values.get("partenariat_id"):
        partnership = snapshot.get("Partenariats", values["partenariat_id"])
        if partnership is not None:
            found |= _linked_departements(snapshot, "Partenariats", partnership.values)
    return found - {""}


def row_in_scope(user: User, tab: str, row: Row | Mapping[str, str], snapshot: Snapshot) -> bool:
    """May this user see (and, with the edit permission, change) this row at all?

    Coordinators see their own side only within their départements; the counterpart tab is visible whole.
    """
    if user.rights.unrestricted:
        return True
    if not user.side:
        return False
    values = _values(row)
    if tab in TAB_SIDES:
        return TAB_SIDES[tab] != user.side or user.covers(person_departement(values))
    if tab == "Rencontres":
        return user.covers(side_departement(snapshot, values, user.side))
    if tab in ("Partenariats", "Evenements"):
        return any(user.covers(d) for d in _linked_departements(snapshot, tab, values))
    return True


def require_scope(user: User, tab: str, row: Row | Mapping[str, str], snapshot: Snapshot) -> None:
    """For writes: the row (or the record about to be created) must be within the user's scope."""
    if not row_in_scope(user, tab, row, snapshot):
        row_id = _values(row).get(ID_FIELD, "") or "demandée"
        scope = ", ".join(sorted(user.departements))
        logs.refusal("périmètre", role=user.role, tab=tab)
        raise AccessDenied(f"Accès refusé : la fiche {row_id} (« {tab} ») est hors de votre périmètre "
                           f"(départements {scope}).")


# ---- masking ----------------------------------------------------------------------------------------------


def field_side(tab: str, field_name: str) -> str:
    """Whose personal data a field holds: "entreprise", "personnel", or "" (no person, e.g. a partnership)."""
    if tab in TAB_SIDES:
        return TAB_SIDES[tab]
    if tab == "Rencontres":
        for side in SIDE_TABS:
            if field_name.endswith("_" + side):
                return side
    return ""


def _subject_departement(snapshot: Snapshot, tab: str, values: Mapping[str, str], side: str) -> str:
    if tab in TAB_SIDES:
        return person_departement(values)
    return side_departement(snapshot, values, side)


def may_see_field(user: User, tab: str, field: Field, row: Row | Mapping[str, str], snapshot: Snapshot) -> bool:
    """Field-level rule for list views and record views (never the disclosure path)."""
    if field.sensitivity == "none" or user.rights.unrestricted:
        return True
    if not user.side:
        return False
    if field.sensitivity == "identity":
        return True
    side = field_side(tab, field.name)
    values = _values(row)
    if not side:
        return row_in_scope(user, tab, values, snapshot)
    return side == user.side and user.covers(_subject_departement(snapshot, tab, values, side))


def _masked(user: User, tab: str, row: Row, snapshot: Snapshot) -> dict[str, str]:
    fields = default_schema().tab(tab).fields
    return {f.name: row[f.name] for f in fields if may_see_field(user, tab, f, row, snapshot)}


def visible_rows(user: User, tab: str, snapshot: Snapshot) -> list[dict[str, str]]:
    """The rows of `tab` this user may list, each with only the fields they may see (others are absent).

    Columns a person added in the sheet (`Row.extra`) are never returned: their content is unknown.
    """
    _require_role(user, TAB_PERMISSIONS.get(tab, MANAGE_USERS))  # a read: no fresh account check
    return [_masked(user, tab, row, snapshot) for row in snapshot.rows(tab) if row_in_scope(user, tab, row, snapshot)]


def mask_record(user: User, tab: str, row: Row, snapshot: Snapshot) -> dict[str, str]:
    """One row as this user may see it; AccessDenied when the row is out of their scope."""
    _require_role(user, TAB_PERMISSIONS.get(tab, MANAGE_USERS))
    require_scope(user, tab, row, snapshot)
    return _masked(user, tab, row, snapshot)
