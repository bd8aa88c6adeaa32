"""Altair charts of the bilan tables (services/bilan/compute.py), for the Bilan page and the PDF report.

A masked cell arrives as text (« < 5 », « n.d. »), the true count never reaches this module: it is drawn as a
short hatched grey stub of fixed length (it says nothing of the size) labelled with that text where its bar would
be, a part of a stacked bar as a hatched segment « < 5 / masqué » filling what the visible parts leave, a commune
of the map as a hollow diamond; never silently left out. Each chart says in its `usermeta` how many values it
marks (`masked_counts`, the note under the chart: `mask_note`). Titles and captions: services/bilan/registry.py.

Chart data hold one type per column (numbers, or French text for the tooltips), so Streamlit serialises them to
Arrow as they are.

Every chart carries the French Vega format locale (decimal comma, narrow no-break space between thousands,
French month names) and the Okabe–Ito colour-blind-safe palette in its config, so it reads the same in the
browser and in the PNG rendered offline for the PDF.
"""

from __future__ import annotations

from functools import lru_cache

import altair as alt
import pandas as pd

from ..kernel.formatting import fmt_int, fmt_value
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

MASK = "Masqué"  # the text of a masked cell, "" when the value is drawn
MASKS_META, MARKER_META = "valeurs_masquées", "repère"
STUB_MARKER = ("Repère : un trait gris hachuré de longueur fixe (il ne dit rien de la valeur), suivi du libellé, "
               "à la place de la barre")
SEGMENT_MARKER = ("Repère : un segment gris hachuré « masqué » qui complète la barre à 100 % ; sa longueur (ce que "
                  "laissent les parts visibles, partagé à parts égales) ne dit rien de chaque réponse")
MAP_MARKER = "Repère : un losange creux gris à l'emplacement de la commune"
STUB_PX = 24  # length of the stub that stands in for a masked bar: fixed, so it tells nothing of the value
MASK_DARK, MASK_LIGHT = "#8C8C8C", "#EEEEEE"
MASK_TEXT = "#333333"
STRIPES = 6
MASKED_PART = "masqué"  # what a hatched segment of a stacked bar reads after its mark: « < 5 / masqué »
NO_RATE, NO_VOLUNTEER = "Sans taux", "aucun volontaire"  # a channel nobody came through has no rate


def _stripes() -> dict:
    """A hatched grey fill (Vega-Lite has no patterns: hard-edged stops of a diagonal linear gradient)."""
    stops = []
    for i in range(STRIPES):
        start, middle, end = i / STRIPES, (i + 0.5) / STRIPES, (i + 1) / STRIPES
        stops += [{"offset": start, "color": MASK_DARK}, {"offset": middle, "color": MASK_DARK},
                  {"offset": middle, "color": MASK_LIGHT}, {"offset": end, "color": MASK_LIGHT}]
    return {"gradient": "linear", "x1": 0, "y1": 0, "x2": 1, "y2": 1, "stops": stops}


HATCH = _stripes()


def finish(chart, masks: dict[str, int] | None = None, marker: str = "") -> alt.TopLevelMixin:
    """French locale, palette and a plain look (the last step of every builder); `masks`: how many values of
    each kind (« < 5 », « n.d. ») the chart marks instead of drawing them, `marker`: how it marks them."""
    done = chart.configure(locale=FR_LOCALE, range=alt.RangeConfig(category=OKABE_ITO)).configure_view(stroke=None)
    return done.properties(usermeta={MASKS_META: dict(masks or {}), MARKER_META: marker or STUB_MARKER})


def masked_counts(chart) -> dict[str, int]:
    """How many values of each kind the chart marks instead of drawing them ({} when none)."""
    meta = getattr(chart, "usermeta", alt.Undefined)
    return {} if meta is alt.Undefined else {k: v for k, v in meta.get(MASKS_META, {}).items() if v}


def mask_note(chart) -> str:
    """The line under a chart that marks masked values: how many, and how they are drawn ("" when none)."""
    counts = masked_counts(chart)
    total = sum(counts.values())
    if not total:
        return ""
    kinds = " et ".join(f"{fmt_int(n)} « {mark} »" for mark, n in counts.items())
    plural = "s" if total > 1 else ""
    return (f"{fmt_int(total)} valeur{plural} masquée{plural} sur ce graphique ({kinds}). "
            f"{chart.usermeta[MARKER_META]}.")


def _height(categories: int, series: int = 1) -> int:
    return max(60, categories * series * ROW_PX + 20)


def _grouped_bars(long: pd.DataFrame, category: str, series: str, value: str, x_title: str,
                  order: list[str]):
    """Horizontal bars, one group per category, one bar per series (yOffset); masked values as marks."""
    series_order = list(dict.fromkeys(long[series]))  # the table's column order, not alphabetical
    y = alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_PX))
    offset = alt.YOffset(f"{series}:N", sort=series_order)
    bars = alt.Chart().mark_bar().encode(
        y=y, yOffset=offset,
        x=alt.X(f"{value}:Q", title=x_title, axis=alt.Axis(format=COUNT_FORMAT, tickMinStep=1),
                scale=alt.Scale(domainMin=0)),
        color=alt.Color(f"{series}:N", title=None, sort=series_order, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{series}:N"),
                 alt.Tooltip(f"{value}:Q", format=COUNT_FORMAT)],
    )  # a masked value is NaN, hence no bar (a filter emptying the layer would break its sizing)
    tooltip = [alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{series}:N")]
    return alt.layer(bars, *_mask_marks(y, offset, tooltip), data=long).properties(
        width=WIDTH, height=_height(len(order), long[series].nunique() or 1))


def _mask_marks(y, offset=None, tooltip=()):
    """For every masked value: a hatched grey stub of fixed length at the start of the axis, and its text."""
    encoding = {"y": y}
    if offset is not None:
        encoding["yOffset"] = offset
    tips = [*tooltip, alt.Tooltip(f"{MASK}:N", title="Valeur")]
    stub = alt.Chart().mark_bar(fill=HATCH, stroke=MASK_DARK, strokeWidth=0.5).encode(
        x=alt.value(0), x2=alt.value(STUB_PX), tooltip=tips, **encoding).transform_filter(f"datum['{MASK}'] != ''")
    text = alt.Chart().mark_text(align="left", baseline="middle", fontSize=10, color=MASK_TEXT).encode(
        x=alt.value(STUB_PX + 3), text=alt.Text(f"{MASK}:N"), **encoding).transform_filter(f"datum['{MASK}'] != ''")
    return stub, text


def _masks(values: pd.Series) -> pd.Series:
    return values.map(lambda v: v if isinstance(v, str) else "")


def _counts(marks: pd.Series) -> dict[str, int]:
    """How many values of each kind a chart marks, from its `Masqué` column."""
    return {mark: int((marks == mark).sum()) for mark in (bilan.SMALL, bilan.NOT_DISCLOSED) if (marks == mark).any()}


def _one_type(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Columns that mix numbers and marks (« < 5 ») become French text, for the tooltips; a column of numbers
    stays numbers. Numbers mixed with text would not serialise to Arrow."""
    mixed = [c for c in columns if c in frame and frame[c].map(lambda v: isinstance(v, str)).any()]
    return frame.assign(**{c: frame[c].map(fmt_value) for c in mixed})


def _melt(frame: pd.DataFrame, category: str, columns: list[str], series: str, value: str) -> pd.DataFrame:
    long = frame.melt(id_vars=[category], value_vars=columns, var_name=series, value_name=value)
    long[MASK] = _masks(long[value])
    long[value] = pd.to_numeric(long[value], errors="coerce")
    return long


def _bars_chart(long: pd.DataFrame, category: str, series: str, value: str, x_title: str, order: list[str]):
    return finish(_grouped_bars(long, category, series, value, x_title, order), _counts(long[MASK]))


def funnel_chart(frame: pd.DataFrame):
    long = _melt(frame, "Étape", ["Personnels", "Entreprises"], "Côté", "Nombre")
    return _bars_chart(long, "Étape", "Côté", "Nombre", "Nombre de personnes", list(bilan.FUNNEL_STAGES))


def departement_chart(frame: pd.DataFrame):
    measures = [bilan.ENTREPRISES, bilan.VOLONTAIRES, bilan.REALISEES]
    long = _melt(frame, "Département", measures, "Indicateur", "Nombre")
    return _bars_chart(long, "Département", "Indicateur", "Nombre", "Nombre", list(frame["Département"]))


def fonction_chart(frame: pd.DataFrame):
    long = _melt(frame, "Fonction", [bilan.VOLONTAIRES, bilan.REALISEES], "Indicateur", "Nombre")
    return _bars_chart(long, "Fonction", "Indicateur", "Nombre", "Nombre", list(frame["Fonction"]))


def canal_chart(frame: pd.DataFrame):
    rates = frame["Taux de conversion"]
    numbers = pd.to_numeric(rates, errors="coerce")
    data = _one_type(frame, [c for c in frame.columns if c not in ("Canal de recrutement", "Taux de conversion")])
    data = data.assign(**{"Taux de conversion": numbers, MASK: _masks(rates),
                          NO_RATE: [NO_VOLUNTEER if pd.isna(n) and not isinstance(r, str) else ""
                                    for n, r in zip(numbers, rates, strict=True)]})
    y = alt.Y("Canal de recrutement:N", sort=list(frame["Canal de recrutement"]), title=None,
              axis=alt.Axis(labelLimit=LABEL_PX))
    bars = alt.Chart().mark_bar(color=OKABE_ITO[2]).encode(
        y=y,
        x=alt.X("Taux de conversion:Q", title="Volontaires ayant réalisé une rencontre (part du canal)",
                axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("Canal de recrutement:N"), alt.Tooltip("Taux de conversion:Q", format=".1%"),
                 alt.Tooltip(f"{bilan.VOLONTAIRES}:N")],
    )  # a masked value is NaN, hence no bar (a filter emptying the layer would break its sizing)
    # a channel nobody came through has no rate: said, not drawn as an empty bar that would read 0 %
    none = alt.Chart().mark_text(align="left", baseline="middle", fontSize=10, color=MASK_TEXT).encode(
        y=y, x=alt.value(3), text=alt.Text(f"{NO_RATE}:N")).transform_filter(f"datum['{NO_RATE}'] != ''")
    marks = _mask_marks(y, tooltip=[alt.Tooltip("Canal de recrutement:N"), alt.Tooltip(f"{bilan.VOLONTAIRES}:N")])
    chart = alt.layer(bars, none, *marks, data=data).properties(width=WIDTH, height=_height(len(frame)))
    return finish(chart, _counts(data[MASK]))


def format_chart(frame: pd.DataFrame):
    data = _one_type(frame, ["Satisfaction moyenne"]).assign(
        **{bilan.REALISEES: pd.to_numeric(frame[bilan.REALISEES], errors="coerce"),
           MASK: _masks(frame[bilan.REALISEES])})
    y = alt.Y("Format:N", sort=list(frame["Format"]), title=None)
    bars = alt.Chart().mark_bar(color=OKABE_ITO[4]).encode(
        y=y,
        x=alt.X(f"{bilan.REALISEES}:Q", title="Rencontres réalisées",
                axis=alt.Axis(format=COUNT_FORMAT, tickMinStep=1), scale=alt.Scale(domainMin=0)),
        tooltip=[alt.Tooltip("Format:N"), alt.Tooltip(f"{bilan.REALISEES}:Q", format=COUNT_FORMAT),
                 alt.Tooltip("Satisfaction moyenne:N")],
    )  # a masked value is NaN, hence no bar (a filter emptying the layer would break its sizing)
    marks = _mask_marks(y, tooltip=[alt.Tooltip("Format:N")])
    chart = alt.layer(bars, *marks, data=data).properties(width=WIDTH, height=_height(len(frame)))
    return finish(chart, _counts(data[MASK]))


def likert_offsets(frame: pd.DataFrame) -> pd.DataFrame:
    """Start and end of each answer's bar, centred on the neutral answer (diverging stacked bars). The masked
    answers of a group share what its visible parts leave of 100 % (equally: their true sizes are unknown here),
    so that a bar never stops short."""
    out = frame.copy()
    marks = _masks(out["Réponses"])
    out[MASK] = marks.where(marks != "", _masks(out["Part"]))
    out = _one_type(out, ["Réponses"])
    out["Part"] = pd.to_numeric(out["Part"], errors="coerce")
    out["Groupe"] = out["Question"] + " — " + out["Côté"]
    out = out.sort_values("Note", kind="stable")  # groups keep the table's order
    hidden = out[MASK] != ""
    shown = out["Part"].fillna(0.0).where(~hidden, 0.0)
    left_over = (1 - shown.groupby(out["Groupe"]).transform("sum")).clip(lower=0)
    sharing = hidden.groupby(out["Groupe"]).transform("sum").clip(lower=1)
    width = shown.where(~hidden, left_over / sharing)
    negative = width.where(out["Note"] < 3, 0) + width.where(out["Note"] == 3, 0) / 2
    left = negative.groupby(out["Groupe"]).transform("sum")
    out["fin"] = width.groupby(out["Groupe"]).cumsum() - left
    out["début"] = out["fin"] - width
    out["Réponse"] = out["Note"].map(LIKERT_LABELS)
    return out


def masked_segments(offsets: pd.DataFrame) -> pd.DataFrame:
    """One hatched segment per run of adjacent masked answers of a group, reading « < 5 / masqué »."""
    segments = []
    for group, rows in offsets.groupby("Groupe", sort=False):
        run: list = []
        for record in [*rows.to_dict("records"), None]:
            if record is not None and record[MASK]:
                run.append(record)
                continue
            if run:
                kinds = ", ".join(dict.fromkeys(r[MASK] for r in run))
                notes = [r["Note"] for r in run]
                which = f"note {notes[0]}" if len(notes) == 1 else f"notes {notes[0]} à {notes[-1]}"
                segments.append({"Groupe": group, "début": run[0]["début"], "fin": run[-1]["fin"],
                                 MASK: f"{kinds} / {MASKED_PART}",
                                 "Détail": f"parts non diffusées ({which})"})
            run = []
    return pd.DataFrame(segments, columns=["Groupe", "début", "fin", MASK, "Détail"])


def likert_chart(frame: pd.DataFrame):
    data = likert_offsets(frame)
    groups = list(dict.fromkeys(data["Groupe"]))
    # masked answers are covered by their hatched segment (an empty layer would break the chart's sizing)
    chart = alt.Chart(data).mark_bar().encode(
        # Question + side labels are long: the default 180 px limit would cut them with an ellipsis.
        y=alt.Y("Groupe:N", title=None, sort=groups, axis=alt.Axis(labelLimit=400)),
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
    segments = masked_segments(data)
    if segments.empty:
        return finish(alt.layer(chart, rule))
    y = alt.Y("Groupe:N", sort=groups)
    hatched = alt.Chart(segments).mark_bar(fill=HATCH, stroke=MASK_DARK, strokeWidth=0.5).encode(
        y=y, x="début:Q", x2="fin:Q", tooltip=[alt.Tooltip("Groupe:N"), alt.Tooltip("Détail:N")])
    labels = alt.Chart(segments.assign(milieu=(segments["début"] + segments["fin"]) / 2)).mark_text(
        baseline="middle", fontSize=10, fontWeight="bold", color="#000000").encode(
        y=y, x="milieu:Q", text=f"{MASK}:N")
    return finish(alt.layer(chart, rule, hatched, labels), _counts(data[MASK]), SEGMENT_MARKER)


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
        return _bars_chart(long, "Mois", "Série", "Nombre", "Rencontres du mois", list(months["Mois"]))
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
    return _bars_chart(long, "Indicateur", "Année scolaire", "Nombre", "Nombre", list(counts["Indicateur"]))


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
    masks = _counts(masked["Nombre"])
    if not masked.empty:  # a masked commune is drawn as a hollow mark reading « < 5 », not left out
        layers.append(alt.Chart(masked.assign(Nombre=masked["Nombre"].astype(str))).mark_point(
            shape="diamond", size=60, filled=False, color="#555555").encode(
            longitude="longitude:Q", latitude="latitude:Q",
            tooltip=[alt.Tooltip("Type:N"), alt.Tooltip("Commune:N"), alt.Tooltip("Nombre:N")]))
    dots = points.assign(Nombre=numbers).dropna(subset=["Nombre"])
    if dots.empty:  # masked or no participant: the outline (and the masked marks) alone
        if not layers:
            return empty_chart()
        return finish(alt.layer(*layers).project("mercator").properties(width=WIDTH, height=WIDTH), masks,
                      MAP_MARKER)
    layers.append(alt.Chart(dots).mark_point(filled=True, opacity=0.7, stroke="white", strokeWidth=0.5).encode(
        longitude="longitude:Q", latitude="latitude:Q",
        size=alt.Size("Nombre:Q", title="Nombre", scale=alt.Scale(range=[30, 600]),
                      legend=alt.Legend(format=COUNT_FORMAT, values=_size_steps(dots["Nombre"]))),
        color=alt.Color("Type:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=list(MAP_TYPES), range=OKABE_ITO[:2])),
        shape=alt.Shape("Type:N", title=None, scale=alt.Scale(domain=list(MAP_TYPES), range=["circle", "square"])),
        tooltip=[alt.Tooltip("Type:N"), alt.Tooltip("Commune:N"), alt.Tooltip("Nombre:Q", format=COUNT_FORMAT)],
    ))
    return finish(alt.layer(*layers).project("mercator").properties(width=WIDTH, height=WIDTH), masks, MAP_MARKER)


def count_bars(category: str, columns: tuple[str, ...], x_title: str = "Nombre"):
    """A chart builder for a table with one row per category and count columns (a new table starts here)."""

    def build(frame: pd.DataFrame):
        long = _melt(frame, category, list(columns), "Indicateur", "Nombre")
        return _bars_chart(long, category, "Indicateur", "Nombre", x_title, list(frame[category]))

    return build
