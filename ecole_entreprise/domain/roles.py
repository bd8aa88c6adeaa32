"""Users, roles and scopes. Each role is a record (what it may do, which side, whether it needs a scope, whether
small counts are masked for it); services/kernel/access.py applies them. Anything unknown fails closed: a role
missing from ROLE_RECORDS may do nothing, and a role that needs a scope sees nothing without one."""

from __future__ import annotations

from dataclasses import dataclass

from .permissions import (
    ALL_PERMISSIONS,
    COORDINATION,
    EDIT_ENTREPRISES,
    EDIT_PERSONNELS,
    VIEW_BILAN,
    VIEW_HOME,
    VIEW_PRIVACY,
    VIEW_REGISTER,
)

ACADEMIES = {"Dijon": ("21", "58", "71", "89"), "Besançon": ("25", "39", "70", "90")}
ALL_DEPARTEMENTS = frozenset(d for deps in ACADEMIES.values() for d in deps)


@dataclass(frozen=True)
class Role:
    name: str  # as written in the Utilisateurs tab (sheets_schema/lists.yaml, « roles »)
    permissions: frozenset[str]
    side: str = ""  # the side of a meeting it coordinates: "personnel" (académie), "entreprise" (CPME)
    scope_required: bool = True  # False: the whole region, whatever the Périmètre cell says
    unrestricted: bool = False  # every row and every field, in scope or not (the admin)
    masks_small_counts: bool = True  # aggregates of fewer than 5 read « < 5 » on screen (exports always do)


ADMIN, COORD_ACADEMIE, COORD_CPME, COMITE = "admin", "coordinateur académie", "coordinateur CPME", "comité de pilotage"
ROLE_RECORDS: dict[str, Role] = {r.name: r for r in (
    Role(ADMIN, ALL_PERMISSIONS, scope_required=False, unrestricted=True, masks_small_counts=False),
    Role(COORD_ACADEMIE, COORDINATION | {EDIT_PERSONNELS}, side="personnel", masks_small_counts=False),
    Role(COORD_CPME, COORDINATION | {EDIT_ENTREPRISES}, side="entreprise", masks_small_counts=False),
    # Aggregates only: no tab holding personal data is readable with these permissions.
    Role(COMITE, frozenset({VIEW_HOME, VIEW_BILAN, VIEW_PRIVACY, VIEW_REGISTER}), scope_required=False),
)}
ROLES = tuple(ROLE_RECORDS)
NO_ROLE = Role("", frozenset())  # an unknown role: no permission, no scope


def role_record(name: str) -> Role:
    return ROLE_RECORDS.get(name, NO_ROLE)


def academie_of(departement: str) -> str:
    for name, deps in ACADEMIES.items():
        if departement in deps:
            return name
    return ""


def parse_scope(text: str) -> frozenset[str]:
    """"Dijon" → its four départements; "21, 58" → those; empty → every BFC département (the cell as written:
    whether a role may do without it is scope_of's decision)."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not parts:
        return ALL_DEPARTEMENTS
    deps: set[str] = set()
    for part in parts:
        key = part.capitalize().replace("Besancon", "Besançon")
        deps.update(ACADEMIES.get(key, (part.zfill(2),)))
    return frozenset(deps & ALL_DEPARTEMENTS)


def scope_of(role: str, perimetre: str) -> frozenset[str]:
    """The départements written in a user's Périmètre cell. A role that needs a scope gets nothing from an empty
    cell, never the whole region (a forgotten cell must not open every file); an unknown role gets nothing."""
    record = role_record(role)
    if not record.permissions or (record.scope_required and not (perimetre or "").strip()):
        return frozenset()
    return parse_scope(perimetre)


@dataclass(frozen=True)
class User:
    email: str
    role: str
    nom: str = ""
    departements: frozenset[str] = frozenset()

    @property
    def rights(self) -> Role:
        return role_record(self.role)

    @property
    def side(self) -> str:
        """Which side of a meeting this user coordinates: "personnel" (académie), "entreprise" (CPME), "" otherwise."""
        return self.rights.side

    @property
    def scope(self) -> frozenset[str]:
        """The départements this user covers (see scope_of): none at all for an unknown role."""
        rights = self.rights
        if not rights.permissions:
            return frozenset()
        return self.departements if rights.scope_required else ALL_DEPARTEMENTS

    def covers(self, departement: str) -> bool:
        return self.rights.unrestricted or departement in self.scope

    @property
    def label(self) -> str:
        return f"{self.nom or self.email} — {self.role}"
