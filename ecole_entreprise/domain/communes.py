"""The communes of Bourgogne-Franche-Comté: INSEE code, name, postal codes, département, coordinates.

The table is sheets_schema/communes_bfc.csv, built by scripts/build_communes.py (sources in
sheets_schema/COMMUNES_SOURCE.md) and loaded once per process.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache

from .schema import SCHEMA_DIR
from .validators import normalize_postcode

COMMUNES_CSV = SCHEMA_DIR / "communes_bfc.csv"
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Commune:
    insee: str
    nom: str
    departement: str
    latitude: float
    longitude: float
    codes_postaux: tuple[str, ...]


@dataclass(frozen=True)
class _Table:
    by_insee: dict[str, Commune]
    by_postcode: dict[str, tuple[Commune, ...]]


@lru_cache(maxsize=1)
def _table() -> _Table:
    by_insee: dict[str, Commune] = {}
    by_postcode: dict[str, list[Commune]] = {}
    with COMMUNES_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            commune = Commune(
                insee=row["insee"], nom=row["nom"], departement=row["departement"],
                latitude=float(row["latitude"]), longitude=float(row["longitude"]),
                codes_postaux=tuple(c for c in row["codes_postaux"].split(";") if c),
            )
            by_insee[commune.insee] = commune
            for code in commune.codes_postaux:
                by_postcode.setdefault(code, []).append(commune)
    return _Table(by_insee, {code: tuple(sorted(cs, key=lambda c: c.nom)) for code, cs in by_postcode.items()})


def all_communes() -> list[Commune]:
    return list(_table().by_insee.values())


def commune_by_insee(code: str) -> Commune | None:
    return _table().by_insee.get((code or "").strip().upper())


def communes_for_postcode(cp: str) -> list[Commune]:
    """Communes served by this postal code, by name (several for most rural codes, none for a CEDEX)."""
    return list(_table().by_postcode.get((cp or "").strip(), ()))


def _names(communes) -> str:
    return ", ".join(f"{c.nom} ({c.insee})" for c in communes)


def check_postcode_for_commune(cp: str, insee: str) -> list[str]:
    """Errors (French) when the postal code cannot be the commune's.

    The code is compared with the commune's own codes, not with its département: a few communes are served
    from a neighbouring département (Chancia, Jura: 01590; Change, Saône-et-Loire: 21340). A code unknown to
    the table but plausible for the commune is left to `postcode_warnings` (CEDEX codes are not listed).
    """
    try:
        code = normalize_postcode(cp)
    except ValueError as error:
        return [str(error)]
    commune = commune_by_insee(insee)
    if commune is None:
        return [f"Le code INSEE « {insee} » n'est pas celui d'une commune de Bourgogne-Franche-Comté."]
    if code in commune.codes_postaux:
        return []
    own = ", ".join(commune.codes_postaux)
    others = communes_for_postcode(code)
    if others:
        return [f"Le code postal {code} n'est pas celui de {commune.nom} ({commune.insee}), qui a {own}. "
                f"{code} dessert : {_names(others[:5])}{'…' if len(others) > 5 else ''}."]
    if not _plausible_cedex(code, commune):
        return [f"Le code postal {code} ne correspond pas à {commune.nom} ({commune.insee}) : attendu {own}."]
    return []


def _plausible_cedex(code: str, commune: Commune) -> bool:
    """A code no commune uses but from the commune's département (or its codes' départements): a CEDEX."""
    prefixes = {commune.departement} | {c[:2] for c in commune.codes_postaux}
    return code[:2] in prefixes and code not in _table().by_postcode


def postcode_warnings(cp: str, insee: str) -> list[str]:
    """Warnings (French) for a postal code that is acceptable but unusual: a probable CEDEX code."""
    commune = commune_by_insee(insee)
    try:
        code = normalize_postcode(cp)
    except ValueError:
        return []
    if commune is None or code in commune.codes_postaux or not _plausible_cedex(code, commune):
        return []
    return [f"Le code postal {code} n'est attribué à aucune commune : s'il s'agit d'un code CEDEX, c'est correct ; "
            f"sinon le code de {commune.nom} est {', '.join(commune.codes_postaux)}."]


def distance_km(insee_a: str, insee_b: str) -> float | None:
    """Great-circle (haversine) distance between two communes' reference points; None if one is unknown."""
    a, b = commune_by_insee(insee_a), commune_by_insee(insee_b)
    if a is None or b is None:
        return None
    return haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
