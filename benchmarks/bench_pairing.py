"""Benchmark of the global pairing plan: our exact solver against two independent exact references.

A seeded synthetic snapshot (2,000 staff × 500 companies spread over Bourgogne-Franche-Comté, capacities 1–3,
distance_max_km tuned for about 20 candidate companies per person) is scored by services/scoring.py; the
resulting candidates feed, on the same instance in the same run:
- ours: pairing.max_weight_plan (sparse Jonker-Volgenant over duplicated company slots);
- reference: scipy.optimize.linprog (HiGHS) on the transportation LP, whose constraint matrix is totally
  unimodular, so the LP optimum is integral and equals the best plan;
- networkx.min_cost_flow (network simplex) on integer weights (scores × 10^6, rounded).
Human-readable lines first, then, as the LAST line, one JSON object.

Run: python benchmarks/bench_pairing.py [--personnels 2000] [--entreprises 500] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecole_entreprise.domain.schema import default_schema  # noqa: E402
from ecole_entreprise.services.pairing.plan import max_weight_plan, plan_from_data  # noqa: E402
from ecole_entreprise.services.pairing.scoring import PairingSettings, prepare, score_candidates  # noqa: E402
from ecole_entreprise.store.base import Row, Snapshot, TabData, fingerprint  # noqa: E402

BFC_BOX = ((46.15, 48.40), (2.85, 7.15))  # (lat min, lat max), (lon min, lon max)
N_COMMUNES = 1500
DISTANCE_MAX_KM = 33.5  # gives about 20 candidate companies per staff member on this instance
WEIGHT_SCALE = 10**6  # networkx needs integer costs


def _rows(tab_name: str, records: list[dict[str, str]]) -> TabData:
    tab = default_schema().tab(tab_name)
    rows = []
    for number, record in enumerate(records, start=2):
        values = {name: record.get(name, "") for name in tab.field_names}
        rows.append(Row(values["id"], values, {}, number, fingerprint(tab, values)))
    return TabData(tab_name, tab.headers, rows)


def _pick(rng: np.random.Generator, choices: tuple[str, ...], low: int, high: int) -> str:
    count = int(rng.integers(low, high + 1))
    return "; ".join(rng.choice(choices, size=min(count, len(choices)), replace=False))


def make_instance(n_personnels: int, n_entreprises: int, seed: int):
    """A seeded synthetic snapshot and the `locate` of its made-up communes."""
    rng = np.random.default_rng(seed)
    lists = default_schema().lists
    (lat0, lat1), (lon0, lon1) = BFC_BOX
    communes = {f"{90000 + i}": (float(rng.uniform(lat0, lat1)), float(rng.uniform(lon0, lon1)))
                for i in range(N_COMMUNES)}
    codes = list(communes)

    def person_like(kind: str, i: int) -> dict[str, str]:
        return {"id": f"{kind}-{i:05d}", "commune_insee": codes[int(rng.integers(len(codes)))], "statut": "validé",
                "consentement_participation": "2025-09-15 10:00:00",
                "thematiques": _pick(rng, lists["thematiques"], 1, 3),
                "formats": _pick(rng, lists["formats_entreprise"], 1, 3),
                "disponibilites": _pick(rng, lists["periodes"], 1, 4)}

    entreprises = [{**person_like("ENT", i), "capacite_annuelle": str(int(rng.integers(1, 4))),
                    "fonctions_souhaitees": _pick(rng, lists["fonctions"], 0, 2)} for i in range(n_entreprises)]
    personnels = [{**person_like("PER", i), "fonction": str(rng.choice(lists["fonctions"]))}
                  for i in range(n_personnels)]
    # a few refusals last year, so pair exclusions are exercised too
    rencontres = [{"id": f"REN-{i:05d}", "entreprise_id": f"ENT-{int(rng.integers(n_entreprises)):05d}",
                   "personnel_id": f"PER-{int(rng.integers(n_personnels)):05d}", "annee_scolaire": "2024-2025",
                   "statut": "refusée"} for i in range(n_personnels // 20)]
    parametres = [{"id": "PRM-1", "cle": "distance_max_km", "valeur": str(DISTANCE_MAX_KM)},
                  {"id": "PRM-2", "cle": "annee_scolaire", "valeur": "2025-2026"}]
    tabs = {"Entreprises": _rows("Entreprises", entreprises), "Personnels": _rows("Personnels", personnels),
            "Rencontres": _rows("Rencontres", rencontres), "Parametres": _rows("Parametres", parametres)}
    return Snapshot(tabs=tabs, read_at=datetime(2025, 10, 1)), communes.get


def reference_lp(capacity, ent, per, gain) -> tuple[float, float]:
    """Transportation LP with HiGHS: (total score of its chosen pairs, largest distance of a variable to an
    integer: 0 shows the LP optimum is an integral plan, as the constraint matrix is totally unimodular)."""
    n, n_e, n_p = len(gain), len(capacity), int(per.max()) + 1
    cols = np.arange(n)
    a_ub = sp.vstack([sp.csr_array((np.ones(n), (per, cols)), shape=(n_p, n)),
                      sp.csr_array((np.ones(n), (ent, cols)), shape=(n_e, n))])
    b_ub = np.concatenate([np.ones(n_p), np.maximum(capacity, 0)])
    result = linprog(-gain, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    if result.status != 0:
        raise RuntimeError(result.message)
    # The total of the pairs the reference actually chose (not its objective value, which carries the solver's
    # tolerance), after checking that rounded choice respects the capacities.
    chosen = np.round(result.x) == 1
    if np.bincount(per[chosen], minlength=n_p).max(initial=0) > 1 or \
            np.any(np.bincount(ent[chosen], minlength=n_e) > np.maximum(capacity, 0)):
        raise RuntimeError("La solution de référence arrondie viole une capacité.")
    return math.fsum(gain[chosen]), float(np.abs(result.x - np.round(result.x)).max())


def networkx_flow(capacity, ent, per, gain) -> float:
    """Min-cost flow: source → staff (1) → company (cost −score) → sink (capacity); a free bypass lets people
    stay unmatched. Returns the true total score of the chosen pairs."""
    graph = nx.DiGraph()
    n_p = int(per.max()) + 1
    graph.add_node("s", demand=-n_p)
    graph.add_node("t", demand=n_p)
    graph.add_edge("s", "t", capacity=n_p, weight=0)
    graph.add_edges_from(("s", ("p", p), {"capacity": 1, "weight": 0}) for p in range(n_p))
    graph.add_edges_from((("e", e), "t", {"capacity": int(c), "weight": 0}) for e, c in enumerate(capacity))
    costs = -np.round(gain * WEIGHT_SCALE).astype(np.int64)
    graph.add_edges_from((("p", int(p)), ("e", int(e)), {"capacity": 1, "weight": int(c)})
                         for p, e, c in zip(per, ent, costs, strict=True))
    flow = nx.min_cost_flow(graph)
    lookup = {(int(p), int(e)): g for p, e, g in zip(per, ent, gain, strict=True)}
    return sum(lookup[(p, company[1])] for p in range(n_p) for company, f in flow[("p", p)].items() if f)


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--personnels", type=int, default=2000)
    parser.add_argument("--entreprises", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    snapshot, locate = make_instance(args.personnels, args.entreprises, args.seed)
    settings = PairingSettings.from_snapshot(snapshot)
    data, prepare_s = _timed(prepare, snapshot, settings, locate)
    found, candidates_s = _timed(score_candidates, data)
    per_person = np.bincount(found.personnel, minlength=args.personnels)
    print(f"Instance : {args.personnels} personnels × {args.entreprises} entreprises, {len(found)} paires candidates "
          f"(moyenne {per_person.mean():.1f} par personnel), capacité totale {int(data.remaining.sum())}")
    print(f"Scoring : préparation {prepare_s * 1000:.1f} ms, candidats + scores {candidates_s * 1000:.1f} ms")

    instance = (data.remaining, found.entreprise, found.personnel, found.total)
    runs = [_timed(max_weight_plan, *instance) for _ in range(3)]
    chosen, ours_s = runs[0][0], statistics.median(t for _, t in runs)
    ours_total = float(found.total[chosen].sum())
    counts = np.bincount(found.entreprise[chosen], minlength=len(data.remaining))
    assert np.all(counts <= data.remaining) and len(set(found.personnel[chosen])) == len(chosen)
    print(f"Nous (LAPJVsp, médiane de 3) : {ours_s * 1000:.1f} ms, total {ours_total:.6f}, {len(chosen)} paires")

    (reference_total, fractional), reference_s = _timed(reference_lp, *instance)
    print(f"Référence (linprog HiGHS) : {reference_s * 1000:.1f} ms, total {reference_total:.6f}, "
          f"écart à l'entier max {fractional:.1e}")
    networkx_total, networkx_s = _timed(networkx_flow, *instance)
    print(f"networkx.min_cost_flow : {networkx_s * 1000:.1f} ms, total {networkx_total:.6f}")
    plan, plan_s = _timed(plan_from_data, data)
    print(f"Plan complet (scores + résolution + explications) : {plan_s * 1000:.1f} ms, total {plan.total:.6f}")

    rel_diff = abs(ours_total - reference_total) / max(abs(reference_total), 1e-12)
    print(json.dumps({
        "ours_s": round(ours_s, 6), "ours_total": ours_total, "reference_total": reference_total,
        "reference_s": round(reference_s, 6), "networkx_s": round(networkx_s, 6), "networkx_total": networkx_total,
        "rel_diff": rel_diff, "rel_diff_networkx": abs(ours_total - networkx_total) / max(reference_total, 1e-12),
        "speedup_vs_networkx": round(networkx_s / ours_s, 1), "pairs": int(len(chosen)),
        "candidates": int(len(found)), "candidates_per_personnel": round(float(per_person.mean()), 2),
        "prepare_s": round(prepare_s, 6), "scoring_s": round(candidates_s, 6), "plan_end_to_end_s": round(plan_s, 6),
        "plan_total": plan.total,
    }))


if __name__ == "__main__":
    main()
