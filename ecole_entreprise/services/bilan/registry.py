"""Every Bilan table in one place: what it is called, how it is computed and drawn, which of its cells count
people (masked under 5 for the comité and in every export), and how its cells add up (so that a masked cell
cannot be worked back from a total: services/bilan/small_cells.py).

Adding a table is one entry of TABLES: the page, the PDF, the xlsx and the small-cell rule all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from . import charts
from . import compute as bilan


@dataclass(frozen=True)
class BilanTable:
    key: str
    title: str  # table title, also the xlsx sheet name (at most 31 characters)
    compute: Callable[[bilan.BilanData, bilan.BilanFilter], pd.DataFrame]
    caption: str = ""  # one line under the chart on the page
    chart_title: str = ""  # "": no chart (the key figures are tiles)
    chart: Callable[[pd.DataFrame], object] | None = None
    rows: tuple[str, ...] = ()  # the columns that name a row
    people: tuple[str, ...] = ()  # columns counting people or meetings: masked under 5
    people_rows: tuple[str, ...] | None = None  # only these rows count people (the key figures)
    # column -> columns of the same row whose masking hides it too (a rate or a mean would give them back)
    dependent: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    totals: Mapping[str, str] = field(default_factory=dict)  # people column -> key figure its rows add up to
    groups: tuple[str, ...] = ()  # rows of one group add up to a total that its shares reveal
    per_departement: bool = False  # one row per département, equal to that département's key figures
    comite_compute: Callable | None = None  # the coarser table the comité and the exports get
    years: bool = False  # built from the key figures of this year and the previous one (comparaison)
    pdf_table: bool = True  # printed under its chart in the PDF (else only in the xlsx)

    def computed(self, data: bilan.BilanData, filt: bilan.BilanFilter, coarse: bool) -> pd.DataFrame:
        build = self.comite_compute if coarse and self.comite_compute else self.compute
        return build(data, filt)


# Breakdowns of the volunteers recensés and of the meetings held: their rows add up to those two key figures.
BY_PERSON = {bilan.VOLONTAIRES: bilan.VOLONTAIRES, bilan.REALISEES: bilan.REALISEES}
TABLES: dict[str, BilanTable] = {t.key: t for t in (
    BilanTable("kpis", "Indicateurs clés", bilan.kpis, rows=("Indicateur",), people=("Valeur",),
               people_rows=bilan.PEOPLE_KPIS),
    BilanTable("entonnoir", "Entonnoir", bilan.funnel,
               "Personnes (volontaires et entreprises) ayant atteint chaque étape avec au moins une rencontre.",
               "De l'inscription au partenariat", charts.funnel_chart, rows=("Étape",),
               people=("Personnels", "Entreprises")),
    BilanTable("departements", "Par département", bilan.by_departement,
               "Recensés de l'année et rencontres réalisées, par département de l'entreprise.",
               "Par département", charts.departement_chart, rows=("Département",),
               people=(bilan.ENTREPRISES, bilan.VOLONTAIRES, bilan.REALISEES), per_departement=True),
    BilanTable("carte", "Par commune", bilan.map_points,
               "Communes des entreprises participantes et des établissements des volontaires.",
               "Entreprises et établissements participants", charts.map_chart,
               rows=("Type", "Commune", "Département"), people=("Nombre",), pdf_table=False),
    BilanTable("fonctions", "Par fonction", bilan.by_fonction,
               "Volontaires recensés et rencontres réalisées selon la fonction du personnel.",
               "Volontaires par fonction", charts.fonction_chart, rows=("Fonction",),
               people=(bilan.VOLONTAIRES, bilan.REALISEES), totals=BY_PERSON),
    BilanTable("canaux", "Par canal de recrutement", bilan.by_canal,
               "Part des volontaires recensés par chaque canal qui ont réalisé au moins une rencontre.",
               "Efficacité des canaux de recrutement", charts.canal_chart, rows=("Canal de recrutement",),
               people=(bilan.VOLONTAIRES, "Volontaires ayant réalisé une rencontre", bilan.REALISEES),
               dependent={"Taux de conversion": (bilan.VOLONTAIRES, "Volontaires ayant réalisé une rencontre")},
               totals=BY_PERSON),
    BilanTable("formats", "Par format", bilan.by_format,
               "Rencontres réalisées par format, et leur satisfaction moyenne (sur 5).",
               "Rencontres réalisées par format", charts.format_chart, rows=("Format",), people=(bilan.REALISEES,),
               dependent={"Satisfaction moyenne": (bilan.REALISEES,)}, totals={bilan.REALISEES: bilan.REALISEES}),
    BilanTable("satisfaction", "Satisfaction", bilan.likert,
               "Réponses des deux parties sur les rencontres réalisées : défavorables à gauche, favorables à "
               "droite.", "Satisfaction et meilleure compréhension (1 à 5)", charts.likert_chart,
               rows=("Question", "Côté", "Note"), people=("Réponses",), dependent={"Part": ("Réponses",)},
               groups=("Question", "Côté")),
    BilanTable("chronologie", "Chronologie", bilan.timeline,
               "Cumul, semaine après semaine depuis le 1er septembre (mois par mois, sans cumul, quand les "
               "petits effectifs sont masqués).", "Rencontres au fil de l'année scolaire", charts.timeline_chart,
               rows=("Mois",), people=(bilan.PROPOSEES, bilan.REALISEES), comite_compute=bilan.months,
               totals={bilan.PROPOSEES: bilan.PROPOSEES, bilan.REALISEES: bilan.REALISEES}, pdf_table=False),
    BilanTable("comparaison", "Comparaison", bilan.comparison,
               "Mêmes indicateurs, même territoire et mêmes dates, l'année scolaire précédente.",
               "Comparaison avec l'année précédente", charts.comparison_chart, rows=("Indicateur",), years=True),
)}


def charted() -> tuple[str, ...]:
    """Keys of the tables drawn as charts, in page and PDF order."""
    return tuple(key for key, table in TABLES.items() if table.chart is not None)


def masked() -> tuple[str, ...]:
    """Keys of the tables with cells under the small-cell rule."""
    return tuple(key for key, table in TABLES.items() if table.people)


def chart_for(key: str, frame: pd.DataFrame):
    """The chart of one table, drawn from the frame the service returned (masked cells marked, not dropped)."""
    return TABLES[key].chart(frame)
