"""Users, roles and scopes. Who may see or do what is decided in services/access.py from these."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
COORD_ACADEMIE = "coordinateur académie"
COORD_CPME = "coordinateur CPME"
COMITE = "comité de pilotage"
ROLES = (ADMIN, COORD_ACADEMIE, COORD_CPME, COMITE)

ACADEMIES = {"Dijon": ("21", "58", "71", "89"), "Besançon": ("25", "39", "70", "90")}
ALL_DEPARTEMENTS = frozenset(d for deps in ACADEMIES.values() for d in deps)


def academie_of(departement: str) -> str:
    for name, deps in ACADEMIES.items():
        if departement in deps:
            return name
    return ""


def parse_scope(text: str) -> frozenset[str]:
    """"Dijon" → its four départements; "21, 58" → those; empty → every BFC département."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not parts:
        return ALL_DEPARTEMENTS
    deps: set[str] = set()
    for part in parts:
        key = part.capitalize().replace("Besancon", "Besançon")
        deps.update(ACADEMIES.get(key, (part.zfill(2),)))
    return frozenset(deps & ALL_DEPARTEMENTS)


@dataclass(frozen=True)
class User:
    email: str
    role: str
    nom: str = ""
    departements: frozenset[str] = ALL_DEPARTEMENTS

    @property
    def side(self) -> str:
        """Which side of a meeting this user coordinates: "personnel" (académie), "entreprise" (CPME), "" otherwise."""
        return {COORD_ACADEMIE: "personnel", COORD_CPME: "entreprise"}.get(self.role, "")

    def covers(self, departement: str) -> bool:
        return self.role == ADMIN or departement in self.departements

    @property
    def label(self) -> str:
        return f"{self.nom or self.email} — {self.role}"
