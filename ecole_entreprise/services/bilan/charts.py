"""Altair charts of the bilan tables (services/bilan/compute.py), for the Bilan page and the PDF report.

A masked cell arrives as text (« < 5 », « n.d. »): it is drawn as that text where its bar would be, never
silently left out (titles and captions: services/bilan/registry.py).

Every chart carries the French Vega format locale (decimal comma, narrow no-break space between thousands,
French month names) and the Okabe–Ito colour-blind-safe palette in its config, so it reads the same in the
browser and in the PNG rendered offline for the PDF.
"""

from __future__ import annotations

from functools import lru_cache

import altair as alt
import pandas as pd

from . import compute as bilan

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
# Likert 1 → 5: vermillion, orange, neutral grey, sky blue, blue (distinguishable with every colour deficiency)
LIKERT_COLOURS = ["#D55E00", "#E69F00", "#BBBBBB", "#56B4E9", "#0072B2"]
LIKERT_LABELS = {1: "1 – pas du tout", 2: "2", 3: "3 – neutre", 4: "4", 5: "5 – tout à fait"}

FR_LOCALE = {
    "number": {"decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["", "\u00a0€"],
               "percent": "\u202f%"},
    "time": {
        "dateTime": "%A %e %B %Y à %X", "date": "%d/%m/%Y", "time": "%H:%M:%S", "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                   "octobre", "novembre", "décembre"],
        "shortMonths": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
                        "nov.", "déc."],
    },
}
COUNT_FORMAT = ",d"
WIDTH = 520
ROW_PX = 14
LABEL_PX = 300

def finish(chart) -> alt.TopLevelMixin:
    """French locale, palette and a plain look: the last step of every builder."""
    return chart.configure(locale=FR_LOCALE, range=alt.RangeConfig(category=OKABE_ITO)).configure_view(
        stroke=None)


def _height(categories: int, series: int = 1) -> int:
    return max(60, categories * series * ROW_PX + 20)


MASK = "Masqué"  # the text of a masked cell, "" when the value is drawn


def _grouped_bars(long: pd.DataFrame, category: str, series: str, value: str, x_title: str,
                  order: list[str]):
    """Horizontal bars, one group per category, one bar per series (yOffset); masked values as text."""
    series_order = list(dict.fromkeys(long[series]))  # the table's column order, not alphabetical
    y = alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_PX))
    offset = alt.YOffset(f"{series}:N", sort=series_order)
    bars = alt.Chart().mark_bar().encode(
        y=y, yOffset=offset,
        x=alt.X(f"{value}:Q", title=x_title, axis=alt.Axis(format=COUNT_FORMAT, tickMinStep=1)),
        color=alt.Color(f"{series}:N", title=None, sort=series_order, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{series}:N"),
                 alt.Tooltip(f"{value}:Q", format=COUNT_FORMAT)],
    )
    return alt.layer(bars, _mask_marks(y, offset), data=long).properties(
        width=WIDTH, height=_height(len(order), long[series].nunique() or 1))


def _mask_marks(y, offset=None):
    """« < 5 » / « n.d. » written at the start of the axis for every masked value."""
    encoding = {"y": y, "text": alt.Text(f"{MASK}:N"), "x": alt.value(2)}
    if offset is not None:
        encoding["yOffset"] = offset
    return alt.Chart().mark_text(align="left", baseline="middle", fontSize=10, color="#333333").encode(
        **encoding).transform_filter(f"datum['{MASK}'] != ''")


def _masks(values: pd.Series) -> pd.Series:
    return values.map(lambda v: v if isinstance(v, str) else "")


def _melt(frame: pd.DataFrame, category: str, columns: list[str], series: str, value: str) -> pd.DataFrame:
    long = frame.melt(id_vars=[category], value_vars=columns, var_name=series, value_name=value)
    long[MASK] = _masks(long[value])
    long[value] = pd.to_numeric(long[value], errors="coerce")
    return long


def funnel_chart(frame: pd.DataFrame):
    long = _melt(frame, "Étape", ["Personnels", "Entreprises"], "Côté", "Nombre")
    return finish(_grouped_bars(long, "Étape", "Côté", "Nombre", "Nombre de personnes", list(bilan.FUNNEL_STAGES)))


def departement_chart(frame: pd.DataFrame):
    measures = [bilan.ENTREPRISES, bilan.VOLONTAIRES, bilan.REALISEES]
    long = _melt(frame, "Département", measures, "Indicateur", "Nombre")
    return finish(_grouped_bars(long, "Département", "Indicateur", "Nombre", "Nombre",
                                list(frame["Département"])))


def fonction_chart(frame: pd.DataFrame):
    long = _melt(frame, "Fonction", [bilan.VOLONTAIRES, bilan.REALISEES], "Indicateur", "Nombre")
    return finish(_grouped_bars(long, "Fonction", "Indicateur", "Nombre", "Nombre", list(frame["Fonction"])))


def canal_chart(frame: pd.DataFrame):
    data = frame.assign(**{"Taux de conversion": pd.to_numeric(frame["Taux de conversion"], errors="coerce"),
                           MASK: _masks(frame["Taux de conversion"])})
    y = alt.Y("Canal de recrutement:N", sort=list(frame["Canal de recrutement"]), title=None,
              axis=alt.Axis(labelLimit=LABEL_PX))
    bars = alt.Chart().mark_bar(color=OKABE_ITO[2]).encode(
        y=y,
        x=alt.X("Taux de conversion:Q", title="Volontaires ayant réalisé une rencontre (part du canal)",
                axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("Canal de recrutement:N"), alt.Tooltip("Taux de conversion:Q", format=".1%"),
                 alt.Tooltip(f"{bilan.VOLONTAIRES}:N")],
    )
    chart = alt.layer(bars, _mask_marks(y), data=data).properties(width=WIDTH, height=_height(len(frame)))
    return finish(chart)


def format_chart(frame: pd.DataFrame):
    data = frame.assign(**{bilan.REALISEES: pd.to_numeric(frame[bilan.REALISEES], errors="coerce"),
                           MASK: _masks(frame[bilan.REALISEES])})
    y = alt.Y("Format:N", sort=list(frame["Format"]), title=None)
    bars = alt.Chart().mark_bar(color=OKABE_ITO[4]).encode(
        y=y,
        x=alt.X(f"{bilan.REALISEES}:Q", title="Rencontres réalisées",
                axis=alt.Axis(format=COUNT_FORMAT, tickMinStep=1)),
        tooltip=[alt.Tooltip("Format:N"), alt.Tooltip(f"{bilan.REALISEES}:Q", format=COUNT_FORMAT),
                 alt.Tooltip("Satisfaction moyenne:N")],
    )
    chart = alt.layer(bars, _mask_marks(y), data=data).properties(width=WIDTH, height=_height(len(frame)))
    return finish(chart)


def likert_offsets(frame: pd.DataFrame) -> pd.DataFrame:
    """Start and end of each answer's bar, centred on the neutral answer (diverging stacked bars)."""
    out = frame.copy()
    out[MASK] = _masks(out["Part"])
    out["Part"] = pd.to_numeric(out["Part"], errors="coerce").fillna(0.0)
    out["Groupe"] = out["Question"] + " — " + out["Côté"]
    out = out.sort_values("Note", kind="stable")  # groups keep the table's order
    negative = out["Part"].where(out["Note"] < 3, 0) + out["Part"].where(out["Note"] == 3, 0) / 2
    left = negative.groupby(out["Groupe"]).transform("sum")
    out["fin"] = out.groupby("Groupe")["Part"].cumsum() - left
    out["début"] = out["fin"] - out["Part"]
    out["Réponse"] = out["Note"].map(LIKERT_LABELS)
    return out


def likert_chart(frame: pd.DataFrame):
    data = likert_offsets(frame)
    chart = alt.Chart(data).mark_bar().encode(
        # Question + side labels are long: the default 180 px limit would cut them with an ellipsis.
        y=alt.Y("Groupe:N", title=None, sort=list(dict.fromkeys(data["Groupe"])), axis=alt.Axis(labelLimit=400)),
        x=alt.X("début:Q", title="Part des réponses (défavorables à gauche, favorables à droite)",
                axis=alt.Axis(format=".0%", labelExpr="format(abs(datum.value), '.0%')"),
                scale=alt.Scale(domain=[-1, 1])),
        x2="fin:Q",
        color=alt.Color("Réponse:N", title="Réponse", sort=list(LIKERT_LABELS.values()),
                        scale=alt.Scale(domain=list(LIKERT_LABELS.values()), range=LIKERT_COLOURS),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("Groupe:N"), alt.Tooltip("Réponse:N"), alt.Tooltip("Part:Q", format=".0%")],
    ).properties(width=WIDTH, height=_height(data["Groupe"].nunique() or 1, 2))
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#444444").encode(x="x:Q")
    masked = data[data[MASK] != ""].groupby("Groupe", sort=False)[MASK].first()
    if masked.empty:
        return finish(alt.layer(chart, rule))
    notes = pd.DataFrame({"Groupe": masked.index, MASK: "parts non diffusées (moins de 5 réponses)"})
    marks = alt.Chart(notes).mark_text(align="right", baseline="middle", fontSize=10, color="#333333").encode(
        y=alt.Y("Groupe:N", sort=list(dict.fromkeys(data["Groupe"]))), x=alt.value(WIDTH), text=f"{MASK}:N")
    return finish(alt.layer(chart, rule, marks))


def empty_chart(message: str = "Aucune donnée pour cette sélection."):
    """A chart that only says there is nothing to draw (an empty scale would not render)."""
    text = alt.Chart(pd.DataFrame({"message": [message]})).mark_text(fontSize=13, color="#555555").encode(
        text="message:N")
    return finish(text.properties(width=WIDTH, height=60))


def timeline_chart(frame: pd.DataFrame):
    if frame.empty:
        return empty_chart()
    if "Mois" in frame:  # the comité's grain: counts per month, masked ones written
        months = frame.assign(Mois=frame["Mois"].map(_month_label))
        long = _melt(months, "Mois", [c for c in frame.columns if c != "Mois"], "Série", "Nombre")
        return finish(_grouped_bars(long, "Mois", "Série", "Nombre", "Rencontres du mois", list(months["Mois"])))
    long = frame.melt(id_vars=["Semaine"], var_name="Série", value_name="Cumul")
    chart = alt.Chart(long).mark_line(point=True, interpolate="step-after").encode(
        x=alt.X("Semaine:T", title="Semaine", axis=alt.Axis(format="%e %b %Y", labelAngle=-30)),
        y=alt.Y("Cumul:Q", title="Cumul des rencontres", axis=alt.Axis(format=COUNT_FORMAT, tickMinStep=1)),
        color=alt.Color("Série:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("Semaine:T", title="Semaine du", format="%e %B %Y"), alt.Tooltip("Série:N"),
                 alt.Tooltip("Cumul:Q", format=COUNT_FORMAT)],
    ).properties(width=WIDTH, height=220)
    return finish(chart)


def _month_label(day) -> str:
    day = pd.Timestamp(day)
    return f"{FR_LOCALE['time']['months'][day.month - 1]} {day.year}"


def comparison_chart(frame: pd.DataFrame):
    years = [c for c in frame.columns if c not in ("Indicateur", "Évolution")]
    counts = frame[frame["Indicateur"] != bilan.SATISFACTION]
    long = _melt(counts, "Indicateur", years, "Année scolaire", "Nombre")
    return finish(_grouped_bars(long, "Indicateur", "Année scolaire", "Nombre", "Nombre",
                                list(counts["Indicateur"])))


# ---- map ---------------------------------------------------------------------------------------------------


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (monotone chain), returned clockwise and closed, as d3-geo wants exterior rings."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return []

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(seq):
        chain: list[tuple[float, float]] = []
        for p in seq:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
        return chain[:-1]

    counter_clockwise = half(pts) + half(reversed(pts))
    clockwise = counter_clockwise[::-1]
    return clockwise + clockwise[:1]


@lru_cache(maxsize=1)
def _outlines() -> tuple:
    try:
        from ...domain.communes import all_communes

        communes = all_communes()
    except (ImportError, OSError, KeyError, ValueError):
        return ()
    by_dep: dict[str, list[tuple[float, float]]] = {}
    for c in communes:
        by_dep.setdefault(c.departement, []).append((round(c.longitude, 4), round(c.latitude, 4)))
    features = []
    for dep, points in sorted(by_dep.items()):
        ring = _hull(points)
        if ring:
            features.append({"type": "Feature", "properties": {"departement": dep},
                             "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}})
    return tuple(features)


def departement_outlines() -> list[dict]:
    """A simple outline per département (convex hull of its communes), as GeoJSON features; [] without table."""
    return [dict(f) for f in _outlines()]


MAP_TYPES = ("Entreprises", "Établissements")  # fixed colours even when one kind is masked or absent


def _size_steps(counts: pd.Series) -> list[int]:
    """Whole numbers for the size legend (Vega would otherwise show 1, 1, 2, 2 for fractional ticks)."""
    values = sorted({int(v) for v in counts.dropna() if v > 0})
    if len(values) <= 4:
        return values
    return sorted({values[0], values[len(values) // 3], values[2 * len(values) // 3], values[-1]})


def map_chart(points: pd.DataFrame):
    outlines = departement_outlines()
    layers = []
    if outlines:
        layers.append(alt.Chart(alt.Data(values=outlines)).mark_geoshape(
            fill="#F2F2F2", stroke="#8C8C8C", strokeWidth=0.8))
    numbers = pd.to_numeric(points["Nombre"], errors="coerce")
    masked = points[numbers.isna() & points["Nombre"].map(lambda v: isinstance(v, str))]
    if not masked.empty:  # a masked commune is drawn as a hollow mark reading « < 5 », not left out
        layers.append(alt.Chart(masked.assign(Nombre=masked["Nombre"].astype(str))).mark_point(
            shape="diamond", size=60, filled=False, color="#555555").encode(
            longitude="longitude:Q", latitude="latitude:Q",
            tooltip=[alt.Tooltip("Type:N"), alt.Tooltip("Commune:N"), alt.Tooltip("Nombre:N")]))
    dots = points.assign(Nombre=numbers).dropna(subset=["Nombre"])
    if dots.empty:  # masked or no participant: the outline (and the masked marks) alone
        if not layers:
            return empty_chart()
        return finish(alt.layer(*layers).project("mercator").properties(width=WIDTH, height=WIDTH))
    layers.append(alt.Chart(dots).mark_point(filled=True, opacity=0.7, stroke="white", strokeWidth=0.5).encode(
        longitude="longitude:Q", latitude="latitude:Q",
        size=alt.Size("Nombre:Q", title="Nombre", scale=alt.Scale(range=[30, 600]),
                      legend=alt.Legend(format=COUNT_FORMAT, values=_size_steps(dots["Nombre"]))),
        color=alt.Color("Type:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=list(MAP_TYPES), range=OKABE_ITO[:2])),
        shape=alt.Shape("Type:N", title=None, scale=alt.Scale(domain=list(MAP_TYPES), range=["circle", "square"])),
        tooltip=[alt.Tooltip("Type:N"), alt.Tooltip("Commune:N"), alt.Tooltip("Nombre:Q", format=COUNT_FORMAT)],
    ))
    return finish(alt.layer(*layers).project("mercator").properties(width=WIDTH, height=WIDTH))


def count_bars(category: str, columns: tuple[str, ...], x_title: str = "Nombre"):
    """A chart builder for a table with one row per category and count columns (a new table starts here)."""

    def build(frame: pd.DataFrame):
        long = _melt(frame, category, list(columns), "Indicateur", "Nombre")
        return finish(_grouped_bars(long, category, "Indicateur", "Nombre", x_title, list(frame[category])))

    return build
