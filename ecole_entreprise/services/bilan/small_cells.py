"""The small-cell rule for the comité de pilotage and every export: no count of 1 to 4 can be read or worked out.

Three parts, so that no combination of filters gives a small count back:
- fixed groupings: the region, an académie or ONE département, for a whole school year (no list of
  départements, no date range: « the region minus every département but one » or two ranges one day apart would
  isolate a few people);
- primary suppression: a count under 5 reads « < 5 », a zero too (were zeros shown, « < 5 » would tell 1 to 4,
  and a « < 5 » académie whose four départements read « < 5 » would give each of them as 1);
- secondary suppression: every count published for a school year (each table, each of the 11 territories) is
  one cell of a system of known sums (region = its two académies, an académie = its départements, the rows of a
  table = the key figure they break down, shares = their group's total). When a small count could be solved
  from those sums (alone in its line, by elimination, or left one value by the bounds « < 5 » gives and whole
  numbers: linear programs over all the sums), another cell of one of its sums is masked too, « n.d. »; the check
  repeats until no small count can be worked out. The masks are decided once per school year for every
  territory together, so that the région's view and a département's view agree.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from ...domain.roles import ACADEMIES, ALL_DEPARTEMENTS
from ..kernel.formatting import departement_label
from ..kernel.memo import Kept
from . import compute as bilan
from .registry import TABLES, masked

REGION = "Bourgogne-Franche-Comté"
# The fixed territories the comité may choose, each with its départements.
TERRITORIES: dict[str, frozenset[str]] = {REGION: ALL_DEPARTEMENTS,
                                           **{a: frozenset(deps) for a, deps in ACADEMIES.items()},
                                           **{d: frozenset({d}) for d in sorted(ALL_DEPARTEMENTS)}}
PARENTS = {REGION: tuple(ACADEMIES), **{a: deps for a, deps in ACADEMIES.items()}}
LOW, HIGH = 0, bilan.THRESHOLD - 1  # what « < 5 » tells: a count between 0 and 4
Cell = tuple  # (territory, table key, row names, column)
# Kept for the next prepared data (a new one comes with every change of its tabs), as most changes leave a year as
# it was: a year's tables and masks for the same prepared content (a place, a time: columns the bilan does not
# read), and the masks for the same counts (a note, a change in another year), since the suppression is a function
# of the counts alone.
DECIDED_KEPT = 8
_decided = Kept(DECIDED_KEPT)  # counts → (primary, secondary)
_years = Kept(DECIDED_KEPT)  # (content digest, year, tables) → YearMasks


class ComiteFilterError(bilan.BilanFilterError):
    """A filter the comité (or an export) may not use; the message is French."""


# ---- territories and filters ---------------------------------------------------------------------------


def territory_of(filt: bilan.BilanFilter) -> str | None:
    """The fixed territory a filter covers, or None (a list of départements that is no territory)."""
    return next((name for name, deps in TERRITORIES.items() if filt.scope == deps), None)


def territory_filter(annee: str, territory: str) -> bilan.BilanFilter:
    if territory == REGION:
        return bilan.BilanFilter(annee)
    if territory in ACADEMIES:
        return bilan.BilanFilter(annee, academie=territory)
    return bilan.BilanFilter(annee, departements=(territory,))


def comite_territory(filt: bilan.BilanFilter) -> str:
    """The territory of a filter the comité may use; ComiteFilterError otherwise (fails closed)."""
    if filt.periode is not None:
        raise ComiteFilterError("Pour protéger les petits effectifs, le comité de pilotage et les exports portent "
                                "sur l'année scolaire entière (pas de période choisie).")
    territory = territory_of(filt)
    if territory is None:
        raise ComiteFilterError("Pour protéger les petits effectifs, choisissez la région, une académie ou un seul "
                                "département (pas une liste de départements).")
    return territory


# ---- cells and the sums that link them -----------------------------------------------------------------


def _tables(data: bilan.BilanData, annee: str) -> dict[str, dict[str, pd.DataFrame]]:
    """Every masked table of every territory, at the comité's grain; the key figures with « en cours »."""
    out = {}
    for territory in TERRITORIES:
        filt = territory_filter(annee, territory)
        tables = {key: TABLES[key].computed(data, filt, coarse=True) for key in masked() if key != "kpis"}
        tables["kpis"] = bilan.kpis_with_pending(data, filt)
        out[territory] = tables
    return out


def _row(record: dict, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(record[name]) for name in names)


def cells(tables: dict[str, dict[str, pd.DataFrame]]) -> dict[Cell, int]:
    """Every count under the rule, by (territory, table, row, column)."""
    values: dict[Cell, int] = {}
    for territory, by_key in tables.items():
        for key, frame in by_key.items():
            spec = TABLES[key]
            for record in frame.to_dict("records"):
                row = _row(record, spec.rows)
                if spec.people_rows is not None and row[0] not in spec.people_rows:
                    continue
                for column in spec.people:
                    values[(territory, key, row, column)] = int(record[column])
    return values


def lines(values: dict[Cell, int]) -> list[dict[Cell, int]]:
    """The sums a reader can form, each as {cell: coefficient} whose weighted sum is known."""
    found: list[dict[Cell, int]] = []
    by_place: dict[tuple, dict[str, Cell]] = defaultdict(dict)
    for cell in values:
        by_place[cell[1:]][cell[0]] = cell
    for places in by_place.values():  # a parent territory is the sum of its parts
        for parent, children in PARENTS.items():
            line = {places[t]: (1 if t == parent else -1) for t in (parent, *children) if t in places}
            if len(line) >= 2:
                found.append(line)
    labels = {departement_label(d): d for d in ALL_DEPARTEMENTS}
    grouped: dict[tuple, dict[Cell, int]] = defaultdict(dict)
    for cell in values:
        territory, key, row, column = cell
        spec = TABLES[key]
        if column in spec.totals:  # the rows add up to a key figure
            total = (territory, "kpis", (spec.totals[column],), "Valeur")
            grouped[("total", territory, key, column)][cell] = 1
            if total in values:
                grouped[("total", territory, key, column)][total] = -1
        if spec.groups:  # shares give the group's total away
            grouped[("group", territory, key, row[:len(spec.groups)], column)][cell] = 1
        if spec.per_departement and row[0] in labels:  # one row = that département's key figure
            same = (labels[row[0]], "kpis", (column,), "Valeur")
            if same in values:
                found.append({cell: 1, same: -1})
    return found + [line for line in grouped.values() if len(line) >= 2]


# ---- suppression ---------------------------------------------------------------------------------------


def _components(masked: set[Cell], found: list[dict[Cell, int]]) -> list[tuple[list[Cell], list[dict]]]:
    """Masked cells linked by sums, each group with the sums that touch it (connected components of the graph
    whose nodes are the masked cells and the sums, scipy's: the loop of the suppression calls this many times)."""
    members = list(masked)
    index = {c: i for i, c in enumerate(members)}
    touching = [[index[c] for c in line if c in index] for line in found]
    cell_nodes = [i for touched in touching for i in touched]
    line_nodes = [len(members) + j for j, touched in enumerate(touching) for _ in touched]
    size = len(members) + len(found)
    graph = sp.coo_matrix((np.ones(len(cell_nodes)), (cell_nodes, line_nodes)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, tuple[list, list]] = {}
    for i, cell in enumerate(members):
        groups.setdefault(labels[i], ([], []))[0].append(cell)
    for line, touched in zip(found, touching, strict=True):
        if touched:
            groups[labels[touched[0]]][1].append(line)
    return list(groups.values())


def solvable(masked: set[Cell], found: list[dict[Cell, int]], memo: dict | None = None,
             small: set[Cell] | frozenset = frozenset()) -> set[Cell]:
    """Masked cells whose exact value follows from the sums (their unit vector is in the sums' row space). A small
    cell alone in a sum is reported without more work; a group unchanged since the last call comes from `memo`."""
    memo = {} if memo is None else memo
    out: set[Cell] = set()
    for members, group_lines in _components(masked, found):
        alone = {next(c for c in line if c in masked) for line in group_lines
                 if sum(c in masked for c in line) == 1} & small
        if alone:
            out |= alone
            continue
        key = frozenset(members)
        if key not in memo:
            memo[key] = _solved(members, group_lines)
        out |= memo[key]
    return out


def _coefficients(members: list[Cell], group_lines: list[dict[Cell, int]]) -> tuple[dict[Cell, int], np.ndarray]:
    """Each member's column, and the sums as a matrix (one row per sum) over those columns."""
    index = {c: i for i, c in enumerate(members)}
    matrix = np.zeros((len(group_lines), len(members)))
    for r, line in enumerate(group_lines):
        for c, coef in line.items():
            if c in index:
                matrix[r, index[c]] = coef
    return index, matrix


def _solved(members: list[Cell], group_lines: list[dict[Cell, int]]) -> set[Cell]:
    if not group_lines:  # in no sum: nothing to solve it from
        return set()
    index, matrix = _coefficients(members, group_lines)
    # A cell is solved when its unit vector lies in the row space: its projection on that space has norm 1.
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    rows = vt[: int((singular > 1e-9).sum())]
    projection = (rows ** 2).sum(axis=0)
    return {cell for cell, i in index.items() if projection[i] > 1 - 1e-9}


def pinned(primary: set[Cell], masked: set[Cell], found: list[dict[Cell, int]],
           values: dict[Cell, int]) -> set[Cell]:
    """Small cells of a sum whose known value is the least or the most their bounds allow (two « < 5 » adding
    up to 8 are both 4)."""
    out: set[Cell] = set()
    for line in found:
        unknown = {c: k for c, k in line.items() if c in masked}
        if not unknown:
            continue
        total = sum(k * values[c] for c, k in unknown.items())
        bounds = [(LOW, HIGH) if c in primary else (0, np.inf) for c in unknown]
        least = sum(k * (lo if k > 0 else hi) for k, (lo, hi) in zip(unknown.values(), bounds, strict=True))
        most = sum(k * (hi if k > 0 else lo) for k, (lo, hi) in zip(unknown.values(), bounds, strict=True))
        if total in (least, most):
            out |= set(unknown)
    return out


def _partner(cell: Cell, masked: set[Cell], found: list[dict[Cell, int]], where: dict[Cell, list[int]],
             values: dict[Cell, int]) -> Cell | None:
    """The visible cell to mask with `cell`: the smallest non-zero one of the sums it is in (a zero if none)."""
    lines_of = sorted(where[cell], key=lambda i: sum(c in masked for c in found[i]))
    candidates = [c for i in lines_of for c in found[i] if c not in masked]
    if not candidates:
        candidates = [c for i in where[cell] for m in found[i] for j in where[m] for c in found[j]
                      if c not in masked]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (values[c] == 0, values[c], c))


def _widened(cell: Cell, tight: set[Cell], found: list[dict[Cell, int]], where: dict[Cell, list[int]],
             values: dict[Cell, int]) -> Cell | None:
    """No visible cell left around `cell`: a « < 5 » of its sums then reads « n.d. » (no upper bound any more),
    the largest one first."""
    around = [c for i in where[cell] for c in found[i] if c in tight]
    return max(around, key=lambda c: (values[c], c)) if around else None


def suppress(values: dict[Cell, int], found: list[dict[Cell, int]],
             threshold: int = bilan.THRESHOLD) -> tuple[set[Cell], set[Cell]]:
    """(« < 5 », « n.d. »): the small counts, and the cells masked (or small counts widened to « n.d. ») so that
    none of the small counts can be worked out."""
    tight = {c for c, v in values.items() if v < threshold}  # read « < 5 »: the reader knows 0 to 4
    masked = set(tight)
    where: dict[Cell, list[int]] = defaultdict(list)
    for i, line in enumerate(found):
        for c in line:
            where[c].append(i)
    memo: dict = {}
    bounded: dict = {}
    small = {c for c in tight if values[c] > 0}  # a zero worked out is no one's count: nothing to protect
    while True:
        exposed = (solvable(masked, found, memo, small) | pinned(tight, masked, found, values)) & small
        if not exposed:  # the costlier check last, once the sums alone solve nothing
            exposed = boxed_in(tight, masked, found, values, bounded, small)
        added, widened = set(), set()
        for cell in sorted(exposed):
            if (partner := _partner(cell, masked, found, where, values)) is not None:
                added.add(partner)
            elif (wide := _widened(cell, tight - widened, found, where, values)) is not None:
                widened.add(wide)
        if not added and not widened:
            return tight, masked - tight
        masked |= added
        tight -= widened


def boxed_in(primary: set[Cell], masked: set[Cell], found: list[dict[Cell, int]], values: dict[Cell, int],
             memo: dict | None = None, small: set[Cell] | None = None) -> set[Cell]:
    """Small non-zero cells that all the sums together, with the bounds « < 5 » gives (0 to 4) and whole numbers,
    leave to one value (linear programs, as a reader would run them). A cell is cleared as soon as one solution
    moves it by 1 or more; only the cells no push moved get their own two programs. The groups of masked cells
    share no sum, so the pushes of every group not yet decided are one program (block by block its optimum is each
    group's own): a few solver calls instead of thousands."""
    memo = {} if memo is None else memo
    out: set[Cell] = set()
    pending = []
    for members, group_lines in _components(masked, found):
        targets = {c for c in members if (c in small if small is not None else c in primary) and values[c] > 0}
        if not targets or not group_lines:
            continue
        key = (frozenset(members), frozenset(c for c in members if c in primary))
        if key in memo:
            out |= memo[key]
        else:
            pending.append((key, members, group_lines, targets))
    if pending:
        left = _pushed(pending, primary, values)
        for (key, members, group_lines, _), unmoved in zip(pending, left, strict=True):
            memo[key] = _boxed(members, group_lines, primary, values, unmoved) if unmoved else set()
            out |= memo[key]
    return out


def _pushed(pending: list, primary: set[Cell], values: dict[Cell, int]) -> list[set[Cell]]:
    """For each pending group, its targets that no push moved by 1 or more: every target pushed away from its
    value, up then down, all groups in one program per push. A target's own range is cut to its value ± 1 in
    these programs (a move of 1 is all a push must show), which also keeps a target with no upper bound (a small
    count widened to « n.d. ») from making the program unbounded."""
    a_eq, b_eq, all_bounds, places = _joint_system([(members, lines_) for _, members, lines_, _ in pending],
                                                   primary, values)
    left = [set(targets) for *_, targets in pending]
    for direction in (1, -1, 1):  # up then down, then up again for what the second push freed
        aim = np.zeros(len(all_bounds))
        bounds = list(all_bounds)
        for place, remaining in zip(places, left, strict=True):
            for c in remaining:
                at = place[c]
                aim[at] = -direction if values[c] < HIGH else direction
                low, high = bounds[at]
                bounds[at] = (max(low, values[c] - 1), values[c] + 1 if high is None else min(high, values[c] + 1))
        if not aim.any():
            break
        result = linprog(aim, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if result.status != 0:  # cannot happen (the true values are a solution): decide every cell on its own
            break
        left = [{c for c in remaining if abs(result.x[place[c]] - values[c]) < 1 - 1e-7}
                for place, remaining in zip(places, left, strict=True)]
    return left


def _joint_system(groups: list[tuple[list[Cell], list[dict[Cell, int]]]], primary: set[Cell],
                  values: dict[Cell, int]):
    """The groups' sums in one block-diagonal A·x = b (b from the true values), each cell's bounds, and each
    group's cell → column."""
    rows, cols, coefs, b_eq, bounds, places = [], [], [], [], [], []
    for members, group_lines in groups:
        place = {c: len(bounds) + i for i, c in enumerate(members)}
        for line in group_lines:
            total = 0
            for c, coef in line.items():
                if c in place:
                    rows.append(len(b_eq))
                    cols.append(place[c])
                    coefs.append(coef)
                    total += coef * values[c]
            b_eq.append(total)
        bounds.extend((LOW, HIGH) if c in primary else (0, None) for c in members)
        places.append(place)
    a_eq = sp.csr_matrix((coefs, (rows, cols)), shape=(len(b_eq), len(bounds)))
    return a_eq, np.array(b_eq, dtype=float), bounds, places


def _boxed(members: list[Cell], group_lines: list[dict[Cell, int]], primary: set[Cell], values: dict[Cell, int],
           targets: set[Cell]) -> set[Cell]:
    """Of `targets` (cells no push moved), those whose least and greatest values round to the same whole number."""
    a_eq, b_eq, bounds, [index] = _joint_system([(members, group_lines)], primary, values)
    boxed = set()
    for c in targets:
        aim = np.zeros(len(members))
        aim[index[c]] = 1
        low = linprog(aim, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-aim, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 0 and high.status == 0 and np.ceil(low.fun - 1e-6) == np.floor(-high.fun + 1e-6):
            boxed.add(c)
    return boxed


# ---- the comité's tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearMasks:
    """One school year's counts of every territory, and which of them are masked."""

    annee: str
    tables: dict[str, dict[str, pd.DataFrame]]
    primary: frozenset
    secondary: frozenset

    def mark(self, cell: Cell):
        return bilan.SMALL if cell in self.primary else bilan.SECONDARY if cell in self.secondary else None


def year_masks(data: bilan.BilanData, annee: str) -> YearMasks:
    """Decided once per school year for every territory together (kept with the prepared data, and for the next
    prepared data of the same content)."""
    key = ("small_cells", annee)
    if key not in data.cache:
        kept_as = (content_digest(data), annee, tuple(masked()))  # the registry's tables are part of a year
        data.cache[key] = _years.get(kept_as, lambda: _year_masks(data, annee))
    return data.cache[key]


def _year_masks(data: bilan.BilanData, annee: str) -> YearMasks:
    tables = _tables(data, annee)
    values = cells(tables)
    primary, secondary = _decided.get(frozenset(values.items()), lambda: suppress(values, lines(values)))
    return YearMasks(annee, tables, frozenset(primary), frozenset(secondary))


def content_digest(data: bilan.BilanData) -> str:
    """A digest of what the prepared data hold (pandas' 64-bit hash of each row, with the columns and their
    types): two versions of the data collide with probability about 2⁻⁶⁴. Computed once per prepared data."""
    if "digest" not in data.cache:
        digest = hashlib.blake2b(repr((data.semaine_ee, data.annee_courante)).encode(), digest_size=16)
        for frame in (data.entreprises, data.personnels, data.rencontres, data.partenariats):
            digest.update(repr(list(zip(frame.columns, map(str, frame.dtypes), strict=True))).encode())
            digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        data.cache["digest"] = digest.hexdigest()
    return data.cache["digest"]


def _masked_frame(masks: YearMasks, territory: str, key: str) -> pd.DataFrame:
    spec = TABLES[key]
    frame = masks.tables[territory][key]
    out = frame.astype(object).copy()
    for index, record in zip(frame.index, frame.to_dict("records"), strict=True):
        row = _row(record, spec.rows)
        hidden = set()
        for column in spec.people:
            mark = masks.mark((territory, key, row, column))
            if mark:
                out.at[index, column] = mark
                hidden.add(column)
        for column, bases in spec.dependent.items():
            # even a missing rate or mean goes: "no rate" would tell that its masked base is zero
            if hidden & set(bases):
                out.at[index, column] = bilan.NOT_DISCLOSED
    return out


def _masked_kpis(masks: YearMasks, territory: str) -> pd.DataFrame:
    """The key figures (with « en cours »); the mean satisfaction goes with the count of held meetings."""
    out = _masked_frame(masks, territory, "kpis")
    values = dict(zip(out["Indicateur"], out["Valeur"], strict=True))
    if isinstance(values[bilan.REALISEES], str) and values[bilan.SATISFACTION] is not None:
        out.loc[out["Indicateur"] == bilan.SATISFACTION, "Valeur"] = bilan.NOT_DISCLOSED
    return out


def _masked_comparison(now: pd.DataFrame, before: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """The comparison from the two years' masked key figures; no change computed from a masked value."""
    out = raw.astype(object).copy()
    this_year, last_year = raw.columns[2], raw.columns[1]
    shown_now = dict(zip(now["Indicateur"], now["Valeur"], strict=True))
    shown_before = dict(zip(before["Indicateur"], before["Valeur"], strict=True))
    for index, indicator in zip(out.index, out["Indicateur"], strict=True):
        out.at[index, this_year], out.at[index, last_year] = shown_now[indicator], shown_before[indicator]
        if isinstance(shown_now[indicator], str) or isinstance(shown_before[indicator], str):
            out.at[index, "Évolution"] = bilan.NOT_DISCLOSED
    return out


def comite_tables(data: bilan.BilanData, filt: bilan.BilanFilter) -> dict[str, pd.DataFrame]:
    """Every table of the registry for a fixed territory and a whole school year, masked; the key figures
    keep their « en cours » row (the home page's tile)."""
    territory = comite_territory(filt)
    masks = year_masks(data, filt.annee_scolaire)
    out = {key: _masked_frame(masks, territory, key) for key in masked() if key != "kpis"}
    out["kpis"] = _masked_kpis(masks, territory)
    previous = year_masks(data, bilan.previous_school_year(filt.annee_scolaire))
    for key, spec in TABLES.items():
        if spec.years:
            raw = spec.compute(data, territory_filter(filt.annee_scolaire, territory))
            out[key] = _masked_comparison(out["kpis"], _masked_kpis(previous, territory), raw)
    return {key: out[key] for key in TABLES}
