"""The home page's tiles for one school year: the user's départements, small counts masked on the server with
the Bilan's rule (services/bilan/small_cells.py) for a role that masks them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ...domain.roles import User
from ...store.base import Snapshot
from ..bilan import compute as bilan
from ..bilan import small_cells
from ..bilan.view import BilanRefused, clip, prepared
from ..kernel.formatting import fmt_int, fmt_number


@dataclass(frozen=True)
class Tile:
    """One KPI tile: `value` is French text ("1 234", "< 5"), `number` the raw figure (None when masked)."""

    label: str
    value: str
    number: int | float | None
    help: str = ""


@dataclass(frozen=True)
class HomeKpis:
    annee: str
    tiles: list[Tile]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"Indicateur": [t.label for t in self.tiles],
                             "Valeur": pd.Series([t.number for t in self.tiles], dtype=object)})


HOME_HELP = {
    bilan.ENTREPRISES: "Entreprises inscrites pendant l'année scolaire (date de création de la fiche).",
    bilan.VOLONTAIRES: "Personnels de l'Éducation nationale inscrits pendant l'année scolaire.",
    bilan.PROPOSEES: "Toutes les rencontres de l'année scolaire, quel que soit leur statut.",
    bilan.EN_COURS: "Rencontres proposées, acceptées ou planifiées.",
    bilan.REALISEES: "Rencontres au statut « réalisée » ou « bilan saisi ».",
    bilan.PARTENARIATS: "Partenariats de l'année scolaire.",
    bilan.SATISFACTION: "Moyenne des réponses des deux parties (1 à 5) sur les rencontres réalisées.",
}


def _data(source: Snapshot | bilan.BilanData) -> bilan.BilanData:
    """The Bilan's prepared data, shared with the Bilan page (and its masks) until the tabs change."""
    return source if isinstance(source, bilan.BilanData) else prepared(source)


def home_kpis(source: Snapshot | bilan.BilanData, annee: str, small_cells_rule: bool = False,
              departements=None) -> HomeKpis:
    """Tiles for a territory (every département by default); with the rule, the comité's masked figures."""
    data = _data(source)
    filt = bilan.BilanFilter(annee, departements=tuple(departements) if departements is not None else None)
    if small_cells_rule:
        table = small_cells.comite_tables(data, filt)["kpis"]
    else:
        table = bilan.kpis_with_pending(data, filt)
    shown = dict(zip(table["Indicateur"], table["Valeur"], strict=True))
    return HomeKpis(annee, [_tile(label, shown[label]) for label in HOME_HELP])


def home_tiles(source: Snapshot | bilan.BilanData, user: User, annee: str) -> HomeKpis:
    """The tiles this user may see: their départements, masked when their role masks small counts."""
    data = _data(source)
    try:
        filt = clip(bilan.BilanFilter(annee), user)
    except BilanRefused:  # unknown role or empty scope: no tile at all (fails closed)
        return HomeKpis(annee, [])
    try:
        return home_kpis(data, annee, user.rights.masks_small_counts, filt.departements)
    except small_cells.ComiteFilterError:  # a masking role whose scope is no fixed territory: nothing to show
        return HomeKpis(annee, [_tile(label, bilan.NOT_DISCLOSED) for label in HOME_HELP])


def _tile(label: str, value) -> Tile:
    if isinstance(value, str):
        return Tile(label, value, None, HOME_HELP[label])
    text = fmt_number(value, 2) if label == bilan.SATISFACTION else fmt_int(value)
    return Tile(label, text, value, HOME_HELP[label])
