"""Bilan aggregates, charts and French formatting against a small fixture whose figures are computed by hand.

Fixture (school year 2025-2026, previous 2024-2025):
- Entreprises: A (21, 2025-09), B (21, 2025-10), C (25, 2025-11, à valider), D (71, 2024-10), E (89, 2024-11).
- Personnels: 1, 2, 6 (21, professeur), 3 (25, CPE), 5 (39, PSY-EN, created in the semaine école-entreprise)
  recensés in 2025-2026; 4 (71, chef d'établissement) in 2024-2025.
- Rencontres 2025-2026: 1 A–1 bilan saisi (5/4), 2 B–2 réalisée (3/–), 3 C–3 planifiée, 4 D–4 proposée,
  5 A–6 refusée, 6 B–1 annulée after both acceptations. 2024-2025: 7 D–4 bilan saisi (4/2), 8 E–4 réalisée.
- Partenariats: PAR-1 from meeting 1 (2025-2026), PAR-2 from meeting 7 (2024-2025).
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from ecole_entreprise.domain.roles import COMITE, COORD_ACADEMIE, User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.bilan import charts, registry, report, small_cells, view
from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.bilan.compute import BilanFilter, BilanFilterError
from ecole_entreprise.services.home.kpis import home_kpis, home_tiles
from ecole_entreprise.services.kernel import formatting
from ecole_entreprise.store.base import Snapshot, rows_from_grid

YEAR = "2025-2026"
ACCEPTED_BOTH = {"acceptation_entreprise": "2025-09-21 10:00:00", "acceptation_personnel": "2025-09-22 10:00:00"}


def tab(name: str, records: list[dict[str, str]]):
    schema = default_schema().tab(name)
    grid = [schema.headers] + [[record.get(f, "") for f in schema.field_names] for record in records]
    return rows_from_grid(schema, grid)


def company(id_, dep, created, insee, statut="validé"):
    return {"id": id_, "raison_sociale": f"Société {id_}", "departement": dep, "created_at": created,
            "commune_insee": insee, "statut": statut, "contact_email": f"{id_.lower()}@example.org"}


def person(id_, dep, fonction, canal, uai, created, insee):
    return {"id": id_, "nom": f"Nom{id_}", "departement": dep, "fonction": fonction, "canal": canal, "uai": uai,
            "created_at": created, "commune_insee": insee, "statut": "validé", "email": f"{id_.lower()}@ac.fr"}


def meeting(id_, ent, per, statut, created, year=YEAR, **values):
    return {"id": id_, "entreprise_id": ent, "personnel_id": per, "statut": statut, "created_at": created,
            "annee_scolaire": year, **values}


def fixture_snapshot() -> Snapshot:
    entreprises = [
        company("ENT-A", "21", "2025-09-10 09:00:00", "21231"),
        company("ENT-B", "21", "2025-10-05 09:00:00", "21231"),
        company("ENT-C", "25", "2025-11-20 09:00:00", "25056", statut="à valider"),
        company("ENT-D", "71", "2024-10-01 09:00:00", "71270"),
        company("ENT-E", "89", "2024-11-15 09:00:00", "71270"),
    ]
    personnels = [
        person("PER-1", "21", "professeur", "salon REE", "0210001A", "2025-09-15 10:00:00", "21231"),
        person("PER-2", "21", "professeur", "CLEE", "0210001A", "2025-09-20 10:00:00", "21231"),
        person("PER-3", "25", "CPE", "salon REE", "0250002B", "2025-10-01 10:00:00", "25056"),
        person("PER-4", "71", "chef d'établissement", "formation des personnels d'encadrement", "0710003C",
               "2024-09-30 10:00:00", "71270"),
        person("PER-5", "39", "PSY-EN", "autre", "", "20/01/2026 11:00", "39300"),  # typed by hand, French date
        person("PER-6", "21", "professeur", "salon REE", "0210004D", "2025-12-01 10:00:00", "21231"),
    ]
    rencontres = [
        meeting("REN-1", "ENT-A", "PER-1", "bilan saisi", "2025-09-20 08:00:00", date="2025-10-14",
                format="déjeuner", satisfaction_entreprise="5", satisfaction_personnel="4",
                comprehension_entreprise="4", comprehension_personnel="5", **ACCEPTED_BOTH,
                conclusions_entreprise="Échange très riche sur l'orientation.",
                conclusions_personnel="Je recommande ; visite prévue avec ma classe."),
        meeting("REN-2", "ENT-B", "PER-2", "réalisée", "2025-10-10 08:00:00", date="2026-01-20", format="visite",
                satisfaction_entreprise="3", **ACCEPTED_BOTH),
        meeting("REN-3", "ENT-C", "PER-3", "planifiée", "2025-11-25 08:00:00", date="2026-02-10", **ACCEPTED_BOTH),
        meeting("REN-4", "ENT-D", "PER-4", "proposée", "2025-12-03 08:00:00"),
        meeting("REN-5", "ENT-A", "PER-6", "refusée", "2025-12-05 08:00:00", motif="Pas disponible"),
        meeting("REN-6", "ENT-B", "PER-1", "annulée", "2026-01-05 08:00:00", date="2026-01-21", **ACCEPTED_BOTH),
        meeting("REN-7", "ENT-D", "PER-4", "bilan saisi", "2024-12-01 08:00:00", year="2024-2025",
                date="2025-03-11", format="salon", satisfaction_entreprise="4", satisfaction_personnel="2"),
        meeting("REN-8", "ENT-E", "PER-4", "réalisée", "2025-01-10 08:00:00", year="2024-2025", date="2025-05-20",
                format="déjeuner"),
    ]
    partenariats = [
        {"id": "PAR-1", "uai": "0210001A", "entreprise_id": "ENT-A", "rencontre_id": "REN-1", "types": "visites",
         "statut": "actif", "date_debut": "2025-11-01", "annee_scolaire": YEAR, "created_at": "2025-11-01 09:00:00"},
        {"id": "PAR-2", "uai": "0710003C", "entreprise_id": "ENT-D", "rencontre_id": "REN-7", "types": "stages",
         "statut": "actif", "date_debut": "2025-04-01", "annee_scolaire": "", "created_at": "2025-04-01 09:00:00"},
    ]
    parametres = [{"id": "PRM-1", "cle": "semaine_ee_debut", "valeur": "2026-01-19"},
                  {"id": "PRM-2", "cle": "semaine_ee_fin", "valeur": "2026-01-23"},
                  {"id": "PRM-3", "cle": "annee_scolaire", "valeur": YEAR}]
    tabs = {name: tab(name, records) for name, records in (
        ("Entreprises", entreprises), ("Personnels", personnels), ("Rencontres", rencontres),
        ("Partenariats", partenariats), ("Evenements", []), ("Parametres", parametres))}
    return Snapshot(tabs=tabs, read_at=datetime(2026, 2, 1, 12, 0))


def empty_snapshot() -> Snapshot:
    names = ("Entreprises", "Personnels", "Rencontres", "Partenariats", "Evenements", "Parametres")
    return Snapshot(tabs={name: tab(name, []) for name in names}, read_at=datetime(2026, 2, 1, 12, 0))


@pytest.fixture(scope="module")
def data():
    return bilan.prepare(fixture_snapshot())


def as_dict(frame: pd.DataFrame, key: str, value: str) -> dict:
    return dict(zip(frame[key], frame[value], strict=True))


# ---- aggregates --------------------------------------------------------------------------------------------


def test_kpis_for_the_whole_region(data):
    values = as_dict(bilan.kpis(data, BilanFilter(YEAR)), "Indicateur", "Valeur")
    assert values == {bilan.ENTREPRISES: 3, bilan.VOLONTAIRES: 5, bilan.PROPOSEES: 6, bilan.REALISEES: 2,
                      bilan.PARTENARIATS: 1, bilan.SATISFACTION: 4.0}


def test_kpis_accept_a_snapshot_as_well_as_prepared_data():
    assert bilan.kpis(fixture_snapshot(), BilanFilter(YEAR)).equals(
        bilan.kpis(bilan.prepare(fixture_snapshot()), BilanFilter(YEAR)))


def test_academie_filter_keeps_meetings_of_its_companies(data):
    values = as_dict(bilan.kpis(data, BilanFilter(YEAR, academie="Besançon")), "Indicateur", "Valeur")
    assert values == {bilan.ENTREPRISES: 1, bilan.VOLONTAIRES: 2, bilan.PROPOSEES: 1, bilan.REALISEES: 0,
                      bilan.PARTENARIATS: 0, bilan.SATISFACTION: None}


def test_departement_filter(data):
    values = as_dict(bilan.kpis(data, BilanFilter(YEAR, departements=["71"])), "Indicateur", "Valeur")
    assert (values[bilan.ENTREPRISES], values[bilan.PROPOSEES], values[bilan.REALISEES]) == (0, 1, 0)


def test_semaine_ecole_entreprise_period_comes_from_parametres(data):
    values = as_dict(bilan.kpis(data, BilanFilter(YEAR, periode=bilan.SEMAINE_EE)), "Indicateur", "Valeur")
    # REN-2 (20/01, réalisée) and REN-6 (21/01, annulée); PER-5 recensé on 20/01
    assert values == {bilan.ENTREPRISES: 0, bilan.VOLONTAIRES: 1, bilan.PROPOSEES: 2, bilan.REALISEES: 1,
                      bilan.PARTENARIATS: 0, bilan.SATISFACTION: 3.0}


def test_date_range_period_uses_meeting_date_else_creation(data):
    filt = BilanFilter(YEAR, periode=(date(2025, 9, 1), date(2025, 10, 31)))
    values = as_dict(bilan.kpis(data, filt), "Indicateur", "Valeur")
    assert (values[bilan.PROPOSEES], values[bilan.REALISEES], values[bilan.VOLONTAIRES]) == (1, 1, 3)


def test_filter_rejects_unknown_values():
    with pytest.raises(BilanFilterError, match="Académie inconnue"):
        BilanFilter(YEAR, academie="Lyon")
    with pytest.raises(BilanFilterError, match="Période inconnue"):
        BilanFilter(YEAR, periode="vacances")
    with pytest.raises(BilanFilterError, match="commence après"):
        BilanFilter(YEAR, periode=(date(2026, 2, 1), date(2026, 1, 1)))


def test_funnel_counts_people_reaching_each_stage(data):
    frame = bilan.funnel(data, BilanFilter(YEAR))
    assert list(frame["Étape"]) == list(bilan.FUNNEL_STAGES)
    # PER-4 (recensé last year) is listed through its meeting; REN-6, cancelled after both acceptations, counts
    # as accepted for PER-1 who is accepted anyway; PER-6's only meeting was refused.
    assert list(frame["Personnels"]) == [6, 5, 3, 2, 1, 1]
    assert list(frame["Entreprises"]) == [4, 4, 3, 2, 1, 1]


def test_by_departement(data):
    frame = bilan.by_departement(data, BilanFilter(YEAR)).set_index("Département")
    assert len(frame) == 8
    assert frame.loc["Côte-d'Or (21)"].to_dict() == {"Académie": "Dijon", bilan.ENTREPRISES: 2,
                                                     bilan.VOLONTAIRES: 3, bilan.REALISEES: 2}
    assert frame.loc["Doubs (25)", [bilan.ENTREPRISES, bilan.VOLONTAIRES, bilan.REALISEES]].tolist() == [1, 1, 0]
    assert frame.loc["Jura (39)", bilan.VOLONTAIRES] == 1
    assert frame.loc["Saône-et-Loire (71)", [bilan.ENTREPRISES, bilan.REALISEES]].tolist() == [0, 0]
    assert frame[bilan.REALISEES].sum() == 2


def test_by_departement_with_academie_lists_only_its_departements(data):
    frame = bilan.by_departement(data, BilanFilter(YEAR, academie="Besançon"))
    assert list(frame["Département"]) == ["Doubs (25)", "Jura (39)", "Haute-Saône (70)",
                                          "Territoire de Belfort (90)"]


def test_by_fonction(data):
    frame = bilan.by_fonction(data, BilanFilter(YEAR)).set_index("Fonction")
    assert list(frame.index) == list(default_schema().lists["fonctions"])
    assert frame.loc["professeur"].tolist() == [3, 2]
    assert frame.loc["CPE"].tolist() == [1, 0]
    assert frame.loc["PSY-EN"].tolist() == [1, 0]
    assert frame.loc["chef d'établissement"].tolist() == [0, 0]


def test_by_canal_gives_conversion_of_this_years_cohort(data):
    frame = bilan.by_canal(data, BilanFilter(YEAR)).set_index("Canal de recrutement")
    assert frame.loc["salon REE", bilan.VOLONTAIRES] == 3
    assert frame.loc["salon REE", "Volontaires ayant réalisé une rencontre"] == 1
    assert frame.loc["salon REE", "Taux de conversion"] == pytest.approx(1 / 3)
    assert frame.loc["CLEE", "Taux de conversion"] == 1.0
    assert frame.loc["autre", "Taux de conversion"] == 0.0
    assert frame.loc["semaine école-entreprise", "Taux de conversion"] is None
    assert frame[bilan.REALISEES].tolist() == [0, 1, 1, 0, 0]


def test_by_format_with_mean_satisfaction(data):
    frame = bilan.by_format(data, BilanFilter(YEAR)).set_index("Format")
    assert frame.loc["déjeuner"].tolist() == [1, 4.5]
    assert frame.loc["visite"].tolist() == [1, 3.0]
    assert frame.loc["salon", bilan.REALISEES] == 0 and frame.loc["salon", "Satisfaction moyenne"] is None


def test_likert_distribution_for_both_sides(data):
    frame = bilan.likert(data, BilanFilter(YEAR))
    assert len(frame) == 2 * 2 * 5
    sat_e = frame[(frame["Question"] == "Satisfaction") & (frame["Côté"] == "Entreprises")]
    assert sat_e["Réponses"].tolist() == [0, 0, 1, 0, 1]
    assert sat_e["Part"].tolist() == [0, 0, 0.5, 0, 0.5]
    sat_p = frame[(frame["Question"] == "Satisfaction") & (frame["Côté"] == "Personnels")]
    assert sat_p["Réponses"].tolist() == [0, 0, 0, 1, 0]
    comp_p = frame[(frame["Question"] == "Meilleure compréhension") & (frame["Côté"] == "Personnels")]
    assert comp_p["Réponses"].tolist() == [0, 0, 0, 0, 1]


def test_timeline_is_cumulative_by_week_from_september(data):
    frame = bilan.timeline(data, BilanFilter(YEAR))
    assert frame["Semaine"].iloc[0] == pd.Timestamp("2025-09-01")  # a Monday
    assert frame["Semaine"].iloc[-1] == pd.Timestamp("2026-01-19")  # REN-2 held on Tuesday 20/01
    assert len(frame) == 21
    by_week = frame.set_index("Semaine")
    assert by_week.loc["2025-09-08"].tolist() == [0, 0]
    assert by_week.loc["2025-09-15"].tolist() == [1, 0]  # REN-1 proposed on 20/09
    assert by_week.loc["2025-10-13"].tolist() == [2, 1]  # REN-1 held on 14/10
    assert by_week.loc["2026-01-19"].tolist() == [6, 2]
    assert frame[bilan.PROPOSEES].is_monotonic_increasing


def test_comparison_with_previous_year(data):
    frame = bilan.comparison(data, BilanFilter(YEAR)).set_index("Indicateur")
    assert list(frame.columns) == ["2024-2025", YEAR, "Évolution"]
    assert frame["2024-2025"].to_dict() == {bilan.ENTREPRISES: 2, bilan.VOLONTAIRES: 1, bilan.PROPOSEES: 2,
                                            bilan.REALISEES: 2, bilan.PARTENARIATS: 1, bilan.SATISFACTION: 3.0}
    assert frame.loc[bilan.ENTREPRISES, "Évolution"] == 0.5
    assert frame.loc[bilan.VOLONTAIRES, "Évolution"] == 4.0
    assert frame.loc[bilan.REALISEES, "Évolution"] == 0.0
    assert frame.loc[bilan.SATISFACTION, "Évolution"] == pytest.approx(1 / 3)


def test_comparison_of_a_period_uses_same_dates_a_year_earlier(data):
    filt = BilanFilter(YEAR, periode=(date(2025, 9, 1), date(2025, 10, 31)))
    frame = bilan.comparison(data, filt).set_index("Indicateur")
    assert frame.loc[[bilan.ENTREPRISES, bilan.VOLONTAIRES, bilan.PROPOSEES], "2024-2025"].tolist() == [1, 1, 0]
    assert frame.loc[bilan.PROPOSEES, "Évolution"] is None  # nothing to compare with


def test_conclusions_only_when_free_text_is_allowed(data):
    assert bilan.conclusions(data, BilanFilter(YEAR), include_free_text=False).empty
    frame = bilan.conclusions(data, BilanFilter(YEAR), include_free_text=True)
    assert frame.to_dict("records") == [
        {"Rencontre": "REN-1", "Date": date(2025, 10, 14), "Côté": "Entreprise",
         "Conclusions": "Échange très riche sur l'orientation."},
        {"Rencontre": "REN-1", "Date": date(2025, 10, 14), "Côté": "Personnel",
         "Conclusions": "Je recommande ; visite prévue avec ma classe."},
    ]
    comite_view = view.bilan_view(data, User("comite@exemple.fr", COMITE), BilanFilter(YEAR))
    assert comite_view.conclusions.empty


def test_map_points_count_companies_and_establishments_per_commune(data):
    points = bilan.map_points(data, BilanFilter(YEAR))
    counts = {(r["Type"], r["Commune"]): r["Nombre"] for r in points.to_dict("records")}
    # PER-1 and PER-2 share an establishment; PER-6 has another; PER-5 has none and counts alone
    assert counts == {("Entreprises", "Dijon"): 2, ("Entreprises", "Besançon"): 1, ("Entreprises", "Mâcon"): 1,
                      ("Établissements", "Dijon"): 2, ("Établissements", "Besançon"): 1,
                      ("Établissements", "Mâcon"): 1, ("Établissements", "Lons-le-Saunier"): 1}
    dijon = points[points["Commune"] == "Dijon"].iloc[0]
    assert 47.0 < dijon["latitude"] < 47.5 and 4.8 < dijon["longitude"] < 5.2


def test_map_points_degrade_to_no_map_without_communes_table(data, monkeypatch):
    import ecole_entreprise.domain.communes as communes

    def missing(code):
        raise FileNotFoundError("communes_bfc.csv")

    monkeypatch.setattr(communes, "commune_by_insee", missing)
    assert bilan.map_points(data, BilanFilter(YEAR)).empty


def test_home_kpis(data):
    home = home_kpis(data, YEAR)
    assert home.annee == YEAR
    assert as_dict(home.frame(), "Indicateur", "Valeur") == {
        bilan.ENTREPRISES: 3, bilan.VOLONTAIRES: 5, bilan.PROPOSEES: 6, bilan.EN_COURS: 2, bilan.REALISEES: 2,
        bilan.PARTENARIATS: 1, bilan.SATISFACTION: 4.0}
    assert all(tile.help for tile in home.tiles)
    assert {t.label: t.value for t in home.tiles}[bilan.SATISFACTION] == "4,00"
    scoped = home_kpis(fixture_snapshot(), YEAR, departements=["25"]).frame()
    assert as_dict(scoped, "Indicateur", "Valeur")[bilan.EN_COURS] == 1  # REN-3, planifiée, with ENT-C (25)


def test_home_kpis_small_cells_for_the_steering_committee(data):
    tiles = {t.label: t for t in home_kpis(data, YEAR, small_cells_rule=True).tiles}
    assert (tiles[bilan.ENTREPRISES].value, tiles[bilan.ENTREPRISES].number) == ("< 5", None)
    assert tiles[bilan.VOLONTAIRES].value == "5"
    assert tiles[bilan.PROPOSEES].value == "6"  # meetings are not people
    assert (tiles[bilan.SATISFACTION].value, tiles[bilan.SATISFACTION].number) == ("n.d.", None)  # 2 held


def test_home_satisfaction_without_answers_reads_a_dash():
    snapshot = fixture_snapshot()
    # A new tab, as every read of a changed sheet gives (results are kept per tab content: services/kernel/memo.py).
    unanswered = [{**row.values, "satisfaction_entreprise": "", "satisfaction_personnel": ""}
                  for row in snapshot.tabs["Rencontres"].rows]
    snapshot.tabs["Rencontres"] = tab("Rencontres", unanswered)
    tiles = {t.label: t for t in home_kpis(snapshot, YEAR, small_cells_rule=True).tiles}
    assert (tiles[bilan.SATISFACTION].value, tiles[bilan.SATISFACTION].number) == ("—", None)


def test_home_kpis_values_are_french_text():
    snapshot = fixture_snapshot()
    extra = [{"id": f"REN-X{i}", "entreprise_id": "ENT-A", "personnel_id": "PER-1", "statut": "proposée",
              "annee_scolaire": YEAR, "created_at": "2025-12-10 08:00:00"} for i in range(1234)]
    snapshot.tabs["Rencontres"].rows.extend(tab("Rencontres", extra).rows)
    tiles = {t.label: t for t in home_kpis(snapshot, YEAR).tiles}
    assert tiles[bilan.PROPOSEES].value == "1\u202f240" and tiles[bilan.PROPOSEES].number == 1240


def test_current_school_year_from_parametres(data):
    assert bilan.annee_courante(data) == YEAR
    assert bilan.previous_school_year(YEAR) == "2024-2025"


def all_tables(source, filt) -> dict[str, pd.DataFrame]:
    data = source if isinstance(source, bilan.BilanData) else bilan.prepare(source)
    return {key: spec.compute(data, filt) for key, spec in registry.TABLES.items()}


def test_empty_snapshot_gives_empty_but_well_formed_tables():
    tables = all_tables(empty_snapshot(), BilanFilter(YEAR))
    assert set(tables) == set(registry.TABLES)
    assert as_dict(tables["kpis"], "Indicateur", "Valeur")[bilan.REALISEES] == 0
    assert tables["entonnoir"]["Personnels"].tolist() == [0] * 6
    assert tables["chronologie"].empty and list(tables["chronologie"].columns) == [
        "Semaine", bilan.PROPOSEES, bilan.REALISEES]
    assert tables["carte"].empty


# ---- small-cell rule (the comité's tables; the attacks are in tests/test_small_cells.py) ---------------------


def comite(data, key: str, filt: BilanFilter | None = None) -> pd.DataFrame:
    return small_cells.comite_tables(data, filt or BilanFilter(YEAR))[key]


def test_comite_kpis_hide_people_rows_and_undisclosed_mean(data):
    out = as_dict(comite(data, "kpis"), "Indicateur", "Valeur")
    assert out[bilan.ENTREPRISES] == "< 5"
    assert out[bilan.VOLONTAIRES] == 5
    assert out[bilan.PROPOSEES] == 6  # 6 meetings: not small
    assert out[bilan.REALISEES] == "< 5" and out[bilan.PARTENARIATS] == "< 5"  # a meeting is two people
    assert out[bilan.SATISFACTION] == "n.d."  # mean of fewer than 5 held meetings


def test_comite_rates_and_shares_of_small_groups(data):
    canaux = comite(data, "canaux").set_index("Canal de recrutement")
    assert canaux.loc["salon REE", bilan.VOLONTAIRES] == "< 5"
    assert canaux.loc["salon REE", "Taux de conversion"] == "n.d."
    assert canaux.loc["semaine école-entreprise", bilan.VOLONTAIRES] == "< 5"  # 0: zeros read « < 5 » too
    assert bilan.by_canal(data, BilanFilter(YEAR)).set_index("Canal de recrutement").loc[
        "semaine école-entreprise", bilan.VOLONTAIRES] == 0
    likert = comite(data, "satisfaction")
    assert set(likert["Réponses"]) <= {0, "< 5", "n.d."} and set(likert["Part"]) == {"n.d."}
    comparison = comite(data, "comparaison").set_index("Indicateur")
    assert comparison.loc[bilan.VOLONTAIRES].tolist() == ["< 5", 5, "n.d."]


def test_comite_meetings_broken_down_by_a_persons_attribute(data):
    """Two meetings held by professeurs of Côte-d'Or point at two people: the count reads "< 5"."""
    fonctions = comite(data, "fonctions").set_index("Fonction")
    assert fonctions.loc["professeur", bilan.REALISEES] == "< 5"
    assert fonctions.loc["CPE", bilan.REALISEES] == "< 5"  # 0, which reads « < 5 » too (else « < 5 » means 1 to 4)
    departements = comite(data, "departements")
    assert departements[bilan.REALISEES].tolist() == ["< 5"] * 8
    canaux = comite(data, "canaux").set_index("Canal de recrutement")
    assert canaux.loc["CLEE", bilan.REALISEES] == "< 5"


def test_a_share_of_a_small_count_in_a_large_group_is_not_disclosed(data):
    """A rate or a share goes with its counts: masked count, undisclosed share (and the other way round)."""
    likert = comite(data, "satisfaction")
    for count, share in zip(likert["Réponses"], likert["Part"], strict=True):
        assert not isinstance(count, str) or share == "n.d."
    canaux = comite(data, "canaux")
    done = canaux["Volontaires ayant réalisé une rencontre"]
    assert all(rate in ("n.d.", None) for rate, n in zip(canaux["Taux de conversion"], done, strict=True)
               if isinstance(n, str))


def test_the_comite_gets_fixed_territories_and_whole_years_only(data):
    with pytest.raises(small_cells.ComiteFilterError, match="un seul département"):
        small_cells.comite_tables(data, BilanFilter(YEAR, departements=("21", "25")))
    with pytest.raises(small_cells.ComiteFilterError, match="année scolaire entière"):
        small_cells.comite_tables(data, BilanFilter(YEAR, periode=(date(2025, 9, 1), date(2025, 12, 31))))
    with pytest.raises(small_cells.ComiteFilterError):
        small_cells.comite_tables(data, BilanFilter(YEAR, periode=bilan.SEMAINE_EE))
    assert small_cells.territory_of(BilanFilter(YEAR, academie="Dijon", departements=("21",))) == "21"
    assert small_cells.territory_of(BilanFilter(YEAR, academie="Besançon")) == "Besançon"


def test_the_comite_timeline_is_per_month_not_cumulative(data):
    months = comite(data, "chronologie")
    assert len(months) == 12 and months["Mois"].iloc[0] == pd.Timestamp(2025, 9, 1)
    raw = bilan.months(data, BilanFilter(YEAR))
    assert raw[bilan.PROPOSEES].sum() == 6 and raw[bilan.REALISEES].sum() == 2


def test_adding_a_table_is_one_registry_entry(data, monkeypatch):
    """A new table with a count column: the comité gets it masked, the page draws it, the exports hold it."""
    def by_statut(source, filt):
        meetings = bilan._meetings(bilan._data(source), filt)
        counts = meetings["statut"].value_counts()
        return pd.DataFrame({"Statut": list(counts.index), "Rencontres": [int(v) for v in counts]})

    entry = registry.BilanTable("statuts", "Par statut", by_statut, "Rencontres par statut.", "Par statut",
                                charts.count_bars("Statut", ("Rencontres",)), rows=("Statut",), people=("Rencontres",))
    monkeypatch.setitem(registry.TABLES, "statuts", entry)
    fresh = bilan.prepare(fixture_snapshot())
    comite_user = User("comite@exemple.fr", COMITE)
    shown = view.bilan_view(fresh, comite_user, BilanFilter(YEAR))
    raw = by_statut(fresh, BilanFilter(YEAR))
    assert len(shown.tables["statuts"]) == len(raw) and all(0 < n < 5 for n in raw["Rencontres"])
    assert set(shown.tables["statuts"]["Rencontres"]) <= {bilan.SMALL, bilan.SECONDARY}
    assert [s.title for s in shown.sections()][-1] == "Par statut"
    book = openpyxl.load_workbook(io.BytesIO(report.build_xlsx(view.export_view(fresh, comite_user,
                                                                                BilanFilter(YEAR)))))
    assert "Par statut" in book.sheetnames
    assert {c.value for row in book["Par statut"].iter_rows(min_row=2) for c in row[1:]} <= {"< 5", "n.d."}


# ---- charts ------------------------------------------------------------------------------------------------


def chart_spec(key: str, frame: pd.DataFrame) -> dict:
    return registry.chart_for(key, frame).to_dict()


def test_every_chart_builds_with_french_locale_and_palette(data):
    for tables in (all_tables(data, BilanFilter(YEAR)), small_cells.comite_tables(data, BilanFilter(YEAR))):
        for key in registry.charted():
            spec = chart_spec(key, tables[key])
            assert spec["config"]["locale"]["number"]["decimal"] == ","
            assert spec["config"]["locale"]["number"]["thousands"] == "\u202f"
            assert "mars" in spec["config"]["locale"]["time"]["months"]
            assert set(spec["config"]["range"]["category"]) <= set(charts.OKABE_ITO)


def test_charts_write_masked_values_instead_of_dropping_them(data):
    tables = small_cells.comite_tables(data, BilanFilter(YEAR))
    for key in ("fonctions", "formats", "canaux", "departements", "chronologie"):
        text = json.dumps(chart_spec(key, tables[key]), ensure_ascii=False)
        assert '"< 5"' in text or '"n.d."' in text, key
    likert = json.dumps(chart_spec("satisfaction", tables["satisfaction"]), ensure_ascii=False)
    assert "parts non diffusées" in likert
    carte = json.dumps(chart_spec("carte", tables["carte"]), ensure_ascii=False)
    assert '"< 5"' in carte and "diamond" in carte


def test_chart_titles_are_french(data):
    spec = json.dumps(chart_spec("entonnoir", bilan.funnel(data, BilanFilter(YEAR))), ensure_ascii=False)
    assert "Nombre de personnes" in spec and "Étape" in spec
    timeline = json.dumps(chart_spec("chronologie", bilan.timeline(data, BilanFilter(YEAR))), ensure_ascii=False)
    assert "Cumul des rencontres" in timeline and "%e %b %Y" in timeline


def test_likert_chart_diverges_around_neutral(data):
    frame = charts.likert_offsets(bilan.likert(data, BilanFilter(YEAR)))
    sat_e = frame[(frame["Question"] == "Satisfaction") & (frame["Côté"] == "Entreprises")].set_index("Note")
    # 50 % answered 3 (neutral, split across zero), 50 % answered 5
    assert sat_e.loc[3, "début"] == pytest.approx(-0.25) and sat_e.loc[3, "fin"] == pytest.approx(0.25)
    assert sat_e.loc[5, "début"] == pytest.approx(0.25) and sat_e.loc[5, "fin"] == pytest.approx(0.75)
    assert sat_e.loc[1, "fin"] - sat_e.loc[1, "début"] == 0
    longest = max(len(g) for g in frame["Groupe"])
    spec = chart_spec("satisfaction", bilan.likert(data, BilanFilter(YEAR)))
    label_limit = spec["layer"][0]["encoding"]["y"]["axis"]["labelLimit"]
    assert label_limit >= 7 * longest  # about 7 px per character at the default 10 px font: nothing is cut


def test_map_chart_draws_departement_outlines_clockwise(data):
    outlines = charts.departement_outlines()
    assert {f["properties"]["departement"] for f in outlines} == {"21", "25", "39", "58", "70", "71", "89", "90"}
    ring = outlines[0]["geometry"]["coordinates"][0]
    area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))
    assert ring[0] == ring[-1] and area2 < 0  # clockwise, as d3-geo expects for an exterior ring
    spec = chart_spec("carte", bilan.map_points(data, BilanFilter(YEAR)))
    assert "layer" in spec


# ---- formatting --------------------------------------------------------------------------------------------


def test_french_formatting():
    assert formatting.fmt_int(1234) == "1\u202f234"
    assert formatting.fmt_number(4.5) == "4,5"
    assert formatting.fmt_percent(0.125) == "12,5\u202f%"
    assert formatting.fmt_percent(0.5) == "50\u202f%"
    assert formatting.fmt_evolution(0.25) == "+25\u202f%" and formatting.fmt_evolution(-0.1) == "−10\u202f%"
    assert formatting.fmt_date(date(2026, 3, 14)) == "14 mars 2026"
    assert formatting.fmt_date(date(2026, 3, 1)) == "1er mars 2026"
    assert formatting.fmt_datetime(datetime(2026, 3, 14, 9, 5)) == "14 mars 2026 à 09:05"
    assert formatting.school_year_label(YEAR) == "année scolaire 2025-2026"
    assert formatting.departement_label("90") == "Territoire de Belfort (90)"
    assert formatting.fmt_value(None) == "—" and formatting.fmt_value(12.0) == "12,0"


def test_a_masked_count_cannot_be_read_back_from_another_table(data):
    """Département 21 held 2 meetings: masked in the département table, and so in the KPIs, by format and by month."""
    filt = BilanFilter(YEAR, departements=("21",))
    held = int(bilan.kpis(data, filt).set_index("Indicateur").loc[bilan.REALISEES, "Valeur"])
    assert 0 < held < 5  # the fixture's case
    deps = comite(data, "departements", filt).set_index("Département")
    assert set(deps[bilan.REALISEES]) <= {"< 5", 0}
    assert as_dict(comite(data, "kpis", filt), "Indicateur", "Valeur")[bilan.REALISEES] == "< 5"
    formats = comite(data, "formats", filt)
    assert not any(isinstance(v, int) and 0 < v < 5 for v in formats[bilan.REALISEES])
    months = comite(data, "chronologie", filt)
    assert not any(isinstance(v, int) and 0 < v < 5 for v in months[bilan.REALISEES])


def test_home_tiles_fail_closed_for_an_unknown_role_or_an_empty_scope(data):
    assert home_tiles(data, User("x@exemple.fr", "inspecteur"), YEAR).tiles == []
    assert home_tiles(data, User("c@exemple.fr", COORD_ACADEMIE), YEAR).tiles == []  # no Périmètre
    dijon = home_tiles(data, User("d@exemple.fr", COORD_ACADEMIE, departements=frozenset({"21"})), YEAR)
    assert {t.label: t.number for t in dijon.tiles}[bilan.ENTREPRISES] == 2  # ENT-A, ENT-B, not the whole region
    with pytest.raises(view.BilanRefused):
        view.bilan_view(data, User("x@exemple.fr", "inspecteur"), BilanFilter(YEAR))
    scoped = view.bilan_view(data, User("d@exemple.fr", COORD_ACADEMIE, departements=frozenset({"21"})),
                             BilanFilter(YEAR))
    assert scoped.filt.scope == {"21"} and not scoped.masked
