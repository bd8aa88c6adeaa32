"""The Bilan as a user may see it: clipped to their départements and masked on the server.

The page only draws what `bilan_view` returns. A role that masks small counts (the comité) and every export
get the small-cell rule of services/bilan/small_cells.py: fixed territories, whole school years, « < 5 » and
secondary « n.d. ». An unknown role, a role without the Bilan permission or an empty scope get nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from ...domain.roles import ACADEMIES, User
from ...domain.values import is_school_year
from ..kernel import access, memo
from . import charts, small_cells
from . import compute as bilan
from .registry import TABLES, chart_for, charted

SMALL_CELLS_NOTE = ("Règle des petits effectifs : « < 5 » remplace un nombre compris entre 0 et 4 ; « n.d. » : "
                    "valeur non diffusée (un taux ou une moyenne sur moins de 5, ou un nombre masqué pour qu'un "
                    "total ne permette pas de retrouver un petit effectif).")


@dataclass(frozen=True)
class Section:
    """One table of the registry as drawn: title, caption, chart and the same figures as a table."""

    key: str
    title: str
    caption: str
    table: pd.DataFrame
    chart: object

    @property
    def mask_note(self) -> str:
        """How many values the chart marks as masked instead of drawing them, and how ("" when none)."""
        return charts.mask_note(self.chart)


@dataclass(frozen=True)
class BilanView:
    filt: bilan.BilanFilter
    label: str  # what the figures cover, in French
    masked: bool  # the small-cell rule was applied
    tables: dict[str, pd.DataFrame]  # every table of the registry, as shown
    conclusions: pd.DataFrame  # free text: empty unless the user's role may read it
    semaine_ee: tuple | None = None

    @property
    def kpis(self) -> pd.DataFrame:
        frame = self.tables["kpis"]
        return frame[frame["Indicateur"] != bilan.EN_COURS].reset_index(drop=True)

    def sections(self) -> list[Section]:
        return [Section(key, TABLES[key].chart_title, TABLES[key].caption, self.tables[key],
                        chart_for(key, self.tables[key])) for key in charted()]


@dataclass(frozen=True)
class FilterChoices:
    """What the filter bar offers this user."""

    years: list[str]
    default_year: str
    academies: list[str]  # académies whose départements are in scope
    departements: dict[str, list[str]]  # per académie ("" = every académie): the départements in scope
    single_departement: bool  # the comité chooses one département, not a list
    dates: bool  # periods other than the whole school year


class BilanRefused(access.AccessDenied):
    """The Bilan is not for this user (unknown role, no permission, empty scope)."""


def prepared(snapshot) -> bilan.BilanData:
    """The converted tabs, shared by every session of this server until one of the tabs they come from changes.
    The comité's masks (small_cells.year_masks: linear programs, seconds) are kept with them, so only the first
    view after a change pays for them. Read-only for callers."""
    return memo.per_tabs(snapshot, memo.HOME_KPI_TABS, ("bilan.prepare", date.today()),
                         lambda: bilan.prepare(snapshot))


def scope(user: User | None) -> frozenset[str]:
    """The départements whose figures this user may see: nothing when the role is unknown or lacks the Bilan."""
    if not access.allowed(user, access.VIEW_BILAN):
        return frozenset()
    return bilan.ALL_DEPARTEMENTS if user.rights.unrestricted else user.scope


def _require(user: User | None) -> frozenset[str]:
    allowed = scope(user)
    if not allowed:
        role = user.role if user is not None else ""
        raise BilanRefused(f"Accès refusé : le rôle « {role} » ne donne accès au bilan d'aucun département.")
    return allowed


def masks_for(user: User) -> bool:
    return user.rights.masks_small_counts


def filter_choices(data: bilan.BilanData, user: User) -> FilterChoices:
    allowed = _require(user)
    seen = set(data.rencontres["annee"]) | set(data.entreprises["annee"]) | set(data.personnels["annee"])
    years = sorted({y for y in seen | {data.annee_courante} if is_school_year(y)}, reverse=True)
    academies = [a for a, deps in ACADEMIES.items() if set(deps) & allowed]
    per = {a: sorted(set(deps) & allowed) for a, deps in ACADEMIES.items() if a in academies}
    per[""] = sorted(allowed)
    masked = masks_for(user)
    return FilterChoices(years, data.annee_courante if data.annee_courante in years else years[0], academies,
                         per, single_departement=masked, dates=not masked)


def clip(filt: bilan.BilanFilter, user: User) -> bilan.BilanFilter:
    """The filter limited to the user's départements; refused when nothing of it is in scope."""
    allowed = _require(user)
    if filt.scope <= allowed:
        return filt
    kept = filt.scope & allowed
    if not kept:
        raise bilan.BilanFilterError("Aucun département de cette sélection n'est dans votre périmètre.")
    return replace(filt, departements=tuple(sorted(kept)))


def _view(data: bilan.BilanData, filt: bilan.BilanFilter, masked: bool, conclusions: pd.DataFrame) -> BilanView:
    if masked:
        tables = small_cells.comite_tables(data, filt)
    else:
        tables = {key: spec.compute(data, filt) for key, spec in TABLES.items()}
    return BilanView(filt, bilan.filter_label(filt, data), masked, tables, conclusions, data.semaine_ee)


def bilan_view(data: bilan.BilanData, user: User, filt: bilan.BilanFilter) -> BilanView:
    """What the Bilan page shows this user: clipped to their scope, masked when their role says so."""
    filt = clip(filt, user)
    free_text = access.allowed(user, access.VIEW_FREE_TEXT_BILAN)
    conclusions = bilan.conclusions(data, filt, include_free_text=free_text)
    return _view(data, filt, masks_for(user), conclusions)


def export_view(data: bilan.BilanData, user: User, filt: bilan.BilanFilter) -> BilanView:
    """What the PDF and the xlsx hold: the small-cell rule whatever the role (they travel), no free text."""
    filt = clip(filt, user)
    return report_view(data, filt)


def report_view(data: bilan.BilanData, filt: bilan.BilanFilter, small_cells_rule: bool = True) -> BilanView:
    """The command line's report (the whole region) or an admin preview without the rule."""
    no_text = pd.DataFrame(columns=["Rencontre", "Date", "Côté", "Conclusions"])  # exports never hold free text
    return _view(data, filt, small_cells_rule, no_text)
