"""Pairing: top-N suggestions for one company or one staff member, and the exact optimal global plan.

The plan maximises the total score of the proposed pairs under two capacities: a company hosts at most its
remaining capacity this school year, a staff member gets at most one (pending) meeting. Only scored pairs
(services/scoring.py) may be used, and every scored pair has a positive score.

Solver: this is a maximum-weight b-matching in a bipartite graph, solved EXACTLY as a rectangular linear
assignment over duplicated company slots with scipy.sparse.csgraph.min_weight_full_bipartite_matching (LAPJVsp,
a sparse Jonker-Volgenant shortest augmenting path algorithm):
- rows are slots: company c contributes min(remaining capacity, number of its candidates) identical slots
  (more slots could never be filled, so this trims the problem without changing its optimum);
- columns are the staff members with at least one candidate, plus one private "empty" column per slot;
- an edge slot→person exists only for scored pairs, weight score + OFFSET; slot→its empty column weighs OFFSET.
The empty columns make a full matching (every slot matched) always exist, and since every full matching uses
exactly one edge per slot, adding OFFSET to every edge shifts all totals by the same constant: the maximum full
matching is a maximum-score plan (empty columns = slot left free, gain 0). Non-candidate pairs have no edge, so
they can never be chosen. Why not the alternatives: a dense linear_sum_assignment needs the whole slots × staff
matrix (≈ 75 ms against ≈ 20 ms on the benchmark instance); an LP or a min-cost flow is exact too but slower
(benchmarks/bench_pairing.py runs both as independent references).
"""

from __future__ import annotations

import gc
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from ...domain.statuses import MeetingStatus
from ...store.base import Snapshot
from .scoring import (
    Locate,
    PairingData,
    PairingError,
    PairingSettings,
    PairScore,
    best_candidates,
    explain,
    explain_candidates,
    indices,
    pair_reasons,
    prepare,
    score_candidates,
)

OFFSET = 1.0  # added to every edge weight: LAPJVsp needs non-zero weights (see module docstring)
PROPOSED = str(MeetingStatus.PROPOSED)


# ---- suggestions -----------------------------------------------------------------------------------------


def _top(data: PairingData, entreprises=None, personnels=None, n: int = 10) -> list[PairScore]:
    found = score_candidates(data, entreprises, personnels)
    ids = [(data.entreprises.rows[e].id, data.personnels.rows[p].id) for e, p in zip(found.entreprise,
                                                                                     found.personnel, strict=True)]
    order = sorted(range(len(found)), key=lambda k: (-found.total[k], ids[k]))[:max(n, 0)]
    return [explain(data, int(found.entreprise[k]), int(found.personnel[k])) for k in order]


def suggestions_for_entreprise(snapshot: Snapshot, entreprise_id: str, n: int = 10,
                               settings: PairingSettings | None = None, locate: Locate | None = None
                               ) -> list[PairScore]:
    """The n best staff members for a company, best first (empty when the company itself is excluded)."""
    data = prepare(snapshot, settings, locate)
    [e] = indices(data, entreprise_id=entreprise_id)
    return _top(data, entreprises=np.array([e]), n=n)


def suggestions_for_personnel(snapshot: Snapshot, personnel_id: str, n: int = 10,
                              settings: PairingSettings | None = None, locate: Locate | None = None
                              ) -> list[PairScore]:
    """The n best companies for a staff member, best first (empty when the person is excluded)."""
    data = prepare(snapshot, settings, locate)
    [p] = indices(data, personnel_id=personnel_id)
    return _top(data, personnels=np.array([p]), n=n)


def blockers(snapshot: Snapshot, tab: str, row_id: str, settings: PairingSettings | None = None,
             locate: Locate | None = None) -> list[str]:
    """Why a company ("Entreprises") or staff member ("Personnels") gets no suggestion at all (French)."""
    data = prepare(snapshot, settings, locate)
    if tab == "Entreprises":
        return list(data.entreprises.blockers[indices(data, entreprise_id=row_id)[0]])
    if tab == "Personnels":
        return list(data.personnels.blockers[indices(data, personnel_id=row_id)[0]])
    raise PairingError(f"Onglet « {tab} » sans appariement (attendu Entreprises ou Personnels).")


# ---- exact solver ----------------------------------------------------------------------------------------


def max_weight_plan(capacity, entreprise, personnel, gain) -> np.ndarray:
    """Indices of the chosen edges of a maximum-gain plan: company c used at most capacity[c] times, each
    person at most once. Edges (entreprise[k], personnel[k], gain[k]) must be distinct pairs with gain > 0."""
    capacity = np.maximum(np.asarray(capacity, dtype=np.int64), 0)
    ent, gain = np.asarray(entreprise, dtype=np.int64), np.asarray(gain, dtype=float)
    people, person = np.unique(np.asarray(personnel, dtype=np.int64), return_inverse=True)
    if len(gain) == 0:
        return np.zeros(0, dtype=np.intp)
    if len(ent) != len(gain) or len(person) != len(gain) or ent.min() < 0 or ent.max() >= len(capacity):
        raise PairingError("Candidats incohérents : tailles différentes ou entreprise hors limites.")
    if not np.all(gain > 0):
        raise PairingError("Le plan n'accepte que des scores strictement positifs.")
    key = ent * len(people) + person
    if len(np.unique(key)) != len(key):
        raise PairingError("Une même paire apparaît deux fois parmi les candidats.")
    slots = np.minimum(capacity, np.bincount(ent, minlength=len(capacity)))  # unusable slots trimmed
    if slots.sum() == 0:
        return np.zeros(0, dtype=np.intp)
    first = np.concatenate([[0], np.cumsum(slots)[:-1]])
    n_slots = int(slots.sum())
    # one edge per (candidate pair, slot of its company)
    reps = slots[ent]
    edge = np.repeat(np.arange(len(gain)), reps)
    slot_rank = np.arange(len(edge)) - np.repeat(np.cumsum(reps) - reps, reps)
    rows = np.concatenate([first[ent[edge]] + slot_rank, np.arange(n_slots)])
    cols = np.concatenate([person[edge], len(people) + np.arange(n_slots)])
    weights = np.concatenate([gain[edge] + OFFSET, np.full(n_slots, OFFSET)])
    graph = sp.csr_array((weights, (rows, cols)), shape=(n_slots, len(people) + n_slots))
    row, col = min_weight_full_bipartite_matching(graph, maximize=True)
    real = col < len(people)
    slot_company = np.repeat(np.arange(len(capacity)), slots)
    chosen_keys = slot_company[row[real]] * len(people) + col[real]
    order = np.argsort(key)
    return np.sort(order[np.searchsorted(key, chosen_keys, sorter=order)])


# ---- the plan and what a coordinator does with it ----------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    pairs: list[PairScore]
    total: float
    unmatched_personnels: list[str]  # eligible staff members left without a pair
    unmatched_capacity: dict[str, int]  # eligible company ID -> slots still free after the plan
    data: PairingData | None = field(default=None, repr=False, compare=False)  # for swap/drop re-scoring


def _plan(data: PairingData, pairs: list[PairScore]) -> Plan:
    """Totals and leftovers recomputed from the pairs."""
    paired = {pair.personnel_id for pair in pairs}
    used: dict[str, int] = {}
    for pair in pairs:
        used[pair.entreprise_id] = used.get(pair.entreprise_id, 0) + 1
    ents, pers = data.entreprises, data.personnels
    free = {ents.rows[e].id: int(data.remaining[e]) - used.get(ents.rows[e].id, 0)
            for e in np.flatnonzero(ents.eligible)}
    return Plan(pairs=list(pairs), total=math.fsum(pair.total for pair in pairs),
                unmatched_personnels=[pers.rows[p].id for p in np.flatnonzero(pers.eligible)
                                      if pers.rows[p].id not in paired],
                unmatched_capacity={k: v for k, v in free.items() if v > 0}, data=data)


def global_plan(snapshot: Snapshot, settings: PairingSettings | None = None, locate: Locate | None = None) -> Plan:
    """The exact maximum-score plan for everyone not yet paired (nothing is written)."""
    return plan_from_data(prepare(snapshot, settings, locate))


def plan_from_data(data: PairingData) -> Plan:
    with _collector_paused():
        return _solve(data)


@contextmanager
def _collector_paused():
    """The plan allocates many short-lived objects while the sheet's rows (millions of objects at 16×) are alive:
    each of Python's full collections walks them all, which made the solve grow faster than the data. Nothing
    here forms reference cycles that would need the collector before it resumes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _solve(data: PairingData) -> Plan:
    found = best_candidates(data)
    chosen = max_weight_plan(data.remaining, found.entreprise, found.personnel, found.total)
    pairs = explain_candidates(data, found, chosen)
    pairs.sort(key=lambda pair: (-pair.total, pair.entreprise_id, pair.personnel_id))
    return _plan(data, pairs)


def _position(plan: Plan, personnel_id: str) -> int | None:
    return next((i for i, pair in enumerate(plan.pairs) if pair.personnel_id == personnel_id), None)


def _rescore(data: PairingData, entreprise_id: str, personnel_id: str) -> PairScore:
    e, p = indices(data, entreprise_id, personnel_id)
    reasons, _ = pair_reasons(data, e, p)
    if reasons:
        raise PairingError(f"Échange refusé : {entreprise_id} et {personnel_id} ne peuvent pas être appariés. "
                           + " ".join(reasons))
    return explain(data, e, p)


def swap(plan: Plan, a_personnel_id: str, b_personnel_id: str) -> Plan:
    """Exchange the companies of two staff members (one may be unmatched: it takes the other's place)."""
    if plan.data is None:
        raise PairingError("Ce plan ne peut pas être modifié : relancez le calcul du plan.")
    if a_personnel_id == b_personnel_id:
        raise PairingError("Choisissez deux personnels différents pour un échange.")
    ia, ib = _position(plan, a_personnel_id), _position(plan, b_personnel_id)
    if ia is None and ib is None:
        raise PairingError(f"Ni {a_personnel_id} ni {b_personnel_id} ne figurent dans le plan : rien à échanger.")
    pairs = list(plan.pairs)
    if ia is not None:
        pairs[ia] = _rescore(plan.data, plan.pairs[ia].entreprise_id, b_personnel_id)
    if ib is not None:
        pairs[ib] = _rescore(plan.data, plan.pairs[ib].entreprise_id, a_personnel_id)
    return _plan(plan.data, pairs)


def drop(plan: Plan, personnel_id: str) -> Plan:
    """Remove one staff member's pair from the plan; the company's slot becomes free again."""
    position = _position(plan, personnel_id)
    if position is None:
        raise PairingError(f"Le personnel {personnel_id} ne figure pas dans le plan.")
    dropped = plan.pairs[position]
    pairs = plan.pairs[:position] + plan.pairs[position + 1:]
    free = dict(plan.unmatched_capacity)
    free[dropped.entreprise_id] = free.get(dropped.entreprise_id, 0) + 1
    return replace(plan, pairs=pairs, total=math.fsum(pair.total for pair in pairs), unmatched_capacity=free,
                   unmatched_personnels=plan.unmatched_personnels + [personnel_id])


def plan_to_records(plan: Plan, annee_scolaire: str) -> list[dict[str, str]]:
    """Rencontres records for the confirmed plan (status "proposée"); to append only after confirmation."""
    if not re.fullmatch(r"\d{4}-\d{4}", annee_scolaire or ""):
        raise PairingError(f"Année scolaire « {annee_scolaire} » invalide (attendu par exemple 2025-2026).")
    return [{"entreprise_id": pair.entreprise_id, "personnel_id": pair.personnel_id, "annee_scolaire": annee_scolaire,
             "statut": PROPOSED, "score": f"{pair.total:.1f}"} for pair in plan.pairs]
