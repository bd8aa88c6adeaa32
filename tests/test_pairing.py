"""Suggestions, the exact global plan (against brute force and networkx), swap/drop and Rencontres records."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import datetime

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecole_entreprise.domain.roles import ADMIN, COORD_ACADEMIE, User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.meetings import lifecycle
from ecole_entreprise.services.pairing.plan import (
    Proposed,
    blockers,
    choices,
    drop,
    global_plan,
    max_weight_plan,
    plan_to_records,
    propose,
    suggestions,
    suggestions_for_entreprise,
    suggestions_for_personnel,
    swap,
    swap_partners,
)
from ecole_entreprise.services.pairing.scoring import EARTH_RADIUS_KM, PairingError, prepare, score_candidates
from ecole_entreprise.store.base import Row, Snapshot, TabData, fingerprint, stamp_new

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
CONSENT = "2025-09-15 10:00:00"
YEAR = "2025-2026"
LOCATIONS = {f"K{km}": (47.0 + km / KM_PER_DEGREE, 5.0) for km in (-50, 0, 15, 30, 45, 100, 500)}


def locate(code: str):
    return LOCATIONS.get(code)


def tab_data(name: str, records: list[dict]) -> TabData:
    tab = default_schema().tab(name)
    rows = []
    for number, record in enumerate(records, start=2):
        values = {f: str(record.get(f, "")) for f in tab.field_names}
        rows.append(Row(values["id"], values, {}, number, fingerprint(tab, values)))
    return TabData(name, tab.headers, rows)


def snapshot(entreprises, personnels, rencontres=()) -> Snapshot:
    params = [{"id": "PRM-1", "cle": "annee_scolaire", "valeur": YEAR},
              {"id": "PRM-2", "cle": "distance_max_km", "valeur": "60"}]
    return Snapshot(tabs={"Entreprises": tab_data("Entreprises", list(entreprises)),
                          "Personnels": tab_data("Personnels", list(personnels)),
                          "Rencontres": tab_data("Rencontres", list(rencontres)),
                          "Parametres": tab_data("Parametres", params)}, read_at=datetime(2025, 10, 1))


def company(id, km, **changes) -> dict:
    return {"id": id, "raison_sociale": f"Atelier {id[4:]}", "commune": f"Ville {km}", "commune_insee": f"K{km}",
            "thematiques": "management; orientation",
            "formats": "visite avant", "disponibilites": "mai-juin; semaine école-entreprise",
            "fonctions_souhaitees": "CPE", "capacite_annuelle": "1", "statut": "validé",
            "consentement_participation": CONSENT, **changes}


def staff(id, km, **changes) -> dict:
    return {"id": id, "prenom": "Camille", "nom": f"Nom{id[4:]}", "etablissement": f"Lycée {id[4:]}",
            "commune_insee": f"K{km}", "fonction": "CPE", "thematiques": "management; orientation",
            "formats": "visite avant", "disponibilites": "mai-juin; semaine école-entreprise", "statut": "validé",
            "consentement_participation": CONSENT, **changes}


# Every pair scores 50 besides distance (themes 20, formats 5, periods 3, week 10, function 10, one free slot 2),
# plus 30 × (1 - km / 60) for the distance.
def expected(km: float) -> float:
    return 50 + 30 * (1 - km / 60)


@pytest.fixture
def snap() -> Snapshot:
    return snapshot(
        [company("ENT-A", 0), company("ENT-B", 30), company("ENT-C", 100), company("ENT-Z", 500)],
        [staff("PER-1", 0), staff("PER-2", 30), staff("PER-3", 100), staff("PER-4", 15), staff("PER-5", 0),
         staff("PER-6", 0, statut="archivé")],
        [{"id": "REN-1", "entreprise_id": "ENT-Z", "personnel_id": "PER-5", "annee_scolaire": YEAR,
          "statut": "proposée"}])


@pytest.fixture
def plan(snap):
    return global_plan(snap, locate=locate)


# ---- suggestions -----------------------------------------------------------------------------------------


def test_suggestions_for_entreprise_best_first(snap):
    found = suggestions_for_entreprise(snap, "ENT-A", locate=locate)
    assert [(s.personnel_id, s.total) for s in found] == [("PER-1", pytest.approx(expected(0))),
                                                          ("PER-4", pytest.approx(expected(15))),
                                                          ("PER-2", pytest.approx(expected(30)))]
    assert all(len(s.parts) == 7 and not s.excluded for s in found)
    assert [s.personnel_id for s in suggestions_for_entreprise(snap, "ENT-A", n=2, locate=locate)] == ["PER-1",
                                                                                                      "PER-4"]


def test_suggestions_for_personnel_ties_by_id(snap):
    found = suggestions_for_personnel(snap, "PER-4", locate=locate)
    assert [s.entreprise_id for s in found] == ["ENT-A", "ENT-B"]  # both 15 km away: same score
    assert found[0].total == pytest.approx(found[1].total) == pytest.approx(expected(15))


def test_excluded_rows_get_no_suggestions_but_reasons(snap):
    assert suggestions_for_personnel(snap, "PER-5", locate=locate) == []
    assert blockers(snap, "Personnels", "PER-5", locate=locate) == [
        "Le personnel a déjà une rencontre en cours (avec Atelier Z (Ville 500), statut « proposée »)."]
    assert suggestions_for_entreprise(snap, "ENT-Z", locate=locate) == []
    assert "plus de place" in blockers(snap, "Entreprises", "ENT-Z", locate=locate)[0]
    assert blockers(snap, "Entreprises", "ENT-A", locate=locate) == []
    with pytest.raises(PairingError, match="sans appariement"):
        blockers(snap, "Rencontres", "REN-1", locate=locate)
    with pytest.raises(PairingError, match="Entreprise inconnue"):
        suggestions_for_entreprise(snap, "ENT-?", locate=locate)


# ---- the global plan -------------------------------------------------------------------------------------


def test_global_plan_on_fixture(plan):
    assert [(p.entreprise_id, p.personnel_id) for p in plan.pairs] == [("ENT-A", "PER-1"), ("ENT-B", "PER-2"),
                                                                      ("ENT-C", "PER-3")]
    assert plan.total == pytest.approx(3 * expected(0))
    assert plan.unmatched_personnels == ["PER-4"]  # PER-5 (pending) and PER-6 (archived) are not candidates
    assert plan.unmatched_capacity == {}


def test_plan_is_not_greedy():
    # the best single pair (ENT-A, PER-1) is not in the best plan: PER-2 can only go to ENT-A (ENT-B is 65 km away)
    snap = snapshot([company("ENT-A", 0), company("ENT-B", -50)], [staff("PER-1", 0), staff("PER-2", 15)])
    plan = global_plan(snap, locate=locate)
    assert sorted((p.entreprise_id, p.personnel_id) for p in plan.pairs) == [("ENT-A", "PER-2"), ("ENT-B", "PER-1")]
    assert plan.total == pytest.approx(expected(15) + expected(50))  # 127.5 > 80 for the greedy choice


def test_plan_leaves_capacity_when_people_are_missing():
    snap = snapshot([company("ENT-A", 0, capacite_annuelle="3"), company("ENT-B", 45)], [staff("PER-1", 0)])
    plan = global_plan(snap, locate=locate)
    assert [(p.entreprise_id, p.personnel_id) for p in plan.pairs] == [("ENT-A", "PER-1")]
    assert plan.unmatched_capacity == {"ENT-A": 2, "ENT-B": 1}
    assert plan.unmatched_personnels == []


def brute_force(capacity, edges) -> float:
    """Best total by trying every choice (none or one candidate company) for every person."""
    options = defaultdict(list)
    for e, p, g in edges:
        options[p].append((e, g))
    people, left = sorted(options), list(capacity)

    def best(i: int) -> float:
        if i == len(people):
            return 0.0
        result = best(i + 1)
        for e, g in options[people[i]]:
            if left[e] > 0:
                left[e] -= 1
                result = max(result, g + best(i + 1))
                left[e] += 1
        return result

    return best(0)


def check_feasible(capacity, ent, per, chosen):
    assert len(set(per[chosen].tolist())) == len(chosen)  # a person at most once
    assert np.all(np.bincount(ent[chosen], minlength=len(capacity)) <= np.maximum(capacity, 0))


@st.composite
def instances(draw):
    n_e, n_p = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    capacity = draw(st.lists(st.integers(-1, 3), min_size=n_e, max_size=n_e))
    pairs = draw(st.lists(st.tuples(st.integers(0, n_e - 1), st.integers(0, n_p - 1)), unique=True, max_size=14))
    gains = draw(st.lists(st.floats(0.5, 100, allow_nan=False), min_size=len(pairs), max_size=len(pairs)))
    return capacity, [(e, p, g) for (e, p), g in zip(pairs, gains, strict=True)]


@settings(max_examples=200, deadline=None)
@given(instances())
def test_solver_matches_brute_force(instance):
    capacity, edges = instance
    ent = np.array([e for e, _, _ in edges], dtype=int)
    per = np.array([p for _, p, _ in edges], dtype=int)
    gain = np.array([g for _, _, g in edges], dtype=float)
    chosen = max_weight_plan(capacity, ent, per, gain)
    check_feasible(np.array(capacity), ent, per, chosen)
    assert gain[chosen].sum() == pytest.approx(brute_force(capacity, edges), rel=1e-9, abs=1e-9)


def networkx_best(capacity, ent, per, gain) -> int:
    graph = nx.DiGraph()
    n_p = int(per.max()) + 1
    graph.add_node("s", demand=-n_p)
    graph.add_node("t", demand=n_p)
    graph.add_edge("s", "t", capacity=n_p, weight=0)
    for p in range(n_p):
        graph.add_edge("s", ("p", p), capacity=1, weight=0)
    for e, c in enumerate(capacity):
        graph.add_edge(("e", e), "t", capacity=int(c), weight=0)
    for e, p, g in zip(ent, per, gain, strict=True):
        graph.add_edge(("p", int(p)), ("e", int(e)), capacity=1, weight=-int(g))
    return -nx.cost_of_flow(graph, nx.min_cost_flow(graph))


@pytest.mark.parametrize("seed", range(5))
def test_solver_matches_networkx_on_larger_instances(seed):
    rng = np.random.default_rng(seed)
    n_e, n_p = 15, 60
    capacity = rng.integers(0, 4, n_e)
    keys = np.unique(rng.integers(0, n_e * n_p, 300))
    ent, per = keys // n_p, keys % n_p
    gain = rng.integers(1, 100, len(keys)).astype(float)  # integers: networkx is exact too
    chosen = max_weight_plan(capacity, ent, per, gain)
    check_feasible(capacity, ent, per, chosen)
    assert gain[chosen].sum() == networkx_best(capacity, ent, per, gain)


def test_solver_rejects_bad_candidates():
    with pytest.raises(PairingError, match="strictement positifs"):
        max_weight_plan([1], [0], [0], [0.0])
    with pytest.raises(PairingError, match="deux fois"):
        max_weight_plan([2], [0, 0], [1, 1], [3.0, 4.0])
    assert len(max_weight_plan([1], [], [], [])) == 0
    assert len(max_weight_plan([0], [0], [0], [5.0])) == 0


lists = default_schema().lists


@st.composite
def populations(draw):
    kms = [-50, 0, 15, 30, 45, 100]
    ents = [company(f"ENT-{i}", draw(st.sampled_from(kms)), capacite_annuelle=str(draw(st.integers(0, 2))),
                    thematiques=draw(st.lists(st.sampled_from(lists["thematiques"]), max_size=3, unique=True)
                                     .map("; ".join)))
            for i in range(draw(st.integers(1, 4)))]
    pers = [staff(f"PER-{i}", draw(st.sampled_from(kms)), fonction=draw(st.sampled_from(["CPE", "professeur"])),
                  statut=draw(st.sampled_from(["validé", "validé", "à valider"])))
            for i in range(draw(st.integers(1, 5)))]
    meetings = [{"id": f"REN-{k}", "entreprise_id": draw(st.sampled_from([e["id"] for e in ents])),
                 "personnel_id": draw(st.sampled_from([p["id"] for p in pers])),
                 "annee_scolaire": YEAR, "statut": draw(st.sampled_from(["réalisée", "refusée", "proposée"]))}
                for k in range(draw(st.integers(0, 2)))]
    return snapshot(ents, pers, meetings)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_global_plan_is_optimal_and_feasible(snap):
    plan = global_plan(snap, locate=locate)
    data = prepare(snap, locate=locate)
    found = score_candidates(data)
    edges = list(zip(found.entreprise.tolist(), found.personnel.tolist(), found.total.tolist(), strict=True))
    assert plan.total == pytest.approx(brute_force(data.remaining.tolist(), edges), abs=1e-9)
    people = [p.personnel_id for p in plan.pairs]
    assert len(people) == len(set(people))
    for pair in plan.pairs:
        assert not pair.excluded and pair.total > 0
        e = data.entreprises.index[pair.entreprise_id]
        used = sum(1 for q in plan.pairs if q.entreprise_id == pair.entreprise_id)
        assert used + plan.unmatched_capacity.get(pair.entreprise_id, 0) == data.remaining[e]
    eligible = {data.personnels.rows[p].id for p in np.flatnonzero(data.personnels.eligible)}
    assert set(people) | set(plan.unmatched_personnels) == eligible


# ---- coordinator edits: swap, drop, records --------------------------------------------------------------


def test_swap_two_paired_people(plan):
    swapped = swap(plan, "PER-1", "PER-2")
    assert [(p.entreprise_id, p.personnel_id) for p in swapped.pairs] == [("ENT-A", "PER-2"), ("ENT-B", "PER-1"),
                                                                         ("ENT-C", "PER-3")]
    assert swapped.total == pytest.approx(2 * expected(30) + expected(0))
    assert swapped.pairs[0].parts[0].detail_fr.startswith("30,0 km")
    assert plan.total == pytest.approx(3 * expected(0))  # the original plan is untouched


def test_swap_with_an_unmatched_person_replaces(plan):
    swapped = swap(plan, "PER-1", "PER-4")
    assert swapped.pairs[0].personnel_id == "PER-4" and swapped.pairs[0].total == pytest.approx(expected(15))
    assert swapped.unmatched_personnels == ["PER-1"]
    assert swapped.total == pytest.approx(expected(15) + 2 * expected(0))


@pytest.mark.parametrize("a, b, message", [
    ("PER-1", "PER-3", "Échange refusé : Atelier A \\(Ville 0\\) et Camille Nom3 — Lycée 3 ne peuvent pas être "
                       "appariés. "
                       "Distance de 100,0 km supérieure au maximum de 60,0 km."),
    ("PER-1", "PER-5", "rencontre en cours"),
    ("PER-1", "PER-6", "statut « archivé »"),
    ("PER-4", "PER-5", "Ni Camille Nom4 — Lycée 4 ni Camille Nom5 — Lycée 5 ne figurent dans le plan"),
    ("PER-1", "PER-1", "deux personnels différents"),
    ("PER-1", "PER-X", "Personnel inconnu : PER-X"),
])
def test_swap_refusals(plan, a, b, message):
    with pytest.raises(PairingError, match=message) as refused:
        swap(plan, a, b)
    if b != "PER-X":  # an unknown ID has no name to show
        assert not re.search(r"\b(ENT|PER|REN)-", str(refused.value))  # records are named, never by ID


def test_drop_frees_the_slot(plan):
    dropped = drop(plan, "PER-2")
    assert [p.personnel_id for p in dropped.pairs] == ["PER-1", "PER-3"]
    assert dropped.total == pytest.approx(2 * expected(0))
    assert dropped.unmatched_personnels == ["PER-4", "PER-2"]
    assert dropped.unmatched_capacity == {"ENT-B": 1}
    with pytest.raises(PairingError, match="^Camille Nom2 — Lycée 2 ne figure pas dans le plan"):
        drop(dropped, "PER-2")
    assert swap(dropped, "PER-1", "PER-2").pairs[0].personnel_id == "PER-2"  # dropped people can come back


def test_plan_to_records(plan):
    records = plan_to_records(drop(plan, "PER-3"), YEAR)
    assert records == [
        {"entreprise_id": "ENT-A", "personnel_id": "PER-1", "annee_scolaire": YEAR, "statut": "proposée",
         "score": f"{expected(0):.1f}"},
        {"entreprise_id": "ENT-B", "personnel_id": "PER-2", "annee_scolaire": YEAR, "statut": "proposée",
         "score": f"{expected(0):.1f}"},
    ]
    tab = default_schema().tab("Rencontres")
    assert stamp_new(tab, records[0])["statut"] == "proposée"  # fields the store knows
    assert set(records[0]) <= set(tab.field_names)
    with pytest.raises(PairingError, match="Année scolaire « 2025 » invalide"):
        plan_to_records(plan, "2025")


def test_confirmed_plan_excludes_its_people_next_time(snap, plan):
    records = [{**r, "id": f"REN-P{i}"} for i, r in enumerate(plan_to_records(plan, YEAR))]
    rencontres = [row.values for row in snap.rows("Rencontres")] + records
    again = snapshot([r.values for r in snap.rows("Entreprises")], [r.values for r in snap.rows("Personnels")],
                     rencontres)
    next_plan = global_plan(again, locate=locate)
    assert next_plan.pairs == [] and next_plan.unmatched_personnels == ["PER-4"]


# ---- candidates kept per person (issue 16) ----------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_plan_pairs_are_explained_exactly_as_one_pair_at_a_time(snap):
    from ecole_entreprise.services.pairing.scoring import explain

    plan = global_plan(snap, locate=locate)
    data = prepare(snap, locate=locate)
    for pair in plan.pairs:
        e, p = data.entreprises.index[pair.entreprise_id], data.personnels.index[pair.personnel_id]
        assert pair == explain(data, e, p)


def test_best_candidates_keep_the_k_best_of_each_person_among_its_nearest():
    from dataclasses import replace

    from ecole_entreprise.services.pairing import scoring
    from ecole_entreprise.services.pairing.scoring import best_candidates

    kms = (0, 15, 30, 45, -50, 0)
    ents = [company(f"ENT-{i}", km, capacite_annuelle=str(1 + i % 3), thematiques="management" if i % 2 else
                    "management; orientation") for i, km in enumerate(kms)]
    snap = snapshot(ents, [staff("PER-1", 0), staff("PER-2", 30)])
    data = prepare(snap, locate=locate)
    full = score_candidates(data)
    best = best_candidates(data, k=2)
    for p in np.unique(full.personnel):
        mine = np.flatnonzero(full.personnel == p)
        ranked = sorted(mine, key=lambda k: (-full.total[k], full.entreprise[k]))[:2]
        kept = np.flatnonzero(best.personnel == p)
        assert sorted(best.entreprise[kept]) == sorted(full.entreprise[ranked])
        assert sorted(best.total[kept]) == sorted(full.total[ranked])
    assert len(best) == 4 and len(full) > len(best)
    data.settings = replace(data.settings, candidates_per_person=1)
    assert np.bincount(best_candidates(data).personnel).max() == 1
    assert scoring.POOL_FACTOR >= 1  # the pool is never smaller than k


def test_candidates_per_person_comes_from_parametres():
    from ecole_entreprise.services.pairing.scoring import DEFAULT_CANDIDATES, PairingSettings

    assert PairingSettings.from_snapshot(snapshot([], [])).candidates_per_person == DEFAULT_CANDIDATES
    rows = snapshot([], [])
    tab = default_schema().tab("Parametres")
    values = {name: "" for name in tab.field_names} | {"id": "PRM-K", "cle": "candidats_par_personnel",
                                                       "valeur": "7"}
    rows.tabs["Parametres"] = TabData("Parametres", tab.headers, [Row("PRM-K", values, {}, 2,
                                                                      fingerprint(tab, values))])
    assert PairingSettings.from_snapshot(rows).candidates_per_person == 7


# ---- what a page offers ----------------------------------------------------------------------------------

ADMIN_USER = User(email="admin@exemple.fr", role=ADMIN)


def test_choices_offer_only_pairable_records_by_name(snap):
    offer = choices(ADMIN_USER, snap, locate=locate)
    assert offer.entreprises.pairable == ["ENT-A", "ENT-B", "ENT-C"]  # ENT-Z has no place left
    assert offer.personnels.pairable == ["PER-1", "PER-2", "PER-3", "PER-4"]  # PER-5 engaged, PER-6 archived
    assert list(offer.personnels.labels) == [f"PER-{i}" for i in range(1, 7)]  # every visible record is named
    assert offer.entreprises.labels["ENT-A"] == "Atelier A (Ville 0)"
    assert offer.personnels.labels["PER-2"] == "Camille Nom2 — Lycée 2"
    assert offer.side("Personnels").options() == offer.personnels.pairable
    assert offer.side("Personnels").options(everything=True) == list(offer.personnels.labels)
    for block in blockers(snap, "Personnels", "PER-5", locate=locate):
        assert not re.search(r"\b(ENT|PER|REN)-", block)


def test_choices_stay_within_the_coordinators_scope():
    snap = snapshot([company("ENT-A", 0)], [staff("PER-1", 0, departement="21"), staff("PER-2", 0, departement="25")])
    coordinator = User(email="coord@exemple.fr", role=COORD_ACADEMIE, departements=frozenset({"21"}))
    offer = choices(coordinator, snap, locate=locate)
    assert offer.personnels.pairable == ["PER-1"] and list(offer.personnels.labels) == ["PER-1"]
    assert offer.entreprises.pairable == ["ENT-A"]  # the counterpart side is visible whole
    assert [p.personnel_id for p in suggestions(coordinator, snap, "Entreprises", "ENT-A", locate=locate)] == [
        "PER-1"]


def test_swap_partners_are_exactly_the_swaps_accepted(plan):
    everyone = [f"PER-{i}" for i in range(1, 7)] + ["PER-X"]
    for first in [p.personnel_id for p in plan.pairs]:
        accepted = []
        for other in everyone:
            try:
                swap(plan, first, other)
            except PairingError:
                continue
            accepted.append(other)
        assert swap_partners(plan, first, everyone) == accepted
    assert swap_partners(plan, "PER-1", everyone) == ["PER-2", "PER-4"]  # PER-3 too far, PER-5/6 excluded


def test_propose_makes_each_meeting_id_once(plan, monkeypatch):
    sent = []

    def fake_propose(store, snapshot, user, records):
        sent.append([dict(r) for r in records])
        return [] if len(sent) > 1 else records  # the retry finds them written

    monkeypatch.setattr(lifecycle, "propose", lambda *args: [Row(r["id"], r, {}, 0, "") for r in fake_propose(*args)])
    ids: dict = {}
    first = propose(None, None, ADMIN_USER, plan.pairs, YEAR, ids)
    assert first == Proposed(written=3, skipped=0)
    made = [r["id"] for r in sent[0]]
    assert len(set(made)) == 3 and all(i.startswith(default_schema().tab("Rencontres").id_prefix) for i in made)
    assert ids == {(p.entreprise_id, p.personnel_id, YEAR): r["id"] for p, r in zip(plan.pairs, sent[0], strict=True)}
    assert propose(None, None, ADMIN_USER, plan.pairs, YEAR, ids) == Proposed(written=0, skipped=3)
    assert [r["id"] for r in sent[1]] == made  # the retry sends the same IDs
    assert {r["statut"] for r in sent[0]} == {"proposée"}


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_preparing_and_solving_and_left_as_found(snap, monkeypatch, enabled):
    """The plan's cost stays near linear in the data (benchmarks/bench_scale.py): Python's full collections,
    which walk every live row, do not run while the plan prepares and solves; the caller's setting comes back."""
    import gc

    from ecole_entreprise.services.pairing import plan as plan_module

    seen = []
    real_prepare, real_solve = plan_module.prepare, plan_module._solve
    monkeypatch.setattr(plan_module, "prepare", lambda *a, **k: (seen.append(gc.isenabled()), real_prepare(*a, **k))[1])
    monkeypatch.setattr(plan_module, "_solve", lambda data: (seen.append(gc.isenabled()), real_solve(data))[1])
    (gc.enable if enabled else gc.disable)()
    try:
        assert global_plan(snap, locate=locate).pairs
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert seen == [False, False]
