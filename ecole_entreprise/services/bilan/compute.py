"""Bilan aggregates for the pilotage pages and the steering-committee report (pure pandas, aggregates only).

Conventions, the same in every table:
- A meeting belongs to the school year written in its `annee_scolaire` cell and to its company's département
  (the meeting takes place at or with the company), so every meeting count adds up to the same total.
- A person (company or volunteer) is "recensé" in the school year of its `created_at`.
- The period filter keeps what happened in the period: a meeting by its `date` (its `created_at` while it is
  not dated yet), a person by its `created_at`, a partnership by its `date_debut` (else its `created_at`).
- A meeting is accepted when both sides accepted it (or it went past "acceptée"), held when "réalisée" or
  "bilan saisi", concluded when "bilan saisi".

Every function takes a Snapshot or, to share the conversion work, a `BilanData` from `prepare(snapshot)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd

from ecole_entreprise import errors

from ...domain.roles import ACADEMIES, ALL_DEPARTEMENTS, academie_of
from ...domain.schema import default_schema
from ...domain.statuses import meeting_statuses
from ...domain.values import is_school_year, parse_date
from ...store.base import Snapshot
from ..kernel.formatting import departement_label, fmt_date
from ..kernel.parameters import current_school_year, parameters

SEMAINE_EE = "semaine école-entreprise"
HELD = meeting_statuses("held")
ACCEPTED = meeting_statuses("accepted")
CONCLUDED = meeting_statuses("concluded")
IN_PROGRESS = meeting_statuses("ahead")
THRESHOLD = 5
SMALL = f"< {THRESHOLD}"
NOT_DISCLOSED = "n.d."

# KPI labels (rows of `kpis`, `comparison`, `home_kpis`)
ENTREPRISES = "Entreprises recensées"
VOLONTAIRES = "Volontaires recensés"
PROPOSEES = "Rencontres proposées"
REALISEES = "Rencontres réalisées"
PARTENARIATS = "Partenariats"
SATISFACTION = "Satisfaction moyenne (sur 5)"
EN_COURS = "Rencontres en cours"
# Counts masked under 5 for the comité and in exports: people, and the meetings and partnerships between them
# (with a territory filter, a small count of meetings would point at the few people who held them).
PEOPLE_KPIS = (ENTREPRISES, VOLONTAIRES, PROPOSEES, EN_COURS, REALISEES, PARTENARIATS)
SECONDARY = NOT_DISCLOSED  # a count masked so that a total cannot give back a small one

FUNNEL_STAGES = ("Listés", "Proposés", "Acceptés", "Réalisés", "Conclus (bilan saisi)", "Partenariat")
LIKERT_QUESTIONS = {"Satisfaction": ("sat_e", "sat_p"), "Meilleure compréhension": ("comp_e", "comp_p")}
SIDES = ("Entreprises", "Personnels")
NOT_GIVEN = "non renseigné"

PERCENT_COLUMNS = ("Taux de conversion", "Part")  # ratios 0–1, shown as percents
SIGNED_COLUMNS = ("Évolution",)  # relative changes, shown with a sign

class BilanFilterError(errors.Invalid, ValueError):
    """A filter that cannot be applied; the message is French."""


@dataclass(frozen=True)
class BilanFilter:
    """Which school year, territory and period a bilan covers."""

    annee_scolaire: str
    academie: str | None = None
    departements: tuple[str, ...] | None = None
    periode: tuple[date, date] | str | None = None  # date range (inclusive) or SEMAINE_EE

    def __post_init__(self):
        if not is_school_year(self.annee_scolaire):
            raise BilanFilterError(f"Année scolaire « {self.annee_scolaire} » invalide : attendu deux années qui "
                                   "se suivent, par exemple 2025-2026.")
        if self.departements is not None:
            object.__setattr__(self, "departements", tuple(sorted(str(d).zfill(2) for d in self.departements)))
        if self.academie and self.academie not in ACADEMIES:
            raise BilanFilterError(f"Académie inconnue : « {self.academie} » (attendu Dijon ou Besançon).")
        if isinstance(self.periode, str) and self.periode != SEMAINE_EE:
            raise BilanFilterError(f"Période inconnue : « {self.periode} ».")
        if isinstance(self.periode, (tuple, list)):
            start, end = self.periode
            if start > end:
                raise BilanFilterError("La période commence après sa fin.")
            object.__setattr__(self, "periode", (start, end))

    @property
    def scope(self) -> frozenset[str]:
        deps = set(ALL_DEPARTEMENTS)
        if self.academie:
            deps &= set(ACADEMIES[self.academie])
        if self.departements is not None:
            deps &= set(self.departements)
        return frozenset(deps)


@dataclass
class BilanData:
    """The tabs reduced to the columns the bilan needs, with parsed dates and numbers."""

    entreprises: pd.DataFrame
    personnels: pd.DataFrame
    rencontres: pd.DataFrame
    partenariats: pd.DataFrame
    semaine_ee: tuple[date, date] | None
    annee_courante: str
    # Per school year, the comité's masked tables of every fixed territory (services/bilan/small_cells.py).
    cache: dict = field(default_factory=dict, repr=False, compare=False)


# ---- preparation -------------------------------------------------------------------------------------------


def _frame(rows, fields: list[str]) -> pd.DataFrame:
    data = [[(r.values.get(f) or "").strip() for f in fields] for r in rows]
    return pd.DataFrame(data, columns=fields, dtype=object)


def _days(series: pd.Series) -> pd.Series:
    """Cell text → day (ISO, or dd/mm/yyyy typed by a person); NaT when empty or unreadable."""
    text = series.astype(str)
    iso = pd.to_datetime(text.str[:10], format="%Y-%m-%d", errors="coerce")
    french = pd.to_datetime(text.str.split(" ").str[0], format="%d/%m/%Y", errors="coerce")
    return iso.fillna(french)


def _school_years(days: pd.Series) -> pd.Series:
    start = days.dt.year.where(days.dt.month >= 9, days.dt.year - 1)
    return start.map(lambda y: f"{int(y)}-{int(y) + 1}" if pd.notna(y) else "")


def _departements(series: pd.Series) -> pd.Series:
    """"21", " 21 ", "9" → "21", "09": people type départements by hand in the sheet."""
    text = series.astype(str).str.strip()
    return text.where(~text.str.fullmatch(r"\d"), text.str.zfill(2))


def _likert(series: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    return numbers.where(numbers.between(1, 5)).round()


def _people(rows, extra: list[str]) -> pd.DataFrame:
    frame = _frame(rows, ["id", "departement", "commune_insee", "statut", "created_at"] + extra)
    frame["departement"] = _departements(frame["departement"])
    frame["jour"] = _days(frame.pop("created_at"))
    frame["annee"] = _school_years(frame["jour"])
    return frame


def _meetings_frame(rows, entreprises: pd.DataFrame, personnels: pd.DataFrame) -> pd.DataFrame:
    fields = ["id", "entreprise_id", "personnel_id", "annee_scolaire", "statut", "date", "created_at", "format",
              "acceptation_entreprise", "acceptation_personnel", "satisfaction_entreprise", "satisfaction_personnel",
              "comprehension_entreprise", "comprehension_personnel", "conclusions_entreprise", "conclusions_personnel"]
    m = _frame(rows, fields).rename(columns={"annee_scolaire": "annee"})
    m["day"] = _days(m.pop("date"))
    m["created"] = _days(m.pop("created_at"))
    m["jour"] = m["day"].fillna(m["created"])
    for short, name in (("sat_e", "satisfaction_entreprise"), ("sat_p", "satisfaction_personnel"),
                        ("comp_e", "comprehension_entreprise"), ("comp_p", "comprehension_personnel")):
        m[short] = _likert(m.pop(name))
    both = (m.pop("acceptation_entreprise") != "") & (m.pop("acceptation_personnel") != "")
    m["acceptee"] = m["statut"].isin(ACCEPTED) | both
    m["realisee"] = m["statut"].isin(HELD)
    m["conclue"] = m["statut"].isin(CONCLUDED)
    m["departement"] = m["entreprise_id"].map(entreprises.set_index("id")["departement"].to_dict())
    per = personnels.set_index("id")
    for column in ("fonction", "canal"):
        m[column] = m["personnel_id"].map(per[column].to_dict())
    return m


def _partnerships_frame(rows, entreprises: pd.DataFrame) -> pd.DataFrame:
    p = _frame(rows, ["id", "entreprise_id", "rencontre_id", "annee_scolaire", "date_debut", "created_at"])
    p["jour"] = _days(p.pop("date_debut")).fillna(_days(p.pop("created_at")))
    written = p.pop("annee_scolaire")
    p["annee"] = written.where(written != "", _school_years(p["jour"]))
    p["departement"] = p["entreprise_id"].map(entreprises.set_index("id")["departement"].to_dict())
    return p


def _week(params: dict[str, str]) -> tuple[date, date] | None:
    try:
        return parse_date(params.get("semaine_ee_debut", "")), parse_date(params.get("semaine_ee_fin", ""))
    except ValueError:
        return None


def prepare(snapshot: Snapshot) -> BilanData:
    """Convert the tabs once; every aggregate below can then be computed from the result."""
    entreprises = _people(snapshot.rows("Entreprises"), [])
    personnels = _people(snapshot.rows("Personnels"), ["fonction", "canal", "uai", "etablissement"])
    params = parameters(snapshot)
    return BilanData(
        entreprises=entreprises,
        personnels=personnels,
        rencontres=_meetings_frame(snapshot.rows("Rencontres"), entreprises, personnels),
        partenariats=_partnerships_frame(snapshot.rows("Partenariats"), entreprises),
        semaine_ee=_week(params),
        annee_courante=current_school_year(snapshot, date.today()),
    )


def _data(source: Snapshot | BilanData) -> BilanData:
    return source if isinstance(source, BilanData) else prepare(source)


def annee_courante(source: Snapshot | BilanData) -> str:
    """The current school year from Parametres (« annee_scolaire »), else today's."""
    return _data(source).annee_courante


def filter_label(filt: BilanFilter, source: Snapshot | BilanData | None = None) -> str:
    """French description of what a bilan covers: territory, then period."""
    if filt.scope == ALL_DEPARTEMENTS:
        territory = "Bourgogne-Franche-Comté"
    elif filt.academie and filt.scope == frozenset(ACADEMIES[filt.academie]):
        territory = f"Académie de {filt.academie}"
    else:
        territory = "Départements : " + ", ".join(departement_label(d) for d in sorted(filt.scope))
    if filt.periode is None:
        return f"{territory} — toute l'année scolaire {filt.annee_scolaire}"
    if filt.periode == SEMAINE_EE:
        week = _data(source).semaine_ee if source is not None else None
        dates = f" du {fmt_date(week[0])} au {fmt_date(week[1])}" if week else ""
        return f"{territory} — {SEMAINE_EE}{dates}"
    start, end = filt.periode
    return f"{territory} — du {fmt_date(start)} au {fmt_date(end)}"


def previous_school_year(annee: str) -> str:
    start = int(annee[:4])
    return f"{start - 1}-{start}"


# ---- selection ---------------------------------------------------------------------------------------------


def _range(data: BilanData, filt: BilanFilter) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if filt.periode is None:
        return None
    if filt.periode == SEMAINE_EE:
        if data.semaine_ee is None:
            raise BilanFilterError("Les dates de la semaine école-entreprise sont absentes de l'onglet Parametres.")
        start, end = data.semaine_ee
    else:
        start, end = filt.periode
    return pd.Timestamp(start), pd.Timestamp(end)


def _selected(frame: pd.DataFrame, data: BilanData, filt: BilanFilter) -> pd.DataFrame:
    key = ("selected", id(frame), filt)  # every table selects the same rows: once per filter and frame
    kept = data.cache.get(key)
    if kept is None or kept[0] is not frame:
        mask = (frame["annee"] == filt.annee_scolaire) & frame["departement"].isin(filt.scope)
        window = _range(data, filt)
        if window is not None:
            mask &= frame["jour"].between(*window)
        kept = data.cache[key] = (frame, frame[mask])
    return kept[1]


def _meetings(data: BilanData, filt: BilanFilter) -> pd.DataFrame:
    return _selected(data.rencontres, data, filt)


def _listed(frame: pd.DataFrame, data: BilanData, filt: BilanFilter) -> pd.DataFrame:
    return _selected(frame, data, filt)


def _participants(frame: pd.DataFrame, meetings: pd.DataFrame, column: str, data: BilanData,
                  filt: BilanFilter) -> pd.DataFrame:
    """Recensés this year plus everyone with a meeting this year (funnel's first stage, map)."""
    ids = set(_listed(frame, data, filt)["id"]) | set(meetings[column])
    return frame[frame["id"].isin(ids)]


# ---- aggregates --------------------------------------------------------------------------------------------


def _kpi_values(data: BilanData, filt: BilanFilter) -> dict[str, float | int | None]:
    meetings = _meetings(data, filt)
    held = meetings[meetings["realisee"]]
    scores = pd.concat([held["sat_e"], held["sat_p"]]).dropna()
    return {
        ENTREPRISES: len(_listed(data.entreprises, data, filt)),
        VOLONTAIRES: len(_listed(data.personnels, data, filt)),
        PROPOSEES: len(meetings),
        REALISEES: len(held),
        PARTENARIATS: len(_selected(data.partenariats, data, filt)),
        SATISFACTION: round(float(scores.mean()), 2) if len(scores) else None,
    }


def _two_columns(values: dict) -> pd.DataFrame:
    return pd.DataFrame({"Indicateur": list(values), "Valeur": pd.Series(list(values.values()), dtype=object)})


def kpis(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Indicateur / Valeur: companies and volunteers recensés, meetings proposed and held, partnerships,
    mean satisfaction (both sides' answers on held meetings, 1–5)."""
    return _two_columns(_kpi_values(_data(source), filt))


def funnel(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Étape / Personnels / Entreprises: how many people reached each stage (at least one meeting at that stage).

    "Listés" counts the year's recensés plus everyone with a meeting this year, so the stages only narrow.
    """
    data = _data(source)
    meetings = _meetings(data, filt)
    partnered = meetings["id"].isin(set(data.partenariats["rencontre_id"]) - {""})
    columns = {}
    for side, frame, key in (("Personnels", data.personnels, "personnel_id"),
                             ("Entreprises", data.entreprises, "entreprise_id")):
        listed = len(_participants(frame, meetings, key, data, filt))
        stages = (pd.Series(True, index=meetings.index), meetings["acceptee"], meetings["realisee"],
                  meetings["conclue"], partnered)
        counts = [meetings.loc[mask, key].nunique() for mask in stages]
        columns[side] = [listed] + counts
    return pd.DataFrame({"Étape": list(FUNNEL_STAGES), **columns})


def by_departement(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Département / Académie / Entreprises recensées / Volontaires recensés / Rencontres réalisées."""
    data = _data(source)
    meetings = _meetings(data, filt)
    deps = sorted(filt.scope)
    ent = _listed(data.entreprises, data, filt)["departement"].value_counts()
    per = _listed(data.personnels, data, filt)["departement"].value_counts()
    held = meetings.loc[meetings["realisee"], "departement"].value_counts()
    return pd.DataFrame({
        "Département": [departement_label(d) for d in deps],
        "Académie": [academie_of(d) for d in deps],
        ENTREPRISES: [int(ent.get(d, 0)) for d in deps],
        VOLONTAIRES: [int(per.get(d, 0)) for d in deps],
        REALISEES: [int(held.get(d, 0)) for d in deps],
    })


def _categories(known: tuple[str, ...], *series: pd.Series) -> list[str]:
    """The list's order, then values typed by hand, then blanks last (as NOT_GIVEN)."""
    seen = set().union(*(set(s.fillna("")) for s in series))
    others = sorted(v for v in seen if v and v not in known)
    return list(known) + others + ([NOT_GIVEN] if "" in seen else [])


def _counts(series: pd.Series, categories: list[str]) -> list[int]:
    counts = series.fillna("").replace("", NOT_GIVEN).value_counts()
    return [int(counts.get(c, 0)) for c in categories]


def by_fonction(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Fonction / Volontaires recensés / Rencontres réalisées (by the volunteer's function)."""
    data = _data(source)
    listed = _listed(data.personnels, data, filt)
    held = _meetings(data, filt).query("realisee")
    fonctions = _categories(default_schema().lists["fonctions"], listed["fonction"], held["fonction"])
    return pd.DataFrame({"Fonction": fonctions, VOLONTAIRES: _counts(listed["fonction"], fonctions),
                         REALISEES: _counts(held["fonction"], fonctions)})


def by_canal(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Which recruitment channel works: of the volunteers recensés this year through each channel, how many
    held at least one meeting this year (conversion rate), and all meetings held by volunteers of that channel."""
    data = _data(source)
    listed = _listed(data.personnels, data, filt)
    held = _meetings(data, filt).query("realisee")
    converted = listed[listed["id"].isin(set(held["personnel_id"]))]
    canaux = _categories(default_schema().lists["canaux"], listed["canal"], held["canal"])
    cohort = _counts(listed["canal"], canaux)
    done = _counts(converted["canal"], canaux)
    rates = [d / c if c else None for d, c in zip(done, cohort, strict=True)]
    return pd.DataFrame({
        "Canal de recrutement": canaux,
        VOLONTAIRES: cohort,
        "Volontaires ayant réalisé une rencontre": done,
        "Taux de conversion": pd.Series(rates, dtype=object),
        REALISEES: _counts(held["canal"], canaux),
    })


def by_format(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Format / Rencontres réalisées / Satisfaction moyenne (both sides' answers, 1–5)."""
    data = _data(source)
    held = _meetings(data, filt).query("realisee")
    formats = _categories(default_schema().lists["formats_rencontre"], held["format"])
    keyed = held.assign(format=held["format"].replace("", NOT_GIVEN))
    means = []
    for name in formats:
        rows = keyed[keyed["format"] == name]
        scores = pd.concat([rows["sat_e"], rows["sat_p"]]).dropna()
        means.append(round(float(scores.mean()), 2) if len(scores) else None)
    return pd.DataFrame({"Format": formats, REALISEES: _counts(held["format"], formats),
                         "Satisfaction moyenne": pd.Series(means, dtype=object)})


def likert(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Question / Côté / Note (1–5) / Réponses / Part: answers of both sides on held meetings."""
    data = _data(source)
    held = _meetings(data, filt).query("realisee")
    records = []
    for question, columns in LIKERT_QUESTIONS.items():
        for side, column in zip(SIDES, columns, strict=True):
            counts = held[column].dropna().astype(int).value_counts()
            total = int(counts.sum())
            for note in range(1, 6):
                n = int(counts.get(note, 0))
                records.append((question, side, note, n, n / total if total else 0.0))
    return pd.DataFrame(records, columns=["Question", "Côté", "Note", "Réponses", "Part"])


def timeline(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Semaine (Monday) / Rencontres proposées / Rencontres réalisées, both cumulative over the school year.

    Proposals are dated by their creation, held meetings by their date; dates outside the school year are
    brought to its first or last day. Weeks run from the one of 1 September to the last one with an event.
    """
    data = _data(source)
    meetings = _meetings(data, filt)
    columns = ["Semaine", PROPOSEES, REALISEES]
    first = pd.Timestamp(int(filt.annee_scolaire[:4]), 9, 1)
    last_day = pd.Timestamp(first.year + 1, 8, 31)

    def weeks(days: pd.Series) -> pd.Series:
        days = days.dropna().clip(first, last_day)
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")

    proposed = weeks(meetings["created"].fillna(meetings["jour"]))
    held = weeks(meetings.loc[meetings["realisee"], "jour"])
    if proposed.empty and held.empty:
        return pd.DataFrame(columns=columns)
    start = first - pd.Timedelta(days=first.weekday())
    index = pd.date_range(start, max(pd.concat([proposed, held])), freq="7D")
    cumulative = [s.value_counts().reindex(index, fill_value=0).cumsum().astype(int).to_list()
                  for s in (proposed, held)]
    return pd.DataFrame({"Semaine": index, PROPOSEES: cumulative[0], REALISEES: cumulative[1]})


def _previous(data: BilanData, filt: BilanFilter) -> BilanFilter:
    window = _range(data, filt)
    shifted = None
    if window is not None:
        shifted = tuple(_year_before(t.date()) for t in window)
    return replace(filt, annee_scolaire=previous_school_year(filt.annee_scolaire), periode=shifted)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def comparison(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Indicateur / <previous year> / <this year> / Évolution (relative change; None when not computable).

    Same territory; a period is compared with the same dates one year earlier."""
    data = _data(source)
    before_filter = _previous(data, filt)
    now, before = _kpi_values(data, filt), _kpi_values(data, before_filter)
    evolution = [(now[k] - before[k]) / before[k] if before[k] and now[k] is not None else None for k in now]
    return pd.DataFrame({
        "Indicateur": list(now),
        before_filter.annee_scolaire: pd.Series(list(before.values()), dtype=object),
        filt.annee_scolaire: pd.Series(list(now.values()), dtype=object),
        "Évolution": pd.Series(evolution, dtype=object),
    })


def conclusions(source: Snapshot | BilanData, filt: BilanFilter, include_free_text: bool) -> pd.DataFrame:
    """Rencontre / Date / Côté / Conclusions — free text: only when the caller's role may read it."""
    columns = ["Rencontre", "Date", "Côté", "Conclusions"]
    if not include_free_text:
        return pd.DataFrame(columns=columns)
    meetings = _meetings(_data(source), filt).sort_values(["jour", "id"])
    records = []
    for side, column in (("Entreprise", "conclusions_entreprise"), ("Personnel", "conclusions_personnel")):
        for row in meetings[meetings[column] != ""].itertuples():
            records.append((row.id, row.day.date() if pd.notna(row.day) else None, side, getattr(row, column)))
    records.sort(key=lambda r: (r[1] or date.max, r[0], r[2]))
    return pd.DataFrame(records, columns=columns)


def _locate():
    """The communes table, imported lazily: without it there is simply no map."""
    try:
        from ...domain.communes import commune_by_insee

        commune_by_insee("")  # loads the table now, so a missing or broken file means "no map"
    except (ImportError, OSError, KeyError, ValueError):
        return None
    return commune_by_insee


def map_points(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Type / Commune / Département / Nombre / latitude / longitude: participating companies and the
    establishments of participating volunteers, counted per commune (aggregates, no names)."""
    columns = ["Type", "Commune", "Département", "Nombre", "latitude", "longitude"]
    locate = _locate()
    if locate is None:
        return pd.DataFrame(columns=columns)
    data = _data(source)
    meetings = _meetings(data, filt)
    companies = _participants(data.entreprises, meetings, "entreprise_id", data, filt)
    staff = _participants(data.personnels, meetings, "personnel_id", data, filt)
    key = staff["uai"].str.upper().where(staff["uai"] != "", staff["etablissement"].str.lower())
    schools = staff.assign(key=key.where(key != "", staff["id"])).drop_duplicates(["key", "commune_insee"])
    records = []
    for kind, frame in (("Entreprises", companies), ("Établissements", schools)):
        for insee, count in frame["commune_insee"].value_counts().items():
            commune = locate(insee)
            if commune is not None:
                records.append((kind, commune.nom, commune.departement, int(count), commune.latitude,
                                commune.longitude))
    return pd.DataFrame(records, columns=columns)


def pending(source: Snapshot | BilanData, filt: BilanFilter) -> int:
    """Meetings of the selection still ahead (proposed, accepted or planned): the home page's « en cours »."""
    data = _data(source)
    return int(_meetings(data, filt)["statut"].isin(IN_PROGRESS).sum())


def kpis_with_pending(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """The KPI table plus « Rencontres en cours » (the home page's extra tile)."""
    data = _data(source)
    values = _kpi_values(data, filt)
    values[EN_COURS] = pending(data, filt)
    return _two_columns(values)


def months(source: Snapshot | BilanData, filt: BilanFilter) -> pd.DataFrame:
    """Mois / Rencontres proposées / Rencontres réalisées, per month of the school year (not cumulative): the
    timeline at the grain the comité receives, so that no week-to-week difference gives away a small count."""
    data = _data(source)
    meetings = _meetings(data, filt)
    first = pd.Timestamp(int(filt.annee_scolaire[:4]), 9, 1)
    index = pd.date_range(first, periods=12, freq="MS")

    def per_month(days: pd.Series) -> list[int]:
        days = days.dropna().clip(first, index[-1] + pd.offsets.MonthEnd(1))
        starts = days.dt.to_period("M").dt.to_timestamp()
        return starts.value_counts().reindex(index, fill_value=0).astype(int).to_list()

    return pd.DataFrame({"Mois": index, PROPOSEES: per_month(meetings["created"].fillna(meetings["jour"])),
                         REALISEES: per_month(meetings.loc[meetings["realisee"], "jour"])})
