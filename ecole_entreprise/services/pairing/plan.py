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
from collections.abc import Callable, Iterable, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from ...domain.schema import default_schema
from ...domain.statuses import MeetingStatus
from ...store.base import Snapshot, new_id
from ..kernel import access
from ..meetings import lifecycle as meetings
from .scoring import (
    Locate,
    PairingData,
    PairingError,
    PairingSettings,
    PairScore,
    Side,
    best_candidates,
    company_label,
    explain,
    explain_candidates,
    indices,
    pair_reasons,
    prepare,
    score_candidates,
    staff_label,
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
    with _collector_paused():  # preparing allocates as much as solving (encodings of every row)
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
        raise PairingError(f"Échange refusé : {company_label(data.entreprises.rows[e])} et "
                           f"{staff_label(data.personnels.rows[p])} ne peuvent pas être appariés. "
                           + " ".join(reasons))
    return explain(data, e, p)


def _staff_name(plan: Plan, personnel_id: str) -> str:
    """The staff member's name for a message (PairingError « Personnel inconnu » when the ID is unknown)."""
    if plan.data is None:
        return "Ce personnel"
    [p] = indices(plan.data, personnel_id=personnel_id)
    return staff_label(plan.data.personnels.rows[p])


def swap(plan: Plan, a_personnel_id: str, b_personnel_id: str) -> Plan:
    """Exchange the companies of two staff members (one may be unmatched: it takes the other's place)."""
    if plan.data is None:
        raise PairingError("Ce plan ne peut pas être modifié : relancez le calcul du plan.")
    if a_personnel_id == b_personnel_id:
        raise PairingError("Choisissez deux personnels différents pour un échange.")
    ia, ib = _position(plan, a_personnel_id), _position(plan, b_personnel_id)
    if ia is None and ib is None:
        raise PairingError(f"Ni {_staff_name(plan, a_personnel_id)} ni {_staff_name(plan, b_personnel_id)} ne "
                           "figurent dans le plan : rien à échanger.")
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
        name = "Ce personnel" if plan.data is None or personnel_id not in plan.data.personnels.index else (
            _staff_name(plan, personnel_id))
        raise PairingError(f"{name} ne figure pas dans le plan.")
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


def swap_partners(plan: Plan, personnel_id: str, among: Iterable[str]) -> list[str]:
    """The staff members of `among` (in its order) that `swap(plan, personnel_id, …)` accepts: a page offers
    only these, so a coordinator is never proposed a partner that cannot be paired."""
    if plan.data is None or personnel_id not in plan.data.personnels.index:
        return []
    return [other for other in among if other != personnel_id and _swappable(plan, personnel_id, other)]


def _swappable(plan: Plan, a: str, b: str) -> bool:
    data, ia, ib = plan.data, _position(plan, a), _position(plan, b)
    if b not in data.personnels.index or (ia is None and ib is None):
        return False
    moves = [(plan.pairs[ia].entreprise_id, b)] if ia is not None else []
    moves += [(plan.pairs[ib].entreprise_id, a)] if ib is not None else []
    return all(not pair_reasons(data, *indices(data, e, p))[0] for e, p in moves)


def distance_km(plan: Plan, pair: PairScore) -> float | None:
    """Distance between the pair's communes (None when one is not located)."""
    e, p = indices(plan.data, pair.entreprise_id, pair.personnel_id)
    return pair_reasons(plan.data, e, p)[1]


# ---- what a page offers: the records this user may pair, by name --------------------------------------------


@dataclass(frozen=True)
class Records:
    """One side (Entreprises or Personnels) as a user may pair it."""

    rows: dict[str, dict[str, str]]  # every record the user may see (sheet order), as access.visible_rows clips it
    labels: dict[str, str]  # the same records -> their name, for choices and messages (never an ID)
    pairable: list[str]  # those that can be paired now: validated, consent given, a place left, in scope

    def options(self, everything: bool = False) -> list[str]:
        return list(self.labels) if everything else list(self.pairable)


@dataclass(frozen=True)
class Choices:
    entreprises: Records
    personnels: Records

    def side(self, tab: str) -> Records:
        return self.entreprises if tab == "Entreprises" else self.personnels


def choices(user, snapshot: Snapshot, settings: PairingSettings | None = None,
            locate: Locate | None = None) -> Choices:
    """The companies and staff members this user may see, named, and which of them can be paired now (the
    same rules as the suggestions: a record that is listed pairable is never excluded as a whole)."""
    data = prepare(snapshot, settings, locate)
    return Choices(_records(user, snapshot, "Entreprises", data.entreprises, company_label),
                   _records(user, snapshot, "Personnels", data.personnels, staff_label))


def _records(user, snapshot: Snapshot, tab: str, side: Side, label: Callable[[dict], str]) -> Records:
    rows = {row["id"]: row for row in access.visible_rows(user, tab, snapshot)}
    eligible = side.eligible
    return Records(rows, {rid: label(row) for rid, row in rows.items()},
                   [rid for rid in rows if rid in side.index and eligible[side.index[rid]]])


def in_scope(user, snapshot: Snapshot, pairs: Iterable[PairScore]) -> list[PairScore]:
    """The pairs whose meeting would fall within the user's départements (the others are someone else's part)."""
    return [pair for pair in pairs if access.row_in_scope(
        user, "Rencontres", {"entreprise_id": pair.entreprise_id, "personnel_id": pair.personnel_id}, snapshot)]


def suggestions(user, snapshot: Snapshot, tab: str, row_id: str, n: int = 10,
                settings: PairingSettings | None = None, locate: Locate | None = None) -> list[PairScore]:
    """The n best in-scope suggestions for a company ("Entreprises") or a staff member ("Personnels")."""
    finder = suggestions_for_entreprise if tab == "Entreprises" else suggestions_for_personnel
    return in_scope(user, snapshot, finder(snapshot, row_id, n=n, settings=settings, locate=locate))


@dataclass(frozen=True)
class Proposed:
    written: int
    skipped: int  # already recorded (a retry after a lost answer): not written twice


def propose(store, snapshot: Snapshot, user, pairs: list[PairScore], annee_scolaire: str,
            ids: MutableMapping[tuple[str, str, str], str]) -> Proposed:
    """Write the confirmed pairs as proposed meetings. `ids` (pair -> meeting ID) is kept by the caller until the
    write succeeds: each pair gets its ID once, so a retry after a lost answer sends the same IDs and
    meetings.propose skips what is already written."""
    records = plan_to_records(Plan(list(pairs), math.fsum(p.total for p in pairs), [], {}), annee_scolaire)
    prefix = default_schema().tab("Rencontres").id_prefix
    for record in records:
        key = (record["entreprise_id"], record["personnel_id"], record["annee_scolaire"])
        record["id"] = ids.setdefault(key, new_id(prefix))
    written = meetings.propose(store, snapshot, user, records)
    return Proposed(len(written), len(records) - len(written))
