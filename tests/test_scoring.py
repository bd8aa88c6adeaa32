"""Explainable pair scores: hand-computed totals, every exclusion, settings, and batch = one-by-one."""

from __future__ import annotations

import math
import re
import sys
import types
from datetime import date, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.pairing import scoring
from ecole_entreprise.services.pairing.scoring import (
    EARTH_RADIUS_KM,
    PairingError,
    PairingSettings,
    explain,
    prepare,
    score_candidates,
    score_pair,
)
from ecole_entreprise.store.base import Row, Snapshot, TabData, fingerprint

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180  # along a meridian
CONSENT = "2025-09-15 10:00:00"
YEAR = "2025-2026"


def place(km: float) -> tuple[float, float]:
    """A point `km` north of (47°N, 5°E) on the same meridian: distances between places are exact."""
    return (47.0 + km / KM_PER_DEGREE, 5.0)


LOCATIONS = {"21001": place(0), "21002": place(15), "21003": place(60), "21004": place(61), "21005": place(30)}


def locate(code: str):
    return LOCATIONS.get(code)


def tab_data(name: str, records: list[dict]) -> TabData:
    tab = default_schema().tab(name)
    rows = []
    for number, record in enumerate(records, start=2):
        values = {f: str(record.get(f, "")) for f in tab.field_names}
        rows.append(Row(values["id"], values, {}, number, fingerprint(tab, values)))
    return TabData(name, tab.headers, rows)


def snapshot(entreprises=(), personnels=(), rencontres=(), parametres=None) -> Snapshot:
    parametres = {"annee_scolaire": YEAR, "semaine_ee_debut": "2026-01-19", "semaine_ee_fin": "2026-01-23",
                  "distance_max_km": "60"} if parametres is None else parametres
    params = [{"id": f"PRM-{i}", "cle": k, "valeur": v} for i, (k, v) in enumerate(parametres.items())]
    return Snapshot(tabs={"Entreprises": tab_data("Entreprises", list(entreprises)),
                          "Personnels": tab_data("Personnels", list(personnels)),
                          "Rencontres": tab_data("Rencontres", list(rencontres)),
                          "Parametres": tab_data("Parametres", params)}, read_at=datetime(2025, 10, 1))


def company(**changes) -> dict:
    base = {"id": "ENT-A", "raison_sociale": "Fromagerie", "commune_insee": "21001", "commune": "Dijon",
            "thematiques": "management; orientation; gestion de projet", "formats": "déjeuner; visite avant",
            "disponibilites": "septembre-octobre; semaine école-entreprise; mai-juin",
            "fonctions_souhaitees": "CPE; professeur", "capacite_annuelle": "3", "statut": "validé",
            "consentement_participation": CONSENT}
    return {**base, **changes}


def staff(**changes) -> dict:
    base = {"id": "PER-B", "nom": "Martin", "commune_insee": "21002", "commune": "Beaune", "fonction": "CPE",
            "thematiques": "management; orientation; autre", "formats": "visite avant; salon",
            "disponibilites": "semaine école-entreprise; mai-juin; janvier-février", "statut": "validé",
            "consentement_participation": CONSENT}
    return {**base, **changes}


def meeting(**changes) -> dict:
    base = {"id": "REN-1", "entreprise_id": "ENT-A", "personnel_id": "PER-B", "annee_scolaire": YEAR,
            "statut": "réalisée"}
    return {**base, **changes}


def pair(entreprises=None, personnels=None, rencontres=(), parametres=None):
    snap = snapshot(entreprises or [company()], personnels or [staff()], rencontres, parametres)
    return score_pair(snap, "ENT-A", "PER-B", locate=locate)


def points(score) -> dict[str, float]:
    return {part.label_fr: part.points for part in score.parts}


# ---- hand-computed scores --------------------------------------------------------------------------------


def test_hand_computed_score_and_details():
    # one meeting of ENT-A with someone else this year: 3 - 1 = 2 free slots
    score = pair(personnels=[staff(), staff(id="PER-Z")], rencontres=[meeting(personnel_id="PER-Z")])
    assert not score.excluded
    assert points(score) == pytest.approx({
        "Distance": 30 * (1 - 15 / 60),  # 22.5
        "Thématiques communes": 20.0,  # management, orientation
        "Formats compatibles": 5.0,  # visite avant
        "Disponibilités communes": 3.0,  # mai-juin (the week is counted apart)
        "Semaine école-entreprise": 10.0,
        "Fonction recherchée": 10.0,  # CPE is wished
        "Capacité restante": 4.0,  # 2 free slots × 2
    })
    assert score.total == pytest.approx(74.5)
    details = {part.label_fr: part.detail_fr for part in score.parts}
    assert details["Distance"] == "15,0 km entre Dijon et Beaune (maximum 60,0 km)."
    assert details["Thématiques communes"] == "En commun : management, orientation."
    assert details["Formats compatibles"] == "En commun : visite avant."
    assert details["Disponibilités communes"] == "En commun : mai-juin."
    assert "du 19/01/2026 au 23/01/2026" in details["Semaine école-entreprise"]
    assert details["Capacité restante"] == "2 rencontre(s) encore possible(s) cette année (capacité 3)."


def test_themes_capped_functions_and_empty_preferences():
    all_themes = "; ".join(default_schema().lists["thematiques"])
    score = pair(entreprises=[company(thematiques=all_themes, fonctions_souhaitees="")],
                 personnels=[staff(thematiques=all_themes, fonction="inspecteur")])
    assert points(score)["Thématiques communes"] == 30.0  # 6 shared, at most 3 counted
    assert points(score)["Fonction recherchée"] == 10.0  # no preference = every function
    assert "pas de préférence" in score.parts[5].detail_fr

    score = pair(personnels=[staff(fonction="inspecteur")])
    assert points(score)["Fonction recherchée"] == 0.0
    assert score.parts[5].detail_fr == "« inspecteur » ne fait pas partie des fonctions souhaitées (professeur, CPE)."


def test_nothing_in_common_still_scores_distance_and_capacity():
    score = pair(entreprises=[company(thematiques="", formats="salon", disponibilites="", capacite_annuelle="")],
                 personnels=[staff(commune_insee="21001", formats="déjeuner", fonction="")])
    assert points(score) == {"Distance": 30.0, "Thématiques communes": 0.0, "Formats compatibles": 0.0,
                             "Disponibilités communes": 0.0, "Semaine école-entreprise": 0.0,
                             "Fonction recherchée": 0.0, "Capacité restante": 2.0}  # empty capacity = 1
    assert score.total == 32.0
    assert "Pas de disponibilité commune" in score.parts[4].detail_fr


def test_multichoice_matching_ignores_case_and_spacing():
    score = pair(personnels=[staff(thematiques=" Management ;ORIENTATION", formats="Visite avant")])
    assert points(score)["Thématiques communes"] == 20.0
    assert points(score)["Formats compatibles"] == 5.0


def test_distance_at_maximum_scores_zero_but_beyond_is_excluded():
    at_max = pair(personnels=[staff(commune_insee="21003")])
    assert not at_max.excluded and points(at_max)["Distance"] == pytest.approx(0.0, abs=1e-9)
    beyond = pair(personnels=[staff(commune_insee="21004")])
    assert beyond.total == 0.0 and beyond.parts == []
    assert beyond.excluded_reasons == ["Distance de 61,0 km supérieure au maximum de 60,0 km."]


def test_capacity_counts_only_this_years_active_meetings():
    others = [staff(id=f"PER-{i}") for i in range(4)]
    meetings = [meeting(id="REN-1", personnel_id="PER-0", statut="refusée"),
                meeting(id="REN-2", personnel_id="PER-1", statut="annulée"),
                meeting(id="REN-3", personnel_id="PER-2", annee_scolaire="2024-2025"),
                meeting(id="REN-4", personnel_id="PER-3", statut="bilan saisi")]
    score = pair(personnels=[staff()] + others, rencontres=meetings)
    assert points(score)["Capacité restante"] == 4.0  # 3 - 1 (only REN-4 counts)


# ---- exclusions ------------------------------------------------------------------------------------------

EXCLUSIONS = {
    "already met this year": ({"rencontres": [meeting(statut="réalisée")]}, "cette année scolaire 2025-2026"),
    "refused before": ({"rencontres": [meeting(annee_scolaire="2022-2023", statut="refusée")]},
                       "Rencontre refusée auparavant (2022-2023)."),
    "company archived": ({"entreprises": [company(statut="archivé")]}, "Fiche entreprise au statut « archivé »."),
    "staff to validate": ({"personnels": [staff(statut="à valider")]}, "Fiche personnel au statut « à valider »."),
    "company consent": ({"entreprises": [company(consentement_participation="")]},
                        "L'entreprise n'a pas donné son consentement à participer."),
    "staff consent": ({"personnels": [staff(consentement_participation=" ")]},
                      "Le personnel n'a pas donné son consentement à participer."),
    "no capacity left": ({"entreprises": [company(capacite_annuelle="1")], "personnels": [staff(), staff(id="PER-Z")],
                          "rencontres": [meeting(personnel_id="PER-Z", statut="planifiée")]},
                         "L'entreprise n'a plus de place cette année scolaire 2025-2026 (capacité 1, 1 rencontre(s)"),
    "zero capacity": ({"entreprises": [company(capacite_annuelle="0")]}, "capacité 0, 0 rencontre(s)"),
    "too far": ({"personnels": [staff(commune_insee="21004")]}, "supérieure au maximum"),
    "pending meeting": ({"entreprises": [company(), company(id="ENT-Z")],
                         "rencontres": [meeting(entreprise_id="ENT-Z", annee_scolaire="2024-2025", statut="proposée")]},
                        "Le personnel a déjà une rencontre en cours (avec Fromagerie (Dijon), statut « proposée »)."),
    "commune unknown": ({"entreprises": [company(commune_insee="99999")]},
                        "Commune de l'entreprise non localisée (code INSEE « 99999 »)."),
    "commune missing": ({"personnels": [staff(commune_insee="")]}, "Code INSEE de la commune du personnel manquant."),
}


@pytest.mark.parametrize("case", list(EXCLUSIONS))
def test_every_exclusion_is_explained(case):
    setup, expected = EXCLUSIONS[case]
    score = pair(**setup)
    assert score.excluded and score.total == 0.0 and score.parts == []
    assert any(expected in reason for reason in score.excluded_reasons), score.excluded_reasons
    assert not [r for r in score.excluded_reasons if re.search(r"\b(ENT|PER|REN)-", r)]  # named, never by ID


@pytest.mark.parametrize("statut", ["refusée", "annulée"])
def test_closed_meeting_this_year_does_not_exclude_for_being_met(statut):
    score = pair(rencontres=[meeting(statut=statut)])
    assert not any("cette année scolaire" in r for r in score.excluded_reasons)
    assert score.excluded == (statut == "refusée")  # a refusal excludes for ever, a cancellation does not


def test_meeting_of_a_past_year_does_not_exclude():
    assert not pair(rencontres=[meeting(annee_scolaire="2023-2024", statut="réalisée")]).excluded


def test_several_reasons_are_all_listed():
    score = pair(entreprises=[company(statut="archivé", consentement_participation="")],
                 personnels=[staff(commune_insee="21004")])
    assert len(score.excluded_reasons) == 3


def test_unknown_ids_raise_french_errors():
    snap = snapshot([company()], [staff()])
    with pytest.raises(PairingError, match="Entreprise inconnue : ENT-X"):
        score_pair(snap, "ENT-X", "PER-B", locate=locate)
    with pytest.raises(PairingError, match="Personnel inconnu : PER-X"):
        score_pair(snap, "ENT-A", "PER-X", locate=locate)


# ---- settings and default locate -------------------------------------------------------------------------


def test_settings_from_parametres():
    snap = snapshot(parametres={"distance_max_km": "45,5", "semaine_ee_debut": "19/01/2026",
                                "semaine_ee_fin": "2026-01-23", "annee_scolaire": "2026-2027"})
    assert PairingSettings.from_snapshot(snap) == PairingSettings(45.5, date(2026, 1, 19), date(2026, 1, 23),
                                                                  "2026-2027")


def test_settings_fall_back_to_defaults():
    snap = snapshot(parametres={"distance_max_km": "loin", "semaine_ee_debut": "bientôt", "annee_scolaire": "2025"})
    found = PairingSettings.from_snapshot(snap, today=date(2026, 3, 10))
    assert found == PairingSettings(60.0, None, None, "2025-2026")
    assert PairingSettings.from_snapshot(snapshot(parametres={}), today=date(2026, 9, 2)).annee_scolaire == "2026-2027"


def test_distance_max_from_parametres_changes_exclusion():
    near_limit = {"annee_scolaire": YEAR, "distance_max_km": "20"}
    score = pair(personnels=[staff(commune_insee="21005")], parametres=near_limit)  # 30 km
    assert score.excluded_reasons == ["Distance de 30,0 km supérieure au maximum de 20,0 km."]
    assert points(pair(parametres=near_limit))["Distance"] == pytest.approx(30 * (1 - 15 / 20))


def test_default_locate_reads_the_communes_reference_lazily(monkeypatch):
    fake = types.ModuleType("ecole_entreprise.domain.communes")
    fake.commune_by_insee = lambda code: types.SimpleNamespace(latitude=47.32, longitude=5.04) if code == "21231" \
        else None
    monkeypatch.setitem(sys.modules, "ecole_entreprise.domain.communes", fake)
    assert scoring.default_locate("21231") == (47.32, 5.04)
    assert scoring.default_locate("00000") is None


# ---- the batch path gives the same answers as the one-by-one explanation ----------------------------------

CODES = sorted(LOCATIONS)
lists = default_schema().lists


def _multi(vocab):
    return st.lists(st.sampled_from(vocab), max_size=3, unique=True).map("; ".join)


@st.composite
def populations(draw):
    ents = [company(id=f"ENT-{i}", commune_insee=draw(st.sampled_from(CODES + ["99999"])),
                    thematiques=draw(_multi(lists["thematiques"])), formats=draw(_multi(lists["formats_entreprise"])),
                    disponibilites=draw(_multi(lists["periodes"])),
                    fonctions_souhaitees=draw(_multi(lists["fonctions"])),
                    capacite_annuelle=str(draw(st.integers(0, 3))),
                    statut=draw(st.sampled_from(["validé", "validé", "archivé"])))
            for i in range(draw(st.integers(1, 5)))]
    pers = [staff(id=f"PER-{i}", commune_insee=draw(st.sampled_from(CODES)),
                  thematiques=draw(_multi(lists["thematiques"])), formats=draw(_multi(lists["formats_entreprise"])),
                  disponibilites=draw(_multi(lists["periodes"])), fonction=draw(st.sampled_from(lists["fonctions"])),
                  consentement_participation=draw(st.sampled_from([CONSENT, CONSENT, ""])))
            for i in range(draw(st.integers(1, 6)))]
    meetings = [meeting(id=f"REN-{k}", entreprise_id=draw(st.sampled_from([e["id"] for e in ents])),
                        personnel_id=draw(st.sampled_from([p["id"] for p in pers])),
                        annee_scolaire=draw(st.sampled_from([YEAR, "2024-2025"])),
                        statut=draw(st.sampled_from(default_schema().lists["statuts_rencontre"])))
                for k in range(draw(st.integers(0, 4)))]
    return snapshot(ents, pers, meetings)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_batch_scores_match_explanations(snap):
    data = prepare(snap, locate=locate)
    found = score_candidates(data)
    batch = {(int(e), int(p)): t for e, p, t in zip(found.entreprise, found.personnel, found.total, strict=True)}
    for e in range(len(data.entreprises.rows)):
        for p in range(len(data.personnels.rows)):
            one = explain(data, e, p)
            assert ((e, p) in batch) == (not one.excluded)
            if not one.excluded:
                assert batch[(e, p)] == pytest.approx(one.total, abs=1e-9)
                assert one.total == pytest.approx(sum(part.points for part in one.parts))
                assert one.total > 0  # the plan relies on it


def test_restricted_batch_equals_full_batch_rows():
    ents = [company(id=f"ENT-{i}", commune_insee=CODES[i % len(CODES)]) for i in range(5)]
    pers = [staff(id=f"PER-{i}", commune_insee=CODES[(2 * i) % len(CODES)]) for i in range(5)]
    data = prepare(snapshot(ents, pers), locate=locate)
    full = score_candidates(data)
    only = score_candidates(data, entreprises=np.array([2]))
    assert set(only.personnel.tolist()) == set(full.personnel[full.entreprise == 2].tolist())
    assert len(only) > 0 and set(only.entreprise.tolist()) == {2}


@pytest.mark.parametrize("a, b", [((47.0, 5.0), (47.0, 6.0)),  # along a parallel: longitude only
                                  ((47.3220, 5.0415), (47.2378, 6.0241)),  # Dijon – Besançon
                                  ((46.6, 3.1), (47.9, 7.1))])
def test_haversine_matches_the_spherical_law_of_cosines(a, b):
    (lat1, lon1), (lat2, lon2) = [tuple(map(math.radians, p)) for p in (a, b)]
    cosines = scoring.EARTH_RADIUS_KM * math.acos(
        math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(lon2 - lon1))
    assert float(scoring.haversine_km(*a, *b)) == pytest.approx(cosines, rel=1e-9)
    assert 70 < float(scoring.haversine_km(47.3220, 5.0415, 47.2378, 6.0241)) < 80  # Dijon – Besançon ≈ 75 km
