"""Explainable pairing score for an (entreprise, personnel) pair.

A pair is either *excluded* (not scored, French reasons listed) or scored as the sum of the parts below. Every part
carries a French label, its points and a French detail, so a coordinator can see why a suggestion was made.

Weights (maximum 121 points):
- distance between the communes' centroids (haversine): up to DISTANCE_POINTS, decreasing linearly to 0 at
  `distance_max_km`; beyond it the pair is excluded. Proximity weighs most: a far meeting rarely happens.
- shared themes: POINTS_PER_THEME each, at most MAX_THEMES_COUNTED counted (30): common ground for the exchange.
- compatible formats ("visite avant"/"visite après" included): POINTS_PER_FORMAT each (20 for all four).
- common availability periods: POINTS_PER_PERIOD each (15 for the five periods of the year), plus
  SEMAINE_EE_BONUS when both are available during the semaine école-entreprise, the programme's highlight.
- the staff member's function is among the company's wished functions (empty list = every function):
  FUNCTION_POINTS.
- remaining capacity of the company this school year: POINTS_PER_FREE_SLOT per free slot, at most
  MAX_SLOTS_COUNTED counted: a small nudge towards companies that still have room.
An eligible pair has at least one free slot, so every scored pair has a total > 0 (the plan relies on it).

Speed: the whole population is encoded once into numpy arrays (`prepare`), candidates come from a KD-tree on the
communes' unit vectors (distance first), and the parts are computed for all candidates at once
(`score_candidates`). `explain` builds the detailed PairScore of one pair from the same formulas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import chain

import numpy as np
from scipy.spatial import cKDTree

from ecole_entreprise import errors

from ...domain.schema import default_schema
from ...domain.statuses import INACTIVE_RECORD, MeetingStatus, meeting_statuses
from ...domain.values import now_paris, parse_date, parse_int, parse_multi, school_year_of
from ...store.base import Row, Snapshot
from ..kernel.parameters import parameters

DISTANCE_POINTS = 30.0
POINTS_PER_THEME = 10.0
MAX_THEMES_COUNTED = 3
POINTS_PER_FORMAT = 5.0
POINTS_PER_PERIOD = 3.0
SEMAINE_EE_BONUS = 10.0
FUNCTION_POINTS = 10.0
POINTS_PER_FREE_SLOT = 2.0
MAX_SLOTS_COUNTED = 3

DEFAULT_DISTANCE_MAX_KM = 60.0
DEFAULT_CANDIDATES = 20  # Parametres « candidats_par_personnel »: companies kept per staff member for the plan
POOL_FACTOR = 3  # the k best are chosen among the POOL_FACTOR·k nearest eligible companies (see README)
EARTH_RADIUS_KM = 6371.0
SEMAINE_EE = "semaine école-entreprise"
INACTIVE_FICHE = frozenset(str(s) for s in INACTIVE_RECORD)
CLOSED_MEETING = frozenset(str(s) for s in MeetingStatus if not s.means.open)  # the others take a place
REFUSED_MEETING = str(MeetingStatus.REFUSED)
PENDING_MEETING = frozenset(str(s) for s in meeting_statuses("ahead"))  # the volunteer is already engaged

LABELS = ("Distance", "Thématiques communes", "Formats compatibles", "Disponibilités communes",
          "Semaine école-entreprise", "Fonction recherchée", "Capacité restante")

Locate = Callable[[str], "tuple[float, float] | None"]


class PairingError(errors.Refused, ValueError):
    """A pairing request that cannot be honoured; `str(error)` is French and can be shown as is."""


@dataclass(frozen=True)
class ScorePart:
    label_fr: str
    points: float
    detail_fr: str


@dataclass(frozen=True)
class PairScore:
    entreprise_id: str
    personnel_id: str
    total: float
    parts: list[ScorePart]
    excluded_reasons: list[str]

    @property
    def excluded(self) -> bool:
        return bool(self.excluded_reasons)


@dataclass(frozen=True)
class PairingSettings:
    distance_max_km: float = DEFAULT_DISTANCE_MAX_KM
    semaine_ee_debut: date | None = None
    semaine_ee_fin: date | None = None
    annee_scolaire: str = ""
    candidates_per_person: int = DEFAULT_CANDIDATES

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, today: date | None = None) -> PairingSettings:
        """Read the Parametres tab; a missing or mistyped value falls back to its default."""
        params = parameters(snapshot)
        year = params.get("annee_scolaire", "")
        if not re.fullmatch(r"\d{4}-\d{4}", year):
            year = school_year_of(today or now_paris().date())
        return cls(distance_max_km=_float_or(params.get("distance_max_km", ""), DEFAULT_DISTANCE_MAX_KM),
                   semaine_ee_debut=_date_or_none(params.get("semaine_ee_debut", "")),
                   semaine_ee_fin=_date_or_none(params.get("semaine_ee_fin", "")), annee_scolaire=year,
                   candidates_per_person=_count_or(params.get("candidats_par_personnel", ""), DEFAULT_CANDIDATES))


def _cell(row: Row | dict, name: str) -> str:
    return (row.get(name, "") if isinstance(row, dict) else row[name]).strip()


def company_label(row: Row | dict) -> str:
    """How a company is named to a person: « raison sociale (commune) », never its ID."""
    name = _cell(row, "raison_sociale") or "Entreprise sans raison sociale"
    town = _cell(row, "commune")
    return f"{name} ({town})" if town else name


def staff_label(row: Row | dict) -> str:
    """How a staff member is named to a person: « Prénom Nom — établissement », never their ID."""
    name = f"{_cell(row, 'prenom')} {_cell(row, 'nom')}".strip() or "Personnel sans nom"
    school = _cell(row, "etablissement") or _cell(row, "commune")
    return f"{name} — {school}" if school else name


def _count_or(text: str, default: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        return default
    return value if value >= 1 else default


def _float_or(text: str, default: float) -> float:
    try:
        value = float(text.replace(",", ".").replace("km", "").strip())
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


def _date_or_none(text: str) -> date | None:
    try:
        return parse_date(text) if text else None
    except ValueError:
        return None


def default_locate(insee: str) -> tuple[float, float] | None:
    """Centroid of a commune from the communes reference (imported lazily: it loads a CSV)."""
    from ...domain.communes import commune_by_insee

    commune = commune_by_insee(insee)
    return None if commune is None else (float(commune.latitude), float(commune.longitude))


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between points given in degrees (numpy arrays or floats)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


# ---- population encoded as arrays ------------------------------------------------------------------------


@dataclass
class Side:
    """One tab (Entreprises or Personnels) encoded for vectorized scoring; indices follow `rows`."""

    rows: list[Row]
    index: dict[str, int]
    latlon: np.ndarray  # (n, 2) degrees, NaN where the commune is not located
    themes: np.ndarray  # (n, len(thematiques)) bool
    formats: np.ndarray  # (n, len(formats_entreprise)) bool
    periods: np.ndarray  # (n, len(periodes)) bool
    blockers: list[list[str]]  # French reasons that exclude every pair of this row

    @property
    def eligible(self) -> np.ndarray:
        return np.array([not b for b in self.blockers], dtype=bool) & ~np.isnan(self.latlon[:, 0])


@dataclass
class PairingData:
    settings: PairingSettings
    vocab: dict[str, tuple[str, ...]]  # thematiques, formats, periodes, fonctions
    entreprises: Side
    personnels: Side
    capacity: np.ndarray  # per entreprise: capacite_annuelle
    remaining: np.ndarray  # per entreprise: capacity minus this year's meetings not refused/cancelled
    wanted: np.ndarray  # (n_e, len(fonctions)) bool: fonctions_souhaitees
    function: np.ndarray  # per personnel: index of its fonction in the list, -1 if unknown
    pair_blockers: dict[tuple[int, int], list[str]]  # (entreprise, personnel) -> reasons from past meetings

    @property
    def week_column(self) -> int | None:
        periods = self.vocab["periodes"]
        return periods.index(SEMAINE_EE) if SEMAINE_EE in periods else None


def _encode(texts: list[str], vocab: tuple[str, ...]) -> np.ndarray:
    """Multichoice cells → bool matrix over the reference list (case-insensitive; unknown values ignored)."""
    position = {v.casefold(): i for i, v in enumerate(vocab)}
    out = np.zeros((len(texts), len(vocab)), dtype=bool)
    for r, text in enumerate(texts):
        for value in parse_multi(text):
            if value.casefold() in position:
                out[r, position[value.casefold()]] = True
    return out


def _unique_rows(rows: list[Row]) -> list[Row]:
    seen: set[str] = set()
    return [r for r in rows if not (r.id in seen or seen.add(r.id))]


def _status(row: Row) -> str:
    return row["statut"].strip().lower()


def _fiche_blockers(row: Row, who: str, tab_word: str) -> list[str]:
    reasons = []
    if _status(row) in INACTIVE_FICHE:
        reasons.append(f"Fiche {tab_word} au statut « {_status(row)} ».")
    if not row["consentement_participation"].strip():
        reasons.append(f"{who} n'a pas donné son consentement à participer.")
    return reasons


def _locate_all(rows: list[Row], locate: Locate, who: str) -> tuple[np.ndarray, list[list[str]]]:
    cache: dict[str, tuple[float, float] | None] = {}
    latlon = np.full((len(rows), 2), np.nan)
    reasons: list[list[str]] = []
    for i, row in enumerate(rows):
        code = row["commune_insee"].strip()
        if code not in cache:
            cache[code] = locate(code) if code else None
        if not code:
            reasons.append([f"Code INSEE de la commune {who} manquant."])
        elif cache[code] is None:
            reasons.append([f"Commune {who} non localisée (code INSEE « {code} »)."])
        else:
            latlon[i] = cache[code]
            reasons.append([])
    return latlon, reasons


def _side(rows: list[Row], vocab: dict, locate: Locate, who: str, tab_word: str, who_cap: str) -> Side:
    latlon, where = _locate_all(rows, locate, who)
    return Side(rows=rows, index={r.id: i for i, r in enumerate(rows)}, latlon=latlon,
                themes=_encode([r["thematiques"] for r in rows], vocab["thematiques"]),
                formats=_encode([r["formats"] for r in rows], vocab["formats"]),
                periods=_encode([r["disponibilites"] for r in rows], vocab["periodes"]),
                blockers=[_fiche_blockers(r, who_cap, tab_word) + w for r, w in zip(rows, where, strict=True)])


def _capacity(row: Row) -> int:
    text = row["capacite_annuelle"].strip()
    try:
        return max(parse_int(text), 0) if text else 1  # schema default: one meeting a year
    except ValueError:
        return 0


def prepare(snapshot: Snapshot, settings: PairingSettings | None = None, locate: Locate | None = None) -> PairingData:
    """Encode the Entreprises, Personnels and Rencontres of a snapshot once, for scoring and planning."""
    settings = settings or PairingSettings.from_snapshot(snapshot)
    lists = default_schema().lists
    vocab = {"thematiques": lists["thematiques"], "formats": lists["formats_entreprise"],
             "periodes": lists["periodes"], "fonctions": lists["fonctions"]}
    locate = locate or default_locate
    ents = _side(_unique_rows(snapshot.rows("Entreprises")), vocab, locate, "de l'entreprise", "entreprise",
                 "L'entreprise")
    pers = _side(_unique_rows(snapshot.rows("Personnels")), vocab, locate, "du personnel", "personnel",
                 "Le personnel")
    functions = {f.casefold(): i for i, f in enumerate(vocab["fonctions"])}
    data = PairingData(
        settings=settings, vocab=vocab, entreprises=ents, personnels=pers,
        capacity=np.array([_capacity(r) for r in ents.rows], dtype=np.int64),
        remaining=np.zeros(len(ents.rows), dtype=np.int64),
        wanted=_encode([r["fonctions_souhaitees"] for r in ents.rows], vocab["fonctions"]),
        function=np.array([functions.get(r["fonction"].strip().casefold(), -1) for r in pers.rows], dtype=np.int64),
        pair_blockers={})
    _apply_meetings(data, snapshot.rows("Rencontres"))
    return data


def _apply_meetings(data: PairingData, meetings: list[Row]) -> None:
    """Past and current meetings: capacity used, pairs already met or refused, staff with a pending meeting."""
    year = data.settings.annee_scolaire
    used = np.zeros(len(data.entreprises.rows), dtype=np.int64)
    for m in meetings:
        e = data.entreprises.index.get(m["entreprise_id"].strip())
        p = data.personnels.index.get(m["personnel_id"].strip())
        status, this_year = _status(m), m["annee_scolaire"].strip() == year
        if this_year and status not in CLOSED_MEETING and e is not None:
            used[e] += 1
        if e is not None and p is not None:
            if this_year and status not in CLOSED_MEETING:
                data.pair_blockers.setdefault((e, p), []).append(
                    f"Rencontre déjà prévue ou faite cette année scolaire {year} (statut « {status} »).")
            if status == REFUSED_MEETING:
                data.pair_blockers.setdefault((e, p), []).append(
                    f"Rencontre refusée auparavant ({m['annee_scolaire'].strip() or 'année inconnue'}).")
        if p is not None and status in PENDING_MEETING:
            with_whom = f"avec {company_label(data.entreprises.rows[e])}, " if e is not None else ""
            data.personnels.blockers[p].append(
                f"Le personnel a déjà une rencontre en cours ({with_whom}statut « {status} »).")
    data.remaining = data.capacity - used
    for e in np.flatnonzero(data.remaining <= 0):
        data.entreprises.blockers[e].append(
            f"L'entreprise n'a plus de place cette année scolaire {year} "
            f"(capacité {data.capacity[e]}, {used[e]} rencontre(s) comptée(s)).")


# ---- vectorized scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """Every scored (not excluded) pair, as parallel arrays of row indices into PairingData sides."""

    entreprise: np.ndarray
    personnel: np.ndarray
    km: np.ndarray
    total: np.ndarray

    def __len__(self) -> int:
        return len(self.total)


def _unit_vectors(latlon: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def near_pairs(a: np.ndarray, b: np.ndarray, max_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i in a, j in b) at most `max_km` apart, with their distance; KD-tree on the unit sphere."""
    if len(a) == 0 or len(b) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0)
    chord = 2 * math.sin(min(max_km / (2 * EARTH_RADIUS_KM), math.pi / 2))
    hits = cKDTree(_unit_vectors(b)).query_ball_point(_unit_vectors(a), r=chord * (1 + 1e-9) + 1e-12)
    counts = np.fromiter(map(len, hits), dtype=np.intp, count=len(hits))
    ia = np.repeat(np.arange(len(a)), counts)
    jb = np.fromiter(chain.from_iterable(hits), dtype=np.intp, count=int(counts.sum()))
    km = haversine_km(a[ia, 0], a[ia, 1], b[jb, 0], b[jb, 1])
    keep = km <= max_km  # the chord test has a tolerance: the exact boundary is decided here
    return ia[keep], jb[keep], km[keep]


def _points(data: PairingData, e: np.ndarray, p: np.ndarray, km: np.ndarray) -> list[np.ndarray]:
    """Points of each part (order of LABELS) for the pairs (e[k], p[k]); shared by the batch and `explain`."""
    ents, pers, max_km = data.entreprises, data.personnels, data.settings.distance_max_km
    closeness = np.where(km >= max_km, 0.0, 1.0 - km / max(max_km, 1e-12))
    common_periods = ents.periods[e] & pers.periods[p]
    week_col = data.week_column
    week = common_periods[:, week_col] if week_col is not None else np.zeros(len(e), dtype=bool)
    f = data.function[p]
    wanted = data.wanted[e]
    fits = ~wanted.any(axis=1) | ((f >= 0) & wanted[np.arange(len(e)), np.maximum(f, 0)])
    return [
        DISTANCE_POINTS * np.clip(closeness, 0.0, 1.0),
        POINTS_PER_THEME * np.minimum((ents.themes[e] & pers.themes[p]).sum(axis=1), MAX_THEMES_COUNTED),
        POINTS_PER_FORMAT * (ents.formats[e] & pers.formats[p]).sum(axis=1),
        POINTS_PER_PERIOD * (common_periods.sum(axis=1) - week),
        SEMAINE_EE_BONUS * week,
        FUNCTION_POINTS * fits,
        POINTS_PER_FREE_SLOT * np.minimum(np.maximum(data.remaining[e], 0), MAX_SLOTS_COUNTED),
    ]


def score_candidates(data: PairingData, entreprises: np.ndarray | None = None,
                     personnels: np.ndarray | None = None) -> Candidates:
    """Score every non-excluded pair (optionally restricted to some row indices), all at once."""
    e_ok = data.entreprises.eligible
    p_ok = data.personnels.eligible
    e_rows = np.flatnonzero(e_ok) if entreprises is None else np.asarray(entreprises)[e_ok[entreprises]]
    p_rows = np.flatnonzero(p_ok) if personnels is None else np.asarray(personnels)[p_ok[personnels]]
    ip, ie, km = near_pairs(data.personnels.latlon[p_rows], data.entreprises.latlon[e_rows],
                            data.settings.distance_max_km)
    p, e = p_rows[ip].astype(np.intp), e_rows[ie].astype(np.intp)
    if data.pair_blockers:
        n_p = len(data.personnels.rows)
        blocked = np.array([be * n_p + bp for be, bp in data.pair_blockers], dtype=np.int64)
        keep = ~np.isin(e.astype(np.int64) * n_p + p, blocked)
        p, e, km = p[keep], e[keep], km[keep]
    parts = _points(data, e, p, km)
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return Candidates(entreprise=e, personnel=p, km=km, total=np.asarray(total, dtype=float))


def best_candidates(data: PairingData, k: int | None = None) -> Candidates:
    """For each eligible staff member, its k best-scoring candidate companies (ties: sheet order), chosen among its
    POOL_FACTOR·k nearest eligible companies within distance_max_km: what the global plan is optimal over.

    Cost grows with the number of staff members, not with staff × companies: the KD-tree returns a bounded pool
    per person (score_candidates, for suggestions, scores every pair within the distance). Staff are taken
    CHUNK at a time so that the arrays stay small whatever the data's size."""
    k = max(1, int(k or data.settings.candidates_per_person))
    ents, pers = data.entreprises, data.personnels
    e_rows, p_rows = np.flatnonzero(ents.eligible), np.flatnonzero(pers.eligible)
    if len(e_rows) == 0 or len(p_rows) == 0:
        empty = np.zeros(0, dtype=np.intp)
        return Candidates(empty, empty, np.zeros(0), np.zeros(0))
    max_km = data.settings.distance_max_km
    chord = 2 * math.sin(min(max_km / (2 * EARTH_RADIUS_KM), math.pi / 2))
    tree = cKDTree(_unit_vectors(ents.latlon[e_rows]))
    pool = min(POOL_FACTOR * k, len(e_rows))
    blocked = _blocked_keys(data)
    parts = [_best_of_chunk(data, tree, e_rows, p_rows[i:i + CHUNK], pool, k, chord, blocked)
             for i in range(0, len(p_rows), CHUNK)]
    return Candidates(*(np.concatenate([part[j] for part in parts]) for j in range(4)))


CHUNK = 2000


def _blocked_keys(data: PairingData) -> np.ndarray:
    n_p = len(data.personnels.rows)
    return np.sort(np.array([e * n_p + p for e, p in data.pair_blockers], dtype=np.int64))


def _best_of_chunk(data, tree, e_rows, p_rows, pool, k, chord, blocked):
    ents, pers, max_km = data.entreprises, data.personnels, data.settings.distance_max_km
    _, found = tree.query(_unit_vectors(pers.latlon[p_rows]), k=pool, distance_upper_bound=chord * (1 + 1e-9) + 1e-12)
    found = np.asarray(found).reshape(len(p_rows), pool)
    hit = found < len(e_rows)
    p = np.repeat(p_rows, pool)[hit.ravel()].astype(np.intp)
    e = e_rows[found[hit]].astype(np.intp)
    km = haversine_km(ents.latlon[e, 0], ents.latlon[e, 1], pers.latlon[p, 0], pers.latlon[p, 1])
    keep = km <= max_km
    if len(blocked):
        keys = e.astype(np.int64) * len(pers.rows) + p
        at = np.minimum(np.searchsorted(blocked, keys), len(blocked) - 1)
        keep &= blocked[at] != keys
    p, e, km = p[keep], e[keep], km[keep]
    points = _points(data, e, p, km)
    total = points[0]
    for part in points[1:]:
        total = total + part  # the order of score_candidates and explain: the same float for the same pair
    total = np.asarray(total, dtype=float)
    order = np.lexsort((e, -total, p))  # by person, best score first, then sheet order
    p, e, km, total = p[order], e[order], km[order], total[order]
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]]) if len(p) else np.zeros(0, dtype=np.intp)
    rank = np.arange(len(p)) - np.repeat(starts, np.diff(np.r_[starts, len(p)]))
    best = rank < k
    return e[best], p[best], km[best], total[best]


# ---- explanation of one pair -----------------------------------------------------------------------------


def _km_text(km: float) -> str:
    return f"{km:.1f}".replace(".", ",") + " km"


def _names(mask: np.ndarray, vocab: tuple[str, ...], skip: str = "") -> list[str]:
    return [v for v, on in zip(vocab, mask, strict=True) if on and v != skip]


def _week_text(settings: PairingSettings) -> str:
    if settings.semaine_ee_debut and settings.semaine_ee_fin:
        return (f" (du {settings.semaine_ee_debut:%d/%m/%Y} au {settings.semaine_ee_fin:%d/%m/%Y})")
    return ""


def _details(data: PairingData, e: int, p: int, km: float) -> list[str]:
    ents, pers, vocab, settings = data.entreprises, data.personnels, data.vocab, data.settings
    towns = (ents.rows[e]["commune"].strip() or ents.rows[e]["commune_insee"].strip(),
             pers.rows[p]["commune"].strip() or pers.rows[p]["commune_insee"].strip())
    themes = _names(ents.themes[e] & pers.themes[p], vocab["thematiques"])
    formats = _names(ents.formats[e] & pers.formats[p], vocab["formats"])
    periods = _names(ents.periods[e] & pers.periods[p], vocab["periodes"], skip=SEMAINE_EE)
    both_week = SEMAINE_EE in _names(ents.periods[e] & pers.periods[p], vocab["periodes"])
    wanted = _names(data.wanted[e], vocab["fonctions"])
    function = pers.rows[p]["fonction"].strip() or "fonction non renseignée"
    free = int(data.remaining[e])
    return [
        f"{_km_text(km)} entre {towns[0]} et {towns[1]} (maximum {_km_text(settings.distance_max_km)}).",
        f"En commun : {', '.join(themes)}." if themes else "Aucune thématique commune.",
        f"En commun : {', '.join(formats)}." if formats else "Aucun format commun.",
        f"En commun : {', '.join(periods)}." if periods else "Aucune période commune hors semaine école-entreprise.",
        (f"Tous deux disponibles pendant la semaine école-entreprise{_week_text(settings)}." if both_week
         else "Pas de disponibilité commune pendant la semaine école-entreprise."),
        ("L'entreprise n'a pas de préférence de fonction." if not wanted
         else f"« {function} » fait partie des fonctions souhaitées." if function in wanted
         else f"« {function} » ne fait pas partie des fonctions souhaitées ({', '.join(wanted)})."),
        f"{free} rencontre(s) encore possible(s) cette année (capacité {int(data.capacity[e])}).",
    ]


def pair_reasons(data: PairingData, e: int, p: int) -> tuple[list[str], float | None]:
    """Every French reason excluding the pair, and the distance when both communes are located."""
    reasons = data.entreprises.blockers[e] + data.personnels.blockers[p] + data.pair_blockers.get((e, p), [])
    a, b = data.entreprises.latlon[e], data.personnels.latlon[p]
    km = None if np.isnan(a[0]) or np.isnan(b[0]) else float(haversine_km(a[0], a[1], b[0], b[1]))
    if km is not None and km > data.settings.distance_max_km:
        reasons = reasons + [f"Distance de {_km_text(km)} supérieure au maximum de "
                             f"{_km_text(data.settings.distance_max_km)}."]
    return reasons, km


def explain(data: PairingData, e: int, p: int) -> PairScore:
    """The detailed score of one pair (row indices); excluded pairs get no parts and a total of 0."""
    ents, pers = data.entreprises, data.personnels
    reasons, km = pair_reasons(data, e, p)
    if reasons:
        return PairScore(ents.rows[e].id, pers.rows[p].id, 0.0, [], reasons)
    points = [float(v[0]) for v in _points(data, np.array([e]), np.array([p]), np.array([km]))]
    details = _details(data, e, p, km)
    parts = [ScorePart(label, pts, text) for label, pts, text in zip(LABELS, points, details, strict=True)]
    total = points[0]
    for value in points[1:]:
        total += value  # same order as score_candidates, so both give the same float
    return PairScore(ents.rows[e].id, pers.rows[p].id, total, parts, [])


def explain_candidates(data: PairingData, found: Candidates, chosen) -> list[PairScore]:
    """`explain` for many candidate pairs at once (the plan's): the points of all of them in one vectorized pass,
    with the same floats as `explain` gives one pair at a time. Candidates are never excluded pairs."""
    chosen = np.asarray(chosen, dtype=np.intp)
    e, p, km = found.entreprise[chosen], found.personnel[chosen], found.km[chosen]
    points = _points(data, e, p, km)
    out = []
    for i in range(len(chosen)):
        ei, pi = int(e[i]), int(p[i])
        texts = _details(data, ei, pi, float(km[i]))
        parts = [ScorePart(label, float(v[i]), text) for label, v, text in zip(LABELS, points, texts, strict=True)]
        out.append(PairScore(data.entreprises.rows[ei].id, data.personnels.rows[pi].id, float(found.total[chosen[i]]),
                             parts, []))
    return out


def indices(data: PairingData, entreprise_id: str | None = None, personnel_id: str | None = None) -> list[int]:
    """Row indices of the given IDs, or a PairingError naming the unknown one."""
    out = []
    if entreprise_id is not None:
        if entreprise_id not in data.entreprises.index:
            raise PairingError(f"Entreprise inconnue : {entreprise_id}.")
        out.append(data.entreprises.index[entreprise_id])
    if personnel_id is not None:
        if personnel_id not in data.personnels.index:
            raise PairingError(f"Personnel inconnu : {personnel_id}.")
        out.append(data.personnels.index[personnel_id])
    return out


def score_pair(snapshot: Snapshot, entreprise_id: str, personnel_id: str, settings: PairingSettings | None = None,
               locate: Locate | None = None) -> PairScore:
    """Score (or list the exclusion reasons of) one pair read from a snapshot."""
    data = prepare(snapshot, settings, locate)
    e, p = indices(data, entreprise_id, personnel_id)
    return explain(data, e, p)
